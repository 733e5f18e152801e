"""Text an answer's headers carry: the model's label (X-Model) and the fields a route ignored (X-Ignored-Fields).

Both come from outside the code (an operator's file name, a client's field names), so each is
written as visible ASCII whatever it holds, and the client's names are bounded in length.
"""

from __future__ import annotations

import re

# X-Ignored-Fields' list: names separated by ", ", each escaped and at most this long.
SEPARATOR = ", "
NAME_CHARS = 40
_ITEM = re.compile(r"(?:[!-$&-+\--~]|%[0-9A-F]{2})*")  # visible ASCII but `%` and `,`, and %XX escapes


def header_value(text: str, reserved: str = "%") -> str:
    """`text` as an HTTP header can carry it: each character outside visible ASCII (and those in `reserved`,
    `%` itself by default) as the %XX of its UTF-8 bytes. A model file's name is the operator's: `модель.onnx`
    or one with a line break in it must neither fail every response nor split the header."""
    return "".join(
        char if "!" <= char <= "~" and char not in reserved else "".join(f"%{byte:02X}" for byte in char.encode())
        for char in text
    )


def field_name(name: str) -> str:
    """A client's field name as one item of a header's list: escaped (a comma too, which separates the items)
    and cut to at most NAME_CHARS, between characters (never through a character's escape); an empty name as
    `""`, so the list never holds an empty item nor the header an empty value."""
    item = ""
    for char in name:
        escaped = header_value(char, reserved="%,")
        if len(item) + len(escaped) > NAME_CHARS:
            break
        item += escaped
    return item or '""'


def is_field_name(text: str) -> bool:
    """True for what field_name() makes: the check the model's process puts a decode worker's list through."""
    return len(text) <= NAME_CHARS and _ITEM.fullmatch(text) is not None

"""Log lines as JSON (one object per line, for log collectors) or as text (for a person at `make serve`).

A record's `fields` (a dict passed as `extra={"fields": ...}`) become keys of the JSON object,
or key=value pairs after the text message.

Either way one record is one line, whatever a client put in the values logged (a refused request
line, a path, a header): json escapes control characters itself; the text form escapes them as
\\r, \\n, \\x1b..., so a client can neither forge a line nor send the terminal's escape codes. Only a
traceback, which is the server's own, goes on below its line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# C0 controls, DEL, C1 controls and Unicode's line breaks: what a terminal or a line-based reader acts on.
_CONTROLS = [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _CONTROLS} | {
    0x09: "\\t",
    0x0A: "\\n",
    0x0D: "\\r",
}


def escape(text: str) -> str:
    """`text` with every control character written as its escape (a backslash before it too, so an
    escape a client sent cannot pass for one made here)."""
    return text.replace("\\", "\\\\").translate(_ESCAPES)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        escaped = logging.makeLogRecord({**record.__dict__, "msg": escape(record.getMessage()), "args": None})
        text = super().format(escaped)
        fields = getattr(record, "fields", None)
        if not fields:
            return text
        head, newline, rest = text.partition("\n")  # a traceback stays below the line
        pairs = " ".join(f"{key}={escape(str(value))}" for key, value in fields.items() if value is not None)
        return f"{head} {pairs}{newline}{rest}"


def configure(level: str, form: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)

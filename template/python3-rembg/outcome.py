"""What happened to one request, told once: counted in the metrics and written as one log line.

Both the Flask app and waitress's own refusals (413, 429 before a body is read) end here.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import metrics

log = logging.getLogger("remove-bg.request")

# A caller's id is logged and echoed, so only a plain token of sane length is taken from it.
_CALL_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def call_id(given: str | None) -> str:
    """The gateway's X-Call-Id when it is a plain token, else a new one."""
    return given if given and _CALL_ID.fullmatch(given) else uuid.uuid4().hex


def error_code(status: int, content_type: str | None, body: bytes, known: str | None = None) -> str | None:
    """The error's code: `known` when the caller has it, else the `code` of a JSON error body in
    the template's shape; None for a success."""
    if status < 400:
        return None
    if known:
        return metrics.code_label(known)
    if content_type and content_type.startswith("application/json") and len(body) < 65536:
        try:
            found = json.loads(body)["error"]["code"]
        except (ValueError, KeyError, TypeError):
            found = None
        if isinstance(found, str):
            return metrics.code_label(found)
    return metrics.OTHER


@dataclass
class Outcome:
    call_id: str
    method: str
    route: str
    status: int
    seconds: float
    bytes_in: int
    bytes_out: int
    code: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # what the function added: sizes, stages, model


def record(outcome: Outcome, *, counted: bool = True) -> None:
    """Count a response of a POST route (`counted`), and write its line either way."""
    if counted:
        metrics.count(outcome.route, outcome.status, outcome.code, outcome.seconds)
    line = {
        "call_id": outcome.call_id,
        "method": outcome.method,
        "route": outcome.route,
        "status": outcome.status,
        "code": outcome.code,
        "bytes_in": outcome.bytes_in,
        "bytes_out": outcome.bytes_out,
        **outcome.fields,
        "total_ms": round(outcome.seconds * 1000, 1),
    }
    log.info("%s %s %d", outcome.method or "-", outcome.route, outcome.status, extra={"fields": line})

"""Request logs: one JSON line per request with the function's facts, and start-up to exit as lines too."""

from __future__ import annotations

import json
import signal

from tests.support import images, raw
from tests.support.server import ServerProcess

REQUEST_KEYS = {"time", "level", "logger", "message", "call_id", "method", "route", "status", "code", "bytes_in"}
IMAGE_KEYS = {"bytes_out", "input", "output", "megapixels", "decode_ms", "mask_ms", "cutout_ms", "model", "total_ms"}


def _lines(server: ServerProcess) -> list[dict]:
    return [json.loads(line) for line in server.log().splitlines() if line.strip()]


def test_every_line_is_json_and_each_request_is_one_line(start_server) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp").wait_ready()
    photo = images.jpeg()
    ok = server.post(photo, headers={"X-Call-Id": "gateway-call-42"})
    bad = server.post(b"plain text", headers={"X-Call-Id": "forged id <script>"})
    assert ok.headers["X-Call-Id"] == "gateway-call-42"
    assert bad.headers["X-Call-Id"] not in ("forged id <script>", "")
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait_exit(30) == 0

    lines = _lines(server)  # every line parses: a broken one raises here
    requests_logged = [line for line in lines if line["logger"] == "remove-bg.request"]
    assert len(requests_logged) == 2, "one line per request, nothing else per request"
    done, refused = requests_logged
    assert set(done) >= REQUEST_KEYS | IMAGE_KEYS
    assert (done["call_id"], done["status"], done["route"], done["code"]) == ("gateway-call-42", 200, "/", None)
    assert done["bytes_in"] == len(photo) and done["bytes_out"] == len(ok.content)
    assert done["input"] == done["output"] == "{}x{}".format(*images.photo().size)
    assert done["model"] == "u2netp"
    assert done["mask_ms"] > 0 and done["total_ms"] >= done["mask_ms"]
    assert (refused["call_id"], refused["status"], refused["code"]) == (
        bad.headers["X-Call-Id"],
        415,
        "unsupported_image",
    )
    assert "detail" in refused
    messages = " | ".join(line["message"] for line in lines)
    for event in ("listening on", "model u2netp loaded", "ready in", "draining", "stopped with exit code 0"):
        assert event in messages
    assert max(len(line) for line in server.log().splitlines()) < 2000, "never image bytes"


def test_text_logs_for_a_person(start_server) -> None:
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", LOG_FORMAT="text").wait_ready()
    server.post(images.jpeg(), headers={"X-Call-Id": "c1"})
    line = next(line for line in server.log().splitlines() if "remove-bg.request" in line)
    assert "POST / 200" in line and "call_id=c1" in line and "mask_ms=" in line
    assert not line.startswith("{")


def test_text_logs_escape_what_a_client_sent_so_each_request_stays_one_line(start_server) -> None:
    """Before: a refused request line's \\r and escape codes reached the terminal as they were sent."""
    server: ServerProcess = start_server(REMBG_MODEL="u2netp", LOG_FORMAT="text").wait_ready()
    raw.exchange(server.port, b"PO\rST\x1b[2J\x85 /x HTTP/1.1\r\nHost: x\r\n\r\n")
    photo = images.jpeg()
    raw.exchange(server.port, raw.request(photo, f"Content-Length: {len(photo)}", path="/?format=%0D%0Aforged%1B%5B2J"))
    server.proc.send_signal(signal.SIGTERM)
    assert server.wait_exit(30) == 0
    text = server.log()
    assert not any(char in text for char in "\r\x1b\x85"), repr(text)
    lines = [line for line in text.splitlines() if "remove-bg.request" in line]
    assert len(lines) == 2, lines
    refused, forged = lines
    assert "PO\\rST\\x1b[2J\\x85 other 400" in refused
    assert "forged" in forged and not any(line.startswith("forged") for line in text.splitlines())

"""The optional token: what counts as carrying it, and the server with a token file (the echo function)."""

from __future__ import annotations

import base64
import os
import socket
from pathlib import Path

import pytest
import requests
from auth import CHALLENGES, authorized, challenges, presented

from tests.support import raw
from tests.support.checks import assert_error

TOKEN = "s3cret-token"


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {TOKEN}", TOKEN),
        (f"bearer   {TOKEN} ", TOKEN),
        (_basic("anyone", TOKEN), TOKEN),
        (_basic("", TOKEN), TOKEN),
        (_basic("user", "pass:with:colons"), "pass:with:colons"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Basic !!!not-base64", None),
        ("Basic " + base64.b64encode(b"no colon").decode(), None),
        ("Digest abc", None),
    ],
)
def test_the_token_a_header_carries(header: str | None, token: str | None) -> None:
    assert presented(header) == token


def _with(header: str) -> dict[str, str]:
    return {"Authorization": header}


def test_only_the_exact_token_is_authorized() -> None:
    assert authorized(_with(f"Bearer {TOKEN}"), (TOKEN,))
    assert not authorized(_with(f"Bearer {TOKEN}x"), (TOKEN,))
    assert not authorized(_with(f"Bearer {TOKEN[:-1]}"), (TOKEN,))
    assert not authorized(_with(_basic(TOKEN, "wrong")), (TOKEN,)), "the token is the password, not the user"
    assert not authorized({}, (TOKEN,))


def test_a_page_s_own_script_is_not_offered_basic() -> None:
    assert challenges({}) == CHALLENGES
    assert challenges({"Sec-Fetch-Mode": "navigate"}) == CHALLENGES
    for mode in ("cors", "same-origin", "no-cors"):
        assert challenges({"Sec-Fetch-Mode": mode}) == ('Bearer realm="remove-bg"',), "no browser login dialog"


def test_remove_bg_s_api_key_header_carries_the_token_too() -> None:
    assert authorized({"X-Api-Key": TOKEN}, (TOKEN,))
    assert not authorized({"X-Api-Key": TOKEN + "x"}, (TOKEN,))
    assert not authorized({"X-Api-Key": ""}, (TOKEN,))
    assert not authorized({"Authorization": "Bearer wrong", "X-Api-Key": ""}, (TOKEN,))


def test_with_a_token_file_every_post_needs_the_token_and_probes_stay_open(start_echo, tmp_path: Path) -> None:
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text(TOKEN + "\n")
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": _basic("u", "wrong")}):
        refused = server.post(b"abc", headers=headers)
        assert_error(refused, 401, "unauthorized")
        assert {'Bearer realm="remove-bg"', 'Basic realm="remove-bg", charset="UTF-8"'} <= set(
            refused.raw.headers.getlist("WWW-Authenticate")
        )
    assert server.post(b"abc", headers={"Authorization": f"Bearer {TOKEN}"}).json()["bytes"] == 3
    assert server.post(b"abcd", headers={"Authorization": _basic("pixian-user", TOKEN)}).json()["bytes"] == 4
    assert server.post(b"abcde", headers={"X-Api-Key": TOKEN}).json()["bytes"] == 5
    assert requests.get(server.url + "/_/health", timeout=2).status_code == 200
    assert requests.get(server.url + "/_/ready", timeout=2).status_code == 200
    metrics = server.metrics()
    assert 'remove_bg_requests_total{route="/",status="401"} 3.0' in metrics
    assert 'remove_bg_errors_total{code="unauthorized"} 3.0' in metrics
    assert TOKEN not in server.log(), "the token is never logged"


def test_without_the_file_at_its_default_place_there_is_no_token(start_echo) -> None:
    server = start_echo().wait_ready()  # /var/openfaas/secrets/remove-bg-token is not on this machine
    assert server.post(b"abc").status_code == 200


def test_a_token_file_named_but_missing_stops_start_up(start_echo, tmp_path: Path) -> None:
    """The operator asked for a token: a typo or an unmounted secret must not leave every POST open."""
    server = start_echo(TOKEN_FILE=str(tmp_path / "absent"))
    assert server.wait_exit(30) == 2
    assert "TOKEN_FILE=" in server.log() and "no such file" in server.log()


@pytest.mark.parametrize("value", ["", "   "])
def test_a_token_file_set_but_empty_stops_start_up(start_echo, value: str) -> None:
    """TOKEN_FILE= (a variable templated from nothing, a secret's path left out) once meant "no token" at the
    default place: an operator who set it meant a token, and must not get an open function without a word."""
    server = start_echo(TOKEN_FILE=value)
    assert server.wait_exit(30) == 2
    assert f"TOKEN_FILE={value!r} is set but empty" in server.log()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        (None, "cannot be read"),
        ("пароль", "visible ASCII"),  # a Bearer header could never carry it: every POST a 401
        ("two words", "visible ASCII"),
        ("\n \n", "is empty"),
        ("a\nb\nc\nd\ne\n", "at most 4 tokens"),  # a file that is not a token file at all
        ("first\x1csecond", "visible ASCII"),  # one garbled token, not two shorter ones
        ("first\u2028second", "visible ASCII"),
    ],
)
def test_an_empty_or_unreadable_token_file_stops_start_up(start_echo, tmp_path: Path, content, message: str) -> None:
    token_file = tmp_path / "remove-bg-token"
    if content is None:
        token_file.mkdir()  # there, but not a file anyone can read a token from
    else:
        token_file.write_text(content)
    server = start_echo(TOKEN_FILE=str(token_file))
    assert server.wait_exit(30) == 2
    assert "TOKEN_FILE=" in server.log() and message in server.log()


def _replace(path: Path, text: str) -> None:
    """As Kubernetes updates a mounted Secret: a new file swapped in at once."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_text(text)
    fresh.replace(path)


def test_a_rotated_token_takes_effect_without_a_restart(start_echo, tmp_path: Path) -> None:
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text("first-token")
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    assert server.post(b"a", headers={"Authorization": "Bearer first-token"}).status_code == 200
    _replace(token_file, "second-token\n")
    assert server.post(b"a", headers={"Authorization": "Bearer first-token"}).status_code == 401
    assert server.post(b"a", headers={"Authorization": "Bearer second-token"}).status_code == 200
    # A half-done update never switches the check off: the last good token stays.
    _replace(token_file, "")
    assert server.post(b"a", headers={"Authorization": "Bearer second-token"}).status_code == 200
    token_file.unlink()
    assert server.post(b"a").status_code == 401
    assert server.post(b"a", headers={"Authorization": "Bearer second-token"}).status_code == 200
    assert "kept the last token" in server.log()
    assert "second-token" not in server.log() and "first-token" not in server.log()


def test_a_byte_order_mark_is_not_part_of_the_token(start_echo, tmp_path: Path) -> None:
    token_file = tmp_path / "remove-bg-token"
    token_file.write_bytes(b"\xef\xbb\xbf" + TOKEN.encode() + b"\r\n")  # as a Windows editor saves it
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    assert server.post(b"a", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_two_tokens_rotate_without_a_refused_call(start_echo, tmp_path: Path) -> None:
    """Rotation as docs/operations.md gives it: the new token beside the old, the clients move, the old goes.
    At no step is a client holding either the old or the new token refused while both lines are there."""
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text("old-token\n")
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    _replace(token_file, "old-token\nnew-token\n")
    for token in ("old-token", "new-token"):
        assert server.post(b"a", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert server.post(b"a", headers={"X-Api-Key": token}).status_code == 200
    assert server.post(b"a", headers={"Authorization": "Bearer old-tokennew-token"}).status_code == 401
    _replace(token_file, "new-token\n")
    assert server.post(b"a", headers={"Authorization": "Bearer old-token"}).status_code == 401
    assert server.post(b"a", headers={"Authorization": "Bearer new-token"}).status_code == 200
    assert "2 token(s) in use" in server.log() and "old-token" not in server.log()


def test_any_of_the_tokens_is_authorized_and_nothing_else() -> None:
    tokens = ("first", "second")
    assert authorized(_with("Bearer second"), tokens) and authorized({"X-Api-Key": "first"}, tokens)
    assert not authorized(_with("Bearer first\nsecond"), tokens)
    assert not authorized(_with("Bearer third"), tokens)
    assert not authorized(_with("Bearer first"), ())


def _not_a_token_file(path: Path, kind: str) -> None:
    """What a careless mount can leave where the token belongs: a pipe (reading it waits for a writer that never
    comes), a device that never ends, a regular file far larger than any four tokens."""
    if kind == "pipe":
        os.mkfifo(path)
    elif kind == "endless":
        path.symlink_to("/dev/zero")
    else:
        path.write_text("t" * 2_000_000 + "\n")


@pytest.mark.parametrize(
    ("kind", "message"), [("pipe", "not a regular file"), ("endless", "not a regular file"), ("huge", "bytes")]
)
def test_a_token_file_that_never_ends_stops_start_up(start_echo, tmp_path: Path, kind: str, message: str) -> None:
    token_file = tmp_path / "remove-bg-token"
    _not_a_token_file(token_file, kind)
    server = start_echo(TOKEN_FILE=str(token_file))
    assert server.wait_exit(30) == 2
    assert "TOKEN_FILE=" in server.log() and message in server.log()


@pytest.mark.parametrize("kind", ["pipe", "endless", "huge"])
def test_a_token_file_swapped_for_one_that_never_ends_keeps_the_server_answering(
    start_echo, tmp_path: Path, kind: str
) -> None:
    """The token is checked as a request's headers arrive, on the loop every connection shares: a read that waits
    or never ends there would stop every answer, the probes' too."""
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text(TOKEN + "\n")
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    swapped = tmp_path / "swapped"
    _not_a_token_file(swapped, kind)
    swapped.replace(token_file)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert requests.post(server.url + "/", data=b"a", headers=bearer, timeout=5).status_code == 200
    assert requests.post(server.url + "/", data=b"a", timeout=5).status_code == 401
    assert requests.get(server.url + "/_/live", timeout=5).status_code == 200
    assert "kept the last token" in server.log()


@pytest.mark.parametrize(
    ("method", "path", "framing"),
    [
        ("POST", "/_/live", "Content-Length: 1000000"),
        ("POST", "/_/ready", "Transfer-Encoding: chunked"),
        ("GET", "/_/live", "Content-Length: 1000000"),
        ("PUT", "/", "Transfer-Encoding: chunked"),
    ],
)
def test_without_the_token_no_body_is_taken_whatever_the_method_or_path(
    start_echo, tmp_path: Path, method: str, path: str, framing: str
) -> None:
    """A client without the token never holds a share of the body buffer (serve.py's _admit). Only the function's
    POSTs have a use for a body, so a request that declares one needs the token on a probe's path or with any
    method too; the probes, which send none, stay open."""
    token_file = tmp_path / "remove-bg-token"
    token_file.write_text(TOKEN + "\n")
    server = start_echo(TOKEN_FILE=str(token_file)).wait_ready()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(raw.request(b"", framing, path=path, method=method))
        assert sock.recv(64).startswith(b"HTTP/1.1 401 "), "refused before any of the body is sent"
    assert requests.get(server.url + "/_/live", timeout=5).status_code == 200
    assert requests.post(server.url + "/_/live", timeout=5).status_code == 405
    assert requests.post(server.url + "/_/live", data=b"a", headers={"X-Api-Key": TOKEN}, timeout=5).status_code == 405

"""Hostile input over real HTTP: every case a 4xx JSON error or a correct cut-out, and the server serves on;
for u2netp and for the quality tier (ISNet with u2netp's core), each in a server of its own, in a pod-like
memory cgroup (tests/support/pod.py) so its children count too.

Each body and route case keeps issue 30's bound (tests/support/bound.py): an answer within 10 s, the pod's
peak within 1.5 GB (reset before each case), /_/health answering within 1 s all along, the next photo served.
Each prints its row (case, status, seconds, peak MB, slowest probe): `pytest -s` makes the table.

tests/support/hostile.py makes the bodies; the protocol-level cases (lying Content-Length, chunked and
slow bodies, huge request lines and headers) are written to a raw socket here. A property-based
fuzz over random and mutated real images closes the file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from harness import models
from harness.memory import BUDGET_BYTES
from tests.support import bound, hostile, images, raw
from tests.support.pod import Pod
from tests.support.server import ServerProcess

GOOD = images.jpeg(images.photo("chelsea"))


@pytest.fixture(scope="module", params=["u2netp", pytest.param(models.QUALITY, marks=pytest.mark.other_models)])
def pod(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pod]:
    """A server in a pod of its own, so its peak memory is the hostile cases' alone: u2netp, then the quality tier."""
    started = Pod(tmp_path_factory.mktemp("hostile") / "server.log", models.settings(request.param))
    print(f"pod memory measured by {started.measure}")
    yield started
    started.stop()


@pytest.fixture
def ready_pod(pod: Pod) -> Pod:
    """The pod with its server idle: a case before may have left it busy past its client's timeout, or dead."""
    bound.recover(pod)
    return pod


@pytest.fixture
def target(ready_pod: Pod) -> ServerProcess:
    return ready_pod.server


def assert_kept_the_bound(pod: Pod, name: str, body: bytes, path: str, content_type: str) -> requests.Response:
    """Post the case as issue 30 bounds it; then the next good photo must be served."""
    trial = bound.attempt(pod, body, path, {"Content-Type": content_type})
    print(trial.row(name))
    breaches = trial.breaches()
    assert not breaches, f"{name}: {breaches}"
    assert_still_serving(pod.server)
    return trial.response


def assert_answered_well(response: requests.Response) -> None:
    """A cut-out that decodes at the size it claims, or a 4xx in the JSON error shape: never a 5xx."""
    assert response.status_code < 500, response.text[:300]
    if response.status_code == 200:
        cutout = Image.open(io.BytesIO(response.content))
        cutout.load()
        assert (cutout.format, cutout.mode) == ("PNG", "RGBA")
        assert cutout.size == (int(response.headers["X-Width"]), int(response.headers["X-Height"]))
        return
    assert 400 <= response.status_code < 500
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["code"] and error["message"]
    assert "Traceback" not in response.text


def assert_still_serving(server: ServerProcess) -> None:
    assert server.proc.poll() is None, server.log()
    response = server.post(GOOD)
    assert response.status_code == 200
    assert Image.open(io.BytesIO(response.content)).size == (451, 300)


def _marked(cases: list[tuple]) -> list:
    """The cases as pytest parameters, each named, the slow ones (hostile.SLOW) marked so."""
    slow = [pytest.mark.slow]
    return [pytest.param(*case, id=case[0], marks=slow if case[0] in hostile.SLOW else []) for case in cases]


def test_every_slow_case_is_a_case() -> None:
    named = {case[0] for case in hostile.BODY_CASES + hostile.ROUTE_CASES}
    assert hostile.SLOW - named == set()


@pytest.mark.parametrize(("name", "make", "content_type"), _marked(hostile.BODY_CASES))
def test_hostile_body(ready_pod: Pod, name: str, make, content_type: str) -> None:
    assert_answered_well(assert_kept_the_bound(ready_pod, name, make(), "/", content_type))


def assert_answered_well_on_any_route(response: requests.Response) -> None:
    """A decodable image (or zip) of the size it claims, or a 4xx JSON error in one of the routes' shapes."""
    assert response.status_code < 500, response.text[:300]
    if response.status_code == 200:
        if response.headers["Content-Type"] == "application/zip":
            with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
                assert sorted(archive.namelist()) == ["alpha.png", "color.jpg"]
            return
        image = Image.open(io.BytesIO(response.content))
        image.load()
        assert image.size == (int(response.headers["X-Width"]), int(response.headers["X-Height"]))
        return
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body.get("error", {}).get("message") or body["errors"][0]["title"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("name", "path", "make", "content_type"), _marked(hostile.ROUTE_CASES))
def test_hostile_route_request(ready_pod: Pod, name: str, path: str, make, content_type: str) -> None:
    assert_answered_well_on_any_route(assert_kept_the_bound(ready_pod, name, make(), path, content_type))


def _raw_exchange(server: ServerProcess, payload: bytes, *, pause: float = 0.0, pieces: int = 1) -> bytes:
    return raw.exchange(server.port, payload, pause=pause, pieces=pieces)


def _status(answer: bytes) -> int:
    return raw.parse(answer).status


_request = raw.request


def test_content_length_larger_than_the_body_sent(target: ServerProcess) -> None:
    """The client closes before sending what it declared: no answer is owed, and nothing breaks."""
    raw = _raw_exchange(target, _request(GOOD[:1000], f"Content-Length: {len(GOOD)}"))
    assert raw == b"" or _status(raw) < 500
    assert_still_serving(target)


def test_content_length_smaller_than_the_body_sent(target: ServerProcess) -> None:
    raw = _raw_exchange(target, _request(GOOD, "Content-Length: 1000"))
    assert 400 <= _status(raw) < 500 and b'"error"' in raw
    assert_still_serving(target)


def test_content_length_not_a_number(target: ServerProcess) -> None:
    raw = _raw_exchange(target, _request(GOOD, "Content-Length: 12abc"))
    assert _status(raw) == 400 and b'"bad_request"' in raw
    assert_still_serving(target)


def test_a_chunked_body_is_served(target: ServerProcess) -> None:
    chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (GOOD[:5000], GOOD[5000:]))
    raw = _raw_exchange(target, _request(chunks + b"0\r\n\r\n", "Transfer-Encoding: chunked"))
    assert _status(raw) == 200 and b"image/png" in raw


def test_a_broken_chunked_body_is_refused(target: ServerProcess) -> None:
    raw = _raw_exchange(target, _request(b"zz\r\n" + GOOD[:100], "Transfer-Encoding: chunked"))
    assert _status(raw) == 400 and b'"error"' in raw
    assert_still_serving(target)


def test_a_slow_body_within_the_deadline_is_served(target: ServerProcess) -> None:
    raw = _raw_exchange(target, _request(GOOD, f"Content-Length: {len(GOOD)}"), pause=0.1, pieces=10)
    assert _status(raw) == 200


@pytest.mark.parametrize(
    ("name", "payload"),
    [
        ("a 100 KB path", _request(b"", "Content-Length: 0", path="/" + "a" * 100_000)),
        ("a 100 KB header", _request(b"", "Content-Length: 0", "X-Long: " + "b" * 100_000)),
        ("2000 headers", _request(b"", "Content-Length: 0", *[f"X-{i}: v" for i in range(2000)])),
        ("a request line of garbage", b"\x00\x01\x02 / HTTP/1.1\r\n\r\n"),
        ("HTTP/0.9", b"POST /\r\n\r\n"),
        ("an unknown transfer coding", _request(b"x", "Transfer-Encoding: gzip, chunked")),
    ],
)
def test_malformed_requests(target: ServerProcess, name: str, payload: bytes) -> None:
    raw = _raw_exchange(target, payload)
    assert 400 <= _status(raw) < 500, raw[:300]
    assert b'"error"' in raw
    assert_still_serving(target)


def _mutated(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    body = bytearray(data)
    for position, value in edits:
        body[position % len(body)] = value
    return bytes(body[: max(1, len(body) - cut)])


_SEEDS = {
    "jpeg": images.jpeg(images.photo("coffee").resize((96, 64))),
    "png": images.encode(images.photo("coffee").resize((96, 64)), "PNG"),
    "webp": images.encode(images.photo("coffee").resize((96, 64)), "WEBP"),
    "gif": images.encode(images.photo("coffee").resize((96, 64)).convert("P"), "GIF"),
    "tiff": images.encode(images.photo("coffee").resize((96, 64)), "TIFF"),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=256),
        st.builds(
            lambda seed, edits, cut, noise: _mutated(_SEEDS[seed], edits, cut) + noise,
            st.sampled_from(sorted(_SEEDS)),
            st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=12),
            st.integers(0, 2000),
            st.binary(max_size=64),
        ),
    )
)
def test_fuzzed_images_never_get_a_5xx(target: ServerProcess, body: bytes) -> None:
    response = requests.post(target.url + "/", data=body, timeout=60)
    assert_answered_well(response)


def test_memory_stayed_within_the_budget_through_every_hostile_case(pod: Pod, target: ServerProcess) -> None:
    """Runs last in this file: the pod's peak since the last case's reset (the raw and fuzzed requests),
    no OOM kill in the pod all along, and no traceback."""
    assert_still_serving(target)
    peak = pod.peak_bytes()
    print(f"pod peak through the raw and fuzzed requests: {peak // bound.MB} MB ({pod.measure})")
    assert peak <= BUDGET_BYTES
    assert pod.oom_kills() == 0
    assert pod.starts == 1, "a case left the server dead or stuck: it was restarted"
    assert "Traceback" not in target.log()

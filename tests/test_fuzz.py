"""The live function driven by Schemathesis from openapi.yaml, as `st run` drives any server.

Every operation, every phase that applies (the document's examples, its boundary values and
wrong methods, then generated requests, valid and not), bounded in examples and time. Each answer
must keep the document: no 5xx, a documented status, media type, headers (Allow included) and
JSON shape, and an answer within REQUEST_TIMEOUT (no hang). A fixed seed in `make test`, so a
failure repeats; FUZZ_EXAMPLES and FUZZ_SEED go further by hand (docs/development.md). What the fuzz
found is fixed, each with its own test (test_http.py, function/test_routes.py).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import yaml

from harness.processes import PYTHONPATH, ROOT
from tests.support.openapi import DOCUMENT, document
from tests.support.server import ServerProcess

ST = Path(sys.executable).parent / "st"  # Schemathesis' command, beside the interpreter running the tests
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "25")
SEED = os.environ.get("FUZZ_SEED", "17")
REQUEST_TIMEOUT = "30"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,"
    "response_schema_conformance,unsupported_method,allow_header_conformance"
)


def fuzz(url: str, schema: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(ST), "run", str(schema), "--url", url, "--checks", CHECKS, "--max-examples", EXAMPLES,
        "--seed", SEED, "--request-timeout", REQUEST_TIMEOUT,
        "--output-truncate", "false", "--no-color", *extra,
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.support.fuzz_hooks",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{PYTHONPATH}",
    }
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def test_the_live_function_keeps_its_document(server: ServerProcess) -> None:
    run = fuzz(server.url, DOCUMENT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Runtime Error" not in run.stdout, run.stdout  # an operation the tool could not drive is untested
    assert server.proc.poll() is None and "Traceback" not in server.log()


def test_with_a_token_every_route_answers_its_401_as_documented(start_server, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(secrets.token_hex(16))
    server = start_server(REMBG_MODEL="u2netp", TOKEN_FILE=str(token_file)).wait_ready()
    run = fuzz(server.url, DOCUMENT, "--phases", "examples,fuzzing", "--max-examples", "5")
    assert run.returncode == 0, run.stdout + run.stderr
    answers = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    posts = [answer["status"] for answer in answers if answer.get("method") == "POST"]
    assert len(posts) > 20 and set(posts) == {401}, posts  # every POST met the token first, on every route
    routes_met = {answer["route"] for answer in answers if answer.get("method") == "POST"}
    assert routes_met >= {"/", "/remove-background", "/api/v2/remove-background", "/v1.0/removebg"}, routes_met


def test_the_fuzz_fails_a_server_that_breaks_its_document(server: ServerProcess, tmp_path: Path) -> None:
    """The same run against a document without the 400 a wrong option gets: the fuzz must say so."""
    broken = json.loads(json.dumps(document()))
    del broken["paths"]["/remove-background"]["post"]["responses"]["400"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    run = fuzz(server.url, path, "--include-path", "/remove-background", "--phases", "examples,fuzzing")
    assert run.returncode != 0
    assert "Undocumented status code" in run.stdout, run.stdout

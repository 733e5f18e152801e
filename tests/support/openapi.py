"""openapi.yaml as the tests read it: its schemas with their $refs resolved."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import yaml

from harness.processes import ROOT

DOCUMENT = ROOT / "openapi.yaml"


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load(DOCUMENT.read_text())


def resolve(node: Any) -> Any:
    """The object a `$ref` names (local references only, as the document has), else the node itself
    (a boolean schema included: `false` is a field that must not be sent)."""
    while isinstance(node, dict) and "$ref" in node:
        found: Any = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        node = found
    return node


def properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An object schema's properties, each resolved (the document lists them whole: shared ones by a
    YAML merge, which Schemathesis reads where it does not read allOf)."""
    return {name: resolve(value) for name, value in resolve(schema).get("properties", {}).items()}


def operation(path: str, method: str = "post") -> dict[str, Any]:
    return document()["paths"][path][method]


def body_schema(path: str, media_type: str) -> dict[str, Any]:
    return resolve(resolve(operation(path)["requestBody"])["content"][media_type]["schema"])


def query_parameters(path: str) -> dict[str, dict[str, Any]]:
    found = (resolve(parameter) for parameter in operation(path).get("parameters", []))
    return {parameter["name"]: parameter for parameter in found if parameter["in"] == "query"}


def schema(name: str) -> dict[str, Any]:
    return resolve(document()["components"]["schemas"][name])


def response_headers(name: str) -> set[str]:
    return set(resolve(document()["components"]["responses"][name])["headers"])


def _schema_validator(node: dict[str, Any]) -> Any:
    """A JSON Schema validator for a schema of the document's, its local $refs read in the document."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    registry = Registry().with_resource("urn:doc", Resource.from_contents(document(), DRAFT202012))
    schema = {"$ref": "urn:doc" + node["$ref"]} if "$ref" in node else node
    return Draft202012Validator(schema, registry=registry)


def assert_documented(path: str, method: str, status: int, headers: dict[str, str], body: bytes) -> None:
    """The answer is one the document gives for this operation: its status listed, every required header
    there and valid, its media type documented and its body (JSON) valid by the schema."""
    answers = document()["paths"][path][method.lower()]["responses"]
    assert str(status) in answers, f"{method} {path}: {status} is not documented"
    assert_answer_is(answers[str(status)], headers, body, f"{method} {path} {status}")


def assert_answer_is(response: dict[str, Any], headers: dict[str, str], body: bytes, what: str) -> None:
    """The answer has `response`'s required headers, valid, its media type, and a body valid by its schema."""
    answer = resolve(response)
    given = {name.lower(): value for name, value in headers.items()}
    for name, documented in answer.get("headers", {}).items():
        header = resolve(documented)
        if header.get("required"):
            assert name.lower() in given, f"{what}: no {name}"
        if name.lower() in given:
            errors = list(_schema_validator(header["schema"]).iter_errors(given[name.lower()]))
            assert not errors, f"{what}: {name}: {errors[0].message}"
    media_type = given.get("content-type", "").split(";")[0].strip()
    assert media_type in answer["content"], f"{what}: {media_type} is not documented"
    if media_type == "application/json":
        errors = list(_schema_validator(answer["content"][media_type]["schema"]).iter_errors(json.loads(body)))
        assert not errors, f"{what}: {errors[0].message}"

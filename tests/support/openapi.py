"""openapi.yaml as the tests read it: its schemas with their $refs resolved."""

from __future__ import annotations

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

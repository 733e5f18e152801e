"""The deployment files, checked by real validators: yamllint, hadolint, the Knative Service CRD's
OpenAPI schema (strict about unknown fields, as `kubectl apply --validate=strict`), and the rules
faas-cli and OpenFaaS CE apply to stack.yml."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness import models
from harness.processes import ROOT
from settings import DEFAULT_METRICS_PORT, DEFAULT_TOKEN_FILE, parse_duration

BIN = Path(sys.executable).parent
CRD = ROOT / "knative" / "schema" / "knative-serving-service-crd.yaml"
KNATIVE_FILES = ["knative/service.yaml", "knative/service-fast.yaml"]
YAML_FILES = ["stack.yml", "stack.standard.yml", *KNATIVE_FILES, "template/python3-rembg/template.yml", "openapi.yaml"]
# The tiers: the worker's URL (remove-bg) serves the quality tier (docs/quality.md), remove-bg-fast u2net-int8.
TIERS = {
    "remove-bg": {"REMBG_MODEL": "isnet-general-use-int8", "REMBG_CORE_MODEL": models.QUALITY_CORE},
    "remove-bg-fast": {"REMBG_MODEL": models.FAST},
}

FUNCTION_FIELDS = {
    "lang", "handler", "image", "fprocess", "environment", "environment_file", "secrets", "labels",
    "annotations", "limits", "requests", "constraints", "build_args", "build_options",
    "readonly_root_filesystem", "skip_build", "namespace",
}  # fmt: skip
STANDARD_ONLY_LABELS = {
    "com.openfaas.scale.zero", "com.openfaas.scale.zero-duration", "com.openfaas.scale.target",
    "com.openfaas.scale.type", "com.openfaas.scale.target-proportion",
}  # fmt: skip
GATEWAY_TIMEOUT_SECONDS = 65.0
MEMORY = re.compile(r"^\d+(Ki|Mi|Gi)$")
CPU = re.compile(r"^\d+(\.\d+)?m?$")
SUBSTITUTION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def load_stack(name: str) -> dict:
    """stack.yml as faas-cli reads it: ${VAR:-default} substituted from the environment."""
    text = SUBSTITUTION.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), (ROOT / name).read_text())
    return yaml.safe_load(text)


def stack_problems(stack: dict, edition: str) -> list[str]:
    problems = []
    if str(stack.get("version")) != "1.0":
        problems.append("version must be 1.0")
    if stack.get("provider", {}).get("name") != "openfaas":
        problems.append("provider.name must be openfaas")
    for name, function in stack.get("functions", {}).items():
        problems += [f"{name}: {problem}" for problem in _function_problems(function)]
        check = _ce_problems if edition == "ce" else _standard_problems
        problems += [f"{name}: {problem}" for problem in check(function)]
    return problems


def _function_problems(function: dict) -> list[str]:
    problems = []
    unknown = set(function) - FUNCTION_FIELDS
    if unknown:
        problems.append(f"unknown fields {sorted(unknown)}")
    if not (ROOT / "template" / function.get("lang", "")).is_dir():
        problems.append(f"no template for lang {function.get('lang')}")
    if not (ROOT / function.get("handler", "")).is_dir():
        problems.append(f"handler {function.get('handler')} is not a folder")
    for field in ("environment", "labels", "annotations", "build_args"):
        problems += [
            f"{field}.{key} must be a quoted string"
            for key, value in (function.get(field) or {}).items()
            if not isinstance(value, str)
        ]
    for field in ("limits", "requests"):
        resources = function.get(field) or {}
        if not MEMORY.match(str(resources.get("memory", ""))):
            problems.append(f"{field}.memory must be a Kubernetes quantity like 2Gi")
        if not CPU.match(str(resources.get("cpu", ""))):
            problems.append(f"{field}.cpu must be a Kubernetes quantity like 2 or 500m")
    environment = function.get("environment") or {}
    problems += [
        f"{timeout} must stay under the gateway's {GATEWAY_TIMEOUT_SECONDS:.0f} s"
        for timeout in ("read_timeout", "write_timeout", "exec_timeout")
        if timeout in environment and parse_duration(str(environment[timeout])) >= GATEWAY_TIMEOUT_SECONDS
    ]
    if (function.get("annotations") or {}) != SCRAPE_ANNOTATIONS:
        problems.append(f"the pod annotations say where Prometheus finds the metrics: {SCRAPE_ANNOTATIONS}")
    return problems


def _ce_problems(function: dict) -> list[str]:
    labels = function.get("labels") or {}
    problems = []
    if STANDARD_ONLY_LABELS & set(labels):
        problems.append(f"CE rejects {sorted(STANDARD_ONLY_LABELS & set(labels))}")
    if int(labels.get("com.openfaas.scale.max", "1")) > 5:
        problems.append("CE allows com.openfaas.scale.max of 5 at most")
    return problems


def _standard_problems(function: dict) -> list[str]:
    labels = function.get("labels") or {}
    problems = []
    if labels.get("com.openfaas.scale.type") != "capacity":
        problems.append("a slow function scales on capacity")
    if labels.get("com.openfaas.scale.target") != (function.get("environment") or {}).get("MAX_INFLIGHT"):
        problems.append("com.openfaas.scale.target must equal MAX_INFLIGHT")
    if not 0.7 <= float(labels.get("com.openfaas.scale.target-proportion", "0")) <= 0.95:
        problems.append("target-proportion belongs in 0.7..0.95")
    if labels.get("com.openfaas.scale.zero") != "true":
        problems.append("scale to zero is what the Standard file is for")
    parse_duration(labels.get("com.openfaas.scale.zero-duration", ""))
    return problems


SCRAPE_ANNOTATIONS = {
    "prometheus.io/scrape": "true",
    "prometheus.io/port": str(DEFAULT_METRICS_PORT),
    "prometheus.io/path": "/metrics",
}


def strict(schema: object) -> object:
    """The CRD schema, rejecting unknown fields where Kubernetes would prune them."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@pytest.fixture(scope="module")
def knative_schema() -> dict:
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return strict(version["schema"]["openAPIV3Schema"])


@pytest.fixture(scope="module", params=KNATIVE_FILES)
def knative_service(request: pytest.FixtureRequest) -> dict:
    return yaml.safe_load((ROOT / request.param).read_text())


def test_yamllint() -> None:
    result = subprocess.run(
        [str(BIN / "yamllint"), "-s", "-c", str(ROOT / ".yamllint.yml"), *YAML_FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint() -> None:
    dockerfile = ROOT / "template" / "python3-rembg" / "Dockerfile"
    result = subprocess.run([str(BIN / "hadolint"), str(dockerfile)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "edition"), [("stack.yml", "ce"), ("stack.standard.yml", "standard")])
def test_stack_files_follow_faas_cli_and_openfaas_rules(name: str, edition: str) -> None:
    assert stack_problems(load_stack(name), edition) == []


def test_the_stack_checker_catches_what_ce_rejects() -> None:
    broken = load_stack("stack.yml")
    function = broken["functions"]["remove-bg-fast"]
    function["labels"]["com.openfaas.scale.zero"] = "true"
    function["labels"]["com.openfaas.scale.max"] = "20"
    function["limits"]["memory"] = "2GB"
    function["environment"]["MAX_INFLIGHT"] = 1
    function["exec_timout"] = "30s"
    problems = "\n".join(stack_problems(broken, "ce"))
    for expected in ("CE rejects", "scale.max", "memory", "quoted string", "unknown fields"):
        assert expected in problems


@pytest.mark.parametrize("name", sorted(TIERS))
def test_both_stack_files_deploy_the_same_functions(name: str) -> None:
    ce, standard = (load_stack(stack)["functions"][name] for stack in ("stack.yml", "stack.standard.yml"))
    assert {k: v for k, v in ce.items() if k != "labels"} == {k: v for k, v in standard.items() if k != "labels"}


@pytest.mark.parametrize("stack", ["stack.yml", "stack.standard.yml"])
def test_two_tiers_one_image_per_model(stack: str) -> None:
    functions = load_stack(stack)["functions"]
    assert set(functions) == set(TIERS)
    for name, chosen in TIERS.items():
        function = functions[name]
        assert {k: v for k, v in function["environment"].items() if k.startswith("REMBG_")} == chosen
        assert function["build_args"] == chosen, "the image bakes the models it serves"
    images = {function["image"] for function in functions.values()}
    assert len(images) == len(functions), "one image per model"


def test_the_knative_services_are_the_stack_s_tiers() -> None:
    for path in KNATIVE_FILES:
        service = yaml.safe_load((ROOT / path).read_text())
        (container,) = service["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item["value"] for item in container["env"] if item["name"].startswith("REMBG_")}
        assert env == TIERS[service["metadata"]["name"]], path


def test_knative_service_matches_the_crd_schema(knative_schema: dict, knative_service: dict) -> None:
    jsonschema.Draft7Validator(knative_schema).validate(knative_service)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "template", "spec", "containerConcurrency"), "one"),
        (("spec", "template", "spec", "timeoutSecnds"), 60),
        (("spec", "template", "spec", "containers"), "remove-bg"),
    ],
)
def test_the_schema_check_rejects_a_broken_service(knative_schema: dict, knative_service: dict, path, value) -> None:
    broken = copy.deepcopy(knative_service)
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(knative_schema).validate(broken)


def test_knative_settings_fit_the_function(knative_service: dict) -> None:
    template = knative_service["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    spec = template["spec"]
    (container,) = spec["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    assert spec["containerConcurrency"] == int(env["MAX_INFLIGHT"])
    assert annotations["autoscaling.knative.dev/min-scale"] == "0"
    assert int(annotations["autoscaling.knative.dev/max-scale"]) >= 1
    assert annotations["autoscaling.knative.dev/target"] == env["MAX_INFLIGHT"]
    assert 0 < spec["timeoutSeconds"] <= 600
    assert "PORT" not in env, "Knative reserves PORT and injects it"
    (port,) = container["ports"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/_/health", "port": port["containerPort"]}
    assert container["readinessProbe"]["timeoutSeconds"] == 1
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert container["securityContext"]["runAsUser"] == 10001
    assert SCRAPE_ANNOTATIONS.items() <= annotations.items()
    (mount,) = container["volumeMounts"]
    (volume,) = spec["volumes"]
    assert volume["secret"] == {"secretName": "remove-bg-token", "optional": True}, "no Secret, no token"
    assert f"{mount['mountPath']}/{volume['secret']['secretName']}" == DEFAULT_TOKEN_FILE


@pytest.mark.parametrize("name", ["stack.yml", "stack.standard.yml"])
def test_the_stack_files_show_how_the_token_secret_is_wired(name: str) -> None:
    text = (ROOT / name).read_text()
    secret = Path(DEFAULT_TOKEN_FILE).name  # OpenFaaS mounts secret NAME at /var/openfaas/secrets/NAME
    assert f"#   - {secret}\n" in text, "commented: OpenFaaS refuses to deploy with a missing secret"
    assert f"faas-cli secret create {secret}" in text

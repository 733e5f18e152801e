"""The deployment files, committed and rendered by `make manifests` (scripts/manifests.py), checked by real
validators: yamllint, hadolint, the Knative Service CRD's OpenAPI schema (strict about unknown fields, as
`kubectl apply --validate=strict`), the rules faas-cli and OpenFaaS CE apply to stack.yml and Knative's webhook
applies to traffic; and private by default: the token's secret mounted where the function reads it."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from function.environment import parse_duration
from harness import models
from harness.processes import ROOT
from settings import DEFAULT_METRICS_PORT, DEFAULT_TOKEN_FILE

BIN = Path(sys.executable).parent
CRD = ROOT / "knative" / "schema" / "knative-serving-service-crd.yaml"
RENDERER = ROOT / "scripts" / "manifests.py"
STACK_FILES = {"stack.yml": "ce", "stack.standard.yml": "standard"}
KNATIVE_FILES = ["knative/service.yaml", "knative/service-fast.yaml"]
MANIFESTS = [*STACK_FILES, *KNATIVE_FILES]
YAML_FILES = [*MANIFESTS, "template/python3-rembg/template.yml", "openapi.yaml"]
REGISTRY, VERSION, PREVIOUS = "ghcr.io/acme", "0.3.0", "0.2.0"
# The tiers: the worker's URL (remove-bg) serves the quality tier (docs/quality.md), remove-bg-fast u2net-int8.
TIERS = {
    "remove-bg": {"REMBG_MODEL": "isnet-general-use-int8", "REMBG_CORE_MODEL": models.QUALITY_CORE},
    "remove-bg-fast": {"REMBG_MODEL": models.FAST},
}
IMAGES = {
    "remove-bg": f"{REGISTRY}/remove-bg:{VERSION}-isnet-int8",
    "remove-bg-fast": f"{REGISTRY}/remove-bg:{VERSION}-u2net-int8",
}
# Where OpenFaaS mounts a function's secrets: each key of secret NAME (faas-cli makes one key, NAME) as a file
# (faas-netes pkg/k8s/secrets.go secretsMountPath, ConfigureSecrets).
OPENFAAS_SECRETS = Path("/var/openfaas/secrets")
TOKEN_SECRET = "remove-bg-token"
PROBE_ANNOTATIONS = ("com.openfaas.health.", "com.openfaas.ready.")  # OpenFaaS Standard's (docs/reference/workloads.md)

FUNCTION_FIELDS = {
    "lang", "handler", "image", "fprocess", "environment", "environment_file", "secrets", "labels",
    "annotations", "limits", "requests", "constraints", "build_args", "build_options",
    "readonly_root_filesystem", "skip_build", "namespace",
}  # fmt: skip
STANDARD_ONLY_LABELS = {
    "com.openfaas.scale.zero", "com.openfaas.scale.zero-duration", "com.openfaas.scale.target",
    "com.openfaas.scale.type", "com.openfaas.scale.target-proportion",
}  # fmt: skip
CE_MAX_REPLICAS = 5  # faas-netes pkg/handlers/validate.go, replica_reader.go MaxReplicas
GATEWAY_TIMEOUT_SECONDS = 65.0
MEMORY = re.compile(r"^\d+(Ki|Mi|Gi)$")
CPU = re.compile(r"^\d+(\.\d+)?m?$")
SUBSTITUTION = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def load_stack(path: Path) -> dict:
    """A stack file as faas-cli reads it: ${VAR:-default} substituted from the environment."""
    text = SUBSTITUTION.sub(lambda m: os.environ.get(m.group(1), m.group(2) or ""), path.read_text())
    return yaml.safe_load(text)


def render(out: Path, *settings: str) -> subprocess.CompletedProcess:
    """scripts/manifests.py as `make manifests` runs it, settings given as make's NAME=value."""
    argv = [f"--{name.lower().replace('_', '-')}={value}" for name, value in (s.split("=", 1) for s in settings)]
    return subprocess.run(
        [sys.executable, str(RENDERER), f"--out={out}", *argv], cwd=ROOT, capture_output=True, text=True, check=False
    )


def rendered(out: Path, *settings: str) -> Path:
    result = render(out, f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", *settings)
    assert result.returncode == 0, result.stderr
    return out


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
    scrape = {key: value for key, value in (function.get("annotations") or {}).items() if key.startswith("prometheus")}
    if scrape != STACK_SCRAPE_ANNOTATIONS:
        problems.append(f"the pod annotations say where Prometheus finds the metrics: {STACK_SCRAPE_ANNOTATIONS}")
    return problems


def _ce_problems(function: dict) -> list[str]:
    """CE's own refusals (faas-netes pkg/handlers/validate.go), and fixed replicas: its autoscaler scales on
    requests per second, which a pod serving one photo at a time never reaches, so a range stays at its min."""
    labels = function.get("labels") or {}
    problems = []
    if STANDARD_ONLY_LABELS & set(labels):
        problems.append(f"CE rejects {sorted(STANDARD_ONLY_LABELS & set(labels))}")
    low, high = (int(labels.get(f"com.openfaas.scale.{bound}", "1")) for bound in ("min", "max"))
    if low != high:
        problems.append(f"CE's replicas are fixed: com.openfaas.scale.min ({low}) must equal max ({high})")
    if high > CE_MAX_REPLICAS:
        problems.append(f"CE allows com.openfaas.scale.max of {CE_MAX_REPLICAS} at most")
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


# faas-netes writes `prometheus.io.scrape: "false"` onto every function without that dotted key
# (pkg/handlers/deploy.go buildAnnotations), and Prometheus turns both `prometheus.io.scrape` and
# `prometheus.io/scrape` into the label __meta_kubernetes_pod_annotation_prometheus_io_scrape: the stack
# files use the dotted keys. Knative adds none, and keeps the usual ones.
STACK_SCRAPE_ANNOTATIONS = {
    "prometheus.io.scrape": "true",
    "prometheus.io.port": str(DEFAULT_METRICS_PORT),
    "prometheus.io.path": "/metrics",
}
KNATIVE_SCRAPE_ANNOTATIONS = {
    key.replace("prometheus.io.", "prometheus.io/"): v for key, v in STACK_SCRAPE_ANNOTATIONS.items()
}


def traffic_problems(service: dict) -> list[str]:
    """What Knative's webhook refuses in `traffic` and the CRD schema cannot say (knative/serving
    pkg/apis/serving/v1/route_validation.go): percents summing to 100, unique DNS-1035 tags, a revision or
    the latest one; and our revisions' names, which must start with the service's (revision_validation.go)."""
    name = service["metadata"]["name"]
    problems = []
    traffic = service["spec"].get("traffic", [])
    total = sum(target.get("percent", 0) for target in traffic)
    if traffic and total != 100:
        problems.append(f"traffic targets sum to {total}, want 100")
    tags = [target["tag"] for target in traffic if "tag" in target]
    problems += [f"tag {tag!r} is not a DNS-1035 label" for tag in tags if not DNS1035.match(tag)]
    if len(set(tags)) != len(tags):
        problems.append(f"tags repeat: {tags}")
    for target in traffic:
        if ("revisionName" in target) == bool(target.get("latestRevision")):
            problems.append(f"{target}: a revisionName or latestRevision: true, one of them")
        if not target.get("revisionName", f"{name}-").startswith(f"{name}-"):
            problems.append(f"revision {target['revisionName']} must start with {name}-")
    revision = service["spec"]["template"]["metadata"].get("name")
    if revision is not None and not (revision.startswith(f"{name}-") and DNS1035.match(revision)):
        problems.append(f"the template's revision {revision} must be a DNS-1035 label starting with {name}-")
    return problems


def token_problems(document: dict) -> list[str]:
    """A manifest that would serve open: per function, TOKEN_FILE must name the function's default place, and a
    secret that is not optional must be mounted at exactly that file (the path derived from the manifest)."""
    problems = []
    for name, (files, token_file) in token_mounts(document).items():
        if token_file != DEFAULT_TOKEN_FILE:
            problems.append(f"{name}: TOKEN_FILE is {token_file!r}, not {DEFAULT_TOKEN_FILE}")
        if token_file is None or Path(token_file) not in files:
            problems.append(f"{name}: TOKEN_FILE {token_file!r} is not among the secrets' files {sorted(files)}")
    return problems


def token_mounts(document: dict) -> dict[str, tuple[set[Path], str | None]]:
    """Per function: the files its secrets appear as in the pod, and the TOKEN_FILE it reads."""
    if document.get("kind") != "Service":
        return {
            name: ({OPENFAAS_SECRETS / secret for secret in function.get("secrets", [])},
                   (function.get("environment") or {}).get("TOKEN_FILE"))
            for name, function in document["functions"].items()
        }  # fmt: skip
    spec = document["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    volumes = {volume["name"]: volume for volume in spec.get("volumes", [])}
    files = set()
    for mount in container.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret and not secret.get("optional"):  # without items, the files are named by keys the manifest lacks
            files |= {Path(mount["mountPath"]) / item["path"] for item in secret.get("items", [])}
    env = {item["name"]: item.get("value") for item in container.get("env", [])}
    return {document["metadata"]["name"]: (files, env.get("TOKEN_FILE"))}


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


# What each rendering is given beyond REGISTRY and VERSION; `committed` is the files as they are in git.
VARIANTS = {
    "committed": None,
    "rendered": (),
    "open": ("OPEN=1",),
    "canary": ("CANARY=10", f"PREVIOUS={PREVIOUS}"),
    "rollback": ("CANARY=0", f"PREVIOUS={PREVIOUS}"),
    "pull-secret": ("PULL_SECRET=ghcr-pull",),
}
PRIVATE = [variant for variant in VARIANTS if variant != "open"]
RENDERED = [variant for variant in VARIANTS if variant != "committed"]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Where each variant's files are: the checkout, or a folder the renderer wrote."""
    return {
        variant: ROOT if settings is None else rendered(tmp_path_factory.mktemp(variant), *settings)
        for variant, settings in VARIANTS.items()
    }


def manifest(places: dict[str, Path], variant: str, name: str) -> dict:
    path = places[variant] / name
    return load_stack(path) if name in STACK_FILES else yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def knative_schema() -> dict:
    crd = yaml.safe_load(CRD.read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    return strict(version["schema"]["openAPIV3Schema"])


@pytest.fixture(scope="module", params=KNATIVE_FILES)
def knative_service(request: pytest.FixtureRequest) -> dict:
    return yaml.safe_load((ROOT / request.param).read_text())


def test_yamllint(places: dict[str, Path]) -> None:
    files = YAML_FILES + [str(places[variant] / name) for variant in RENDERED for name in MANIFESTS]
    result = subprocess.run(
        [str(BIN / "yamllint"), "-s", "-c", str(ROOT / ".yamllint.yml"), *files],
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


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", STACK_FILES)
def test_stack_files_follow_faas_cli_and_openfaas_rules(places: dict[str, Path], variant: str, name: str) -> None:
    assert stack_problems(manifest(places, variant, name), STACK_FILES[name]) == []


def test_the_stack_checker_catches_what_ce_rejects() -> None:
    broken = load_stack(ROOT / "stack.yml")
    function = broken["functions"]["remove-bg-fast"]
    function["labels"]["com.openfaas.scale.zero"] = "true"
    function["labels"]["com.openfaas.scale.max"] = "20"
    function["limits"]["memory"] = "2GB"
    function["environment"]["MAX_INFLIGHT"] = 1
    function["exec_timout"] = "30s"
    function["annotations"] = {"prometheus.io/scrape": "true"}
    problems = "\n".join(stack_problems(broken, "ce"))
    for expected in ("CE rejects", "scale.max of 5", "min (1) must equal max (20)", "memory", "quoted string"):
        assert expected in problems
    assert "unknown fields" in problems and "prometheus.io.scrape" in problems


@pytest.mark.parametrize("variant", ["committed", "rendered", "pull-secret", "open"])
@pytest.mark.parametrize("name", sorted(TIERS))
def test_both_stack_files_deploy_the_same_functions(places: dict[str, Path], variant: str, name: str) -> None:
    ce, standard = (manifest(places, variant, stack)["functions"][name] for stack in STACK_FILES)
    # Standard's own: its scaling labels and its per-function probes (CE's are fixed on /_/health).
    standard["annotations"] = {
        key: value for key, value in standard["annotations"].items() if not key.startswith(PROBE_ANNOTATIONS)
    }
    assert {k: v for k, v in ce.items() if k != "labels"} == {k: v for k, v in standard.items() if k != "labels"}


@pytest.mark.parametrize("variant", ["committed", "rendered"])
@pytest.mark.parametrize("stack", STACK_FILES)
def test_two_tiers_one_image_per_model(places: dict[str, Path], variant: str, stack: str) -> None:
    functions = manifest(places, variant, stack)["functions"]
    assert set(functions) == set(TIERS)
    for name, chosen in TIERS.items():
        function = functions[name]
        assert {k: v for k, v in function["environment"].items() if k.startswith("REMBG_")} == chosen
        assert function["build_args"] == chosen, "the image bakes the models it serves"
    images = {function["image"] for function in functions.values()}
    assert len(images) == len(functions), "one image per model"


@pytest.mark.parametrize("variant", RENDERED)
def test_rendered_manifests_name_the_registry_and_version_and_no_placeholder(
    places: dict[str, Path], variant: str
) -> None:
    for name in MANIFESTS:
        text = (places[variant] / name).read_text()
        assert "docker.io/example" not in text and "${REGISTRY" not in text and "${TAG" not in text, name
        assert f"#   make manifests REGISTRY={REGISTRY} VERSION={VERSION}" in "\n".join(text.splitlines()[:5]), name
        document = manifest(places, variant, name)
        if name in STACK_FILES:
            assert {n: f["image"] for n, f in document["functions"].items()} == IMAGES
        else:
            (container,) = document["spec"]["template"]["spec"]["containers"]
            assert container["image"] == IMAGES[document["metadata"]["name"]]


@pytest.mark.parametrize("variant", ["committed", "rendered"])
def test_the_knative_services_are_the_stack_s_tiers(places: dict[str, Path], variant: str) -> None:
    for path in KNATIVE_FILES:
        service = manifest(places, variant, path)
        (container,) = service["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item["value"] for item in container["env"] if item["name"].startswith("REMBG_")}
        assert env == TIERS[service["metadata"]["name"]], path


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", KNATIVE_FILES)
def test_knative_service_matches_the_crd_schema_and_the_webhook_s_traffic_rules(
    knative_schema: dict, places: dict[str, Path], variant: str, name: str
) -> None:
    service = manifest(places, variant, name)
    jsonschema.Draft7Validator(knative_schema).validate(service)
    assert traffic_problems(service) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "template", "spec", "containerConcurrency"), "one"),
        (("spec", "template", "spec", "timeoutSecnds"), 60),
        (("spec", "template", "spec", "containers"), "remove-bg"),
        (("spec", "traffic", 0, "percnt"), 90),
    ],
)
def test_the_schema_check_rejects_a_broken_service(
    knative_schema: dict, places: dict[str, Path], path: tuple, value: object
) -> None:
    broken = manifest(places, "canary", "knative/service.yaml")
    target = broken
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(knative_schema).validate(broken)


def test_the_traffic_check_catches_what_knative_s_webhook_refuses(places: dict[str, Path]) -> None:
    canary = manifest(places, "canary", "knative/service.yaml")
    off_total = copy.deepcopy(canary)
    off_total["spec"]["traffic"][1]["percent"] = 15
    assert traffic_problems(off_total) == ["traffic targets sum to 105, want 100"]
    foreign = copy.deepcopy(canary)
    foreign["spec"]["traffic"][0]["revisionName"] = "remove-v0-2-0"
    foreign["spec"]["template"]["metadata"]["name"] = "v0-3-0"
    foreign["spec"]["traffic"][1]["tag"] = "Candidate"
    problems = "\n".join(traffic_problems(foreign))
    for expected in ("must start with remove-bg-", "template's revision v0-3-0", "'Candidate' is not a DNS-1035"):
        assert expected in problems


@pytest.mark.parametrize("variant", ["committed", "rendered"])
def test_knative_settings_fit_the_function(places: dict[str, Path], variant: str) -> None:
    for name in KNATIVE_FILES:
        template = manifest(places, variant, name)["spec"]["template"]
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
        assert KNATIVE_SCRAPE_ANNOTATIONS.items() <= annotations.items()


@pytest.mark.parametrize("variant", PRIVATE)
@pytest.mark.parametrize("name", MANIFESTS)
def test_every_manifest_mounts_the_token_where_the_function_reads_it(
    places: dict[str, Path], variant: str, name: str
) -> None:
    """Private by default: a pod whose secret is not mounted stops (a named TOKEN_FILE must exist) rather than
    serving open, so the manifest must both name the file and mount the secret exactly there."""
    document = manifest(places, variant, name)
    assert token_problems(document) == []
    if name in KNATIVE_FILES:
        (volume,) = [v for v in document["spec"]["template"]["spec"]["volumes"] if "secret" in v]
        assert "optional" not in volume["secret"], "an optional Secret would let the pod start without the token"


def test_the_token_check_catches_a_manifest_that_would_serve_open(places: dict[str, Path]) -> None:
    stack = manifest(places, "rendered", "stack.yml")
    del stack["functions"]["remove-bg-fast"]["secrets"]
    stack["functions"]["remove-bg"]["environment"]["TOKEN_FILE"] = "/var/openfaas/secrets/token"
    problems = "\n".join(token_problems(stack))
    assert "remove-bg-fast: TOKEN_FILE '/var/openfaas/secrets/remove-bg-token' is not among" in problems
    assert "remove-bg: TOKEN_FILE is '/var/openfaas/secrets/token'" in problems
    for damage in ("mountPath", "optional", "items"):
        service = manifest(places, "rendered", "knative/service.yaml")
        spec = service["spec"]["template"]["spec"]
        if damage == "mountPath":
            spec["containers"][0]["volumeMounts"][0]["mountPath"] = "/var/secrets"
        elif damage == "optional":
            spec["volumes"][0]["secret"]["optional"] = True
        else:
            spec["volumes"][0]["secret"]["items"][0]["path"] = "token"
        assert token_problems(service), damage


@pytest.mark.parametrize("name", MANIFESTS)
def test_open_is_an_explicit_choice_and_drops_the_token(places: dict[str, Path], name: str) -> None:
    text = (places["open"] / name).read_text()
    assert text.startswith("# OPEN: rendered with OPEN=1, without the token.")
    assert "TOKEN_FILE" not in text and "secretName" not in text
    for files, token_file in token_mounts(manifest(places, "open", name)).values():
        assert (files, token_file) == (set(), None)


def test_pull_secret_reaches_the_pod(places: dict[str, Path]) -> None:
    """OpenFaaS turns a docker-registry secret listed in `secrets:` into imagePullSecrets (faas-netes
    pkg/k8s/secrets.go ConfigureSecrets); Knative takes the pod's own imagePullSecrets."""
    for stack in STACK_FILES:
        for function in manifest(places, "pull-secret", stack)["functions"].values():
            assert function["secrets"] == [TOKEN_SECRET, "ghcr-pull"]
    for name in KNATIVE_FILES:
        spec = manifest(places, "pull-secret", name)["spec"]["template"]["spec"]
        assert spec["imagePullSecrets"] == [{"name": "ghcr-pull"}]


def test_a_pull_secret_on_ce_is_warned_about(tmp_path: Path) -> None:
    """CE deploys only images it can pull anonymously (faas-netes pkg/handlers/validate.go isAnonymous)."""
    warned = render(tmp_path, f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "PULL_SECRET=ghcr-pull")
    assert warned.returncode == 0
    assert "stack.yml: OpenFaaS CE deploys only images it can pull anonymously" in warned.stderr
    quiet = render(tmp_path, f"REGISTRY={REGISTRY}", f"VERSION={VERSION}")
    assert "anonymously" not in quiet.stderr


def test_ce_replicas_are_fixed_and_set_by_the_renderer(tmp_path: Path, places: dict[str, Path]) -> None:
    def scale(place: Path, stack: str) -> dict[str, tuple[str, str]]:
        functions = load_stack(place / stack)["functions"]
        return {
            n: (f["labels"]["com.openfaas.scale.min"], f["labels"]["com.openfaas.scale.max"])
            for n, f in functions.items()
        }

    assert scale(ROOT, "stack.yml") == scale(places["rendered"], "stack.yml") == {
        "remove-bg": ("2", "2"), "remove-bg-fast": ("1", "1"),
    }  # fmt: skip
    chosen = rendered(tmp_path, "REPLICAS=4", "FAST_REPLICAS=3")
    assert scale(chosen, "stack.yml") == {"remove-bg": ("4", "4"), "remove-bg-fast": ("3", "3")}
    assert scale(chosen, "stack.standard.yml") == scale(ROOT, "stack.standard.yml"), "Standard scales on capacity"


@pytest.mark.parametrize(
    ("variant", "traffic"),
    [
        ("rendered", [{"latestRevision": True, "percent": 100}]),
        (
            "canary",
            [
                {"revisionName": "{name}-v0-2-0", "percent": 90},
                {"revisionName": "{name}-v0-3-0", "percent": 10, "tag": "candidate"},
            ],
        ),
        (
            "rollback",
            [
                {"revisionName": "{name}-v0-2-0", "percent": 100},
                {"revisionName": "{name}-v0-3-0", "percent": 0, "tag": "candidate"},
            ],
        ),
    ],
)
def test_knative_revisions_are_named_for_their_version_and_split_traffic(
    places: dict[str, Path], variant: str, traffic: list[dict]
) -> None:
    """A canary keeps the previous version's revision serving 90 %; CANARY=0 sends it all back (a rollback)
    while the new revision stays reachable by its tag; without PREVIOUS, the latest ready revision takes all."""
    for path in KNATIVE_FILES:
        service = manifest(places, variant, path)
        name = service["metadata"]["name"]
        assert service["spec"]["template"]["metadata"]["name"] == f"{name}-v0-3-0"
        expected = [{k: v.format(name=name) if k == "revisionName" else v for k, v in t.items()} for t in traffic]
        assert service["spec"]["traffic"] == expected


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ((f"VERSION={VERSION}",), "REGISTRY is required"),
        (("REGISTRY=docker.io/example", f"VERSION={VERSION}"), "placeholder"),
        (("REGISTRY=Docker.IO/example/", f"VERSION={VERSION}"), "placeholder"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "PREVIOUS=0.2.0", "CANARY=1_0"), "whole number"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "REPLICAS=\u0663"), "whole number"),
        (("REGISTRY=ghcr.io/Acme", f"VERSION={VERSION}"), "is not an image prefix"),
        ((f"REGISTRY=ghcr.io/{'a' * 240}", f"VERSION={VERSION}"), "over 255 characters"),  # no image could have it
        ((f"REGISTRY={REGISTRY}",), "VERSION='' is not an image tag"),
        ((f"REGISTRY={REGISTRY}", "VERSION=0.3.0+build"), "is not an image tag"),
        ((f"REGISTRY={REGISTRY}", "VERSION=-rc1"), "is not an image tag"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={'9' * 60}"), "not a DNS-1035 label"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "CANARY=10"), "PREVIOUS and CANARY go together"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "CANARY=110", "PREVIOUS=0.2.0"), "outside 0..100"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "CANARY=5", f"PREVIOUS={VERSION}"), "one Knative revision"),
        # Distinct tags, one revision name (remove-bg-v0-3-0): the split would be one revision twice.
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "CANARY=5", "PREVIOUS=0_3_0"), "one Knative revision"),
        ((f"REGISTRY={REGISTRY}", "VERSION=V1", "CANARY=0", "PREVIOUS=v1"), "one Knative revision"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "REPLICAS=6"), "REPLICAS=6 is outside 1..5"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "OPEN=yes"), "OPEN='yes'"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", f"PULL_SECRET={TOKEN_SECRET}"), "PULL_SECRET"),
        ((f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", f"PULL_SECRET={'a' * 254}"), "PULL_SECRET"),  # no Secret's
    ],
)
def test_the_renderer_refuses_what_it_cannot_render_exactly(tmp_path: Path, settings: tuple, message: str) -> None:
    result = render(tmp_path / "out", *settings)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists(), "nothing written"


def test_make_manifests_passes_its_variables_to_the_renderer() -> None:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "manifests", f"REGISTRY={REGISTRY}", f"VERSION={VERSION}", "OPEN=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"scripts/manifests.py --registry='{REGISTRY}' --version='{VERSION}'" in dry.stdout
    assert "--open='1'" in dry.stdout


@pytest.mark.parametrize("version", ['0.3.0" --out="{out}', "0.3.0`touch {out}`", "-rc1"])
def test_make_manifests_hands_each_value_over_as_it_is(tmp_path: Path, version: str) -> None:
    """A value is one argument whatever it holds (a CI job may pass a tag it did not choose): a quote must not
    add an option that writes elsewhere, a backtick must not run a command and render the rest, and a leading dash
    is a value, not an option, so the renderer's own message says what is wrong."""
    elsewhere = tmp_path / "elsewhere"
    make = ["make", "--no-print-directory", "-o", f"{sys.prefix}/.installed", "manifests", f"DEPLOY_VENV={sys.prefix}"]
    result = subprocess.run(
        [*make, f"REGISTRY={REGISTRY}", f"VERSION={version.format(out=elsewhere)}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0 and "is not an image tag" in result.stderr, result.stderr
    assert not elsewhere.exists(), "nothing written, nothing run"


def test_make_manifests_needs_no_test_environment(tmp_path: Path) -> None:
    """An operator renders the manifests with python3 and PyYAML alone (requirements-deploy.txt), not the gigabyte
    of models, test tools and benchmarks `make venv` installs: a fresh DEPLOY_VENV is made and rendered with."""
    deploy = tmp_path / "deploy-venv"
    result = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "manifests",
            f"DEPLOY_VENV={deploy}",
            f"REGISTRY={REGISTRY}",
            "VERSION=0.0.1-t",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    installed = subprocess.run(
        [
            str(deploy / "bin" / "python"),
            "-m",
            "pip",
            "list",
            "--format=freeze",
            "--exclude",
            "pip",
            "--exclude",
            "setuptools",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert installed == ["PyYAML==6.0.3"]
    written = ROOT / "build" / "deploy" / "0.0.1-t"
    assert (written / "knative" / "service.yaml").exists()
    shutil.rmtree(written)


# Kubernetes' default terminationGracePeriodSeconds: OpenFaaS CE sets none for a function (faas-netes pkg/).
KUBERNETES_GRACE_SECONDS = 30.0
LIVENESS, READINESS = "/_/live", "/_/health"


def _probe_paths_the_function_serves() -> dict[str, set[str]]:
    """Each probe path in openapi.yaml with the statuses it may answer: liveness must never answer 503."""
    paths = yaml.safe_load((ROOT / "openapi.yaml").read_text())["paths"]
    return {path: set(paths[path]["get"]["responses"]) for path in paths if path.startswith("/_/")}


@pytest.mark.parametrize("variant", ["committed", "rendered"])
def test_each_platform_probes_liveness_apart_from_readiness_and_drains_within_its_grace(
    places: dict[str, Path], variant: str
) -> None:
    """A liveness probe on /_/health would restart a pod whose model is still loading (and a draining one);
    a drain longer than the pod's grace period is cut by SIGKILL. CE cannot be told (fixed probes on
    /_/health, no grace period of its own): its drain fits Kubernetes' default."""
    served = _probe_paths_the_function_serves()
    assert "503" not in served[LIVENESS] and "503" in served[READINESS]
    for name in KNATIVE_FILES:
        spec = manifest(places, variant, name)["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        env = {item["name"]: item["value"] for item in container["env"]}
        assert container["livenessProbe"]["httpGet"]["path"] == LIVENESS
        assert container["readinessProbe"]["httpGet"]["path"] == READINESS
        assert "periodSeconds" not in container["readinessProbe"], "queue-proxy probes every 50 ms only unset"
        assert float(env["DRAIN_SECONDS"]) < spec["timeoutSeconds"]
    for stack, edition in STACK_FILES.items():
        for function in load_stack(places[variant] / stack)["functions"].values():
            drain = float(function["environment"]["DRAIN_SECONDS"])
            annotations = function.get("annotations", {})
            if edition == "standard":
                assert annotations["com.openfaas.health.http.path"] == LIVENESS
                assert annotations["com.openfaas.ready.http.path"] == READINESS
                grace = parse_duration(function["environment"]["write_timeout"])
            else:
                assert not any(key.startswith(PROBE_ANNOTATIONS) for key in annotations)
                grace = KUBERNETES_GRACE_SECONDS
            assert drain < grace, f"{stack}: DRAIN_SECONDS {drain} s is not under the {grace} s grace period"

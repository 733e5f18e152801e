"""Concrete manifests from the committed ones: `make manifests REGISTRY=ghcr.io/acme VERSION=0.3.0`.

The committed stack.yml, stack.standard.yml and knative/service*.yaml name a placeholder registry, so
that nobody deploys them by hand-editing an image line; this renders them for one registry and one
version into build/deploy/<VERSION>/, and nothing else changes between what is reviewed and what is
deployed. Private by default: the token's secret stays listed and mounted, and TOKEN_FILE stays named,
so a pod without its secret stops instead of serving open; OPEN=1 is the explicit way to drop both.

Knative: each revision is named for its version (remove-bg-v0-3-0; Knative requires the service's
name as its prefix, knative/serving pkg/apis/serving/v1/revision_validation.go), so that PREVIOUS and
CANARY can split traffic between two versions, and PREVIOUS with CANARY=0 sends all of it back.
OpenFaaS has no traffic split of its own: its rollback is rendering and deploying the previous VERSION.

Anything it cannot render exactly as asked stops it with exit 2 and a message naming the setting.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("stack.yml", "stack.standard.yml")
CE_STACK = "stack.yml"
SERVICES = ("knative/service.yaml", "knative/service-fast.yaml")
PLACEHOLDER_REGISTRY = "docker.io/example"
REPOSITORY = "remove-bg"
NAME_MAX = 255  # an image's name, registry and repository (distribution/reference NameTotalLengthMax)
# Each function's image: the one repository remove-bg, tagged <VERSION>-<tier's model> (one image per model).
IMAGE_MODELS = {"remove-bg": "isnet-int8", "remove-bg-fast": "u2net-int8"}
TOKEN_SECRET = "remove-bg-token"
TOKEN_ENV = "TOKEN_FILE"
CANDIDATE_TAG = "candidate"
CE_MAX_REPLICAS = 5  # faas-netes pkg/handlers/replica_reader.go MaxReplicas
DEFAULT_REPLICAS = {"remove-bg": 2, "remove-bg-fast": 1}
SCALE_LABELS = ("com.openfaas.scale.min", "com.openfaas.scale.max")

# Docker's reference grammar (distribution/reference): a registry host[:port], then lowercase path components.
REGISTRY = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DNS1035 = re.compile(r"^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$")
# A Secret's name: a DNS-1123 subdomain of at most 253 characters (Kubernetes IsDNS1123Subdomain).
DNS1123 = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$")

log = logging.getLogger("manifests")


class Refused(ValueError):
    """A setting the renderer cannot honour exactly; the message names it and says what would do."""


@dataclass(frozen=True)
class Options:
    """What one rendering is for: where the images are, which version, and how it is exposed."""

    registry: str
    version: str
    out: Path
    open: bool = False
    pull_secret: str | None = None
    replicas: int = DEFAULT_REPLICAS["remove-bg"]
    fast_replicas: int = DEFAULT_REPLICAS["remove-bg-fast"]
    previous: str | None = None
    canary: int | None = None

    def image(self, function: str) -> str:
        return f"{self.registry}/{REPOSITORY}:{self.version}-{IMAGE_MODELS[function]}"

    def ce_replicas(self, function: str) -> int:
        return self.replicas if function == "remove-bg" else self.fast_replicas


def revision(service: str, version: str) -> str:
    """The Knative revision that serves `version`: the service's name first, as Knative requires."""
    name = f"{service}-v{re.sub(r'[._]', '-', version.lower())}"
    if not DNS1035.match(name):
        raise Refused(f"VERSION={version!r} makes the revision name {name!r}, not a DNS-1035 label of 63 characters")
    return name


def options(argv: list[str]) -> Options:
    """The settings, each checked; an empty value (make's unset variable) means not given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("registry", "version", "out", "open", "pull-secret", "replicas", "fast-replicas", "previous"):
        parser.add_argument(f"--{name}", default="")
    parser.add_argument("--canary", default="")
    given = parser.parse_args(argv)
    registry = given.registry.strip().rstrip("/")
    if not registry:
        raise Refused("REGISTRY is required: your images' prefix, such as REGISTRY=ghcr.io/your-org")
    if registry.lower() == PLACEHOLDER_REGISTRY:
        raise Refused(f"REGISTRY={registry} is the committed files' placeholder; name the registry you pushed to")
    if not REGISTRY.match(registry):
        raise Refused(f"REGISTRY={registry!r} is not an image prefix such as ghcr.io/your-org or host:5000/team")
    if len(f"{registry}/{REPOSITORY}") > NAME_MAX:
        raise Refused(
            f"REGISTRY={registry[:40]}... makes an image name over {NAME_MAX} characters, which no registry takes"
        )
    version = _tag("VERSION", given.version)
    previous = _tag("PREVIOUS", given.previous) if given.previous else None
    canary = _whole("CANARY", given.canary, 0, 100) if given.canary else None
    if (previous is None) != (canary is None):
        raise Refused("PREVIOUS and CANARY go together: CANARY=10 PREVIOUS=0.2.0 (a canary), CANARY=0 (a rollback)")
    pull_secret = given.pull_secret.strip() or None
    if pull_secret is not None and (not DNS1123.match(pull_secret) or pull_secret == TOKEN_SECRET):
        raise Refused(f"PULL_SECRET={pull_secret!r} must name a docker-registry Secret, other than {TOKEN_SECRET}")
    if given.open not in ("", "0", "1"):
        raise Refused(f"OPEN={given.open!r}: OPEN=1 renders an open endpoint; leave it unset for the token")
    for service in DEFAULT_REPLICAS:
        name = revision(service, version)  # refuses a version no revision can be named for
        if previous and revision(service, previous) == name:  # 0.3.0 and 0_3_0, V1 and v1: one name
            raise Refused(
                f"PREVIOUS={previous} and VERSION={version} are one Knative revision, {name}; "
                "PREVIOUS names the version now serving"
            )
    return Options(
        registry=registry,
        version=version,
        out=Path(given.out) if given.out else ROOT / "build" / "deploy" / version,
        open=given.open == "1",
        pull_secret=pull_secret,
        replicas=_whole("REPLICAS", given.replicas, 1, CE_MAX_REPLICAS, DEFAULT_REPLICAS["remove-bg"]),
        fast_replicas=_whole(
            "FAST_REPLICAS", given.fast_replicas, 1, CE_MAX_REPLICAS, DEFAULT_REPLICAS["remove-bg-fast"]
        ),
        previous=previous,
        canary=canary,
    )


def _tag(name: str, value: str) -> str:
    value = value.strip()
    if not TAG.match(value):
        raise Refused(f"{name}={value!r} is not an image tag (letters, digits, _ . -; such as {name}=0.3.0)")
    if len(f"{value}-{max(IMAGE_MODELS.values(), key=len)}") > 128:
        raise Refused(f"{name}={value!r} is too long: the images' tags add the model and stay within 128 characters")
    return value


def _whole(name: str, value: str, low: int, high: int, default: int | None = None) -> int:
    if not value.strip() and default is not None:
        return default
    if not re.fullmatch(r"[0-9]+", value.strip()):  # int() also takes "1_0", "+5" and other scripts' digits
        raise Refused(f"{name}={value!r} is not a whole number")
    number = int(value)
    if not low <= number <= high:
        raise Refused(f"{name}={number} is outside {low}..{high}")
    return number


def render_stack(stack: dict, options: Options, ce: bool) -> dict:
    """An OpenFaaS stack file: images, the token (or not), the pull secret, CE's fixed replicas."""
    for name, function in stack["functions"].items():
        function["image"] = options.image(name)
        secrets = [secret for secret in function.get("secrets", []) if not (options.open and secret == TOKEN_SECRET)]
        if options.pull_secret:
            secrets.append(options.pull_secret)  # faas-netes makes a docker-registry secret an imagePullSecret
        _keep(function, "secrets", secrets)
        if options.open:
            function["environment"].pop(TOKEN_ENV, None)
        if ce:
            function["labels"].update(dict.fromkeys(SCALE_LABELS, str(options.ce_replicas(name))))
    return stack


def render_service(service: dict, options: Options) -> dict:
    """A Knative Service: its image, its revision's name, the token (or not), the pull secret, traffic."""
    name = service["metadata"]["name"]
    template = service["spec"]["template"]
    template["metadata"]["name"] = revision(name, options.version)
    spec = template["spec"]
    (container,) = spec["containers"]
    container["image"] = options.image(name)
    if options.open:
        token_volumes = {
            v["name"] for v in spec.get("volumes", []) if v.get("secret", {}).get("secretName") == TOKEN_SECRET
        }
        container["env"] = [item for item in container["env"] if item["name"] != TOKEN_ENV]
        _keep(
            container, "volumeMounts", [m for m in container.get("volumeMounts", []) if m["name"] not in token_volumes]
        )
        _keep(spec, "volumes", [v for v in spec.get("volumes", []) if v["name"] not in token_volumes])
    if options.pull_secret:
        spec["imagePullSecrets"] = [{"name": options.pull_secret}]
    service["spec"]["traffic"] = traffic(name, options)
    return service


def traffic(service: str, options: Options) -> list[dict]:
    """All to the latest ready revision; or, with PREVIOUS, CANARY % to this version (tagged, so that it has a
    URL of its own even at 0 %) and the rest to the previous one."""
    if options.previous is None or options.canary is None:
        return [{"latestRevision": True, "percent": 100}]
    return [
        {"revisionName": revision(service, options.previous), "percent": 100 - options.canary},
        {"revisionName": revision(service, options.version), "percent": options.canary, "tag": CANDIDATE_TAG},
    ]


def _keep(parent: dict, key: str, items: list) -> None:
    """`items` in place of parent[key] (where it was), or no key at all when there are none."""
    if items:
        parent[key] = items
    else:
        parent.pop(key, None)


class _Dumper(yaml.SafeDumper):
    """Block style with indented sequences, as the committed files and yamllint's default rules have them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def header(source: str, options: Options) -> str:
    """What a rendered file says first: where it came from, with which settings, and that it is not edited."""
    given = {
        "REGISTRY": options.registry,
        "VERSION": options.version,
        "OPEN": "1" if options.open else None,
        "PULL_SECRET": options.pull_secret,
        "REPLICAS": str(options.replicas) if source == CE_STACK else None,
        "FAST_REPLICAS": str(options.fast_replicas) if source == CE_STACK else None,
        "PREVIOUS": options.previous if source in SERVICES else None,
        "CANARY": None if options.canary is None or source not in SERVICES else str(options.canary),
    }
    command = "make manifests " + " ".join(f"{name}={value}" for name, value in given.items() if value is not None)
    lines = [
        f"# Rendered from {source}: deploy it as it is. To change it, edit {source}",
        "# (its comments say what each setting does) and render again:",
        *textwrap.wrap(command, width=110, initial_indent="#   ", subsequent_indent="#     ", break_on_hyphens=False),
    ]
    if options.open:
        lines.insert(0, "# OPEN: rendered with OPEN=1, without the token. Anyone who reaches it can call it.")
    return "\n".join(lines) + "\n"


def write(source: str, document: dict, options: Options) -> Path:
    target = options.out / source
    target.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=110)
    target.write_text(header(source, options) + body)
    return target


def render(options: Options) -> list[Path]:
    written = []
    for source in STACKS:
        stack = yaml.safe_load((ROOT / source).read_text())
        written.append(write(source, render_stack(stack, options, ce=source == CE_STACK), options))
    for source in SERVICES:
        written.append(write(source, render_service(yaml.safe_load((ROOT / source).read_text()), options), options))
    if options.pull_secret:
        log.warning(
            "%s: OpenFaaS CE deploys only images it can pull anonymously (faas-netes pkg/handlers/validate.go), so "
            "PULL_SECRET=%s does not help there; a private registry needs OpenFaaS Standard (stack.standard.yml)",
            CE_STACK,
            options.pull_secret,
        )
    if options.open:
        log.warning("OPEN=1: rendered without the token; anyone who reaches these functions can call them")
    return written


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="make manifests: %(message)s")
    try:
        chosen = options(argv)
    except Refused as exc:
        log.error("%s", exc)
        return 2
    for path in render(chosen):
        log.info("wrote %s", path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

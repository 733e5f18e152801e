"""The real image, run as a 2-CPU / 2 GB pod would run it: read-only root, /tmp in memory, non-root."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from function.model.records import OPERATOR, record
from harness.processes import ROOT, free_port

IMAGE = os.environ.get("REMOVE_BG_IMAGE", "remove-bg:latest")
PROFILE = ["--cpus", "2", "--memory", "2g", "--read-only", "--tmpfs", "/tmp"]
MEASUREMENTS = ROOT / "build" / f"container-measurements-{''.join(c if c.isalnum() else '-' for c in IMAGE)}.json"
MODELS_IN_IMAGE = "/opt/models"  # the image's U2NET_HOME


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True).stdout.strip()


@dataclass(frozen=True)
class Baked:
    """The models an image serves, read from its own environment: one image per model (make image MODEL=…)."""

    model: str
    path: str  # REMBG_MODEL_PATH: the operator's own model's file, or one that stands in for the model's own
    core: str  # REMBG_CORE_MODEL

    @property
    def label(self) -> str:
        """What its responses' X-Model and its log lines say: the model's name, with the file's only for the
        operator's own model (docs/api.md); a file that stands in for a model's own is that model."""
        own_model = record(self.model).source == OPERATOR
        main = f"{self.model}:{Path(self.path).name}" if self.path and own_model else self.model
        return main + (f"+{self.core}" if self.core else "")

    @property
    def files(self) -> list[str]:
        """Where its model files are in the image: the operator's, an int8 model's own place, or where rembg's
        lookup finds them."""
        if self.path:
            main = self.path
        elif self.model.endswith("-int8"):
            main = f"{MODELS_IN_IMAGE}/custom/{self.model}.onnx"
        else:
            main = f"{MODELS_IN_IMAGE}/models/{self.model}/{self.model}.onnx"
        return [main, *([f"{MODELS_IN_IMAGE}/models/{self.core}/{self.core}.onnx"] if self.core else [])]

    @property
    def optimized(self) -> list[str]:
        """Where their optimised copies lie, made at build for the build machine's CPU class and named by the
        original's md5 (function/model/optimized.py): a pattern for `ls` (`<name>.<key>.onnx`)."""
        found = []
        for file in self.files:
            place = Path(file).relative_to(MODELS_IN_IMAGE)
            found.append(f"{MODELS_IN_IMAGE}/optimized/{place.parent}/{place.stem}.*{place.suffix}")
        return found


def deployed_env(out: Path) -> dict[str, str]:
    """The server's environment as `make manifests` renders it for the function (stack.yml's remove-bg-fast,
    TOKEN_FILE included), without the model settings: an image serves the models baked into it."""
    renderer = [sys.executable, str(ROOT / "scripts" / "manifests.py"), "--registry=ghcr.io/acme", "--version=0.3.0"]
    subprocess.run([*renderer, f"--out={out}"], check=True, capture_output=True)
    environment = yaml.safe_load((out / "stack.yml").read_text())["functions"]["remove-bg-fast"]["environment"]
    return {key: value for key, value in environment.items() if not key.startswith("REMBG_")}


@functools.cache
def baked() -> Baked:
    env = dict(
        line.split("=", 1) for line in json.loads(docker("image", "inspect", "--format", "{{json .Config.Env}}", IMAGE))
    )
    return Baked(env.get("REMBG_MODEL", ""), env.get("REMBG_MODEL_PATH", ""), env.get("REMBG_CORE_MODEL", ""))


class Container:
    def __init__(self, env: dict[str, str] | None = None, flags: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.metrics_port = free_port()
        flags = [*flags, "-e", f"PORT={self.port}", "-e", f"METRICS_PORT={self.metrics_port}"]
        for key, value in (env or {}).items():
            flags += ["-e", f"{key}={value}"]
        self.started = time.perf_counter()
        # No bridge network on this engine: the container shares the host's loopback.
        self.id = docker("run", "-d", "--network", "host", *PROFILE, *flags, IMAGE)
        self.url = f"http://127.0.0.1:{self.port}"

    def health(self) -> int | None:
        try:
            return requests.get(self.url + "/_/health", timeout=1).status_code
        except (requests.ConnectionError, requests.Timeout):
            # not listening yet; or, in a fresh container, still reading its imports from a cold disk
            # while the probe waits (a platform's readiness probe counts that as not ready, too)
            return None

    def wait_ready(self, timeout: float = 60) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.health() == 200:
                return time.perf_counter() - self.started
            time.sleep(0.01)
        raise AssertionError(f"not ready after {timeout} s:\n{self.logs()}")

    def post(self, body: bytes, **kwargs: object) -> requests.Response:
        return requests.post(self.url + "/", data=body, timeout=120, **kwargs)

    def logs(self) -> str:
        result = subprocess.run(["docker", "logs", self.id], capture_output=True, text=True, check=False)
        return result.stdout + result.stderr

    def state(self) -> dict:
        return json.loads(docker("inspect", "--format", "{{json .State}}", self.id))

    def cgroup_memory(self, name: str) -> int:
        """Bytes from the container's memory cgroup: cgroup v1 or v2 file names."""
        names = {
            "peak": ("memory.max_usage_in_bytes", "memory.peak"),
            "current": ("memory.usage_in_bytes", "memory.current"),
        }[name]
        long_id = docker("inspect", "--format", "{{.Id}}", self.id)
        for directory in (
            Path(f"/sys/fs/cgroup/memory/docker/{long_id}"),
            Path(f"/sys/fs/cgroup/system.slice/docker-{long_id}.scope"),
            Path(f"/sys/fs/cgroup/docker/{long_id}"),
        ):
            for filename in names:
                if (directory / filename).is_file():
                    return int((directory / filename).read_text())
        raise AssertionError(f"no memory cgroup found for {long_id}")

    def process_memory_mb(self) -> dict[str, int]:
        """The server process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
        status = docker("exec", self.id, "cat", "/proc/1/status")
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {key: round(int(fields[key].split()[0]) * 1024 / 1e6) for key in ("VmRSS", "VmHWM")}

    def remove(self) -> None:
        docker("rm", "-f", self.id, check=False)

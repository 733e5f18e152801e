"""Fixtures: containers of the real image, removed after each test, and the figures they measure."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.container import IMAGE, MEASUREMENTS, Container, baked, docker


@pytest.fixture
def container_factory() -> Iterator:
    made: list[Container] = []

    def make(env: dict[str, str] | None = None, flags: tuple[str, ...] = ()) -> Container:
        made.append(Container(env, flags))
        return made[-1]

    yield make
    for container in made:
        container.remove()


@pytest.fixture(scope="session")
def measurements() -> Iterator[dict]:
    """Figures the container tests measure; printed and written to build/ at the end."""
    figures: dict = {
        "image": IMAGE,
        "model": baked().label,
        "image_size_mb": int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE)) / 1e6,
    }
    yield figures
    MEASUREMENTS.parent.mkdir(exist_ok=True)
    MEASUREMENTS.write_text(json.dumps(figures, indent=2))
    print("\ncontainer measurements:", json.dumps(figures, indent=2))

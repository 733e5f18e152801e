"""The README and docs/ as a reader follows them: every link lands, every command they name exists.

A relative link must name a file that is there (and a heading that is, for #anchors, as GitHub
makes them); every `make <target>` must be a target of the Makefile; every `python -m <module>`
a module that imports from a checkout. The commands themselves run in the tests of what they do
(test_make.py, the suite behind each page).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from function.model.records import record
from harness.processes import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
MAKE = re.compile(r"(?<![\w-])make ([a-z][\w-]*)")
MODULE = re.compile(r"python3? -m ([a-z_][\w.]*)")
# Words after "make" in prose that are not targets.
NOT_TARGETS = {"sure", "it", "them", "the", "target", "targets"}


def _slug(heading: str) -> str:
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    found, fence = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and line.startswith("#"):
            found.add(_slug(line.lstrip("#")))
    return found


def _targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.M))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_lands(page: Path) -> None:
    for target in LINK.findall(page.read_text()):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        landing = (page.parent / path).resolve() if path else page
        assert landing.exists(), f"{page.name}: {target} is not there"
        if anchor:
            assert anchor in _anchors(landing), f"{page.name}: {target}: no such heading in {landing.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_make_target_named_exists(page: Path) -> None:
    named = set(MAKE.findall(page.read_text())) - NOT_TARGETS
    assert named, f"{page.name} names no make target at all: is the pattern still right?"
    assert named <= _targets(), f"{page.name}: not in the Makefile: {sorted(named - _targets())}"


def test_every_python_module_named_exists() -> None:
    named = {module for page in PAGES for module in MODULE.findall(page.read_text())}
    assert "function.prepare.fetch" in named
    missing = sorted(module for module in named if importlib.util.find_spec(module) is None)
    assert missing == []


def test_the_readme_is_a_front_door() -> None:
    """About 250 lines at most; everything else one click away in docs/, and each page linked from it."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in readme, f"the README does not link {page.name}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_no_page_speaks_of_a_machine_or_a_session_the_reader_never_saw(page: Path) -> None:
    """A figure says when and on what CPU it was measured; "this machine" means nothing to a reader."""
    found = re.findall(r"this (?:machine|session)", page.read_text(), flags=re.IGNORECASE)
    assert found == [], f"{page.name}: {len(found)}× {found[:1]}"


def test_the_readme_s_pictures_are_made_by_a_committed_command() -> None:
    readme = (ROOT / "README.md").read_text()
    pictures = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", readme)
    assert set(pictures) == {"docs/tiers.png", "docs/try-it.png"}
    maker = (ROOT / "bench" / "pictures.py").read_text()
    for picture in pictures:
        assert Path(picture).name in maker, f"{picture}: no command makes it"
        assert (ROOT / picture).stat().st_size > 20_000


def _container(service: str) -> dict:
    """The function's container in one of the Knative services, as deployed."""
    document = yaml.safe_load((ROOT / "knative" / service).read_text())
    (container,) = document["spec"]["template"]["spec"]["containers"]
    return document["spec"]["template"]["spec"] | {"container": container}


@pytest.mark.parametrize(("tier", "service"), [("fast", "service-fast.yaml"), ("quality", "service.yaml")])
def test_what_the_pages_say_of_a_tier_s_arena_is_what_its_record_does(tier: str, service: str) -> None:
    """reliability.md said the quality tier ran without the arena, which its record has kept since issue 25."""
    env = {item["name"]: item.get("value") for item in _container(service)["container"]["env"]}
    wrong = "without" if record(env["REMBG_MODEL"]).arena else "with"
    for page in PAGES:
        text = " ".join(page.read_text().split())
        said = re.search(rf"the {tier} tier\W*(\([^)]*\))? runs {wrong} ONNX Runtime's arena", text, flags=re.I)
        assert said is None, f"{page.name}: {said and said.group(0)}"


def test_the_tmp_the_pages_name_is_the_manifests() -> None:
    """What reliability.md says a pod's /tmp is: the Knative services' emptyDir (the node's disk, not memory)."""
    text = " ".join((ROOT / "docs" / "reliability.md").read_text().split())
    named = re.findall(r"(\d+) MiB `emptyDir` at `/tmp`", text)
    assert named, "reliability.md says what /tmp is in a pod"
    for service in ("service.yaml", "service-fast.yaml"):
        spec = _container(service)
        (mount,) = [mount for mount in spec["container"]["volumeMounts"] if mount["mountPath"] == "/tmp"]
        (volume,) = [volume for volume in spec["volumes"] if volume["name"] == mount["name"]]
        assert "medium" not in volume["emptyDir"], "an emptyDir on the node's disk, as the page says"
        assert {f"{size}Mi" for size in named} == {volume["emptyDir"]["sizeLimit"]}, service
        assert spec["container"]["securityContext"]["readOnlyRootFilesystem"] is True

"""CPU quota from cgroup files: v2 cpu.max, v1 cfs quota/period, nesting, and the affinity cap."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from function.process.cpu import cgroup_cpu_limit, parse_cfs, parse_cpu_max, usable_cpus


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("max 100000\n", None), ("200000 100000\n", 2.0), ("150000 100000", 1.5), ("50000 100000", 0.5), ("max", None)],
)
def test_parse_cpu_max(text: str, cpus: float | None) -> None:
    assert parse_cpu_max(text) == cpus


@pytest.mark.parametrize(
    ("quota", "period", "cpus"), [("-1\n", "100000\n", None), ("200000", "100000", 2.0), ("400000", "200000", 2.0)]
)
def test_parse_cfs(quota: str, period: str, cpus: float | None) -> None:
    assert parse_cfs(quota, period) == cpus


def _v2(root: Path, proc: Path, own: str, limits: dict[str, str]) -> None:
    proc.write_text(f"0::{own}\n")
    for relative, text in limits.items():
        directory = root / relative.lstrip("/")
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "cpu.max").write_text(text)


def test_v2_container_view(tmp_path: Path) -> None:
    # Inside a container with its own cgroup namespace: "0::/" and cpu.max at the mount root.
    _v2(tmp_path / "cg", tmp_path / "cgroup", "/", {"/": "200000 100000\n"})
    assert cgroup_cpu_limit(tmp_path / "cg", tmp_path / "cgroup") == 2.0
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=64) == 2


def test_v2_nested_takes_the_tightest_ancestor(tmp_path: Path) -> None:
    own = "/kubepods.slice/pod1/container"
    _v2(
        tmp_path / "cg",
        tmp_path / "cgroup",
        own,
        {"/kubepods.slice": "max 100000", "/kubepods.slice/pod1": "300000 100000", own: "max 100000"},
    )
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=64) == 3


def test_no_limit_uses_the_affinity(tmp_path: Path) -> None:
    _v2(tmp_path / "cg", tmp_path / "cgroup", "/", {"/": "max 100000\n"})
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=5) == 5


def test_affinity_caps_a_larger_quota(tmp_path: Path) -> None:
    _v2(tmp_path / "cg", tmp_path / "cgroup", "/", {"/": "800000 100000\n"})
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=2) == 2


def test_fractional_quota_rounds_down_but_never_below_one(tmp_path: Path) -> None:
    _v2(tmp_path / "cg", tmp_path / "cgroup", "/", {"/": "150000 100000\n"})
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=8) == 1
    (tmp_path / "cg" / "cpu.max").write_text("25000 100000\n")
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=8) == 1


def _v1(root: Path, proc: Path, mount: str, own: str, quota: str) -> None:
    directory = root / mount / own.lstrip("/")
    directory.mkdir(parents=True)
    (directory / "cpu.cfs_quota_us").write_text(quota)
    (directory / "cpu.cfs_period_us").write_text("100000\n")
    proc.write_text(f"12:memory:{own}\n4:cpu,cpuacct:{own}\n1:name=systemd:{own}\n")


def test_v1_cfs_quota(tmp_path: Path) -> None:
    _v1(tmp_path / "cg", tmp_path / "cgroup", "cpu,cpuacct", "/docker/abc", "200000\n")
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=16) == 2


def test_v1_unlimited(tmp_path: Path) -> None:
    _v1(tmp_path / "cg", tmp_path / "cgroup", "cpu", "/", "-1\n")
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=3) == 3


def test_unreadable_files_are_ignored(tmp_path: Path) -> None:
    _v2(tmp_path / "cg", tmp_path / "cgroup", "/", {"/": "garbage here\n"})
    assert usable_cpus(tmp_path / "cg", tmp_path / "cgroup", affinity=4) == 4
    assert usable_cpus(tmp_path / "missing", tmp_path / "missing-proc", affinity=4) == 4


def test_this_machine() -> None:
    assert 1 <= usable_cpus() <= len(os.sched_getaffinity(0))

"""The alert rules, checked and run by promtool (Debian's Prometheus package) on synthetic series."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.processes import ROOT

RULES = ROOT / "monitoring" / "alerts.yml"
CASES = Path(__file__).with_name("alert_cases.yml")
SEVERITIES = {"warning", "critical"}


def _promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: make test installs it (scripts/prometheus.sh)"
    return found


def _alerts() -> dict[str, dict]:
    rules = yaml.safe_load(RULES.read_text())
    return {rule["alert"]: rule for group in rules["groups"] for rule in group["rules"]}


def _rendered(template: str, labels: dict[str, str]) -> str:
    """An annotation as Prometheus renders it for an alert with `labels` ($labels.x only)."""
    text = re.sub(r"\{\{\s*\$labels\.(\w+)\s*\}\}", lambda match: labels.get(match.group(1), ""), template)
    assert "{{" not in text, f"a template the test cannot render: {template}"
    return text


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


@pytest.mark.parametrize("name", sorted(_alerts()))
def test_every_alert_says_what_happened_what_to_do_and_how_bad(name: str) -> None:
    rule = _alerts()[name]
    assert rule["labels"]["severity"] in SEVERITIES
    assert rule["annotations"]["summary"].strip()
    assert len(rule["annotations"]["description"].split()) >= 20, "the description says what to do"


def test_every_alert_fires_and_stays_quiet_where_it_should(tmp_path: Path) -> None:
    alerts = _alerts()
    cases = yaml.safe_load(CASES.read_text())
    seen: dict[str, set[bool]] = {name: set() for name in alerts}
    for case in cases["tests"]:
        for check in case["alert_rule_test"]:
            rule = alerts[check["alertname"]]
            seen[check["alertname"]].add(bool(check["exp_alerts"]))
            for expected in check["exp_alerts"]:
                labels = expected["exp_labels"]
                expected["exp_annotations"] = {
                    key: _rendered(" ".join(value.split()) if key == "description" else value, labels)
                    for key, value in rule["annotations"].items()
                }
    assert all(seen[name] == {True, False} for name in alerts), seen
    cases["rule_files"] = [str(RULES)]
    spec = tmp_path / "alerts_test.yml"
    spec.write_text(yaml.safe_dump(cases, sort_keys=False))
    result = subprocess.run([_promtool(), "test", "rules", str(spec)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]

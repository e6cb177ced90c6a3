"""deploy/prometheus and the k8s scrape config, checked with Debian's promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.deploy.conftest import DEPLOY


def _promtool(promtool: Path, *args: str | Path) -> str:
    done = subprocess.run(
        [str(promtool), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_compose_prometheus_config_is_valid(promtool: Path) -> None:
    out = _promtool(promtool, "check", "config", DEPLOY / "prometheus" / "prometheus.yml")
    assert "1 rule files found" in out


def test_kubernetes_scrape_config_is_valid_with_the_rules_mounted_beside_it(
    promtool: Path, tmp_path: Path
) -> None:
    shutil.copy(DEPLOY / "k8s" / "prometheus-scrape.yml", tmp_path)
    shutil.copy(DEPLOY / "prometheus" / "alerts.yml", tmp_path)
    _promtool(promtool, "check", "config", tmp_path / "prometheus-scrape.yml")


def test_rules_are_valid(promtool: Path, alert_rules: list[dict[str, Any]]) -> None:
    out = _promtool(promtool, "check", "rules", DEPLOY / "prometheus" / "alerts.yml")
    assert f"{len(alert_rules)} rules found" in out


def test_rule_unit_tests_pass_and_cover_every_alert(
    promtool: Path, alert_rules: list[dict[str, Any]]
) -> None:
    _promtool(promtool, "test", "rules", DEPLOY / "prometheus" / "alerts_test.yml")
    tested = (DEPLOY / "prometheus" / "alerts_test.yml").read_text()
    untested = [r["alert"] for r in alert_rules if "alert" in r and r["alert"] not in tested]
    assert not untested


def test_the_operator_asks_for_each_alert_the_issue_names(
    alert_rules: list[dict[str, Any]],
) -> None:
    """A router down, lag growing, dead letters rising, overdue deliveries, p99 over target."""
    exprs = " ".join(r["expr"] for r in alert_rules)
    for series in [
        'up{job="docbus-router"}',
        "docbus_consumer_lag",
        "docbus_dead_letters_total",
        "docbus_overdue_deliveries",
        "docbus_delivery_latency_seconds_bucket",
    ]:
        assert series in exprs

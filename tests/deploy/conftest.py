"""What the deploy tests share: the deploy folder and its files, read once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    """Every YAML document in ``path`` (a multi-document manifest or a single file)."""
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


@pytest.fixture(scope="session")
def alert_rules() -> list[dict[str, Any]]:
    """Every rule of deploy/prometheus/alerts.yml (recording and alerting)."""
    groups = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


@pytest.fixture(scope="session")
def dashboard() -> dict[str, Any]:
    """The provisioned Grafana dashboard."""
    return json.loads((DEPLOY / "grafana" / "dashboards" / "docbus.json").read_text())

"""deploy/docker-compose.yml: accepted by Debian's docker-compose, and consistent with docbus."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from docbus import ENV_PREFIX, Settings
from tests.debian import require_debian_tool
from tests.deploy.conftest import DEPLOY

SETTINGS_VARIABLES = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The file as docker-compose resolves it (anchors and merges applied)."""
    tool = require_debian_tool("docker-compose", "docker-compose")
    file = DEPLOY / "docker-compose.yml"
    check = subprocess.run(
        [str(tool), "-f", str(file), "config", "-q"], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr
    resolved = subprocess.run(
        [str(tool), "-f", str(file), "config"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return dict(yaml.safe_load(resolved.stdout))


def test_three_kraft_brokers_and_two_routers_in_one_group(compose: dict[str, Any]) -> None:
    services = compose["services"]
    brokers = [s for s in services.values() if str(s.get("image", "")).startswith("apache/kafka")]
    assert len(brokers) == 3
    voters = {b["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for b in brokers}
    assert len(voters) == 1 and voters.pop().count("@") == 3
    assert {str(b["environment"]["KAFKA_NODE_ID"]) for b in brokers} == {"1", "2", "3"}
    routers = [s for s in services.values() if s.get("command", [None])[0] == "router"]
    assert len(routers) == 2
    # One group: same prefix, no --group-id, one shared tracking store.
    assert all("--group-id" not in r["command"] for r in routers)
    assert len({r["environment"]["DOCBUS_TOPIC_PREFIX"] for r in routers}) == 1
    assert len({r["environment"]["DOCBUS_TRACKING_DSN"] for r in routers}) == 1
    commands = [s.get("command") for s in services.values()]
    assert ["directory", "publish"] in commands and ["topics", "ensure"] in commands


def test_every_docbus_variable_is_a_setting(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith(ENV_PREFIX):
                assert variable in SETTINGS_VARIABLES, f"{name}: {variable} is no setting"


def test_prometheus_scrapes_both_routers_on_their_metrics_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    routers = {n: s for n, s in services.items() if s.get("command", [None])[0] == "router"}
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "docbus-router"]
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    assert targets == {f"{n}:{s['environment']['DOCBUS_METRICS_PORT']}" for n, s in routers.items()}
    assert all(s["environment"]["DOCBUS_METRICS_HOST"] == "0.0.0.0" for s in routers.values())
    mounts = [v.split(":") for v in services["prometheus"]["volumes"]]
    assert [str(DEPLOY / "prometheus"), "/etc/prometheus", "ro"] in mounts


def test_the_gateway_is_published_scraped_and_keeps_its_tokens(compose: dict[str, Any]) -> None:
    """The gateway's API port is published, Prometheus scrapes its metrics port as job
    docbus-gateway, and its docbus home (tokens, blobs) is a volume."""
    gateway = compose["services"]["gateway"]
    assert gateway["command"][:1] == ["gateway"]
    port = gateway["command"][gateway["command"].index("--port") + 1]
    assert [p["target"] for p in gateway["ports"]] == [int(port)]
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "docbus-gateway"]
    (target,) = [t for group in job["static_configs"] for t in group["targets"]]
    assert target == f"gateway:{gateway['environment']['DOCBUS_METRICS_PORT']}"
    home = gateway["environment"]["DOCBUS_HOME"]
    assert [home.join(("gateway:", ":rw"))] == [v for v in gateway["volumes"] if home in v]
    assert "gateway" in compose["volumes"]


def test_grafana_gets_the_datasource_and_dashboard_it_is_given(
    compose: dict[str, Any], dashboard: dict[str, Any]
) -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    uids = {d["uid"] for d in datasource["datasources"]}
    used = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]}
    assert used == uids
    provider = yaml.safe_load((provisioning / "dashboards" / "docbus.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"]["grafana"]["volumes"]}
    assert mounts[path] == str(DEPLOY / "grafana" / "dashboards")


def test_the_image_builds_from_files_that_exist(compose: dict[str, Any]) -> None:
    build = compose["services"]["router-1"]["build"]
    context = Path(build["context"])
    dockerfile = context / build["dockerfile"]
    copied = [
        line.split()[1]
        for line in dockerfile.read_text().splitlines()
        if line.startswith("COPY ") and "--from" not in line
    ]
    assert copied and all((context / c).exists() for c in copied)


def test_routers_sign_with_the_bus_key_made_before_them(compose: dict[str, Any]) -> None:
    """The keys job makes the bus's key (once) in a volume the publisher and routers mount."""
    services = compose["services"]
    assert services["keys"]["command"][:4] == ["keys", "generate", "--agency", "docbus"]
    keys_dir = services["router-1"]["environment"]["DOCBUS_KEYS_DIR"]
    for name in ("keys", "directory-publisher", "router-1", "router-2"):
        mounts = {
            v["target"] if isinstance(v, dict) else v.split(":")[1]: v
            for v in services[name]["volumes"]
        }
        assert keys_dir in mounts, name
    assert "keys" in services["directory-publisher"]["depends_on"]

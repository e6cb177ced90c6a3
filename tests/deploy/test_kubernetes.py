"""deploy/k8s: core objects valid against Kubernetes' schemas, and consistent with docbus."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
import sys
from typing import Any

import kubernetes_validate
import pytest
from prometheus_client import CollectorRegistry

from docbus import ENV_PREFIX, MetricsServer, Settings
from docbus.directory import Directory
from schemas import TopicLayout
from tests.deploy.conftest import DEPLOY, load_yaml_documents
from tests.helpers import G22

KUBERNETES = "1.30.0"
RFC_1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
CUSTOM_GROUPS = ("kafka.strimzi.io/", "monitoring.coreos.com/")


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    return [d for f in sorted((DEPLOY / "k8s").glob("*.yaml")) for d in load_yaml_documents(f)]


def _one(manifests: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [m for m in manifests if m["kind"] == kind and name in (None, m["metadata"]["name"])]
    return found


def test_core_objects_are_valid_kubernetes(manifests: list[dict[str, Any]]) -> None:
    core = [m for m in manifests if not m["apiVersion"].startswith(CUSTOM_GROUPS)]
    assert {m["kind"] for m in core} >= {"Deployment", "Service", "ConfigMap", "Job", "Secret"}
    for manifest in core:
        kubernetes_validate.validate(manifest, KUBERNETES, strict=True)


def test_strimzi_cluster_topics_and_bootstrap_agree(manifests: list[dict[str, Any]]) -> None:
    kafka = _one(manifests, "Kafka")
    cluster = kafka["metadata"]["name"]
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    pool = _one(manifests, "KafkaNodePool")
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    assert config["DOCBUS_BOOTSTRAP_SERVERS"].startswith(f"{cluster}-kafka-bootstrap.")
    port = int(config["DOCBUS_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    assert port in {listener["port"] for listener in kafka["spec"]["kafka"]["listeners"]}
    layout = TopicLayout(config["DOCBUS_TOPIC_PREFIX"])
    topics = {
        m["spec"]["topicName"]: m
        for m in manifests
        if m["kind"] == "KafkaTopic" and m["metadata"]["labels"]["strimzi.io/cluster"] == cluster
    }
    assert set(topics) == set(layout.agency_topics(Directory.load().codes()))
    assert topics[layout.directory]["spec"]["config"]["cleanup.policy"] == "compact"
    for name, topic in topics.items():
        assert RFC_1123_SUBDOMAIN.fullmatch(topic["metadata"]["name"]), name
        assert topic["spec"]["replicas"] == pool["spec"]["replicas"]
        assert topic["spec"]["partitions"] == (
            1
            if name in (layout.directory, layout.doorbell, layout.inbox_doorbell)
            else int(config["DOCBUS_PARTITIONS"])
        )


@pytest.mark.parametrize(
    ("committed", "command"), [("topics.yaml", "manifest"), ("users.yaml", "acls")]
)
def test_the_committed_manifests_are_what_the_directory_generates(
    committed: str, command: str
) -> None:
    """deploy/k8s/topics.yaml and users.yaml are `docbus topics manifest|acls` output for
    the packaged directory (regenerate them after a directory change)."""
    run = subprocess.run(
        [sys.executable, "-m", "shell.cli", "topics", command],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert run.stdout == (DEPLOY / "k8s" / committed).read_text()


def test_every_docbus_variable_is_a_setting(manifests: list[dict[str, Any]]) -> None:
    known = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    Settings.from_env(config)  # the values parse too
    deployment = _one(manifests, "Deployment", "docbus-router")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    names = set(config) | {e["name"] for e in container.get("env", [])}
    assert names <= known


def test_router_probes_scrape_and_limits(manifests: list[dict[str, Any]]) -> None:
    deployment = _one(manifests, "Deployment", "docbus-router")
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    (port,) = container["ports"]
    assert port["containerPort"] == int(config["DOCBUS_METRICS_PORT"])
    assert config["DOCBUS_METRICS_HOST"] == "0.0.0.0"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == port["name"]
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port["containerPort"])
    monitor = _one(manifests, "PodMonitor", "docbus-router")
    assert (
        monitor["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    )
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == port["name"]


async def test_the_probe_paths_are_the_ones_the_router_serves(
    manifests: list[dict[str, Any]],
) -> None:
    (container,) = _one(manifests, "Deployment", "docbus-router")["spec"]["template"]["spec"][
        "containers"
    ]
    paths = {container[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe")}
    async with MetricsServer(CollectorRegistry(), port=0) as server:
        for path in paths:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())  # as kubelet
            status = (await reader.readline()).decode()
            writer.close()
            assert status.startswith("HTTP/1.1 200"), (path, status)


def _topic_acls(user: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    return {
        (acl["resource"]["name"], acl["resource"]["patternType"]): set(acl["operations"])
        for acl in user["spec"]["authorization"]["acls"]
        if acl["resource"]["type"] == "topic"
    }


def test_an_agency_writes_only_its_outbox_and_reads_only_its_inbox(
    manifests: list[dict[str, Any]],
) -> None:
    """Least privilege: for every agency, exactly its own outbox (write), its own inbox
    (read), the directory (read: the public keys), the doorbell (write: rings carry no
    content), and its own receiver group."""
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    layout = TopicLayout(config["DOCBUS_TOPIC_PREFIX"])
    users = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "KafkaUser"}
    settings = Settings(topic_prefix=layout.prefix)
    for agency in Directory.load():
        user = users[f"agency-{agency.code.lower()}"]
        assert user["spec"]["authentication"]["type"] == "scram-sha-512"
        assert _topic_acls(user) == {
            (layout.outbox(agency.code), "literal"): {"Write", "Describe"},
            (layout.inbox(agency.code), "literal"): {"Read", "Describe"},
            (layout.directory, "literal"): {"Read", "Describe"},
            (layout.doorbell, "literal"): {"Write", "Describe"},
        }
        groups = [
            a["resource"]["name"]
            for a in user["spec"]["authorization"]["acls"]
            if a["resource"]["type"] == "group"
        ]
        assert groups == [settings.group_id(f"receiver.{agency.code}")]


def test_the_router_user_covers_what_the_router_does(manifests: list[dict[str, Any]]) -> None:
    """The router: read every outbox in both lanes' groups and the doorbell, write every
    inbox, the inbox doorbell and the dead letters, over mutual TLS on a listener that
    asks for it."""
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    layout = TopicLayout(config["DOCBUS_TOPIC_PREFIX"])
    router = _one(manifests, "KafkaUser", "docbus-router")
    acls = _topic_acls(router)
    assert acls[(f"{layout.prefix}.outbox.", "prefix")] >= {"Read"}
    assert acls[(f"{layout.prefix}.inbox.", "prefix")] >= {"Write"}
    assert acls[(layout.deadletter, "literal")] >= {"Write"}
    assert acls[(layout.doorbell, "literal")] == {"Read", "Describe"}
    assert acls[(layout.inbox_doorbell, "literal")] == {"Write", "Describe"}
    (group,) = [
        a["resource"]
        for a in router["spec"]["authorization"]["acls"]
        if a["resource"]["type"] == "group"
    ]
    settings = Settings(topic_prefix=layout.prefix)
    for lane_group in (settings.group_id("router"), settings.group_id("router-express")):
        assert group["patternType"] == "prefix" and lane_group.startswith(group["name"])
    kafka = _one(manifests, "Kafka")
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    port = int(config["DOCBUS_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    (listener,) = [lst for lst in kafka["spec"]["kafka"]["listeners"] if lst["port"] == port]
    assert listener["tls"] and listener["authentication"]["type"] == "tls"
    assert config["DOCBUS_SECURITY_PROTOCOL"] == "SSL"
    assert router["spec"]["authentication"]["type"] == "tls"
    deployment = _one(manifests, "Deployment", "docbus-router")
    secrets = {
        v["secret"]["secretName"]
        for v in deployment["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    }
    assert {
        "docbus-router",
        "docbus-keys",
        f"{kafka['metadata']['name']}-cluster-ca-cert",
    } <= secrets


def test_the_gateway_is_served_probed_scraped_and_keeps_its_tokens(
    manifests: list[dict[str, Any]],
) -> None:
    """One gateway pod (its tokens are SQLite on a volume), probed on its metrics port,
    scraped as job docbus-gateway, its API behind a Service."""
    deployment = _one(manifests, "Deployment", "docbus-gateway")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["args"][0] == "gateway"
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env["DOCBUS_METRICS_PORT"]) == ports["metrics"]
    assert str(ports["http"]) == container["args"][container["args"].index("--port") + 1]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    for probe in ("livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    (state,) = [m for m in container["volumeMounts"] if m["name"] == "state"]
    assert state["mountPath"] == config["DOCBUS_HOME"]
    (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "state"]
    claim = _one(manifests, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    service = _one(manifests, "Service", "docbus-gateway")
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    monitor = _one(manifests, "PodMonitor", "docbus-gateway")
    assert monitor["spec"]["podMetricsEndpoints"][0]["relabelings"][0]["replacement"] == (
        "docbus-gateway"
    )


def test_the_gateway_user_sends_and_receives_for_agencies(
    manifests: list[dict[str, Any]],
) -> None:
    """The gateway writes outboxes and rings the doorbell, reads inboxes (in the agencies'
    receiver groups), reads the dead letters for the console, and writes nothing else."""
    config = _one(manifests, "ConfigMap", "docbus")["data"]
    layout = TopicLayout(config["DOCBUS_TOPIC_PREFIX"])
    user = _one(manifests, "KafkaUser", "docbus-gateway")
    acls = _topic_acls(user)
    assert acls[(f"{layout.prefix}.outbox.", "prefix")] == {"Write", "Describe"}
    assert acls[(f"{layout.prefix}.inbox.", "prefix")] == {"Read", "Describe"}
    assert acls[(layout.deadletter, "literal")] == {"Read", "Describe"}
    writes = {name for (name, _), ops in acls.items() if "Write" in ops}
    assert writes == {f"{layout.prefix}.outbox.", layout.doorbell}
    settings = Settings(topic_prefix=layout.prefix)
    groups = {
        a["resource"]["name"]: set(a["operations"])
        for a in user["spec"]["authorization"]["acls"]
        if a["resource"]["type"] == "group"
    }
    assert settings.group_id(f"receiver.{G22}").startswith(f"{layout.prefix}-receiver.")
    assert groups[f"{layout.prefix}-receiver."] == {"Read"}

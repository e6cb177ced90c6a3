"""A real Prometheus server scrapes a router carrying traffic and a gateway; the dashboard
and alerts query it.

Prometheus (Debian's package) is started by the test on 127.0.0.1 with the repository's
alert rules, scraping the router and the gateway every second, plus one target where
nothing listens (a router that is down). Traffic comes in two waves, so rates and increases have a before.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumers import Receiver
from docbus import MetricsServer, Settings
from producers import Sender
from router import Router
from schemas import Priority, TopicLayout
from shell import free_port
from shell.gateway import GatewayMetrics, TokenStore
from tests.deploy.conftest import DEPLOY
from tests.helpers import (
    G12,
    G22,
    H29,
    accept_all,
    ensure_topics,
    eventually,
    in_background,
    letter,
    produce_raw,
)
from tests.shell.gateway_support import bearer, curl, serving

pytestmark = pytest.mark.slow

#: Alerts this traffic must raise, and those it must not.
EXPECTED_ALERTS = {
    "DocbusRouterDown",  # the target where nothing listens
    "DocbusDeadLettersRising",  # 13 junk records
    "DocbusOverdueDeliveries",  # G12 never answers a week-old letter
    "DocbusExpressLatencyHigh",  # an express document sent 20 s before it reached the bus
    "DocbusDeliveryLatencyHigh",  # the week-old letter
}
QUIET_ALERTS = {
    "DocbusNoRouterUp",
    "DocbusConsumerLagGrowing",
    "DocbusGatewayDown",
    "DocbusGatewayErrors",
    "DocbusGatewaySlow",
}


class PrometheusApi:
    """The HTTP API of a Prometheus server."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar) of ``expr``; a PromQL error fails the test."""
        try:
            data = self.get("/api/v1/query", query=expr)
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"{expr!r}: {exc.read().decode()}") from exc
        return data["result"] if data["resultType"] == "vector" else [data["result"]]

    def value(self, expr: str) -> float | None:
        """The single value of ``expr``, or None when it has no data."""
        result = self.query(expr)
        return float(result[0]["value"][1]) if result else None


@contextlib.contextmanager
def prometheus_server(
    binary: Path, tmp_path: Path, jobs: dict[str, list[str]]
) -> Iterator[PrometheusApi]:
    """Prometheus on 127.0.0.1 scraping each job's targets every second with deploy/'s rules."""
    shutil.copy(DEPLOY / "prometheus" / "alerts.yml", tmp_path)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": targets}]}
            for job, targets in jobs.items()
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            str(binary),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = PrometheusApi(f"http://127.0.0.1:{port}")
    try:
        yield api
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _ready(api: PrometheusApi) -> bool:
    try:
        with urllib.request.urlopen(f"{api.url}/-/ready", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def selector(name: str, **labels: str) -> str:
    """A PromQL series selector: ``name{label="value",...}``."""
    matchers = ",".join(f"{k}={json.dumps(v)}" for k, v in labels.items())
    return f"{name}{{{matchers}}}"


def _grafana_expr(expr: str) -> str:
    """The expression as Grafana sends it: its interval variable replaced."""
    return expr.replace("$__rate_interval", "1m")


async def test_prometheus_sees_the_traffic_and_every_dashboard_and_alert_query_works(
    settings: Settings,
    prometheus_bin: Path,
    tmp_path: Path,
    dashboard: dict[str, Any],
    alert_rules: list[dict[str, Any]],
) -> None:
    layout: TopicLayout = await ensure_topics(settings, [G22, H29, G12])
    tokens = TokenStore(tmp_path / "tokens.sqlite")
    token = tokens.issue(G22)
    metrics = GatewayMetrics()
    gateway_metrics = MetricsServer(metrics.registry, port=0)
    router = Router(
        settings=settings.replace(metrics_port=0), lag_interval_s=0.5, overdue_interval_s=0.5
    )
    async with (
        router,
        Sender(agency=G22, settings=settings) as sender,
        Receiver(agency=G22, settings=settings) as g22,
        Receiver(agency=H29, settings=settings) as h29,
        in_background(accept_all(g22)),  # the sender's inbox: notices, read so none lag
        in_background(accept_all(h29)),
        gateway_metrics,
        serving(settings, tokens, metrics=metrics) as gateway,
    ):
        assert router.metrics_url is not None
        router_target = router.metrics_url.removeprefix("http://").removesuffix("/metrics")
        down_target = f"127.0.0.1:{free_port()}"
        gateway_target = f"127.0.0.1:{gateway_metrics.port}"
        jobs = {"docbus-router": [router_target, down_target], "docbus-gateway": [gateway_target]}
        with prometheus_server(prometheus_bin, tmp_path, jobs) as api:
            await eventually(lambda: _ready(api), timeout_s=60)
            # An agency's system reads the directory and asks for a document it does not have.
            for _ in range(3):
                assert (await curl(f"{gateway}/v1/agencies", *bearer(token))).status == 200
            assert (await curl(f"{gateway}/v1/documents/nope", *bearer(token))).status == 404
            # Wave 1: ordinary mail, express mail, one junk record.
            for number in range(1, 21):
                await sender.send(letter(G22, (H29,), number=number))
            for number in range(21, 24):
                await sender.send(letter(G22, (H29, G12), number=number, priority=Priority.EXPRESS))
            await produce_raw(settings, layout.outbox(G22), [b"junk"])
            await eventually(
                lambda: api.value("sum(docbus_documents_routed_total)") == 23, timeout_s=60
            )
            await asyncio.sleep(2)  # a few scrapes of the first wave
            # Wave 2: a late express document, a week-old letter G12 never answers, junk.
            late = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=20)
            await sender.send(
                letter(G22, (H29,), number=24, priority=Priority.EXPRESS, sent_at=late)
            )
            week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
            await sender.send(letter(G22, (G12,), number=25, sent_at=week_ago))
            await produce_raw(settings, layout.outbox(G22), [b"junk"] * 12)

            def settled() -> bool:
                return (
                    api.value("sum(docbus_documents_routed_total)") == 25
                    and api.value('sum(docbus_status_notices_total{status_code="03"})') == 24
                    and api.value("sum(docbus_overdue_deliveries)") == 1
                    and api.value("sum(docbus_consumer_lag)") == 0
                    and api.value('docbus_delivery_latency_seconds_count{priority="3"}') == 4
                )

            await eventually(settled, timeout_s=60)

            # The series exist with the values the traffic implies.
            assert api.value(f"sum({selector('docbus_deliveries_total', recipient=H29)})") == 24
            assert api.value(f"sum({selector('docbus_deliveries_total', recipient=G12)})") == 4
            assert api.value('sum(docbus_deliveries_total{priority="3"})') == 7
            assert api.value('docbus_dead_letters_total{reason="bad_marker"}') == 13
            assert api.value('docbus_status_notices_total{status_code="01"}') == 24
            assert api.value(selector("docbus_overdue_deliveries", recipient=G12)) == 1
            # 25 documents, 13 junk, and a record for each of H29's 24 deliveries: 01 and 03
            assert api.value("docbus_routing_latency_seconds_count") == 25 + 24 + 13
            assert api.value("docbus_in_flight_records") == 0
            version = router.directory_version
            assert api.value(selector("docbus_directory_info", version=version)) == 1
            assert api.value('docbus_build_info{component="router"}') == 1
            assert api.value(selector("up", instance=router_target)) == 1
            assert api.value(selector("up", instance=down_target)) == 0
            for target in (router_target, gateway_target):  # each service's own process
                assert (api.value(selector("process_cpu_seconds_total", instance=target)) or 0) > 0
                assert api.query(selector("python_gc_collections_total", instance=target))
            assert api.value('sum(docbus_gateway_requests_total{route="/v1/agencies"})') == 3
            assert api.value('docbus_gateway_requests_total{code="404"}') == 1
            labels = api.get("/api/v1/labels")
            assert "document_id" not in labels

            # Every dashboard query parses and has data.
            for panel in dashboard["panels"]:
                for target in panel["targets"]:
                    expr = _grafana_expr(target["expr"])
                    assert api.query(expr), f"panel {panel['title']!r}: no data for {expr}"

            # Every rule is loaded and healthy; every alert expression parses and runs.
            groups = api.get("/api/v1/rules")["groups"]
            loaded = {r["name"]: r for g in groups for r in g["rules"]}
            assert set(loaded) == {r.get("alert") or r["record"] for r in alert_rules}
            assert all(r["health"] == "ok" for r in loaded.values()), loaded
            for rule in alert_rules:
                if "alert" not in rule:
                    continue
                expr = rule["expr"]
                if rule["alert"] in EXPECTED_ALERTS:  # rules are evaluated a second behind
                    await eventually(lambda expr=expr: api.query(expr), timeout_s=15)
                else:
                    assert api.query(expr) == [], rule["alert"]

            def active() -> set[str]:
                alerts = api.get("/api/v1/alerts")["alerts"]
                return {a["labels"]["alertname"] for a in alerts}

            assert await eventually(lambda: active() >= EXPECTED_ALERTS, timeout_s=30)
            assert not active() & QUIET_ALERTS

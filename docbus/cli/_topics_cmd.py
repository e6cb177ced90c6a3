"""``docbus topics ensure``: create every topic the bus needs that is missing."""

from __future__ import annotations

from typing import Any

import click

from docbus._runtime import bus_settings
from docbus.cli._common import bus_options, emit_json, run_async, settings_from
from router._manifest import strimzi_topics
from router._topics import ensure_bus_topics
from router.directory import Directory


@click.group()
def topics() -> None:
    """Manage the bus's topics."""


@topics.command()
@bus_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ensure(as_json: bool, **flags: Any) -> None:
    """Create each agency's outbox and inbox, the dead-letter and directory topics, where missing."""
    settings = settings_from(**flags)

    async def main() -> tuple[list[str], int]:
        async with bus_settings(settings) as (live, _):
            return await ensure_bus_topics(live, Directory.load())

    created, total = run_async(main())
    if as_json:
        emit_json({"created": created, "topics": total})
    else:
        click.echo(f"{len(created)} topics created, {total - len(created)} already present")


@topics.command()
@click.option("--topic-prefix", default="docbus", show_default=True, help="Topic prefix.")
@click.option("--cluster", default="docbus", show_default=True, help="Strimzi Kafka name.")
@click.option("--namespace", default="docbus", show_default=True, help="Kubernetes namespace.")
@click.option("--partitions", type=int, default=6, show_default=True, help="Per agency topic.")
@click.option("--replicas", type=int, default=3, show_default=True, help="Replication factor.")
def manifest(
    topic_prefix: str, cluster: str, namespace: str, partitions: int, replicas: int
) -> None:
    """Print every topic of the directory as a Strimzi KafkaTopic manifest (YAML)."""
    click.echo(
        strimzi_topics(
            Directory.load(),
            prefix=topic_prefix,
            cluster=cluster,
            namespace=namespace,
            partitions=partitions,
            replicas=replicas,
        ),
        nl=False,
    )

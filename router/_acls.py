"""Who may touch which topic: the bus's ACLs, as Strimzi ``KafkaUser`` resources or as
``kafka-acls.sh`` commands for a cluster run by hand.

Least privilege, one principal per role:

- an agency (``agency-<code>``) writes only its own outbox and reads only its own inbox,
  in its own receiver group; it reads the directory topic (the public keys);
- the router (``docbus-router``) reads every outbox in its two groups, writes every inbox
  and the dead-letter topic, and reads the directory;
- the operator (``docbus-operator``) creates the topics and publishes the directory;
- the HTTP gateway (``docbus-gateway``) sends and receives for the agencies it serves:
  it writes every outbox and reads every inbox in the agencies' receiver groups, and for
  the operators' console reads the dead letters and the routers' committed offsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas import TopicLayout

__all__ = ["Acl", "Principal", "bus_principals", "kafka_acls_script", "strimzi_users"]

ROUTER_USER = "docbus-router"
OPERATOR_USER = "docbus-operator"
GATEWAY_USER = "docbus-gateway"


@dataclass(frozen=True, slots=True)
class Acl:
    """Operations allowed on one resource (``topic``, ``group`` or ``cluster``)."""

    resource: str
    name: str
    operations: tuple[str, ...]
    pattern: str = "literal"


@dataclass(frozen=True, slots=True)
class Principal:
    """A user of the cluster, how it authenticates, and its ACLs."""

    name: str
    authentication: str
    acls: tuple[Acl, ...]


def agency_user(code: str) -> str:
    """The Kafka user name of agency ``code`` (Kubernetes names are lowercase)."""
    return f"agency-{code.lower()}"


def bus_principals(
    layout: TopicLayout, agencies: Iterable[str], *, agency_authentication: str
) -> list[Principal]:
    """The router, the operator, the gateway, and one principal for each of ``agencies``."""
    prefix = layout.prefix
    read = ("Read", "Describe")
    write = ("Write", "Describe")
    router = Principal(
        ROUTER_USER,
        "tls",
        (
            Acl("topic", f"{prefix}.outbox.", read, "prefix"),
            Acl("topic", f"{prefix}.inbox.", write, "prefix"),
            Acl("topic", layout.deadletter, write),
            Acl("topic", layout.directory, read),
            Acl("topic", layout.doorbell, read),
            Acl("topic", layout.inbox_doorbell, write),
            Acl("group", f"{prefix}-router", ("Read",), "prefix"),  # both lanes' groups
            Acl("cluster", "kafka-cluster", ("IdempotentWrite",)),
        ),
    )
    operator = Principal(
        OPERATOR_USER,
        "tls",
        (
            Acl(
                "topic", f"{prefix}.", ("Create", "Describe", "DescribeConfigs", "Write"), "prefix"
            ),
            Acl("cluster", "kafka-cluster", ("Describe",)),
        ),
    )
    gateway = Principal(
        GATEWAY_USER,
        "tls",
        (
            Acl("topic", f"{prefix}.outbox.", write, "prefix"),
            Acl("topic", layout.doorbell, write),
            Acl("topic", f"{prefix}.inbox.", read, "prefix"),
            Acl("topic", layout.deadletter, read),
            Acl("topic", layout.directory, read),
            Acl("group", f"{prefix}-receiver.", ("Read",), "prefix"),
            Acl("group", f"{prefix}-router", ("Describe",), "prefix"),  # the console's lag
            Acl("cluster", "kafka-cluster", ("IdempotentWrite",)),
        ),
    )
    principals = [router, operator, gateway]
    for code in sorted(set(agencies)):
        principals.append(
            Principal(
                agency_user(code),
                agency_authentication,
                (
                    Acl("topic", layout.outbox(code), write),
                    Acl("topic", layout.doorbell, write),
                    Acl("topic", layout.inbox(code), read),
                    Acl("topic", layout.directory, read),
                    Acl("group", f"{prefix}-receiver.{code}", ("Read",)),
                    Acl("cluster", "kafka-cluster", ("IdempotentWrite",)),
                ),
            )
        )
    return principals


def strimzi_users(principals: Iterable[Principal], *, cluster: str, namespace: str) -> str:
    """A multi-document YAML manifest: one ``KafkaUser`` per principal with its ACLs."""
    documents = []
    for principal in principals:
        lines = [
            "apiVersion: kafka.strimzi.io/v1beta2",
            "kind: KafkaUser",
            "metadata:",
            f"  name: {principal.name.lower()}",
            f"  namespace: {namespace}",
            "  labels:",
            f"    strimzi.io/cluster: {cluster}",
            "spec:",
            "  authentication:",
            f"    type: {principal.authentication}",
            "  authorization:",
            "    type: simple",
            "    acls:",
        ]
        for acl in principal.acls:
            if acl.resource == "cluster":
                lines.append("      - resource: {type: cluster}")
            else:
                lines.append(
                    f"      - resource: {{type: {acl.resource}, name: {acl.name}, "
                    f"patternType: {acl.pattern}}}"
                )
            lines.append(f"        operations: [{', '.join(acl.operations)}]")
        documents.append("\n".join(lines) + "\n")
    return "---\n".join(documents)


def kafka_acls_script(principals: Iterable[Principal], *, bootstrap: str) -> str:
    """The same ACLs as ``kafka-acls.sh`` commands (for a cluster without Strimzi)."""
    lines = [
        "#!/bin/sh",
        "# docbus ACLs: run with an admin's client config (KAFKA_ADMIN_CONFIG).",
        "set -eu",
        f'BOOTSTRAP="${{BOOTSTRAP:-{bootstrap}}}"',
        'CONFIG="${KAFKA_ADMIN_CONFIG:-admin.properties}"',
    ]
    for principal in principals:
        for acl in principal.acls:
            resource = {
                "topic": f"--topic '{acl.name}'",
                "group": f"--group '{acl.name}'",
                "cluster": "--cluster",
            }[acl.resource]
            operations = " ".join(f"--operation {op}" for op in acl.operations)
            pattern = " --resource-pattern-type prefixed" if acl.pattern == "prefix" else ""
            lines.append(
                f'kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CONFIG" '
                f"--add --allow-principal 'User:{principal.name}' {operations} "
                f"{resource}{pattern}"
            )
    return "\n".join(lines) + "\n"

"""One settings object for every docbus part, read from ``DOCBUS_*`` variables or flags."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from docbus._exceptions import ConfigurationError

__all__ = ["BROKER_DEFAULTS", "ENV_PREFIX", "Settings", "default_home"]

ENV_PREFIX = "DOCBUS_"

_COMPRESSIONS = {"none", "gzip", "snappy", "lz4", "zstd"}
_PROTOCOLS = {"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}
_SASL_MECHANISMS = {"SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}

#: The knobs whose default depends on the broker, and their defaults by ``broker_kind``:
#: the one place they are resolved. Tansu refuses InitProducerId (so no idempotence),
#: holds a group join for half the session timeout, looks again at a waiting fetch only
#: after half its wait, and rereads every fetched partition while it holds a fetch for
#: bytes (BENCHMARKS.md, "What a fetch costs the embedded broker").
BROKER_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "cluster": {
        "partitions": 3,
        "enable_idempotence": True,
        "session_timeout_ms": 10_000,
        "fetch_max_wait_ms": 500,
        "bulk_fetch_min_bytes": 1024 * 1024,
        # A cluster's fetch sessions make idle partitions cheap: the express lane polls.
        "express_sweep_ms": 0,
    },
    "embedded": {
        # The express lane and one bulk partition: Tansu's fetch costs it per partition
        # asked for, and one process serves every outbox or inbox anyway (BENCHMARKS.md).
        "partitions": 2,
        "enable_idempotence": False,
        "session_timeout_ms": 3_000,
        # The express lanes' wait: Tansu answers a held fetch after about half of it, so it
        # is their latency; each empty fetch costs it ~1 ms of CPU. 100 ms against 50: a
        # replay's CPU a document 0.91, its express p99 115 ms against 76 (BENCHMARKS.md).
        "fetch_max_wait_ms": 100,
        "bulk_fetch_min_bytes": 1,
        # Tansu's fetch costs it per partition asked for, idle or not: the router's
        # express lane fetches only what senders' rings name, and every outbox's express
        # partition once a second for what no ring named (schemas._doorbell).
        "express_sweep_ms": 1000,
    },
}

#: The default of a knob of BROKER_DEFAULTS: "the broker kind's value" (``None`` given
#: explicitly means the same). Typed Any so the fields keep their resolved types.
_BROKER_DEFAULT: Any = None


def default_home() -> Path:
    """The user's data folder for docbus, by the platform's convention (XDG on Linux)."""
    return Path(platformdirs.user_data_dir("docbus", appauthor=False))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Connection, topic and behaviour settings shared by senders, receivers and routers.

    ``bootstrap_servers`` of ``None`` means "start an embedded broker for this run".
    ``broker_kind`` (``cluster`` or ``embedded``) says what the bootstrap servers are; the
    knobs of :data:`BROKER_DEFAULTS` (``partitions``, ``enable_idempotence``,
    ``session_timeout_ms``, ``fetch_max_wait_ms``, ``bulk_fetch_min_bytes``,
    ``express_sweep_ms``) left unset take that kind's default on construction, so every
    part reads one resolved value per knob.
    ``bulk_gather_ms`` is how long the router's bulk lane gathers records: the broker holds
    its fetches until ``bulk_fetch_min_bytes`` or this long, and a router of the bulk lane
    alone lingers this long to fill its producer's batches. Fewer, larger batches cost
    every broker less, and the embedded one's cost per fetch grows with a partition's
    number of batches (BENCHMARKS.md). The express lane fetches and produces undelayed.
    ``bulk_fetch_min_bytes`` is a megabyte on a cluster (Kafka holds a fetch at no cost)
    and 1 byte on the embedded broker, where the linger alone gathers.
    ``arrival_hold_ms`` is how long a receiver holds a delivery's arrival notice (01) for
    the application's first answer, so that both go back in one record; with no answer by
    then, the 01 goes alone (0: at once, before the application sees the document).
    ``express_sweep_ms`` above 0 puts a router's express lane on the senders' rings
    (:mod:`schemas._doorbell`): it fetches the outboxes' express partitions that a ring
    names, and all of them this often for records no ring named; 0: it polls them all.
    ``tracking_dsn`` (kept out of the repr: it may hold a password) is a PostgreSQL DSN or
    a SQLite path; ``None`` means SQLite in ``home``. ``metrics_port`` of ``None``
    serves no metrics, ``0`` a free port; ``metrics_host`` is ``0.0.0.0`` in a container.
    ``home`` (``DOCBUS_HOME``) is the one folder for a machine's docbus state: signing
    keys, the tracking store, receivers' deduplication stores and attachment blobs; by
    default the user's data folder (``~/.local/share/docbus`` on Linux), so commands work
    from any folder. ``blob_dir`` of ``None`` keeps attachment blobs in ``home/blobs``, and
    ``keys_dir`` of ``None`` keeps signing keys in ``home/keys``.
    Transport to a real cluster: ``security_protocol`` ``SSL`` (TLS; with
    ``ssl_certfile``/``ssl_keyfile``, mutual TLS: the certificate is the principal),
    ``SASL_SSL`` (TLS and SCRAM: ``sasl_mechanism``, ``sasl_username``, ``sasl_password``,
    kept out of the repr) or ``SASL_PLAINTEXT`` (test clusters only); ``ssl_cafile`` is the
    CA that signed the brokers' certificates (default: the system's).
    """

    bootstrap_servers: str | None = None
    broker_kind: str = "cluster"
    topic_prefix: str = "docbus"
    partitions: int = _BROKER_DEFAULT
    replication_factor: int = 1
    enable_idempotence: bool = _BROKER_DEFAULT
    compression_type: str = "lz4"
    linger_ms: int = 5
    request_timeout_ms: int = 30_000
    session_timeout_ms: int = _BROKER_DEFAULT
    fetch_max_wait_ms: int = _BROKER_DEFAULT
    bulk_gather_ms: int = 500
    bulk_fetch_min_bytes: int = _BROKER_DEFAULT
    express_sweep_ms: int = _BROKER_DEFAULT
    max_document_bytes: int = 1_048_576
    arrival_hold_ms: int = 500
    home: Path = field(default_factory=default_home)
    log_level: str = "INFO"
    client_id: str = "docbus"
    tracking_dsn: str | None = field(default=None, repr=False)
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    blob_dir: Path | None = None
    keys_dir: Path | None = None
    security_protocol: str = "PLAINTEXT"
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)

    #: The knobs of BROKER_DEFAULTS that were left unset, so a change of broker kind
    #: (``replace``, ``for_embedded``) resolves them again.
    _defaulted: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems = []
        defaults = BROKER_DEFAULTS.get(self.broker_kind)
        if defaults is None:
            raise ConfigurationError(
                f"broker_kind must be one of {sorted(BROKER_DEFAULTS)}: {self.broker_kind!r}"
            )
        unset = frozenset(name for name in defaults if getattr(self, name) is None)
        for name in unset:
            object.__setattr__(self, name, defaults[name])
        object.__setattr__(self, "_defaulted", unset)
        if self.partitions < 1:
            problems.append(f"partitions must be at least 1, got {self.partitions}")
        if self.replication_factor < 1:
            problems.append(f"replication_factor must be at least 1, got {self.replication_factor}")
        if self.compression_type not in _COMPRESSIONS:
            problems.append(
                f"compression_type must be one of {sorted(_COMPRESSIONS)}, "
                f"got {self.compression_type!r}"
            )
        if self.max_document_bytes < 1024:
            problems.append(
                f"max_document_bytes must be at least 1024, got {self.max_document_bytes}"
            )
        if not self.topic_prefix or not all(c.isalnum() or c in "._-" for c in self.topic_prefix):
            problems.append(
                f"topic_prefix must be letters, digits, '.', '_' or '-': {self.topic_prefix!r}"
            )
        for name in (
            "linger_ms",
            "bulk_gather_ms",
            "fetch_max_wait_ms",
            "bulk_fetch_min_bytes",
            "arrival_hold_ms",
            "express_sweep_ms",
        ):
            value = getattr(self, name)
            if value is not None and value < 0:
                problems.append(f"{name} must not be negative, got {value}")
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            problems.append(f"metrics_port must be 0 to 65535, got {self.metrics_port}")
        if self.log_level.upper() not in _LOG_LEVELS:
            problems.append(f"log_level must be one of {sorted(_LOG_LEVELS)}: {self.log_level!r}")
        problems += self._transport_problems()
        if problems:
            raise ConfigurationError("; ".join(problems))

    def _transport_problems(self) -> list[str]:
        protocol = self.security_protocol
        if protocol not in _PROTOCOLS:
            return [f"security_protocol must be one of {sorted(_PROTOCOLS)}: {protocol!r}"]
        problems = []
        if protocol.startswith("SASL_"):
            if self.sasl_mechanism not in _SASL_MECHANISMS:
                problems.append(
                    f"{protocol} needs sasl_mechanism, one of {sorted(_SASL_MECHANISMS)}: "
                    f"got {self.sasl_mechanism!r}"
                )
            if not self.sasl_username or not self.sasl_password:
                problems.append(f"{protocol} needs sasl_username and sasl_password")
        elif self.sasl_mechanism or self.sasl_username or self.sasl_password:
            problems.append(f"SASL settings are given but security_protocol is {protocol}")
        uses_tls = protocol in {"SSL", "SASL_SSL"}
        if not uses_tls and (self.ssl_cafile or self.ssl_certfile or self.ssl_keyfile):
            problems.append(f"TLS files are given but security_protocol is {protocol}")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            problems.append("ssl_certfile and ssl_keyfile go together (mutual TLS)")
        return problems

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``DOCBUS_<FIELD>`` variables, then apply non-``None`` ``overrides`` (CLI flags)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; knobs left unset stay unset."""
        unset: dict[str, Any] = {n: None for n in self._defaulted if n not in changes}
        return dataclasses.replace(self, **unset, **changes)

    def for_embedded(self, bootstrap_servers: str) -> Settings:
        """A copy that points at an embedded broker, with its defaults for unset knobs."""
        return self.replace(bootstrap_servers=bootstrap_servers, broker_kind="embedded")

    def group_id(self, role: str) -> str:
        """The consumer group of ``role`` (``router``, ``receiver.<code>``) under the prefix."""
        return f"{self.topic_prefix}-{role}"

    @property
    def traces_records(self) -> bool:
        """Whether services log a line per record (DEBUG only: an application that never
        configured structlog would otherwise print one for every record)."""
        return self.log_level.upper() == "DEBUG"

    @property
    def blob_root(self) -> Path:
        """Where attachment blobs are stored (``blob_dir``, or ``home/blobs``)."""
        return self.blob_dir if self.blob_dir is not None else self.home / "blobs"

    @property
    def keys_root(self) -> Path:
        """Where signing keys are kept (``keys_dir``, or ``home/keys``)."""
        return self.keys_dir if self.keys_dir is not None else self.home / "keys"

    def require_bootstrap(self) -> str:
        """The bootstrap servers, or a clear error where none are set."""
        if not self.bootstrap_servers:
            raise ConfigurationError(
                "no bootstrap servers: set DOCBUS_BOOTSTRAP_SERVERS or --bootstrap-servers"
            )
        return self.bootstrap_servers


def _parse(name: str, raw: str, annotation: Any) -> Any:
    text = str(annotation)
    try:
        if "bool" in text:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if text.startswith("int"):
            return int(raw)
        if "Path" in text:
            return Path(raw).expanduser()
    except ValueError as exc:
        env_name = ENV_PREFIX + name.upper()
        raise ConfigurationError(f"{env_name}={raw!r} is not a valid {text}") from exc
    return raw

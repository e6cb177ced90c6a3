"""Tests for docbus._settings: one settings object from DOCBUS_* and flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from docbus import ConfigurationError, Settings


def test_defaults() -> None:
    """With nothing set, the embedded broker is implied and the prefix is docbus."""
    settings = Settings.from_env({})
    assert settings.bootstrap_servers is None
    assert settings.topic_prefix == "docbus"
    assert settings.enable_idempotence is True


def test_environment_then_flags() -> None:
    """DOCBUS_* variables are read and typed; flags given override them."""
    env = {
        "DOCBUS_BOOTSTRAP_SERVERS": "k1:9092",
        "DOCBUS_PARTITIONS": "6",
        "DOCBUS_HOME": "/tmp/x",
        "DOCBUS_ENABLE_IDEMPOTENCE": "false",
    }
    settings = Settings.from_env(env, partitions=12, topic_prefix=None)
    assert settings.bootstrap_servers == "k1:9092"
    assert settings.partitions == 12
    assert settings.home == Path("/tmp/x")
    assert settings.enable_idempotence is False


def test_bad_values_are_clear() -> None:
    """A malformed variable or an impossible value is a ConfigurationError naming it."""
    with pytest.raises(ConfigurationError, match="DOCBUS_PARTITIONS"):
        Settings.from_env({"DOCBUS_PARTITIONS": "many"})
    with pytest.raises(ConfigurationError, match="partitions"):
        Settings(partitions=0)
    with pytest.raises(ConfigurationError, match="compression_type"):
        Settings(compression_type="brotli")
    with pytest.raises(ConfigurationError, match="bulk_gather_ms must not be negative"):
        Settings.from_env({"DOCBUS_BULK_GATHER_MS": "-1"})
    with pytest.raises(ConfigurationError, match="arrival_hold_ms must not be negative"):
        Settings.from_env({"DOCBUS_ARRIVAL_HOLD_MS": "-1"})
    assert Settings.from_env({"DOCBUS_ARRIVAL_HOLD_MS": "0"}).arrival_hold_ms == 0
    assert Settings().arrival_hold_ms == 500


def test_embedded_turns_idempotence_off() -> None:
    """For the embedded broker idempotence is off unless asked for, and groups join fast."""
    embedded = Settings().for_embedded("127.0.0.1:1")
    assert embedded.bootstrap_servers == "127.0.0.1:1"
    assert embedded.enable_idempotence is False
    assert embedded.session_timeout_ms < Settings().session_timeout_ms
    assert Settings(enable_idempotence=True).for_embedded("h:1").enable_idempotence is True


def test_embedded_fetches_wait_less() -> None:
    """Tansu answers records that arrive during a held fetch only when it looks again,
    half the wait later, so the embedded broker's wait is short."""
    assert Settings().fetch_max_wait_ms == 500
    assert Settings().for_embedded("h:1").fetch_max_wait_ms == 100
    assert Settings(fetch_max_wait_ms=200).for_embedded("h:1").fetch_max_wait_ms == 200
    assert Settings.from_env({"DOCBUS_FETCH_MAX_WAIT_MS": "10"}).fetch_max_wait_ms == 10
    with pytest.raises(ConfigurationError, match="fetch_max_wait_ms"):
        Settings(fetch_max_wait_ms=-1)


def test_embedded_bulk_fetches_are_not_held_for_bytes() -> None:
    """The bulk lane asks a cluster for a megabyte a fetch and the embedded broker for a
    byte (Tansu holds a fetch by reading its partitions over and over), unless set."""
    assert Settings().bulk_fetch_min_bytes == 1024 * 1024
    assert Settings().for_embedded("h:1").bulk_fetch_min_bytes == 1
    assert Settings(bulk_fetch_min_bytes=4096).for_embedded("h:1").bulk_fetch_min_bytes == 4096
    assert Settings.from_env({"DOCBUS_BULK_FETCH_MIN_BYTES": "0"}).bulk_fetch_min_bytes == 0
    with pytest.raises(ConfigurationError, match="bulk_fetch_min_bytes must not be negative"):
        Settings(bulk_fetch_min_bytes=-1)


def test_the_express_lane_rides_the_doorbell_on_the_embedded_broker_only() -> None:
    """The embedded broker's express lanes sweep once a second and otherwise follow the
    senders' rings (Tansu's fetch costs it per partition asked for); a cluster's poll."""
    assert Settings().express_sweep_ms == 0
    assert Settings().for_embedded("h:1").express_sweep_ms == 1000
    assert Settings(express_sweep_ms=0).for_embedded("h:1").express_sweep_ms == 0
    assert Settings.from_env({"DOCBUS_EXPRESS_SWEEP_MS": "250"}).express_sweep_ms == 250
    with pytest.raises(ConfigurationError, match="express_sweep_ms must not be negative"):
        Settings(express_sweep_ms=-1)


def test_embedded_topics_have_the_express_lane_and_one_bulk_partition() -> None:
    """New topics get three partitions on a cluster and two on the embedded broker, whose
    fetch costs it per partition asked for; a count set by hand stays."""
    assert Settings().partitions == 3
    assert Settings().for_embedded("h:1").partitions == 2
    assert Settings(partitions=6).for_embedded("h:1").partitions == 6
    assert Settings.from_env({"DOCBUS_BROKER_KIND": "embedded"}).partitions == 2


def test_require_bootstrap() -> None:
    """Asking for servers that are not set is a clear error."""
    with pytest.raises(ConfigurationError, match="DOCBUS_BOOTSTRAP_SERVERS"):
        Settings().require_bootstrap()


def test_group_ids_follow_the_prefix() -> None:
    """Consumer groups are named under the topic prefix, so two buses never share one."""
    assert Settings(topic_prefix="a").group_id("router") == "a-router"


def test_the_broker_kind_sets_every_unset_knob_in_one_place() -> None:
    """DOCBUS_BROKER_KIND=embedded gives every broker-dependent knob the embedded value,
    a knob set by hand keeps its value, and a copy keeps unset knobs unset."""
    embedded = Settings.from_env(
        {"DOCBUS_BROKER_KIND": "embedded", "DOCBUS_SESSION_TIMEOUT_MS": "1500"}
    )
    assert (
        embedded.enable_idempotence,
        embedded.session_timeout_ms,
        embedded.fetch_max_wait_ms,
        embedded.bulk_fetch_min_bytes,
    ) == (False, 1500, 100, 1)
    cluster = embedded.replace(broker_kind="cluster")
    assert (cluster.enable_idempotence, cluster.session_timeout_ms) == (True, 1500)
    assert cluster.fetch_max_wait_ms == 500
    with pytest.raises(ConfigurationError, match="broker_kind must be one of"):
        Settings(broker_kind="tansu")


def test_the_home_is_the_users_data_folder_unless_told() -> None:
    """By default the platform's user data folder (XDG on Linux), so commands work from
    any folder; DOCBUS_HOME moves it, and keys and blobs follow it."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_DATA_HOME", "/srv/data")
        assert Settings().home == Path("/srv/data/docbus")
    moved = Settings.from_env({"DOCBUS_HOME": "~/bus"})
    assert moved.home == Path("~/bus").expanduser()
    assert moved.keys_root == moved.home / "keys" and moved.blob_root == moved.home / "blobs"

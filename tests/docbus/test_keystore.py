"""Tests for docbus._keystore and ``docbus keys``: generate, rotate, sign, trust."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docbus import ConfigurationError, Keystore, SignatureError, TrustedKeys
from schemas import Codec, today_vn
from tests.helpers import G22, H29, letter

TODAY = today_vn()


def test_generate_then_sign(tmp_path: Path) -> None:
    """A generated key signs; its private file is the owner's alone; a second generate is refused."""
    keystore = Keystore(tmp_path)
    key = keystore.generate(G22)
    assert key.valid_on(TODAY) and key.key_id.startswith(f"{G22}/{TODAY:%Y%m%d}-")
    (private,) = tmp_path.glob("*.pem")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    value = Codec().encode(letter(G22))
    signer = keystore.signer(G22)
    assert keystore.keyring().verify(value, signer.headers(value), signer=G22, day=TODAY) == key
    with pytest.raises(ConfigurationError, match="docbus keys rotate"):
        keystore.generate(G22)


def test_an_agency_without_a_key_cannot_sign(tmp_path: Path) -> None:
    """The error says which agency, where, and the command that fixes it."""
    with pytest.raises(ConfigurationError, match=f"docbus keys generate --agency {H29}"):
        Keystore(tmp_path).signer(H29)


def test_rotate_overlaps_old_and_new(tmp_path: Path) -> None:
    """After a rotation both keys are valid through the overlap; the signer takes the new one."""
    keystore = Keystore(tmp_path)
    old = keystore.generate(G22, valid_from=TODAY - dt.timedelta(days=100))
    new = keystore.rotate(G22, starts=TODAY, overlap_days=7)
    old_now = keystore.keyring().get(old.key_id)
    assert old_now is not None and old_now.valid_to == TODAY + dt.timedelta(days=7)
    assert keystore.signer(G22).key == new
    assert keystore.signer(G22, TODAY - dt.timedelta(days=1)).key.key_id == old.key_id
    value = Codec().encode(letter(G22))
    ring = keystore.keyring()
    for day in (TODAY, TODAY + dt.timedelta(days=7)):
        ring.verify(
            value,
            keystore.signer(G22, TODAY - dt.timedelta(days=1)).headers(value),
            signer=G22,
            day=day,
        )
    with pytest.raises(SignatureError, match="expired_key"):
        ring.verify(
            value,
            keystore.signer(G22, TODAY - dt.timedelta(days=1)).headers(value),
            signer=G22,
            day=TODAY + dt.timedelta(days=8),
        )


def test_rotate_by_default_starts_tomorrow(tmp_path: Path) -> None:
    """So the directory can carry the new key before anyone signs with it."""
    keystore = Keystore(tmp_path)
    keystore.generate(G22)
    new = keystore.rotate(G22)
    assert new.valid_from == TODAY + dt.timedelta(days=1)
    assert keystore.signer(G22).key != new
    with pytest.raises(ConfigurationError, match="no key to rotate"):
        keystore.rotate(H29)


def test_ensure_adds_only_missing_keys(tmp_path: Path) -> None:
    """ensure() gives every agency without a valid key one, and leaves the rest alone."""
    keystore = Keystore(tmp_path)
    first = keystore.generate(G22)
    added = keystore.ensure([G22, H29, H29])
    assert [k.agency for k in added] == [H29]
    assert keystore.ensure([G22, H29]) == []
    assert keystore.signer(G22).key == first


def test_trusted_keys_read_a_key_published_after_they_started(tmp_path: Path) -> None:
    """A receiver's key list is read again when a record names a key it does not know."""
    keystore = Keystore(tmp_path)
    keystore.generate(H29)
    trusted = TrustedKeys(keystore)
    doc = letter(G22, (H29,))
    value = Codec().encode(doc)
    keystore.generate(G22)
    now_ms = int(time.time() * 1000)
    signed = keystore.signer(G22).headers(value)
    assert trusted.verify(value, signed, doc, timestamp_ms=now_ms).agency == G22
    key_id = keystore.signer(G22).headers(value)[0]
    with pytest.raises(SignatureError, match="bad_signature"):
        trusted.verify(value, [key_id, ("docbus-signature", bytes(64))], doc, timestamp_ms=now_ms)
    with pytest.raises(SignatureError, match="expired_key"):  # a record written before the key
        trusted.verify(value, signed, doc, timestamp_ms=now_ms - 3 * 86_400_000)


def docbus(*args: str, keys: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCBUS_KEYS_DIR": str(keys), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "shell.cli", "keys", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_keys_cli_generate_rotate_list(tmp_path: Path) -> None:
    """The operator's commands: generate, rotate (two valid keys), list as JSON."""
    made = docbus("generate", "--agency", G22, "--json", keys=tmp_path)
    assert made.returncode == 0, made.stderr
    first = json.loads(made.stdout)
    assert first["agency"] == G22 and first["keystore"] == str(tmp_path)
    turned = docbus("rotate", "--agency", G22, "--starts", TODAY.isoformat(), keys=tmp_path)
    assert turned.returncode == 0, turned.stderr
    assert "rotated to" in turned.stdout and "docbus directory publish" in turned.stdout
    listed = json.loads(docbus("list", "--json", keys=tmp_path).stdout)
    assert len(listed) == 2 and {k["agency"] for k in listed} == {G22}
    assert Keystore(tmp_path).signer(G22).key.key_id != first["key_id"]
    table = docbus("list", keys=tmp_path)
    assert first["key_id"] in table.stdout


@pytest.mark.parametrize(
    ("agency", "message"),
    [
        ("000.00.05.G22", "not a top-level agency"),
        ("G22", "not a top-level agency"),  # a well-formed id, but no such party
        ("G 22", "is not an agency code"),
        ("000.00.00.Z99", "not a top-level agency"),
    ],
)
def test_keys_cli_refuses_what_is_not_an_agency(tmp_path: Path, agency: str, message: str) -> None:
    """Keys belong to top-level agencies of the directory (and the bus)."""
    result = docbus("generate", "--agency", agency, keys=tmp_path)
    assert result.returncode == 2 and message in result.stderr


def test_keys_cli_generate_twice_is_an_error(tmp_path: Path) -> None:
    """A second generate exits 1 and points at rotate."""
    assert docbus("generate", "--agency", "docbus", keys=tmp_path).returncode == 0
    again = docbus("generate", "--agency", "docbus", keys=tmp_path)
    assert again.returncode == 1 and "docbus keys rotate" in again.stderr
    kept = docbus("generate", "--agency", "docbus", "--if-missing", keys=tmp_path)
    assert kept.returncode == 0 and kept.stdout.startswith("kept docbus/")
    assert len(Keystore(tmp_path).keyring()) == 1

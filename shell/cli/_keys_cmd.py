"""``docbus keys``: generate, rotate and list the agencies' Ed25519 signing keys."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from docbus import DEFAULT_OVERLAP_DAYS, DEFAULT_VALID_DAYS, DocbusError, Keystore, Settings
from docbus.directory import Directory
from schemas import BUS_AGENCY, AgencyKey, today_vn, top_level_of
from shell.cli._common import emit_json

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _keystore(keys_dir: Path | None) -> Keystore:
    return Keystore(Settings.from_env(keys_dir=keys_dir).keys_root)


def _agency(code: str) -> str:
    """``code`` if the bus or a top-level agency of the directory; else a clear error."""
    if code == BUS_AGENCY:
        return code
    try:
        top = top_level_of(code)
    except DocbusError as exc:
        raise click.BadParameter(str(exc), param_hint="--agency") from exc
    if top != code or code not in Directory.load():
        raise click.BadParameter(
            f"{code} is not a top-level agency of the directory (keys belong to agencies, "
            f"and a unit signs with its agency's key)",
            param_hint="--agency",
        )
    return code


def _print_key(key: AgencyKey, keystore: Keystore, as_json: bool, verb: str) -> None:
    if as_json:
        emit_json({**key.to_json(), "keystore": str(keystore.root)})
        return
    until = key.valid_to.isoformat() if key.valid_to else "no end"
    click.echo(f"{verb} {key.key_id}: valid {key.valid_from} to {until}, in {keystore.root}")
    click.echo("publish it with `docbus directory publish` so that routers and receivers know it")


_keys_dir_option = click.option(
    "--keys-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The keystore folder (env DOCBUS_KEYS_DIR; default: DOCBUS_HOME/keys).",
)


@click.group()
def keys() -> None:
    """Agencies' Ed25519 signing keys: every document and notice is signed by its sender."""


@keys.command()
@click.option("--agency", required=True, help=f"Top-level agency code, or {BUS_AGENCY!r}.")
@click.option("--valid-from", type=_DATE, help="First day the key signs (default: today).")
@click.option("--valid-days", type=click.IntRange(min=1), default=DEFAULT_VALID_DAYS)
@click.option(
    "--if-missing",
    is_flag=True,
    help="Keep the agency's key if it has one valid today (for init jobs run more than once).",
)
@_keys_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the new public key as JSON.")
def generate(
    agency: str,
    valid_from: dt.datetime | None,
    valid_days: int,
    if_missing: bool,
    keys_dir: Path | None,
    as_json: bool,
) -> None:
    """Generate an agency's first key pair (refused while it has a valid key: rotate it)."""
    keystore = _keystore(keys_dir)
    code = _agency(agency)
    if if_missing:
        kept = [k for k in keystore.keyring().keys_of(code) if k.valid_on(today_vn())]
        if kept:
            _print_key(kept[-1], keystore, as_json, "kept")
            return
    key = keystore.generate(
        code, valid_from=valid_from.date() if valid_from else None, valid_days=valid_days
    )
    _print_key(key, keystore, as_json, "generated")


@keys.command()
@click.option("--agency", required=True, help=f"Top-level agency code, or {BUS_AGENCY!r}.")
@click.option("--starts", type=_DATE, help="First day the new key signs (default: tomorrow).")
@click.option(
    "--overlap-days",
    type=click.IntRange(min=0),
    default=DEFAULT_OVERLAP_DAYS,
    show_default=True,
    help="Days the old key stays valid after the new one starts.",
)
@click.option("--valid-days", type=click.IntRange(min=1), default=DEFAULT_VALID_DAYS)
@_keys_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the new public key as JSON.")
def rotate(
    agency: str,
    starts: dt.datetime | None,
    overlap_days: int,
    valid_days: int,
    keys_dir: Path | None,
    as_json: bool,
) -> None:
    """Roll an agency's key over: a new key, the old one valid through an overlap."""
    keystore = _keystore(keys_dir)
    code = _agency(agency)
    key = keystore.rotate(
        code,
        starts=starts.date() if starts else None,
        overlap_days=overlap_days,
        valid_days=valid_days,
    )
    _print_key(key, keystore, as_json, "rotated to")


@keys.command(name="list")
@click.option("--agency", help="Only this agency's keys.")
@_keys_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(agency: str | None, keys_dir: Path | None, as_json: bool) -> None:
    """List the public keys in the keystore, with their validity."""
    keystore = _keystore(keys_dir)
    ring = keystore.keyring()
    chosen = [k for k in ring if agency is None or k.agency == agency]
    if as_json:
        emit_json([k.to_json() for k in chosen])
        return
    today = today_vn()
    table = Table(title=f"{len(chosen)} keys in {keystore.root}")
    for column in ("key id", "agency", "valid from", "valid to", "valid today"):
        table.add_column(column)
    for k in sorted(chosen, key=lambda k: (k.agency, k.valid_from)):
        until = k.valid_to.isoformat() if k.valid_to else ""
        valid = "yes" if k.valid_on(today) else ""
        table.add_row(k.key_id, k.agency, k.valid_from.isoformat(), until, valid)
    Console().print(table)

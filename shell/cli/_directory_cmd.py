"""``docbus directory``: publish, list, show and resolve agencies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from docbus import DirectoryError, Keystore
from docbus.directory import Agency, Directory, Resolution
from router import ensure_bus_topics, publish_directory
from schemas import today_vn
from shell._runtime import bus_settings
from shell.cli._common import bus_options, emit_json, run_async, settings_from

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else today_vn()


def agency_json(agency: Agency) -> dict[str, Any]:
    """An agency as printed by ``--json``."""
    return agency.to_json()


@click.group()
def directory() -> None:
    """The agency directory: 2025's reorganisation included."""


@directory.command()
@bus_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def publish(as_json: bool, **flags: Any) -> None:
    """Publish the packaged directory, with the keystore's public keys, to the compacted
    directory topic (routers follow it)."""
    settings = settings_from(**flags)
    data = Directory.load().with_keys(Keystore(settings.keys_root).keyring())

    async def main() -> int:
        async with bus_settings(settings) as (live, _):
            await ensure_bus_topics(live, data)
            return await publish_directory(live, data)

    offset = run_async(main())
    if as_json:
        emit_json(
            {
                "version": data.version,
                "agencies": len(data),
                "keys": len(data.keys),
                "offset": offset,
            }
        )
    else:
        click.echo(
            f"published directory {data.version} ({len(data)} agencies, {len(data.keys)} "
            f"public keys) at offset {offset}"
        )


@directory.command(name="list")
@click.option("--at", type=_DATE, help="The day (YYYY-MM-DD; default: today in Vietnam).")
@click.option("--kind", help="Only this kind: ministry, ministerial_agency, province, city, party.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(at: dt.datetime | None, kind: str | None, as_json: bool) -> None:
    """List the agencies that exist on a day."""
    day = _day(at)
    agencies = Directory.load().open_at(day, kinds=None if kind is None else [kind])
    if as_json:
        emit_json([agency_json(a) for a in agencies])
        return
    table = Table(title=f"{len(agencies)} agencies on {day.isoformat()}")
    for column in ("code", "name", "kind", "illustrative code"):
        table.add_column(column)
    for a in agencies:
        table.add_row(a.code, a.name, a.kind, "yes" if a.illustrative else "")
    Console().print(table)


@directory.command()
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(code: str, as_json: bool) -> None:
    """Show an agency's history, or a sub-unit and its place in the tree."""
    data = Directory.load()
    history = data.history(code)
    if history:
        result: dict[str, Any] = {"code": code, "history": [agency_json(a) for a in history]}
        result.update({k: history[-1].to_json()[k] for k in ("name", "kind")})
    else:
        unit = data.unit(code)
        if unit is None:
            raise click.ClickException(f"no agency or unit {code} in directory {data.version}")
        result = {
            "code": unit.code,
            "name": unit.name,
            "kind": "unit",
            "level": unit.level,
            "parent": unit.parent,
            "illustrative": True,
        }
    if as_json:
        emit_json(result)
    elif history:
        for a in history:
            span = f"{a.valid_from or '…'} – {a.valid_to or '…'}"
            extra = f" → {', '.join(a.successors)} (receives: {a.receiver})" if a.successors else ""
            click.echo(f"{a.code}  {a.name}  [{a.kind}]  {span}{extra}")
    else:
        click.echo(
            f"{result['code']}  {result['name']}  level {result['level']} under {result['parent']}"
        )


@directory.command()
@click.argument("code")
@click.option("--at", type=_DATE, help="The day (YYYY-MM-DD; default: today in Vietnam).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def resolve(code: str, at: dt.datetime | None, as_json: bool) -> None:
    """Which agency receives for CODE (an agency, a unit or group:<name>) on a day."""
    day = _day(at)
    try:
        resolutions = Directory.load().expand(code, day)
    except DirectoryError as exc:
        raise click.ClickException(str(exc)) from exc
    receivers = [a for r in resolutions for a in r.agencies]
    if as_json:
        first = receivers[0]
        emit_json(
            {
                "requested": code,
                "at": day.isoformat(),
                "code": first.code,
                "name": first.name,
                "kind": first.kind,
                "receivers": [agency_json(a) for a in receivers],
                "redirected_from": [_redirect(r) for r in resolutions if r.redirected_from],
            }
        )
        return
    for r in resolutions:
        note = f"  (closed {r.redirected_from.valid_to}; successor)" if r.redirected_from else ""
        for a in r.agencies:
            click.echo(f"{r.requested} → {a.code}  {a.name}{note}")


def _redirect(resolution: Resolution) -> dict[str, Any]:
    assert resolution.redirected_from is not None
    return {"requested": resolution.requested, **agency_json(resolution.redirected_from)}

"""``docbus gateway``: the HTTP gateway, and its agencies' tokens."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click
import uvicorn

from docbus import MetricsServer, Settings
from docbus.directory import Directory
from schemas import BUS_AGENCY
from shell._runtime import bus_settings
from shell.cli._common import bus_options, metrics_options, run_async, settings_from
from shell.gateway import GatewayLimits, GatewayMetrics, TokenStore, create_app

__all__ = ["gateway"]

_DEFAULTS = GatewayLimits()


def token_store(settings: Settings) -> TokenStore:
    """The tokens of the gateways sharing this docbus home."""
    return TokenStore(settings.home / "gateway-tokens.sqlite")


@click.group(invoke_without_command=True)
@bus_options
@metrics_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port to listen on.")
@click.option(
    "--requests-per-second",
    type=float,
    default=_DEFAULTS.requests_per_second,
    show_default=True,
    help="Each token's sustained request rate (429 beyond it).",
)
@click.option(
    "--burst", type=int, default=_DEFAULTS.burst, show_default=True, help="Each token's burst."
)
@click.option(
    "--max-body-mb",
    type=int,
    default=_DEFAULTS.max_body_bytes >> 20,
    show_default=True,
    help="The largest request body (413 beyond it).",
)
@click.pass_context
def gateway(
    ctx: click.Context,
    /,
    host: str,
    port: int,
    requests_per_second: float,
    burst: int,
    max_body_mb: int,
    **flags: Any,
) -> None:
    """Serve the HTTP gateway: agencies' systems send and track documents over HTTP
    (OpenAPI at /openapi.json). Tokens: `docbus gateway token --agency CODE`."""
    if ctx.invoked_subcommand is not None:
        return
    limits = GatewayLimits(
        max_body_bytes=max_body_mb << 20, requests_per_second=requests_per_second, burst=burst
    )
    run_async(_serve(settings_from(**flags), host, port, limits))


async def _serve(settings: Settings, host: str, port: int, limits: GatewayLimits) -> None:
    async with contextlib.AsyncExitStack() as stack:
        live, _ = await stack.enter_async_context(bus_settings(settings, announce=sys.stderr))
        tokens = token_store(live)
        stack.callback(tokens.close)
        metrics = GatewayMetrics()
        if live.metrics_port is not None:  # /metrics, /healthz, /readyz beside the API
            served = MetricsServer(metrics.registry, port=live.metrics_port, host=live.metrics_host)
            await stack.enter_async_context(served)
            click.echo(f"gateway metrics: {served.url}", err=True)
        config = uvicorn.Config(
            create_app(live, tokens=tokens, limits=limits, metrics=metrics),
            host=host,
            port=port,
            log_level="warning",
            timeout_keep_alive=5,  # an idle client does not hold its connection
            limit_concurrency=512,
        )
        click.echo(f"gateway on http://{host}:{port} (OpenAPI: /openapi.json)", err=True)
        await uvicorn.Server(config).serve()


@gateway.command("token")
@click.option("--agency", help="The directory party the token acts for.")
@click.option("--operator", is_flag=True, help="An operator's token (sees every document).")
@click.option("--revoke", "revoked", metavar="TOKEN", help="End TOKEN instead.")
def token(agency: str | None, operator: bool, revoked: str | None) -> None:
    """Issue a bearer token for AGENCY's system (printed as the last word; only its hash is
    kept), or --revoke one."""
    tokens = token_store(Settings.from_env())
    try:
        if revoked:
            if not tokens.revoke(revoked):
                raise click.ClickException("no live token matches (already revoked?)")
            click.echo("revoked")
            return
        if not agency:
            raise click.UsageError("give --agency CODE (or --revoke TOKEN)")
        if agency != BUS_AGENCY and agency not in Directory.load():
            raise click.BadParameter(
                f"{agency} is not a party of the directory", param_hint="--agency"
            )
        issued = tokens.issue(agency, role="operator" if operator else "agency")
        click.echo(f"token for {agency}: {issued}")
    finally:
        tokens.close()

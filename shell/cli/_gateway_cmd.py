"""``docbus gateway``: the HTTP gateway, and its agencies' tokens."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn

from docbus import MetricsServer, Settings
from docbus.directory import Directory
from docbus.process import tune_service_heap
from schemas import BUS_AGENCY
from shell._runtime import bus_settings
from shell.cli._common import bus_options, metrics_options, run_async, settings_from
from shell.gateway import (
    CertificateAuthority,
    GatewayLimits,
    GatewayMetrics,
    TokenStore,
    create_app,
    gateway_protocol,
    tls_options,
)

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
@click.option(
    "--max-attachment-mb",
    type=int,
    default=_DEFAULTS.max_attachment_bytes >> 20,
    show_default=True,
    help="The largest attachment uploaded to /v1/attachments (streamed to the blob store).",
)
@click.option(
    "--tls-cert",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this certificate (PEM; with --tls-key).",
)
@click.option(
    "--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Its key."
)
@click.option(
    "--client-ca",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Accept client certificates issued by this CA instead of tokens (mutual TLS; the "
    "certificate's common name is the agency). See `docbus gateway certificate`.",
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
    max_attachment_mb: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    client_ca: Path | None,
    **flags: Any,
) -> None:
    """Serve the HTTP gateway: agencies' systems send and track documents over HTTP
    (OpenAPI at /openapi.json). Tokens: `docbus gateway token --agency CODE`."""
    if ctx.invoked_subcommand is not None:
        return
    limits = GatewayLimits(
        max_body_bytes=max_body_mb << 20,
        max_attachment_bytes=max_attachment_mb << 20,
        requests_per_second=requests_per_second,
        burst=burst,
    )
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("give --tls-cert and --tls-key together")
    if client_ca is not None and tls_cert is None:
        raise click.UsageError("--client-ca needs HTTPS: give --tls-cert and --tls-key")
    tls = tls_options(tls_cert, tls_key, client_ca) if tls_cert and tls_key else {}
    run_async(_serve(settings_from(**flags), host, port, limits, tls))


async def _serve(
    settings: Settings, host: str, port: int, limits: GatewayLimits, tls: dict[str, Any]
) -> None:
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
            http=gateway_protocol(limits.header_seconds),
            **tls,
        )
        scheme = "https" if tls else "http"
        click.echo(f"gateway on {scheme}://{host}:{port} (OpenAPI: /openapi.json)", err=True)
        tune_service_heap()  # a service from here on: its start-up objects never scanned again
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


@gateway.command("certificate")
@click.option("--agency", help="Issue a client certificate for this party's system.")
@click.option(
    "--server",
    "server_hosts",
    multiple=True,
    metavar="HOST",
    help="Issue the gateway's own server certificate for HOST (repeat for several).",
)
@click.option(
    "--ca-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the CA and what it issues are kept (default: gateway-pki in the docbus home).",
)
def certificate(agency: str | None, server_hosts: tuple[str, ...], ca_dir: Path | None) -> None:
    """Issue certificates for mutual TLS from the gateway's own CA (made on first use):
    an agency system's client certificate, or the gateway's server certificate."""
    if not agency and not server_hosts:
        raise click.UsageError("give --agency CODE or --server HOST")
    if agency and agency not in Directory.load():
        raise click.BadParameter(f"{agency} is not a party of the directory", param_hint="--agency")
    authority = CertificateAuthority(ca_dir or Settings.from_env().home / "gateway-pki")
    if agency:
        issued = authority.client(agency)
        click.echo(f"client certificate for {agency}: {issued.cert} (key {issued.key})")
    if server_hosts:
        issued = authority.server(list(server_hosts))
        click.echo(f"server certificate: {issued.cert} (key {issued.key})")
    click.echo(f"CA (give the gateway --client-ca, clients --cacert): {authority.cert_path}")

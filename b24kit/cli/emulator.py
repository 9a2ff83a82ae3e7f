"""``b24kit emulator serve``: a Bitrix24 portal on your machine."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

app = typer.Typer(help="Run the Bitrix24 portal emulator.", no_args_is_help=True)


def _webhooks(values: list[str]) -> dict[int, str]:
    hooks: dict[int, str] = {}
    for value in values:
        user_id, sep, secret = value.partition(":")
        if not sep or not user_id.isdecimal() or not secret:
            raise typer.BadParameter(f"expected USER_ID:SECRET, got {value!r}", param_hint="--webhook")
        hooks[int(user_id)] = secret
    return hooks


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.")] = 8024,
    webhook: Annotated[
        list[str] | None, typer.Option(help="Incoming webhook as USER_ID:SECRET (repeatable).")
    ] = None,
    tls: Annotated[bool, typer.Option(help="Serve https (self-signed unless --tls-cert).")] = False,
    tls_cert: Annotated[str | None, typer.Option(help="PEM certificate for --tls.")] = None,
    tls_key: Annotated[str | None, typer.Option(help="PEM private key for --tls.")] = None,
    rate_limit: Annotated[
        str, typer.Option(help="Leaky bucket: cloud (50, 2/s), enterprise (250, 5/s) or off.")
    ] = "off",
    db: Annotated[str | None, typer.Option(help="SQLite file that keeps state across restarts.")] = None,
    seed: Annotated[str | None, typer.Option(help="'demo' adds companies, contacts, deals, users.")] = None,
    timezone: Annotated[str, typer.Option(help="The portal's UTC offset.")] = "+03:00",
    operating_limit: Annotated[
        float, typer.Option(help="Seconds of operating time per method per 10 minutes.")
    ] = 480.0,
) -> None:
    """Serve http(s)://HOST:PORT/rest/USER_ID/SECRET/ and print that URL on the first line."""
    from b24kit.emulator import Settings
    from b24kit.emulator.limits import PRESETS
    from b24kit.emulator.server import EmulatorServer, resolve_tls

    if rate_limit not in PRESETS:
        raise typer.BadParameter(f"choose one of {', '.join(PRESETS)}", param_hint="--rate-limit")
    if seed not in (None, "demo"):
        raise typer.BadParameter("the only seed is 'demo'", param_hint="--seed")
    try:
        tls_files = resolve_tls(tls, tls_cert, tls_key)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tls-cert") from exc
    settings = Settings(
        webhooks=_webhooks(webhook or ["1:secret"]),
        rate_limit=rate_limit,
        timezone=timezone,
        operating_limit=operating_limit,
        db_path=db,
        seed=seed,
    )
    try:
        server = EmulatorServer(settings, host, port, tls_files)
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        raise typer.Exit(3) from exc
    print(server.webhook_url, flush=True)
    if tls_files is not None:
        print(tls_files.cert, flush=True)
    print(
        f"b24kit emulator: rate limit {rate_limit}, state {'in ' + db if db else 'in memory'}; "
        f"admin API at {server.base_url}/_emulator/ (Ctrl+C stops)",
        file=sys.stderr,
        flush=True,
    )
    server.run()

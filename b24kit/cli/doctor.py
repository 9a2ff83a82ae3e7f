"""``b24kit doctor``: is the portal reachable, who are we, what is missing, what to fix."""

from __future__ import annotations

import typer

from b24kit.errors import B24Error

from .portal_options import (
    EXIT_OK,
    EXIT_PORTAL,
    ConfigOption,
    DebugOption,
    PortalOption,
    fail,
    log_to_stderr,
    resolve_portal,
)

_MARK = {"ok": "[green]ok  [/green]", "warn": "[yellow]warn[/yellow]", "fail": "[red]FAIL[/red]"}


def doctor(portal: PortalOption = None, config: ConfigOption = None, debug: DebugOption = False) -> None:
    """Check connectivity, auth type, scopes, clock skew and limit headroom, and say what to fix."""
    from rich.console import Console
    from rich.markup import escape

    from b24kit.client import Client, diagnose

    log_to_stderr(debug)
    console = Console(highlight=False)
    try:
        target = resolve_portal(portal, config)
        console.print(f"portal [bold]{escape(target.name)}[/bold]: {escape(target.safe_url)}")
        with Client(target) as b24:
            findings = diagnose(b24)
    except (B24Error, ValueError) as exc:
        fail(exc)
    for finding in findings:
        console.print(f"{_MARK[finding.level]} {finding.check:<13}{escape(finding.detail)}")
        if finding.fix:
            console.print(f"     {'':<13}[bold]fix:[/bold] {escape(finding.fix)}")
    failed = any(f.level == "fail" for f in findings)
    raise typer.Exit(EXIT_PORTAL if failed else EXIT_OK)


def register(app: typer.Typer) -> None:
    app.command(name="doctor")(doctor)

"""``b24kit events bind``: bind the events the jobs watch, online or offline (idempotent)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape

from b24kit.errors import B24Error

from . import render
from .portal_options import ConfigOption, PortalOption, fail
from .robots import PublicUrlOption, load

app = typer.Typer(help="Portal events for the runner.", no_args_is_help=True)
ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode", help="online (POSTed to the runner) or offline (polled); default runner.portals.*.events."
    ),
]
PruneOption = Annotated[bool, typer.Option("--prune", help="Unbind our events no job watches any more.")]


@app.command()
def bind(
    portal: PortalOption = None,
    config: ConfigOption = None,
    public_url: PublicUrlOption = None,
    mode: ModeOption = None,
    prune: PruneOption = False,
) -> None:
    """Bind every event the portal's jobs watch; bindings already there are left alone."""
    from b24kit.jobs.admin import bind as bind_portal
    from b24kit.jobs.admin import target_portals

    settings, jobs = load(config)
    out = render.console()
    try:
        for name in target_portals(settings, portal):
            for item in asyncio.run(
                bind_portal(settings, jobs, name, base_url=public_url, mode=mode, prune=prune)
            ):
                out.print(f"{escape(name)}: {escape(item.event)} ({item.mode}) {item.action}")
    except (B24Error, ValueError) as exc:
        fail(exc)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="events")

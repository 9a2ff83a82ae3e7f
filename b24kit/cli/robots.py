"""``b24kit robots install|list``: register the jobs' robots on the portal (idempotent)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from b24kit.errors import B24Error

from . import render
from .portal_options import ConfigOption, PortalOption, fail

app = typer.Typer(help="Native Bitrix24 robots served by the runner.", no_args_is_help=True)
PublicUrlOption = Annotated[
    str | None,
    typer.Option("--public-url", help="Base URL the portal calls (default: runner.public_url)."),
]


def load(config: str | None) -> tuple[Any, Any]:
    """The settings and the validated jobs (job-file problems are printed, exit 2)."""
    from b24kit.config import load_settings
    from b24kit.jobs.runner import load_settings_jobs

    try:
        settings = load_settings(config)
        return settings, load_settings_jobs(settings)
    except (B24Error, ValueError) as exc:
        fail(exc)


@app.command()
def install(
    portal: PortalOption = None, config: ConfigOption = None, public_url: PublicUrlOption = None
) -> None:
    """Register the jobs' robots (bizproc.robot.add|update); a second run writes nothing."""
    from b24kit.jobs.admin import install_robots, target_portals

    settings, jobs = load(config)
    out = render.console()
    try:
        for name in target_portals(settings, portal):
            done = asyncio.run(install_robots(settings, jobs, name, base_url=public_url))
            if not done:
                out.print(f"{escape(name)}: no robots declared")
            for item in done:
                out.print(
                    f"{escape(name)}: robot {escape(item.code)} {item.action} -> {escape(item.handler_url)}"
                )
    except (B24Error, ValueError) as exc:
        fail(exc)


@app.command(name="list")
def list_robots(config: ConfigOption = None) -> None:
    """Robots the jobs declare, with their handlers and properties."""
    settings, jobs = load(config)
    table = Table(title="robots")
    for column in ("portal", "code", "handler", "properties", "returns", "documents"):
        table.add_column(column, overflow="fold")
    from b24kit.jobs.runner import served_portals

    try:
        portals = served_portals(settings)
    except (B24Error, ValueError) as exc:
        fail(exc)
    for name in portals:
        for robot in jobs.robots(name):
            table.add_row(
                escape(name),
                escape(robot.code),
                escape(robot.handler),
                escape(", ".join(robot.properties)),
                escape(", ".join(robot.returns)),
                escape(", ".join(robot.document_types)),
            )
    render.console().print(table)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="robots")

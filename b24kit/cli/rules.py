"""``b24kit rules report``: the built-in rules run once, in this process, against a portal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from b24kit.errors import B24Error, ConfigError

from . import render
from .portal_options import EXIT_OK, EXIT_RECORDS, ConfigOption, PortalOption, fail

app = typer.Typer(help="The built-in CRM rules, run once from the command line.", no_args_is_help=True)
REPORT_RULES = ("required_fields_report", "required_fields")  # jobs whose settings the report takes


@app.command()
def report(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the workbook here (.xlsx; {date} is today). Default: the job's report.output.",
            show_default=False,
        ),
    ] = None,
    job: Annotated[
        str | None,
        typer.Option(
            "--job",
            help="The job whose settings to use (default: the one running required_fields_report).",
            show_default=False,
        ),
    ] = None,
    notify: Annotated[
        bool | None,
        typer.Option(
            "--notify/--no-notify",
            help="Notify each responsible user (default: the job's report.notify).",
            show_default=False,
        ),
    ] = None,
    portal: PortalOption = None,
    config: ConfigOption = None,
) -> None:
    """The S2 completeness report now: incomplete deals, companies and contacts per responsible
    user, an Excel workbook, and the users' notifications (exit 1 when some failed)."""
    from b24kit.jobs.admin import rule_context
    from b24kit.rules.completeness import report_now

    settings, chosen = _job(config, job, portal)
    rule_settings = chosen.settings

    async def run() -> Any:
        async with rule_context(settings, portal, chosen) as ctx:
            return ctx.portal, await report_now(ctx, rule_settings, output=output, notify=notify)

    try:
        portal_name, done = asyncio.run(run())
    except (B24Error, ValueError, OSError) as exc:
        fail(exc)
    _render(done, portal_name, chosen.name)
    raise typer.Exit(EXIT_RECORDS if done.failed else EXIT_OK)


def _job(config: str | None, name: str | None, portal: str | None) -> tuple[Any, Any]:
    """The settings and the job whose rule settings the report takes (job-file problems: exit 2)."""
    from b24kit.config import load_settings
    from b24kit.jobs.runner import load_settings_jobs

    try:
        settings = load_settings(config)
        jobs = load_settings_jobs(settings)
    except (B24Error, ValueError) as exc:
        fail(exc)
    fitting = [j for j in jobs.jobs if j.action.rule in REPORT_RULES]
    if name is not None:
        found = jobs.get(name)
        if found is None or found not in fitting:
            known = ", ".join(j.name for j in fitting) or "none"
            why = "no job named" if found is None else "not a required-fields job:"
            fail(ConfigError(f"{why} {name!r} (required-fields jobs: {known})", field="--job"))
        return settings, found
    if portal is not None and "://" not in portal:
        fitting = [j for j in fitting if j.serves(portal)]
    for rule in REPORT_RULES:
        candidates = [j for j in fitting if j.action.rule == rule]
        if len(candidates) > 1:
            names = ", ".join(j.name for j in candidates)
            fail(
                ConfigError(
                    f"several jobs run {rule}: {names}", field="--job", suggestion="choose one with --job"
                )
            )
        if candidates:
            return settings, candidates[0]
    fail(
        ConfigError(
            "no job runs required_fields_report or required_fields, "
            "so nothing says which fields are required",
            field="--job",
            suggestion="add a job as in jobs/required-fields.yaml (docs/rules.md) to runner.jobs",
        )
    )


def _render(done: Any, portal: str, job: str) -> None:
    out = render.console()
    counts = done.counts()
    table = Table(title=f"Incomplete cards on {escape(portal)} (job {escape(job)}): {len(done.rows)}")
    for column in ("responsible", "id", "deals", "companies", "contacts", "total", "notified"):
        table.add_column(column, overflow="fold")
    for user_id, by_entity in counts.items():
        values = [by_entity["deal"], by_entity["company"], by_entity["contact"]]
        if user_id in done.failed:
            told = f"[red]failed: {escape(str(done.failed[user_id]))}[/red]"
        else:
            told = "yes" if user_id in done.notified else "no"
        row = [escape(done.users.get(user_id, "")), str(user_id), *map(str, values), str(sum(values)), told]
        table.add_row(*row)
    out.print(table)
    if done.output is not None:
        out.print(f"workbook: {escape(str(done.output))}")


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="rules")

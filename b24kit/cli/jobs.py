"""``b24kit jobs validate|list|run|status|failed|show|retry``: job files and the runner's dead letters."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from b24kit.errors import B24Error

from . import render
from .portal_options import EXIT_INPUT, EXIT_OK, EXIT_RECORDS, ConfigOption, PortalOption, fail

app = typer.Typer(
    help="Validate job files; inspect and retry the runner's failed tasks.", no_args_is_help=True
)
PathsArg = Annotated[list[Path] | None, typer.Argument(help="Job files (default: the config's runner.jobs).")]


def _settings(config: str | None) -> Any:
    from b24kit.config import load_settings

    return load_settings(config)


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


@app.command()
def validate(paths: PathsArg = None, config: ConfigOption = None) -> None:
    """Check job files: each problem with its file, line, field and a suggestion."""
    from b24kit.jobs.admin import job_files
    from b24kit.jobs.loader import JobsError, load_jobs
    from b24kit.jobs.runner import import_plugins

    out = render.console()
    try:
        settings = _settings(config)
        import_plugins(settings)
        files = [p.resolve() for p in paths] if paths else job_files(settings)
    except (B24Error, ValueError) as exc:
        fail(exc)
    results: list[tuple[str, list[Any]]] = []
    for path in files:
        try:
            load_jobs([path], env=os.environ, portals=list(settings.portals) or None)
            results.append((str(path), []))
        except JobsError as exc:
            results.append((str(path), list(exc.issues)))
    if not results:
        out.print("no job files found")
    render.validation(out, results)
    raise typer.Exit(EXIT_INPUT if any(issues for _, issues in results) else EXIT_OK)


@app.command(name="list")
def list_jobs(config: ConfigOption = None) -> None:
    """The jobs the runner would run: trigger, action, portals."""
    from b24kit.jobs.runner import load_settings_jobs

    try:
        jobs = load_settings_jobs(_settings(config))
    except (B24Error, ValueError) as exc:
        fail(exc)
    table = Table(title=f"{len(jobs)} jobs")
    for column in ("name", "trigger", "action", "portals", "file"):
        table.add_column(column, overflow="fold")
    for job in jobs.jobs:
        trigger = job.trigger
        what = {
            "event": ", ".join(trigger.event_names) + (" (when ...)" if trigger.when else ""),
            "cron": f"cron {trigger.cron} {trigger.timezone}",
            "robot": f"robot {trigger.robot.code if trigger.robot else ''}",
            "webhook": f"webhook {trigger.webhook}",
        }[trigger.kind]
        action = job.action
        doing = (
            f"rule {action.rule}"
            if action.rule
            else f"hook {action.hook}"
            if action.hook
            else f"sync {action.sync}"
        )
        table.add_row(
            escape(job.name),
            escape(what),
            escape(doing),
            escape(", ".join(job.spec.portals) or "all"),
            escape(job.source.name),
        )
    render.console().print(table)


@app.command()
def run(
    name: Annotated[str, typer.Argument(help="A job name, or @reconcile for the reconciliation scan.")],
    portal: PortalOption = None,
    config: ConfigOption = None,
) -> None:
    """Queue a run of a job now (a running b24kit serve picks it up)."""
    from b24kit.jobs.admin import run_now, target_portals
    from b24kit.jobs.runner import load_settings_jobs

    try:
        settings = _settings(config)
        jobs = load_settings_jobs(settings)
        for name_ in target_portals(settings, portal):
            run_now(settings, jobs, name, name_)
            render.console().print(f"{escape(name)} queued for {escape(name_)}")
    except (B24Error, ValueError) as exc:
        fail(exc)


@app.command()
def status(config: ConfigOption = None) -> None:
    """Tasks by status in the runner's state store."""
    from b24kit.jobs.admin import counts

    try:
        found = counts(_settings(config))
    except (B24Error, ValueError) as exc:
        fail(exc)
    render.console().print(", ".join(f"{n} {s}" for s, n in sorted(found.items())) or "no tasks")


@app.command()
def failed(
    config: ConfigOption = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Dead letters: tasks that used up their attempts or cannot succeed (exit 1 when any)."""
    from b24kit.jobs.admin import failed as dead

    try:
        rows = dead(_settings(config), limit=limit)
    except (B24Error, ValueError) as exc:
        fail(exc)
    if as_json:
        for row in rows:
            last = row.errors[-1]["error"] if row.errors else ""
            line = {
                "id": row.id,
                "portal": row.portal,
                "kind": row.kind,
                "name": row.name,
                "record": row.record_key,
                "attempts": row.attempts,
                "error": last,
            }
            typer.echo(json.dumps(line, ensure_ascii=False))
        raise typer.Exit(EXIT_RECORDS if rows else EXIT_OK)
    if not rows:
        render.console().print("no failed tasks")
        raise typer.Exit(EXIT_OK)
    table = Table(title=f"{len(rows)} failed tasks (b24kit jobs show ID, b24kit jobs retry ID|--all)")
    for column in ("id", "portal", "kind", "name", "record", "attempts", "updated", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        last = row.errors[-1]["error"] if row.errors else ""
        table.add_row(
            str(row.id),
            escape(row.portal),
            row.kind,
            escape(row.name),
            escape(row.record_key or ""),
            str(row.attempts),
            _when(row.updated_at),
            escape(str(last)),
        )
    render.console().print(table)
    raise typer.Exit(EXIT_RECORDS)


@app.command()
def show(task_id: Annotated[int, typer.Argument(help="The task id.")], config: ConfigOption = None) -> None:
    """One task: its payload, attempts and every error (as JSON)."""
    from b24kit.jobs.admin import show as get

    try:
        row = get(_settings(config), task_id)
    except (B24Error, ValueError) as exc:
        fail(exc)
    if row is None:
        fail(ValueError(f"no task {task_id}"))
    data = {
        "id": row.id,
        "portal": row.portal,
        "kind": row.kind,
        "name": row.name,
        "status": row.status,
        "record": row.record_key,
        "attempts": row.attempts,
        "merged": row.merged,
        "created": _when(row.created_at),
        "updated": _when(row.updated_at),
        "payload": _masked(row.payload),
        "progress": row.progress,
        "errors": [{**e, "at": _when(float(e.get("at", 0)))} for e in row.errors],
    }
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _masked(payload: dict[str, Any]) -> dict[str, Any]:
    """A robot's event token lets anyone answer its workflow: show only its first part."""
    token = payload.get("event_token")
    if isinstance(token, str) and "|" in token:
        return {**payload, "event_token": token.split("|", 1)[0] + "|***"}
    return payload


@app.command()
def retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Task ids.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every failed task.")] = False,
    config: ConfigOption = None,
) -> None:
    """Put failed tasks back in the queue with fresh attempts (a running runner picks them up)."""
    from b24kit.jobs.admin import retry as requeue

    if not ids and not all_:
        fail(ValueError("give task ids, or --all"))
    try:
        done = requeue(_settings(config), None if all_ else ids)
    except (B24Error, ValueError) as exc:
        fail(exc)
    missing = sorted(set(ids or []) - set(done))
    out = render.console()
    out.print(f"{len(done)} tasks queued again" + (f": {', '.join(map(str, done))}" if done else ""))
    if missing:
        out.print(f"[yellow]not failed (or unknown):[/yellow] {', '.join(map(str, missing))}")
        raise typer.Exit(EXIT_INPUT)


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="jobs")

"""``b24kit demo``: an emulated portal and the job runner, the payment-schedule robot (S1) and the
required-fields rule (S2) at work on a few deals, shown as tables."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from b24kit.errors import B24Error

from .portal_options import fail

if TYPE_CHECKING:
    from .demo_run import DemoResult

_URL = re.compile(r"\[url=([^\]]*)\](.*?)\[/url\]", re.DOTALL)
LanguageOption = Annotated[
    str, typer.Option("--language", help="Texts of tasks and notifications: en or ru.")
]
WorkdirOption = Annotated[
    Path | None,
    typer.Option("--workdir", help="Keep the demo's config, jobs and runner state in this folder."),
]


def demo(language: LanguageOption = "en", workdir: WorkdirOption = None) -> None:
    """Start an emulated portal and the runner in this process, register the robot, bind events,
    move deals through the stages and print what the rules did."""
    from .demo_run import run_demo

    if language not in ("en", "ru"):
        fail(ValueError(f"--language must be en or ru, not {language!r}"))
    out = Console(highlight=False)
    try:
        result = run_demo(language, workdir, progress=lambda step: out.print(f"[dim]… {escape(step)}[/dim]"))
    except (B24Error, RuntimeError, OSError) as exc:
        fail(exc)
    show(out, result)


def show(out: Console, result: DemoResult) -> None:
    """Print a :class:`~b24kit.cli.demo_run.DemoResult` as tables."""
    titles = {int(d["ID"]): str(d["TITLE"]) for d in result.deals}

    def stage(status_id: str) -> str:
        return str(result.stages.get(status_id, status_id))

    deals = Table(title="Deals: where each one went (S2 moves a deal back when required fields are empty)")
    for column in ("deal", "responsible", "stages it went through", "now"):
        deals.add_column(column, overflow="fold")
    for deal in result.deals:
        now = escape(stage(deal["STAGE_ID"]))
        if deal["STAGE_ID"] != deal["asked"]:
            now = f"[yellow]{now}[/yellow] (moved back from {escape(stage(deal['asked']))})"
        deals.add_row(
            escape(f"{deal['ID']} {deal['TITLE']}"),
            escape(result.users.get(int(deal["ASSIGNED_BY_ID"]), "")),
            escape(" → ".join(stage(s) for s in deal["path"])),
            now,
        )
    out.print(deals)

    runs = Table(title="Payment-schedule robot runs (S1): each answered to the business process")
    for column in ("deal", "answer"):
        runs.add_column(column, overflow="fold")
    for run in result.runs:
        deal_id = int(str(run["document_id"][2]).rpartition("_")[2])
        values = run.get("return_values") or {}
        if values.get("invoice_ids"):
            ids = ", ".join(map(str, values["invoice_ids"]))
            answer = f"[green]invoices {ids}[/green]: {escape(str(values.get('summary', '')))}"
        else:
            answer = f"[red]{escape(' '.join(run.get('log') or []) or 'no answer')}[/red]"
        runs.add_row(escape(f"{deal_id} {titles.get(deal_id, '')}"), answer)
    out.print(runs)

    invoices = Table(title="Smart invoices (one per payment, linked to the deal, its company and contact)")
    for column in ("id", "deal", "title", "amount", "due", "stage"):
        invoices.add_column(column, overflow="fold")
    for inv in result.invoices:
        invoices.add_row(
            str(inv["id"]),
            str(inv.get("parentId2") or ""),
            escape(str(inv["title"])),
            f"{float(inv['opportunity']):,.2f} {escape(str(inv.get('currencyId') or ''))}",
            str(inv.get("closedate") or "")[:10],
            escape(str(inv.get("stageId") or "")),
        )
    out.print(invoices)

    tasks = Table(title="Tasks (two per invoice, bound to the deal and the invoice)")
    for column in ("id", "title", "deadline", "responsible", "bound to"):
        tasks.add_column(column, overflow="fold")
    for task in result.tasks:
        tasks.add_row(
            str(task["id"]),
            escape(str(task["title"])),
            _when(task.get("deadline")),
            escape(result.users.get(int(task.get("responsibleId") or 0), "")),
            escape(", ".join(task.get("ufCrmTask") or [])),
        )
    out.print(tasks)

    notes = Table(title="Notifications (im.notify.system.add)")
    for column in ("to", "message", "link"):
        notes.add_column(column, overflow="fold")
    for note in result.notifications:
        message = str(note["MESSAGE"])
        links = [m.group(1) for m in _URL.finditer(message)]
        notes.add_row(
            escape(result.users.get(int(note["USER_ID"]), str(note["USER_ID"]))),
            escape(_URL.sub(lambda m: m.group(2), message)),
            escape(", ".join(links)),
        )
    out.print(notes)
    kept = (
        f"the config, jobs and runner state are in {escape(str(result.workdir))}"
        if result.workdir
        else "--workdir DIR keeps the config, jobs and runner state it used"
    )
    out.print(
        f"Done in {result.seconds:.1f} s; the runner sent {result.runner_requests} REST requests to the "
        f"portal; {kept}."
    )


def _when(value: Any) -> str:
    if not value:
        return ""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return escape(str(value))


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

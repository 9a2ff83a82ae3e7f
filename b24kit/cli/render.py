"""The one place the CLI draws with rich: profile checks, plans, run summaries and progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from b24kit.errors import ConfigError
from b24kit.sync.connectors.excel_report import describe_changes, short_value
from b24kit.sync.engine import ACTIONS, PAST, Outcome, RunReport

_STYLE = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "deactivate": "red",
    "fail": "bold red",
    "skip": "dim",
    "unchanged": "dim",
}


def console(*, err: bool = False) -> Console:
    return Console(stderr=err, highlight=False, soft_wrap=True)


def issues(out: Console, errors: Sequence[ConfigError]) -> None:
    """One line per problem: ``file:line: field: message (suggestion)``."""
    for error in errors:
        out.print(f"[red]error[/red] {escape(error.render())}")


def validation(out: Console, results: Sequence[tuple[str, Sequence[ConfigError]]]) -> None:
    for path, errors in results:
        if errors:
            issues(out, errors)
        else:
            out.print(f"[green]ok[/green] {escape(path)}")
    bad = sum(1 for _, errors in results if errors)
    if len(results) > 1:
        out.print(f"{len(results) - bad} valid, {bad} invalid")


def _value(value: Any) -> str:
    return "" if value is None else escape(short_value(value))


def plan(out: Console, report: RunReport, *, limit: int) -> None:
    """A table of every create, update, deactivation, delete, skip and failure, field by field."""
    shown = [o for o in report.outcomes if o.action != "unchanged"]
    table = Table(title=f"Plan for {report.profile} (nothing was written)", show_lines=False)
    for column in ("record", "action", "target id", "field", "before", "after", "reason"):
        table.add_column(column, overflow="fold")
    for outcome in shown[:limit]:
        _plan_rows(table, outcome)
    out.print(table)
    if len(shown) > limit:
        out.print(f"... and {len(shown) - limit} more (raise --limit to see them)")
    totals(out, report)


def _plan_rows(table: Table, outcome: Outcome) -> None:
    style = _STYLE.get(outcome.action, "")
    head = [escape(outcome.ref), f"[{style}]{outcome.action}[/{style}]", _value(outcome.target_id)]
    if not outcome.changes:
        table.add_row(*head, "", "", "", escape(outcome.reason))
        return
    for i, change in enumerate(outcome.changes):
        name = change.field if change.side == "target" else f"source.{change.field}"
        first = head if i == 0 else ["", "", ""]
        table.add_row(
            *first,
            escape(name),
            _value(change.before),
            _value(change.after),
            escape(outcome.reason) if i == 0 else "",
        )


def totals(out: Console, report: RunReport) -> None:
    counts = ", ".join(f"{report.counts[a]} {PAST[a]}" for a in ACTIONS if report.counts[a])
    verb = "would be" if report.planned else "were"
    out.print(f"{report.profile}: {counts or 'nothing to do'}" + (" (plan)" if report.planned else ""))
    for entity, count in report.related.items():
        out.print(f"  {count} {entity} records {verb} created by lookups")
    for warning in report.warnings:
        out.print(f"[yellow]warning[/yellow] {escape(warning)}")
    if report.guard:
        out.print(f"[red]delete guard[/red] {escape(report.guard)}")


def failures(out: Console, report: RunReport, *, limit: int = 20) -> None:
    for outcome in report.failures[:limit]:
        detail = f" [{describe_changes(outcome)}]" if outcome.changes else ""
        out.print(f"[red]failed[/red] {escape(outcome.ref)}: {escape(outcome.reason)}{escape(detail)}")
    if report.failed > limit:
        out.print(f"... and {report.failed - limit} more failures (see --report)")


@contextmanager
def progress(out: Console, title: str) -> Iterator[Callable[[Outcome], None]]:
    """A live counter of records while a run goes (silent when output is not a terminal)."""
    counts: dict[str, int] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    ) as bar:
        task = bar.add_task(title, total=None)

        def tick(outcome: Outcome) -> None:
            counts[outcome.action] = counts.get(outcome.action, 0) + 1
            text = ", ".join(f"{n} {PAST[a]}" for a, n in counts.items())
            bar.update(task, description=f"{title}: {text}")

        yield tick

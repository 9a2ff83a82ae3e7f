"""What a run did (or plans to do): per-record outcomes and the run's totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from b24kit.sync.records import Side
from b24kit.sync.state import LogEntry
from b24kit.sync.values import jsonable

Action: TypeAlias = Literal["create", "update", "unchanged", "skip", "fail", "delete", "deactivate"]
ACTIONS: tuple[Action, ...] = ("create", "update", "unchanged", "skip", "fail", "delete", "deactivate")
PAST: dict[str, str] = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "skip": "skipped",
    "fail": "failed",
    "delete": "deleted",
    "deactivate": "deactivated",
}


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field written on one side: its value before and the value written."""

    side: Side
    field: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one record (or, in a plan, what would happen)."""

    action: Action
    ref: str
    source_id: str | None = None
    target_id: str | None = None
    side: Side = "target"
    changes: tuple[FieldChange, ...] = ()
    reason: str = ""
    conflicts: tuple[str, ...] = ()
    """Two-way: the fields both sides changed, each with the side whose value stands."""

    @property
    def past(self) -> str:
        return PAST[self.action]


Listener: TypeAlias = Callable[[Outcome], None]


@dataclass
class RunReport:
    """Totals of a run, its warnings, and (when kept) the outcomes."""

    profile: str
    planned: bool
    run_id: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    outcomes: list[Outcome] = field(default_factory=list)
    failures: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    guard: str | None = None
    calls: dict[str, dict[str, int]] = field(default_factory=dict)
    related: Counter[str] = field(default_factory=Counter)
    """Related records created by lookups (``create``), by entity."""
    keep_outcomes: bool = False
    max_failures: int = 1000
    conflicts: int = 0
    """Fields both sides had changed, resolved by the profile's rule (each one is in the run log)."""

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.action] += 1
        self.conflicts += len(outcome.conflicts)
        if self.keep_outcomes:
            self.outcomes.append(outcome)
        if outcome.action == "fail" and len(self.failures) < self.max_failures:
            self.failures.append(outcome)

    @property
    def failed(self) -> int:
        return self.counts["fail"]

    @property
    def writes(self) -> int:
        return sum(self.counts[a] for a in ("create", "update", "delete", "deactivate"))

    def summary(self) -> dict[str, int]:
        return {a: self.counts[a] for a in ACTIONS}


def log_entry(outcome: Outcome) -> LogEntry:
    """The run-log line of an outcome (its reason carries any conflicts)."""
    return LogEntry(
        outcome.action,
        outcome.ref,
        outcome.source_id,
        outcome.target_id,
        outcome.side,
        [_change_json(c) for c in outcome.changes],
        outcome.reason,
    )


def _change_json(change: FieldChange) -> dict[str, Any]:
    return {
        "side": change.side,
        "field": change.field,
        "before": jsonable(change.before),
        "after": jsonable(change.after),
    }

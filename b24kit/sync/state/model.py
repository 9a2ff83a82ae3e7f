"""The values the state store keeps and returns: links, snapshots, log lines, pending writes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from b24kit.sync.records import Side
from b24kit.sync.values import dumps


@dataclass(frozen=True, slots=True)
class Link:
    """A pair of records known to be the same thing on both sides."""

    source_id: str
    target_id: str
    state: str = "active"  # active | deactivated | gone
    seen_run: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The mapped values of a link as both sides held them right after the last sync."""

    source: dict[str, Any]
    target: dict[str, Any]
    source_modified: datetime | None = None
    target_modified: datetime | None = None

    def digest(self) -> str:
        return hashlib.sha256(dumps([self.source, self.target]).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of the append-only run log: what happened to one record."""

    action: str
    ref: str = ""
    source_id: str | None = None
    target_id: str | None = None
    side: Side = "target"
    fields: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    at: str = ""
    run_id: int = 0


@dataclass(frozen=True, slots=True)
class Pending:
    """A write announced before it was sent; left behind only when a run died mid-batch."""

    record_id: str
    side: Side
    op: str
    target_id: str | None = None
    run_id: int = 0


@dataclass
class BatchCommit:
    """Everything one applied batch changes in the store, committed in one transaction."""

    links: list[Link] = field(default_factory=list)
    unlink: list[str] = field(default_factory=list)
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    cursors: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunStart:
    """A new run's id and what earlier runs of the profile left unfinished."""

    run_id: int
    interrupted: list[int]
    pending: list[Pending]

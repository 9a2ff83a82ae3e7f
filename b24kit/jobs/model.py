"""The runner's value types: what arrives (:class:`Inbound`), what a worker runs (:class:`Task`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["event", "robot", "job", "timer", "webhook"]
Outcome = Literal["accepted", "duplicate"]
Status = Literal["queued", "running", "done", "dead"]


@dataclass(frozen=True)
class Inbound:
    """Something to do, as accepted: an event, a robot call, a job run, a due timer.

    ``record_key`` serialises tasks on one record (``emu:2:42`` is deal 42 of portal ``emu``);
    queued tasks with the same ``merge_key`` become one; a repeated ``dedupe_key`` is dropped.
    ``delay`` holds the task back (seconds), so that later events can merge into it.
    """

    portal: str
    kind: Kind
    name: str
    payload: dict[str, Any]
    record_key: str | None = None
    merge_key: str | None = None
    dedupe_key: str | None = None
    delay: float = 0.0


@dataclass
class Task:
    """A claimed inbox row. ``progress`` survives retries (jobs done, a robot's computed answer)."""

    id: int
    portal: str
    kind: Kind
    name: str
    payload: dict[str, Any]
    record_key: str | None
    attempts: int
    merged: int = 0
    created_at: float = 0.0
    progress: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class TaskRow:
    """An inbox row as ``b24kit jobs show|failed`` prints it."""

    id: int
    portal: str
    kind: str
    name: str
    status: str
    attempts: int
    merged: int
    record_key: str | None
    created_at: float
    updated_at: float
    available_at: float
    payload: dict[str, Any]
    progress: dict[str, Any]
    errors: list[dict[str, Any]]

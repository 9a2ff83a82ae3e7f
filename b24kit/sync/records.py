"""The values that flow between connectors and the engine: records, changes, write results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

Side: TypeAlias = Literal["source", "target"]
Op: TypeAlias = Literal["create", "update", "delete"]


def other(side: Side) -> Side:
    """The opposite side of a sync."""
    return "target" if side == "source" else "source"


@dataclass(frozen=True, slots=True)
class Record:
    """One record read from a system.

    Attributes:
        id: the system's stable identifier, or ``None`` when it has none (a spreadsheet row);
            the engine then identifies the record by its first match-key value.
        fields: field values in the connector's native names and types (nested values allowed).
        modified: when the record last changed, if the system knows (used for newest-wins and cursors).
        deleted: a tombstone: the system reports that this record was deleted.
        ref: a human reference for reports and errors ("row 7", "OPS-12").
        problem: the connector read the record but it is broken (the reason); the engine reports
            it as failed and goes on.
    """

    id: str | None
    fields: Mapping[str, Any]
    modified: datetime | None = None
    deleted: bool = False
    ref: str = ""
    problem: str | None = None

    def label(self) -> str:
        """The best human reference for this record."""
        return self.ref or (self.id or "?")


@dataclass(frozen=True, slots=True)
class Change:
    """One write for a connector: create a record, update some fields, or delete it.

    ``key`` is unique within one ``write`` call and comes back in its :class:`WriteResult`.
    ``fields`` holds only the fields to write, in the connector's native names.
    """

    key: str
    op: Op
    id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The result of one :class:`Change`: the record's id (new for a create) or the error text."""

    key: str
    id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Since:
    """An incremental read: records whose ``field`` is at or after ``value``."""

    field: str
    value: datetime

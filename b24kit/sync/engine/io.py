"""One side of a run: its connector and entity, with per-run caches (never fetch a record twice)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from b24kit.sync import normalise
from b24kit.sync.connector import Connector, read_size
from b24kit.sync.records import Change, Record, Side, WriteResult
from b24kit.sync.values import jsonable

K = TypeVar("K")
V = TypeVar("V")


RECORDS_KEPT = 5_000
"""Fetched records a side keeps for the run (about 25 MB of portal records), so memory stays flat
however many records a run reads; a record is fetched again only after that many others."""


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _text(value: Any) -> str:
    return str(jsonable(value)).casefold()


class Lru(OrderedDict[K, V]):
    """A dict that forgets its least recently used entries beyond ``capacity`` (bounded run memory)."""

    def __init__(self, capacity: int = 50_000) -> None:
        super().__init__()
        self.capacity = capacity

    def __getitem__(self, key: K) -> V:
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.capacity:
            self.popitem(last=False)


@dataclass
class SideIO:
    """A connector bound to one side, with run-long caches of lookups, fetched records and fields."""

    side: Side
    connector: Connector
    entity: str
    batch_size: int
    read_size: int = 0
    """Ids per fetch and values per keyed lookup (default: the connector's, see ``read_size``)."""
    calls: dict[str, int] = field(default_factory=dict)
    _lookups: Lru[tuple[str, str, str], list[Record]] = field(default_factory=Lru)
    _records: Lru[tuple[str, str], Record | None] = field(default_factory=lambda: Lru(RECORDS_KEPT))
    _enums: dict[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.read_size <= 0:
            self.read_size = read_size(self.connector)

    def count(self, what: str, n: int = 1) -> None:
        self.calls[what] = self.calls.get(what, 0) + n

    # reads ------------------------------------------------------------------------------------

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        """Records by id in batches; each id is fetched at most once per run."""
        known = {i: self._records[(entity, i)] for i in dict.fromkeys(ids) if (entity, i) in self._records}
        wanted = [i for i in dict.fromkeys(ids) if i not in known]
        for part in chunks(wanted, self.read_size):
            self.count("fetch")
            found = {r.id: r for r in self.connector.fetch(entity, list(part))}
            for record_id in part:
                known[record_id] = self._records[(entity, record_id)] = found.get(record_id)
        return [r for i in ids if (r := known.get(i)) is not None]

    def cached(self, entity: str, record_id: str) -> Record | None:
        return self._records.get((entity, record_id))

    def forget(self, entity: str, record_id: str) -> None:
        """Drop a cached record after writing it (its next read must be fresh)."""
        self._records.pop((entity, record_id), None)

    def remember(self, entity: str, record: Record) -> None:
        if record.id is not None:
            self._records[(entity, record.id)] = record

    def prefetch(self, entity: str, field_name: str, values: Sequence[Any], how: str | None = None) -> None:
        """Look up many values at once; results (and misses) are cached per value.

        With ``how`` (a normaliser, the values already normalised by it) each value keeps only the
        candidates whose ``field_name`` normalises to it, and ``read_size`` values go in a call;
        without, ``batch_size`` values a call share their candidates (callers check each one).
        """
        wanted = [
            v for v in dict.fromkeys(_text(v) for v in values) if (entity, field_name, v) not in self._lookups
        ]
        originals = {_text(v): v for v in values}
        for part in chunks(wanted, self.batch_size if how is None else self.read_size):
            self.count("lookup")
            found = self.connector.lookup(entity, field_name, [originals[v] for v in part])
            keyed = None if how is None else _by_key(found, field_name, how)
            for value in part:
                self._lookups[(entity, field_name, value)] = found if keyed is None else keyed.get(value, [])
            for record in found:
                self.remember(entity, record)

    def lookup(self, entity: str, field_name: str, value: Any) -> list[Record]:
        key = (entity, field_name, _text(value))
        if key not in self._lookups:
            self.prefetch(entity, field_name, [value])
        return self._lookups.get(key, [])

    def add_lookup(self, entity: str, field_name: str, value: Any, record: Record) -> None:
        """Make a record created during the run findable by later lookups."""
        key = (entity, field_name, _text(value))
        self._lookups[key] = [*self._lookups.get(key, []), record]
        self.remember(entity, record)

    def enumeration(self, entity: str, field_name: str) -> Mapping[str, str]:
        key = (entity, field_name)
        if key not in self._enums:
            described = self.describe(entity)
            info = described.get(field_name)
            self._enums[key] = dict(info.items) if info is not None else {}
        return self._enums[key]

    def describe(self, entity: str) -> Mapping[str, Any]:
        if "describe" not in self.connector.capabilities:
            return {}
        cache_key = (entity, "\x00describe")
        if cache_key not in self._enums:
            self.count("describe")
            self._enums[cache_key] = dict(self.connector.describe(entity))  # type: ignore[arg-type]
        return self._enums[cache_key]

    # writes -----------------------------------------------------------------------------------

    def write(self, entity: str, changes: Sequence[Change]) -> list[WriteResult]:
        """Write in batches of ``batch_size``; cached copies of written records are dropped."""
        results: list[WriteResult] = []
        for part in chunks(list(changes), self.batch_size):
            self.count("write")
            results.extend(self.connector.write(entity, part))
        for change in changes:
            if change.id is not None:
                self.forget(entity, change.id)
        return results


def _by_key(records: Sequence[Record], field_name: str, how: str) -> dict[str, list[Record]]:
    """Records by every normalised key of their ``field_name`` (as ``_text``)."""
    keyed: dict[str, list[Record]] = {}
    for record in records:
        for key in normalise.keys_of(record.fields.get(field_name), how):
            keyed.setdefault(_text(key), []).append(record)
    return keyed


@dataclass(frozen=True)
class FieldContext:
    """The :class:`TransformContext` a transform sees: the side it writes to, and the field."""

    io: SideIO
    field: str

    def enumeration(self, field: str) -> Mapping[str, str]:
        return self.io.enumeration(self.io.entity, field)

    def prefetch(self, entity: str, field: str, values: Sequence[Any]) -> None:
        self.io.prefetch(entity, field, values)

    def lookup(self, entity: str, field: str, value: Any) -> list[Record]:
        return self.io.lookup(entity, field, value)

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        return self.io.fetch(entity, ids)

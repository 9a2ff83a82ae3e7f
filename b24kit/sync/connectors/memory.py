"""MemoryConnector: records in named in-process stores; the fake every engine test uses."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from b24kit.errors import ConfigError
from b24kit.sync import normalise
from b24kit.sync.connector import Capability, ConnectorBase, ConnectorContext, FieldInfo
from b24kit.sync.records import Change, Record, Since, WriteResult
from b24kit.sync.values import MISSING, get_path, jsonable, parse_datetime


class SimulatedCrash(BaseException):
    """Raised by a memory store told to crash: the process "dies" mid-run (nothing may catch it)."""


@dataclass
class CrashPlan:
    """Crash on the write call number ``after_writes + 1`` (before applying it), or right after
    applying call number ``after_writes`` (``when="after"``), optionally by ``os._exit``."""

    after_writes: int
    when: Literal["before", "after"] = "before"
    exit_process: bool = False


@dataclass
class MemoryStore:
    """Entities of records keyed by id, with modification times and a write log."""

    name: str
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    modified: dict[str, dict[str, datetime]] = field(default_factory=dict)
    schema: dict[str, dict[str, FieldInfo]] = field(default_factory=dict)
    writes: list[tuple[str, Change]] = field(default_factory=list)
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    reject: Callable[[str, Change], str | None] | None = None
    crash: CrashPlan | None = None
    path: Path | None = None
    next_id: int = 1
    _last: datetime | None = None
    _write_calls: int = 0

    def now(self) -> datetime:
        moment = self.clock()
        if self._last is not None and moment <= self._last:
            moment = self._last + timedelta(microseconds=1)
        self._last = moment
        return moment

    def table(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.entities.setdefault(entity, {})

    def put(
        self,
        entity: str,
        fields: Mapping[str, Any],
        *,
        id: str | None = None,
        modified: datetime | None = None,
    ) -> str:
        """Insert or replace a record directly (test set-up); returns its id."""
        record_id = id or self._new_id()
        self.table(entity)[record_id] = deepcopy(dict(fields))
        self.modified.setdefault(entity, {})[record_id] = modified or self.now()
        self._save()
        return record_id

    def edit(
        self, entity: str, record_id: str, fields: Mapping[str, Any], *, modified: datetime | None = None
    ) -> None:
        """Change a record as a person would (test set-up)."""
        self.table(entity)[record_id].update(deepcopy(dict(fields)))
        self.modified.setdefault(entity, {})[record_id] = modified or self.now()
        self._save()

    def remove(self, entity: str, record_id: str) -> None:
        self.table(entity).pop(record_id, None)
        self.modified.get(entity, {}).pop(record_id, None)
        self._save()

    def rows(self, entity: str) -> dict[str, dict[str, Any]]:
        """A copy of the entity's records by id."""
        return deepcopy(self.table(entity))

    def _new_id(self) -> str:
        while str(self.next_id) in {i for t in self.entities.values() for i in t}:
            self.next_id += 1
        self.next_id += 1
        return str(self.next_id - 1)

    def record(self, entity: str, record_id: str) -> Record:
        fields = deepcopy(self.table(entity)[record_id])
        moment = self.modified.get(entity, {}).get(record_id)
        if moment is not None:
            fields.setdefault("modified", moment.isoformat())
        return Record(id=record_id, fields=fields, modified=moment, ref=f"{entity} {record_id}")

    def _save(self) -> None:
        if self.path is None:
            return
        data = {
            "next_id": self.next_id,
            "entities": jsonable(self.entities),
            "modified": {e: {i: m.isoformat() for i, m in ms.items()} for e, ms in self.modified.items()},
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    def load(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.next_id = data["next_id"]
            self.entities = data["entities"]
            self.modified = {e: {i: _moment(m) for i, m in ms.items()} for e, ms in data["modified"].items()}
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(
                "not a memory store file (JSON written by the memory connector)", source=str(path)
            ) from None


def _moment(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        raise ValueError(f"{text!r} is not a time")
    return moment


_STORES: dict[str, MemoryStore] = {}
_LOCK = threading.Lock()


def memory_store(name: str = "default") -> MemoryStore:
    """The named in-process store (created empty on first use)."""
    with _LOCK:
        return _STORES.setdefault(name, MemoryStore(name=name))


def reset_memory_stores() -> None:
    """Forget every named store (tests call this between cases)."""
    with _LOCK:
        _STORES.clear()


class MemoryOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    store: str = Field("default", description="The named in-process store.")
    path: str | None = Field(None, description="A JSON file that keeps the store across processes.")
    multifields: tuple[str, ...] = Field(
        ("PHONE", "EMAIL", "WEB", "IM"),
        description="Fields whose items are appended on update, as Bitrix does.",
    )
    crash_after_writes: int | None = Field(
        None, ge=0, description="Fault injection for tests: die around this write call (see `crash`)."
    )
    crash: Literal["before", "after"] = Field(
        "before", description="Die before the next write call is applied, or right after applying it."
    )
    crash_exit: bool = Field(False, description="Die with os._exit(137), as a killed process would.")


_COMPARERS = ("exact", "text", "phone", "email", "digits")


class MemoryConnector(ConnectorBase):
    """Every capability, over a :class:`MemoryStore`: the reference connector for the contract suite."""

    name: ClassVar[str] = "memory"
    Options: ClassVar[type[BaseModel]] = MemoryOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"read", "incremental", "ordered", "fetch", "lookup", "write", "describe"}
    )
    batch_size: ClassVar[int] = 50

    def __init__(self, options: MemoryOptions, context: ConnectorContext | None = None) -> None:
        self.options = options
        self.store = memory_store(options.store)
        if options.path is not None:
            path = Path(options.path)
            if context is not None and not path.is_absolute():
                path = context.base_dir / path
            self.store.load(path)
        if options.crash_after_writes is not None:
            self.store.crash = CrashPlan(options.crash_after_writes, options.crash, options.crash_exit)

    def describe(self, entity: str) -> Mapping[str, FieldInfo]:
        """The fields declared with ``store.schema[entity]`` (none declared: nothing to check)."""
        return dict(self.store.schema.get(entity, {}))

    def read(self, entity: str, *, since: Since | None = None) -> Iterator[Record]:
        self.store.calls.append(("read", entity, 0))
        ids = list(self.store.table(entity))
        if since is not None:
            moments = self.store.modified.get(entity, {})
            floor = since.value
            ids = [i for i in ids if _ge(moments.get(i), floor)]
            ids.sort(key=lambda i: (moments[i], _order(i)))
        else:
            ids.sort(key=_order)
        for record_id in ids:
            if record_id in self.store.table(entity):
                yield self.store.record(entity, record_id)

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        self.store.calls.append(("fetch", entity, len(ids)))
        table = self.store.table(entity)
        return [self.store.record(entity, i) for i in ids if i in table]

    def lookup(self, entity: str, field: str, values: Sequence[Any]) -> list[Record]:
        self.store.calls.append(("lookup", entity, len(values)))
        wanted = {str(v).casefold() for v in values}
        found = []
        for record_id, fields in self.store.table(entity).items():
            value = get_path(fields, field) if field != "ID" else record_id
            if value is not MISSING and _matches(value, wanted):
                found.append(self.store.record(entity, record_id))
        return sorted(found, key=lambda r: _order(r.id or ""))

    def write(self, entity: str, changes: Sequence[Change]) -> list[WriteResult]:
        store = self.store
        crash = store.crash
        if crash and crash.when == "before" and store._write_calls == crash.after_writes:
            _die(crash)
        store.calls.append(("write", entity, len(changes)))
        results = [self._apply(entity, change) for change in changes]
        store._write_calls += 1
        store._save()
        if crash and crash.when == "after" and store._write_calls == crash.after_writes:
            _die(crash)
        return results

    def _apply(self, entity: str, change: Change) -> WriteResult:
        store = self.store
        problem = store.reject(entity, change) if store.reject else None
        if problem:
            return WriteResult(change.key, id=change.id, error=problem)
        store.writes.append((entity, change))
        table = store.table(entity)
        if change.op == "create":
            record_id = store._new_id()
            table[record_id] = {k: deepcopy(v) for k, v in change.fields.items()}
        else:
            record_id = change.id or ""
            if record_id not in table:
                return WriteResult(change.key, id=record_id, error=f"{entity} {record_id} not found")
            if change.op == "delete":
                store.remove(entity, record_id)
                return WriteResult(change.key, id=record_id)
            for name, value in change.fields.items():
                table[record_id][name] = self._merge(name, table[record_id].get(name), value)
        store.modified.setdefault(entity, {})[record_id] = store.now()
        return WriteResult(change.key, id=record_id)

    def _merge(self, name: str, current: Any, value: Any) -> Any:
        if name in self.options.multifields and isinstance(current, list) and isinstance(value, list):
            return [*current, *deepcopy(value)]
        return deepcopy(value)


def _die(crash: CrashPlan) -> None:
    if crash.exit_process:
        os._exit(137)
    raise SimulatedCrash(f"simulated crash after {crash.after_writes} write calls")


def _ge(moment: datetime | None, floor: datetime) -> bool:
    if moment is None:
        return False
    if (moment.tzinfo is None) != (floor.tzinfo is None):
        return moment.replace(tzinfo=None) >= floor.replace(tzinfo=None)
    return moment >= floor


def _order(record_id: str) -> tuple[int, str]:
    return (int(record_id), "") if record_id.isdecimal() else (1 << 62, record_id)


def _matches(value: Any, wanted: set[str]) -> bool:
    for item in normalise.scalar_values(value):
        for name in _COMPARERS:
            key = normalise.NORMALISERS[name](item, "RU")
            if key is not None and key.casefold() in wanted:
                return True
    return False

"""Tables of JSON rows keyed by integer id, in memory, optionally written through to SQLite.

Every piece of portal state (deals, users, tokens, robots, offline events, ...) is a table of
plain JSON-able dicts. With ``--db PATH`` each change is written to SQLite as it happens, and the
whole state is loaded back at start, so an emulator survives restarts.
"""

from __future__ import annotations

import bisect
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

Row = dict[str, Any]


def _indexable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | None)


class Table:
    """One collection: rows by ascending integer id, an id sequence and a change counter."""

    def __init__(self, name: str, store: Store) -> None:
        self.name = name
        self.rows: dict[int, Row] = {}
        self.seq = 0
        self.version = 0
        self._store = store
        self._sorted: list[int] | None = []
        self._indexes: dict[str, dict[Any, int]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows.values())

    def get(self, row_id: int) -> Row | None:
        return self.rows.get(row_id)

    def lookup(self, field: str, value: Any) -> tuple[int, Row] | None:
        """The last row whose ``field`` equals ``value`` (an index kept as rows are written)."""
        if not _indexable(value):
            return None
        index = self._indexes.get(field)
        if index is None:
            index = self._build_index(field)
        rid = index.get(value)
        if rid is None:
            return None
        row = self.rows.get(rid)
        if row is not None and row.get(field) == value:
            return rid, row
        # the indexed row changed or went away: another row may still hold the value
        rid = self._build_index(field).get(value)
        return None if rid is None else (rid, self.rows[rid])

    def _build_index(self, field: str) -> dict[Any, int]:
        index: dict[Any, int] = {}
        for rid, row in self.rows.items():
            stored = row.get(field)
            if _indexable(stored):
                index[stored] = rid
        self._indexes[field] = index
        return index

    def _index_row(self, row_id: int, row: Row) -> None:
        for field, index in self._indexes.items():
            value = row.get(field)
            if _indexable(value):
                index[value] = row_id

    def insert(self, row: Row, row_id: int | None = None) -> int:
        if row_id is None:
            self.seq += 1
            row_id = self.seq
        else:
            self.seq = max(self.seq, row_id)
        self.rows[row_id] = row
        self._index_row(row_id, row)
        self._touch(appended=row_id)
        self._store.persist(self, row_id, row)
        return row_id

    def save(self, row_id: int, row: Row) -> None:
        """Store a changed row (the caller mutated it or built a new one)."""
        self.rows[row_id] = row
        self._index_row(row_id, row)
        self._touch()
        self._store.persist(self, row_id, row)

    def delete(self, row_id: int) -> Row | None:
        row = self.rows.pop(row_id, None)
        if row is not None:
            self._touch(removed=True)
            self._store.persist(self, row_id, None)
        return row

    def sorted_ids(self) -> list[int]:
        if self._sorted is None:
            self._sorted = sorted(self.rows)
        return self._sorted

    def ids_after(self, lower: int) -> list[int]:
        ids = self.sorted_ids()
        return ids[bisect.bisect_right(ids, lower) :]

    def clear(self) -> None:
        self.rows.clear()
        self._indexes.clear()
        self.seq = 0
        self._touch(removed=True)
        self._store.truncate(self)

    def _touch(self, appended: int | None = None, removed: bool = False) -> None:
        self.version += 1
        if self._sorted is None:
            return
        if removed:
            self._sorted = None
        elif appended is not None:
            if not self._sorted or appended > self._sorted[-1]:
                self._sorted.append(appended)
            else:
                self._sorted = None


class Store:
    """All tables of one portal, plus the optional SQLite file behind them."""

    def __init__(self, db_path: str | Path | None = None) -> None:
        self.tables: dict[str, Table] = {}
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._loading = False
        if db_path is not None:
            self._open(Path(db_path))

    def table(self, name: str) -> Table:
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = Table(name, self)
        return table

    @property
    def persistent(self) -> bool:
        return self._db is not None

    @property
    def is_empty(self) -> bool:
        return not any(t.rows for t in self.tables.values())

    def persist(self, table: Table, row_id: int, row: Row | None) -> None:
        if self._db is None or self._loading:
            return
        with self._lock:
            if row is None:
                self._db.execute("DELETE FROM rows WHERE tbl=? AND id=?", (table.name, row_id))
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO rows(tbl, id, data) VALUES (?, ?, ?)",
                    (table.name, row_id, orjson.dumps(row)),
                )
            self._db.execute("INSERT OR REPLACE INTO seqs(tbl, seq) VALUES (?, ?)", (table.name, table.seq))

    def truncate(self, table: Table) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute("DELETE FROM rows WHERE tbl=?", (table.name,))
            self._db.execute("DELETE FROM seqs WHERE tbl=?", (table.name,))

    def reset(self) -> None:
        for table in list(self.tables.values()):
            table.clear()
        self.tables.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS rows"
            " (tbl TEXT NOT NULL, id INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (tbl, id))"
        )
        db.execute("CREATE TABLE IF NOT EXISTS seqs (tbl TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
        self._db = db
        self._loading = True
        try:
            for name, row_id, data in db.execute("SELECT tbl, id, data FROM rows ORDER BY tbl, id"):
                table = self.table(name)
                table.rows[row_id] = orjson.loads(data)
            for name, seq in db.execute("SELECT tbl, seq FROM seqs"):
                self.table(name).seq = seq
            for table in self.tables.values():
                table._sorted = None
                table.seq = max([table.seq, *table.rows])
        finally:
            self._loading = False

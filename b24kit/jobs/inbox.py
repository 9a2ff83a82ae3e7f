"""The durable inbox: accept (dedupe, merge), claim (one task per record at a time), finish,
retry, dead letters, recovery after a crash. Plain SQL through SQLAlchemy Core.

A task's life: ``queued`` -> ``running`` (claimed, with a lease) -> ``done`` | ``queued`` again
(a retry, ``available_at`` in the future) | ``dead`` (attempts used up, or not retriable).
At most one queued task per ``merge_key`` exists (a partial unique index): later arrivals are
merged into it. A queued task is claimed only when no task of its record is running and no
older task of its record is still queued, so a record's tasks run one at a time, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import orjson
from sqlalchemy import Engine, and_, bindparam, case, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.engine import Connection, RowMapping

from .model import Inbound, Outcome, Task, TaskRow
from .tables import QUEUED_MERGE, Tables

MAX_ERRORS_KEPT = 20
_IN_CHUNK = 500  # keys per IN (...) list
Mark = tuple[str, float, dict[str, Any] | None]


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class Inbox:
    """Inbox operations on the runner's store; each call is one transaction."""

    def __init__(self, engine: Engine, tables: Tables, *, durable: bool = True) -> None:
        self.engine = engine
        self.durable = durable
        self.t = tables.inbox
        self.seen = tables.seen
        self.records = tables.records
        self._statements: dict[str, Any] = {}

    @contextmanager
    def _tx(self, *, durable: bool) -> Iterator[Connection]:
        """A transaction; only accepts wait for the disk (``durable``). Losing a finished mark or
        a claim to a power cut only means a task runs again; losing an accepted event would
        break the promise its 200 made. (SQLite: ``synchronous``; PostgreSQL: ``synchronous_commit``.)"""
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql(f"PRAGMA synchronous={'FULL' if durable and self.durable else 'NORMAL'}")
            elif not durable:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            yield conn

    # accepting ----------------------------------------------------------------------------

    def accept(self, items: Sequence[Inbound], *, now: float, dedupe_window: float) -> list[Outcome]:
        """Store ``items`` in one transaction; each is queued, merged into a queued task, or a duplicate."""
        with self._tx(durable=True) as conn:
            return self._accept(conn, items, now, dedupe_window)

    def accept_on(self, conn: Connection, items: Sequence[Inbound], *, now: float) -> None:
        """Queue ``items`` inside a transaction the caller holds (no dedupe)."""
        self._accept(conn, items, now, 0.0)

    def _accept(self, conn: Connection, items: Sequence[Inbound], now: float, window: float) -> list[Outcome]:
        """One ``INSERT ... ON CONFLICT (merge_key) DO UPDATE`` for all items (a single executemany):
        an item whose merge key has a queued task merges into it (the newest payload wins)."""
        outcomes: list[Outcome] = ["duplicate"] * len(items)
        groups: dict[str | int, list[int]] = {}
        repeated = self._repeated(conn, items, now, window)
        for i, item in enumerate(items):
            if i in repeated:
                continue
            groups.setdefault(item.merge_key if item.merge_key is not None else i, []).append(i)
            outcomes[i] = "accepted"
        if groups:
            rows = [self._row(items[ix[0]], items[ix[-1]], len(ix) - 1, now) for ix in groups.values()]
            conn.execute(self._upsert(conn.dialect.name), rows)
        return outcomes

    @staticmethod
    def _row(first: Inbound, last: Inbound, merged: int, now: float) -> dict[str, Any]:
        return {
            "portal": last.portal,
            "kind": last.kind,
            "name": last.name,
            "record_key": last.record_key,
            "merge_key": last.merge_key,
            "payload": _dumps(last.payload),
            "status": "queued",
            "attempts": 0,
            "merged": merged,
            "available_at": now + first.delay,
            "created_at": now,
            "updated_at": now,
            "progress": "{}",
            "errors": "[]",
        }

    def _upsert(self, dialect: str) -> Any:
        cached = self._statements.get(dialect)
        if cached is not None:
            return cached
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        t = self.t
        statement = dialect_insert(t)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.merge_key],
            index_where=text(QUEUED_MERGE),
            set_={
                "payload": statement.excluded.payload,
                "merged": t.c.merged + statement.excluded.merged + 1,
                "updated_at": statement.excluded.updated_at,
            },
        )
        self._statements[dialect] = statement
        return statement

    def _repeated(self, conn: Connection, items: Sequence[Inbound], now: float, window: float) -> set[int]:
        """Indexes of ``items`` whose dedupe key was seen within ``window`` seconds (in the store,
        or earlier in ``items``); the others' keys are recorded as seen ``now``. Two statements
        to read and two executemany to write, whatever the number of items."""
        keys = list(dict.fromkeys(item.dedupe_key for item in items if item.dedupe_key is not None))
        if not keys:
            return set()
        c = self.seen.c
        stored: dict[str, float] = {}
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            for key, seen_at in conn.execute(select(c.key, c.seen_at).where(c.key.in_(chunk))):
                stored[key] = seen_at
        repeated: set[int] = set()
        fresh: dict[str, float] = {}
        for i, item in enumerate(items):
            key = item.dedupe_key
            if key is None:
                continue
            seen_at = fresh.get(key, stored.get(key))
            if seen_at is not None and float(seen_at) >= now - window:
                repeated.add(i)
            else:
                fresh[key] = now
        inserts = [{"key": k, "seen_at": now} for k in fresh if k not in stored]
        updates = [{"k": k, "at": now} for k in fresh if k in stored]
        if inserts:
            conn.execute(insert(self.seen), inserts)
        if updates:
            conn.execute(
                update(self.seen).where(c.key == bindparam("k")).values(seen_at=bindparam("at")), updates
            )
        return repeated

    # claiming -----------------------------------------------------------------------------

    def claim(self, limit: int, *, now: float, lease: float) -> list[Task]:
        """Up to ``limit`` ready tasks, marked running until ``now + lease``."""
        return self.cycle([], limit, now=now, lease=lease)

    def cycle(
        self, done: Sequence[tuple[Task, Mark | None]], limit: int, *, now: float, lease: float
    ) -> list[Task]:
        """Mark ``done`` tasks finished and claim up to ``limit`` more, in one transaction."""
        with self._tx(durable=False) as conn:
            self._complete(conn, done, now)
            return self._claim(conn, limit, now, lease) if limit > 0 else []

    def next_due(self) -> float | None:
        """When the earliest queued task becomes ready (``None``: nothing queued)."""
        with self._tx(durable=False) as conn:
            found = conn.execute(select(func.min(self.t.c.available_at)).where(self.t.c.status == "queued"))
            value = found.scalar()
        return None if value is None else float(value)

    def _claim(self, conn: Connection, limit: int, now: float, lease: float) -> list[Task]:
        ready, mark_running = self._claim_statements()
        rows = conn.execute(ready, {"now": now, "limit": limit}).mappings().all()
        if not rows:
            return []
        conn.execute(mark_running, {"ids": [row["id"] for row in rows], "now": now, "lease": now + lease})
        tasks = [_task(row) for row in rows]
        for task in tasks:
            task.attempts += 1
        return tasks

    def _claim_statements(self) -> tuple[Any, Any]:
        """Built once: a task is ready when no task of its record runs and none older waits
        (so a record's tasks keep their order whichever way the ready ones are walked)."""
        cached = self._statements.get("claim")
        if cached is not None:
            return cast(tuple[Any, Any], cached)
        q, r, e = self.t, self.t.alias("r"), self.t.alias("e")
        free_record = or_(
            q.c.record_key.is_(None),
            and_(
                ~exists().where(r.c.record_key == q.c.record_key, r.c.status == "running"),
                ~exists().where(e.c.record_key == q.c.record_key, e.c.status == "queued", e.c.id < q.c.id),
            ),
        )
        ready = (
            select(q)
            .where(q.c.status == "queued", q.c.available_at <= bindparam("now"), free_record)
            .order_by(q.c.available_at, q.c.id)  # walks the (status, available_at) index: no sort
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True, of=q)
        )
        mark_running = (
            update(q)
            .where(q.c.id.in_(bindparam("ids", expanding=True)), q.c.status == "queued")
            .values(
                status="running",
                attempts=q.c.attempts + 1,
                lease_until=bindparam("lease"),
                updated_at=bindparam("now"),
            )
        )
        self._statements["claim"] = (ready, mark_running)
        return ready, mark_running

    # finishing ----------------------------------------------------------------------------

    def complete(self, done: Sequence[tuple[Task, Mark | None]], *, now: float) -> None:
        """Tasks finished (see :meth:`cycle`)."""
        self.cycle(done, 0, now=now, lease=0.0)

    def _complete(self, conn: Connection, done: Sequence[tuple[Task, Mark | None]], now: float) -> None:
        """A mark (record key, event time, fields read) is remembered for the record: the newest
        event time processed, and the fields last seen."""
        if not done:
            return
        conn.execute(
            update(self.t)
            .where(self.t.c.id == bindparam("task_id"))
            .values(status="done", lease_until=None, updated_at=now, progress=bindparam("task_progress")),
            [{"task_id": task.id, "task_progress": _dumps(task.progress)} for task, _ in done],
        )
        plain = [(task.portal, *mark) for task, mark in done if mark is not None and mark[2] is None]
        if plain:
            self._seen_upsert(conn, plain)
        for task, mark in done:
            if mark is not None and mark[2] is not None:
                self._mark(conn, task.portal, *mark)

    def _seen_upsert(self, conn: Connection, marks: list[tuple[str, str, float, Any]]) -> None:
        t = self.records
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert_insert  # type: ignore[assignment]
        statement = upsert_insert(t)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.portal, t.c.record_key],
            set_={
                "seen_ts": case(
                    (t.c.seen_ts > statement.excluded.seen_ts, t.c.seen_ts), else_=statement.excluded.seen_ts
                )
            },
        )
        rows = {(portal, key): ts for portal, key, ts, _ in marks}
        conn.execute(
            statement,
            [{"portal": p, "record_key": k, "seen_ts": ts, "fields": "{}"} for (p, k), ts in rows.items()],
        )

    def save_progress(self, task: Task, *, now: float) -> None:
        with self._tx(durable=False) as conn:
            conn.execute(
                update(self.t)
                .where(self.t.c.id == task.id)
                .values(progress=_dumps(task.progress), updated_at=now)
            )

    def fail(self, task: Task, error: str, *, now: float, retry_at: float | None) -> str:
        """Record the error; queue the task again at ``retry_at``, or make it a dead letter (``None``)."""
        task.errors = [*task.errors, {"at": now, "attempt": task.attempts, "error": error}][-MAX_ERRORS_KEPT:]
        with self._tx(durable=False) as conn:
            if retry_at is None:
                conn.execute(
                    update(self.t)
                    .where(self.t.c.id == task.id)
                    .values(
                        status="dead",
                        lease_until=None,
                        updated_at=now,
                        errors=_dumps(task.errors),
                        progress=_dumps(task.progress),
                    )
                )
                return "dead"
            self._requeue(conn, task.id, retry_at, now, errors=task.errors, progress=task.progress)
        return "retry"

    def _requeue(
        self,
        conn: Connection,
        task_id: int,
        at: float,
        now: float,
        *,
        errors: list[dict[str, Any]] | None = None,
        progress: dict[str, Any] | None = None,
        reset_attempts: bool = False,
    ) -> None:
        """Queue a task again, or merge it into the queued task with its merge key."""
        row = conn.execute(
            select(self.t.c.merge_key, self.t.c.merged, self.t.c.attempts).where(self.t.c.id == task_id)
        ).first()
        if row is None:
            return
        merge_key, merged, attempts = row
        values: dict[str, Any] = {"updated_at": now, "lease_until": None}
        if errors is not None:
            values["errors"] = _dumps(errors)
        if progress is not None:
            values["progress"] = _dumps(progress)
        if merge_key is not None:
            other = conn.execute(
                select(self.t.c.id, self.t.c.available_at).where(
                    self.t.c.merge_key == merge_key, self.t.c.status == "queued", self.t.c.id != task_id
                )
            ).first()
            if other is not None:
                conn.execute(
                    update(self.t)
                    .where(self.t.c.id == other[0])
                    .values(
                        available_at=max(float(other[1]), at),
                        merged=self.t.c.merged + 1 + int(merged),
                        attempts=0
                        if reset_attempts
                        else case((self.t.c.attempts > attempts, self.t.c.attempts), else_=attempts),
                    )
                )
                values["progress"] = _dumps({"merged_into": other[0]})
                conn.execute(update(self.t).where(self.t.c.id == task_id).values(status="done", **values))
                return
        if reset_attempts:
            values["attempts"] = 0
        conn.execute(
            update(self.t).where(self.t.c.id == task_id).values(status="queued", available_at=at, **values)
        )

    def recover(self, *, now: float, every_running: bool, max_attempts: int) -> int:
        """Running tasks whose lease ran out (or all of them, after this process's own crash)
        go back to the queue; those that used up their attempts become dead letters."""
        condition = self.t.c.status == "running"
        if not every_running:
            condition = and_(condition, self.t.c.lease_until < now)
        with self._tx(durable=False) as conn:
            rows = conn.execute(
                select(self.t.c.id, self.t.c.attempts, self.t.c.errors).where(condition)
            ).all()
            for task_id, attempts, errors_json in rows:
                errors = [
                    *orjson.loads(errors_json),
                    {"at": now, "attempt": attempts, "error": "interrupted"},
                ]
                if attempts >= max_attempts:
                    conn.execute(
                        update(self.t)
                        .where(self.t.c.id == task_id)
                        .values(status="dead", lease_until=None, updated_at=now, errors=_dumps(errors))
                    )
                else:
                    self._requeue(conn, task_id, now, now, errors=errors)
        return len(rows)

    def retry_dead(self, ids: Iterable[int] | None, *, now: float) -> list[int]:
        """Dead letters back to the queue with fresh attempts (all of them when ``ids`` is None)."""
        condition = self.t.c.status == "dead"
        if ids is not None:
            condition = and_(condition, self.t.c.id.in_(list(ids)))
        with self._tx(durable=False) as conn:
            found = [
                row[0] for row in conn.execute(select(self.t.c.id).where(condition).order_by(self.t.c.id))
            ]
            for task_id in found:
                self._requeue(conn, task_id, now, now, reset_attempts=True)
        return found

    # looking ------------------------------------------------------------------------------

    def get(self, task_id: int) -> TaskRow | None:
        with self._tx(durable=False) as conn:
            row = conn.execute(select(self.t).where(self.t.c.id == task_id)).mappings().first()
        return None if row is None else _row(row)

    def rows(self, status: str | None = None, *, limit: int = 100) -> list[TaskRow]:
        query = select(self.t).order_by(self.t.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(self.t.c.status == status)
        with self._tx(durable=False) as conn:
            return [_row(r) for r in conn.execute(query).mappings().all()]

    def counts(self) -> dict[str, int]:
        with self._tx(durable=False) as conn:
            rows = conn.execute(select(self.t.c.status, func.count()).group_by(self.t.c.status)).all()
        return {str(status): int(n) for status, n in rows}

    def purge(self, *, done_before: float, seen_before: float) -> int:
        """Forget finished tasks and delivery keys older than the given times."""
        with self._tx(durable=False) as conn:
            gone = conn.execute(
                delete(self.t).where(self.t.c.status == "done", self.t.c.updated_at < done_before)
            ).rowcount
            conn.execute(delete(self.seen).where(self.seen.c.seen_at < seen_before))
        return int(gone)

    def _mark(
        self, conn: Connection, portal: str, key: str, ts: float, fields: dict[str, Any] | None
    ) -> None:
        t = self.records
        row = conn.execute(
            select(t.c.seen_ts, t.c.fields).where(t.c.portal == portal, t.c.record_key == key)
        ).first()
        if row is None:
            conn.execute(
                insert(t),
                {"portal": portal, "record_key": key, "seen_ts": ts, "fields": _dumps(fields or {})},
            )
            return
        values: dict[str, Any] = {"seen_ts": max(float(row[0]), ts)}
        if fields is not None:
            values["fields"] = _dumps({**orjson.loads(row[1]), **fields})
        conn.execute(update(t).where(t.c.portal == portal, t.c.record_key == key).values(**values))


def _task(row: RowMapping) -> Task:
    return Task(
        id=int(row["id"]),
        portal=row["portal"],
        kind=row["kind"],
        name=row["name"],
        payload=orjson.loads(row["payload"]),
        record_key=row["record_key"],
        attempts=int(row["attempts"]),
        merged=int(row["merged"]),
        created_at=float(row["created_at"]),
        progress=orjson.loads(row["progress"] or "{}"),
        errors=orjson.loads(row["errors"] or "[]"),
    )


def _row(row: RowMapping) -> TaskRow:
    return TaskRow(
        id=int(row["id"]),
        portal=row["portal"],
        kind=row["kind"],
        name=row["name"],
        status=row["status"],
        attempts=int(row["attempts"]),
        merged=int(row["merged"]),
        record_key=row["record_key"],
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        available_at=float(row["available_at"]),
        payload=orjson.loads(row["payload"]),
        progress=orjson.loads(row["progress"] or "{}"),
        errors=orjson.loads(row["errors"] or "[]"),
    )

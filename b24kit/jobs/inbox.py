"""The durable inbox: accept (dedupe, merge), claim (one task per record at a time), finish,
retry, dead letters, recovery after a crash. Plain SQL through SQLAlchemy Core.

A task's life: ``queued`` -> ``running`` (claimed, with a lease) -> ``done`` | ``queued`` again
(a retry, ``available_at`` in the future) | ``dead`` (attempts used up, or not retriable).
At most one queued task per ``merge_key`` exists (a partial unique index): later arrivals are
merged into it. A queued task is claimed only when no task of its record is running and no
older task of its record is still queued, so a record's tasks run one at a time, in order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, and_, case, delete, exists, func, insert, or_, select, update
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from .model import Inbound, Outcome, Task, TaskRow
from .tables import Tables

MAX_ERRORS_KEPT = 20


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))


class Inbox:
    """Inbox operations on the runner's store; each call is one transaction."""

    def __init__(self, engine: Engine, tables: Tables) -> None:
        self.engine = engine
        self.t = tables.inbox
        self.seen = tables.seen
        self.records = tables.records

    # accepting ----------------------------------------------------------------------------

    def accept(self, items: Sequence[Inbound], *, now: float, dedupe_window: float) -> list[Outcome]:
        """Store ``items`` in one transaction; each is queued, merged into a queued task, or a duplicate."""
        try:
            with self.engine.begin() as conn:
                return [self._accept_one(conn, item, now, dedupe_window, nested=False) for item in items]
        except IntegrityError:  # another process queued the same merge key meanwhile: item by item
            with self.engine.begin() as conn:
                return [self._accept_one(conn, item, now, dedupe_window, nested=True) for item in items]

    def accept_on(self, conn: Connection, items: Sequence[Inbound], *, now: float) -> None:
        """Queue ``items`` inside a transaction the caller holds (no dedupe)."""
        for item in items:
            self._accept_one(conn, item, now, 0.0, nested=False)

    def _accept_one(
        self, conn: Connection, item: Inbound, now: float, window: float, *, nested: bool
    ) -> Outcome:
        if item.dedupe_key is not None and self._seen(conn, item.dedupe_key, now, window):
            return "duplicate"
        payload = _dumps(item.payload)
        if item.merge_key is not None:
            merged = conn.execute(
                update(self.t)
                .where(self.t.c.merge_key == item.merge_key, self.t.c.status == "queued")
                .values(payload=payload, merged=self.t.c.merged + 1, updated_at=now)
            )
            if merged.rowcount:
                return "merged"
        row = {
            "portal": item.portal,
            "kind": item.kind,
            "name": item.name,
            "record_key": item.record_key,
            "merge_key": item.merge_key,
            "payload": payload,
            "status": "queued",
            "attempts": 0,
            "merged": 0,
            "available_at": now + item.delay,
            "created_at": now,
            "updated_at": now,
            "progress": "{}",
            "errors": "[]",
        }
        if not nested:
            conn.execute(insert(self.t), row)
            return "queued"
        try:
            with conn.begin_nested():
                conn.execute(insert(self.t), row)
        except IntegrityError:
            return self._accept_one(conn, item, now, window, nested=True)
        return "queued"

    def _seen(self, conn: Connection, key: str, now: float, window: float) -> bool:
        found = conn.execute(select(self.seen.c.seen_at).where(self.seen.c.key == key)).scalar()
        if found is not None and float(found) >= now - window:
            return True
        if found is None:
            conn.execute(insert(self.seen), {"key": key, "seen_at": now})
        else:
            conn.execute(update(self.seen).where(self.seen.c.key == key).values(seen_at=now))
        return False

    # claiming -----------------------------------------------------------------------------

    def claim(self, limit: int, *, now: float, lease: float) -> list[Task]:
        """Up to ``limit`` ready tasks, marked running until ``now + lease``."""
        q, r, e = self.t, self.t.alias("r"), self.t.alias("e")
        free_record = or_(
            q.c.record_key.is_(None),
            and_(
                ~exists().where(r.c.record_key == q.c.record_key, r.c.status == "running"),
                ~exists().where(e.c.record_key == q.c.record_key, e.c.status == "queued", e.c.id < q.c.id),
            ),
        )
        with self.engine.begin() as conn:
            candidates = conn.execute(
                select(q.c.id, q.c.record_key)
                .where(q.c.status == "queued", q.c.available_at <= now, free_record)
                .order_by(q.c.id)
                .limit(limit)
            ).all()
            if not candidates:
                return []
            ids = [row[0] for row in candidates]
            conn.execute(
                update(q)
                .where(q.c.id.in_(ids), q.c.status == "queued")
                .values(status="running", attempts=q.c.attempts + 1, lease_until=now + lease, updated_at=now)
            )
            rows = conn.execute(select(q).where(q.c.id.in_(ids)).order_by(q.c.id)).mappings().all()
        return [_task(row) for row in rows]

    # finishing ----------------------------------------------------------------------------

    def complete(
        self,
        task: Task,
        *,
        now: float,
        mark: tuple[str, float, dict[str, Any] | None] | None = None,
    ) -> None:
        """Done. ``mark``: (record key, event time, fields read) remembered for the record."""
        with self.engine.begin() as conn:
            conn.execute(
                update(self.t)
                .where(self.t.c.id == task.id)
                .values(status="done", lease_until=None, updated_at=now, progress=_dumps(task.progress))
            )
            if mark is not None:
                self._mark(conn, task.portal, *mark)

    def save_progress(self, task: Task, *, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(self.t)
                .where(self.t.c.id == task.id)
                .values(progress=_dumps(task.progress), updated_at=now)
            )

    def fail(self, task: Task, error: str, *, now: float, retry_at: float | None) -> str:
        """Record the error; queue the task again at ``retry_at``, or make it a dead letter (``None``)."""
        task.errors = [*task.errors, {"at": now, "attempt": task.attempts, "error": error}][-MAX_ERRORS_KEPT:]
        with self.engine.begin() as conn:
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
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(self.t.c.id, self.t.c.attempts, self.t.c.errors).where(condition)
            ).all()
            for task_id, attempts, errors_json in rows:
                errors = [*json.loads(errors_json), {"at": now, "attempt": attempts, "error": "interrupted"}]
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
        with self.engine.begin() as conn:
            found = [
                row[0] for row in conn.execute(select(self.t.c.id).where(condition).order_by(self.t.c.id))
            ]
            for task_id in found:
                self._requeue(conn, task_id, now, now, reset_attempts=True)
        return found

    # looking ------------------------------------------------------------------------------

    def get(self, task_id: int) -> TaskRow | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(self.t).where(self.t.c.id == task_id)).mappings().first()
        return None if row is None else _row(row)

    def rows(self, status: str | None = None, *, limit: int = 100) -> list[TaskRow]:
        query = select(self.t).order_by(self.t.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(self.t.c.status == status)
        with self.engine.begin() as conn:
            return [_row(r) for r in conn.execute(query).mappings().all()]

    def counts(self) -> dict[str, int]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(self.t.c.status, func.count()).group_by(self.t.c.status)).all()
        return {str(status): int(n) for status, n in rows}

    def purge(self, *, done_before: float, seen_before: float) -> int:
        """Forget finished tasks and delivery keys older than the given times."""
        with self.engine.begin() as conn:
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
            values["fields"] = _dumps({**json.loads(row[1]), **fields})
        conn.execute(update(t).where(t.c.portal == portal, t.c.record_key == key).values(**values))


def _task(row: RowMapping) -> Task:
    return Task(
        id=int(row["id"]),
        portal=row["portal"],
        kind=row["kind"],
        name=row["name"],
        payload=json.loads(row["payload"]),
        record_key=row["record_key"],
        attempts=int(row["attempts"]),
        merged=int(row["merged"]),
        created_at=float(row["created_at"]),
        progress=json.loads(row["progress"] or "{}"),
        errors=json.loads(row["errors"] or "[]"),
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
        payload=json.loads(row["payload"]),
        progress=json.loads(row["progress"] or "{}"),
        errors=json.loads(row["errors"] or "[]"),
    )

"""StateStore: links, snapshots, cursors, runs and the run log in SQLite or PostgreSQL (SQLAlchemy 2)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from b24kit.database import create_tables, describe, open_engine
from b24kit.errors import SyncError
from b24kit.sync.records import Side
from b24kit.sync.values import dumps, parse_datetime

from .model import BatchCommit, Link, LogEntry, Pending, RunStart, Snapshot
from .tables import Tables

__all__ = ["BatchCommit", "Link", "LogEntry", "Pending", "RunStart", "Snapshot", "StateStore"]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


class StateStore:
    """The sync state of every profile, in one database.

    Args:
        url: a SQLAlchemy URL: ``sqlite:///path/state.db`` (the default kind; the folder is
            created), ``sqlite://`` (in memory) or ``postgresql+psycopg://user@host/db``.
        schema: a PostgreSQL schema to keep the tables in (created when missing).
    """

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.tables = Tables(schema)
        try:
            self.engine = open_engine(url)
            create_tables(self.engine, self.tables.metadata, schema)
        except SQLAlchemyError as exc:
            raise SyncError(f"cannot open the state store: {describe(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # runs -------------------------------------------------------------------------------------

    def start_run(self, profile: str) -> RunStart:
        """Open a run; earlier runs still marked running are marked interrupted."""
        t = self.tables
        with self.engine.begin() as conn:
            stale = [
                r
                for (r,) in conn.execute(
                    select(t.runs.c.id).where(t.runs.c.profile == profile, t.runs.c.status == "running")
                )
            ]
            if stale:
                conn.execute(update(t.runs).where(t.runs.c.id.in_(stale)).values(status="interrupted"))
            rows = conn.execute(select(t.pending).where(t.pending.c.profile == profile)).mappings().all()
            pending = [Pending(r["record_id"], r["side"], r["op"], r["target_id"], r["run_id"]) for r in rows]
            conn.execute(delete(t.pending).where(t.pending.c.profile == profile))
            run_id = conn.execute(
                insert(t.runs).values(
                    profile=profile,
                    started_at=_now(),
                    status="running",
                    counts_json="{}",
                    message="",
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        return RunStart(int(run_id), stale, pending)

    def finish_run(self, run_id: int, status: str, counts: dict[str, int], message: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(self.tables.runs)
                .where(self.tables.runs.c.id == run_id)
                .values(
                    finished_at=_now(),
                    status=status,
                    counts_json=json.dumps(counts, sort_keys=True),
                    message=message,
                )
            )

    def runs(self, profile: str) -> list[dict[str, Any]]:
        t = self.tables.runs
        with self.engine.connect() as conn:
            rows = conn.execute(select(t).where(t.c.profile == profile).order_by(t.c.id)).mappings().all()
        return [{**r, "counts": json.loads(r["counts_json"])} for r in rows]

    # links and snapshots ----------------------------------------------------------------------

    def links_by_source(self, profile: str, ids: Sequence[str]) -> dict[str, Link]:
        t = self.tables.links
        return {
            link.source_id: link for link in self._links(and_(t.c.profile == profile, t.c.source_id.in_(ids)))
        }

    def links_by_target(self, profile: str, ids: Sequence[str]) -> dict[str, Link]:
        t = self.tables.links
        return {
            link.target_id: link for link in self._links(and_(t.c.profile == profile, t.c.target_id.in_(ids)))
        }

    def _links(self, where: Any) -> list[Link]:
        t = self.tables.links
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.source_id, t.c.target_id, t.c.state, t.c.seen_run).where(where)
            ).all()
        return [Link(*row) for row in rows]

    def snapshots(self, profile: str, source_ids: Sequence[str]) -> dict[str, Snapshot]:
        t = self.tables.snapshots
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.profile == profile, t.c.source_id.in_(source_ids))
            ).mappings()
            return {
                r["source_id"]: Snapshot(
                    json.loads(r["source_json"]),
                    json.loads(r["target_json"]),
                    parse_datetime(r["source_modified"]),
                    parse_datetime(r["target_modified"]),
                )
                for r in rows
            }

    def count_links(self, profile: str, state: str = "active") -> int:
        t = self.tables.links
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(t).where(t.c.profile == profile, t.c.state == state)
                ).scalar_one()
            )

    def unseen_links(self, profile: str, run_id: int) -> list[Link]:
        """Active links whose source record was not read in run ``run_id``."""
        t = self.tables.links
        seen = t.c.seen_run
        return self._links(
            and_(t.c.profile == profile, t.c.state == "active", (seen.is_(None)) | (seen != run_id))
        )

    def export_links(self, profile: str) -> Iterator[Link]:
        t = self.tables.links
        with self.engine.connect() as conn:
            result = conn.execute(
                select(t.c.source_id, t.c.target_id, t.c.state, t.c.seen_run)
                .where(t.c.profile == profile)
                .order_by(t.c.source_id)
            )
            for row in result:
                yield Link(*row)

    def import_links(self, profile: str, links: Iterable[Link], *, replace: bool = False) -> int:
        """Add links (an existing pair for the same source is replaced); ``replace`` drops all first."""
        t = self.tables
        count = 0
        with self.engine.begin() as conn:
            if replace:
                conn.execute(delete(t.links).where(t.links.c.profile == profile))
                conn.execute(delete(t.snapshots).where(t.snapshots.c.profile == profile))
            for link in links:
                self._unlink_target(conn, profile, link.target_id, link.source_id)
                self._upsert_link(conn, profile, link)
                count += 1
        return count

    # the batch commit -------------------------------------------------------------------------

    def note_pending(self, profile: str, run_id: int, items: Sequence[Pending]) -> None:
        """Record writes about to be sent (committed at once), cleared by the batch's commit."""
        if not items:
            return
        with self.engine.begin() as conn:
            conn.execute(
                insert(self.tables.pending),
                [
                    {
                        "profile": profile,
                        "run_id": run_id,
                        "record_id": p.record_id,
                        "side": p.side,
                        "op": p.op,
                        "target_id": p.target_id,
                    }
                    for p in items
                ],
            )

    def commit(self, profile: str, run_id: int, batch: BatchCommit) -> None:
        """Apply one batch's links, snapshots, seen marks, log lines and cursors atomically."""
        t = self.tables
        now = _now()
        with self.engine.begin() as conn:
            if batch.unlink:
                conn.execute(
                    delete(t.links).where(t.links.c.profile == profile, t.links.c.source_id.in_(batch.unlink))
                )
                conn.execute(
                    delete(t.snapshots).where(
                        t.snapshots.c.profile == profile, t.snapshots.c.source_id.in_(batch.unlink)
                    )
                )
            for link in batch.links:
                self._unlink_target(conn, profile, link.target_id, link.source_id)
                self._upsert_link(conn, profile, link)
            for source_id, snap in batch.snapshots.items():
                self._upsert_snapshot(conn, profile, source_id, snap, now)
            if batch.seen:
                conn.execute(
                    update(t.links)
                    .where(t.links.c.profile == profile, t.links.c.source_id.in_(batch.seen))
                    .values(seen_run=run_id)
                )
            if batch.log:
                conn.execute(insert(t.log), [_log_row(profile, run_id, e, now) for e in batch.log])
            for side, value in batch.cursors.items():
                self._upsert(
                    conn,
                    t.cursors,
                    {"profile": profile, "side": side},
                    {"value": value.isoformat(), "updated_at": now},
                )
            conn.execute(
                delete(t.pending).where(t.pending.c.profile == profile, t.pending.c.run_id == run_id)
            )

    def _unlink_target(self, conn: Connection, profile: str, target_id: str, source_id: str) -> None:
        """A target moves to another source record: drop its old pair first (the target id is unique)."""
        t = self.tables
        old = (
            conn.execute(
                select(t.links.c.source_id).where(
                    t.links.c.profile == profile,
                    t.links.c.target_id == target_id,
                    t.links.c.source_id != source_id,
                )
            )
            .scalars()
            .all()
        )
        if old:
            conn.execute(delete(t.links).where(t.links.c.profile == profile, t.links.c.source_id.in_(old)))
            conn.execute(
                delete(t.snapshots).where(t.snapshots.c.profile == profile, t.snapshots.c.source_id.in_(old))
            )

    def _upsert_link(self, conn: Connection, profile: str, link: Link) -> None:
        now = _now()
        values: dict[str, Any] = {"target_id": link.target_id, "state": link.state, "updated_at": now}
        if link.seen_run is not None:
            values["seen_run"] = link.seen_run
        self._upsert(
            conn,
            self.tables.links,
            {"profile": profile, "source_id": link.source_id},
            values,
            insert_only={"created_at": now},
        )

    def _upsert_snapshot(
        self, conn: Connection, profile: str, source_id: str, snap: Snapshot, now: str
    ) -> None:
        self._upsert(
            conn,
            self.tables.snapshots,
            {"profile": profile, "source_id": source_id},
            {
                "source_json": dumps(snap.source),
                "target_json": dumps(snap.target),
                "source_modified": _when(snap.source_modified),
                "target_modified": _when(snap.target_modified),
                "digest": snap.digest(),
                "synced_at": now,
            },
        )

    def _upsert(
        self,
        conn: Connection,
        table: Any,
        key: dict[str, Any],
        values: dict[str, Any],
        insert_only: dict[str, Any] | None = None,
    ) -> None:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(table).values(**key, **values, **(insert_only or {}))
        conn.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=values))

    # cursors and the log ----------------------------------------------------------------------

    def cursor(self, profile: str, side: Side) -> datetime | None:
        t = self.tables.cursors
        with self.engine.connect() as conn:
            value = conn.execute(select(t.c.value).where(t.c.profile == profile, t.c.side == side)).scalar()
        return parse_datetime(value)

    def log_entries(self, profile: str, run_id: int | None = None) -> list[LogEntry]:
        t = self.tables.log
        query = select(t).where(t.c.profile == profile)
        if run_id is not None:
            query = query.where(t.c.run_id == run_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.c.id)).mappings().all()
        return [
            LogEntry(
                r["action"],
                r["ref"],
                r["source_id"],
                r["target_id"],
                r["side"],
                json.loads(r["fields_json"]),
                r["message"],
                r["at"],
                r["run_id"],
            )
            for r in rows
        ]


def _log_row(profile: str, run_id: int, entry: LogEntry, now: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "profile": profile,
        "at": entry.at or now,
        "ref": entry.ref[:255],
        "source_id": entry.source_id,
        "target_id": entry.target_id,
        "side": entry.side,
        "action": entry.action,
        "fields_json": dumps(entry.fields),
        "message": entry.message,
    }

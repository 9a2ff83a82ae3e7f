"""The runner's state store (SQLAlchemy 2: SQLite by default, PostgreSQL): the inbox lives in
:mod:`.inbox`; here the engine, timers, record marks, installs and key-values.

Every method is synchronous and short; the asyncio side calls them on one database thread
(:class:`b24kit.jobs.queue.StoreQueue`), which also groups concurrent accepts into one commit.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from b24kit.database import create_tables, describe, open_engine
from b24kit.errors import JobError

from .inbox import Inbox
from .model import Inbound
from .tables import Tables


@dataclass(frozen=True)
class Install:
    """What ONAPPINSTALL told us about a portal."""

    portal: str
    application_token: str
    member_id: str
    domain: str
    client_endpoint: str
    installed_at: float


class JobStore:
    """The runner's tables in one database; ``url`` is a SQLAlchemy URL.

    ``durability`` (SQLite): ``full`` syncs the log on every commit (an accepted event survives a
    power cut), ``normal`` survives a killed process only.
    """

    def __init__(self, url: str, *, durability: str = "full", schema: str | None = None) -> None:
        self.url = url
        self.tables = Tables(schema)
        try:
            self.engine = open_engine(
                url,
                synchronous="FULL" if durability == "full" else "NORMAL",
                example="sqlite:///path/runner.db",
                field="runner.state",
            )
            create_tables(self.engine, self.tables.metadata, schema)
        except SQLAlchemyError as exc:
            raise JobError(f"cannot open the runner's state store: {describe(exc)}") from None
        self.inbox = Inbox(self.engine, self.tables, durable=durability == "full")

    @property
    def exclusive(self) -> bool:
        """SQLite: one runner process owns the store (so its running tasks died with it)."""
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> JobStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction that waits for the disk (timers, installs, key-values are promises too)."""
        try:
            with self.engine.begin() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql(f"PRAGMA synchronous={'FULL' if self.inbox.durable else 'NORMAL'}")
                yield conn
        except SQLAlchemyError as exc:
            raise JobError(f"state store: {describe(exc)}") from None

    # key-values ---------------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        kv = self.tables.kv
        with self.begin() as conn:
            return conn.execute(select(kv.c.value).where(kv.c.key == key)).scalar()

    def set(self, key: str, value: str) -> None:
        with self.begin() as conn:
            self.put_kv(conn, key, value)

    def put_kv(self, conn: Connection, key: str, value: str) -> None:
        kv = self.tables.kv
        now = time.time()
        done = conn.execute(update(kv).where(kv.c.key == key).values(value=value, updated_at=now))
        if done.rowcount == 0:
            conn.execute(insert(kv).values(key=key, value=value, updated_at=now))

    def delete(self, key: str) -> None:
        with self.begin() as conn:
            conn.execute(delete(self.tables.kv).where(self.tables.kv.c.key == key))

    def keys(self, prefix: str) -> dict[str, str]:
        kv = self.tables.kv
        with self.begin() as conn:
            rows = conn.execute(
                select(kv.c.key, kv.c.value).where(kv.c.key.startswith(prefix, autoescape=True))
            )
            return {str(k): str(v) for k, v in rows}

    # installs -----------------------------------------------------------------------------

    def save_install(self, install: Install) -> None:
        t = self.tables.installs
        values = {
            "application_token": install.application_token,
            "member_id": install.member_id,
            "domain": install.domain,
            "client_endpoint": install.client_endpoint,
            "installed_at": install.installed_at,
        }
        with self.begin() as conn:
            done = conn.execute(update(t).where(t.c.portal == install.portal).values(**values))
            if done.rowcount == 0:
                conn.execute(insert(t).values(portal=install.portal, **values))

    def delete_install(self, portal: str) -> None:
        with self.begin() as conn:
            conn.execute(delete(self.tables.installs).where(self.tables.installs.c.portal == portal))

    def installs(self) -> dict[str, Install]:
        t = self.tables.installs
        with self.begin() as conn:
            rows = conn.execute(select(t)).mappings().all()
        return {r["portal"]: Install(**r) for r in rows}

    # timers -------------------------------------------------------------------------------

    def schedule_timer(self, portal: str, key: str, due: float, action: str, payload: dict[str, Any]) -> None:
        """Set (or move) the timer ``key`` of ``portal``."""
        t = self.tables.timers
        values = {"due": due, "action": action, "payload": json.dumps(payload, default=str)}
        with self.begin() as conn:
            done = conn.execute(update(t).where(t.c.portal == portal, t.c.key == key).values(**values))
            if done.rowcount == 0:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(t).values(portal=portal, key=key, created_at=time.time(), **values)
                        )
                except IntegrityError:
                    conn.execute(update(t).where(t.c.portal == portal, t.c.key == key).values(**values))

    def cancel_timer(self, portal: str, key: str) -> bool:
        t = self.tables.timers
        with self.begin() as conn:
            return conn.execute(delete(t).where(t.c.portal == portal, t.c.key == key)).rowcount > 0

    def timers(self, portal: str | None = None) -> list[dict[str, Any]]:
        t = self.tables.timers
        query = select(t).order_by(t.c.due)
        if portal is not None:
            query = query.where(t.c.portal == portal)
        with self.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**r, "payload": json.loads(r["payload"])} for r in rows]

    def fire_timers(self, now: float, limit: int = 500) -> int:
        """Turn due timers into tasks and delete them, in one transaction."""
        t = self.tables.timers
        with self.begin() as conn:
            rows = (
                conn.execute(select(t).where(t.c.due <= now).order_by(t.c.due).limit(limit)).mappings().all()
            )
            items = [
                Inbound(
                    portal=r["portal"],
                    kind="timer",
                    name=r["action"],
                    payload={
                        "key": r["key"],
                        "action": r["action"],
                        "payload": json.loads(r["payload"]),
                        "due": r["due"],
                    },
                )
                for r in rows
            ]
            self.inbox.accept_on(conn, items, now=now)
            for r in rows:
                conn.execute(
                    delete(t).where(t.c.portal == r["portal"], t.c.key == r["key"], t.c.due == r["due"])
                )
        return len(rows)

    def next_due(self) -> float | None:
        with self.begin() as conn:
            value = conn.execute(select(func.min(self.tables.timers.c.due))).scalar()
        return None if value is None else float(value)

    # records ------------------------------------------------------------------------------

    def record(self, portal: str, record_key: str) -> tuple[float, dict[str, Any]]:
        """The latest event time processed for a record, and the fields last seen."""
        t = self.tables.records
        with self.begin() as conn:
            row = conn.execute(
                select(t.c.seen_ts, t.c.fields).where(t.c.portal == portal, t.c.record_key == record_key)
            ).first()
        return (0.0, {}) if row is None else (float(row[0]), json.loads(row[1]))

    def seen_times(self, portal: str, keys: list[str]) -> dict[str, float]:
        t = self.tables.records
        found: dict[str, float] = {}
        with self.begin() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = conn.execute(
                    select(t.c.record_key, t.c.seen_ts).where(t.c.portal == portal, t.c.record_key.in_(chunk))
                )
                found.update({k: float(v) for k, v in rows})
        return found

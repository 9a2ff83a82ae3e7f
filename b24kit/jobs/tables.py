"""The runner's tables: the inbox (tasks), seen deliveries, timers, record marks, installs, key-values."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, text

KEY = String(255)
QUEUED_MERGE = "status = 'queued' AND merge_key IS NOT NULL"


class Tables:
    """Every table of the runner's store, bound to one ``MetaData``."""

    def __init__(self, schema: str | None = None) -> None:
        self.metadata = MetaData(schema=schema)
        m = self.metadata
        # One row per task. status: queued -> running -> done | dead (and back to queued on retry).
        self.inbox = Table(
            "jobs_inbox",
            m,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("portal", String(100), nullable=False),
            Column("kind", String(16), nullable=False),  # event | robot | job | timer | webhook
            Column("name", String(200), nullable=False),  # event name, robot code, job name, timer action
            Column("record_key", KEY, nullable=True),  # tasks on one record never run at once
            Column("merge_key", KEY, nullable=True),  # queued tasks with one merge key are merged
            Column("payload", Text, nullable=False),
            Column("status", String(10), nullable=False),
            Column("attempts", Integer, nullable=False, default=0),
            Column("merged", Integer, nullable=False, default=0),
            Column("available_at", Float, nullable=False),
            Column("lease_until", Float, nullable=True),
            Column("created_at", Float, nullable=False),
            Column("updated_at", Float, nullable=False),
            Column("progress", Text, nullable=False, default="{}"),  # jobs done, a robot's answer
            Column("errors", Text, nullable=False, default="[]"),
            Index("jobs_inbox_ready", "status", "id"),
            Index("jobs_inbox_due", "status", "available_at"),
            Index("jobs_inbox_record", "record_key", "status"),
            Index(
                "jobs_inbox_merge",
                "merge_key",
                unique=True,
                sqlite_where=text(QUEUED_MERGE),
                postgresql_where=text(QUEUED_MERGE),
            ),
        )
        # Deliveries already accepted (by a key of their content), for dropping repeats.
        self.seen = Table(
            "jobs_seen",
            m,
            Column("key", String(64), primary_key=True),
            Column("task_id", Integer, nullable=True),
            Column("seen_at", Float, nullable=False, index=True),
        )
        self.timers = Table(
            "jobs_timers",
            m,
            Column("portal", String(100), primary_key=True),
            Column("key", KEY, primary_key=True),
            Column("due", Float, nullable=False, index=True),
            Column("action", String(200), nullable=False),
            Column("payload", Text, nullable=False),
            Column("created_at", Float, nullable=False),
        )
        # Per record: the latest event time processed and the fields last seen (``changed`` conditions).
        self.records = Table(
            "jobs_records",
            m,
            Column("portal", String(100), primary_key=True),
            Column("record_key", KEY, primary_key=True),
            Column("seen_ts", Float, nullable=False, default=0),
            Column("fields", Text, nullable=False, default="{}"),
        )
        # What an application install told us: the application_token events are checked against.
        self.installs = Table(
            "jobs_installs",
            m,
            Column("portal", String(100), primary_key=True),
            Column("application_token", String(255), nullable=False),
            Column("member_id", String(255), nullable=False, default=""),
            Column("domain", String(255), nullable=False, default=""),
            Column("client_endpoint", String(500), nullable=False, default=""),
            Column("installed_at", Float, nullable=False),
        )
        self.kv = Table(
            "jobs_kv",
            m,
            Column("key", KEY, primary_key=True),
            Column("value", Text, nullable=False),
            Column("updated_at", Float, nullable=False),
        )

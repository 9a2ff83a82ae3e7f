"""The state store's tables: links, snapshots, cursors, runs, the per-record log and pending writes."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

ID = String(255)
WHEN = String(40)  # ISO 8601 with offset: portable across SQLite and PostgreSQL, keeps the zone


class Tables:
    """Every table of the store, bound to one ``MetaData`` (optionally in a PostgreSQL schema)."""

    def __init__(self, schema: str | None = None) -> None:
        self.metadata = MetaData(schema=schema)
        m = self.metadata
        self.links = Table(
            "sync_links",
            m,
            Column("profile", String(100), primary_key=True),
            Column("source_id", ID, primary_key=True),
            Column("target_id", ID, nullable=False),
            Column("state", String(16), nullable=False, default="active"),
            Column("seen_run", Integer, nullable=True),
            Column("created_at", WHEN, nullable=False),
            Column("updated_at", WHEN, nullable=False),
            UniqueConstraint("profile", "target_id", name="sync_links_target"),
        )
        self.snapshots = Table(
            "sync_snapshots",
            m,
            Column("profile", String(100), primary_key=True),
            Column("source_id", ID, primary_key=True),
            Column("source_json", Text, nullable=False),
            Column("target_json", Text, nullable=False),
            Column("source_modified", WHEN, nullable=True),
            Column("target_modified", WHEN, nullable=True),
            Column("digest", String(64), nullable=False),
            Column("synced_at", WHEN, nullable=False),
        )
        self.cursors = Table(
            "sync_cursors",
            m,
            Column("profile", String(100), primary_key=True),
            Column("side", String(10), primary_key=True),
            Column("value", WHEN, nullable=False),
            Column("updated_at", WHEN, nullable=False),
        )
        self.runs = Table(
            "sync_runs",
            m,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("profile", String(100), nullable=False, index=True),
            Column("started_at", WHEN, nullable=False),
            Column("finished_at", WHEN, nullable=True),
            Column("status", String(16), nullable=False),
            Column("counts_json", Text, nullable=False, default="{}"),
            Column("message", Text, nullable=False, default=""),
        )
        self.log = Table(
            "sync_log",
            m,
            Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
            Column("run_id", Integer, nullable=False),
            Column("profile", String(100), nullable=False),
            Column("at", WHEN, nullable=False),
            Column("ref", String(255), nullable=False, default=""),
            Column("source_id", ID, nullable=True),
            Column("target_id", ID, nullable=True),
            Column("side", String(10), nullable=False, default="target"),
            Column("action", String(16), nullable=False),
            Column("fields_json", Text, nullable=False, default="[]"),
            Column("message", Text, nullable=False, default=""),
            Index("sync_log_record", "profile", "source_id"),
            Index("sync_log_run", "run_id"),
        )
        self.pending = Table(
            "sync_pending",
            m,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("profile", String(100), nullable=False, index=True),
            Column("run_id", Integer, nullable=False),
            Column("record_id", ID, nullable=False),
            Column("side", String(10), nullable=False),
            Column("op", String(10), nullable=False),
            Column("target_id", ID, nullable=True),
        )

"""The database under b24kit's state stores (the sync state, the runner's store): a SQLAlchemy 2
engine for SQLite or PostgreSQL, the tables created, and errors told without the URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from b24kit.errors import ConfigError


def open_engine(
    url: str,
    *,
    synchronous: Literal["FULL", "NORMAL"] = "NORMAL",
    example: str = "sqlite:///path/state.db",
    field: str | None = None,
) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` (the folder is created), ``sqlite://`` (in memory)
    or ``postgresql+psycopg://...``.

    SQLite runs in WAL mode with a 10 s busy timeout; ``synchronous`` is its log sync on commit
    (``FULL`` survives a power cut, ``NORMAL`` a killed process). An unknown scheme raises
    :class:`ConfigError` naming ``field`` and suggesting ``example``.
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1] if ":///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"check_same_thread": False})
        else:
            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )

        def pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        event.listen(engine, "connect", pragmas)
        return engine
    if not url.startswith(("postgresql", "postgres")):
        raise ConfigError(
            f"unsupported state store URL scheme {url.split(':', 1)[0]!r}",
            field=field,
            suggestion=f"use {example} or postgresql+psycopg://user@host/db",
        )
    return create_engine(url, pool_pre_ping=True)


def create_tables(engine: Engine, metadata: MetaData, schema: str | None) -> None:
    """Create the missing tables of ``metadata``, in ``schema`` on PostgreSQL (created when missing)."""
    with engine.begin() as conn:
        if schema and engine.dialect.name == "postgresql":
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        metadata.create_all(conn)


def describe(exc: SQLAlchemyError) -> str:
    """The error's type and first line, without the URL (it may hold a password)."""
    return f"{type(exc).__name__}: " + str(getattr(exc, "orig", None) or exc).splitlines()[0]

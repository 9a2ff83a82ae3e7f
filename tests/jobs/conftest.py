"""Fixtures for the runner tests: a state store on SQLite or PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from b24kit.jobs.store import JobStore


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    """A fresh runner store: SQLite in a temp folder, or a schema of its own in PostgreSQL."""
    if request.param == "sqlite":
        with JobStore(f"sqlite:///{tmp_path}/runner.db") as made:
            yield made
        return
    url = request.getfixturevalue("postgres_url")
    schema = f"jobs_{secrets.token_hex(4)}"
    try:
        with JobStore(url, schema=schema) as made:
            yield made
    finally:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

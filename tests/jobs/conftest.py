"""Fixtures for the runner tests: a state store on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from b24kit.jobs.store import JobStore
from tests.conftest import postgres_schema


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[JobStore]:
    """A fresh runner store: SQLite in a temp folder, or a schema of its own in PostgreSQL."""
    if request.param == "sqlite":
        with JobStore(f"sqlite:///{tmp_path}/runner.db") as made:
            yield made
        return
    url = request.getfixturevalue("postgres_url")
    with postgres_schema(url, "jobs") as schema, JobStore(url, schema=schema) as made:
        yield made

"""Fixtures for the sync tests: fresh memory stores, a SQLite state store, profiles from text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from b24kit.sync import StateStore, load_profile_text, run_sync
from b24kit.sync.connector import ConnectorContext, open_connector
from b24kit.sync.connectors.memory import MemoryStore, memory_store, reset_memory_stores
from b24kit.sync.engine import RunReport
from b24kit.sync.spec import Profile

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_memory() -> Iterator[None]:
    reset_memory_stores()
    yield
    reset_memory_stores()


@pytest.fixture
def state(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore(f"sqlite:///{tmp_path}/state.db") as store:
        yield store


@pytest.fixture
def src() -> MemoryStore:
    return memory_store("src")


@pytest.fixture
def dst() -> MemoryStore:
    return memory_store("dst")


HEAD = """
version: 1
name: {name}
source: {{connector: memory, entity: rows, options: {{store: src}}}}
target: {{connector: memory, entity: contact, options: {{store: dst}}}}
"""


def profile(body: str, name: str = "test", head: str = HEAD) -> Profile:
    """A profile from YAML text: the memory source 'rows' -> memory target 'contact' head, plus ``body``."""
    text = textwrap.dedent(head.format(name=name)) + textwrap.dedent(body)
    return load_profile_text(text, source="test.yaml", env={})


def sync(prof: Profile, store: StateStore, **kwargs: Any) -> RunReport:
    """Run (or, with plan_only=True, plan) a profile against its memory connectors."""
    ctx = ConnectorContext()
    source = open_connector(prof.source.connector, prof.source.options, ctx)
    target = open_connector(prof.target.connector, prof.target.options, ctx)
    kwargs.setdefault("keep_outcomes", True)
    return run_sync(prof, source, target, store, **kwargs)


def outcomes(report: RunReport, action: str | None = None) -> list[Any]:
    return [o for o in report.outcomes if action is None or o.action == action]


class Clock:
    """A clock for the memory stores (``store.clock = clock``): tests decide which side changed last."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)


def fetches(store: MemoryStore) -> int:
    """How many times the connector fetched records from ``store`` by id."""
    return sum(1 for kind, *_ in store.calls if kind == "fetch")

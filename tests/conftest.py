"""Shared fixtures; the emulator fixtures come from the b24kit pytest plugin."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL URL from B24KIT_TEST_POSTGRES_URL, or skip with how to enable it."""
    url = os.environ.get("B24KIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip(
            "PostgreSQL tests need B24KIT_TEST_POSTGRES_URL, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test (.ci/run sets it)"
        )
    return url


@contextlib.contextmanager
def postgres_schema(url: str, prefix: str) -> Iterator[str]:
    """A fresh schema name for a store under test (the store creates it); dropped, cascading, on exit."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    try:
        yield schema
    finally:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

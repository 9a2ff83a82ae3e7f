"""Shared fixtures; the emulator fixtures come from the b24kit pytest plugin."""

from __future__ import annotations

import os

import pytest


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

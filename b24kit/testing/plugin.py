"""pytest fixtures: ``b24_emulator`` (reset per test) and ``b24_webhook_url``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import RunningEmulator


@pytest.fixture(scope="session")
def _b24_emulator_session() -> Iterator[RunningEmulator]:
    running = RunningEmulator()
    yield running
    running.close()


@pytest.fixture
def b24_emulator(_b24_emulator_session: RunningEmulator) -> RunningEmulator:
    """A running emulator, reset to a fresh portal before the test."""
    _b24_emulator_session.reset()
    return _b24_emulator_session


@pytest.fixture
def b24_webhook_url(b24_emulator: RunningEmulator) -> str:
    return b24_emulator.webhook_url

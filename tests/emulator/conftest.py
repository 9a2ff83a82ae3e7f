"""Fixtures for the emulator tests: a receiver for the portal's outgoing POSTs, an installed app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from b24kit.testing import RunningEmulator

from .event_receiver import Receiver, install


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP server that keeps every POST the portal sends it (events, robots, installs)."""
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def app(b24_emulator: RunningEmulator) -> dict[str, Any]:
    """A local application installed on the emulator: its tokens and application_token."""
    return install(b24_emulator)

"""Pytest fixtures: ``jira_server`` starts fakes (stopped after the test), ``webhook_receiver`` records POSTs.

Use them with ``pytest_plugins = ["tests.doubles.jira_fake.fixtures"]`` in a test module or the root conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .receiver import WebhookReceiver
from .server import JiraFake


@pytest.fixture
def jira_server() -> Iterator[Callable[..., JiraFake]]:
    """A factory: ``jira_server(mode="cloud", time_zone="America/New_York")`` gives a started ``JiraFake``."""
    started: list[JiraFake] = []

    def start(mode: str = "server", **options: Any) -> JiraFake:
        fake = JiraFake(mode, **options).start()  # type: ignore[arg-type]
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver

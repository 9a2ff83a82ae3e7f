"""Fixtures for the Jira sync tests: the fake Jira (in-thread or as a process) and connector options."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.sync.connectors.jira import JiraConnector, JiraOptions
from tests.doubles.jira_fake import JiraFake
from tests.doubles.jira_fake.fixtures import jira_server, webhook_receiver

__all__ = ["jira_server", "webhook_receiver"]

MODES = ["server", "cloud"]
ROUTES = {"Done": ["Start Progress"], "In Review": ["Start Progress"]}


def jira_options(fake: JiraFake, **extra: Any) -> dict[str, Any]:
    """Connector options for the fake's admin: a PAT on Server/DC, e-mail and API token on Cloud."""
    admin = fake.admin
    auth: dict[str, Any] = (
        {"user": admin.email, "token": admin.api_token} if fake.mode == "cloud" else {"token": admin.pat}
    )
    return {
        "url": fake.url,
        "projects": ["OPS"],
        "issue_types": ["Purchase Request"],
        "statuses": ROUTES,
        **auth,
        **extra,
    }


def connect(fake: JiraFake, **extra: Any) -> JiraConnector:
    return JiraConnector(JiraOptions.model_validate(jira_options(fake, **extra)))


@pytest.fixture(params=MODES)
def fake(request: pytest.FixtureRequest, jira_server: Any) -> JiraFake:
    """A fake Jira in each mode, its account in New York (JQL dates are read there)."""
    started: JiraFake = jira_server(request.param, time_zone="America/New_York")
    return started

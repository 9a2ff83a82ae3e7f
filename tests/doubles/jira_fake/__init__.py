"""A fake Jira (Server/DC or Cloud) over real HTTP for tests: the real ``jira`` library works against it.

``JiraFake(mode).start()`` or the ``jira_server`` fixture in ``fixtures.py``; see ``server.py`` for the hooks.
"""

from __future__ import annotations

from .catalog import Mode, User
from .receiver import Received, WebhookReceiver
from .server import JiraFake
from .webhooks import Delivery, Webhook, sign

__all__ = ["Delivery", "JiraFake", "Mode", "Received", "User", "Webhook", "WebhookReceiver", "sign"]

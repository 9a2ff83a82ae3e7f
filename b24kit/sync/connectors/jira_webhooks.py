"""Jira webhooks, as pure functions: the shared-secret signature, what a delivery is about, what to sync.

Jira signs an admin webhook registered with a secret: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of
the raw body>``. Every retry of one delivery carries the same ``X-Atlassian-Webhook-Identifier``,
which is what a receiver deduplicates by. The runner (``/webhooks/jira/{name}``) plugs these in; a
delivery turns into a sync of the one issue it names (``run_sync(..., only=...)``), and the
scheduled reconciliation run picks up whatever a lost delivery would have brought.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from b24kit.errors import B24Error

SIGNATURE = "x-hub-signature"
IDENTIFIER = "x-atlassian-webhook-identifier"
RETRY = "x-atlassian-webhook-retry"
ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")


class JiraWebhookError(B24Error, ValueError):
    """The body is not a Jira webhook payload (answer 400: a retry would not help)."""


@dataclass(frozen=True, slots=True)
class JiraDelivery:
    """One webhook delivery: its id, the event, the issue it is about, who did it and what changed."""

    identifier: str | None
    event: str
    issue_id: str | None
    issue_key: str | None
    at: datetime | None
    actor: str | None
    changed: tuple[str, ...]
    retry: int = 0

    @property
    def deleted(self) -> bool:
        return self.event == "jira:issue_deleted"


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant-time compare)."""
    if not secret or not header:
        return False
    algorithm, _, given = header.strip().partition("=")
    if algorithm.lower() != "sha256" or not given:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().lower().encode(), expected.encode())


def verify_request(headers: Mapping[str, str], query: Mapping[str, str], body: bytes, secret: str) -> bool:
    """The runner's check: the signature header (names in any case) against the source's secret."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return verify_signature(body, lowered.get(SIGNATURE), secret)


def parse_payload(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise JiraWebhookError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise JiraWebhookError("the body must be a JSON object")
    if not isinstance(data.get("webhookEvent"), str) or not data["webhookEvent"]:
        raise JiraWebhookError("the body has no webhookEvent: is this a Jira webhook?")
    issue = data.get("issue")
    if issue is not None and (not isinstance(issue, dict) or not str(issue.get("id") or "").isdecimal()):
        raise JiraWebhookError("issue must be an object with a numeric id")
    return data


def parse_delivery(body: bytes, headers: Mapping[str, str] | None = None) -> JiraDelivery:
    """What a delivery is about; ``JiraWebhookError`` when the body is not a Jira payload."""
    data = parse_payload(body)
    lowered = {k.lower(): v for k, v in (headers or {}).items()}
    issue = data.get("issue") or {}
    raw_user = data.get("user")
    user: dict[str, Any] = raw_user if isinstance(raw_user, dict) else {}
    actor = str(user.get("accountId") or user.get("name") or "") or None
    stamp = data.get("timestamp")
    changelog = data.get("changelog") or {}
    items = changelog.get("items") if isinstance(changelog, dict) else None
    retry = lowered.get(RETRY, "0")
    return JiraDelivery(
        identifier=lowered.get(IDENTIFIER) or None,
        event=str(data["webhookEvent"]),
        issue_id=str(issue["id"]) if issue.get("id") is not None else None,
        issue_key=str(issue["key"]) if issue.get("key") else None,
        at=datetime.fromtimestamp(stamp / 1000, UTC) if isinstance(stamp, int | float) else None,
        actor=actor,
        changed=tuple(str(i.get("fieldId") or i.get("field")) for i in items or [] if isinstance(i, dict)),
        retry=int(retry) if str(retry).isdecimal() else 0,
    )


def event_of(body: bytes) -> tuple[str, dict[str, Any]]:
    """The runner's parse: the event name and the payload, with ``record_ids`` (the issue's id) added."""
    data = parse_payload(body)
    issue = data.get("issue") or {}
    ids = [str(issue["id"])] if issue.get("id") is not None else []
    return str(data["webhookEvent"]), {**data, "record_ids": ids}


def identify(headers: Mapping[str, str], data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The runner's keys: the delivery id to deduplicate by, and the issue to serialise work on."""
    lowered = {k.lower(): v for k, v in headers.items()}
    ids: Sequence[str] = data.get("record_ids") or []
    return lowered.get(IDENTIFIER) or None, (f"jira-issue:{ids[0]}" if ids else None)

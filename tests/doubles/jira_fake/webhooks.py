"""Admin webhooks: registrations, Jira's payloads, HMAC signatures, and delivery from a worker thread."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from .clock import millis
from .errors import bad_request
from .jql import parse
from .search import compile_node
from .state import Change, JiraState

ISSUE_EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")
KNOWN_EVENTS = (*ISSUE_EVENTS, "comment_created", "comment_updated", "comment_deleted")


@dataclass
class Webhook:
    id: int
    name: str
    url: str
    events: tuple[str, ...] = ISSUE_EVENTS
    jql: str | None = None  # "issue-related-events-section" filter
    secret: str | None = None  # signs the body: X-Hub-Signature: sha256=<hmac>
    enabled: bool = True

    def to_json(self, base_url: str) -> dict[str, Any]:
        return {
            "self": f"{base_url}/rest/webhooks/1.0/webhook/{self.id}",
            "name": self.name,
            "url": self.url,
            "events": list(self.events),
            "filters": {"issue-related-events-section": self.jql or ""},
            "excludeBody": False,
            "enabled": self.enabled,
        }


@dataclass
class Delivery:
    """One webhook POST: the same identifier on every retry, so receivers can deduplicate."""

    webhook: int
    identifier: str
    event: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    dropped: bool = False
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def payload(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Webhooks:
    """Turns the state's changes into deliveries; ``drop()`` loses them on purpose (reconciliation tests)."""

    def __init__(self, state: JiraState, retries: int = 3, retry_delay: float = 0.05, timeout: float = 5.0):
        self.state = state
        self.retries = retries
        self.retry_delay = retry_delay
        self.hooks: dict[int, Webhook] = {}
        self.deliveries: list[Delivery] = []
        self._dropping: int | None = 0  # None: drop all; n: drop the next n
        self._ids = itertools.count(1)
        self._delivery_ids = itertools.count(1_000_001)
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._client = httpx.Client(timeout=timeout)
        self._thread = threading.Thread(target=self._work, name="jira-fake-webhooks", daemon=True)
        self._thread.start()
        state.listeners.append(self.on_change)

    # Registrations

    def register(
        self,
        url: str,
        secret: str | None = None,
        events: tuple[str, ...] = ISSUE_EVENTS,
        jql: str | None = None,
        name: str = "webhook",
    ) -> Webhook:
        unknown = [e for e in events if e not in KNOWN_EVENTS]
        if unknown:
            raise bad_request(f"Unknown webhook events: {', '.join(unknown)}")
        if jql:
            parse(jql)
        with self.state.lock:
            hook = Webhook(next(self._ids), name, url, tuple(events), jql or None, secret or None)
            self.hooks[hook.id] = hook
            return hook

    def unregister(self, hook_id: int) -> None:
        with self.state.lock:
            self.hooks.pop(hook_id, None)

    # The switch for lost deliveries

    def drop(self, count: int | None = None) -> None:
        """Lose the next ``count`` deliveries (all of them while ``count`` is None) until ``resume()``."""
        self._dropping = count

    def resume(self) -> None:
        self._dropping = 0

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every delivery queued so far was sent (or gave up)."""
        pending = [d for d in list(self.deliveries) if not d.dropped]
        deadline = time.monotonic() + timeout
        for delivery in pending:
            if not delivery.done.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"webhook delivery {delivery.identifier} still pending after {timeout}s")

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)
        self._client.close()

    # Producing deliveries (called under the state lock)

    def on_change(self, change: Change) -> None:
        for hook in list(self.hooks.values()):
            if hook.enabled and self._matches(hook, change):
                for event in change.events:
                    if event in hook.events:
                        self._enqueue(hook, event, self.payload(event, change))

    def payload(self, event: str, change: Change) -> dict[str, Any]:
        view = self.state.view(None, "2")
        body: dict[str, Any] = {"timestamp": millis(change.at), "webhookEvent": event}
        if event.startswith("jira:"):
            body["issue_event_type_name"] = change.type_name
        body["user"] = view.user(change.actor)
        body["issue"] = view.issue(change.issue)
        if change.history is not None and event.startswith("jira:"):
            body["changelog"] = {"id": str(change.history.id), "items": change.history.items}
        if change.comment is not None:
            body["comment"] = view.comment(change.issue, change.comment)
        return body

    def _matches(self, hook: Webhook, change: Change) -> bool:
        if not hook.jql:
            return True
        query = parse(hook.jql)
        if query.where is None:
            return True
        reader = self.state.reader(change.actor, strict=False)
        return compile_node(query.where, reader)(change.issue)

    def _enqueue(self, hook: Webhook, event: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": str(next(self._delivery_ids)),
        }
        if self.state.mode == "cloud":
            headers["X-Atlassian-Webhook-Flow"] = "Primary"
        if hook.secret:
            headers["X-Hub-Signature"] = sign(hook.secret, body)
        delivery = Delivery(hook.id, headers["X-Atlassian-Webhook-Identifier"], event, body, headers)
        self.deliveries.append(delivery)
        if self._dropping is None or self._dropping > 0:
            delivery.dropped = True
            delivery.done.set()
            if self._dropping is not None:
                self._dropping -= 1
            return
        self._queue.put(delivery)

    # Sending (the worker thread)

    def _work(self) -> None:
        while (delivery := self._queue.get()) is not None:
            try:
                self._send(delivery)
            finally:
                delivery.done.set()

    def _send(self, delivery: Delivery) -> None:
        url = self.hooks[delivery.webhook].url if delivery.webhook in self.hooks else None
        while url is not None and delivery.attempts <= self.retries:
            headers = dict(delivery.headers)
            if delivery.attempts:
                headers["X-Atlassian-Webhook-Retry"] = str(delivery.attempts)
                time.sleep(self.retry_delay * delivery.attempts)
            delivery.attempts += 1
            try:
                response = self._client.post(url, content=delivery.body, headers=headers)
            except httpx.HTTPError as exc:
                delivery.error = f"{type(exc).__name__}: {exc}"
                continue
            delivery.status, delivery.error = response.status_code, None
            if response.status_code < 500 and response.status_code != 429:
                return

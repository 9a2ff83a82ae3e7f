"""Inbound webhooks from other systems (``POST /webhooks/{kind}/{name}``): a registry of kinds.

A kind knows how to check a request (``verify``) and what it is about (``parse``: an event name
and its data). ``generic`` is built in: a JSON object body, authenticated by the source's secret
in the ``X-B24kit-Token`` header (or ``?token=``). Other parts register their own kinds::

    register_webhook_kind(WebhookKind("jira", verify=check_jira_secret, parse=jira_event))

and configure sources in the runner settings (``runner.webhooks.NAME: {kind: jira, secret: ...}``);
jobs trigger on them with ``trigger: {webhook: NAME, events: [jira:issue_updated]}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from b24kit.robots.form import FormError

Verify = Callable[[Mapping[str, str], Mapping[str, str], bytes, str], bool]
Parse = Callable[[bytes], tuple[str, dict[str, Any]]]
Identify = Callable[[Mapping[str, str], Mapping[str, Any]], tuple[str | None, str | None]]


@dataclass(frozen=True)
class WebhookKind:
    """``verify(headers, query, body, secret) -> bool``; ``parse(body) -> (event, data)``
    (raise :class:`FormError` for a malformed body); optional ``identify(headers, data) ->
    (delivery id, record)``: a repeated delivery id is dropped, tasks on one record run one at a time."""

    name: str
    verify: Verify
    parse: Parse
    identify: Identify | None = None


KINDS: dict[str, WebhookKind] = {}


def register_webhook_kind(kind: WebhookKind) -> None:
    KINDS[kind.name] = kind


def shared_secret(headers: Mapping[str, str], query: Mapping[str, str], body: bytes, secret: str) -> bool:
    """The secret in ``X-B24kit-Token`` (or ``?token=``), compared in constant time."""
    given = headers.get("x-b24kit-token") or query.get("token") or ""
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def json_event(body: bytes) -> tuple[str, dict[str, Any]]:
    """A JSON object; its ``event`` (or ``webhookEvent``) names the event, default ``webhook``."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FormError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise FormError("the body must be a JSON object")
    name = data.get("event") or data.get("webhookEvent") or "webhook"
    return str(name), data


register_webhook_kind(WebhookKind("generic", shared_secret, json_event))


def _jira() -> WebhookKind:
    """Jira's admin webhooks: ``X-Hub-Signature`` checked, deliveries deduplicated by identifier."""
    from b24kit.sync.connectors import jira_webhooks as jira

    def parse(body: bytes) -> tuple[str, dict[str, Any]]:
        try:
            return jira.event_of(body)
        except jira.JiraWebhookError as exc:
            raise FormError(str(exc)) from None

    return WebhookKind("jira", jira.verify_request, parse, jira.identify)


register_webhook_kind(_jira())

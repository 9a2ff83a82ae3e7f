"""Jira webhooks: signatures checked against real deliveries of the fake, payloads read, scopes found."""

from __future__ import annotations

import json

import pytest

from b24kit.sync import load_profile_text
from b24kit.sync.connectors.jira_webhooks import (
    JiraWebhookError,
    event_of,
    identify,
    parse_delivery,
    sign,
    verify_request,
    verify_signature,
)
from b24kit.sync.service import event_scope

SECRET = "jira-webhook-secret"


@pytest.fixture
def deliveries(fake, webhook_receiver):
    """Three deliveries of the fake (created, updated with a retry, deleted), as the receiver got them."""
    fake.register_webhook(f"{webhook_receiver.url}/webhooks/jira/main", secret=SECRET)
    key = fake.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Laptop"})
    webhook_receiver.wait_for(1)
    webhook_receiver.fail_next(1)
    fake.state.edit(fake.admin, "2", key, {"fields": {"summary": "Two laptops"}})
    fake.state.delete(fake.admin, key)
    return webhook_receiver.wait_for(4)


def test_real_deliveries_verify_and_say_what_they_are_about(deliveries, fake):
    created, updated, retried, deleted = deliveries
    for delivery in deliveries:
        assert verify_request(delivery.headers, {}, delivery.body, SECRET)
    first = parse_delivery(created.body, created.headers)
    assert (first.event, first.issue_key, first.retry) == ("jira:issue_created", "OPS-1", 0)
    assert first.identifier == created.headers["x-atlassian-webhook-identifier"]
    assert first.actor == (fake.admin.account_id if fake.mode == "cloud" else "admin")
    again = parse_delivery(retried.body, retried.headers)
    assert again.identifier == parse_delivery(updated.body, updated.headers).identifier
    assert again.retry == 1 and again.changed == ("summary",)
    gone = parse_delivery(deleted.body, deleted.headers)
    assert gone.deleted and gone.issue_id == first.issue_id
    assert identify(retried.headers, event_of(retried.body)[1]) == (
        again.identifier,
        f"jira-issue:{first.issue_id}",
    )


def test_a_changed_body_wrong_secret_or_missing_signature_is_refused(deliveries):
    delivery = deliveries[0]
    tampered = delivery.body.replace(b"Laptop", b"Yacht")
    assert not verify_request(delivery.headers, {}, tampered, SECRET)
    assert not verify_request(delivery.headers, {}, delivery.body, "another-secret")
    assert not verify_request({}, {}, delivery.body, SECRET)
    assert not verify_request(delivery.headers, {}, delivery.body, "")
    sha1 = "sha1=" + delivery.headers["x-hub-signature"].split("=", 1)[1]
    assert not verify_signature(delivery.body, sha1, SECRET)
    assert verify_signature(b"{}", sign(SECRET, b"{}").upper().replace("SHA256", "sha256"), SECRET)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "the body is not valid JSON"),
        (b"[1, 2]", "the body must be a JSON object"),
        (b'{"issue": {"id": "1"}}', "the body has no webhookEvent: is this a Jira webhook?"),
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"id": "x"}}', "issue must be an object"),
        (b"\xff\xfe", "the body is not valid JSON"),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(body, message):
    with pytest.raises(JiraWebhookError, match=message):
        event_of(body)


def test_an_event_without_an_issue_names_no_records():
    event, data = event_of(json.dumps({"webhookEvent": "project_created", "project": {"id": 1}}).encode())
    assert event == "project_created" and data["record_ids"] == []
    assert identify({}, data) == (None, None)


PROFILE = """
version: 1
name: p
source: {connector: memory, entity: rows, options: {store: src}}
target: {connector: memory, entity: deal, options: {store: dst}}
direction: two_way
fields: {TITLE: summary}
triggers:
  events:
    - {event: "jira:issue_updated", side: source}
    - {event: "jira:issue_deleted", side: source}
    - {event: ONCRMDEALUPDATE, side: target}
"""


def test_an_event_scopes_the_run_to_its_records_on_the_triggers_side():
    profile = load_profile_text(PROFILE, source="p.yaml", env={})
    assert event_scope(profile, "jira:issue_updated", ["10001"]) == {"source": ["10001"]}
    assert event_scope(profile, "ONCRMDEALUPDATE", [42]) == {"target": ["42"]}
    assert event_scope(profile, "jira:issue_created", ["10001"]) is None, "no trigger: a whole run"
    assert event_scope(profile, "jira:issue_updated", []) is None

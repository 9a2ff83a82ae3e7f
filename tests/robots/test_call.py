"""Robot payloads -> RobotCall: what is required, what is kept, and that no token is kept."""

from __future__ import annotations

import pytest

from b24kit.robots.call import application_token, from_payload, public_auth, robot_call, to_payload
from b24kit.robots.form import FormError, parse_form


def body(**over: str) -> str:
    fields = {
        "workflow_id": "64f1.1",
        "code": "echo",
        "document_id[0]": "crm",
        "document_id[1]": "CCrmDocumentDeal",
        "document_id[2]": "DEAL_42",
        "document_type[0]": "crm",
        "document_type[1]": "CCrmDocumentDeal",
        "document_type[2]": "DEAL",
        "event_token": "64f1.1|A1_2_3_4|secretpart",
        "properties[text]": "hi",
        "use_subscription": "Y",
        "ts": "1700000000",
        "auth[access_token]": "AT",
        "auth[refresh_token]": "RT",
        "auth[application_token]": "APP",
        "auth[member_id]": "m1",
        "auth[domain]": "portal.example",
        **over,
    }
    return "&".join(f"{k}={v}" for k, v in fields.items())


def test_a_call_keeps_document_properties_and_token_but_no_credentials():
    parsed = parse_form(body())
    call = robot_call(parsed, "echo")
    assert (call.code, call.entity_type_id, call.entity_id) == ("echo", 2, 42)
    assert call.properties == {"text": "hi"} and call.use_subscription and call.ts == 1700000000
    assert call.auth == {"member_id": "m1", "domain": "portal.example"}
    assert application_token(parsed) == "APP"
    assert from_payload(to_payload(call)) == call
    assert "AT" not in str(to_payload(call)) and "RT" not in str(to_payload(call))


def test_smart_process_and_invoice_documents():
    call = robot_call(parse_form(body(**{"document_id[2]": "DYNAMIC_128_7"})), "echo")
    assert (call.entity_type_id, call.entity_id) == (128, 7)
    call = robot_call(parse_form(body(**{"document_id[2]": "SMART_INVOICE_9"})), "echo")
    assert (call.entity_type_id, call.entity_id) == (31, 9)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"event_token": ""}, "event_token is missing"),
        ({"code": "other"}, "the body is for robot 'other'"),
        ({"document_id[2]": ""}, None),
    ],
)
def test_bad_calls(over, message):
    parsed = parse_form(body(**over))
    if message is None:
        assert robot_call(parsed, "echo").entity_id is None
        return
    with pytest.raises(FormError, match=message):
        robot_call(parsed, "echo")


def test_document_id_must_have_three_parts():
    parsed = parse_form(body())
    parsed["document_id"] = ["crm", "DEAL_1"]
    with pytest.raises(FormError, match="three parts"):
        robot_call(parsed, "echo")


def test_public_auth_drops_tokens_and_nested_values():
    assert public_auth({"access_token": "a", "application_token": "b", "x": {"y": 1}, "user_id": "5"}) == {
        "user_id": "5"
    }
    assert public_auth("nope") == {}

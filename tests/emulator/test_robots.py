"""bizproc.robot.*, robot calls when a record enters a stage, bizproc.event.send and activity.log."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.emulator import seed
from b24kit.testing import RunningEmulator

from .event_receiver import Receiver, app_call, assert_error, hook_call, install

ROBOT_KEYS = {
    "workflow_id",
    "code",
    "document_id[0]",
    "document_id[1]",
    "document_id[2]",
    "document_type[0]",
    "document_type[1]",
    "document_type[2]",
    "event_token",
    "use_subscription",
    "timeout_duration",
    "ts",
    "auth[access_token]",
    "auth[refresh_token]",
    "auth[expires]",
    "auth[expires_in]",
    "auth[scope]",
    "auth[domain]",
    "auth[server_endpoint]",
    "auth[status]",
    "auth[client_endpoint]",
    "auth[member_id]",
    "auth[user_id]",
    "auth[application_token]",
}


def _robot(handler: str = "https://robots.example/run", **extra: Any) -> dict[str, Any]:
    return {
        "CODE": "send_invoice",
        "HANDLER": handler,
        "NAME": {"ru": "Выставить счёт", "en": "Send invoice"},
        "PROPERTIES": {
            "comment": {"Name": "Comment", "Type": "string"},
            "format": {"Name": "Format", "Type": "select", "Options": {"pdf": "PDF"}, "Default": "pdf"},
        },
        "RETURN_PROPERTIES": {"invoice_id": {"Name": "Invoice", "Type": "int"}},
        "DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "DEAL"],
        **extra,
    }


def _add(emulator: RunningEmulator, token: str, robot: dict[str, Any]) -> None:
    response = app_call(emulator, token, "bizproc.robot.add", robot)
    assert response.json()["result"] is True, response.text


def _place(emulator: RunningEmulator, stage: str = "PREPARATION", **properties: Any) -> None:
    emulator.admin(
        "automation",
        {
            "entity_type_id": 2,
            "category_id": 0,
            "stage_id": stage,
            "robot_code": "send_invoice",
            "properties": properties,
        },
    )


def _robot_called(emulator: RunningEmulator, token: str, receiver: Receiver, **extra: Any) -> dict[str, str]:
    """The robot (``extra`` on top of the default) placed in NEW and run by a new deal: its call's form."""
    _add(emulator, token, _robot(receiver.url("/robot"), **extra))
    _place(emulator, "NEW")
    hook_call(emulator, "crm.deal.add", {"fields": {"TITLE": "x"}})
    emulator.flush()
    return receiver.posts[0].form


def _workflows(emulator: RunningEmulator) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = emulator.admin("workflows")
    return rows


# -- registering ------------------------------------------------------------------------------
def test_robot_methods_need_an_app_and_an_admin(b24_emulator):
    for method in ("bizproc.robot.add", "bizproc.robot.list", "bizproc.robot.update", "bizproc.robot.delete"):
        assert_error(
            hook_call(b24_emulator, method, _robot()),
            403,
            "ACCESS_DENIED",
            "Access denied! Application context required",
        )
    user_id = seed.add_user(b24_emulator.portal, {"NAME": "Olga"})
    token = install(b24_emulator, user_id=user_id)["access_token"]
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.add", _robot()), 403, "ACCESS_DENIED", "Access denied!"
    )


@pytest.mark.parametrize(
    ("change", "code", "text"),
    [
        ({"CODE": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity code!"),
        ({"CODE": "send invoice"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity code!"),
        ({"HANDLER": "https://localhost/run"}, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
        ({"HANDLER": ""}, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
        (
            {"HANDLER": "ftp://robots.example/run"},
            "ERROR_UNSUPPORTED_PROTOCOL",
            "Unsupported handler protocol",
        ),
        ({"NAME": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity NAME!"),
        ({"PROPERTIES": "comment"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong properties array!"),
        ({"PROPERTIES": [{"Name": "x"}]}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong property key (0)!"),
        (
            {"PROPERTIES": {"1st": {"Name": "x"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong property key (1st)!",
        ),
        (
            {"PROPERTIES": {"comment": {"Type": "string"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Empty property NAME (comment)!",
        ),
        (
            {"RETURN_PROPERTIES": {"id": {"Type": "int"}}},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Empty property NAME (id)!",
        ),
        (
            {"DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal"]},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong activity DOCUMENT_TYPE!",
        ),
        (
            {"DOCUMENT_TYPE": ["crm", "CCrmDocumentDeal", "PIZZA"]},
            "ERROR_ACTIVITY_VALIDATION_FAILURE",
            "Wrong activity DOCUMENT_TYPE!",
        ),
        ({"FILTER": "b24"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity FILTER!"),
    ],
)
def test_robot_add_validation(b24_emulator, app, change, code, text):
    assert_error(
        app_call(b24_emulator, app["access_token"], "bizproc.robot.add", _robot(**change)), 400, code, text
    )
    assert list(b24_emulator.portal.table("robots")) == []


def test_robot_add_with_no_data(b24_emulator, app):
    assert_error(
        app_call(b24_emulator, app["access_token"], "bizproc.robot.add"),
        400,
        "ERROR_ACTIVITY_VALIDATION_FAILURE",
        "Empty data!",
    )


def test_robot_add_stores_the_robot_and_refuses_the_same_code(b24_emulator, app):
    token = app["access_token"]
    _add(b24_emulator, token, _robot(AUTH_USER_ID=1, USE_SUBSCRIPTION="Y"))
    [row] = b24_emulator.portal.table("robots")
    assert row["CODE"] == "send_invoice"
    assert row["HANDLER"] == "https://robots.example/run"
    assert (row["AUTH_USER_ID"], row["USE_SUBSCRIPTION"]) == (1, "Y")
    assert row["PROPERTIES"]["comment"] == {"NAME": "Comment", "TYPE": "string"}
    assert row["RETURN_PROPERTIES"] == {"invoice_id": {"NAME": "Invoice", "TYPE": "int"}}
    assert row["DOCUMENT_TYPE"] == ["crm", "CCrmDocumentDeal", "DEAL"]
    assert row["app_id"] == b24_emulator.portal.table("apps").lookup("client_id", "local.app.1")[0]
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.add", _robot()),
        400,
        "ERROR_ACTIVITY_ALREADY_INSTALLED",
        "Activity or Robot already installed!",
    )
    # another application may use the same code
    other = install(b24_emulator, client_id="local.other")["access_token"]
    _add(b24_emulator, other, _robot())


def test_robot_list_update_delete(b24_emulator, app):
    token = app["access_token"]
    _add(b24_emulator, token, _robot())
    _add(b24_emulator, token, _robot(CODE="notify.manager"))
    other = install(b24_emulator, client_id="local.other")["access_token"]
    _add(b24_emulator, other, _robot(CODE="theirs"))
    assert app_call(b24_emulator, token, "bizproc.robot.list").json()["result"] == [
        "send_invoice",
        "notify.manager",
    ]
    update = {
        "CODE": "send_invoice",
        "FIELDS": {"HANDLER": "https://robots.example/v2", "USE_SUBSCRIPTION": "N"},
    }
    assert app_call(b24_emulator, token, "bizproc.robot.update", update).json()["result"] is True
    row = next(r for r in b24_emulator.portal.table("robots") if r["CODE"] == "send_invoice")
    assert (row["HANDLER"], row["USE_SUBSCRIPTION"], row["NAME"]["EN"]) == (
        "https://robots.example/v2",
        "N",
        "Send invoice",
    )
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.update", {"CODE": "theirs", "FIELDS": {"NAME": "x"}}),
        400,
        "ERROR_ACTIVITY_NOT_FOUND",
        "Activity or Robot not found!",
    )
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.update", {"CODE": "send_invoice"}),
        400,
        "ERROR_ACTIVITY_VALIDATION_FAILURE",
        "No fields to update",
    )
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.update", {"CODE": "send_invoice", "FIELDS": {"X": 1}}),
        400,
        "ERROR_ACTIVITY_VALIDATION_FAILURE",
        "No fields to update",
    )
    assert_error(
        app_call(
            b24_emulator,
            token,
            "bizproc.robot.update",
            {"CODE": "send_invoice", "FIELDS": {"HANDLER": "gopher://x.example"}},
        ),
        400,
        "ERROR_UNSUPPORTED_PROTOCOL",
        "Unsupported handler protocol",
    )
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.update", {"CODE": "bad code!", "FIELDS": {"NAME": "x"}}),
        400,
        "ERROR_ACTIVITY_VALIDATION_FAILURE",
        "Wrong activity code!",
    )
    assert (
        app_call(b24_emulator, token, "bizproc.robot.delete", {"CODE": "send_invoice"}).json()["result"]
        is True
    )
    assert app_call(b24_emulator, token, "bizproc.robot.list").json()["result"] == ["notify.manager"]
    assert_error(
        app_call(b24_emulator, token, "bizproc.robot.delete", {"CODE": "send_invoice"}),
        400,
        "ERROR_ACTIVITY_NOT_FOUND",
        "Activity or Robot not found!",
    )
    assert app_call(b24_emulator, other, "bizproc.robot.list").json()["result"] == ["theirs"]


# -- robot calls ------------------------------------------------------------------------------
def test_a_deal_entering_the_stage_posts_the_robot_payload(b24_emulator, app, receiver):
    token = app["access_token"]
    user_id = seed.add_user(b24_emulator.portal, {"NAME": "Robot", "LAST_NAME": "User"})
    _add(b24_emulator, token, _robot(receiver.url("/robot"), AUTH_USER_ID=user_id))
    _place(b24_emulator, comment="Deal {=Document:TITLE} for {=Document:OPPORTUNITY}")
    deal_id = hook_call(
        b24_emulator, "crm.deal.add", {"fields": {"TITLE": "Pumps", "OPPORTUNITY": 1500}}
    ).json()["result"]
    b24_emulator.flush()
    assert receiver.posts == []  # a new deal starts in NEW: no robot there
    hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "PREPARATION"}})
    hook_call(
        b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"COMMENTS": "same stage, no new run"}}
    )
    b24_emulator.flush()
    [post] = receiver.to("/robot")
    form = post.form
    assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert {k for k, _ in post.pairs} == {*ROBOT_KEYS, "properties[comment]", "properties[format]"}
    assert form["workflow_id"] == form["event_token"].split("|")[0]
    assert form["code"] == "send_invoice"
    assert [form[f"document_id[{i}]"] for i in range(3)] == ["crm", "CCrmDocumentDeal", f"DEAL_{deal_id}"]
    assert [form[f"document_type[{i}]"] for i in range(3)] == ["crm", "CCrmDocumentDeal", "DEAL"]
    assert form["properties[comment]"] == "Deal Pumps for 1500.00"
    assert form["properties[format]"] == "pdf"  # the Default of an unset property
    assert (form["use_subscription"], form["timeout_duration"]) == ("Y", "660")
    assert form["ts"].isdigit()
    assert form["auth[user_id]"] == str(user_id)
    assert form["auth[application_token]"] == app["application_token"]
    profile = app_call(b24_emulator, form["auth[access_token]"], "profile").json()["result"]
    assert profile["ID"] == str(user_id)
    [run] = _workflows(b24_emulator)
    assert (run["workflow_id"], run["status"], run["document_id"][2]) == (
        form["workflow_id"],
        "running",
        f"DEAL_{deal_id}",
    )


def test_event_send_completes_a_run_once(b24_emulator, app, receiver):
    token = app["access_token"]
    event_token = _robot_called(b24_emulator, token, receiver)["event_token"]
    logged = app_call(
        b24_emulator, token, "bizproc.activity.log", {"EVENT_TOKEN": event_token, "LOG_MESSAGE": "working"}
    )
    assert logged.json()["result"] is True
    sent = app_call(
        b24_emulator,
        token,
        "bizproc.event.send",
        {"event_token": event_token, "return_values": {"invoice_id": 42}, "log_message": "done"},
    )
    assert sent.json()["result"] is True
    [run] = _workflows(b24_emulator)
    assert (run["status"], run["return_values"], run["log"]) == (
        "completed",
        {"invoice_id": 42},
        ["working", "done"],
    )
    assert_error(
        app_call(b24_emulator, token, "bizproc.event.send", {"EVENT_TOKEN": event_token}),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )
    assert_error(
        app_call(
            b24_emulator, token, "bizproc.activity.log", {"EVENT_TOKEN": event_token, "LOG_MESSAGE": "late"}
        ),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )


def test_event_send_works_through_a_webhook_and_refuses_unknown_tokens(b24_emulator, app, receiver):
    event_token = _robot_called(b24_emulator, app["access_token"], receiver)["event_token"]
    assert_error(
        hook_call(b24_emulator, "bizproc.event.send", {"EVENT_TOKEN": event_token + "x"}),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )
    assert_error(hook_call(b24_emulator, "bizproc.event.send", {}), 403, "ACCESS_DENIED", "Access denied!")
    sent = hook_call(
        b24_emulator, "bizproc.event.send", {"EVENT_TOKEN": event_token, "RETURN_VALUES": {"invoice_id": 7}}
    )
    assert sent.json()["result"] is True
    assert _workflows(b24_emulator)[0]["return_values"] == {"invoice_id": 7}


def test_a_robot_that_does_not_wait_refuses_event_send(b24_emulator, app, receiver):
    form = _robot_called(b24_emulator, app["access_token"], receiver, USE_SUBSCRIPTION="N")
    assert form["use_subscription"] == "N"
    assert _workflows(b24_emulator)[0]["status"] == "completed"
    assert_error(
        app_call(
            b24_emulator, app["access_token"], "bizproc.event.send", {"EVENT_TOKEN": form["event_token"]}
        ),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )


def test_activity_log_errors(b24_emulator, app, receiver):
    event_token = _robot_called(b24_emulator, app["access_token"], receiver)["event_token"]
    assert_error(
        app_call(b24_emulator, app["access_token"], "bizproc.activity.log", {"EVENT_TOKEN": event_token}),
        400,
        "ERROR_EMPTY_LOG_MESSAGE",
        "Empty log message!",
    )
    assert_error(
        app_call(
            b24_emulator,
            app["access_token"],
            "bizproc.activity.log",
            {"EVENT_TOKEN": "nope", "LOG_MESSAGE": "x"},
        ),
        403,
        "ACCESS_DENIED",
        "Access denied!",
    )


def test_a_deleted_robot_is_skipped_and_placements_are_checked(b24_emulator, app, receiver):
    token = app["access_token"]
    _add(
        b24_emulator, token, _robot(receiver.url("/robot"), FILTER={"INCLUDE": [["crm", "CCrmDocumentDeal"]]})
    )
    bad = b24_emulator.http.post(
        "/_emulator/automation", json={"entity_type_id": 1, "stage_id": "NEW", "robot_code": "send_invoice"}
    )
    assert bad.status_code == 400 and "FILTER" in bad.json()["error_description"]
    missing = b24_emulator.http.post("/_emulator/automation", json={"stage_id": "NEW", "robot_code": "nope"})
    assert missing.status_code == 400
    _place(b24_emulator, "NEW")
    app_call(b24_emulator, token, "bizproc.robot.delete", {"CODE": "send_invoice"})
    hook_call(b24_emulator, "crm.deal.add", {"fields": {"TITLE": "x"}})
    b24_emulator.flush()
    assert receiver.posts == []
    assert _workflows(b24_emulator) == []

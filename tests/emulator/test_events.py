"""event.bind / unbind / get / events, and the form POSTs CRM changes send to bound handlers."""

from __future__ import annotations

import pytest

from b24kit.emulator import seed
from b24kit.testing import RunningEmulator

from .event_receiver import app_call, assert_error, hook_call, install

AUTH_KEYS = {
    "auth[access_token]",
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


def _non_admin(b24_emulator: RunningEmulator) -> int:
    return seed.add_user(b24_emulator.portal, {"NAME": "Olga", "ACTIVE": True})


# -- app context and validation --------------------------------------------------------------
@pytest.mark.parametrize("method", ["event.bind", "event.unbind", "event.get", "events"])
def test_event_methods_refuse_webhook_callers(b24_emulator, method):
    response = hook_call(b24_emulator, method, {"event": "ONCRMDEALADD", "handler": "https://a.example/h"})
    assert_error(response, 403, "WRONG_AUTH_TYPE", "Current authorization type is denied for this method")


def test_bind_answers_true_and_is_listed_by_event_get(b24_emulator, app, receiver):
    token = app["access_token"]
    response = app_call(
        b24_emulator, token, "event.bind", {"event": "onCrmDealAdd", "handler": receiver.url()}
    )
    assert response.status_code == 200
    assert response.json()["result"] is True
    app_call(
        b24_emulator,
        token,
        "event.bind",
        {"event": "ONCRMDEALUPDATE", "handler": receiver.url(), "auth_type": 1},
    )
    rows = app_call(b24_emulator, token, "event.get").json()["result"]
    assert rows == [
        {"event": "ONCRMDEALADD", "handler": receiver.url(), "auth_type": "0", "offline": 0},
        {"event": "ONCRMDEALUPDATE", "handler": receiver.url(), "auth_type": "1", "offline": 0},
    ]


@pytest.mark.parametrize(
    ("params", "status", "code", "text"),
    [
        ({"handler": "https://a.example/h"}, 400, "ERROR_ARGUMENT", "Argument 'EVENT' is null or empty"),
        ({"event": "ONCRMDEALADD"}, 400, "ERROR_ARGUMENT", "Argument 'HANDLER' is null or empty"),
        (
            {"event": "ONCRMDEALADD", "handler": "https://a.example/h", "event_type": "sometimes"},
            400,
            "ERROR_ARGUMENT",
            "Value must be one of {online|offline}",
        ),
        (
            {"event": "ONNOSUCHTHING", "handler": "https://a.example/h"},
            400,
            "ERROR_EVENT_NOT_FOUND",
            "Event not found",
        ),
        (
            {"event": "ONCRMDYNAMICITEMADD_999", "handler": "https://a.example/h"},
            400,
            "ERROR_EVENT_NOT_FOUND",
            "Event not found",
        ),
        (
            {"event": "ONCRMDEALADD", "handler": "http://localhost/h"},
            400,
            "ERROR_WRONG_HANDLER_URL",
            "Wrong handler URL",
        ),
        (
            {"event": "ONCRMDEALADD", "handler": "not a url"},
            400,
            "ERROR_WRONG_HANDLER_URL",
            "Wrong handler URL",
        ),
        (
            {"event": "ONCRMDEALADD", "handler": "ftp://a.example/h"},
            400,
            "ERROR_UNSUPPORTED_PROTOCOL",
            "Unsupported handler protocol",
        ),
        (
            {"event": "ONOFFLINEEVENT", "event_type": "offline"},
            400,
            "ERROR_ARGUMENT",
            "Offline event cannot be registered for this event.",
        ),
    ],
)
def test_bind_validation_errors(b24_emulator, app, params, status, code, text):
    assert_error(app_call(b24_emulator, app["access_token"], "event.bind", params), status, code, text)
    assert list(b24_emulator.portal.table("event_bindings")) == []


def test_a_duplicate_binding_is_refused(b24_emulator, app):
    params = {"event": "ONCRMDEALADD", "handler": "https://a.example/h"}
    assert app_call(b24_emulator, app["access_token"], "event.bind", params).status_code == 200
    duplicate = app_call(b24_emulator, app["access_token"], "event.bind", {**params, "event": "onCrmDealAdd"})
    assert_error(duplicate, 400, "ERROR_CORE", "Unable to set event handler: Handler already binded")
    other_user = app_call(b24_emulator, app["access_token"], "event.bind", {**params, "auth_type": 1})
    assert other_user.json()["result"] is True
    assert len(b24_emulator.portal.table("event_bindings")) == 2


def test_non_admin_limits(b24_emulator):
    user_id = _non_admin(b24_emulator)
    token = install(b24_emulator, user_id=user_id)["access_token"]
    hook = {"event": "ONCRMDEALADD", "handler": "https://a.example/h"}
    assert_error(
        app_call(b24_emulator, token, "event.bind", {**hook, "auth_type": 1}),
        403,
        "ACCESS_DENIED",
        "Access denied! Event binding with AUTH_TYPE requires administrator access rights",
    )
    assert_error(
        app_call(b24_emulator, token, "event.bind", {"event": "ONCRMDEALADD", "event_type": "offline"}),
        403,
        "ACCESS_DENIED",
        "Access denied! Offline events binding requires administrator access rights",
    )
    assert app_call(b24_emulator, token, "event.bind", hook).json()["result"] is True
    # a non-admin's handler is bound to the non-admin, and event.get shows only the user's own
    assert app_call(b24_emulator, token, "event.get").json()["result"] == [
        {"event": "ONCRMDEALADD", "handler": "https://a.example/h", "auth_type": str(user_id), "offline": 0}
    ]
    assert_error(
        app_call(b24_emulator, token, "event.unbind", {**hook, "auth_type": 1}),
        403,
        "ACCESS_DENIED",
        "Access denied! Event unbinding with AUTH_TYPE requires administrator access rights",
    )
    assert_error(
        app_call(b24_emulator, token, "event.unbind", {"event": "ONCRMDEALADD", "event_type": "offline"}),
        403,
        "ACCESS_DENIED",
        "Access denied! Offline events unbinding requires administrator access rights",
    )
    assert app_call(b24_emulator, token, "event.unbind", hook).json()["result"] == {"count": 1}


def test_unbind_counts_what_it_removed(b24_emulator, app):
    token = app["access_token"]
    for auth_type in (0, 1):
        app_call(
            b24_emulator,
            token,
            "event.bind",
            {"event": "ONCRMDEALADD", "handler": "https://a.example/h", "auth_type": auth_type},
        )
    app_call(b24_emulator, token, "event.bind", {"event": "ONCRMDEALADD", "handler": "https://b.example/h"})
    only_user = {"event": "ONCRMDEALADD", "handler": "https://a.example/h", "auth_type": 1}
    assert app_call(b24_emulator, token, "event.unbind", only_user).json()["result"] == {"count": 1}
    all_of_handler = {"event": "ONCRMDEALADD", "handler": "https://a.example/h"}
    assert app_call(b24_emulator, token, "event.unbind", all_of_handler).json()["result"] == {"count": 1}
    assert app_call(b24_emulator, token, "event.unbind", all_of_handler).json()["result"] == {"count": 0}
    assert_error(
        app_call(b24_emulator, token, "event.unbind", {"handler": "https://b.example/h"}),
        400,
        "ERROR_ARGUMENT",
        "Argument 'EVENT' is null or empty",
    )
    assert_error(
        app_call(b24_emulator, token, "event.unbind", {"event": "ONCRMDEALADD"}),
        400,
        "ERROR_ARGUMENT",
        "Argument 'HANDLER' is null or empty",
    )
    rows = app_call(b24_emulator, token, "event.get").json()["result"]
    assert [r["handler"] for r in rows] == ["https://b.example/h"]


def test_events_lists_names_by_scope(b24_emulator, app):
    token = app["access_token"]
    names = app_call(b24_emulator, token, "events").json()["result"]
    assert names[:7] == [
        "ONAPPUNINSTALL",
        "ONAPPINSTALL",
        "ONAPPUPDATE",
        "ONAPPPAYMENT",
        "ONAPPTEST",
        "ONAPPMETHODCONFIRM",
        "ONOFFLINEEVENT",
    ]
    assert {"ONUSERADD", "ONCRMDEALADD", "ONCRMDEALMOVETOCATEGORY", "ONTASKUPDATE"} <= set(names)
    crm = app_call(b24_emulator, token, "events", {"SCOPE": "crm"}).json()["result"]
    assert "ONCRMLEADDELETE" in crm and "ONAPPINSTALL" not in crm and "ONTASKADD" not in crm
    assert app_call(b24_emulator, token, "events", {"SCOPE": "task"}).json()["result"] == [
        "ONTASKADD",
        "ONTASKUPDATE",
        "ONTASKDELETE",
        "ONTASKCOMMENTADD",
        "ONTASKCOMMENTUPDATE",
        "ONTASKCOMMENTDELETE",
    ]
    hook_call(b24_emulator, "crm.type.add", {"fields": {"title": "Production", "entityTypeId": 1040}})
    after = app_call(b24_emulator, token, "events", {"FULL": True}).json()["result"]
    assert {"ONCRMDYNAMICITEMADD_1040", "ONCRMDYNAMICITEMUPDATE_1040", "ONCRMDYNAMICITEMDELETE_1040"} <= set(
        after
    )
    bound = app_call(
        b24_emulator,
        token,
        "event.bind",
        {"event": "ONCRMDYNAMICITEMADD_1040", "handler": "https://a.example/h"},
    )
    assert bound.json()["result"] is True


# -- delivery ---------------------------------------------------------------------------------
def test_deal_add_update_delete_post_the_documented_form(b24_emulator, app, receiver):
    token = app["access_token"]
    for name in ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"):
        app_call(b24_emulator, token, "event.bind", {"event": name, "handler": receiver.url(f"/{name}")})
    deal_id = hook_call(b24_emulator, "crm.deal.add", {"fields": {"TITLE": "Pumps"}}).json()["result"]
    hook_call(b24_emulator, "crm.deal.update", {"id": deal_id, "fields": {"TITLE": "Pumps, 2 pcs"}})
    hook_call(b24_emulator, "crm.deal.delete", {"id": deal_id})
    b24_emulator.flush()
    handlers = {b["event"]: str(rid) for rid, b in b24_emulator.portal.table("event_bindings").rows.items()}
    port = b24_emulator.base_url.rsplit(":", 1)[1]
    for name in ("ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALDELETE"):
        [post] = receiver.to(f"/{name}")
        assert post.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert [k for k, _ in post.pairs][:4] == ["event", "event_handler_id", "data[FIELDS][ID]", "ts"]
        assert {k for k, _ in post.pairs} == {
            "event",
            "event_handler_id",
            "data[FIELDS][ID]",
            "ts",
            *AUTH_KEYS,
        }
        assert f"data%5BFIELDS%5D%5BID%5D={deal_id}&" in post.body
        form = post.form
        assert form["event"] == name
        assert form["event_handler_id"] == handlers[name]
        assert form["data[FIELDS][ID]"] == str(deal_id)
        assert form["ts"].isdigit()
        assert form["auth[application_token]"] == app["application_token"]
        assert form["auth[member_id]"] == app["member_id"]
        assert form["auth[domain]"] == f"127.0.0.1:{port}"
        assert form["auth[client_endpoint]"] == f"{b24_emulator.base_url}/rest/"
        assert form["auth[expires_in]"] == "3600"
        assert form["auth[status]"] == "L"
        assert form["auth[user_id]"] == "1"
        assert "crm" in form["auth[scope]"].split(",")
    # the token in the event is a working token of the user who made the change
    token_in_event = receiver.to("/ONCRMDEALADD")[0].form["auth[access_token]"]
    assert app_call(b24_emulator, token_in_event, "profile").json()["result"]["ID"] == "1"


def test_auth_type_decides_whose_token_is_sent(b24_emulator, app, receiver):
    user_id = _non_admin(b24_emulator)
    app_call(
        b24_emulator,
        app["access_token"],
        "event.bind",
        {"event": "ONCRMCONTACTADD", "handler": receiver.url(), "auth_type": user_id},
    )
    hook_call(b24_emulator, "crm.contact.add", {"fields": {"NAME": "Ivan"}})
    b24_emulator.flush()
    [post] = receiver.posts
    assert post.form["auth[user_id]"] == str(user_id)
    profile = app_call(b24_emulator, post.form["auth[access_token]"], "profile").json()["result"]
    assert profile["ID"] == str(user_id)


def test_smart_process_items_fire_both_dynamic_events(b24_emulator, app, receiver):
    hook_call(b24_emulator, "crm.type.add", {"fields": {"title": "Production", "entityTypeId": 1040}})
    for name in ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_1040"):
        app_call(
            b24_emulator,
            app["access_token"],
            "event.bind",
            {"event": name, "handler": receiver.url(f"/{name}")},
        )
    item = hook_call(
        b24_emulator, "crm.item.add", {"entityTypeId": 1040, "fields": {"title": "Batch 7"}}
    ).json()
    item_id = item["result"]["item"]["id"]
    b24_emulator.flush()
    for name in ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_1040"):
        [post] = receiver.to(f"/{name}")
        assert post.form["data[FIELDS][ID]"] == str(item_id)
        assert post.form["data[FIELDS][ENTITY_TYPE_ID]"] == "1040"


def test_unbound_and_unbound_again_events_are_not_sent(b24_emulator, app, receiver):
    hook = {"event": "ONCRMLEADADD", "handler": receiver.url()}
    app_call(b24_emulator, app["access_token"], "event.bind", hook)
    app_call(b24_emulator, app["access_token"], "event.unbind", hook)
    hook_call(b24_emulator, "crm.lead.add", {"fields": {"TITLE": "Lead"}})
    b24_emulator.flush()
    assert receiver.posts == []


def test_app_install_posts_onappinstall_to_its_handler(b24_emulator, receiver):
    app = install(b24_emulator, client_id="local.installer", handler=receiver.url("/install"))
    b24_emulator.flush()
    [post] = receiver.to("/install")
    form = post.form
    assert form["event"] == "ONAPPINSTALL"
    assert (form["data[VERSION]"], form["data[ACTIVE]"], form["data[INSTALLED]"]) == ("1", "Y", "Y")
    assert form["data[LANGUAGE_ID]"] == "ru"
    assert form["auth[access_token]"] == app["access_token"]
    assert form["auth[refresh_token]"] == app["refresh_token"]
    assert form["auth[application_token]"] == app["application_token"]


def test_reinstalling_an_app_removes_its_handlers(b24_emulator, app):
    app_call(
        b24_emulator,
        app["access_token"],
        "event.bind",
        {"event": "ONCRMDEALADD", "handler": "https://a.example/h"},
    )
    again = install(b24_emulator)
    assert app_call(b24_emulator, again["access_token"], "event.get").json()["result"] == []

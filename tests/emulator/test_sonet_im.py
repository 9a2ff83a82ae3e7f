"""``sonet_group.*`` and ``im.notify.*`` over HTTP: shapes, filters, rights, errors, stored notifications."""

from __future__ import annotations

import pytest


def add_user(emu, email: str) -> int:
    return int(emu.rest("user.add", {"EMAIL": email, "UF_DEPARTMENT": [1]})["result"])


def as_user(emu, user_id: int):
    token = emu.admin("apps", {"client_id": f"app.s{user_id}", "client_secret": "x", "user_id": user_id})[
        "access_token"
    ]

    def call(method: str, params: dict | None = None):
        response = emu.http.post(f"{emu.base_url}/rest/{method}", json={**(params or {}), "auth": token})
        return response.status_code, response.json()

    return call


# -- sonet_group ------------------------------------------------------------------------------


def test_create_and_get_shape(b24_emulator):
    emu = b24_emulator
    group = emu.rest("sonet_group.create", {"NAME": "New Project Title", "PROJECT": "Y", "KEYWORDS": "a,b"})
    assert isinstance(group["result"], int)
    body = emu.rest("sonet_group.get", {"FILTER": {"ID": group["result"]}})
    assert body["total"] == 1
    [row] = body["result"]
    assert row["ID"] == str(group["result"])
    assert row["NAME"] == "New Project Title" and row["PROJECT"] == "Y" and row["KEYWORDS"] == "a,b"
    assert (row["ACTIVE"], row["VISIBLE"], row["OPENED"], row["CLOSED"]) == ("Y", "Y", "N", "N")
    assert row["OWNER_ID"] == "1" and row["NUMBER_OF_MEMBERS"] == "1" and row["SUBJECT_ID"] == "1"
    assert row["DESCRIPTION"] is None and row["SITE_ID"] == "s1" and row["IS_EXTRANET"] == "N"
    assert row["DATE_CREATE"].endswith("+03:00") and row["SUBJECT_NAME"] == "Workgroups"


def test_get_order_filters_and_paging(b24_emulator):
    emu = b24_emulator
    ids = [emu.rest("sonet_group.create", {"NAME": f"Group {i:02d}"})["result"] for i in range(55)]
    first = emu.rest("sonet_group.get", {})
    assert (len(first["result"]), first["total"], first["next"]) == (50, 55, 50)
    assert first["result"][0]["ID"] == str(ids[-1])  # default ORDER ID DESC
    asc = emu.rest("sonet_group.get", {"ORDER": {"ID": "ASC"}, "FILTER": {">ID": ids[52]}})
    assert [r["ID"] for r in asc["result"]] == [str(ids[53]), str(ids[54])]
    between = emu.rest("sonet_group.get", {"FILTER": {"><ID": [ids[1], ids[3]]}, "ORDER": {"ID": "ASC"}})
    assert [r["NAME"] for r in between["result"]] == ["Group 01", "Group 02", "Group 03"]
    assert emu.rest("sonet_group.get", {"FILTER": {"%NAME": "oup 4"}})["total"] == 10
    assert emu.rest("sonet_group.get", {"GROUP_ID": ids[7]})["result"][0]["NAME"] == "Group 07"
    assert emu.rest("sonet_group.get", {"FILTER": {"!><ID": [ids[1], ids[53]]}})["total"] == 2


def test_hidden_groups_are_visible_to_members_only(b24_emulator):
    emu = b24_emulator
    other = add_user(emu, "member@example.com")
    emu.rest("sonet_group.create", {"NAME": "Secret", "VISIBLE": "N"})
    open_id = emu.rest("sonet_group.create", {"NAME": "Open"})["result"]
    _, body = as_user(emu, other)("sonet_group.get", {})
    assert [r["ID"] for r in body["result"]] == [str(open_id)]
    assert emu.rest("sonet_group.get", {})["total"] == 2


def test_update_and_delete(b24_emulator):
    emu = b24_emulator
    gid = emu.rest("sonet_group.create", {"NAME": "Old"})["result"]
    assert emu.rest("sonet_group.update", {"GROUP_ID": gid, "NAME": "New", "OPENED": "Y"})["result"] == gid
    row = emu.rest("sonet_group.get", {"GROUP_ID": gid})["result"][0]
    assert (row["NAME"], row["OPENED"]) == ("New", "Y")
    assert emu.rest("sonet_group.delete", {"GROUP_ID": gid})["result"] is True
    assert emu.rest("sonet_group.get", {"GROUP_ID": gid})["total"] == 0


@pytest.mark.parametrize(
    ("method", "params", "text"),
    [
        ("sonet_group.create", {}, "Cannot create group"),
        ("sonet_group.create", {"NAME": "  "}, "Cannot create group"),
        ("sonet_group.create", {"NAME": {"a": 1}}, "Incorrect input data"),
        ("sonet_group.update", {"GROUP_ID": 999, "NAME": "x"}, "Wrong group ID"),
        ("sonet_group.update", {"NAME": "x"}, "Wrong group ID"),
        ("sonet_group.delete", {"GROUP_ID": "abc"}, "Wrong group ID"),
        ("sonet_group.delete", {"GROUP_ID": 999}, "Socialnetwork group not found"),
    ],
)
def test_sonet_errors_have_an_empty_code(b24_emulator, method, params, text):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}{method}", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": "", "error_description": text}


def test_only_owner_or_admin_changes_a_group(b24_emulator):
    emu = b24_emulator
    other = add_user(emu, "owner2@example.com")
    gid = emu.rest("sonet_group.create", {"NAME": "Admin's"})["result"]
    call = as_user(emu, other)
    assert call("sonet_group.update", {"GROUP_ID": gid, "NAME": "x"})[1] == {
        "error": "",
        "error_description": "User has no permissions to update group",
    }
    assert call("sonet_group.delete", {"GROUP_ID": gid})[1]["error_description"] == (
        "User has no permissions to delete group"
    )
    own = call("sonet_group.create", {"NAME": "Mine", "OWNER_ID": 1})[1]["result"]
    assert emu.rest("sonet_group.get", {"GROUP_ID": own})["result"][0]["OWNER_ID"] == str(other)
    assert call("sonet_group.delete", {"GROUP_ID": own})[1]["result"] is True


# -- im.notify ---------------------------------------------------------------------------------


def test_system_and_personal_notifications_are_stored(b24_emulator):
    emu = b24_emulator
    other = add_user(emu, "reader@example.com")
    first = emu.rest("im.notify.system.add", {"USER_ID": other, "MESSAGE": "  [b]Deal[/b] won  "})
    second = emu.rest(
        "im.notify.personal.add",
        {"USER_ID": str(other), "MESSAGE": "Hi", "TAG": "t1", "SUB_TAG": "s1", "CLIENT_ID": "my.app"},
    )
    assert isinstance(first["result"], int) and isinstance(second["result"], int)
    assert second["result"] > first["result"]
    stored = emu.admin("notifications")
    assert [
        (n["ID"], n["USER_ID"], n["MESSAGE"], n["TYPE"], n["FROM_USER_ID"], n["TAG"], n["SUB_TAG"])
        for n in stored
    ] == [
        (first["result"], other, "[b]Deal[/b] won", "system", 0, "", ""),
        (second["result"], other, "Hi", "personal", 1, "t1", "s1"),
    ]
    assert all(n["DATE"].endswith("+03:00") for n in stored)
    assert set(stored[0]) == {"ID", "USER_ID", "MESSAGE", "TYPE", "FROM_USER_ID", "TAG", "SUB_TAG", "DATE"}


def test_a_repeated_tag_replaces_the_notification(b24_emulator):
    emu = b24_emulator
    for text in ("first", "second"):
        emu.rest("im.notify.system.add", {"USER_ID": 1, "MESSAGE": text, "TAG": "deal-7", "CLIENT_ID": "app"})
    assert [n["MESSAGE"] for n in emu.admin("notifications")] == ["second"]
    emu.rest("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "untagged", "TAG": "deal-7"})
    assert [(n["MESSAGE"], n["TAG"]) for n in emu.admin("notifications")] == [
        ("second", "deal-7"),
        ("untagged", ""),
    ]


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
        ({"USER_ID": 0, "MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
        ({"USER_ID": "abc", "MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
        ({"USER_ID": [1], "MESSAGE": "x"}, "USER_ID_EMPTY", "User ID can't be empty"),
        ({"USER_ID": 1}, "MESSAGE_EMPTY", "Message can't be empty"),
        ({"USER_ID": 1, "MESSAGE": "   "}, "MESSAGE_EMPTY", "Message can't be empty"),
        ({"USER_ID": 1, "MESSAGE": {"a": "b"}}, "MESSAGE_EMPTY", "Message can't be empty"),
        ({"USER_ID": 1, "MESSAGE": "x", "ATTACH": "{not json"}, "ATTACH_ERROR", "Incorrect attach params"),
        (
            {"USER_ID": 1, "MESSAGE": "x", "ATTACH": [{"MESSAGE": "y" * 60_001}]},
            "ATTACH_OVERSIZE",
            "You have exceeded the maximum allowable size of attach",
        ),
    ],
)
@pytest.mark.parametrize("method", ["im.notify.system.add", "im.notify.personal.add"])
def test_notify_errors(b24_emulator, method, params, code, text):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}{method}", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": text}
    assert b24_emulator.admin("notifications") == []


def test_unknown_user_gets_false_and_nothing_is_stored(b24_emulator):
    body = b24_emulator.rest("im.notify.system.add", {"USER_ID": 999, "MESSAGE": "hello"})
    assert body["result"] is False
    assert b24_emulator.admin("notifications") == []


def test_notify_through_form_encoding_and_hostile_text(b24_emulator):
    hostile = "<script>alert(1)</script> & ' \" \\ ☃"
    response = b24_emulator.http.post(
        f"{b24_emulator.webhook_url}im.notify.personal.add", data={"USER_ID": "1", "MESSAGE": hostile}
    )
    assert isinstance(response.json()["result"], int)
    assert b24_emulator.admin("notifications")[0]["MESSAGE"] == hostile.strip()

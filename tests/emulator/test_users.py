"""``user.*`` and ``department.*`` over HTTP: wire types, filters, paging, writes, errors, ONUSERADD."""

from __future__ import annotations

import pytest

from .event_receiver import bind_app_event


def add_user(emu, email: str, **fields) -> int:
    body = emu.rest("user.add", {"EMAIL": email, "UF_DEPARTMENT": [1], **fields})
    assert isinstance(body.get("result"), int), body
    return int(body["result"])


def app_token(emu, user_id: int) -> str:
    answer = emu.admin("apps", {"client_id": f"app.user{user_id}", "client_secret": "x", "user_id": user_id})
    return str(answer["access_token"])


def oauth_call(emu, method: str, token: str, params: dict | None = None):
    return emu.http.post(f"{emu.base_url}/rest/{method}", json={**(params or {}), "auth": token})


# -- user.get ------------------------------------------------------------------------------


def test_user_get_row_has_documented_types(b24_emulator):
    body = b24_emulator.rest("user.get", {"ID": 1})
    assert body["total"] == 1
    assert "next" not in body
    row = body["result"][0]
    assert row["ID"] == "1"
    assert row["ACTIVE"] is True
    assert row["UF_DEPARTMENT"] == [1]
    assert row["USER_TYPE"] == "employee"
    assert row["IS_ONLINE"] in ("Y", "N")
    assert row["EMAIL"] == "admin@example.com"
    assert row["DATE_REGISTER"].endswith("+03:00")
    assert "IS_ADMIN" not in row and "XML_ID" not in row  # internal / null fields are left out


def test_user_get_top_level_filter_sort_and_order(b24_emulator):
    emu = b24_emulator
    dep = emu.rest("department.add", {"NAME": "Sales", "PARENT": 1})["result"]
    a = add_user(emu, "a@example.com", NAME="Anna", UF_DEPARTMENT=[dep])
    b = add_user(emu, "b@example.com", NAME="Boris", UF_DEPARTMENT=[dep])
    body = emu.rest("user.get", {"UF_DEPARTMENT": dep, "SORT": "ID", "ORDER": "desc"})
    assert [r["ID"] for r in body["result"]] == [str(b), str(a)]
    body = emu.rest("user.get", {"sort": "NAME", "order": "ASC", "FILTER": {"UF_DEPARTMENT": dep}})
    assert [r["NAME"] for r in body["result"]] == ["Anna", "Boris"]


def test_user_get_filter_operators(b24_emulator):
    emu = b24_emulator
    ids = [add_user(emu, f"u{i}@example.com", NAME=f"Name{i}", LAST_NAME=f"Ivanov{i}") for i in range(4)]
    names = lambda flt: [r["NAME"] for r in emu.rest("user.get", {"FILTER": flt})["result"]]  # noqa: E731
    assert names({">ID": ids[1]}) == ["Name2", "Name3"]
    assert names({">=ID": ids[1], "<ID": ids[3]}) == ["Name1", "Name2"]
    assert names({"@ID": [ids[0], ids[2]]}) == ["Name0", "Name2"]
    assert names({"!@ID": [1, ids[0], ids[2]]}) == ["Name1", "Name3"]
    assert names({"%LAST_NAME": "vanov3"}) == ["Name3"]
    assert names({"=%NAME": "Name%", "!=%NAME": "%3"}) == ["Name0", "Name1", "Name2"]
    assert names({"NAME": "Iv%"}) == []
    assert names({"!ID": 1, "!%NAME": "Name1", "<=ID": ids[2]}) == ["Name0", "Name2"]
    assert names({"!=ID": 1, "%=NAME": "%e2"}) == ["Name2"]


def test_user_get_active_user_type_and_name_search(b24_emulator):
    emu = b24_emulator
    gone = add_user(emu, "gone@example.com", NAME="Gone", WORK_POSITION="Accountant")
    assert emu.rest("user.update", {"ID": gone, "ACTIVE": "N"})["result"] is True
    active = emu.rest("user.get", {"FILTER": {"ACTIVE": True}})["result"]
    assert [r["ID"] for r in active] == ["1"]
    dismissed = emu.rest("user.get", {"ACTIVE": "N"})["result"]
    assert [(r["ID"], r["ACTIVE"]) for r in dismissed] == [(str(gone), False)]
    assert emu.rest("user.get", {"USER_TYPE": "extranet"})["total"] == 0
    found = emu.rest("user.get", {"FILTER": {"NAME_SEARCH": "accoun"}})["result"]
    assert [r["ID"] for r in found] == [str(gone)]
    found = emu.rest("user.get", {"NAME_SEARCH": "admin port"})["result"]
    assert [r["ID"] for r in found] == ["1"]


def test_user_get_select_masks(b24_emulator):
    emu = b24_emulator
    row = emu.rest("user.get", {"ID": 1, "select": ["ID", "NAME", "NO_SUCH_FIELD"]})["result"][0]
    assert row == {"ID": "1", "NAME": "Admin"}
    row = emu.rest("user.get", {"ID": 1, "select": ["UF_*"]})["result"][0]
    assert set(row) == {k for k in row if k.startswith("UF_")} and row["UF_DEPARTMENT"] == [1]
    row = emu.rest("user.get", {"ID": 1, "select": ["*"]})["result"][0]
    assert "UF_DEPARTMENT" not in row and row["ID"] == "1" and row["ACTIVE"] is True


def test_user_get_pages_of_fifty_and_start_minus_one(b24_emulator):
    emu = b24_emulator
    for i in range(60):
        emu.portal.call("user.add", {"EMAIL": f"bulk{i}@example.com", "UF_DEPARTMENT": [1]})
    first = emu.rest("user.get", {})
    assert (len(first["result"]), first["total"], first["next"]) == (50, 61, 50)
    second = emu.rest("user.get", {"start": 50})
    assert (len(second["result"]), second["total"]) == (11, 61) and "next" not in second
    assert (first["result"][-1]["ID"], second["result"][0]["ID"]) == ("50", "51")
    window = emu.rest("user.get", {"FILTER": {">ID": 55}, "start": -1})
    assert window["total"] == 0 and "next" not in window
    assert [r["ID"] for r in window["result"]] == [str(i) for i in range(56, 62)]


def test_user_current_and_fields(b24_emulator):
    current = b24_emulator.rest("user.current")["result"]
    assert current["ID"] == "1" and current["ACTIVE"] is True and current["UF_DEPARTMENT"] == [1]
    fields = b24_emulator.rest("user.fields")["result"]
    assert (
        fields["UF_DEPARTMENT"] == "Units"
        and fields["EMAIL"] == "E-Mail"
        and fields["USER_TYPE"] == "USER_TYPE"
    )


def test_user_search_find_or_fields(b24_emulator):
    emu = b24_emulator
    dep = emu.rest("department.add", {"NAME": "Logistics", "PARENT": 1})["result"]
    ivan = add_user(emu, "ivan@example.com", NAME="Ivan", LAST_NAME="Petrov", UF_DEPARTMENT=[dep])
    add_user(emu, "olga@example.com", NAME="Olga", LAST_NAME="Ivanova", WORK_POSITION="Driver")
    ids = lambda body: [r["ID"] for r in body["result"]]  # noqa: E731
    assert ids(emu.rest("user.search", {"FILTER": {"FIND": "Petr"}})) == [str(ivan)]
    assert ids(emu.rest("user.search", {"FILTER": {"FIND": "logist"}})) == [str(ivan)]
    assert len(ids(emu.rest("user.search", {"FILTER": {"FIND": "iva"}}))) == 2
    assert ids(emu.rest("user.search", {"FILTER": {"LAST_NAME": "Petr"}})) == [str(ivan)]
    assert ids(emu.rest("user.search", {"FILTER": {"LAST_NAME": "etrov"}})) == []  # a right LIKE
    assert ids(emu.rest("user.search", {"FILTER": {"UF_DEPARTMENT_NAME": "Logi"}})) == [str(ivan)]
    # FIND wins over named fields: the docs allow only one of the two modes
    assert ids(emu.rest("user.search", {"FILTER": {"FIND": "Petrov", "NAME": "Olga"}})) == [str(ivan)]


# -- user.add / user.update -----------------------------------------------------------------


def test_user_add_stores_user_and_fires_onuseradd(b24_emulator, receiver):
    emu = b24_emulator
    bind_app_event(emu, receiver, "ONUSERADD")
    new_id = add_user(emu, "new@example.com", NAME="Klaus", LAST_NAME="Weber", PERSONAL_BIRTHDAY="1990-01-01")
    row = emu.rest("user.get", {"ID": new_id})["result"][0]
    assert row["NAME"] == "Klaus" and row["ACTIVE"] is True and row["UF_DEPARTMENT"] == [1]
    assert row["PERSONAL_BIRTHDAY"] == "1990-01-01T00:00:00+03:00"
    [event] = receiver.events("ONUSERADD")
    assert event["data[ID]"] == str(new_id)
    assert event["data[ACTIVE]"] == "Y"
    assert event["data[EMAIL]"] == "new@example.com"
    assert event["data[PERSONAL_BIRTHDAY]"] == "1990-01-01"
    assert event["data[UF_DEPARTMENT][0]"] == "1"
    assert event["data[DATE_REGISTER]"].endswith("+03:00")
    assert event["auth[application_token]"]


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        ({"UF_DEPARTMENT": [1]}, "ERROR_ARGUMENT", "wrong_email"),
        ({"EMAIL": "not-an-email", "UF_DEPARTMENT": [1]}, "ERROR_ARGUMENT", "wrong_email"),
        ({"EMAIL": ["a@b.c"], "UF_DEPARTMENT": [1]}, "ERROR_ARGUMENT", "wrong_email"),
        (
            {"EMAIL": "admin@EXAMPLE.com", "UF_DEPARTMENT": [1]},
            "ERROR_ARGUMENT",
            "A user with this email already exists",
        ),
        ({"EMAIL": "x@example.com"}, "ERROR_ARGUMENT", "no_extranet_field"),
        ({"EMAIL": "x@example.com", "EXTRANET": "Y"}, "ERROR_GROUPID", "Group code not specified"),
        (
            {"EMAIL": "x@example.com", "EXTRANET": "Y", "SONET_GROUP_ID": [999]},
            "ERROR_NO_GROUP",
            "Group is specified incorrectly",
        ),
        ({"EMAIL": "x@example.com", "UF_DEPARTMENT": [999]}, "ERROR_CORE", ""),
        (
            {"EMAIL": "x@example.com", "UF_DEPARTMENT": [1], "NAME": {"a": 1}},
            "ERROR_CORE",
            "Field NAME must be a string.",
        ),
    ],
)
def test_user_add_errors(b24_emulator, params, code, text):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}user.add", json=params)
    assert response.status_code == 400
    body = response.json()
    assert (body["error"], body["error_description"]) == (code, text)
    if code == "ERROR_ARGUMENT":
        assert body["argument"] == ""
    assert len(b24_emulator.portal.table("users")) == 1


def test_user_add_and_update_need_an_admin(b24_emulator):
    emu = b24_emulator
    other = add_user(emu, "plain@example.com")
    token = app_token(emu, other)
    response = oauth_call(emu, "user.add", token, {"EMAIL": "z@example.com", "UF_DEPARTMENT": [1]})
    assert (response.status_code, response.json()["error_description"]) == (400, "access_denied")
    response = oauth_call(emu, "user.update", token, {"ID": other, "NAME": "Me"})
    assert response.json() == {"error": "ERROR_CORE", "error_description": "access_denied"}
    assert oauth_call(emu, "user.current", token).json()["result"]["ID"] == str(other)


def test_user_extranet_add(b24_emulator):
    emu = b24_emulator
    group = emu.rest("sonet_group.create", {"NAME": "Partners"})["result"]
    new_id = emu.rest("user.add", {"EMAIL": "ext@example.com", "EXTRANET": "Y", "SONET_GROUP_ID": [group]})[
        "result"
    ]
    row = emu.rest("user.get", {"ID": new_id})["result"][0]
    assert row["USER_TYPE"] == "extranet" and row["UF_DEPARTMENT"] == []


def test_user_update_dismiss_and_bad_ids(b24_emulator):
    emu = b24_emulator
    uid = add_user(emu, "dismiss@example.com")
    assert emu.rest("user.update", {"ID": uid, "ACTIVE": "N", "WORK_POSITION": "Ex"})["result"] is True
    row = emu.rest("user.get", {"ID": uid})["result"][0]
    assert row["ACTIVE"] is False and row["WORK_POSITION"] == "Ex"
    assert emu.rest("user.update", {"ID": uid, "ACTIVE": "Y"})["result"] is True
    assert emu.rest("user.get", {"ID": uid})["result"][0]["ACTIVE"] is True
    for bad in (999, 0, -1, "abc", None):
        body = emu.rest("user.update", {"ID": bad, "NAME": "x"})
        assert body == {"error": "ERROR_CORE", "error_description": "access_denied"}
    body = emu.rest("user.update", {"ID": uid, "EMAIL": "admin@example.com"})
    assert body["error"] == "ERROR_CORE"


def test_user_values_survive_hostile_text(b24_emulator):
    emu = b24_emulator
    hostile = "<script>alert(1)</script>' OR 1=1 --  \u0000 ☃"
    uid = add_user(emu, "h@example.com", NAME=hostile)
    assert emu.rest("user.get", {"ID": uid})["result"][0]["NAME"] == hostile
    assert emu.rest("user.get", {"NAME": hostile})["total"] == 1


# -- departments -----------------------------------------------------------------------------


def test_department_crud_and_wire_shape(b24_emulator):
    emu = b24_emulator
    dep = emu.rest("department.add", {"NAME": "R&D", "PARENT": 1, "UF_HEAD": 1, "SORT": 300})["result"]
    assert isinstance(dep, int)
    rows = emu.rest("department.get", {"ID": dep})
    assert rows["result"] == [{"ID": str(dep), "NAME": "R&D", "SORT": 300, "PARENT": "1", "UF_HEAD": "1"}]
    assert rows["total"] == 1
    root = emu.rest("department.get", {"ID": 1})["result"][0]
    assert root == {"ID": "1", "NAME": "Company", "SORT": 500, "UF_HEAD": "1"}
    assert emu.rest("department.update", {"ID": dep, "NAME": "Research", "UF_HEAD": ""})["result"] is True
    assert emu.rest("department.get", {"ID": dep})["result"][0] == {
        "ID": str(dep),
        "NAME": "Research",
        "SORT": 300,
        "PARENT": "1",
    }
    child = emu.rest("department.add", {"NAME": "Lab", "PARENT": dep})["result"]
    assert emu.rest("department.delete", {"ID": dep})["result"] is True
    assert emu.rest("department.get", {"ID": child})["total"] == 0
    assert emu.rest("department.fields")["result"]["UF_HEAD"] == "Manager"


def test_department_get_filters_sort_and_paging(b24_emulator):
    emu = b24_emulator
    made = [
        emu.rest("department.add", {"NAME": f"D{i:02d}", "PARENT": 1, "SORT": 100 - i})["result"]
        for i in range(55)
    ]
    first = emu.rest("department.get", {})
    assert (len(first["result"]), first["total"], first["next"]) == (50, 56, 50)
    second = emu.rest("department.get", {"START": 50})
    assert len(second["result"]) == 6 and "next" not in second
    by_sort = emu.rest("department.get", {"sort": "SORT", "order": "ASC", "PARENT": 1})["result"]
    assert by_sort[0]["NAME"] == "D54"
    assert emu.rest("department.get", {"NAME": "D07"})["result"][0]["ID"] == str(made[7])
    assert emu.rest("department.get", {"SORT": 90})["result"][0]["NAME"] == "D10"
    assert emu.rest("department.get", {"UF_HEAD": 1})["total"] == 1


@pytest.mark.parametrize(
    ("method", "params", "text"),
    [
        ("department.add", {"PARENT": 1}, "Department name not provided.<br>"),
        ("department.add", {"NAME": "  ", "PARENT": 1}, "Department name not provided.<br>"),
        (
            "department.add",
            {"NAME": "Top"},
            "There can only be one top-level department in the company structure",
        ),
        (
            "department.add",
            {"NAME": "X", "PARENT": 999},
            "There can only be one top-level department in the company structure",
        ),
        ("department.update", {"ID": 999, "NAME": "X"}, "Department not found"),
        ("department.update", {"ID": "abc"}, "Department not found"),
        (
            "department.update",
            {"ID": 1, "PARENT": 1},
            "There can only be one top-level department in the company structure",
        ),
        ("department.delete", {"ID": 999}, "Department not found"),
    ],
)
def test_department_errors(b24_emulator, method, params, text):
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}{method}", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": "ERROR_CORE", "error_description": text}


def test_department_cycle_and_rights(b24_emulator):
    emu = b24_emulator
    a = emu.rest("department.add", {"NAME": "A", "PARENT": 1})["result"]
    b = emu.rest("department.add", {"NAME": "B", "PARENT": a})["result"]
    assert emu.rest("department.update", {"ID": a, "PARENT": b})["error"] == "ERROR_CORE"
    other = add_user(emu, "nonadmin@example.com")
    response = oauth_call(emu, "department.add", app_token(emu, other), {"NAME": "C", "PARENT": 1})
    assert response.json() == {"error": "ERROR_CORE", "error_description": "Access denied"}

"""``lists.*`` over HTTP: lists, fields, elements with value-row ids, locale dates, filters, errors."""

from __future__ import annotations

import base64

import pytest

LIST = {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "contracts"}


def make_list(emu, code: str = "contracts") -> int:
    body = emu.rest(
        "lists.add", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": code, "FIELDS": {"NAME": "Contracts"}}
    )
    assert isinstance(body.get("result"), int), body
    return int(body["result"])


def add_field(emu, **fields) -> str:
    body = emu.rest("lists.field.add", {**LIST, "FIELDS": fields})
    assert "result" in body, body
    return str(body["result"])


def add_element(emu, code: str, **fields):
    return emu.rest("lists.element.add", {**LIST, "ELEMENT_CODE": code, "FIELDS": fields})


@pytest.fixture
def contracts(b24_emulator):
    """A list with a multiple employee property, a date-time, a date, a list and a required number."""
    emu = b24_emulator
    make_list(emu)
    return {
        "emu": emu,
        "people": add_field(emu, NAME="People", TYPE="S:employee", CODE="PEOPLE", MULTIPLE="Y"),
        "due": add_field(emu, NAME="Due", TYPE="S:DateTime", CODE="DUE"),
        "day": add_field(emu, NAME="Day", TYPE="S:Date", CODE="DAY"),
        "state": add_field(
            emu,
            NAME="State",
            TYPE="L",
            CODE="STATE",
            LIST={"n0": {"VALUE": "Draft", "SORT": 10, "DEF": "Y"}, "n1": {"VALUE": "Signed", "SORT": 20}},
        ),
        "amount": add_field(emu, NAME="Amount", TYPE="N", CODE="AMOUNT", IS_REQUIRED="Y"),
    }


def test_lists_add_and_get(b24_emulator):
    emu = b24_emulator
    list_id = make_list(emu)
    body = emu.rest("lists.get", {"IBLOCK_TYPE_ID": "lists", "IBLOCK_ID": list_id})
    assert body["total"] == 1
    [row] = body["result"]
    assert row["ID"] == str(list_id) and row["CODE"] == "contracts" and row["NAME"] == "Contracts"
    assert row["IBLOCK_TYPE_ID"] == "lists" and row["SORT"] == "500" and row["SOCNET_GROUP_ID"] is None
    assert row["ELEMENTS_NAME"] == "Elements"
    assert len(row["TIMESTAMP_X"]) == len("31.12.2024 23:59:59") and row["TIMESTAMP_X"][2] == "."
    assert emu.rest("lists.get", {"IBLOCK_TYPE_ID": "lists"})["total"] == 1
    assert emu.rest("lists.get", {"IBLOCK_TYPE_ID": "bitrix_processes"})["result"] == []


@pytest.mark.parametrize(
    ("params", "code", "text"),
    [
        (
            {"IBLOCK_CODE": "x", "FIELDS": {"NAME": "X"}},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `IBLOCK_TYPE_ID` is missing",
        ),
        (
            {"IBLOCK_TYPE_ID": "lists", "FIELDS": {"NAME": "X"}},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `IBLOCK_CODE` is missing",
        ),
        (
            {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "x"},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `FIELDS` is missing",
        ),
        (
            {"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "contracts", "FIELDS": {"NAME": "Again"}},
            "ERROR_IBLOCK_ALREADY_EXISTS",
            "Iblock already exists",
        ),
    ],
)
def test_lists_add_errors(b24_emulator, params, code, text):
    make_list(b24_emulator)
    response = b24_emulator.http.post(f"{b24_emulator.webhook_url}lists.add", json=params)
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": text}


def test_lists_add_needs_an_admin(b24_emulator):
    emu = b24_emulator
    other = emu.rest("user.add", {"EMAIL": "l@example.com", "UF_DEPARTMENT": [1]})["result"]
    token = emu.admin("apps", {"client_id": "app.l", "client_secret": "x", "user_id": other})["access_token"]
    body = emu.http.post(
        f"{emu.base_url}/rest/lists.add",
        json={"IBLOCK_TYPE_ID": "lists", "IBLOCK_CODE": "x", "FIELDS": {"NAME": "X"}, "auth": token},
    )
    assert body.json() == {"error": "ACCESS_DENIED", "error_description": "Access denied"}


def test_field_add_and_get(contracts):
    emu = contracts["emu"]
    assert contracts["state"].startswith("PROPERTY_")
    one = emu.rest("lists.field.get", {**LIST, "FIELD_ID": contracts["state"]})["result"]
    assert list(one) == ["L"]
    state = one["L"]
    assert (
        state["FIELD_ID"] == contracts["state"] and state["CODE"] == "STATE" and state["PROPERTY_TYPE"] == "L"
    )
    assert state["ID"] == contracts["state"].removeprefix("PROPERTY_") and state["ROW_COUNT"] == "1"
    assert list(state["DISPLAY_VALUES_FORM"].values()) == ["Draft", "Signed"]
    assert state["DEFAULT_VALUE"] == next(iter(state["DISPLAY_VALUES_FORM"]))
    every = emu.rest("lists.field.get", {**LIST})["result"]
    assert set(every) == {"NAME", *(contracts[k] for k in ("people", "due", "day", "state", "amount"))}
    assert every[contracts["due"]]["PROPERTY_USER_TYPE"]["USER_TYPE"] == "DateTime"
    assert emu.rest("lists.field.get", {**LIST, "FIELD_ID": "PROPERTY_999999"})["result"] == []
    assert add_field(emu, NAME="Sort", TYPE="SORT") == "SORT"


@pytest.mark.parametrize(
    ("fields", "code", "text"),
    [
        (
            {"TYPE": "S", "CODE": "X"},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `NAME` is missing",
        ),
        ({"NAME": "X", "TYPE": "S"}, "ERROR_SAVE_FIELD", "Please fill the code fields"),
        ({"NAME": "X", "TYPE": "S", "CODE": "STATE"}, "ERROR_SAVE_FIELD", "Property already exists"),
        ({"NAME": "X", "TYPE": "Z", "CODE": "Z"}, "ERROR_SAVE_FIELD", "Error saving the field"),
        (
            {"NAME": "X", "TYPE": "S", "CODE": "RO", "SETTINGS": {"ADD_READ_ONLY_FIELD": "Y"}},
            "ERROR_SAVE_FIELD",
            "The default value of the field 'X' is required",
        ),
    ],
)
def test_field_add_errors(contracts, fields, code, text):
    body = contracts["emu"].rest("lists.field.add", {**LIST, "FIELDS": fields})
    assert body == {"error": code, "error_description": text}


def test_element_values_are_keyed_by_value_row_id_and_dates_use_the_locale(contracts):
    emu = contracts["emu"]
    signed = next(
        k
        for k, v in emu.rest("lists.field.get", {**LIST, "FIELD_ID": contracts["state"]})["result"]["L"][
            "DISPLAY_VALUES_FORM"
        ].items()
        if v == "Signed"
    )
    element_id = add_element(
        emu,
        "c-1",
        NAME="Contract 1",
        **{
            contracts["people"]: [1, "1"],
            contracts["due"]: "2024-12-31T23:59:59+03:00",
            contracts["day"]: "2024-12-31",
            contracts["state"]: signed,
            "PROPERTY_AMOUNT": "1500.50",
        },
    )["result"]
    assert isinstance(element_id, int)
    [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
    assert row["ID"] == str(element_id) and row["NAME"] == "Contract 1" and row["CODE"] == "c-1"
    assert row["CREATED_BY"] == "1" and row["IBLOCK_SECTION_ID"] is None
    people = row[contracts["people"]]
    assert list(people.values()) == ["1", "1"] and all(k.isdigit() for k in people) and len(set(people)) == 2
    assert list(row[contracts["due"]].values()) == ["31.12.2024 23:59:59"]
    assert list(row[contracts["day"]].values()) == ["31.12.2024"]
    assert list(row[contracts["state"]].values()) == [signed]
    assert list(row[contracts["amount"]].values()) == ["1500.50"]


def test_english_portal_writes_us_dates(contracts):
    emu = contracts["emu"]
    emu.portal.settings.language = "en"
    try:
        element_id = add_element(
            emu, "c-en", NAME="E", **{contracts["due"]: "2024-12-31 23:59:59", contracts["amount"]: 1}
        )["result"]
        [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
        assert list(row[contracts["due"]].values()) == ["12/31/2024 11:59:59 pm"]
        updated = emu.rest(
            "lists.element.update",
            {
                **LIST,
                "ELEMENT_ID": element_id,
                "FIELDS": {"NAME": "E", contracts["due"]: "01/02/2025 08:00:00 am", contracts["amount"]: 1},
            },
        )
        assert updated["result"] is True
        [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
        assert list(row[contracts["due"]].values()) == ["01/02/2025 08:00:00 am"]
    finally:
        emu.portal.settings.language = "ru"


def test_update_keeps_given_value_rows_and_empties_the_rest(contracts):
    emu = contracts["emu"]
    element_id = add_element(
        emu,
        "c-2",
        NAME="Two",
        **{contracts["people"]: [1], contracts["amount"]: 5, contracts["day"]: "2025-01-01"},
    )["result"]
    [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
    [old_row_id] = row[contracts["people"]]
    body = emu.rest(
        "lists.element.update",
        {
            **LIST,
            "ELEMENT_ID": element_id,
            "FIELDS": {
                "NAME": "Two!",
                contracts["people"]: {old_row_id: "1", "n0": "1"},
                contracts["amount"]: 6,
            },
        },
    )
    assert body["result"] is True
    [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
    assert row["NAME"] == "Two!"
    assert next(iter(row[contracts["people"]])) == old_row_id and len(row[contracts["people"]]) == 2
    assert contracts["day"] not in row  # not passed to update: emptied


def test_element_filters_order_select_and_paging(contracts):
    emu = contracts["emu"]
    for i in range(55):
        emu.portal.call(
            "lists.element.add",
            {**LIST, "ELEMENT_CODE": f"e{i}", "FIELDS": {"NAME": f"Element {i:02d}", contracts["amount"]: i}},
        )
    first = emu.rest("lists.element.get", {**LIST})
    assert (len(first["result"]), first["total"], first["next"]) == (50, 55, 50)
    second = emu.rest("lists.element.get", {**LIST, "start": 50})
    assert len(second["result"]) == 5 and "next" not in second
    big = emu.rest(
        "lists.element.get",
        {
            **LIST,
            "FILTER": {">=" + contracts["amount"]: 50},
            "ELEMENT_ORDER": {contracts["amount"]: "desc"},
            "SELECT": ["NAME"],
        },
    )
    assert [r["NAME"] for r in big["result"]] == [f"Element {i}" for i in range(54, 49, -1)]
    assert set(big["result"][0]) == {"ID", "NAME"}
    like = emu.rest("lists.element.get", {**LIST, "FILTER": {"%NAME": "ent 1"}})
    assert like["total"] == 10
    by_code = emu.rest("lists.element.get", {**LIST, "ELEMENT_CODE": "e7"})["result"]
    assert [r["NAME"] for r in by_code] == ["Element 07"]


@pytest.mark.parametrize(
    ("method", "extra", "code", "text"),
    [
        (
            "lists.element.add",
            {"ELEMENT_CODE": "x", "FIELDS": {"PROPERTY_AMOUNT": 1}},
            "ERROR_ADD_ELEMENT",
            "Enter the element name.<br>",
        ),
        (
            "lists.element.add",
            {"ELEMENT_CODE": "x", "FIELDS": {"NAME": "X"}},
            "ERROR_ADD_ELEMENT",
            'Property "Amount" is required.<br>',
        ),
        (
            "lists.element.add",
            {"FIELDS": {"NAME": "X"}},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `ELEMENT_CODE` is missing",
        ),
        (
            "lists.element.add",
            {"ELEMENT_CODE": "dup", "FIELDS": {"NAME": "X", "PROPERTY_AMOUNT": 1}},
            "ERROR_ELEMENT_ALREADY_EXISTS",
            "Element already exists",
        ),
        (
            "lists.element.add",
            {"ELEMENT_CODE": "x", "FIELDS": {"NAME": "X", "PROPERTY_AMOUNT": "lots"}},
            "ERROR_ELEMENT_FIELD_VALUE",
            'Incorrect value of the "Amount" field',
        ),
        (
            "lists.element.add",
            {"ELEMENT_CODE": "x", "FIELDS": {"NAME": "X", "PROPERTY_AMOUNT": 1, "PROPERTY_DUE": "soon"}},
            "ERROR_ELEMENT_FIELD_VALUE",
            'Incorrect value of the "Due" field',
        ),
        (
            "lists.element.add",
            {"ELEMENT_CODE": "x", "FIELDS": {"NAME": "X", "PROPERTY_AMOUNT": 1, "PROPERTY_STATE": 999999}},
            "ERROR_ELEMENT_FIELD_VALUE",
            'Incorrect value of the "State" field',
        ),
        (
            "lists.element.update",
            {"ELEMENT_ID": 999999, "FIELDS": {"NAME": "X"}},
            "ERROR_ELEMENT_NOT_FOUND",
            "Element not found",
        ),
        ("lists.element.delete", {"ELEMENT_CODE": "nope"}, "ERROR_ELEMENT_NOT_FOUND", "Element not found"),
        (
            "lists.element.delete",
            {},
            "ERROR_REQUIRED_PARAMETERS_MISSING",
            "Required parameter `ELEMENT_ID` is missing",
        ),
        ("lists.element.get", {"IBLOCK_CODE": "missing"}, "ERROR_IBLOCK_NOT_FOUND", "Iblock not found"),
    ],
)
def test_element_errors(contracts, method, extra, code, text):
    emu = contracts["emu"]
    add_element(emu, "dup", NAME="D", PROPERTY_AMOUNT=1)
    response = emu.http.post(f"{emu.webhook_url}{method}", json={**LIST, **extra})
    assert response.status_code == 400
    assert response.json() == {"error": code, "error_description": text}


def test_files_are_written_as_base64_not_by_id(b24_emulator):
    emu = b24_emulator
    make_list(emu)
    scan = add_field(emu, NAME="Scan", TYPE="F", CODE="SCAN")
    by_id = add_element(emu, "f1", NAME="F", **{scan: 17})
    assert by_id == {
        "error": "ERROR_ELEMENT_FIELD_VALUE",
        "error_description": "Writing file values by ID is not supported",
    }
    content = base64.b64encode(b"%PDF-1.4 test").decode()
    element_id = add_element(emu, "f2", NAME="F", **{scan: ["scan.pdf", content]})["result"]
    [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
    [file_id] = row[scan].values()
    assert file_id.isdigit()


def test_delete_element(contracts):
    emu = contracts["emu"]
    element_id = add_element(emu, "gone", NAME="Gone", PROPERTY_AMOUNT=1)["result"]
    assert emu.rest("lists.element.delete", {**LIST, "ELEMENT_ID": element_id})["result"] is True
    assert emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"] == []


def test_form_encoded_element_add(contracts):
    emu = contracts["emu"]
    response = emu.http.post(
        f"{emu.webhook_url}lists.element.add",
        data={
            "IBLOCK_TYPE_ID": "lists",
            "IBLOCK_CODE": "contracts",
            "ELEMENT_CODE": "form",
            "FIELDS[NAME]": "From a form",
            f"FIELDS[{contracts['amount']}]": "3",
            f"FIELDS[{contracts['people']}][0]": "1",
        },
    )
    element_id = response.json()["result"]
    [row] = emu.rest("lists.element.get", {**LIST, "ELEMENT_ID": element_id})["result"]
    assert row["NAME"] == "From a form" and list(row[contracts["people"]].values()) == ["1"]

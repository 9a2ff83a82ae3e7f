"""Required fields, pure part: settings, matching, emptiness, where a deal goes back, labels."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from b24kit.rules.required_model import (
    Card,
    Missing,
    Place,
    RequiredFieldsSettings,
    Requirement,
    applicable,
    describe,
    history_places,
    is_empty,
    label,
    missing_fields,
    revert_target,
)

SETTINGS = RequiredFieldsSettings.model_validate(
    {
        "requirements": [
            {
                "pipeline": 0,
                "stages": ["PREPAYMENT_INVOICE"],
                "deal": ["opportunity"],
                "company": ["UF_CRM_INN"],
            },
            {"pipeline": 0, "stages": ["EXECUTING"], "deal": ["OPPORTUNITY", "UF_CRM_CONTRACT"]},
            {"pipeline": 1, "from_pipelines": [], "contact": ["PHONE"]},
            {"pipeline": 2, "stages": ["C2:NEW"], "from_pipelines": [0], "deal": ["COMMENTS"]},
        ]
    }
)


@pytest.mark.parametrize(
    "value", [None, "", "  ", "0", "0.00", 0, 0.0, [], {}, [{"ID": "5", "VALUE": ""}], False, ["", None]]
)
def test_empty_values(value):
    assert is_empty(value)


@pytest.mark.parametrize(
    "value", ["x", "7701234567", 5, "1000.00", [{"VALUE": "+7495"}], ["D_1"], {"VALUE": "a"}, "N", True]
)
def test_filled_values(value):
    assert not is_empty(value)


def test_requirements_apply_by_pipeline_stage_and_move():
    def names(reqs: list[Requirement]) -> list[list[str]]:
        return [r.deal or r.contact for r in reqs]

    assert names(applicable(SETTINGS, Place(0, "PREPAYMENT_INVOICE"), Place(0, "NEW"))) == [["OPPORTUNITY"]]
    assert applicable(SETTINGS, Place(0, "NEW"), None) == []
    assert names(applicable(SETTINGS, Place(1, "C1:NEW"), Place(0, "WON"))) == [["PHONE"]]
    assert applicable(SETTINGS, Place(1, "C1:NEW"), Place(1, "C1:PREPARATION")) == []  # not a move in
    assert applicable(SETTINGS, Place(1, "C1:NEW"), None) == []
    assert names(applicable(SETTINGS, Place(2, "C2:NEW"), Place(0, "NEW"))) == [["COMMENTS"]]
    assert applicable(SETTINGS, Place(2, "C2:NEW"), Place(1, "C1:NEW")) == []  # only from pipeline 0


def test_missing_fields_of_deal_company_and_contacts():
    guards = applicable(SETTINGS, Place(0, "PREPAYMENT_INVOICE"), None)
    card = Card({"ID": "9", "TITLE": "Deal", "OPPORTUNITY": "0.00"}, {"ID": "3", "TITLE": "ACME"}, [])
    assert missing_fields(guards, card) == [
        Missing("deal", 9, "Deal", "OPPORTUNITY"),
        Missing("company", 3, "ACME", "UF_CRM_INN"),
    ]
    no_company = Card({"ID": "9", "OPPORTUNITY": "10"}, None, [])
    assert missing_fields(guards, no_company) == [Missing("company", None, "", "COMPANY_ID")]
    phone = applicable(SETTINGS, Place(1, "C1:NEW"), Place(0, "NEW"))
    contacts: list[dict[str, Any]] = [
        {"ID": "4", "NAME": "Ivan", "LAST_NAME": "Petrov"},
        {"ID": "5", "PHONE": [{"VALUE": "+7"}]},
    ]
    assert missing_fields(phone, Card({"ID": "9"}, None, contacts)) == [
        Missing("contact", 4, "Ivan Petrov", "PHONE")
    ]
    assert missing_fields(phone, Card({"ID": "9"}, None, [])) == [Missing("contact", None, "", "CONTACT_ID")]


def test_history_gives_where_it_came_from_and_earlier_places():
    entries = [
        {"CATEGORY_ID": 0, "STAGE_ID": "EXECUTING"},
        {"CATEGORY_ID": 0, "STAGE_ID": "PREPAYMENT_INVOICE"},
        {"CATEGORY_ID": 0, "STAGE_ID": "PREPARATION"},
        {"CATEGORY_ID": 0, "STAGE_ID": "EXECUTING"},
        {"CATEGORY_ID": 0, "STAGE_ID": "PREPARATION"},
        {"CATEGORY_ID": 0, "STAGE_ID": "NEW"},
    ]
    came_from, earlier = history_places(entries, Place(0, "EXECUTING"))
    assert came_from == Place(0, "PREPAYMENT_INVOICE")
    assert earlier == [Place(0, "PREPAYMENT_INVOICE"), Place(0, "PREPARATION"), Place(0, "NEW")]
    assert history_places([], Place(0, "NEW")) == (None, [])


def test_the_way_back_skips_stages_the_deal_may_not_stand_on():
    card = Card({"ID": "1", "OPPORTUNITY": "10"}, {"ID": "2", "TITLE": "ACME"}, [])
    current = Place(0, "EXECUTING")
    earlier = [Place(0, "PREPAYMENT_INVOICE"), Place(0, "PREPARATION"), Place(0, "NEW")]
    assert revert_target(SETTINGS, current, earlier, card) == Place(0, "PREPARATION")
    with_inn = Card(card.deal, {"ID": "2", "UF_CRM_INN": "77"}, [])
    assert revert_target(SETTINGS, current, earlier, with_inn) == Place(0, "PREPAYMENT_INVOICE")
    assert revert_target(SETTINGS, current, [current], card) is None


@given(
    st.lists(st.sampled_from(["NEW", "PREPARATION", "PREPAYMENT_INVOICE", "EXECUTING", "WON"]), max_size=8)
)
def test_a_move_back_never_lands_where_the_deal_would_be_moved_again(stages):
    card = Card({"ID": "1", "OPPORTUNITY": "0"}, None, [])
    current = Place(0, "EXECUTING")
    target = revert_target(SETTINGS, current, [Place(0, s) for s in stages], card)
    if target is not None:
        assert target != current
        assert not missing_fields(applicable(SETTINGS, target, current), card)


def test_labels_come_from_field_descriptions():
    meta = {
        "OPPORTUNITY": {"title": "Amount"},
        "UF_CRM_INN": {"title": "UF_CRM_INN", "listLabel": "INN", "formLabel": "ИНН"},
        "UF_CRM_X": {"title": "UF_CRM_X", "formLabel": {"ru": "Договор", "en": "Contract"}},
        "UF_CRM_BARE": {"title": "UF_CRM_BARE"},
    }
    assert label(meta, "OPPORTUNITY", "en") == "Amount"
    assert label(meta, "UF_CRM_INN", "en") == "ИНН"
    assert label(meta, "UF_CRM_X", "en") == "Contract"
    assert label(meta, "UF_CRM_X", "ru") == "Договор"
    assert label(meta, "UF_CRM_BARE", "en") == "UF_CRM_BARE"
    assert label(meta, "NOPE", "en") == "NOPE"


def test_describe_groups_by_record_in_the_language():
    metas = {
        "deal": {"OPPORTUNITY": {"title": "Amount"}, "COMPANY_ID": {"title": "Company"}},
        "company": {"UF_CRM_INN": {"title": "UF_CRM_INN", "formLabel": "INN"}},
        "contact": {"PHONE": {"title": "Phone"}, "EMAIL": {"title": "E-mail"}},
    }
    missing = [
        Missing("deal", 1, "Deal", "OPPORTUNITY"),
        Missing("company", 3, "ACME", "UF_CRM_INN"),
        Missing("contact", 4, "Ivan", "PHONE"),
        Missing("contact", 4, "Ivan", "EMAIL"),
    ]
    assert describe(missing, metas, "en") == "Amount; company “ACME”: INN; contact “Ivan”: Phone, E-mail"
    assert describe(missing[1:2], metas, "ru") == "компания «ACME»: INN"
    assert describe([Missing("company", None, "", "COMPANY_ID")], metas, "en") == "Company"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"requirements": [{"pipeline": 0, "stages": ["WON"]}]}, "at least one field"),
        ({"requirements": [{"deal": ["TITLE; DROP"]}]}, "is not a field code"),
        ({"requirements": [{"deal": ["TITLE"], "colour": "red"}]}, "Extra inputs are not permitted"),
        ({"texts": {"reverted": "{deal_title.__class__}"}}, "unknown placeholder"),
        ({"texts": {"reverted": "{fields!r}"}}, "conversion or format spec"),
        ({"texts": {"greeting": "hi"}}, "unknown text 'greeting'"),
        ({"texts": {"reverted": "{deal_title"}}, "is malformed"),
        ({"report": {"max_items": -1}}, "greater than or equal to 0"),
    ],
)
def test_bad_settings_say_what_is_wrong(raw, reason):
    with pytest.raises(ValidationError, match=reason):
        RequiredFieldsSettings.model_validate(raw)

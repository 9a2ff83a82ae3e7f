"""The required-fields rule (S2) on the emulated portal, over HTTP, with the portal's own events."""

from __future__ import annotations

from typing import Any

import pytest

from b24kit.automation import PortalEvent, get_event_rule
from b24kit.rules.required_fields import check_deal
from b24kit.rules.required_model import Place, RequiredFieldsSettings

GUARD: dict[str, Any] = {
    "requirements": [
        {
            "pipeline": 0,
            "stages": ["PREPAYMENT_INVOICE", "EXECUTING"],
            "deal": ["OPPORTUNITY", "UF_CRM_CONTRACT"],
            "company": ["UF_CRM_INN"],
            "contact": ["PHONE"],
        }
    ],
    "language": "en",
}
LINK = "https://example.bitrix24.ru/crm/deal/details/{}/"


class Events:
    """The portal's deal events, caught by an outgoing webhook and read from the delivery log."""

    def __init__(self, portal) -> None:
        self.portal = portal
        names = ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY"]
        portal.emulator.admin("outgoing-webhooks", {"handler": "http://127.0.0.1:9/hook", "events": names})
        self.seen = 0

    def new(self) -> list[PortalEvent]:
        self.portal.emulator.flush()
        sent = self.portal.emulator.admin("deliveries")
        fresh, self.seen = sent[self.seen :], len(sent)
        return [PortalEvent(d["body"]["event"], d["body"]["data"]) for d in fresh if d["kind"] == "event"]

    def pump(self, settings: dict[str, Any], rounds: int = 6) -> list[int]:
        """Hand every event to the rule, then the events its writes caused, until none come;
        returns the number of events handled per round."""
        spec = get_event_rule("required_fields")
        validated = spec.settings.model_validate(settings) if spec.settings else None
        handled: list[int] = []
        for _ in range(rounds):
            events = self.new()
            if not events:
                return handled
            handled.append(len(events))
            for event in events:
                self.portal.run(lambda ctx, e=event: spec.handler(e, ctx, validated))
        raise AssertionError(f"still events after {rounds} rounds: {handled}")


@pytest.fixture
def crm(portal):
    """A manager, a company without INN, a contact without phone, and user fields with labels."""
    portal.user_field("company", "INN", "Tax number")
    portal.user_field("deal", "CONTRACT", "Contract number")
    user = portal.add_user("Olga", "K")
    company = portal.rest("crm.company.add", {"fields": {"TITLE": "ACME"}})
    contact = portal.rest("crm.contact.add", {"fields": {"NAME": "Ivan", "LAST_NAME": "Petrov"}})
    return {"user": user, "company": company, "contact": contact}


def new_deal(portal, crm, **fields) -> int:
    values = {"TITLE": "Supply", "STAGE_ID": "PREPARATION", "ASSIGNED_BY_ID": crm["user"],
              "COMPANY_ID": crm["company"], "CONTACT_IDS": [crm["contact"]], **fields}  # fmt: skip
    deal_id: int = portal.rest("crm.deal.add", {"fields": values})
    return deal_id


def stage(portal, deal_id: int) -> tuple[str, str]:
    deal = portal.rest("crm.deal.get", {"id": deal_id})
    return deal["CATEGORY_ID"], deal["STAGE_ID"]


def notifications(portal) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = portal.emulator.admin("notifications")
    return found


def check(portal, deal_id: int, settings: Any = GUARD):
    checked = RequiredFieldsSettings.model_validate(settings)
    return portal.run(lambda ctx: check_deal(ctx, checked, deal_id))


def test_a_guarded_move_with_empty_fields_goes_back_and_the_manager_is_told(portal, crm):
    deal = new_deal(portal, crm, OPPORTUNITY=5000)
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "PREPAYMENT_INVOICE"}})
    mark = portal.mark()
    outcome = check(portal, deal)
    assert portal.requests_since(mark) == 3  # deal + history, card + labels + stages, move back + notify
    assert portal.writes_since(mark) == ["crm.item.update", "im.notify.system.add"]
    assert outcome.action == "reverted" and outcome.target == Place(0, "PREPARATION")
    assert stage(portal, deal) == ("0", "PREPARATION")
    (note,) = notifications(portal)
    assert note["USER_ID"] == crm["user"]
    assert note["MESSAGE"] == (
        f"Deal [url={LINK.format(deal)}]Supply[/url] was moved back to “Document preparation”: the stage "
        "“Prepayment invoice” needs Contract number; company “ACME”: Tax number; "
        "contact “Ivan Petrov”: Phone."
    )
    assert "UF_CRM" not in note["MESSAGE"]


def test_the_move_back_converges_through_the_portals_own_events(portal, crm):
    events = Events(portal)
    deal = new_deal(portal, crm, OPPORTUNITY=5000)
    assert events.pump(GUARD) == [1]  # the add: not guarded
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "EXECUTING"}})
    mark = portal.mark()
    rounds = events.pump(GUARD)
    assert rounds == [1, 1]  # the user's move, then our move back, whose event changes nothing
    assert portal.writes_since(mark) == ["crm.item.update", "im.notify.system.add"]
    assert len(notifications(portal)) == 1
    assert stage(portal, deal) == ("0", "PREPARATION")


def test_the_same_event_twice_has_one_effect(portal, crm):
    deal = new_deal(portal, crm)
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "EXECUTING"}})
    spec = get_event_rule("required_fields")
    settings = RequiredFieldsSettings.model_validate(GUARD)
    event = PortalEvent("ONCRMDEALUPDATE", {"FIELDS": {"ID": str(deal)}})
    mark = portal.mark()
    portal.run(lambda ctx: spec.handler(event, ctx, settings))
    portal.run(lambda ctx: spec.handler(event, ctx, settings))
    assert portal.writes_since(mark) == ["crm.item.update", "im.notify.system.add"]
    assert len(notifications(portal)) == 1


def test_a_complete_deal_stays_and_nothing_is_written(portal, crm):
    portal.rest("crm.company.update", {"id": crm["company"], "fields": {"UF_CRM_INN": "7701234567"}})
    portal.rest(
        "crm.contact.update",
        {"id": crm["contact"], "fields": {"PHONE": [{"VALUE": "+7495", "VALUE_TYPE": "WORK"}]}},
    )
    deal = new_deal(portal, crm, OPPORTUNITY=5000, UF_CRM_CONTRACT="C-1")
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "PREPAYMENT_INVOICE"}})
    mark = portal.mark()
    assert check(portal, deal).action == "complete"
    assert portal.writes_since(mark) == [] and notifications(portal) == []
    assert stage(portal, deal) == ("0", "PREPAYMENT_INVOICE")
    other = new_deal(portal, crm)
    mark = portal.mark()
    assert check(portal, other).action == "unguarded"
    assert portal.requests_since(mark) == 1


def test_going_back_skips_earlier_stages_the_deal_may_no_longer_stand_on(portal, crm):
    portal.rest("crm.company.update", {"id": crm["company"], "fields": {"UF_CRM_INN": "7701234567"}})
    settings = {
        "requirements": [
            {"stages": ["PREPAYMENT_INVOICE"], "company": ["UF_CRM_INN"]},
            {"stages": ["EXECUTING"], "company": ["UF_CRM_INN"], "deal": ["OPPORTUNITY"]},
        ]
    }
    deal = new_deal(portal, crm, OPPORTUNITY=100)
    for step in ("PREPAYMENT_INVOICE", "EXECUTING"):
        portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": step}})
    portal.rest("crm.company.update", {"id": crm["company"], "fields": {"UF_CRM_INN": ""}})
    outcome = check(portal, deal, settings)
    assert outcome.target == Place(0, "PREPARATION")
    assert stage(portal, deal) == ("0", "PREPARATION")
    assert check(portal, deal, settings).action == "unguarded"


def test_a_move_between_pipelines_is_undone(portal, crm):
    category = portal.rest("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Projects"}})[
        "category"
    ]["id"]
    settings = {"requirements": [{"pipeline": category, "from_pipelines": [], "deal": ["UF_CRM_CONTRACT"]}]}
    events = Events(portal)
    deal = new_deal(portal, crm)
    portal.rest("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"categoryId": category}})
    assert stage(portal, deal) == (str(category), f"C{category}:NEW")
    rounds = events.pump(settings)
    assert stage(portal, deal) == ("0", "PREPARATION")
    assert rounds[-1] >= 1 and len(notifications(portal)) == 1
    assert "moved back to “Document preparation”" in notifications(portal)[0]["MESSAGE"]
    # the same move with the contract filled in is allowed
    portal.rest("crm.deal.update", {"id": deal, "fields": {"UF_CRM_CONTRACT": "C-7"}})
    portal.rest("crm.item.update", {"entityTypeId": 2, "id": deal, "fields": {"categoryId": category}})
    events.pump(settings)
    assert stage(portal, deal) == (str(category), f"C{category}:NEW")
    assert len(notifications(portal)) == 1


def test_a_deal_created_on_a_guarded_stage_goes_to_the_first_stage(portal, crm):
    deal = new_deal(portal, crm, STAGE_ID="EXECUTING")
    outcome = check(portal, deal)
    assert outcome.action == "reverted" and stage(portal, deal) == ("0", "NEW")
    fallback = {"requirements": [{**GUARD["requirements"][0], "fallback_stage": "PREPARATION"}]}
    other = new_deal(portal, crm, STAGE_ID="EXECUTING")
    assert check(portal, other, fallback).target == Place(0, "PREPARATION")


def test_nowhere_to_go_back_leaves_the_deal_and_says_so(portal, crm):
    settings = {"requirements": [{"pipeline": 0, "deal": ["UF_CRM_CONTRACT"]}], "language": "ru"}
    deal = new_deal(portal, crm, STAGE_ID="NEW")
    mark = portal.mark()
    outcome = check(portal, deal, settings)
    assert outcome.action == "stuck" and outcome.target is None
    assert portal.writes_since(mark) == ["im.notify.system.add"]
    (note,) = notifications(portal)
    assert note["MESSAGE"].startswith(
        f"Сделка [url={LINK.format(deal)}]Supply[/url] находится на стадии «New»"
    )
    assert "но не заполнены: Contract number. Вернуть её было некуда" in note["MESSAGE"]


def test_a_stuck_deal_is_told_once_per_stage_arrival_and_missing_fields(portal, crm, caplog):
    """A deal with nowhere to go back to is not notified again on every update: only when it
    arrives on a stage anew or what it lacks changes."""
    every_stage = {"pipeline": 0, "deal": ["UF_CRM_CONTRACT", "COMMENTS"]}
    settings = {"requirements": [every_stage], "language": "en"}
    deal = new_deal(portal, crm, STAGE_ID="NEW")
    assert check(portal, deal, settings).action == "stuck"
    assert len(notifications(portal)) == 1

    portal.rest("crm.deal.update", {"id": deal, "fields": {"TITLE": "Supply 2"}})
    mark = portal.mark()
    again = check(portal, deal, settings)
    assert (again.action, again.told_before, again.message) == ("stuck", True, "")
    assert portal.writes_since(mark) == [] and len(notifications(portal)) == 1
    spec = get_event_rule("required_fields")
    event = PortalEvent("ONCRMDEALUPDATE", {"FIELDS": {"ID": str(deal)}})
    validated = RequiredFieldsSettings.model_validate(settings)
    with caplog.at_level("INFO"):
        portal.run(lambda ctx: spec.handler(event, ctx, validated))
    assert f"required fields: deal {deal} stuck (told before)" in caplog.text
    assert len(notifications(portal)) == 1

    portal.rest("crm.deal.update", {"id": deal, "fields": {"COMMENTS": "filled"}})
    assert check(portal, deal, settings).told_before is False  # fewer fields missing: told again
    assert notifications(portal)[-1]["MESSAGE"].count("Contract number") == 1
    assert "Comment" not in notifications(portal)[-1]["MESSAGE"]
    assert check(portal, deal, settings).told_before is True

    for step in ("PREPARATION", "NEW"):  # away and back: a new arrival on the stage
        portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": step}})
        assert check(portal, deal, settings).told_before is False
    assert len(notifications(portal)) == 4
    assert check(portal, deal, settings).told_before is True
    assert len(notifications(portal)) == 4


def test_russian_texts_overrides_and_no_notification(portal, crm):
    deal = new_deal(portal, crm)
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "EXECUTING"}})
    ru = {**GUARD, "language": "ru"}
    check(portal, deal, ru)
    assert notifications(portal)[0]["MESSAGE"].startswith(
        f"Сделка [url={LINK.format(deal)}]Supply[/url] возвращена"
    )
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "EXECUTING"}})
    custom = {**GUARD, "texts": {"reverted": "{deal_title}: {previous_stage} <- {stage}: {fields}"}}
    check(portal, deal, custom)
    assert notifications(portal)[1]["MESSAGE"].startswith(
        "Supply: Document preparation <- In progress: Amount"
    )
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "EXECUTING"}})
    mark = portal.mark()
    check(portal, deal, {**GUARD, "notify": False})
    assert portal.writes_since(mark) == ["crm.item.update"]
    assert len(notifications(portal)) == 2


def test_a_deal_without_company_or_contacts(portal, crm):
    fields = {"TITLE": "Bare", "STAGE_ID": "PREPARATION", "OPPORTUNITY": 5, "UF_CRM_CONTRACT": "C"}
    deal = portal.rest("crm.deal.add", {"fields": {**fields, "ASSIGNED_BY_ID": crm["user"]}})
    portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "PREPAYMENT_INVOICE"}})
    outcome = check(portal, deal)
    assert outcome.fields == "Company, Contact"


def test_a_deleted_deal_is_skipped(portal, crm):
    assert check(portal, 404).action == "gone"

"""The payment-schedule robot (S1) on the emulated portal, over HTTP."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from b24kit.automation import RobotCall, get_robot
from b24kit.errors import Retriable, RobotError
from b24kit.rules.payment_schedule import TransientWriteError, apply_schedule, read_payments
from b24kit.rules.payment_settings import PaymentScheduleSettings, TaskSpec

TASK_SELECT = ["ID", "TITLE", "DESCRIPTION", "RESPONSIBLE_ID", "DEADLINE", "STATUS", "XML_ID", "UF_CRM_TASK"]


def robot_call(deal_id: int, properties: dict[str, Any], document: str = "DEAL") -> RobotCall:
    return RobotCall(
        code="payment_schedule",
        workflow_id="wf1",
        event_token="wf1|A1|token",
        document_id=("crm", "CCrmDocumentDeal", f"{document}_{deal_id}"),
        document_type=("crm", "CCrmDocumentDeal", document),
        properties=properties,
        use_subscription=True,
    )


def run_robot(portal, deal_id: int, properties: dict[str, Any], settings: Any = None):
    spec = get_robot("payment_schedule")
    validated = spec.settings.model_validate(settings or {}) if spec.settings else None
    return portal.run(lambda ctx: spec.handler(robot_call(deal_id, properties), ctx, validated))


@pytest.fixture
def deal(portal):
    user = portal.rest("user.add", {"NAME": "Olga", "LAST_NAME": "Manager", "EMAIL": "olga@example.com",
                                    "UF_DEPARTMENT": [1]})  # fmt: skip
    company = portal.rest("crm.company.add", {"fields": {"TITLE": "ACME"}})
    contacts = [portal.rest("crm.contact.add", {"fields": {"NAME": n}}) for n in ("Ivan", "Petr")]
    return portal.rest(
        "crm.deal.add",
        {"fields": {"TITLE": "Big deal", "OPPORTUNITY": 100000, "CURRENCY_ID": "RUB", "COMPANY_ID": company,
                    "CONTACT_IDS": contacts, "ASSIGNED_BY_ID": user}},
    )  # fmt: skip


def soon(days: int) -> date:
    return date.today() + timedelta(days=days)


def invoices(portal) -> list[dict[str, Any]]:
    params = {"entityTypeId": 31, "select": ["*"], "order": {"id": "ASC"}}
    rows: list[dict[str, Any]] = portal.rest("crm.item.list", params)["items"]
    return rows


def tasks(portal) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = portal.rest(
        "tasks.task.list", {"select": TASK_SELECT, "order": {"ID": "ASC"}}
    )["tasks"]
    return rows


def schedule_text(*rows: tuple[int, str]) -> str:
    return "\n".join(f"{soon(days):%d.%m.%Y}; {amount}" for days, amount in rows)


def test_invoices_and_tasks_with_links_amounts_and_deadlines(portal, deal):
    deal_row = portal.rest("crm.deal.get", {"id": deal})
    mark = portal.mark()
    answer = run_robot(portal, deal, {"schedule": schedule_text((10, "30 000,00"), (40, "70 000"))})
    assert sorted(portal.writes_since(mark)) == ["crm.item.add"] * 2 + ["tasks.task.add"] * 4
    assert portal.requests_since(mark) == 3  # one read batch, two write batches
    made = invoices(portal)
    assert answer["invoice_ids"] == [i["id"] for i in made] and len(made) == 2
    assert "invoices created 2" in answer["summary"] and "tasks created 4" in answer["summary"]
    for inv, (days, amount) in zip(made, [(10, 30000), (40, 70000)], strict=True):
        assert inv["parentId2"] == deal and inv["companyId"] == int(deal_row["COMPANY_ID"])
        assert sorted(inv["contactIds"]) == [1, 2]
        assert inv["opportunity"] == amount and inv["currencyId"] == "RUB"
        assert inv["closedate"].startswith(soon(days).isoformat())
        assert inv["assignedById"] == int(deal_row["ASSIGNED_BY_ID"])
        assert inv["xmlId"] == f"b24kit.ps:{deal}:{made.index(inv) + 1}"
    assert made[0]["title"] == "Invoice 1 of 2 for deal “Big deal”"

    by_key = {t["xmlId"]: t for t in tasks(portal)}
    assert len(by_key) == 4
    for number, inv in enumerate(made, start=1):
        send, check = by_key[f"b24kit.ps:{deal}:{number}:send"], by_key[f"b24kit.ps:{deal}:{number}:check"]
        due = date.fromisoformat(inv["closedate"][:10])
        assert send["ufCrmTask"] == [f"D_{deal}", f"SI_{inv['id']}"] == check["ufCrmTask"]
        assert send["deadline"].startswith(f"{due - timedelta(days=3)}T18:00:00")
        assert check["deadline"].startswith(f"{due + timedelta(days=1)}T18:00:00")
        assert send["responsibleId"] == check["responsibleId"] == deal_row["ASSIGNED_BY_ID"]
        assert send["title"] == f"Send invoice {number} for deal “Big deal”"
        assert check["title"] == f"Check payment of invoice {number} for deal “Big deal”"
        assert f"https://example.bitrix24.ru/crm/type/31/details/{inv['id']}/" in send["description"]
        assert f"https://example.bitrix24.ru/crm/deal/details/{deal}/" in check["description"]


def test_running_twice_writes_nothing_the_second_time(portal, deal):
    properties = {"schedule": schedule_text((10, "50000"), (20, "50000"))}
    first = run_robot(portal, deal, properties)
    mark = portal.mark()
    second = run_robot(portal, deal, properties)
    assert second["invoice_ids"] == first["invoice_ids"]
    assert second["summary"] == "nothing to change: 2 invoices match the schedule"
    assert portal.writes_since(mark) == []
    assert portal.requests_since(mark) == 1
    assert len(invoices(portal)) == 2 and len(tasks(portal)) == 4


def test_the_fields_form_and_settings(portal, deal):
    settings = {
        "send_task": {"days": -5, "responsible": 1, "time": "10:30"},
        "check_task": {"enabled": False},
        "texts": {"invoice_title": "{deal_title}: {number}/{count}"},
        "language": "ru",
    }
    properties = {
        "count": "2",
        "dates": [soon(5).isoformat(), f"{soon(9):%d.%m.%Y}"],
        "amounts": ["60000", "40000"],
    }
    answer = run_robot(portal, deal, properties, settings)
    made = invoices(portal)
    assert [i["title"] for i in made] == ["Big deal: 1/2", "Big deal: 2/2"]
    assert answer["invoice_ids"] == [i["id"] for i in made]
    made_tasks = tasks(portal)
    assert [t["xmlId"].rsplit(":", 1)[1] for t in made_tasks] == ["send", "send"]
    assert made_tasks[0]["deadline"].startswith(f"{soon(0)}T10:30:00")
    assert made_tasks[0]["responsibleId"] == "1"
    assert made_tasks[0]["title"] == "Отправить счёт 1 по сделке «Big deal»"
    assert "60 000,00 RUB" in made_tasks[0]["description"]


def test_an_edited_schedule_updates_unpaid_invoices_and_says_what_it_did(portal, deal):
    run_robot(portal, deal, {"schedule": schedule_text((10, "40000"), (20, "30000"), (30, "30000"))})
    first, second, third = invoices(portal)
    portal.rest("crm.item.update", {"entityTypeId": 31, "id": first["id"], "fields": {"stageId": "DT31_1:P"}})
    mark = portal.mark()
    answer = run_robot(portal, deal, {"schedule": schedule_text((12, "50000"), (25, "50000"))})
    after = {i["id"]: i for i in invoices(portal)}
    assert answer["invoice_ids"] == [first["id"], second["id"]]
    assert after[first["id"]]["opportunity"] == 40000  # paid: left as it is
    assert after[second["id"]]["opportunity"] == 50000
    assert after[second["id"]]["closedate"].startswith(soon(25).isoformat())
    assert after[second["id"]]["title"] == "Invoice 2 of 2 for deal “Big deal”"
    assert third["id"] not in after
    summary = answer["summary"]
    assert f"invoice {first['id']} (payment 1) is closed on stage DT31_1:P" in summary
    assert f"deleted invoice {third['id']}: payment 3 is no longer in the schedule" in summary
    left = {t["xmlId"]: t for t in tasks(portal)}
    assert sorted(k.split(":", 2)[2] for k in left) == ["1:check", "1:send", "2:check", "2:send"]
    assert left[f"b24kit.ps:{deal}:2:send"]["deadline"].startswith(f"{soon(22)}T18:00")
    assert left[f"b24kit.ps:{deal}:1:send"]["deadline"].startswith(
        f"{soon(7)}T18:00"
    )  # paid: tasks untouched
    writes = portal.writes_since(mark)
    assert sorted(set(writes)) == [
        "crm.item.delete",
        "crm.item.update",
        "tasks.task.delete",
        "tasks.task.update",
    ]
    assert writes.count("crm.item.update") == 1 and writes.count("tasks.task.delete") == 2
    mark = portal.mark()
    run_robot(portal, deal, {"schedule": schedule_text((12, "50000"), (25, "50000"))})
    assert portal.writes_since(mark) == []


def test_an_invoice_deleted_by_hand_is_made_again_and_its_tasks_re_pointed(portal, deal):
    properties = {"schedule": schedule_text((10, "100000"))}
    (old_id,) = run_robot(portal, deal, properties)["invoice_ids"]
    portal.rest("crm.item.delete", {"entityTypeId": 31, "id": old_id})
    mark = portal.mark()
    (new_id,) = run_robot(portal, deal, properties)["invoice_ids"]
    assert new_id != old_id
    assert sorted(portal.writes_since(mark)) == ["crm.item.add", "tasks.task.update", "tasks.task.update"]
    assert all(t["ufCrmTask"] == [f"D_{deal}", f"SI_{new_id}"] for t in tasks(portal))


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"schedule": "2026-12-01 50000\n2026-12-40 50000"}, "line 2: '2026-12-40' is not a calendar date"),
        ({"schedule": schedule_text((10, "50000"), (20, "40000"))}, "the payments add up to 90000.00"),
        ({"schedule": schedule_text((20, "50000"), (10, "50000"))}, "dates must ascend"),
        ({"schedule": schedule_text((-3, "50000"), (10, "50000"))}, "in the past"),
        ({"count": 3, "dates": [soon(5).isoformat()], "amounts": [100000]}, "count is 3, but 1 dates"),
        ({}, "no schedule"),
    ],
)
def test_a_bad_schedule_answers_with_the_reason_and_creates_nothing(portal, deal, properties, reason):
    mark = portal.mark()
    with pytest.raises(RobotError, match=reason):
        run_robot(portal, deal, properties)
    assert portal.writes_since(mark) == []
    assert invoices(portal) == [] and tasks(portal) == []


def test_wrong_document_or_missing_deal(portal, deal):
    spec = get_robot("payment_schedule")
    call = robot_call(deal, {"schedule": schedule_text((5, "100000"))}, document="LEAD")
    with pytest.raises(RobotError, match="runs on deals"):
        portal.run(lambda ctx: spec.handler(call, ctx, None))
    with pytest.raises(RobotError, match="deal 999 not found"):
        run_robot(portal, 999, {"schedule": schedule_text((5, "100000"))})


def test_a_failed_write_is_reported_and_a_second_run_finishes(portal, deal):
    portal.emulator.admin("faults", {"method": "tasks.task.add", "error": "ACCESS_DENIED", "times": 2})
    properties = {"schedule": schedule_text((10, "50000"), (20, "50000"))}
    try:
        with pytest.raises(RobotError, match=r"2 writes failed.*run the robot again") as refused:
            run_robot(portal, deal, properties)
    finally:
        portal.emulator.admin("faults", method="DELETE")
    assert not isinstance(refused.value, Retriable)  # a refusal is answered at once
    assert len(invoices(portal)) == 2 and len(tasks(portal)) == 2
    mark = portal.mark()
    answer = run_robot(portal, deal, properties)
    assert portal.writes_since(mark) == ["tasks.task.add", "tasks.task.add"]
    assert answer["summary"] == "tasks created 2"
    assert len(tasks(portal)) == 4


@pytest.mark.parametrize("error", ["500", "502"])
def test_a_transient_write_failure_is_retriable_and_a_retry_repeats_nothing(portal, deal, error):
    """A 5xx on a write is for the runner to retry (the client resends limit refusals itself);
    the retry writes only what is missing."""
    portal.emulator.admin("faults", {"method": "crm.item.add", "error": error, "times": 1})
    properties = {"schedule": schedule_text((10, "50000"), (20, "50000"))}
    try:
        with pytest.raises(TransientWriteError, match=r"1 writes failed \(inv_add_1: ") as failed:
            run_robot(portal, deal, properties)
    finally:
        portal.emulator.admin("faults", method="DELETE")
    assert isinstance(failed.value, Retriable) and isinstance(failed.value, RobotError)
    assert len(invoices(portal)) == 1 and len(tasks(portal)) == 2  # payment 2 and its tasks
    answer = run_robot(portal, deal, properties)
    assert answer["summary"] == "invoices created 1, tasks created 2"
    assert len(invoices(portal)) == 2 and len(tasks(portal)) == 4


def test_more_than_fifty_invoices_are_all_found(portal, deal):
    rows = [(i + 1, "1000") for i in range(60)]
    settings = {"max_payments": 100, "send_task": {"enabled": False}, "check_task": {"enabled": False}}
    portal.rest("crm.deal.update", {"id": deal, "fields": {"OPPORTUNITY": 60000}})
    first = run_robot(portal, deal, {"schedule": schedule_text(*rows)}, settings)
    mark = portal.mark()
    second = run_robot(portal, deal, {"schedule": schedule_text(*rows)}, settings)
    assert second["invoice_ids"] == first["invoice_ids"] and len(set(first["invoice_ids"])) == 60
    assert portal.writes_since(mark) == []


def test_apply_schedule_is_usable_without_the_robot(portal, deal):
    payments = read_payments({"schedule": schedule_text((3, "100000"))})
    settings = PaymentScheduleSettings(send_task=TaskSpec(enabled=False), check_task=TaskSpec(days=0))
    result = portal.run(lambda ctx: apply_schedule(ctx, settings, deal, payments))
    assert result.counts["invoices created"] == 1 and result.counts["tasks created"] == 1

"""S1 through the runner with portal faults: a 5xx on a write is retried by the runner, and the
robot answers success without duplicate invoices or tasks; a refusal is answered at once."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from b24kit.jobs.admin import install_robots
from b24kit.testing import RunningEmulator
from tests.jobs.helpers import Served, in_process, install, write_config

JOBS = """
version: 1
jobs:
  - name: payment-schedule
    trigger: {robot: payment_schedule}
"""


def rest(emulator: RunningEmulator, method: str, params: dict[str, Any]) -> Any:
    body = emulator.rest(method, params)
    assert "error" not in body, body
    return body["result"]


def start_robot(emulator: RunningEmulator, served: Served) -> int:
    """The robot installed and placed on PREPARATION, and a deal moved there: its deal ID."""
    install(emulator, served.url)
    assert served.runner is not None
    asyncio.run(install_robots(served.settings, served.runner.services.jobs, "emu", base_url=served.url))
    due = [date.today() + timedelta(days=d) for d in (10, 40)]
    schedule = "\n".join(f"{d:%d.%m.%Y}; 50 000" for d in due)
    placement = {"entity_type_id": 2, "category_id": 0, "stage_id": "PREPARATION"}
    robot = {"robot_code": "payment_schedule", "properties": {"schedule": schedule}}
    emulator.admin("automation", {**placement, **robot})
    company = rest(emulator, "crm.company.add", {"fields": {"TITLE": "ACME"}})
    fields = {"TITLE": "Supply", "OPPORTUNITY": 100000, "COMPANY_ID": company, "STAGE_ID": "NEW"}
    deal: int = rest(emulator, "crm.deal.add", {"fields": fields})
    rest(emulator, "crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "PREPARATION"}})
    return deal


def settle(emulator: RunningEmulator, served: Served) -> dict[str, Any]:
    emulator.flush()
    served.wait_idle(settle=0.3)
    (run,) = emulator.admin("workflows")
    return dict(run)


def made(emulator: RunningEmulator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    invoices = rest(emulator, "crm.item.list", {"entityTypeId": 31, "select": ["id", "xmlId"]})["items"]
    tasks = rest(emulator, "tasks.task.list", {"select": ["ID", "XML_ID"]})["tasks"]
    return invoices, tasks


def test_a_500_on_the_write_batch_is_retried_and_answered_with_success(b24_emulator, tmp_path):
    with in_process(write_config(tmp_path, b24_emulator.base_url, JOBS)) as served:
        b24_emulator.admin("faults", {"method": "crm.item.add", "error": "500", "times": 1})
        deal = start_robot(b24_emulator, served)
        run = settle(b24_emulator, served)
        invoices, tasks = made(b24_emulator)
        assert run["status"] == "completed" and run["log"] == []
        assert sorted(run["return_values"]["invoice_ids"]) == sorted(int(i["id"]) for i in invoices)
        assert sorted(i["xmlId"] for i in invoices) == [f"b24kit.ps:{deal}:1", f"b24kit.ps:{deal}:2"]
        assert sorted(t["xmlId"] for t in tasks) == sorted(
            f"b24kit.ps:{deal}:{n}:{kind}" for n in (1, 2) for kind in ("send", "check")
        )
        assert served.metric("b24kit_runner_retried_total", kind="robot") == 1
        assert served.metric("b24kit_runner_robot_answers_total", outcome="sent") == 1


def test_a_refused_write_is_answered_at_once(b24_emulator, tmp_path):
    with in_process(write_config(tmp_path, b24_emulator.base_url, JOBS)) as served:
        b24_emulator.admin("faults", {"method": "crm.item.add", "error": "ACCESS_DENIED", "times": 1})
        start_robot(b24_emulator, served)
        run = settle(b24_emulator, served)
        assert run["status"] == "completed"
        assert run["log"][0].startswith("b24kit: 1 writes failed (inv_add_1: ")
        assert served.metric("b24kit_runner_retried_total", kind="robot") == 0
        invoices, tasks = made(b24_emulator)
        assert len(invoices) == 1 and len(tasks) == 2  # payment 2 is done; a new run finishes

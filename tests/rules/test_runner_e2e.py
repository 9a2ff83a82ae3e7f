"""S1 and S2 end to end: the example job files, ``b24kit serve`` as a real process, the emulator
as the portal (an installed application), robots installed and placed, deals moved."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from b24kit.automation.registry import load_plugins
from b24kit.jobs.loader import load_jobs

REPO = Path(__file__).resolve().parents[2]
JOB_FILES = [REPO / "jobs" / "payment-schedule.yaml", REPO / "jobs" / "required-fields.yaml"]
CLI = [sys.executable, "-c", "from b24kit.cli import main; main()"]


def test_the_example_job_files_load():
    load_plugins()
    jobs = load_jobs(JOB_FILES, env={}, portals=["emulator"])
    assert [r.code for r in jobs.robots("emulator")] == ["payment_schedule"]
    assert jobs.events("emulator") == ["ONCRMDEALADD", "ONCRMDEALUPDATE", "ONCRMDEALMOVETOCATEGORY"]
    report = jobs.get("required-fields-report")
    assert report is not None and report.trigger.cron == "0 8 * * 1-5"
    assert report.settings.report.output == "../reports/incomplete-cards-{date}.xlsx"


class Runner:
    """``b24kit serve`` in a subprocess, configured for the emulator as an installed application."""

    def __init__(self, workdir: Path, rest_base: str) -> None:
        (workdir / "jobs").mkdir()
        for path in JOB_FILES:
            shutil.copy(path, workdir / "jobs")
        self.config = workdir / "b24kit.yaml"
        self.config.write_text(
            f"""
default_portal: emulator
portals:
  emulator:
    url: {rest_base}/rest/
    auth: oauth
    client_id: local.b24kit.e2e
    client_secret: e2e-secret
    token_url: {rest_base}/oauth/token/
    token_store: tokens.json
    limits: off
runner:
  listen: {{host: 127.0.0.1, port: 0}}
  state: sqlite:///runner.db
  jobs: [jobs/*.yaml]
  debounce_seconds: 0.2
  portals:
    emulator: {{portal_url: "https://example.bitrix24.ru"}}
"""
        )
        self.log = (workdir / "serve.log").open("w")
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--config", str(self.config)], stdout=subprocess.PIPE, stderr=self.log, text=True
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        assert self.url.startswith("http://"), (workdir / "serve.log").read_text()

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [*CLI, *args, "--config", str(self.config), "--public-url", self.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def busy(self) -> int:
        tasks = httpx.get(self.url + "/healthz", timeout=10).json()["tasks"]
        return int(tasks.get("queued", 0)) + int(tasks.get("running", 0))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


@pytest.fixture
def runner(b24_emulator, tmp_path) -> Iterator[Runner]:
    running = Runner(tmp_path, b24_emulator.base_url)
    yield running
    running.stop()


def settle(emulator, runner: Runner, timeout: float = 30) -> None:
    """Wait until the portal has sent everything and the runner has done everything, three
    checks in a row (one event's work may send the next)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 3:
        assert time.monotonic() < deadline, "the runner did not settle"
        emulator.flush()
        waiting = [w for w in emulator.admin("workflows") if w["status"] == "running"]
        quiet = quiet + 1 if not waiting and not runner.busy() else 0
        time.sleep(0.2)


def rest(emulator, method: str, params: dict[str, Any]) -> Any:
    body = emulator.rest(method, params)
    assert "error" not in body, body
    return body["result"]


def test_robots_and_rules_through_the_runner(b24_emulator, runner):
    emulator = b24_emulator
    app = {
        "client_id": "local.b24kit.e2e",
        "client_secret": "e2e-secret",
        "handler": runner.url + "/install/emulator",
    }
    emulator.admin("apps", app)
    assert "robot payment_schedule added" in runner.cli("robots", "install")
    assert "ONCRMDEALUPDATE (online) bound" in runner.cli("events", "bind")

    rest(emulator, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "SCHEDULE", "USER_TYPE_ID": "string"}})
    inn = {"FIELD_NAME": "INN", "USER_TYPE_ID": "string", "EDIT_FORM_LABEL": {"ru": "ИНН"}}
    rest(emulator, "crm.company.userfield.add", {"fields": inn})
    placement = {"entity_type_id": 2, "category_id": 0, "stage_id": "PREPAYMENT_INVOICE"}
    properties = {"schedule": "{=Document:UF_CRM_SCHEDULE}"}
    emulator.admin("automation", {**placement, "robot_code": "payment_schedule", "properties": properties})
    phone = [{"VALUE": "+74951234567", "VALUE_TYPE": "WORK"}]
    email = [{"VALUE": "buyer@example.com", "VALUE_TYPE": "WORK"}]
    good_company = rest(
        emulator, "crm.company.add", {"fields": {"TITLE": "ACME", "UF_CRM_INN": "7701", "PHONE": phone}}
    )
    bare_company = rest(emulator, "crm.company.add", {"fields": {"TITLE": "Initech", "PHONE": phone}})
    contact = rest(emulator, "crm.contact.add", {"fields": {"NAME": "Ivan", "PHONE": phone, "EMAIL": email}})
    first = "15.06.2031; 60 000\n01.03.2032; 40 000,00"

    def deal(title: str, company: int, schedule: str) -> int:
        fields = {"TITLE": title, "STAGE_ID": "PREPARATION", "OPPORTUNITY": 100000, "CLOSEDATE": "2031-12-31",
                  "COMPANY_ID": company, "CONTACT_IDS": [contact], "UF_CRM_SCHEDULE": schedule}  # fmt: skip
        made: int = rest(emulator, "crm.deal.add", {"fields": fields})
        return made

    complete = deal("Complete", good_company, first)
    incomplete = deal("Incomplete", bare_company, "")
    settle(emulator, runner)
    mark = len(emulator.admin("calls"))
    for deal_id in (complete, incomplete):
        rest(emulator, "crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "PREPAYMENT_INVOICE"}})
    settle(emulator, runner)

    invoices = rest(emulator, "crm.item.list", {"entityTypeId": 31, "select": ["*"], "order": {"id": "ASC"}})[
        "items"
    ]
    assert [(i["parentId2"], i["opportunity"], i["companyId"]) for i in invoices] == [
        (complete, 60000, good_company),
        (complete, 40000, good_company),
    ]
    assert invoices[0]["title"] == "Счёт 1 из 2 по сделке «Complete»"
    tasks = rest(emulator, "tasks.task.list", {"select": ["ID", "TITLE", "UF_CRM_TASK", "DEADLINE"]})["tasks"]
    assert len(tasks) == 4
    assert all(t["ufCrmTask"][0] == f"D_{complete}" and t["ufCrmTask"][1].startswith("SI_") for t in tasks)
    runs = {int(w["document_id"][2].split("_")[1]): w for w in emulator.admin("workflows")}
    assert runs[complete]["status"] == "completed"
    assert runs[complete]["return_values"]["invoice_ids"] == [i["id"] for i in invoices]
    assert "no schedule" in str(runs[incomplete]["log"])  # the robot answered with the reason

    assert rest(emulator, "crm.deal.get", {"id": complete})["STAGE_ID"] == "PREPAYMENT_INVOICE"
    assert rest(emulator, "crm.deal.get", {"id": incomplete})["STAGE_ID"] == "PREPARATION"
    (note,) = emulator.admin("notifications")
    assert note["USER_ID"] == 1
    assert note["MESSAGE"].startswith(
        "Сделка [url=https://example.bitrix24.ru/crm/deal/details/2/]Incomplete[/url] возвращена на стадию "
        "«Document preparation»"
    )
    assert "компания «Initech»: ИНН" in note["MESSAGE"]
    writes = [
        c["method"]
        for c in emulator.admin("calls")[mark:]
        if c["method"].rsplit(".", 1)[-1] in ("add", "update")
    ]
    assert writes.count("crm.item.update") == 1  # one move back; its own event changed nothing
    assert writes.count("crm.item.add") == 2 and writes.count("tasks.task.add") == 4

    # the robot run again (out of the stage and back in) writes nothing new
    mark = len(emulator.admin("calls"))
    for step in ("PREPARATION", "PREPAYMENT_INVOICE"):
        rest(emulator, "crm.deal.update", {"id": complete, "fields": {"STAGE_ID": step}})
        settle(emulator, runner)
    later = [c["method"] for c in emulator.admin("calls")[mark:] if c.get("via") == "batch"]
    assert not [
        m for m in later if m.startswith(("crm.item.", "tasks.task.")) and not m.endswith((".get", ".list"))
    ]
    assert len(rest(emulator, "crm.item.list", {"entityTypeId": 31, "select": ["id"]})["items"]) == 2

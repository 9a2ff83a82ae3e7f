"""What ``b24kit demo`` runs: the emulator with demo data and the job runner, both in this
process, wired as a real installation is (an OAuth application, robots registered, events bound),
then a few deals moved through the stages so the S1 and S2 rules have something to do.

Everything goes over HTTP on 127.0.0.1: the portal calls the runner's ``/robots/...`` and
``/events/...`` endpoints, the runner calls the portal's REST API. :func:`run_demo` returns what
happened; ``demo.py`` prints it.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from b24kit.config import load_settings
from b24kit.emulator import Settings as EmulatorSettings
from b24kit.emulator.server import EmulatorServer
from b24kit.jobs.admin import bind, install_robots
from b24kit.jobs.runner import Runner
from b24kit.jobs.server import serving_in_thread

PORTAL = "demo"
CLIENT_ID, CLIENT_SECRET = "local.b24kit.demo", "demo-secret"
SCHEDULE_FIELD = "UF_CRM_PAYMENT_SCHEDULE"
ROBOT_STAGE, GUARDED_STAGE = "PREPAYMENT_INVOICE", "EXECUTING"
JOBS = """\
version: 1
jobs:
  - name: payment-schedule
    trigger: {{robot: payment_schedule}}
    action:
      rule: payment_schedule
      settings:
        language: {language}
        send_task: {{days: -3, time: "10:00"}}
        check_task: {{days: 1, time: "18:00"}}
  - name: required-fields
    action:
      rule: required_fields
      settings:
        language: {language}
        requirements:
          - pipeline: 0
            stages: [EXECUTING, FINAL_INVOICE, WON]
            deal: [OPPORTUNITY, CLOSEDATE]
            company: [UF_CRM_INN, PHONE]
            contact: [PHONE, EMAIL]
"""
CONFIG = """\
default_portal: {portal}
portals:
  {portal}:
    url: {rest}/rest/
    auth: oauth
    client_id: {client_id}
    client_secret: {client_secret}
    token_url: {rest}/oauth/token/
    token_store: tokens.json
    limits: cloud
runner:
  listen: {{host: 127.0.0.1, port: 0}}
  state: sqlite:///runner.db
  durability: normal
  jobs: [jobs.yaml]
  debounce_seconds: 0.2
  portals:
    {portal}: {{language: {language}}}
"""
TITLES = {
    "en": ["Warehouse equipment", "Service contract", "Office furniture", "Server racks"],
    "ru": ["Складское оборудование", "Сервисный договор", "Офисная мебель", "Серверные стойки"],
}


@dataclass
class DemoResult:
    """What the demo did and what the portal holds afterwards (rows as the portal answers)."""

    language: str
    deals: list[dict[str, Any]] = field(default_factory=list)  # crm.deal.get + path, asked (last stage set)
    stages: dict[str, str] = field(default_factory=dict)  # STATUS_ID -> name
    runs: list[dict[str, Any]] = field(default_factory=list)  # robot runs, oldest first
    invoices: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    users: dict[int, str] = field(default_factory=dict)
    runner_requests: int = 0  # REST requests the runner sent
    seconds: float = 0.0
    workdir: Path | None = None


class _Portal:
    """The emulator's webhook and admin API, over HTTP."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.http = httpx.Client(timeout=30)

    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        body = self.http.post(self.server.webhook_url + method, json=params or {}).json()
        if "error" in body:
            raise RuntimeError(f"{method}: {body['error']} {body.get('error_description', '')}")
        return body["result"]

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.server.base_url}/_emulator/{path}"
        answer = self.http.post(url, json=body) if body is not None else self.http.get(url)
        answer.raise_for_status()
        return answer.json()


def run_demo(
    language: str = "en", workdir: Path | None = None, progress: Callable[[str], None] = lambda _: None
) -> DemoResult:
    """Run the whole demo; ``workdir`` keeps the config, jobs and runner state (else a temp dir)."""
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        folder = workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="b24kit-demo-")))
        folder.mkdir(parents=True, exist_ok=True)
        progress("starting the emulated portal with demo data")
        server = stack.enter_context(EmulatorServer(EmulatorSettings(seed="demo")))
        portal = _Portal(server)
        stack.callback(portal.http.close)
        (folder / "jobs.yaml").write_text(JOBS.format(language=language), encoding="utf-8")
        config = CONFIG.format(
            portal=PORTAL,
            rest=server.base_url,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            language=language,
        )
        (folder / "b24kit.yaml").write_text(config, encoding="utf-8")
        settings = load_settings(folder / "b24kit.yaml")
        progress("starting the runner")
        runner = Runner.from_settings(settings)
        url = stack.enter_context(serving_in_thread(runner, log_level="error"))
        _install(portal, runner, settings, url, progress)
        deals = _scenario(portal, runner, url, language, progress)
        result = _collect(portal, runner, deals, language)
        result.workdir = workdir
    result.seconds = time.perf_counter() - started
    return result


def _install(
    portal: _Portal, runner: Runner, settings: Any, url: str, progress: Callable[[str], None]
) -> None:
    progress("installing the application, registering the robot, binding events")
    app = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "handler": f"{url}/install/{PORTAL}"}
    installs = runner.services.gate.installs
    before = installs.get(PORTAL)  # a kept workdir remembers the last run's install: wait for a new one
    portal.admin("apps", app)
    deadline = time.monotonic() + 10
    while installs.get(PORTAL) is None or installs.get(PORTAL) is before:
        if time.monotonic() > deadline:
            raise RuntimeError("the runner did not receive the application's install event")
        time.sleep(0.05)
    jobs = runner.services.jobs
    asyncio.run(install_robots(settings, jobs, PORTAL, base_url=url))
    asyncio.run(bind(settings, jobs, PORTAL, base_url=url))
    schedule_field = {"FIELD_NAME": SCHEDULE_FIELD[len("UF_CRM_") :], "USER_TYPE_ID": "string"}
    portal.rest("crm.deal.userfield.add", {"fields": schedule_field})
    placement = {
        "entity_type_id": 2,
        "category_id": 0,
        "stage_id": ROBOT_STAGE,
        "robot_code": "payment_schedule",
    }
    portal.admin("automation", {**placement, "properties": {"schedule": f"{{=Document:{SCHEDULE_FIELD}}}"}})


def _schedule(*rows: tuple[int, str]) -> str:
    today = datetime.now(UTC).date()
    return "\n".join(f"{today + timedelta(days=days):%d.%m.%Y}; {amount}" for days, amount in rows)


def _scenario(
    portal: _Portal, runner: Runner, url: str, language: str, progress: Callable[[str], None]
) -> dict[int, str]:
    """Make four deals and move them; returns each deal with the stage it was last moved to."""
    progress("moving deals through the stages")
    titles = TITLES["ru" if language == "ru" else "en"]
    bare = portal.rest("crm.company.add", {"fields": {"TITLE": "ООО «Ромашка»", "ASSIGNED_BY_ID": 3}})
    plain = portal.rest(
        "crm.contact.add", {"fields": {"NAME": "Олег", "LAST_NAME": "Новиков", "COMPANY_ID": bare}}
    )
    specs = [
        (titles[0], 450000, 1, 1, 2, _schedule((10, "150 000"), (40, "150 000,00"), (70, "150000"))),
        (titles[1], 120000, 2, 2, 3, _schedule((15, "50 000"), (45, "60 000"))),  # adds up to 110 000
        (titles[2], 80000, bare, plain, 3, ""),
        (titles[3], 260000, 4, 4, 4, ""),
    ]
    deals = []
    for title, amount, company, contact, user, schedule in specs:
        fields = {"TITLE": title, "STAGE_ID": "PREPARATION", "OPPORTUNITY": amount, "COMPANY_ID": company,
                  "CONTACT_IDS": [contact], "ASSIGNED_BY_ID": user, SCHEDULE_FIELD: schedule}  # fmt: skip
        deals.append(portal.rest("crm.deal.add", {"fields": fields}))
    _settle(portal, url)
    for deal, stage in zip(deals, [ROBOT_STAGE, ROBOT_STAGE, GUARDED_STAGE, GUARDED_STAGE], strict=True):
        portal.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": stage}})
    _settle(portal, url)
    progress("editing a schedule and running the robot again")
    edited = _schedule((10, "150 000"), (55, "300 000"))
    portal.rest(
        "crm.deal.update", {"id": deals[0], "fields": {SCHEDULE_FIELD: edited, "STAGE_ID": "PREPARATION"}}
    )
    _settle(portal, url)
    portal.rest("crm.deal.update", {"id": deals[0], "fields": {"STAGE_ID": ROBOT_STAGE}})
    _settle(portal, url)
    return dict(zip(deals, [ROBOT_STAGE, ROBOT_STAGE, GUARDED_STAGE, GUARDED_STAGE], strict=True))


def _settle(portal: _Portal, url: str, timeout: float = 20) -> None:
    """Until the portal has sent everything and the runner has done everything (three quiet checks)."""
    deadline, quiet = time.monotonic() + timeout, 0
    while quiet < 3:
        if time.monotonic() > deadline:
            raise RuntimeError("the runner did not finish its work in time")
        portal.admin("deliveries/flush", {"timeout": 10})
        tasks = portal.http.get(f"{url}/healthz").json().get("tasks", {})
        busy = int(tasks.get("queued", 0)) + int(tasks.get("running", 0))
        waiting = any(w["status"] == "running" for w in portal.admin("workflows"))
        quiet = quiet + 1 if not busy and not waiting else 0
        time.sleep(0.1)


def _collect(portal: _Portal, runner: Runner, deals: dict[int, str], language: str) -> DemoResult:
    result = DemoResult(language)
    result.stages = {
        s["STATUS_ID"]: s["NAME"]
        for s in portal.rest("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    }
    for deal_id, asked in deals.items():
        deal = portal.rest("crm.deal.get", {"id": deal_id})
        deal["asked"] = asked
        history = portal.rest("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"OWNER_ID": deal_id}})[
            "items"
        ]
        deal["path"] = [h["STAGE_ID"] for h in sorted(history, key=lambda h: int(h["ID"]))]
        result.deals.append(deal)
    result.runs = [w for w in portal.admin("workflows") if w["robot_code"] == "payment_schedule"]
    result.invoices = portal.rest(
        "crm.item.list", {"entityTypeId": 31, "select": ["*"], "order": {"id": "ASC"}}
    )["items"]
    select = ["ID", "TITLE", "DEADLINE", "RESPONSIBLE_ID", "UF_CRM_TASK", "STATUS"]
    result.tasks = portal.rest("tasks.task.list", {"select": select, "order": {"ID": "ASC"}})["tasks"]
    result.notifications = portal.admin("notifications")
    users = portal.rest("user.get", {})
    result.users = {int(u["ID"]): f"{u['NAME']} {u['LAST_NAME']}".strip() for u in users}
    result.runner_requests = int(runner.services.clients.stats().get(PORTAL, {}).get("requests", 0))
    return result

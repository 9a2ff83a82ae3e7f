"""S19 end to end: the fake Jira, the emulator and ``b24kit serve`` as separate processes.

Jira's webhooks (signed) and the portal's deal events reach the runner, which runs
``profiles/jira-deals.yaml``; a lost webhook is healed by the reconciliation run. Both modes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from b24kit.sync import StateStore
from b24kit.sync.connectors.jira_webhooks import sign

from .world import (
    APP_TOKEN,
    WEBHOOK_SECRET,
    EmulatorProcess,
    JiraProcess,
    RunnerProcess,
    profile_for,
    wait_for,
)

STAGES = {"To Do": "C1:NEW", "In Progress": "C1:EXECUTING", "In Review": "C1:FINAL_INVOICE", "Done": "C1:WON"}


class World:
    def __init__(self, mode: str, workdir: Path, cron: bool = False) -> None:
        self.parts: list[Any] = []
        try:
            self._start(mode, workdir, cron)
        except BaseException:
            self.close()
            raise

    def _start(self, mode: str, workdir: Path, cron: bool) -> None:
        self.emulator = EmulatorProcess(workdir)
        self.parts.append(self.emulator)
        self.jira = JiraProcess(mode, workdir)
        self.parts.append(self.jira)
        self.profile = profile_for(self.jira, workdir)
        self.runner = RunnerProcess(workdir, self.emulator, self.jira, self.profile, cron=cron)
        self.parts.append(self.runner)
        emu = self.emulator
        emu.rest("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Purchases"}})
        for name in ("JIRA_KEY", "COST_CENTER", "DISTRIBUTOR"):
            emu.rest("crm.deal.userfield.add", {"fields": {"FIELD_NAME": name, "USER_TYPE_ID": "string"}})
        john = {"EMAIL": "john.doe@example.com", "NAME": "John", "UF_DEPARTMENT": [1]}
        self.john = str(emu.rest("user.add", john))
        emu.admin(
            "outgoing-webhooks",
            {
                "handler": f"{self.runner.url}/events/emulator",
                "events": ["ONCRMDEALADD", "ONCRMDEALUPDATE"],
                "application_token": APP_TOKEN,
            },
        )
        self.jira.register_webhook(f"{self.runner.url}/webhooks/jira/jira")

    def close(self) -> None:
        for part in reversed(self.parts):
            part.close() if hasattr(part, "close") else part.stop()

    # -- helpers ----------------------------------------------------------------------------

    def create_issue(self, summary: str, **fields: Any) -> str:
        jdoe = {"accountId": self.jira_user("jdoe")} if self.jira.mode == "cloud" else {"name": "jdoe"}
        issue = self.jira.client.create_issue(
            fields={
                "project": {"key": "OPS"},
                "issuetype": {"name": "Purchase Request"},
                "summary": summary,
                "assignee": jdoe,
                "duedate": "2026-12-01",
                **fields,
            }
        )
        return str(issue.key)

    def jira_user(self, name: str) -> str:
        found = self.jira.http.get("/rest/api/2/user/search", params={"query": "john"}).json()
        return str(found[0]["accountId"])

    def edit_issue(self, key: str, **fields: Any) -> None:
        self.jira.http.put(f"/rest/api/2/issue/{key}", json={"fields": fields}).raise_for_status()

    def deal_of(self, key: str) -> dict[str, Any] | None:
        return next((d for d in self.emulator.deals() if d.get("UF_CRM_JIRA_KEY") == key), None)

    def settle(self, quiet: float = 1.5, timeout: float = 60) -> None:
        """Wait until Jira has sent everything and the runner has done everything, ``quiet`` s in a row."""
        deadline, since = time.monotonic() + timeout, None
        while True:
            assert time.monotonic() < deadline, "the world did not settle"
            self.emulator.admin("deliveries/flush", {"timeout": 10})
            pending = [d for d in self.jira.deliveries() if d["status"] is None and not d["dropped"]]
            idle = not pending and self.runner.busy() == 0
            now = time.monotonic()
            since = (since or now) if idle else None
            if since is not None and now - since >= quiet:
                return
            time.sleep(0.2)

    def pairs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        out = []
        for deal in self.emulator.deals():
            key = deal.get("UF_CRM_JIRA_KEY")
            if key:
                out.append((deal, self.jira.issue(key)["fields"]))
        return out


@pytest.fixture(params=["server", "cloud"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    made = World(request.param, tmp_path)
    yield made
    made.close()


def test_jira_and_bitrix24_both_ways(world: World) -> None:
    jira, emu, runner = world.jira, world.emulator, world.runner

    # a purchase request created in Jira becomes a deal (webhook -> runner -> a sync of that issue)
    key = world.create_issue("Laptops for QA", customfield_10010=2500.0, customfield_10012={"value": "Sales"})
    deal = wait_for(lambda: world.deal_of(key), "the deal of a new issue")
    assert (deal["TITLE"], deal["STAGE_ID"]) == ("Laptops for QA", "C1:NEW")
    assert float(deal["OPPORTUNITY"]) == 2500.0
    assert (deal["ASSIGNED_BY_ID"], deal["UF_CRM_COST_CENTER"]) == (world.john, "Sales")
    assert deal["UF_CRM_DISTRIBUTOR"] == "Merlion", "the field rule ran on the new deal"
    assert deal["CLOSEDATE"].startswith("2026-12-01")
    wait_for(lambda: jira.issue(key)["fields"]["customfield_10011"] == deal["ID"], "the deal ID in Jira")

    # a deal created in Bitrix24 becomes an issue (deal event -> runner -> sync)
    fields = {"TITLE": "Office chairs", "CATEGORY_ID": 1, "OPPORTUNITY": 900, "ASSIGNED_BY_ID": world.john}
    fields |= {"CLOSEDATE": "2026-12-15", "UF_CRM_COST_CENTER": "Finance"}
    deal_id = str(emu.rest("crm.deal.add", {"fields": fields}))
    key2 = wait_for(lambda: emu.deal(deal_id).get("UF_CRM_JIRA_KEY"), "the issue key on a new deal")
    issue2 = jira.issue(key2)["fields"]
    assert (issue2["summary"], issue2["customfield_10010"], issue2["customfield_10011"]) == (
        "Office chairs",
        900.0,
        deal_id,
    )
    assert (issue2["status"]["name"], issue2["customfield_10012"]["value"]) == ("To Do", "Finance")
    assert issue2["assignee"]["emailAddress"] == "john.doe@example.com"
    assert issue2["duedate"] == "2026-12-15"
    wait_for(lambda: emu.deal(deal_id)["UF_CRM_DISTRIBUTOR"] == "OCS", "the distributor of the new deal")

    # fields and statuses both ways: a transition in Jira moves the stage, a stage moves the status
    jira.client.transition_issue(key, "Start Progress")
    world.edit_issue(key, customfield_10010=3000.0)
    wait_for(
        lambda: (d := emu.deal(deal["ID"]))["STAGE_ID"] == "C1:EXECUTING" and float(d["OPPORTUNITY"]) == 3000,
        "the stage and amount from Jira",
    )
    won = {"STAGE_ID": "C1:WON", "TITLE": "Office chairs (12)"}
    emu.rest("crm.deal.update", {"id": deal_id, "fields": won})
    wait_for(
        lambda: (
            (i := jira.issue(key2)["fields"])["status"]["name"] == "Done"
            and i["summary"] == "Office chairs (12)"
        ),
        "the status (through two transitions) and summary from Bitrix24",
    )
    world.settle()

    # a conflict: both sides change the title before any sync; the newer change (the deal's) wins
    jira.drop_webhooks(True)
    world.edit_issue(key, summary="Laptops (edited in Jira)")
    time.sleep(1.1)  # the portal keeps DATE_MODIFY in seconds
    emu.rest("crm.deal.update", {"id": deal["ID"], "fields": {"TITLE": "Laptops (edited in Bitrix24)"}})
    newer = "Laptops (edited in Bitrix24)"
    wait_for(lambda: jira.issue(key)["fields"]["summary"] == newer, "the newer title")
    world.settle()
    with StateStore(runner.sync_state) as store:
        logged = [e.message for e in store.log_entries("jira-deals") if "conflict on TITLE" in e.message]
    assert logged == [
        "conflict on TITLE: both sides changed it since the last sync; the newest change (target) wins"
    ]

    # a lost webhook: nothing happens until the reconciliation run heals it
    world.edit_issue(key2, customfield_10010=1200.0)
    world.settle()
    assert float(emu.deal(deal_id)["OPPORTUNITY"]) == 900
    done = runner.sync(world.profile)
    assert done.returncode == 0, done.stdout + done.stderr
    assert float(emu.deal(deal_id)["OPPORTUNITY"]) == 1200
    jira.drop_webhooks(False)

    # a burst of edits on both sides converges, and then nobody writes anything
    for i in range(5):
        world.edit_issue(key, summary=f"Laptops, take {i}")
        emu.rest("crm.deal.update", {"id": deal_id, "fields": {"OPPORTUNITY": 1000 + i}})
        world.edit_issue(key2, customfield_10012={"value": ["Engineering", "Sales"][i % 2]})
        emu.rest("crm.deal.update", {"id": deal["ID"], "fields": {"UF_CRM_COST_CENTER": "Finance"}})
    world.settle()
    done = runner.sync(world.profile)
    assert done.returncode == 0, done.stdout + done.stderr
    world.settle()
    for synced, issue in world.pairs():
        assert synced["TITLE"] == issue["summary"]
        assert float(synced["OPPORTUNITY"]) == float(issue["customfield_10010"])
        assert STAGES.get(issue["status"]["name"]) == synced["STAGE_ID"]
        assert synced["UF_CRM_COST_CENTER"] == (issue["customfield_10012"] or {}).get("value")
    writes = (jira.writes(), emu.writes())
    done = runner.sync(world.profile)
    assert done.returncode == 0 and done.stdout.split() == ["jira-deals:", "4", "unchanged"], done.stdout
    world.settle()
    assert (jira.writes(), emu.writes()) == writes, "no echo: a run after convergence writes nothing"
    assert runner.dead() == 0

    # an issue deleted in Jira: its deal is lost (deletes.mode: deactivate)
    jira.client.issue(key).delete()  # type: ignore[no-untyped-call]
    wait_for(lambda: emu.deal(deal["ID"])["STAGE_ID"] == "C1:LOSE", "the deal of a deleted issue lost")


def test_the_runner_checks_signatures_and_drops_repeated_deliveries(tmp_path: Path) -> None:
    world = World("server", tmp_path)
    try:
        url = f"{world.runner.url}/webhooks/jira/jira"
        payload = {
            "webhookEvent": "jira:issue_updated",
            "timestamp": 1,
            "issue": {"id": "10999", "key": "OPS-9"},
        }
        body = json.dumps(payload).encode()
        headers = {"X-Hub-Signature": sign(WEBHOOK_SECRET, body), "X-Atlassian-Webhook-Identifier": "d-1"}
        first = httpx.post(url, content=body, headers=headers, timeout=10)
        again = httpx.post(
            url, content=body, headers={**headers, "X-Atlassian-Webhook-Retry": "1"}, timeout=10
        )
        assert (first.status_code, again.status_code) == (200, 200)
        assert first.json()["result"] != "duplicate" and again.json() == {"result": "duplicate"}
        refused = [
            httpx.post(url, content=body + b" ", headers=headers, timeout=10),
            httpx.post(url, content=body, headers={"X-Hub-Signature": sign("guess", body)}, timeout=10),
            httpx.post(url, content=body, timeout=10),
            httpx.post(f"{world.runner.url}/webhooks/jira/other", content=body, headers=headers, timeout=10),
        ]
        assert [r.status_code for r in refused] == [401, 401, 401, 401]
        bad = b'{"issue": {"id": "1"}}'
        malformed = httpx.post(
            url, content=bad, headers={"X-Hub-Signature": sign(WEBHOOK_SECRET, bad)}, timeout=10
        )
        assert malformed.status_code == 400 and "no webhookEvent" in malformed.json()["error_description"]
        world.settle()
        assert world.runner.dead() == 0, "a delivery about an issue that does not exist syncs nothing"
    finally:
        world.close()


@pytest.mark.slow
def test_the_scheduled_reconciliation_heals_a_lost_webhook(tmp_path: Path) -> None:
    """Every delivery is lost; the runner's cron job (every minute here) still brings the issue over."""
    world = World("cloud", tmp_path, cron=True)
    try:
        world.jira.drop_webhooks(True)
        key = world.create_issue("Projector", customfield_10010=700.0)
        deal = wait_for(lambda: world.deal_of(key), "the scheduled run", timeout=150)
        assert deal["TITLE"] == "Projector" and float(deal["OPPORTUNITY"]) == 700
        assert all(d["dropped"] for d in world.jira.deliveries())
    finally:
        world.close()

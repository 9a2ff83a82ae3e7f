"""Offline events (polled with event.offline.get/clear/error) and the reconciliation scan."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from b24kit.jobs.admin import bind
from b24kit.jobs.store import JobStore

from .helpers import b24kit, deal_calls, in_process, install, wait_for, write_config
from .test_runner import PROBABILITY, add_deal, update


def app_call(emulator: Any, app: dict[str, Any], method: str, params: dict[str, Any]) -> Any:
    """A REST call as our installed application (OAuth token, no connector of its own)."""
    body = {**params, "auth": app["access_token"]}
    answer = httpx.post(f"{emulator.base_url}/rest/{method}.json", json=body, timeout=10).json()
    return answer["result"]


def offline_bindings(emulator: Any, app: dict[str, Any]) -> list[tuple[str, str]]:
    rows = app_call(emulator, app, "event.get", {})
    return sorted((r["event"], r["connector_id"]) for r in rows if r["offline"])


OFFLINE = """
portals:
  emu:
    events: offline
    offline: {poll_seconds: 0.2, batch: 5}
"""


def test_offline_events_are_polled_committed_then_cleared(b24_emulator, tmp_path: Path):
    config = write_config(tmp_path, b24_emulator.base_url, PROBABILITY, OFFLINE)
    with in_process(config) as served:
        install(b24_emulator, served.url)
        assert served.runner is not None
        done = asyncio.run(bind(served.settings, served.runner.services.jobs, "emu", base_url=served.url))
        assert {(b.event, b.mode) for b in done} == {
            ("ONCRMDEALUPDATE", "offline"),
            ("ONAPPUNINSTALL", "online"),
            ("ONOFFLINEEVENT", "online"),
        }
        deals = [add_deal(b24_emulator, STAGE_ID="NEW") for _ in range(12)]
        for deal in deals:
            update(b24_emulator, deal, STAGE_ID="PREPARATION")
            update(b24_emulator, deal, COMMENTS="twice")  # the portal's queue merges these

        def all_set() -> bool:
            return all(
                b24_emulator.rest("crm.deal.get", {"id": d})["result"]["PROBABILITY"] == "30" for d in deals
            )

        wait_for(all_set, timeout=30)
        served.wait_idle(settle=0.5)
        wait_for(lambda: b24_emulator.admin("state/offline_events") == [], timeout=10)
        assert len(deal_calls(b24_emulator, "event.offline.get")) >= 3  # batches of five
        assert deal_calls(b24_emulator, "event.offline.clear")


def test_a_batch_left_reserved_by_a_crash_is_cleared_at_the_next_start(b24_emulator, tmp_path: Path):
    config = write_config(tmp_path, b24_emulator.base_url, PROBABILITY, OFFLINE)
    with JobStore(f"sqlite:///{tmp_path}/runner.db") as store:
        store.set("offline:emu:process", "p-left-over")
    with in_process(config) as served:
        install(b24_emulator, served.url)
        wait_for(
            lambda: [c for c in deal_calls(b24_emulator, "event.offline.clear") if c.get("status") == 200]
        )
        clear = deal_calls(b24_emulator, "event.offline.clear")[0]
        assert clear["params"]["process_id"] == "p-left-over"
        served.wait_idle()
    with JobStore(f"sqlite:///{tmp_path}/runner.db") as store:
        assert store.get("offline:emu:process") is None


def test_the_reconciliation_scan_heals_missed_events(b24_emulator, tmp_path: Path):
    config = write_config(
        tmp_path, b24_emulator.base_url, PROBABILITY, "portals: {emu: {reconcile: {lag_seconds: 600}}}"
    )
    with in_process(config) as served:
        install(b24_emulator, served.url)  # no events bound: every change is "missed"
        missed = [add_deal(b24_emulator, STAGE_ID="PREPARATION") for _ in range(4)]
        ran = b24kit("jobs", "run", "@reconcile", "--config", str(config))
        assert ran.returncode == 0, ran.stderr
        wait_for(
            lambda: all(
                b24_emulator.rest("crm.deal.get", {"id": d})["result"]["PROBABILITY"] == "30" for d in missed
            ),
            timeout=30,
        )
        served.wait_idle(settle=0.5)
        reads = len(deal_calls(b24_emulator, "crm.deal.get"))
        again = b24kit("jobs", "run", "@reconcile", "--config", str(config))
        assert again.returncode == 0
        served.wait_idle(settle=1.0)
        # the rule's own writes moved DATE_MODIFY: they are scanned again, read once, and converge
        assert len(deal_calls(b24_emulator, "crm.deal.get")) - reads <= len(missed)
        assert len(deal_calls(b24_emulator, "crm.deal.update")) == len(missed)
        with JobStore(f"sqlite:///{tmp_path}/runner.db") as store:
            assert store.get("reconcile:emu:2") is not None


def test_the_runners_own_writes_do_not_come_back_through_the_offline_queue(b24_emulator, tmp_path: Path):
    config = write_config(tmp_path, b24_emulator.base_url, PROBABILITY, OFFLINE)
    with in_process(config) as served:
        app = install(b24_emulator, served.url)
        assert served.runner is not None
        asyncio.run(bind(served.settings, served.runner.services.jobs, "emu", base_url=served.url))
        assert offline_bindings(b24_emulator, app) == [("ONCRMDEALUPDATE", "b24kit")]
        consumer = served.runner.offline["emu"]
        deal = add_deal(b24_emulator, STAGE_ID="NEW")

        def probability() -> str:
            return str(b24_emulator.rest("crm.deal.get", {"id": deal})["result"]["PROBABILITY"])

        for stage, wanted, users in (("PREPARATION", "30", 1), ("EXECUTING", "60", 2)):
            update(b24_emulator, deal, STAGE_ID=stage)  # a user's write: queued, polled, acted on
            wait_for(lambda wanted=wanted: probability() == wanted, timeout=30)  # the rule's write
            served.wait_idle(settle=0.5)
            time.sleep(1.0)  # five more polls: the rule's write would have come back by now
            served.wait_idle()
            assert consumer.consumed == users  # the users' writes only
            assert b24_emulator.admin("state/offline_events") == []
        assert served.metric("b24kit_runner_processed_total", kind="event") == 2
        assert len(deal_calls(b24_emulator, "crm.deal.update", deal)) == 4  # 2 users', 2 the rule's


def test_offline_bindings_carry_the_connector_and_prune_replaces_one_without_it(b24_emulator, tmp_path: Path):
    config = write_config(
        tmp_path,
        b24_emulator.base_url,
        PROBABILITY,
        OFFLINE.replace("events: offline", "events: offline\n    auth_connector: erp-sync"),
    )
    with in_process(config) as served:
        app = install(b24_emulator, served.url)
        assert served.runner is not None
        jobs = served.runner.services.jobs
        assert app_call(
            b24_emulator, app, "event.bind", {"event": "ONCRMDEALUPDATE", "event_type": "offline"}
        )
        done = asyncio.run(bind(served.settings, jobs, "emu", base_url=served.url))
        assert ("ONCRMDEALUPDATE", "offline", "bound") in {(b.event, b.mode, b.action) for b in done}
        assert offline_bindings(b24_emulator, app) == [
            ("ONCRMDEALUPDATE", ""),
            ("ONCRMDEALUPDATE", "erp-sync"),
        ]
        binds = len(deal_calls(b24_emulator, "event.bind"))
        again = asyncio.run(bind(served.settings, jobs, "emu", base_url=served.url, prune=True))
        assert len(deal_calls(b24_emulator, "event.bind")) == binds  # nothing bound twice
        assert {(b.event, b.mode, b.action) for b in again} == {
            ("ONCRMDEALUPDATE", "offline", "present"),
            ("ONCRMDEALUPDATE", "offline", "unbound"),  # the queue without a connector, read by no one
            ("ONAPPUNINSTALL", "online", "present"),
            ("ONOFFLINEEVENT", "online", "present"),
        }
        assert offline_bindings(b24_emulator, app) == [("ONCRMDEALUPDATE", "erp-sync")]

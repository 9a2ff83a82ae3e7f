"""``kill -9`` of ``b24kit serve`` in the middle of a burst of 2,000 events and robot calls:
after a restart every accepted event is processed, none twice, every accepted robot answered."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from .helpers import (
    Served,
    b24kit,
    emulator_process,
    event_body,
    install,
    read_url,
    start_serve,
    stop,
    wait_for,
    write_config,
)

JOBS = """
version: 1
jobs:
  - name: mark
    action: {rule: test_mark_seen}
  - name: tasks
    trigger: {robot: test_task}
"""
EVENTS = 2000
ROBOTS = 40


def make_deals(emulator, count: int) -> list[int]:
    ids: list[int] = []
    for start in range(0, count, 50):
        cmd = {
            f"d{i}": f"crm.deal.add?fields[TITLE]=burst {start + i}" for i in range(min(50, count - start))
        }
        result = emulator.rest("batch", {"halt": 0, "cmd": cmd})["result"]["result"]
        ids += [int(result[f"d{i}"]) for i in range(len(cmd))]
    return ids


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kill_9_during_a_burst_loses_nothing_and_duplicates_nothing(tmp_path: Path):
    with emulator_process() as emulator:
        deals = make_deals(emulator, EVENTS)
        config = write_config(tmp_path, emulator.base_url, JOBS, "workers: 8\ndebounce_seconds: 0.05")
        process = start_serve(config, tmp_path / "serve.log")
        url = read_url(process, config)
        app = install(emulator, url)
        done = b24kit("robots", "install", "--config", str(config), "--public-url", url)
        assert done.returncode == 0, done.stderr
        emulator.admin(
            "automation",
            {
                "entity_type_id": 2,
                "category_id": 0,
                "stage_id": "EXECUTING",
                "robot_code": "test_task",
                "properties": {"title": "Ship"},
            },
        )

        accepted: list[int] = []
        refused: list[int] = []
        lock = threading.Lock()

        http = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=16))

        def post(deal: int) -> None:
            try:
                answer = http.post(
                    f"{url}/events/emu",
                    content=event_body(app, "ONCRMDEALUPDATE", deal),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            with lock:
                (accepted if ok else refused).append(deal)

        def move(deal: int) -> None:
            emulator.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "EXECUTING"}})

        pool = ThreadPoolExecutor(16)
        burst, robots = [], []
        for i, deal in enumerate(deals):  # robot calls interleaved with the first half of the burst
            burst.append(pool.submit(post, deal))
            if i % 20 == 0 and len(robots) < ROBOTS:
                robots.append(pool.submit(move, deals[-1 - len(robots)]))
        wait_for(lambda: len(accepted) >= EVENTS // 2, timeout=120, every=0.005)
        os.kill(process.pid, signal.SIGKILL)  # mid-burst: some accepted, some in flight, some not sent
        process.wait(timeout=10)
        for future in burst + robots:
            future.result()
        pool.shutdown()
        stop(process)
        assert 0 < len(accepted) < EVENTS and len(accepted) + len(refused) == EVENTS
        accepted_before = list(accepted)
        emulator.flush()
        waiting = [w for w in emulator.admin("workflows") if w["status"] == "running"]

        process = start_serve(config, tmp_path / "serve.log")  # the same state store
        try:
            runner = Served(read_url(process, config), None, process=process)  # type: ignore[arg-type]
            url = runner.url
            again, refused[:] = list(refused), []
            for deal in again:  # what was not accepted is delivered again (as reconciliation would)
                post(deal)
            assert refused == []
            runner.wait_idle(timeout=240, settle=0.5)
        finally:
            stop(process)
            http.close()

        marks = Counter(
            int(c["params"]["id"])
            for c in emulator.admin("calls?method=crm.deal.update")
            if "COMMENTS" in str(c["params"]) and c.get("status") == 200
        )
        assert set(marks) == set(deals)  # every event processed (accepted before the kill or after)
        assert max(marks.values()) == 1  # and no deal written twice

        robot_calls = [d for d in emulator.admin("deliveries") if d["kind"] == "robot"]
        answered = {r["event_token"]: r for r in emulator.admin("workflows")}
        delivered = [d for d in robot_calls if d.get("status") == 200]
        assert delivered, "no robot call reached the runner"
        for call in delivered:  # every robot call the runner accepted got its answer
            assert answered[call["body"]["event_token"]]["status"] == "completed"
        print(
            f"kill -9 after {len(accepted_before)} of {EVENTS} events were accepted; "
            f"{len(delivered)} of {len(robot_calls)} robot calls reached the runner, all answered "
            f"({len(waiting)} were still waiting for their answer when the runner was killed)"
        )
        titles = Counter(
            t["title"]
            for t in emulator.rest("tasks.task.list", {"select": ["ID", "TITLE"]})["result"]["tasks"]
        )
        assert titles and max(titles.values()) == 1  # no task created twice

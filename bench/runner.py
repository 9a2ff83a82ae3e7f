"""Benchmark ``b24kit serve``: how fast it accepts events, and what an update storm costs.

Run: ``python bench/runner.py [--events 20000] [--concurrency 16] [--durability full|normal] [--skip-storm]``.

1. **Intake.** The emulator (in this process) installs the application into a runner started
   as a subprocess (one process, SQLite state, in-process workers); this process then plays the
   portal and POSTs ``--events`` ONCRMDEALUPDATE form bodies, each for a different deal, signed
   with the application token, over ``--concurrency`` keep-alive connections. Reported: accepted
   events per second and the accept latency (request sent -> 200 received, i.e. committed)
   p50/p99/max. The job behind the events does nothing, so this is the intake; the workers
   still claim and finish every task meanwhile (reported: how long until all were processed).
2. **Storm.** A second runner with a job that reads the deal on every ONCRMDEALUPDATE; the
   events are bound with ``event.bind`` and the emulator delivers them. One deal is updated 100
   times as fast as the webhook allows; reported: ``crm.deal.get`` calls the runner made (the
   target is at most 2), with the default debounce (1 s) and with none.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
from emulated_portal import b24kit_command, serving

from b24kit.emulator import Settings as EmulatorSettings
from b24kit.emulator.server import EmulatorServer

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID, SECRET = "local.bench", "bench-secret"

JOB_INTAKE = """version: 1
jobs:
  - name: intake
    trigger: {event: ONCRMDEALUPDATE}
    action: {hook: "bench.runner_handlers:nothing"}
"""
JOB_STORM = """version: 1
jobs:
  - name: storm
    trigger: {event: ONCRMDEALUPDATE}
    action: {hook: "bench.runner_handlers:read_deal"}
"""


def config(folder: Path, emulator: str, *, jobs: str, durability: str, debounce: float) -> Path:
    (folder / "jobs.yaml").write_text(jobs, encoding="utf-8")
    path = folder / "b24kit.yaml"
    path.write_text(
        f"""default_portal: emu
portals:
  emu:
    url: {emulator}/rest/
    client_id: {CLIENT_ID}
    client_secret: {SECRET}
    token_url: {emulator}/oauth/token/
    token_store: tokens.json
    limits: off
runner:
  listen: {{host: 127.0.0.1, port: 0}}
  state: sqlite:///runner.db
  durability: {durability}
  jobs: [jobs.yaml]
  debounce_seconds: {debounce}
  workers: 8
""",
        encoding="utf-8",
    )
    return path


@contextmanager
def runner(config_path: Path) -> Iterator[str]:
    """``b24kit serve --config FILE`` as a subprocess; yields its base URL."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = b24kit_command("serve", "--config", str(config_path), "--log-level", "warning")
    with serving(command, "b24kit serve", cwd=config_path.parent, env=env) as url:
        yield url


def install(http: httpx.Client, emulator: str, runner_url: str) -> dict[str, Any]:
    answer: dict[str, Any] = http.post(
        f"{emulator}/_emulator/apps",
        json={"client_id": CLIENT_ID, "client_secret": SECRET, "handler": f"{runner_url}/install/emu"},
    ).json()
    http.post(f"{emulator}/_emulator/deliveries/flush", json={})
    for _ in range(100):
        if "emu" in http.get(f"{runner_url}/healthz").json()["installed"]:
            return answer
        time.sleep(0.05)
    raise SystemExit("the runner did not record the install")


def drain(http: httpx.Client, runner_url: str, timeout: float = 600) -> float:
    """Seconds until the runner has nothing queued or running."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        tasks = http.get(f"{runner_url}/healthz").json()["tasks"]
        if not tasks.get("queued") and not tasks.get("running"):
            return time.perf_counter() - started
        time.sleep(0.1)
    raise SystemExit("the runner did not drain its queue")


async def post_all(url: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        while not queue.empty():
            body = queue.get_nowait()
            sent = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
            latencies.append(time.perf_counter() - sent)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, wall, failures


def intake(emulator: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(timeout=30) as http:
        path = config(Path(tmp), emulator, jobs=JOB_INTAKE, durability=args.durability, debounce=1.0)
        with runner(path) as url:
            app = install(http, emulator, url)
            ts = int(time.time())
            bodies = [
                urlencode(
                    {
                        "event": "ONCRMDEALUPDATE",
                        "event_handler_id": "1",
                        "data[FIELDS][ID]": str(i + 1),
                        "ts": str(ts),
                        "auth[domain]": app["domain"],
                        "auth[member_id]": app["member_id"],
                        "auth[application_token]": app["application_token"],
                    }
                ).encode()
                for i in range(args.events)
            ]
            latencies, wall, failures = asyncio.run(post_all(f"{url}/events/emu", bodies, args.concurrency))
            drained = drain(http, url)
            metrics = http.get(f"{url}/metrics").text
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"intake: {args.events} events, {args.concurrency} connections, SQLite durability={args.durability}"
    )
    rate = args.events / wall
    print(f"  accepted {args.events - failures} ({failures} refused) in {wall:.2f}s = {rate:,.0f} events/s")
    p50, p99, worst = cuts[49] * 1000, cuts[98] * 1000, max(latencies) * 1000
    print(f"  accept latency p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms")
    processed = next(
        (line for line in metrics.splitlines() if line.startswith("b24kit_runner_processed_total{")), ""
    )
    print(f"  all processed {drained:.1f}s after the last accept ({processed})")


def storm(emulator: str, webhook: str, debounce: float) -> int:
    with tempfile.TemporaryDirectory() as tmp, httpx.Client(timeout=30) as http:
        path = config(Path(tmp), emulator, jobs=JOB_STORM, durability="full", debounce=debounce)
        deal = http.post(f"{webhook}crm.deal.add", json={"fields": {"TITLE": "storm"}}).json()["result"]
        with runner(path) as url:
            install(http, emulator, url)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            bind = [
                str(Path(sys.executable).with_name("b24kit")),
                "events",
                "bind",
                "--config",
                str(path),
                "--public-url",
                url,
            ]
            subprocess.run(bind, check=True, capture_output=True, cwd=tmp, env=env)
            http.delete(f"{emulator}/_emulator/stats")
            for i in range(100):
                http.post(f"{webhook}crm.deal.update", json={"id": deal, "fields": {"COMMENTS": f"edit {i}"}})
            http.post(f"{emulator}/_emulator/deliveries/flush", json={})
            time.sleep(debounce + 0.5)
            drain(http, url)
            calls = http.get(f"{emulator}/_emulator/calls", params={"method": "crm.deal.get"}).json()
        return sum(1 for c in calls if str(c.get("params", {}).get("id")) == str(deal))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--durability", choices=("full", "normal"), default="full")
    parser.add_argument("--skip-storm", action="store_true")
    args = parser.parse_args()
    with EmulatorServer(EmulatorSettings()) as server:
        emulator = server.base_url
        intake(emulator, args)
        if not args.skip_storm:
            for debounce in (1.0, 0.0):
                reads = storm(emulator, server.webhook_url, debounce)
                print(
                    f"storm: 100 updates of one deal -> {reads} crm.deal.get calls (debounce {debounce:g} s)"
                )


if __name__ == "__main__":
    main()

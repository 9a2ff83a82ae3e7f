"""Benchmark the portal client against ``b24kit emulator serve --rate-limit cloud``.

Run: ``python bench/client.py [--records 10000 100000] [--updates 2000] [--naive-max 10000]``.

For each record count it seeds that many deals (with the rate limit off), then, one after the
other and each in its own process (so peak memory is that approach's alone), reads every deal
and updates ``--updates`` of them (every fifth ID) with:

* ``b24kit``: ``Client.iter_list`` (chained ID window, 2,500 rows per request) + ``Client.batch``;
* ``fast-bitrix24``: plain ``BitrixAsync.get_all`` + ``call`` (its defaults: pool 50, 2 req/s);
* ``naive``: one request per page of 50 (``start``/``next``) and one ``crm.deal.update`` per
  record, sleeping a second on a 503 (what a simple script does).

Before each approach the emulator's bucket is emptied (cloud: burst 50, then 2 requests/s).
It prints, per approach: HTTP requests the portal received, 503s, wall time, peak RSS (and its
growth over the interpreter with the libraries imported), and checks the b24kit targets:
requests within 5% of the protocol minimum (a batch of 50 chained pages reads 2,500 records, a
batch writes 50), zero 503s, wall time within 10% of what the bucket allows (the larger of the
bucket's floor, (requests - 50) / 2 s, and the same work with the rate limit off), and flat
memory as the record count grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import time
from typing import Any

import emulated_portal
import httpx
from emulated_portal import emulator

BURST, RATE = 50, 2.0
APPROACHES = ("b24kit", "fast-bitrix24", "naive")


# -- the emulator ---------------------------------------------------------------------------------


class Admin(emulated_portal.Admin):
    """The admin API plus the deals this benchmark seeds and checks."""

    def seed(self, records: int) -> None:
        """``records`` deals through batches of 50 ``crm.deal.add``, with the bucket off."""
        self("reset", {})
        self("limits", {"rate_limit": "off"})
        for start in range(0, records, 50):
            cmd = {
                f"a{i}": f"crm.deal.add?fields[TITLE]=Deal%20{i}&fields[OPPORTUNITY]={i}"
                for i in range(start + 1, min(start + 50, records) + 1)
            }
            body = self.http.post(f"{self.url}batch", json={"halt": 0, "cmd": cmd}).json()
            if body["result"]["result_error"]:
                raise SystemExit(f"seeding failed: {body['result']['result_error']}")

    def updated(self, marker: str) -> int:
        body = self.http.post(
            f"{self.url}crm.deal.list", json={"filter": {"%TITLE": marker}, "select": ["ID"]}
        ).json()
        return int(body["total"])


# -- the approaches (each run in its own process) ---------------------------------------------------


def wanted(deal_id: int, picked: int, updates: int) -> bool:
    return deal_id % 5 == 0 and picked < updates


def run_b24kit(url: str, updates: int, marker: str, limits: str) -> dict[str, Any]:
    from b24kit.client import Client, Command

    with Client.from_url(url, limits=limits) as b24:
        read, ids = 0, list[int]()
        for row in b24.iter_list("crm.deal.list", {"select": ["ID", "TITLE"]}):
            read += 1
            if wanted(int(row["ID"]), len(ids), updates):
                ids.append(int(row["ID"]))
        commands = [Command("crm.deal.update", {"id": i, "fields": {"TITLE": f"{marker} {i}"}}) for i in ids]
        result = b24.batch(commands)
        return {"read": read, "updated": len(result.results), "failed": len(result.errors)}


def run_fast_bitrix24(url: str, updates: int, marker: str, limits: str) -> dict[str, Any]:
    from fast_bitrix24 import BitrixAsync

    async def work() -> dict[str, Any]:
        bx = BitrixAsync(url, verbose=False)
        deals = await bx.get_all("crm.deal.list", {"select": ["ID", "TITLE"]})
        ids: list[int] = []
        for deal in sorted(deals, key=lambda d: int(d["ID"])):
            if wanted(int(deal["ID"]), len(ids), updates):
                ids.append(int(deal["ID"]))
        items = [{"ID": i, "fields": {"TITLE": f"{marker} {i}"}} for i in ids]
        results = await bx.call("crm.deal.update", items)
        return {"read": len(deals), "updated": sum(1 for r in results if r is True), "failed": 0}

    return asyncio.run(work())


def run_naive(url: str, updates: int, marker: str, limits: str) -> dict[str, Any]:
    with httpx.Client(timeout=120) as http:

        def post(method: str, params: dict[str, Any]) -> dict[str, Any]:
            while True:
                response = http.post(url + method, json=params)
                if response.status_code == 503:
                    time.sleep(1.0)
                    continue
                response.raise_for_status()
                body: dict[str, Any] = response.json()
                return body

        read, ids, start = 0, list[int](), 0
        while True:
            page = post("crm.deal.list", {"select": ["ID", "TITLE"], "order": {"ID": "ASC"}, "start": start})
            for row in page["result"]:
                read += 1
                if wanted(int(row["ID"]), len(ids), updates):
                    ids.append(int(row["ID"]))
            if "next" not in page:
                break
            start = page["next"]
        done = sum(
            1
            for i in ids
            if post("crm.deal.update", {"id": i, "fields": {"TITLE": f"{marker} {i}"}})["result"]
        )
        return {"read": read, "updated": done, "failed": len(ids) - done}


RUNNERS = {"b24kit": run_b24kit, "fast-bitrix24": run_fast_bitrix24, "naive": run_naive}


def child(approach: str, url: str, updates: int, marker: str, limits: str) -> None:
    """Entry point of the per-approach process: prints one JSON line."""
    import fast_bitrix24  # noqa: F401 - every approach pays for the same imports

    import b24kit.client  # noqa: F401

    base = emulated_portal.peak_rss_mb()
    started = time.perf_counter()
    outcome = RUNNERS[approach](url, updates, marker, limits)
    outcome["wall"] = time.perf_counter() - started
    outcome["peak_mb"] = emulated_portal.peak_rss_mb()
    outcome["base_mb"] = base
    print(json.dumps(outcome))


# -- the driver -----------------------------------------------------------------------------------


def measure(admin: Admin, approach: str, updates: int, rate_limit: str = "cloud") -> dict[str, Any]:
    marker = f"Bench {approach} {rate_limit} {time.time():.0f}"
    admin.fresh_bucket(rate_limit)
    limits = "cloud" if rate_limit == "cloud" else "off"
    command = [sys.executable, __file__, "--child", approach, "--url", admin.url, "--updates", str(updates)]
    command += ["--marker", marker, "--limits", limits]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == 0:
        outcome: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        reason = (done.stderr.strip().splitlines() or ["?"])[-1]
        outcome = {"wall": time.perf_counter() - started, "read": "-", "peak_mb": 0.0, "base_mb": 0.0}
        outcome["error"] = reason[:120]
    stats = admin("stats")
    outcome["requests"] = stats["requests"]
    outcome["503s"] = stats.get("status_503", 0)
    outcome["429s"] = stats.get("status_429", 0)
    admin("limits", {"rate_limit": "off"})  # a bucket left full must not fail the check
    outcome["verified"] = admin.updated(marker)
    return outcome


def minimum_requests(records: int, updates: int) -> int:
    return math.ceil(records / 2_500) + math.ceil(updates / 50)


def bucket_floor(requests: int) -> float:
    return max(0.0, (requests - BURST) / RATE)


def row(name: str, o: dict[str, Any]) -> str:
    head = f"  {name:<31}{o['requests']:>9}{o['503s']:>7}{o['wall']:>9.1f}s"
    if "error" in o:
        return f"{head}   FAILED: {o['error']} (updated {o['verified']})"
    return (
        f"{head}{o['peak_mb']:>9.0f} MB{o['peak_mb'] - o['base_mb']:>+9.0f} MB"
        f"   read {o['read']}, updated {o['verified']}"
    )


def report(records: int, updates: int, results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        f"\n{records:,} deals read, {updates:,} updated (emulator --rate-limit cloud: burst 50, then 2/s)",
        f"  {'approach':<31}{'requests':>9}{'503s':>7}{'wall':>10}{'peak RSS':>12}{'growth':>12}",
    ]
    for name, outcome in results.items():
        lines.append(row(name, outcome))
    ours = results.get("b24kit")
    if ours is None:
        return lines
    least = minimum_requests(records, updates)
    unthrottled = results.get("b24kit (rate limit off)", {}).get("wall", 0.0)
    floor = bucket_floor(ours["requests"])
    allowed = max(floor, unthrottled)
    over = (ours["wall"] / max(allowed, 1e-9) - 1) * 100
    lines += [
        f"  targets for b24kit: requests {ours['requests']} vs minimum {least} "
        f"({(ours['requests'] / least - 1) * 100:+.0f}%, target <= +5%); 503s {ours['503s']} (target 0);",
        f"  wall {ours['wall']:.1f}s vs allowed {allowed:.1f}s = max(bucket floor {floor:.1f}s,"
        f" same work unthrottled {unthrottled:.1f}s) ({over:+.0f}%, target <= +10%)",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--approaches", nargs="+", default=list(APPROACHES), choices=APPROACHES)
    parser.add_argument(
        "--naive-max",
        type=int,
        default=10_000,
        help="skip the naive loop above this many records (it runs at 2/s)",
    )
    parser.add_argument("--child", choices=APPROACHES, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--marker", help=argparse.SUPPRESS)
    parser.add_argument("--limits", default="cloud", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.url, args.updates, args.marker, args.limits)
        return
    lines: list[str] = []
    with emulator("cloud") as url:
        admin = Admin(url)
        for records in sorted(args.records):
            print(f"seeding {records:,} deals...", file=sys.stderr, flush=True)
            admin.seed(records)
            results: dict[str, dict[str, Any]] = {}
            for approach in ("b24kit", "fast-bitrix24"):  # the same work with nothing throttled
                if approach in args.approaches:
                    results[f"{approach} (rate limit off)"] = measure(admin, approach, args.updates, "off")
            for approach in args.approaches:
                if approach == "naive" and records > args.naive_max:
                    print(f"naive loop skipped at {records:,} records (--naive-max)", file=sys.stderr)
                    continue
                print(f"{approach} on {records:,}...", file=sys.stderr, flush=True)
                results[approach] = measure(admin, approach, args.updates)
            block = report(records, args.updates, results)
            print("\n".join(block), flush=True)
            lines += block
    print("\n".join(["", "=" * 20, *lines]))


if __name__ == "__main__":
    main()

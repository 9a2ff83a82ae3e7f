"""Benchmark ``b24kit emulator serve``: simple calls per second and records listed per second.

Run: ``python bench/emulator.py [--deals 10000] [--calls 3000] [--clients 4]``. It starts the
emulator as a subprocess (rate limit off, so nothing is throttled), then measures, each against
a naive way of doing the same in the same run:

* ``profile`` calls: one keep-alive connection, vs a new connection per call, vs several
  concurrent keep-alive clients;
* writing deals through ``batch`` (50 ``crm.deal.add`` per request);
* listing every deal with ID-window chains (``filter[>ID]=$result[prev][49][ID]&start=-1``, 50
  commands per batch), vs plain ``start`` paging (one request per 50 records).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from emulated_portal import emulator


class Caller:
    """POSTs JSON over one keep-alive connection (or a new one per call)."""

    def __init__(self, webhook_url: str, keep_alive: bool = True) -> None:
        parts = urlsplit(webhook_url)
        self.host, self.port, self.path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
        self.keep_alive = keep_alive
        self.conn: http.client.HTTPConnection | None = None
        self.requests = 0

    def __call__(self, method: str, params: dict[str, Any] | None = None) -> Any:
        if self.conn is None or not self.keep_alive:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port)
        self.requests += 1
        body = json.dumps(params or {}).encode()
        self.conn.request("POST", self.path + method, body, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method}: HTTP {response.status} {data[:200]!r}")
        return json.loads(data)


def rate(count: int, seconds: float, requests: int | None = None) -> str:
    extra = f", {requests:,} HTTP requests" if requests is not None else ""
    return f"{count / seconds:>10,.0f}/s  ({count:,} in {seconds:.2f} s{extra})"


def timed(work: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = work()
    return count, time.perf_counter() - started


def sequential_calls(url: str, calls: int, keep_alive: bool) -> int:
    call = Caller(url, keep_alive)
    for _ in range(calls):
        call("profile")
    return calls


def concurrent_calls(url: str, calls: int, clients: int) -> int:
    async def client(session: aiohttp.ClientSession, count: int) -> None:
        for _ in range(count):
            async with session.post(f"{url}profile", json={}) as response:
                await response.read()
                assert response.status == 200

    async def run() -> None:
        connector = aiohttp.TCPConnector(limit=clients)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.gather(*(client(session, calls // clients) for _ in range(clients)))

    asyncio.run(run())
    return calls // clients * clients


def seed(url: str, deals: int) -> int:
    call = Caller(url)
    for first in range(1, deals + 1, 50):
        cmd = {
            f"d{i}": f"crm.deal.add?fields[TITLE]=Deal%20{i}&fields[OPPORTUNITY]={i}&fields[STAGE_ID]=NEW"
            for i in range(first, min(first + 50, deals + 1))
        }
        answer = call("batch", {"halt": 0, "cmd": cmd})
        assert not answer["result"]["result_error"], answer["result"]["result_error"]
    return deals


def list_id_window(url: str, requests: list[int]) -> int:
    """Every deal through chained ``start=-1`` commands, 50 per batch; stops at the first short page."""
    call = Caller(url)
    seen: list[int] = []
    last = 0
    while True:
        cmd = {}
        for n in range(50):
            bound = str(last) if n == 0 else f"$result[c{n - 1}][49][ID]"
            cmd[f"c{n}"] = (
                f"crm.deal.list?filter[>ID]={bound}&order[ID]=ASC&select[]=ID&select[]=TITLE&start=-1"
            )
        result = call("batch", {"halt": 0, "cmd": cmd})["result"]["result"]
        for n in range(50):
            rows = result[f"c{n}"]
            seen.extend(int(row["ID"]) for row in rows)
            if len(rows) < 50:
                assert len(seen) == len(set(seen)), "a record came twice"
                requests.append(call.requests)
                return len(seen)
        last = seen[-1]


def list_start_paging(url: str, requests: list[int]) -> int:
    """Every deal with plain ``start`` offsets: one request (and one COUNT) per 50 records."""
    call = Caller(url)
    seen = 0
    start: int | None = 0
    while start is not None:
        page = call("crm.deal.list", {"select": ["ID", "TITLE"], "order": {"ID": "ASC"}, "start": start})
        seen += len(page["result"])
        start = page.get("next")
    requests.append(call.requests)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deals", type=int, default=10_000, help="deals to write and list")
    parser.add_argument("--calls", type=int, default=3_000, help="profile calls per measurement")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    args = parser.parse_args()
    with emulator("off") as url:
        sequential_calls(url, 200, keep_alive=True)  # warm up
        print(f"b24kit emulator at {url}  (rate limit off)")
        print("simple calls (profile)")
        print("  keep-alive, 1 client      ", rate(*timed(lambda: sequential_calls(url, args.calls, True))))
        print(
            f"  keep-alive, {args.clients} clients     ",
            rate(*timed(lambda: concurrent_calls(url, args.calls, args.clients))),
        )
        naive_calls = max(args.calls // 3, 1)
        print("  new connection per call   ", rate(*timed(lambda: sequential_calls(url, naive_calls, False))))
        print(f"records ({args.deals:,} deals)")
        written, write_seconds = timed(lambda: seed(url, args.deals))
        print("  written, batch of 50 adds ", rate(written, write_seconds))
        window_requests: list[int] = []
        listed, list_seconds = timed(lambda: list_id_window(url, window_requests))
        assert listed == args.deals, f"listed {listed} of {args.deals}"
        print("  listed, ID-window batches ", rate(listed, list_seconds, window_requests[0]))
        page_requests: list[int] = []
        paged, page_seconds = timed(lambda: list_start_paging(url, page_requests))
        assert paged == args.deals, f"paged {paged} of {args.deals}"
        print("  listed, plain start pages ", rate(paged, page_seconds, page_requests[0]))
        print(f"  write + list {args.deals:,} deals    {write_seconds + list_seconds:.2f} s")


if __name__ == "__main__":
    main()

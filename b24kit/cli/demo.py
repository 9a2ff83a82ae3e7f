"""``b24kit demo``: a portal on your machine, shown answering real REST calls."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _call(http: httpx.Client, url: str, method: str, params: dict[str, Any] | None = None) -> Any:
    body = http.post(url + method, json=params or {}).json()
    if "error" in body:
        raise RuntimeError(f"{method}: {body['error']} {body['error_description']}")
    return body


def demo() -> None:
    """Start the emulator with demo data, call it over HTTP and print what it answers."""
    from b24kit.emulator import Settings
    from b24kit.emulator.server import EmulatorServer

    started = time.perf_counter()
    with (
        EmulatorServer(Settings(seed="demo", rate_limit="cloud")) as server,
        httpx.Client(timeout=30) as http,
    ):
        url = server.webhook_url
        console.print(f"[bold]Emulated portal[/bold] listening at {url}")
        profile = _call(http, url, "profile")["result"]
        console.print(
            f"profile: user {profile['ID']} {profile['NAME']} {profile['LAST_NAME']}, "
            f"admin={profile['ADMIN']}"
        )
        stages = {
            s["STATUS_ID"]: s["NAME"]
            for s in _call(http, url, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})["result"]
        }
        deals = _call(
            http, url, "crm.deal.list", {"select": ["ID", "STAGE_ID", "OPPORTUNITY"], "order": {"ID": "ASC"}}
        )
        counts: Counter[str] = Counter()
        sums: Counter[str] = Counter()
        for deal in deals["result"]:
            counts[deal["STAGE_ID"]] += 1
            sums[deal["STAGE_ID"]] += int(float(deal["OPPORTUNITY"]))
        table = Table(title=f"Deals by stage ({deals['total']} deals, first page of 50)")
        for column in ("stage", "name", "deals", "amount, RUB"):
            table.add_column(column)
        for stage_id, name in stages.items():
            table.add_row(stage_id, name, str(counts[stage_id]), f"{sums[stage_id]:,}")
        console.print(table)
        batch = _call(
            http,
            url,
            "batch",
            {
                "halt": 0,
                "cmd": {
                    "company": "crm.company.get?id=1",
                    "contacts": "crm.contact.list?filter[COMPANY_ID]=$result[company][ID]"
                    "&select[]=ID&select[]=NAME&select[]=LAST_NAME",
                },
            },
        )["result"]
        company = batch["result"]["company"]
        people = ", ".join(f"{c['NAME']} {c['LAST_NAME']}" for c in batch["result"]["contacts"])
        console.print(
            f"batch with a $result reference: {company['TITLE']} (INN {company['UF_CRM_INN']}) -> {people}"
        )
        stats = http.get(server.base_url + "/_emulator/stats").json()
        console.print(
            f"{stats['requests']} HTTP requests answered in {time.perf_counter() - started:.2f}s; "
            "run `b24kit emulator serve --seed demo` to keep a portal running."
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)

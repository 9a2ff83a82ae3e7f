"""Benchmark the two-way Jira <-> Bitrix24 sync (issue 6) with ``profiles/jira-deals.yaml``.

Run: ``python bench/jira_sync.py [--mode server|cloud] [--issues 5000] [--deals 5000] [--changed 0.01]``.

The fake Jira and the emulator run as their own processes. It seeds ``--issues`` purchase
requests in Jira and ``--deals`` deals in the pipeline, then runs the profile three times:

1. the initial two-way sync: every issue becomes a deal and every deal an issue, each with the
   link stored on both sides (the deal ID in Jira, the issue key in the deal);
2. after ``--changed`` of the issues and of the deals were edited (summary / title): only those
   records may be written, once each, on the other side;
3. with nothing changed: nothing may be written.

For each run it prints the REST requests Jira and the portal received (and how many of them
wrote), the records the engine wrote, and the wall time; it exits 1 when run 2 or 3 wrote more
than it should. Jira's "Deal ID" is a number field here, so a lookup by it is an exact JQL
``in`` (the fake's ``~`` text search matches substrings, which real Jira's word search does not).
The portal client runs without a rate limit (``--limits cloud`` adds Bitrix24's leaky bucket).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

REPO = Path(__file__).resolve().parents[1]
PROFILE = REPO / "profiles" / "jira-deals.yaml"
EMAIL = "john.doe@example.com"


# -- the two systems, each in its own process ------------------------------------------------------


def serve_jira(mode: str) -> None:
    """Foreground fake Jira with a number field "Deal No" (prints URL, credentials, field id)."""
    sys.path.insert(0, str(REPO))
    from tests.doubles.jira_fake import JiraFake

    fake = JiraFake(mode, time_zone="Europe/Moscow")  # type: ignore[arg-type]
    field = fake.add_custom_field("Deal No", "number")
    admin = fake.admin
    credentials = {"user": admin.email, "token": admin.api_token} if mode == "cloud" else {"token": admin.pat}
    sys.stdout.write(f"{fake.url}\n{json.dumps(credentials)}\n{field.id}\n")
    sys.stdout.flush()
    fake._server.run()


class Started:
    """A child process whose first lines of output say where it is."""

    def __init__(self, args: list[str], lines: int) -> None:
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO
        )
        assert self.proc.stdout is not None
        self.lines = [self.proc.stdout.readline().strip() for _ in range(lines)]
        if not self.lines[0].startswith("http"):
            raise SystemExit(f"{args[:4]} did not start (exit code {self.proc.poll()})")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Jira:
    def __init__(self, mode: str) -> None:
        self.started = Started([sys.executable, __file__, "--serve-jira", mode], 3)
        self.url = self.started.lines[0]
        self.credentials: dict[str, str] = json.loads(self.started.lines[1])
        self.deal_field = self.started.lines[2]
        self.mode = mode
        c = self.credentials
        if mode == "cloud":
            self.http = httpx.Client(base_url=self.url, auth=(c["user"], c["token"]), timeout=60)
        else:
            bearer = {"Authorization": f"Bearer {c['token']}"}
            self.http = httpx.Client(base_url=self.url, headers=bearer, timeout=60)

    def requests(self) -> tuple[int, int]:
        """(all REST requests, those that write) served so far."""
        counts: dict[str, int] = self.http.get("/_fake/requests").json()
        return sum(counts.values()), sum(n for k, n in counts.items() if not k.startswith("GET "))

    def assignee(self) -> dict[str, str]:
        if self.mode == "server":
            return {"name": "jdoe"}
        found = self.http.get("/rest/api/2/user/search", params={"query": EMAIL}).json()
        return {"accountId": found[0]["accountId"]}

    def seed(self, count: int) -> list[str]:
        who, keys = self.assignee(), []
        for start in range(0, count, 50):
            updates = [
                {
                    "fields": {
                        "project": {"key": "OPS"},
                        "issuetype": {"name": "Purchase Request"},
                        "summary": f"Purchase request {i}",
                        "assignee": who,
                        "duedate": "2027-01-15",
                        "customfield_10010": float(100 + i),
                        "customfield_10012": {"value": ("Engineering", "Sales", "Finance")[i % 3]},
                    }
                }
                for i in range(start, min(start + 50, count))
            ]
            made = self.http.post("/rest/api/2/issue/bulk", json={"issueUpdates": updates}).json()
            keys += [i["key"] for i in made["issues"]]
        return keys

    def edit(self, key: str, summary: str) -> None:
        self.http.put(f"/rest/api/2/issue/{key}", json={"fields": {"summary": summary}}).raise_for_status()

    def stop(self) -> None:
        self.http.close()
        self.started.stop()


class Portal:
    def __init__(self, limits: str) -> None:
        script = Path(sys.executable).with_name("b24kit")
        args = [str(script), "emulator", "serve", "--port", "0", "--webhook", "1:secret"]
        self.started = Started([*args, "--rate-limit", "cloud" if limits == "cloud" else "off"], 1)
        self.webhook = self.started.lines[0]
        self.base = self.webhook.split("/rest/")[0]
        self.http = httpx.Client(timeout=120)
        self.since = 0.0

    def rest(self, method: str, params: dict[str, Any]) -> Any:
        body = self.http.post(f"{self.webhook}{method}", json=params).json()
        if "error" in body:
            raise SystemExit(f"{method}: {body}")
        return body["result"]

    def batch(self, commands: list[tuple[str, dict[str, Any]]]) -> None:
        from b24kit.client import Client, Command, PortalConfig

        with Client(PortalConfig.from_url(self.webhook, limits="off")) as client:
            for start in range(0, len(commands), 50):
                part = commands[start : start + 50]
                found = client.batch({f"c{i}": Command(m, p) for i, (m, p) in enumerate(part)})
                if found.errors:
                    raise SystemExit(f"seeding failed: {next(iter(found.errors.values()))}")

    def requests(self) -> tuple[int, int]:
        """(HTTP requests, record writes in them) since the last call."""
        calls = self.http.get(f"{self.base}/_emulator/calls", params={"since": self.since}).json()
        self.since = time.time()
        http = sum(1 for c in calls if c["via"] == "http")
        writes = sum(1 for c in calls if c["method"].endswith((".add", ".update", ".delete")))
        return http, writes

    def stop(self) -> None:
        self.http.close()
        self.started.stop()


# -- the benchmark ----------------------------------------------------------------------------------


def setup(portal: Portal, deals: int) -> tuple[str, list[str]]:
    portal.rest("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Purchases"}})
    for name in ("JIRA_KEY", "COST_CENTER", "DISTRIBUTOR"):
        portal.rest("crm.deal.userfield.add", {"fields": {"FIELD_NAME": name, "USER_TYPE_ID": "string"}})
    john = str(portal.rest("user.add", {"EMAIL": EMAIL, "NAME": "John", "UF_DEPARTMENT": [1]}))
    portal.batch(
        [
            (
                "crm.deal.add",
                {
                    "fields": {
                        "TITLE": f"Deal {i}",
                        "CATEGORY_ID": 1,
                        "OPPORTUNITY": 1000 + i,
                        "ASSIGNED_BY_ID": john,
                        "CLOSEDATE": "2027-02-01",
                        "UF_CRM_COST_CENTER": ("Engineering", "Sales", "Finance")[i % 3],
                    },
                    "params": {"REGISTER_SONET_EVENT": "N"},
                },
            )
            for i in range(deals)
        ]
    )
    ids = [str(d["ID"]) for d in _all_deals(portal)]
    return john, ids


def _all_deals(portal: Portal) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    last = 0
    while True:
        window = {"filter": {">ID": last, "CATEGORY_ID": 1}, "order": {"ID": "ASC"}, "select": ["ID"]}
        page = portal.rest("crm.deal.list", {**window, "start": -1})
        if not page:
            return rows
        rows += page
        last = int(page[-1]["ID"])


def profile_file(jira: Jira, workdir: Path) -> Path:
    data = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    options = data["source"]["options"]
    options.update(url=jira.url, users={})
    if "user" in jira.credentials:
        options["user"] = jira.credentials["user"]
    data["match"]["keys"][1]["source"] = jira.deal_field
    data["link_fields"]["source"]["field"] = jira.deal_field
    path = workdir / "jira-deals.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def run(path: Path, portal: Portal, jira: Jira, state: str, limits: str) -> dict[str, Any]:
    from b24kit.client import PortalConfig
    from b24kit.sync.service import execute, open_session

    config = PortalConfig.from_url(portal.webhook, limits=limits)
    jira_before, _ = jira.requests()
    jira_writes_before = jira.requests()[1]
    portal.requests()
    started = time.perf_counter()
    env = {"JIRA_TOKEN": jira.credentials["token"]}
    with open_session(path, env=env, state_url=state, portal=config) as session:
        report = execute(session)
    wall = time.perf_counter() - started
    jira_after, jira_writes = jira.requests()
    http, writes = portal.requests()
    return {
        "jira requests": jira_after - jira_before - 1,  # the counter's own probe
        "jira writes": jira_writes - jira_writes_before,
        "bitrix requests": http - 1,  # the previous call log read
        "bitrix writes": writes,
        "records written": report.writes,
        "created": report.summary()["create"],
        "updated": report.summary()["update"],
        "failed": report.failed,
        "wall s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["server", "cloud"], default="cloud")
    parser.add_argument("--issues", type=int, default=5000)
    parser.add_argument("--deals", type=int, default=5000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--limits", choices=["off", "cloud"], default="off")
    parser.add_argument("--serve-jira", choices=["server", "cloud"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_jira:
        serve_jira(args.serve_jira)
        return
    jira, portal = Jira(args.mode), Portal(args.limits)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            results = bench(args, jira, portal, Path(tmp))
    finally:
        jira.stop()
        portal.stop()
    header = ["run", *results[0][1]]
    print(" | ".join(header))
    print(" | ".join("---" for _ in header))
    for name, row in results:
        print(" | ".join([name, *(str(v) for v in row.values())]))
    changed = results[1][1]["records written"]
    expected = round(args.issues * args.changed) + round(args.deals * args.changed)
    third = results[2][1]
    quiet = third["records written"] == third["jira writes"] == third["bitrix writes"] == 0
    ok = changed == expected and quiet and all(r["failed"] == 0 for _, r in results)
    print(f"\nrun 2 wrote {changed} records ({expected} changed); run 3 wrote {third['records written']}")
    raise SystemExit(0 if ok else 1)


def bench(
    args: argparse.Namespace, jira: Jira, portal: Portal, workdir: Path
) -> list[tuple[str, dict[str, Any]]]:
    _, deal_ids = setup(portal, args.deals)
    keys = jira.seed(args.issues)
    path = profile_file(jira, workdir)
    state = f"sqlite:///{workdir}/state.db"
    results = [("1 initial", run(path, portal, jira, state, args.limits))]
    rng = random.Random(6)
    for key in rng.sample(keys, round(args.issues * args.changed)):
        jira.edit(key, f"{key} (edited in Jira)")
    edits = [
        ("crm.deal.update", {"id": deal_id, "fields": {"TITLE": f"Deal {deal_id} (edited in Bitrix24)"}})
        for deal_id in rng.sample(deal_ids, round(args.deals * args.changed))
    ]
    portal.batch(edits)
    results.append((f"2 {args.changed:.0%} changed", run(path, portal, jira, state, args.limits)))
    results.append(("3 nothing changed", run(path, portal, jira, state, args.limits)))
    return results


if __name__ == "__main__":
    main()

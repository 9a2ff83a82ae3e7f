"""The end-to-end world as separate processes: the fake Jira, the emulator, and ``b24kit serve``.

Each starts the way a user starts it (a command line that prints its URL first) and is steered
over HTTP only: the Jira REST API and ``/_fake``, the portal's REST API and ``/_emulator``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import yaml
from jira import JIRA

REPO = Path(__file__).resolve().parents[3]
CLI = [sys.executable, "-c", "from b24kit.cli import main; main()"]
PROFILE = REPO / "profiles" / "jira-deals.yaml"
WEBHOOK_SECRET = "jira-shared-secret"
APP_TOKEN = "portal-outgoing-token"


class Process:
    """A command whose first line of output is its URL (``lines`` more are read after it)."""

    def __init__(self, args: list[str], log: Path, lines: int = 1, env: dict[str, str] | None = None) -> None:
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=REPO, env=env or dict(os.environ)
        )
        assert self.proc.stdout is not None
        self.lines = [self.proc.stdout.readline().strip() for _ in range(lines)]
        assert self.lines[0].startswith("http"), log.read_text()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


class JiraProcess(Process):
    """``python -m tests.doubles.jira_fake``: its URL, the admin's credentials, a ``jira`` client."""

    def __init__(self, mode: str, workdir: Path) -> None:
        args = [sys.executable, "-m", "tests.doubles.jira_fake", "--mode", mode, "--port", "0"]
        super().__init__([*args, "--time-zone", "America/New_York"], workdir / f"jira-{mode}.log", lines=2)
        self.mode = mode
        self.url = self.lines[0]
        self.credentials: dict[str, str] = json.loads(self.lines[1])
        self.http = httpx.Client(base_url=self.url, timeout=30, auth=self.basic)
        self.client = JIRA(server=self.url, basic_auth=self.basic)

    @property
    def basic(self) -> tuple[str, str]:
        c = self.credentials
        return (c["email"], c["api_token"]) if self.mode == "cloud" else (c["name"], c["password"])

    @property
    def token(self) -> str:
        return self.credentials["api_token" if self.mode == "cloud" else "pat"]

    def register_webhook(self, url: str) -> None:
        body = {"name": "b24kit", "url": url, "secret": WEBHOOK_SECRET, "events": []}
        body["events"] = ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]
        self.http.post("/rest/webhooks/1.0/webhook", json=body).raise_for_status()

    def drop_webhooks(self, drop: bool) -> None:
        self.http.post("/_fake/webhooks/drop", json={"drop": drop}).raise_for_status()

    def deliveries(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.get("/_fake/deliveries").json()
        return found

    def requests(self) -> dict[str, int]:
        counts: dict[str, int] = self.http.get("/_fake/requests").json()
        return counts

    def writes(self) -> int:
        return sum(n for k, n in self.requests().items() if not k.startswith("GET "))

    def issue(self, key: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client.issue(key).raw
        return found

    def close(self) -> None:
        self.http.close()
        self.client.close()  # type: ignore[no-untyped-call]
        self.stop()


class EmulatorProcess(Process):
    """``b24kit emulator serve``: the portal's REST API by its webhook, and the admin API."""

    def __init__(self, workdir: Path) -> None:
        args = [*CLI, "emulator", "serve", "--port", "0", "--webhook", "1:secret"]
        super().__init__(args, workdir / "emu.log")
        self.webhook_url = self.lines[0]
        self.base_url = self.webhook_url.split("/rest/")[0]
        self.http = httpx.Client(timeout=30)

    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        body = self.http.post(f"{self.webhook_url}{method}", json=params or {}).json()
        assert "error" not in body, body
        return body["result"]

    def admin(self, path: str, body: dict[str, Any] | None = None) -> Any:
        verb = "POST" if body is not None else "GET"
        response = self.http.request(verb, f"{self.base_url}/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def writes(self) -> int:
        rows = self.admin("calls")
        verbs = (".add", ".update", ".delete")
        return sum(1 for c in rows if str(c.get("method", "")).endswith(verbs))

    def deal(self, deal_id: str | int) -> dict[str, Any]:
        found: dict[str, Any] = self.rest("crm.deal.get", {"id": deal_id})
        return found

    def deals(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.rest(
            "crm.deal.list", {"filter": {"CATEGORY_ID": 1}, "select": ["*", "UF_*"], "order": {"ID": "ASC"}}
        )
        return found

    def close(self) -> None:
        self.http.close()
        self.stop()


def profile_for(jira: JiraProcess, workdir: Path) -> Path:
    """The example profile, pointed at this fake Jira (Cloud gets the account's e-mail as user)."""
    data = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    options = data["source"]["options"]
    options["url"] = jira.url
    options["users"] = {}
    data["deletes"]["guard"] = {"max_count": 5}  # a test world of two pairs: no share limit
    if jira.mode == "cloud":
        options["user"] = jira.credentials["email"]
    path = workdir / "jira-deals.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


class RunnerProcess(Process):
    """``b24kit serve`` with a Jira webhook source, deal events, and the profile as jobs."""

    def __init__(
        self, workdir: Path, emulator: EmulatorProcess, jira: JiraProcess, profile: Path, cron: bool = False
    ) -> None:
        jobs = workdir / "jobs"
        jobs.mkdir()
        text = f"""
version: 1
jobs:
  - name: jira-deals-on-jira-webhooks
    trigger: {{webhook: jira}}
    action: {{sync: {profile}}}
  - name: jira-deals-on-deal-events
    trigger: {{events: [ONCRMDEALADD, ONCRMDEALUPDATE]}}
    action: {{sync: {profile}}}
"""
        if cron:
            text += f"""  - name: jira-deals-reconcile
    trigger: {{cron: "* * * * *"}}
    action: {{sync: {profile}}}
"""
        (jobs / "jira.yaml").write_text(text)
        self.sync_state = f"sqlite:///{workdir}/sync.db"
        self.config = workdir / "b24kit.yaml"
        self.config.write_text(
            f"""
default_portal: emulator
portals:
  emulator:
    url: {emulator.webhook_url}
    limits: off
runner:
  listen: {{host: 127.0.0.1, port: 0}}
  state: sqlite:///{workdir}/runner.db
  sync_state: {self.sync_state}
  jobs: [jobs/*.yaml]
  debounce_seconds: 0.2
  portals:
    emulator: {{application_token: {APP_TOKEN}}}
  webhooks:
    jira: {{kind: jira, secret: {WEBHOOK_SECRET}}}
"""
        )
        env = {**os.environ, "JIRA_TOKEN": jira.token}
        super().__init__([*CLI, "serve", "--config", str(self.config)], workdir / "serve.log", env=env)
        self.url = self.lines[0]
        self.env = env

    def busy(self) -> int:
        tasks = httpx.get(self.url + "/healthz", timeout=10).json()["tasks"]
        return int(tasks.get("queued", 0)) + int(tasks.get("running", 0))

    def dead(self) -> int:
        tasks = httpx.get(self.url + "/healthz", timeout=10).json()["tasks"]
        return int(tasks.get("dead", 0))

    def close(self) -> None:
        self.stop()

    def sync(self, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
        """``b24kit sync run`` of the profile: what the scheduled reconciliation job does."""
        args = [*CLI, "sync", "run", str(profile), "--config", str(self.config), "--state", self.sync_state]
        return subprocess.run(
            [*args, *extra], capture_output=True, text=True, timeout=300, env=self.env, cwd=REPO
        )


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy (assertion errors count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = check()
        except AssertionError as exc:
            last, found = exc, None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f": {last}" if last else ""))

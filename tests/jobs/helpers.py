"""Helpers for the runner tests: configs, the runner on a real socket (in a thread or as
``b24kit serve``), the emulator installing our application into it, forged portal deliveries."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from b24kit.config import Settings, load_settings
from b24kit.jobs.runner import Runner
from b24kit.jobs.server import serving_in_thread
from b24kit.testing import RunningEmulator

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "local.b24kit.tests", "tests-secret"


def write_config(folder: Path, base_url: str, jobs: str, runner: str = "", portal: str = "emu") -> Path:
    """A config for ``portal`` as an OAuth application on the emulator at ``base_url``, with ``jobs``."""
    (folder / "jobs.yaml").write_text(textwrap.dedent(jobs), encoding="utf-8")
    extra = textwrap.indent(textwrap.dedent(runner).strip(), "  ") if runner.strip() else ""
    path = folder / "b24kit.yaml"
    path.write_text(
        f"""default_portal: {portal}
portals:
  {portal}:
    url: {base_url}/rest/
    client_id: {CLIENT_ID}
    client_secret: {CLIENT_SECRET}
    token_url: {base_url}/oauth/token/
    token_store: tokens.json
    limits: off
runner:
  listen: {{host: 127.0.0.1, port: 0}}
  state: sqlite:///runner.db
  jobs: [jobs.yaml]
  plugins: [tests.jobs.handlers]
  debounce_seconds: 0.2
  retry: {{attempts: 4, backoff: 0.2, max_backoff: 1}}
{extra}
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Served:
    """A runner on a real socket: its URL, its settings and (in-process) the Runner itself."""

    url: str
    settings: Settings
    runner: Runner | None = None
    process: subprocess.Popen[str] | None = None

    def healthz(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}/healthz", timeout=10).json()
        return answer

    def wait_idle(self, timeout: float = 30.0, settle: float = 0.0) -> dict[str, int]:
        """Until nothing is queued or running (after ``settle`` seconds: debounced tasks)."""
        time.sleep(settle)
        deadline = time.monotonic() + timeout
        while True:
            tasks: dict[str, int] = self.healthz()["tasks"]
            if not tasks.get("queued") and not tasks.get("running"):
                return tasks
            if time.monotonic() > deadline:
                raise AssertionError(f"the runner did not go idle: {tasks}")
            time.sleep(0.05)

    def metric(self, name: str, **labels: str) -> float:
        wanted = name + (
            "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else ""
        )
        for line in httpx.get(f"{self.url}/metrics", timeout=10).text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


@contextlib.contextmanager
def in_process(config: Path) -> Iterator[Served]:
    """The runner (``Runner`` + uvicorn) in a thread with its own event loop."""
    settings = load_settings(config)
    runner = Runner.from_settings(settings)
    with serving_in_thread(runner) as url:
        yield Served(url, settings, runner=runner)


def cli_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


def b24kit(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the ``b24kit`` command line in a subprocess."""
    command = [sys.executable, "-c", "from b24kit.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=cli_env())


def start_serve(config: Path, log: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", "from b24kit.cli import main; main()", "serve", "--config", str(config)]
    with log.open("a") as stderr:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=config.parent, env=cli_env()
        )


@contextlib.contextmanager
def as_process(config: Path) -> Iterator[Served]:
    """``b24kit serve --config FILE`` as a real process (stopped by its pid on exit)."""
    process = start_serve(config, config.parent / "serve.log")
    try:
        yield Served(read_url(process, config), load_settings(config), process=process)
    finally:
        stop(process)


def read_url(process: subprocess.Popen[str], config: Path) -> str:
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://"), (config.parent / "serve.log").read_text()
    return url


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def install(emulator: RunningEmulator, runner_url: str, portal: str = "emu") -> dict[str, Any]:
    """Install our application on the emulator with the runner as its install handler."""
    answer: dict[str, Any] = emulator.admin(
        "apps",
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "handler": f"{runner_url}/install/{portal}"},
    )
    emulator.flush()
    wait_for(lambda: portal in httpx.get(f"{runner_url}/healthz", timeout=10).json()["installed"])
    return answer


def wait_for(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)


def event_body(app: dict[str, Any], event: str, deal: int, ts: int = 1, **extra: str) -> bytes:
    """An event form body as the portal sends it (``app`` is the install answer)."""
    fields = {
        "event": event,
        "event_handler_id": "7",
        "data[FIELDS][ID]": str(deal),
        "ts": str(ts),
        "auth[domain]": app["domain"],
        "auth[member_id]": app["member_id"],
        "auth[application_token]": app["application_token"],
        **extra,
    }
    return urlencode(fields).encode()


def post_form(url: str, body: bytes) -> httpx.Response:
    return httpx.post(
        url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30
    )


def deal_calls(emulator: RunningEmulator, method: str, deal: int | None = None) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = emulator.admin(f"calls?method={method}")
    if deal is None:
        return calls
    return [
        c
        for c in calls
        if str((c.get("params") or {}).get("id") or (c.get("params") or {}).get("ID")) == str(deal)
    ]


class EmulatorProcess:
    """``b24kit emulator serve`` as a real process, with the same helpers as ``RunningEmulator``."""

    def __init__(self, base_url: str, webhook_url: str) -> None:
        self.base_url = base_url
        self.webhook_url = webhook_url
        self.http = httpx.Client(base_url=base_url, timeout=60)

    def admin(self, path: str, body: dict[str, Any] | None = None, method: str | None = None) -> Any:
        verb = method or ("POST" if body is not None else "GET")
        response = self.http.request(verb, f"/_emulator/{path.lstrip('/')}", json=body)
        response.raise_for_status()
        return response.json()

    def rest(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.post(f"{self.webhook_url}{method}", json=params or {}).json()

    def flush(self, timeout: float = 60) -> None:
        self.admin("deliveries/flush", {"timeout": timeout})


@contextlib.contextmanager
def emulator_process(*args: str) -> Iterator[EmulatorProcess]:
    from tests.emulator.cli_server import serve

    with serve(*args) as served:
        made = EmulatorProcess(served.base_url, served.webhook_url)
        try:
            yield made
        finally:
            made.http.close()

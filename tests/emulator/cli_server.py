"""Start ``b24kit emulator serve`` as a real subprocess and read the lines it prints."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


@dataclass
class Served:
    """A running ``b24kit emulator serve``: its webhook URL and, with ``--tls``, its certificate."""

    webhook_url: str
    cert: Path | None
    process: subprocess.Popen[str]

    @property
    def base_url(self) -> str:
        parts = urlsplit(self.webhook_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def port(self) -> int:
        port = urlsplit(self.webhook_url).port
        assert port is not None
        return port


def b24kit_command() -> list[str]:
    script = Path(sys.executable).with_name("b24kit")
    if script.exists():
        return [str(script)]
    found = shutil.which("b24kit")
    assert found, "the b24kit console script is not installed (pip install -e '.[dev]')"
    return [found]


@contextlib.contextmanager
def serve(*args: str) -> Iterator[Served]:
    """``b24kit emulator serve --port 0 ARGS...``; stopped (by its own pid) on exit."""
    command = [*b24kit_command(), "emulator", "serve", "--port", "0", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http"), f"serve printed {url!r} and exited with {process.poll()}"
        cert = Path(process.stdout.readline().strip()) if "--tls" in args else None
        yield Served(url, cert, process)
    finally:
        if process.stdout is not None:
            process.stdout.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

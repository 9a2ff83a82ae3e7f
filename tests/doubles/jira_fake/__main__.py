"""Serve the fake Jira in the foreground: ``python -m tests.doubles.jira_fake --mode cloud --port 0``.

The first line of output is the base URL, the second the admin's credentials as JSON; steer it
over HTTP with ``/_fake/clock``, ``/_fake/time_zone``, ``/_fake/webhooks/drop``, ``/_fake/requests``
and ``/_fake/deliveries``, and register webhooks with ``POST /rest/webhooks/1.0/webhook``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .server import JiraFake


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.doubles.jira_fake")
    parser.add_argument("--mode", choices=["server", "cloud"], default="server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--time-zone", default="UTC")
    args = parser.parse_args(argv)
    fake = JiraFake(args.mode, time_zone=args.time_zone, host=args.host, port=args.port)
    admin = fake.admin
    credentials = {"name": admin.name, "password": admin.password, "pat": admin.pat}
    if args.mode == "cloud":
        credentials = {"email": admin.email, "api_token": admin.api_token}
    sys.stdout.write(f"{fake.url}\n{json.dumps(credentials)}\n")
    sys.stdout.flush()
    try:
        fake._server.run()
    finally:
        fake.webhooks.close()


if __name__ == "__main__":
    main()

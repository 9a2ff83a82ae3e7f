"""Health checks of one portal connection, in plain words: what works and what to fix."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from b24kit.errors import (
    ApiError,
    AuthError,
    MethodNotFound,
    OperationTimeLimit,
    QueryLimitExceeded,
    TransportError,
)

from ._auth import OAuthAuth
from ._sync import Client
from ._wire import Envelope

# What each part of b24kit needs; a missing scope disables only that part.
SCOPES_NEEDED: dict[str, str] = {
    "crm": "CRM sync, rules and robots on deals",
    "user": "user look-ups and the Active Directory sync",
    "department": "the Active Directory sync (departments)",
    "task": "tasks created by rules and templates",
    "im": "notifications (im.notify)",
    "bizproc": "robots (application only)",
    "lists": "universal lists (expenses, documents)",
    "disk": "document folders",
    "sonet_group": "workgroups and projects",
}
MAX_SKEW = 30.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One check: ``level`` is ``ok``, ``warn`` or ``fail``; ``fix`` says what to do."""

    check: str
    level: str
    detail: str
    fix: str = ""


def diagnose(client: Client) -> list[Finding]:
    """Connectivity, auth type, scopes, clock skew and limit headroom, in that order.

    Stops after the first failure that makes the rest meaningless (no connection, no auth).
    """
    findings: list[Finding] = []
    started = time.monotonic()
    try:
        profile = client.request("profile")
    except (ApiError, TransportError) as exc:
        findings.append(_unreachable(client, exc))
        return findings
    elapsed = time.monotonic() - started
    findings.append(
        Finding("connectivity", "ok", f"{client.config.safe_url} answered in {elapsed * 1000:.0f} ms")
    )
    findings.append(_auth(client, profile))
    for check in (_scopes, _skew, _limits):
        findings.append(check(client, profile))
    return findings


def _unreachable(client: Client, exc: ApiError | TransportError) -> Finding:
    url = client.config.safe_url
    if isinstance(exc, TransportError):
        return Finding(
            "connectivity",
            "fail",
            str(exc),
            f"check that {url} is reachable from here (host, port, proxy, TLS)",
        )
    if isinstance(exc, MethodNotFound):
        return Finding(
            "connectivity", "fail", str(exc), "the URL is not a REST URL: copy the webhook URL again"
        )
    if isinstance(exc, AuthError):
        fix = (
            "the app's tokens were refused: reinstall the app or put fresh tokens in the config"
            if isinstance(client.config.auth, OAuthAuth)
            else "the webhook was deleted, expired or its secret is wrong: create a new incoming webhook"
        )
        return Finding("auth", "fail", str(exc), fix)
    if isinstance(exc, QueryLimitExceeded | OperationTimeLimit):
        return Finding(
            "limits", "fail", str(exc), "the portal is rate-limiting this IP: wait a minute and retry"
        )
    return Finding("connectivity", "fail", str(exc), "the portal answered with an error; see the text above")


def _auth(client: Client, profile: Envelope) -> Finding:
    user = profile.result if isinstance(profile.result, dict) else {}
    who = f"user {user.get('ID')} {user.get('NAME', '')} {user.get('LAST_NAME', '')}".strip()
    admin = " (administrator)" if user.get("ADMIN") else ""
    if not isinstance(client.config.auth, OAuthAuth):
        return Finding("auth", "ok", f"incoming webhook of {who}{admin}")
    try:
        app = client.call("app.info")
    except ApiError as exc:
        return Finding("auth", "warn", f"OAuth token of {who}, but app.info failed: {exc}")
    code = app.get("CODE", "?") if isinstance(app, dict) else "?"
    return Finding("auth", "ok", f"application {code}, acting as {who}{admin}")


def _scopes(client: Client, profile: Envelope) -> Finding:
    try:
        granted = set(client.call("scope"))
    except ApiError as exc:
        return Finding("scopes", "warn", f"scope failed: {exc}")
    missing = {s: why for s, why in SCOPES_NEEDED.items() if s not in granted}
    if not isinstance(client.config.auth, OAuthAuth):
        missing.pop("bizproc", None)  # robots need an application anyway
    if not missing:
        return Finding("scopes", "ok", ", ".join(sorted(granted)))
    what = "; ".join(f"{s} ({why})" for s, why in missing.items())
    return Finding(
        "scopes",
        "warn",
        f"missing: {what}",
        "add these scopes to the webhook or the app, if you use those parts",
    )


def _skew(client: Client, profile: Envelope) -> Finding:
    finish = profile.time.get("finish")
    if not isinstance(finish, int | float):
        return Finding("clock", "warn", "the portal did not report its time")
    skew = round(float(finish) - time.time(), 1) + 0.0
    detail = f"portal clock {skew:+.1f}s from this machine's ({profile.time.get('date_finish', '?')})"
    if abs(skew) <= MAX_SKEW:
        return Finding("clock", "ok", detail)
    return Finding(
        "clock",
        "warn",
        detail,
        "sync this machine's clock (NTP): date filters, timers and token expiry use it",
    )


def _limits(client: Client, profile: Envelope) -> Finding:
    limits = client.config.limits
    pacing = "off" if limits.burst is None else f"burst {limits.burst}, then {limits.rate:g}/s"
    operating: Any = profile.time.get("operating")
    if not isinstance(operating, int | float):
        return Finding(
            "limits", "ok", f"client pacing {pacing}; the portal reports no operating time (on-premise?)"
        )
    budget = limits.operating_limit
    used = f"{operating:.2f}s of {budget:g}s" if budget else f"{operating:.2f}s"
    reset_at = profile.time.get("operating_reset_at")
    reset = _clock_time(reset_at) if isinstance(reset_at, int | float) else "?"
    level = "warn" if budget and operating >= budget * 0.8 else "ok"
    fix = "this webhook/app is close to the operating limit: spread heavy jobs out" if level == "warn" else ""
    return Finding(
        "limits", level, f"client pacing {pacing}; operating time of profile: {used} (resets at {reset})", fix
    )


def _clock_time(unix: float) -> str:
    return datetime.fromtimestamp(unix).astimezone().strftime("%H:%M:%S")

"""Local applications and OAuth: install, access and refresh tokens, the token endpoint.

An application is installed through the admin API (``POST /_emulator/apps``); it gets an access
token (one hour by default, on the portal clock), a refresh token (180 days) and an
``application_token`` that signs every event and robot call sent to it. ``GET /oauth/token/``
with ``grant_type=refresh_token`` answers as Bitrix24's OAuth server does and issues a new
refresh token each time; the old refresh token then stops working with ``invalid_grant`` (a
choice: the docs only say to keep the new one). The docs give no HTTP statuses for the OAuth
server's errors; the emulator answers ``invalid_client`` with 401 and ``invalid_request`` /
``invalid_grant`` with 400. Reinstalling an app (same ``client_id``) removes its event handlers
and robots, as an uninstall does.
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .errors import RestError
from .portal import Delivery, Portal
from .registry import Caller
from .wire import dump, parse_query

REFRESH_TTL = 180 * 24 * 3600
APP_SCOPE = "crm,user,department,task,tasks_extended,sonet_group,im,lists,disk,bizproc,placement,basic"


def install_app(
    portal: Portal, client_id: str, client_secret: str, handler: str | None = None, user_id: int = 1
) -> dict[str, Any]:
    """Install (or reinstall) a local application; POST ONAPPINSTALL to ``handler`` if given."""
    apps = portal.table("apps")
    existing = next((rid for rid, row in apps.rows.items() if row["client_id"] == client_id), None)
    row = {
        "client_id": client_id,
        "client_secret": client_secret,
        "application_token": secrets.token_hex(16),
        "handler": handler,
        "scope": APP_SCOPE,
        "code": client_id,
        "version": 1,
    }
    if existing is None:
        app_id = apps.insert(row)
    else:
        app_id = existing
        apps.save(app_id, row)
        # a reinstall is an uninstall plus an install: the app's handlers and robots go
        for name in ("event_bindings", "robots"):
            table = portal.table(name)
            for rid in [rid for rid, b in table.rows.items() if b["app_id"] == app_id]:
                table.delete(rid)
    tokens = issue_tokens(portal, app_id, user_id)
    answer = {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "application_token": row["application_token"],
        "member_id": portal.member_id,
        "domain": portal.domain,
        "client_endpoint": f"{portal.base_url}/rest/",
        "server_endpoint": f"{portal.base_url}/rest/",
        "expires_in": portal.settings.token_ttl,
        "expires": tokens["expires"],
        "user_id": user_id,
    }
    if handler:
        body = {
            "event": "ONAPPINSTALL",
            "data": {
                "VERSION": "1",
                "ACTIVE": "Y",
                "INSTALLED": "Y",
                "LANGUAGE_ID": portal.settings.language,
            },
            "ts": str(int(portal.clock.time())),
            "auth": auth_block(portal, app_id, user_id, with_refresh=True, tokens=tokens),
        }
        portal.deliver(Delivery(handler, body, "event", {"event": "ONAPPINSTALL", "app_id": app_id}))
    return answer


def issue_tokens(portal: Portal, app_id: int, user_id: int) -> dict[str, Any]:
    now = portal.clock.time()
    row = {
        "access_token": secrets.token_hex(24),
        "refresh_token": secrets.token_hex(24),
        "app_id": app_id,
        "user_id": user_id,
        "expires": int(now + portal.settings.token_ttl),
        "refresh_expires": int(now + REFRESH_TTL),
        "refresh_used": False,
    }
    row["app_user"] = f"{app_id}:{user_id}"
    portal.table("oauth_tokens").insert(row)
    return row


def current_tokens(portal: Portal, app_id: int, user_id: int) -> dict[str, Any]:
    """A token for (app, user) with at least ten minutes left, issued anew if needed."""
    found = portal.table("oauth_tokens").lookup("app_user", f"{app_id}:{user_id}")
    if found is not None and found[1]["expires"] - portal.clock.time() > 600:
        return found[1]
    return issue_tokens(portal, app_id, user_id)


def app_row(portal: Portal, app_id: int) -> dict[str, Any]:
    row = portal.table("apps").get(app_id)
    if row is None:
        raise RestError(401, "NO_AUTH_FOUND", "Wrong authorization data")
    return row


def auth_block(
    portal: Portal,
    app_id: int,
    user_id: int | None,
    *,
    with_refresh: bool = False,
    tokens: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``auth[...]`` part of an event or robot payload sent to an application."""
    app = app_row(portal, app_id)
    block: dict[str, Any] = {}
    if user_id is not None:
        tokens = tokens or current_tokens(portal, app_id, user_id)
        block.update(
            access_token=tokens["access_token"],
            expires=str(tokens["expires"]),
            expires_in=str(portal.settings.token_ttl),
            scope=app["scope"],
        )
        if with_refresh:
            block["refresh_token"] = tokens["refresh_token"]
    block.update(
        domain=portal.domain,
        server_endpoint=f"{portal.base_url}/rest/",
        status="L",
        client_endpoint=f"{portal.base_url}/rest/",
        member_id=portal.member_id,
    )
    if user_id is not None:
        block["user_id"] = str(user_id)
    block["application_token"] = app["application_token"]
    return block


def caller_for_token(portal: Portal, token: str, connector: str | None) -> Caller:
    found = portal.table("oauth_tokens").lookup("access_token", token)
    if found is None:
        raise RestError(401, "invalid_token", "The access token provided is invalid.")
    row = found[1]
    if row["expires"] <= portal.clock.time():
        raise RestError(401, "expired_token", "The access token provided has expired.")
    return Caller("app", int(row["user_id"]), int(row["app_id"]), connector)


def refresh(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    """The ``refresh_token`` grant: a new access token and a new refresh token."""
    if params.get("grant_type") != "refresh_token":
        raise RestError(400, "invalid_request", "Only grant_type=refresh_token is supported")
    apps = portal.table("apps")
    app_id = next((rid for rid, a in apps.rows.items() if a["client_id"] == params.get("client_id")), None)
    if app_id is None or not secrets.compare_digest(
        str(apps.rows[app_id]["client_secret"]), str(params.get("client_secret", ""))
    ):
        raise RestError(401, "invalid_client", "Invalid client credentials")
    tokens = portal.table("oauth_tokens")
    found = tokens.lookup("refresh_token", str(params.get("refresh_token", "")))
    row_id, row = found if found is not None else (None, None)
    if (
        row is None
        or row["app_id"] != app_id
        or row["refresh_used"]
        or row["refresh_expires"] <= portal.clock.time()
    ):
        raise RestError(400, "invalid_grant", "Invalid refresh token")
    assert row_id is not None
    row["refresh_used"] = True
    tokens.save(row_id, row)
    fresh = issue_tokens(portal, app_id, int(row["user_id"]))
    return {
        "access_token": fresh["access_token"],
        "expires": fresh["expires"],
        "expires_in": portal.settings.token_ttl,
        "scope": apps.rows[app_id]["scope"],
        "domain": portal.domain,
        "server_endpoint": f"{portal.base_url}/rest/",
        "status": "L",
        "client_endpoint": f"{portal.base_url}/rest/",
        "member_id": portal.member_id,
        "user_id": fresh["user_id"],
        "refresh_token": fresh["refresh_token"],
    }


async def token_endpoint(request: Request) -> Response:
    portal: Portal = request.app.state.portal
    params = parse_query(request.url.query)
    if request.method == "POST":
        params.update(parse_query((await request.body()).decode("utf-8", "replace")))
    try:
        answer = refresh(portal, params)
    except RestError as exc:
        return Response(dump(exc.body()), exc.status, media_type="application/json")
    return Response(dump(answer), 200, media_type="application/json")

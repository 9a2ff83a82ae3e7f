"""``profile``, ``server.time``, ``scope``, ``methods``, ``app.info``."""

from __future__ import annotations

from typing import Any

from b24kit.emulator.errors import RestError
from b24kit.emulator.registry import METHODS, Ctx, Params, method, scopes


@method("profile", scope="basic")
def profile(ctx: Ctx, p: Params) -> dict[str, Any]:
    user = ctx.portal.table("users").get(ctx.caller.user_id) or {}
    return {
        "ID": str(ctx.caller.user_id),
        "ADMIN": ctx.portal.is_admin(ctx.caller.user_id),
        "NAME": user.get("NAME", ""),
        "LAST_NAME": user.get("LAST_NAME", ""),
        "PERSONAL_GENDER": user.get("PERSONAL_GENDER", ""),
        "PERSONAL_PHOTO": "",
        "TIME_ZONE": user.get("TIME_ZONE", ""),
        "TIME_ZONE_OFFSET": int(ctx.portal.clock.tz.utcoffset(None).total_seconds()),
    }


@method("server.time", scope="basic")
def server_time(ctx: Ctx, p: Params) -> str:
    return ctx.portal.clock.iso()


@method("scope", scope="basic")
def scope(ctx: Ctx, p: Params) -> list[str]:
    return scopes()


@method("methods", scope="basic")
def methods(ctx: Ctx, p: Params) -> list[str]:
    wanted = p.get("scope")
    return sorted(name for name, spec in METHODS.items() if wanted in (None, "") or spec.scope == wanted)


@method("method.get", scope="basic")
def method_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    name = str(p.get("name", "")).lower()
    return {"isExisting": name in METHODS, "isAvailable": name in METHODS}


@method("app.info", scope="basic")
def app_info(ctx: Ctx, p: Params) -> dict[str, Any]:
    if not ctx.caller.is_app:
        # docs: app-info.md documents 400 ACCESS_DENIED for calls without an application
        raise RestError(400, "ACCESS_DENIED", "Access denied! Application context required")
    app = ctx.portal.table("apps").get(ctx.caller.app_id or 0) or {}
    return {
        "ID": ctx.caller.app_id,
        "CODE": app.get("code", ""),
        "VERSION": app.get("version", 1),
        "STATUS": "L",
        "INSTALLED": True,
        "PAYMENT_EXPIRED": "N",
        "DAYS": None,
        "LANGUAGE_ID": ctx.portal.settings.language,
        "LICENSE": f"{ctx.portal.settings.language}_project",
        "LICENSE_TYPE": "project",
        "LICENSE_FAMILY": "project",
    }


@method("feature.get", scope="basic")
def feature_get(ctx: Ctx, p: Params) -> dict[str, Any]:
    return {"value": "Y"}

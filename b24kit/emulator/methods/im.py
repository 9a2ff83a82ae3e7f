"""``im.notify.system.add`` and ``im.notify.personal.add``: notifications kept in ``notifications``.

Each row is ``{"ID", "USER_ID", "MESSAGE", "TYPE", "FROM_USER_ID", "TAG", "SUB_TAG", "DATE"}``;
``GET /_emulator/notifications`` lists them. A notification to a user the portal does not have
is not created and the method answers ``false``, as the docs allow ("may return false").
"""

from __future__ import annotations

from typing import Any

import orjson

from b24kit.emulator.errors import RestError
from b24kit.emulator.query import php_int
from b24kit.emulator.registry import Ctx, Params, method

ATTACH_LIMIT = 60_000


def _text(raw: Any) -> str:
    if raw is None or isinstance(raw, dict | list | bool):
        return ""
    return str(raw).strip()


def _check_attach(raw: Any) -> None:
    if raw in (None, "", []):
        return
    encoded = raw if isinstance(raw, str) else orjson.dumps(raw).decode()
    if len(encoded) > ATTACH_LIMIT:
        raise RestError(400, "ATTACH_OVERSIZE", "You have exceeded the maximum allowable size of attach")
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise RestError(400, "ATTACH_ERROR", "Incorrect attach params") from exc
    if not isinstance(raw, dict | list):
        raise RestError(400, "ATTACH_ERROR", "Incorrect attach params")


def _notify(ctx: Ctx, p: Params, kind: str) -> int | bool:
    raw_user = p.get("user_id")
    user_id = php_int(raw_user) if not isinstance(raw_user, dict | list) else 0
    if user_id <= 0:
        raise RestError(400, "USER_ID_EMPTY", "User ID can't be empty")
    message = _text(p.get("message"))
    if not message:
        raise RestError(400, "MESSAGE_EMPTY", "Message can't be empty")
    _check_attach(p.get("attach"))
    portal = ctx.portal
    if portal.table("users").get(user_id) is None:
        return False
    # a webhook passes CLIENT_ID with TAG/SUB_TAG; without one the tags are not applied
    tagged = ctx.caller.is_app or _text(p.get("client_id")) != ""
    tag = _text(p.get("tag")) if tagged else ""
    table = portal.table("notifications")
    if tag:
        for row_id in [rid for rid, row in table.rows.items() if row["TAG"] == tag]:
            table.delete(row_id)
    row: dict[str, Any] = {
        "USER_ID": user_id,
        "MESSAGE": message,
        "TYPE": kind,
        "FROM_USER_ID": ctx.caller.user_id if kind == "personal" else 0,
        "TAG": tag,
        "SUB_TAG": _text(p.get("sub_tag")) if tagged else "",
        "DATE": portal.clock.iso(),
    }
    row_id = table.insert(row)
    table.save(row_id, {"ID": row_id, **row})
    return row_id


@method("im.notify.system.add", scope="im")
def notify_system(ctx: Ctx, p: Params) -> int | bool:
    return _notify(ctx, p, "system")


@method("im.notify.personal.add", scope="im")
def notify_personal(ctx: Ctx, p: Params) -> int | bool:
    return _notify(ctx, p, "personal")

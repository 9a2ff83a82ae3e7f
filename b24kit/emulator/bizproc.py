"""Robots at work: a record entering a stage where a robot was placed calls the robot's handler.

Placements come from the admin API (``POST /_emulator/automation``), as a user places a robot in
the automation designer. Each run is a workflow (table ``workflows``) with an ``event_token``
whose first segment is the ``workflow_id``; the handler answers with ``bizproc.event.send``,
which completes a waiting run once and records its return values. Property values may reference
the document (``{=Document:OPPORTUNITY}``), as in the designer; properties the placement does
not set get the robot's ``Default``.

Robots (table ``robots``) keep the portal's field names: ``CODE, HANDLER, AUTH_USER_ID,
USE_SUBSCRIPTION, NAME, DESCRIPTION, PROPERTIES, RETURN_PROPERTIES, DOCUMENT_TYPE, FILTER,
USE_PLACEMENT, PLACEMENT_HANDLER`` plus ``app_id``.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING, Any

from . import oauth
from .errors import RestError
from .portal import Delivery

if TYPE_CHECKING:
    from .crm.entities import EntityType
    from .portal import Portal
    from .registry import Ctx

TIMEOUT_DURATION = 660  # seen in captured robot payloads; undocumented
_DOCUMENT_REF = re.compile(r"\{=Document:([A-Za-z0-9_]+)\}")


def waits(robot: dict[str, Any]) -> bool:
    """``USE_SUBSCRIPTION``: empty means wait for ``bizproc.event.send``; only ``N`` means don't."""
    return str(robot.get("USE_SUBSCRIPTION") or "").upper() != "N"


def find_robot(portal: Portal, code: str, client_id: str | None = None) -> dict[str, Any] | None:
    """The robot registered under ``code`` (by the app ``client_id`` when several apps use it)."""
    found = [r for r in portal.table("robots") if r["CODE"] == code]
    if client_id:
        apps = portal.table("apps")
        found = [r for r in found if (apps.get(int(r["app_id"])) or {}).get("client_id") == client_id]
    return found[0] if len(found) == 1 else None


def place(portal: Portal, spec: dict[str, Any]) -> dict[str, Any]:
    """Store a robot placement; the robot must have been registered with bizproc.robot.add."""
    from .crm.entities import entity_by_type_id

    code = str(spec.get("robot_code") or "")
    client_id = str(spec.get("client_id") or "") or None
    candidates = [r for r in portal.table("robots") if r["CODE"] == code]
    robot = find_robot(portal, code, client_id)
    if robot is None:
        if len(candidates) > 1:
            raise ValueError(f"several applications registered robot '{code}': give client_id")
        raise ValueError(f"robot '{code}' is not registered (call bizproc.robot.add first)")
    if not spec.get("stage_id"):
        raise ValueError("stage_id is required")
    try:
        entity = entity_by_type_id(portal, spec.get("entity_type_id") or 2)
    except RestError as exc:
        raise ValueError(f"entity_type_id: {exc.description}") from None
    if not available(robot, list(entity.document_type)):
        raise ValueError(f"robot '{code}' is not available for {entity.name} (its FILTER excludes it)")
    row = {
        "entity_type_id": entity.entity_type_id,
        "category_id": None if spec.get("category_id") in (None, "") else int(spec["category_id"]),
        "stage_id": str(spec["stage_id"]),
        "robot_code": code,
        "app_id": robot["app_id"],
        "properties": dict(spec.get("properties") or {}),
    }
    table = portal.table("automation")
    row_id = table.insert(row)
    row["id"] = row_id
    table.save(row_id, row)
    return row


def available(robot: dict[str, Any], document_type: list[str]) -> bool:
    """The robot's ``FILTER``: ``INCLUDE``/``EXCLUDE`` rules of document-type prefixes or editions."""
    rules = robot.get("FILTER") or {}
    if not isinstance(rules, dict):
        return True

    def matches(rule: Any) -> bool:
        if isinstance(rule, str):
            return rule == "b24"  # the emulator plays a cloud portal
        parts = list(rule.values()) if isinstance(rule, dict) else list(rule)
        return [str(p) for p in parts] == document_type[: len(parts)]

    include = rules.get("INCLUDE") or []
    exclude = rules.get("EXCLUDE") or []
    if include and not any(matches(r) for r in _rules(include)):
        return False
    return not any(matches(r) for r in _rules(exclude))


def _rules(value: Any) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, list) else []


def stage_entered(ctx: Ctx, entity: EntityType, row: dict[str, Any]) -> None:
    """Start every robot placed on the stage ``row`` has just entered."""
    portal = ctx.portal
    stage = row.get(entity.stage_field or "STAGE_ID")
    for placement in list(portal.table("automation")):
        if placement["entity_type_id"] != entity.entity_type_id or placement["stage_id"] != stage:
            continue
        if placement["category_id"] is not None and placement["category_id"] != row.get("CATEGORY_ID"):
            continue
        robot = next(
            (
                r
                for r in portal.table("robots")
                if r["CODE"] == placement["robot_code"] and r["app_id"] == placement.get("app_id")
            ),
            None,
        ) or find_robot(portal, placement["robot_code"])
        if robot is None:
            continue  # the robot was deleted; the portal skips it
        start_robot(ctx, entity, row, robot, placement["properties"])


def start_robot(
    ctx: Ctx, entity: EntityType, row: dict[str, Any], robot: dict[str, Any], properties: dict[str, Any]
) -> dict[str, Any]:
    """Record a run and POST the robot payload (docs §10.2) to the robot's handler."""
    portal = ctx.portal
    workflow_id = f"{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"
    activity = "A" + "_".join(f"{secrets.randbelow(10**5):05d}" for _ in range(4))
    event_token = f"{workflow_id}|{activity}|{secrets.token_urlsafe(32)}"
    values = {
        k: _render_property(portal, entity, row, v) for k, v in _with_defaults(robot, properties).items()
    }
    document_id = entity.document_id(int(row["ID"]))
    waiting = waits(robot)
    workflow = {
        "workflow_id": workflow_id,
        "event_token": event_token,
        "robot_code": robot["CODE"],
        "app_id": robot["app_id"],
        "document_id": document_id,
        "properties": values,
        "use_subscription": "Y" if waiting else "N",
        "status": "running" if waiting else "completed",
        "return_values": None,
        "log": [],
        "started": portal.clock.iso(),
        "completed": None if waiting else portal.clock.iso(),
    }
    portal.table("workflows").insert(workflow)
    user_id = int(robot.get("AUTH_USER_ID") or 0) or ctx.caller.user_id
    body = {
        "workflow_id": workflow_id,
        "code": robot["CODE"],
        "document_id": document_id,
        "document_type": list(entity.document_type),
        "event_token": event_token,
        "properties": values,
        "use_subscription": "Y" if waiting else "N",
        "timeout_duration": str(TIMEOUT_DURATION),
        "ts": str(int(portal.clock.time())),
        "auth": oauth.auth_block(portal, int(robot["app_id"]), user_id, with_refresh=True),
    }
    portal.deliver(Delivery(str(robot["HANDLER"]), body, "robot", {"robot": robot["CODE"]}))
    return workflow


def _with_defaults(robot: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    declared = robot.get("PROPERTIES") or {}
    values: dict[str, Any] = {}
    if isinstance(declared, dict):
        for code, spec in declared.items():
            if isinstance(spec, dict) and spec.get("DEFAULT") not in (None, ""):
                values[code] = spec["DEFAULT"]
    values.update(properties)
    return values


def _render_property(portal: Portal, entity: EntityType, row: dict[str, Any], value: Any) -> Any:
    if isinstance(value, list):
        return [_render_property(portal, entity, row, v) for v in value]
    if not isinstance(value, str) or "{=Document:" not in value:
        return value
    from .crm.records import field_map
    from .crm.values import render_legacy

    fields = field_map(portal, entity)

    def replace(match: re.Match[str]) -> str:
        fdef = fields.get(match.group(1))
        if fdef is None:
            return ""
        rendered = render_legacy(fdef, row.get(fdef.name))
        if isinstance(rendered, list):
            return ", ".join(str(v.get("VALUE", v)) if isinstance(v, dict) else str(v) for v in rendered)
        return "" if rendered is None else str(rendered)

    return _DOCUMENT_REF.sub(replace, value)


def _waiting_run(portal: Portal, token: Any) -> tuple[int, dict[str, Any]] | None:
    if not isinstance(token, str) or not token:
        return None
    return portal.table("workflows").lookup("event_token", token)


def complete(portal: Portal, token: Any, return_values: Any, log_message: Any) -> None:
    """``bizproc.event.send``: finish a waiting run once; a used, unknown or no-wait token is refused."""
    found = _waiting_run(portal, token)
    if found is None or found[1]["status"] != "running":
        raise RestError(403, "ACCESS_DENIED", "Access denied!")
    row_id, workflow = found
    workflow["status"] = "completed"
    workflow["return_values"] = dict(return_values) if isinstance(return_values, dict) else {}
    workflow["completed"] = portal.clock.iso()
    if log_message not in (None, ""):
        workflow["log"].append(str(log_message))
    portal.table("workflows").save(row_id, workflow)


def log(portal: Portal, token: Any, message: Any) -> None:
    """``bizproc.activity.log``: a line in a waiting run's log."""
    found = _waiting_run(portal, token)
    if found is None:
        raise RestError(403, "ACCESS_DENIED", "Access denied!")
    if message in (None, "", 0, "0"):
        raise RestError(400, "ERROR_EMPTY_LOG_MESSAGE", "Empty log message!")
    row_id, workflow = found
    if workflow["status"] != "running":
        raise RestError(403, "ACCESS_DENIED", "Access denied!")
    workflow["log"].append(str(message))
    portal.table("workflows").save(row_id, workflow)

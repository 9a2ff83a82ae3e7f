"""Robots at work: a record entering a stage where a robot was placed calls the robot's handler.

Placements come from the admin API (``POST /_emulator/automation``), as a user places a robot in
the automation designer. Each run is a workflow with an ``event_token``; the handler answers
with ``bizproc.event.send``, which completes the run and records its return values. Property
values may reference the document (``{=Document:OPPORTUNITY}``), as in the designer.
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

TIMEOUT_DURATION = 660
_DOCUMENT_REF = re.compile(r"\{=Document:([A-Za-z0-9_]+)\}")


def place(portal: Portal, spec: dict[str, Any]) -> dict[str, Any]:
    """Store a robot placement; the robot must have been registered with bizproc.robot.add."""
    code = str(spec.get("robot_code") or "")
    if portal.table("robots").lookup("CODE", code) is None:
        raise ValueError(f"robot '{code}' is not registered (call bizproc.robot.add first)")
    if not spec.get("stage_id"):
        raise ValueError("stage_id is required")
    row = {
        "entity_type_id": int(spec.get("entity_type_id") or 2),
        "category_id": None if spec.get("category_id") in (None, "") else int(spec["category_id"]),
        "stage_id": str(spec["stage_id"]),
        "robot_code": code,
        "properties": dict(spec.get("properties") or {}),
    }
    table = portal.table("automation")
    row_id = table.insert(row)
    row["id"] = row_id
    table.save(row_id, row)
    return row


def stage_entered(ctx: Ctx, entity: EntityType, row: dict[str, Any]) -> None:
    portal = ctx.portal
    stage = row.get(entity.stage_field or "STAGE_ID")
    for placement in list(portal.table("automation")):
        if placement["entity_type_id"] != entity.entity_type_id or placement["stage_id"] != stage:
            continue
        if placement["category_id"] is not None and placement["category_id"] != row.get("CATEGORY_ID"):
            continue
        found = portal.table("robots").lookup("CODE", placement["robot_code"])
        if found is None:
            continue  # the robot was deleted; the portal skips it
        start_robot(portal, entity, row, found[1], placement["properties"])


def start_robot(
    portal: Portal, entity: EntityType, row: dict[str, Any], robot: dict[str, Any], properties: dict[str, Any]
) -> dict[str, Any]:
    workflow_id = f"{secrets.token_hex(7)}.{secrets.randbelow(10**8):08d}"
    activity = f"A{secrets.randbelow(10**5):05d}_{secrets.randbelow(10**5):05d}_{secrets.randbelow(10**5):05d}"
    event_token = f"{workflow_id}|{activity}|{secrets.token_hex(16)}"
    waits = str(robot.get("USE_SUBSCRIPTION") or "").upper() != "N"
    values = {k: _render_property(portal, entity, row, v) for k, v in properties.items()}
    workflow = {
        "workflow_id": workflow_id,
        "event_token": event_token,
        "robot_code": robot["CODE"],
        "app_id": robot["app_id"],
        "document_id": entity.document_id(int(row["ID"])),
        "properties": values,
        "status": "running" if waits else "completed",
        "return_values": None,
        "log": [],
        "started": portal.clock.iso(),
        "completed": None,
    }
    portal.table("workflows").insert(workflow)
    user_id = int(robot.get("AUTH_USER_ID") or 1)
    body = {
        "workflow_id": workflow_id,
        "code": robot["CODE"],
        "document_id": entity.document_id(int(row["ID"])),
        "document_type": list(entity.document_type),
        "event_token": event_token,
        "properties": values,
        "use_subscription": "Y" if waits else "N",
        "timeout_duration": str(TIMEOUT_DURATION),
        "ts": str(int(portal.clock.time())),
        "auth": oauth.auth_block(portal, int(robot["app_id"]), user_id),
    }
    portal.deliver(Delivery(str(robot["HANDLER"]), body, "robot", {"robot": robot["CODE"]}))
    return workflow


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


def complete(portal: Portal, token: str, return_values: Any, log_message: str | None) -> None:
    """``bizproc.event.send``: finish a waiting run once; a used or unknown token is refused."""
    found = portal.table("workflows").lookup("event_token", token)
    if found is None or found[1]["status"] != "running":
        raise RestError(403, "ACCESS_DENIED", "Access denied!")
    row_id, workflow = found
    workflow["status"] = "completed"
    workflow["return_values"] = return_values if isinstance(return_values, dict) else {}
    workflow["completed"] = portal.clock.iso()
    if log_message:
        workflow["log"].append(str(log_message))
    portal.table("workflows").save(row_id, workflow)


def log(portal: Portal, token: str, message: str) -> None:
    found = portal.table("workflows").lookup("event_token", token)
    if found is None:
        raise RestError(403, "ACCESS_DENIED", "Access denied!")
    if not message:
        raise RestError(400, "ERROR_EMPTY_LOG_MESSAGE", "Empty log message!")
    row_id, workflow = found
    workflow["log"].append(message)
    portal.table("workflows").save(row_id, workflow)

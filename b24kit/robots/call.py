"""A robot call's parsed body -> :class:`RobotCall`, and what of it may be stored (no secrets)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from b24kit.automation import RobotCall

from .form import FormError

# auth[...] keys that are credentials: never stored, logged or shown.
SECRET_AUTH_KEYS = frozenset({"access_token", "refresh_token", "application_token"})


def public_auth(auth: Any) -> dict[str, str]:
    """The ``auth`` block without its tokens (domain, member_id, user_id, endpoints...)."""
    if not isinstance(auth, Mapping):
        return {}
    return {
        str(k): str(v) for k, v in auth.items() if str(k) not in SECRET_AUTH_KEYS and not isinstance(v, dict)
    }


def application_token(body: Mapping[str, Any]) -> str:
    """``auth[application_token]`` as sent ('' when absent)."""
    auth = body.get("auth")
    token = auth.get("application_token") if isinstance(auth, Mapping) else None
    return token if isinstance(token, str) else ""


def _triple(value: Any, name: str) -> tuple[str, str, str]:
    items = list(value.values()) if isinstance(value, Mapping) else value
    if not isinstance(items, list) or len(items) != 3 or not all(isinstance(v, str) for v in items):
        raise FormError(f"{name} must have three parts (module, class, id)")
    return (items[0], items[1], items[2])


def robot_call(body: Mapping[str, Any], code: str | None = None) -> RobotCall:
    """Build the call from a parsed robot payload (docs: bizproc.robot.add, the handler's input).

    ``code`` is the one in the URL (``/robots/{code}``); the body's ``code`` must agree with it.
    Raises :class:`FormError` naming what is missing or malformed.
    """
    token = body.get("event_token")
    if not isinstance(token, str) or not token.strip():
        raise FormError("event_token is missing")
    sent_code = body.get("code")
    if code and isinstance(sent_code, str) and sent_code and sent_code != code:
        raise FormError(f"the body is for robot {sent_code!r}, the URL for {code!r}")
    final = code or (sent_code if isinstance(sent_code, str) else "")
    if not final:
        raise FormError("code is missing")
    properties = body.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise FormError("properties must be a map")
    ts = body.get("ts")
    workflow = body.get("workflow_id")
    return RobotCall(
        code=final,
        workflow_id=workflow if isinstance(workflow, str) else token.split("|", 1)[0],
        event_token=token,
        document_id=_triple(body.get("document_id"), "document_id"),
        document_type=_triple(body.get("document_type"), "document_type"),
        properties=dict(properties),
        use_subscription=str(body.get("use_subscription") or "Y").upper() != "N",
        auth=public_auth(body.get("auth")),
        ts=int(ts) if isinstance(ts, str | int) and str(ts).isdecimal() else 0,
    )


def to_payload(call: RobotCall) -> dict[str, Any]:
    """What the inbox keeps of a call (the auth block is already without tokens)."""
    return {
        "code": call.code,
        "workflow_id": call.workflow_id,
        "event_token": call.event_token,
        "document_id": list(call.document_id),
        "document_type": list(call.document_type),
        "properties": call.properties,
        "use_subscription": "Y" if call.use_subscription else "N",
        "auth": call.auth,
        "ts": call.ts,
    }


def from_payload(payload: Mapping[str, Any]) -> RobotCall:
    """The inverse of :func:`to_payload`."""
    return robot_call(payload, str(payload.get("code") or "") or None)

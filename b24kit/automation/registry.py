"""Registries of robots and event rules: decorators for Python handlers, looked up by code.

```python
@robot("overdue_check", name={"ru": "Проверка просрочки", "en": "Overdue check"},
       properties={"days": PropertySpec("int", name="Days", required=True)},
       returns={"overdue": PropertySpec("bool", name="Overdue")},
       settings=OverdueSettings)
async def overdue_check(call: RobotCall, ctx: RuleContext, settings: OverdueSettings) -> dict[str, Any]:
    ...  # return the robot's return values; raise RobotError("text") to answer with an error
```

A handler is an ``async def``, or a plain ``def`` that the runner calls in a worker thread (so it
may block); event rules alike.

Built-in handlers live in ``b24kit.rules`` and are registered on import; third-party modules
register themselves through the ``b24kit.rules`` entry-point group (loaded by ``load_plugins``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from b24kit.errors import ConfigError

from .context import RuleContext
from .payloads import PortalEvent, RobotCall

PropertyType = Literal["bool", "date", "datetime", "double", "int", "select", "string", "text", "user"]
RobotHandler = Callable[[RobotCall, RuleContext, Any], Awaitable[dict[str, Any]] | dict[str, Any]]
EventHandler = Callable[[PortalEvent, RuleContext, Any], Awaitable[None] | None]
T = TypeVar("T")
RH = TypeVar("RH", bound=RobotHandler)
EH = TypeVar("EH", bound=EventHandler)


@dataclass(frozen=True)
class PropertySpec:
    """A robot property or return value, as ``bizproc.robot.add`` describes it."""

    type: PropertyType = "string"
    name: str | dict[str, str] = ""
    description: str | dict[str, str] = ""
    required: bool = False
    multiple: bool = False
    default: Any = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RobotSpec:
    code: str
    name: str | dict[str, str]
    handler: RobotHandler
    properties: dict[str, PropertySpec] = field(default_factory=dict)
    returns: dict[str, PropertySpec] = field(default_factory=dict)
    settings: type[BaseModel] | None = None
    document_types: tuple[str, ...] = ("DEAL",)
    description: str | dict[str, str] = ""


@dataclass(frozen=True)
class EventRuleSpec:
    name: str
    handler: EventHandler
    events: tuple[str, ...]
    settings: type[BaseModel] | None = None


ROBOTS: dict[str, RobotSpec] = {}
EVENT_RULES: dict[str, EventRuleSpec] = {}


def robot(
    code: str,
    *,
    name: str | dict[str, str],
    properties: dict[str, PropertySpec] | None = None,
    returns: dict[str, PropertySpec] | None = None,
    settings: type[BaseModel] | None = None,
    document_types: tuple[str, ...] = ("DEAL",),
    description: str | dict[str, str] = "",
) -> Callable[[RH], RH]:
    """Register a robot handler (``async def`` or plain ``def``) under ``code``."""

    def register(handler: RH) -> RH:
        ROBOTS[code] = RobotSpec(
            code, name, handler, properties or {}, returns or {}, settings, document_types, description
        )
        return handler

    return register


def event_rule(
    name: str, *, events: tuple[str, ...], settings: type[BaseModel] | None = None
) -> Callable[[EH], EH]:
    """Register an event rule handler (``async def`` or plain ``def``) under ``name`` for
    the given portal events."""

    def register(handler: EH) -> EH:
        EVENT_RULES[name] = EventRuleSpec(name, handler, tuple(e.upper() for e in events), settings)
        return handler

    return register


def load_plugins() -> None:
    """Import the built-in rules and every module of the ``b24kit.rules`` entry-point group."""
    import b24kit.rules  # noqa: F401 - registers the built-in rules

    for entry in entry_points(group="b24kit.rules"):
        entry.load()


def get_robot(code: str) -> RobotSpec:
    return _registered(ROBOTS, code, "robot handler", field="robot")


def get_event_rule(name: str) -> EventRuleSpec:
    return _registered(EVENT_RULES, name, "event rule", field="rule")


def _registered(registry: dict[str, T], name: str, kind: str, *, field: str) -> T:
    """``registry[name]`` once the plugins are loaded; else a :class:`ConfigError` listing the known names."""
    load_plugins()
    try:
        return registry[name]
    except KeyError:
        known = ", ".join(sorted(registry)) or "none"
        raise ConfigError(f"no {kind} named {name!r} (known: {known})", field=field) from None

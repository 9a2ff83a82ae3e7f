"""The method table: ``@method("crm.deal.add", scope="crm")`` registers a handler.

A handler is a plain function ``(ctx, params) -> result``. It returns the ``result`` value of the
envelope, or a :class:`Listing` for list methods (which adds ``total`` and ``next``), or raises
:class:`~b24kit.emulator.errors.RestError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import RestError, app_context_required

if TYPE_CHECKING:
    from .portal import Portal


class Params(dict[str, Any]):
    """Top-level parameters with case-insensitive names (``FIELDS``/``fields``, ``ID``/``id``)."""

    def __init__(self, raw: Mapping[str, Any] | None = None) -> None:
        super().__init__()
        for key, value in (raw or {}).items():
            self[str(key).lower()] = value

    def first(self, *names: str, default: Any = None) -> Any:
        for name in names:
            value = self.get(name.lower())
            if value is not None:
                return value
        return default

    def mapping(self, name: str) -> dict[str, Any]:
        """A parameter that must be an object; a form-encoded empty object is simply absent."""
        value = self.get(name.lower())
        if value is None or value == "" or value == []:
            return {}
        if isinstance(value, list):
            return {str(i): v for i, v in enumerate(value)}
        if not isinstance(value, Mapping):
            raise RestError(400, "", f"Parameter '{name}' must be array.")
        return dict(value)

    def items_list(self, name: str) -> list[Any]:
        """A parameter that is a list (``select[]=ID``), an object keyed by index, or one value."""
        value = self.get(name.lower())
        if value is None or value == "":
            return []
        if isinstance(value, Mapping):
            return list(value.values())
        if isinstance(value, list):
            return value
        return [value]


@dataclass(frozen=True)
class Caller:
    """Who is calling: a webhook's user, or an application acting for a user."""

    kind: str  # "webhook" | "app"
    user_id: int
    app_id: int | None = None
    auth_connector: str | None = None

    @property
    def is_app(self) -> bool:
        return self.kind == "app"


@dataclass
class Ctx:
    """What a handler may use: the portal, the caller and the method name."""

    portal: Portal
    caller: Caller
    method: str

    def require_app(self) -> None:
        if not self.caller.is_app:
            raise app_context_required()

    def require_admin(self) -> None:
        if not self.portal.is_admin(self.caller.user_id):
            raise RestError(403, "ACCESS_DENIED", "Access denied!")


@dataclass
class Listing:
    """The result of a list method with its ``total`` and ``next`` envelope fields."""

    result: Any
    total: int
    next: int | None = None


Handler = Callable[[Ctx, Params], Any]


@dataclass(frozen=True)
class MethodSpec:
    name: str
    handler: Handler
    scope: str
    app_only: bool = False
    batchable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


METHODS: dict[str, MethodSpec] = {}


def method(
    name: str, *, scope: str, app_only: bool = False, batchable: bool = True
) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the REST method ``name`` (stored lower-case)."""

    def register(handler: Handler) -> Handler:
        add_method(name, handler, scope=scope, app_only=app_only, batchable=batchable)
        return handler

    return register


def add_method(
    name: str, handler: Handler, *, scope: str, app_only: bool = False, batchable: bool = True
) -> None:
    METHODS[name.lower()] = MethodSpec(name, handler, scope, app_only, batchable)


def scopes() -> list[str]:
    return sorted({spec.scope for spec in METHODS.values()})

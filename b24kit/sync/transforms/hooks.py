"""The ``call`` transform: a field's value computed by a Python function (a small hook, no expressions)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .base import Transform, TransformContext

_HOOK = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"


def load_hook(reference: str) -> Callable[..., Any]:
    """The function named ``package.module:function``; ``ValueError`` says why it cannot be loaded."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"{module_name!r} has no function {attribute!r}")
    return function  # type: ignore[no-any-return]


class CallOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    function: str = Field(
        pattern=_HOOK, description="package.module:function, called with the value (a tuple for several)."
    )

    @field_validator("function")
    @classmethod
    def _importable(cls, value: str) -> str:
        load_hook(value)
        return value


class Call(Transform):
    """Calls ``function(value)``; with several ``from`` fields the value is a tuple of them.

    The function returns the value to write (``None`` for empty) or raises ``ValueError`` with a
    message for the person who maintains the data; the record then fails and the others go on.
    """

    name: ClassVar[str] = "call"
    Options: ClassVar[type[BaseModel]] = CallOptions

    def __init__(self, options: BaseModel) -> None:
        super().__init__(options)
        assert isinstance(options, CallOptions)
        self.reference = options.function
        self.function = load_hook(options.function)

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        try:
            return self.function(value)
        except ValueError:
            raise
        except Exception as exc:
            raise ValueError(f"hook {self.reference} failed: {type(exc).__name__}: {exc}") from None

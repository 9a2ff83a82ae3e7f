"""The transform interface, its context, and the registry over the ``b24kit.transforms`` entry points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from b24kit.errors import ConfigError
from b24kit.sync.records import Record
from b24kit.sync.suggest import did_you_mean
from b24kit.sync.values import same

GROUP = "b24kit.transforms"


class NoOptions(BaseModel):
    """Options of a transform that takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class TransformContext(Protocol):
    """What a transform may ask of the side it writes to; every answer is cached for the run."""

    @property
    def field(self) -> str:
        """The field being written (a target field going forward, a source field going back)."""
        ...

    def enumeration(self, field: str) -> Mapping[str, str]:
        """The field's enumeration on the side being written: item id -> label (empty if none)."""
        ...

    def prefetch(self, entity: str, field: str, values: Sequence[Any]) -> None:
        """Look many values up at once so that later :meth:`lookup` calls hit the cache."""
        ...

    def lookup(self, entity: str, field: str, value: Any) -> list[Record]:
        """Records of ``entity`` whose ``field`` equals ``value`` (cached, batched with prefetch)."""
        ...

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        """Records of ``entity`` by id (cached)."""
        ...


class Transform:
    """A named, pure conversion of one field value, optionally reversible for two-way sync.

    Subclasses set ``name``, ``Options`` (a pydantic model the profile's options must satisfy) and
    ``reversible``, and implement :meth:`forward` (and :meth:`reverse`). They raise ``ValueError``
    with a message for the person who maintains the data ("'31.02.2024' is not a date"); the
    engine then fails that record and goes on.
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = NoOptions
    reversible: ClassVar[bool] = False

    def __init__(self, options: BaseModel) -> None:
        self.options = options

    def prefetch(self, values: Sequence[Any], ctx: TransformContext) -> None:
        """Called once per batch with the values about to be transformed (batch lookups here)."""
        return None

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        """Source value -> target value."""
        raise NotImplementedError

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        """Target value -> source value (two-way fields)."""
        raise ValueError(f"transform {self.name} cannot be reversed")

    def same(self, desired: Any, current: Any) -> bool:
        """Whether ``current`` already holds ``desired`` (so nothing needs writing)."""
        return same(desired, current)

    def patch(self, desired: Any, current: Any) -> Any:
        """What to send so the record ends up holding ``desired`` (multi-fields send only new items)."""
        return desired


def known_transforms() -> list[str]:
    """The names registered under the ``b24kit.transforms`` entry points."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


@cache
def transform_class(name: str) -> type[Transform]:
    """Load a transform class by name; an unknown name raises :class:`ConfigError` with a suggestion."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise ConfigError(f"unknown transform {name!r}", suggestion=did_you_mean(name, known_transforms()))
    loaded = found[0].load()
    if not (isinstance(loaded, type) and issubclass(loaded, Transform)):
        raise ConfigError(f"entry point {GROUP}:{name} is {loaded!r}, not a Transform subclass")
    return loaded


def build_transform(name: str, options: Mapping[str, Any]) -> Transform:
    """A transform instance with validated options (``pydantic.ValidationError`` on bad options)."""
    cls = transform_class(name)
    return cls(cls.Options.model_validate(dict(options)))

"""The connector interface every system implements, and loading connectors from entry points."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, TypeAlias, runtime_checkable

from pydantic import BaseModel

from b24kit.errors import ConfigError

from .records import Change, Record, Since, WriteResult
from .suggest import did_you_mean

GROUP = "b24kit.connectors"
Capability: TypeAlias = Literal["read", "incremental", "ordered", "fetch", "lookup", "write", "describe"]
"""What a connector can do:

* ``read``: stream an entity's records; ``incremental``: honour ``since``; ``ordered``: read
  returns records in ascending modified time (so the cursor may advance after every batch);
* ``fetch``: records by id; ``lookup``: records by field values; ``write``: create/update/delete;
* ``describe``: list an entity's fields (names, types, enumerations) for validation.
"""


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of an entity as a connector describes it."""

    name: str
    type: str = "string"
    title: str = ""
    required: bool = False
    read_only: bool = False
    multiple: bool = False
    items: Mapping[str, str] = field(default_factory=dict)
    """Enumeration items: id -> label (empty for fields that are not enumerations)."""


@dataclass(frozen=True, slots=True)
class ConnectorContext:
    """What the composition root passes to every connector besides its options."""

    base_dir: Path = field(default_factory=Path)
    """Relative paths in options resolve against this folder (the profile's)."""
    portal: Any = None
    """The portal chosen with ``--portal``/``--config`` (a ``b24kit.client.PortalConfig``), for portal
    connectors; the sync core never looks inside it."""
    clients: Mapping[str, Any] = field(default_factory=dict)
    """Ready-made clients by name (e.g. ``"bitrix"``: a ``b24kit.client.Client``), so a run shares them."""


@runtime_checkable
class Connector(Protocol):
    """A system the engine reads from and writes to. Construct with ``cls(options, context)``.

    ``options`` is an instance of the class's ``Options`` model, validated from the profile.
    Methods a connector lacks the capability for raise ``NotImplementedError``. Every method
    takes the entity name from the profile (``contact``, a sheet name, an issue type). Failures of
    the system raise :class:`b24kit.errors.ConnectorError` (or the client's errors); problems with
    single records go into :attr:`Record.problem` and :attr:`WriteResult.error` instead.
    """

    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]]
    batch_size: ClassVar[int]
    """Changes per ``write`` call; also ids per ``fetch`` and values per ``lookup`` call, unless the
    class sets the optional ``read_size``: a connector that packs many reads into one request
    (bitrix: 50 commands a ``batch``) takes more, and the engine then pairs that many records at
    once (see :func:`read_size`); writes stay ``batch_size`` a call."""

    def describe(self, entity: str) -> Mapping[str, FieldInfo]:
        """The entity's fields by name."""
        ...

    def read(self, entity: str, *, since: Since | None = None) -> Iterator[Record]:
        """Stream the entity's records (those changed at or after ``since`` when given)."""
        ...

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        """The records with these ids (at most ``read_size``); ids that do not exist are left out."""
        ...

    def lookup(self, entity: str, field: str, values: Sequence[Any]) -> list[Record]:
        """Records whose ``field`` holds any of ``values`` (at most ``read_size`` values).

        Values come normalised (lower-case e-mail, E.164 phone); the connector searches so that
        the system's own formatting still matches, and may return extra candidates: the engine
        checks every candidate again.
        """
        ...

    def write(self, entity: str, changes: Sequence[Change]) -> list[WriteResult]:
        """Apply at most ``batch_size`` changes together; one result per change, same keys."""
        ...

    def close(self) -> None:
        """Release files, sessions and sockets."""
        ...


class ConnectorBase:
    """Defaults for connector classes: no capabilities, 50 per batch, nothing to close."""

    name: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    batch_size: ClassVar[int] = 50

    def describe(self, entity: str) -> Mapping[str, FieldInfo]:
        raise NotImplementedError(f"{self.name} cannot describe entities")

    def read(self, entity: str, *, since: Since | None = None) -> Iterator[Record]:
        raise NotImplementedError(f"{self.name} cannot read")

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        raise NotImplementedError(f"{self.name} cannot fetch records by id")

    def lookup(self, entity: str, field: str, values: Sequence[Any]) -> list[Record]:
        raise NotImplementedError(f"{self.name} cannot look records up")

    def write(self, entity: str, changes: Sequence[Change]) -> list[WriteResult]:
        raise NotImplementedError(f"{self.name} cannot write")

    def close(self) -> None:
        return None

    def __enter__(self) -> ConnectorBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_size(connector: Connector) -> int:
    """Ids per ``fetch`` and values per ``lookup`` call: the optional ``read_size``, else ``batch_size``."""
    size = getattr(connector, "read_size", None)
    return size if isinstance(size, int) and size >= 1 else connector.batch_size


def known_connectors() -> list[str]:
    """Names registered under the ``b24kit.connectors`` entry points."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


@cache
def connector_class(name: str) -> type[Connector]:
    """Load a connector class by name (lazily, cached); an unknown name lists the known ones."""
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise ConfigError(f"unknown connector {name!r}", suggestion=did_you_mean(name, known_connectors()))
    try:
        loaded = found[0].load()
    except ImportError as exc:
        raise ConfigError(
            f"connector {name!r} is registered but cannot be imported: {exc}",
            suggestion="install the extra it needs, or wait for it to be built",
        ) from None
    missing = [
        a for a in ("Options", "capabilities", "batch_size", "read", "write") if not hasattr(loaded, a)
    ]
    if not isinstance(loaded, type) or missing:
        raise ConfigError(
            f"entry point {GROUP}:{name} is not a connector class (missing {', '.join(missing)})"
        )
    return loaded


def open_connector(name: str, options: Mapping[str, Any], context: ConnectorContext) -> Connector:
    """Validate ``options`` with the connector's ``Options`` model and construct it."""
    cls = connector_class(name)
    instance: Connector = cls(cls.Options.model_validate(dict(options)), context)  # type: ignore[call-arg]
    return instance

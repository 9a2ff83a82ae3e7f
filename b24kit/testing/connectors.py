"""The connector contract: one line gives any connector (a third party's too) the interface's tests.

Usage, in a test module::

    from b24kit.testing.connectors import connector_contract
    TestMine = connector_contract(MyConnector, options={"url": ...}, entity="things",
                                  sample={"NAME": "Ann", "EMAIL": "ann@example.com"})

``options`` may be a function whose parameters name pytest fixtures (``tmp_path`` for a file-based
connector's fixture file, ``b24_webhook_url`` for the running emulator). Writable connectors get
``sample`` records created through ``write``; read-only ones must find at least one record in what
``options`` points at. Tests for capabilities a connector
does not declare are skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from b24kit.sync.connector import Connector, ConnectorContext, FieldInfo
from b24kit.sync.records import Change, Record, Since, WriteResult
from b24kit.sync.values import get_path, is_empty

KNOWN_CAPABILITIES = {"read", "incremental", "ordered", "fetch", "lookup", "write", "describe"}
Options = Mapping[str, Any] | Callable[..., Mapping[str, Any]]


def connector_contract(
    cls: type[Any],
    *,
    options: Options,
    entity: str,
    sample: Mapping[str, Any] | None = None,
    update: Mapping[str, Any] | None = None,
    lookup_field: str | None = None,
) -> type:
    """A pytest class of contract tests for ``cls``.

    Args:
        options: the connector's options, or a function of pytest fixtures returning them.
        entity: the entity every test reads and writes.
        sample: fields of a record the tests create (writable connectors).
        update: fields an update changes (default: the first sample field with a new text value).
        lookup_field: a field to look records up by (default: the first field of ``sample``).
    """
    fields = dict(sample or {})
    changes = dict(update or ({next(iter(fields)): "changed by the contract"} if fields else {}))
    key_field = lookup_field or (next(iter(fields)) if fields else None)

    class ConnectorContract:
        @pytest.fixture
        def connector(self, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Connector]:
            if callable(options):
                names = inspect.signature(options).parameters
                given = options(**{name: request.getfixturevalue(name) for name in names})
            else:
                given = options
            instance = cls(cls.Options.model_validate(dict(given)), ConnectorContext(base_dir=tmp_path))
            yield instance
            instance.close()

        def _need(self, connector: Connector, *caps: str) -> None:
            missing = [c for c in caps if c not in connector.capabilities]
            if missing:
                pytest.skip(f"{cls.__name__} does not declare {', '.join(missing)}")

        def _create(self, connector: Connector, count: int = 1) -> list[str]:
            self._need(connector, "write")
            made = connector.write(entity, [Change(f"c{i}", "create", None, fields) for i in range(count)])
            assert [r.key for r in made] == [f"c{i}" for i in range(count)]
            assert all(r.ok and r.id for r in made), [r.error for r in made]
            return [str(r.id) for r in made]

        def _records(self, connector: Connector) -> list[Record]:
            self._need(connector, "read")
            if "write" in connector.capabilities:
                self._create(connector, 2)
            records = list(connector.read(entity))
            assert records, "the contract needs at least one record to read"
            return records

        def test_declares_the_interface(self) -> None:
            """The class names itself, validates options with a pydantic model and declares capabilities."""
            assert isinstance(cls.name, str) and cls.name
            assert isinstance(cls.Options, type) and issubclass(cls.Options, BaseModel)
            assert set(cls.capabilities) <= KNOWN_CAPABILITIES
            assert 1 <= cls.batch_size <= 50
            if "incremental" in cls.capabilities or "ordered" in cls.capabilities:
                assert "read" in cls.capabilities

        def test_unknown_options_are_rejected(self) -> None:
            """A misspelt option is an error, not silently ignored."""
            with pytest.raises(ValidationError):
                cls.Options.model_validate({"no_such_option_xyz": 1})

        def test_read_yields_records_with_unique_ids(self, connector: Connector) -> None:
            """Read streams Record values; ids are text or None, and unique."""
            records = self._records(connector)
            assert all(isinstance(r, Record) for r in records)
            ids = [r.id for r in records if r.id is not None]
            assert all(isinstance(i, str) for i in ids)
            assert len(ids) == len(set(ids))
            assert all(isinstance(r.fields, Mapping) for r in records)
            assert all(r.problem is None or isinstance(r.problem, str) for r in records)

        def test_read_since_filters_by_modification(self, connector: Connector) -> None:
            """Incremental reads return what changed at or after ``since``, and nothing from the future."""
            self._need(connector, "incremental")
            everything = self._records(connector)
            stamped = [r for r in everything if r.modified is not None]
            assert stamped, "incremental connectors stamp records with modified"
            oldest = min(r.modified for r in stamped if r.modified is not None)
            again = list(connector.read(entity, since=Since("modified", oldest)))
            assert {r.id for r in again} >= {r.id for r in stamped}
            future = oldest.replace(year=oldest.year + 50)
            assert list(connector.read(entity, since=Since("modified", future))) == []

        def test_fetch_returns_existing_and_omits_unknown(self, connector: Connector) -> None:
            """Fetch by id gives the records that exist and leaves unknown ids out."""
            self._need(connector, "fetch")
            ids = [r.id for r in self._records(connector) if r.id][: cls.batch_size - 1]
            found = connector.fetch(entity, [*ids, "no-such-id-0"])
            assert sorted(r.id or "" for r in found) == sorted(ids)

        def test_lookup_finds_a_record_by_its_value(self, connector: Connector) -> None:
            """Looking up a field value returns (at least) the records holding it."""
            self._need(connector, "lookup")
            records = self._records(connector)
            field = key_field or next(iter(records[0].fields))
            holder = next(r for r in records if not is_empty(get_path(r.fields, field)))
            found = connector.lookup(entity, field, [get_path(holder.fields, field)])
            assert holder.id in {r.id for r in found}

        def test_write_creates_updates_and_deletes(self, connector: Connector) -> None:
            """Create returns ids, update changes only the given fields, delete removes the record."""
            self._need(connector, "write", "fetch")
            first, second = self._create(connector, 2)
            result = connector.write(
                entity, [Change("u", "update", first, changes), Change("d", "delete", second)]
            )
            assert [r.key for r in result] == ["u", "d"] and all(r.ok for r in result)
            (updated,) = connector.fetch(entity, [first])
            for name, value in changes.items():
                assert get_path(updated.fields, name) == value
            assert connector.fetch(entity, [second]) == []

        def test_one_bad_change_does_not_stop_the_batch(self, connector: Connector) -> None:
            """An update of a missing record fails alone; the other changes of the batch apply."""
            self._need(connector, "write", "fetch")
            (good,) = self._create(connector)
            result = connector.write(
                entity,
                [Change("bad", "update", "no-such-id-0", changes), Change("good", "update", good, changes)],
            )
            by_key: dict[str, WriteResult] = {r.key: r for r in result}
            assert not by_key["bad"].ok and isinstance(by_key["bad"].error, str)
            assert by_key["good"].ok

        def test_a_full_batch_is_one_write(self, connector: Connector) -> None:
            """``batch_size`` changes go through one write call, one result per change."""
            self._need(connector, "write")
            made = connector.write(
                entity, [Change(str(i), "create", None, fields) for i in range(cls.batch_size)]
            )
            assert [r.key for r in made] == [str(i) for i in range(cls.batch_size)]
            assert len({r.id for r in made}) == cls.batch_size

        def test_describe_lists_fields(self, connector: Connector) -> None:
            """Describe returns FieldInfo by field name."""
            self._need(connector, "describe")
            if "write" in connector.capabilities:
                self._create(connector)
            described = connector.describe(entity)
            assert all(
                isinstance(k, str) and isinstance(v, FieldInfo) and v.name == k for k, v in described.items()
            )

        def test_close_twice_is_harmless(self, connector: Connector) -> None:
            """Closing is idempotent."""
            connector.close()
            connector.close()

    ConnectorContract.__name__ = ConnectorContract.__qualname__ = f"Test{cls.__name__}Contract"
    return ConnectorContract

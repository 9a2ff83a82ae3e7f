"""BitrixConnector: CRM records, smart-process items and users of a portal, 50 to a batch request."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from b24kit.client import BatchResult, Client, Command, PortalConfig
from b24kit.errors import ConfigError, MethodNotFound
from b24kit.sync.connector import Capability, ConnectorBase, ConnectorContext, FieldInfo
from b24kit.sync.records import Change, Record, Since, WriteResult
from b24kit.sync.values import parse_datetime

from .bitrix_kinds import MULTIFIELDS, Kind, kind_of

FINDBYCOMM_MAX = 20  # crm.duplicate.findbycomm takes at most 20 values (docs)
PAGE = 50  # rows of one list command


class BitrixOptions(BaseModel):
    """Options of the ``bitrix`` connector; the portal comes from ``webhook`` or ``--portal``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook: str | None = Field(None, description="A webhook URL, usually ${B24_WEBHOOK}; default: --portal.")
    category_id: int | None = Field(None, ge=0, description="Deals and smart processes: the pipeline.")
    filter: dict[str, Any] = Field(default_factory=dict, description="A native filter added to every read.")
    select: list[str] | None = Field(
        None, description="Fields to read (default: all, user fields, multi-fields)."
    )


class BitrixConnector(ConnectorBase):
    """CRM contacts, companies, deals, leads, smart-process items (``item:<entityTypeId>``) and users.

    Reads stream with the client's ID window; fetches and lookups take up to ``read_size`` ids
    or values a call and send them 50 commands to a ``batch`` request (a fetch: 50 ids a list
    command); writes go 50 commands to a request. E-mail and phone lookups on leads, contacts and
    companies use ``crm.duplicate.findbycomm`` (20 values a command; the portal compares phones
    by their digits, so it matches however the number was typed), falling back to a list filter
    where a portal lacks that method.
    """

    name: ClassVar[str] = "bitrix"
    Options: ClassVar[type[BaseModel]] = BitrixOptions
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {"read", "incremental", "fetch", "lookup", "write", "describe"}
    )
    batch_size: ClassVar[int] = 50
    read_size: ClassVar[int] = 5000  # a fetch: 100 list commands of 50 ids, two batch requests

    def __init__(self, options: BitrixOptions, context: ConnectorContext | None = None) -> None:
        self.options = options
        self._own = False
        self.client = self._client(options, context or ConnectorContext())
        self._findbycomm = True

    @staticmethod
    def _shared_key(options: BitrixOptions) -> str:
        return f"bitrix:{options.webhook or 'portal'}"

    def _client(self, options: BitrixOptions, context: ConnectorContext) -> Client:
        shared = context.clients.get(self._shared_key(options))
        if isinstance(shared, Client):
            return shared
        if options.webhook:
            config = PortalConfig.from_url(options.webhook)
        elif isinstance(context.portal, PortalConfig):
            config = context.portal
        else:
            raise ConfigError(
                "no portal to talk to",
                field="options.webhook",
                suggestion="pass --portal NAME|URL, or set options.webhook: ${B24_WEBHOOK}",
            )
        self._own = True
        client = Client(config)
        if isinstance(context.clients, dict):
            context.clients[self._shared_key(options)] = client
        return client

    def close(self) -> None:
        if self._own:
            self._own = False
            self.client.close()

    # reading ----------------------------------------------------------------------------------

    def _filter(self, kind: Kind, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        result = dict(self.options.filter)
        if self.options.category_id is not None and kind.category_field:
            result.setdefault(kind.category_field, self.options.category_id)
        result.update(extra or {})
        return result

    def _record(self, kind: Kind, row: Mapping[str, Any]) -> Record:
        record_id = row.get(kind.id_field)
        modified = parse_datetime(row.get(kind.modified)) if kind.modified else None
        return Record(
            id=None if record_id is None else str(record_id),
            fields=dict(row),
            modified=modified,
            ref=f"{kind.name} {record_id}",
        )

    def read(self, entity: str, *, since: Since | None = None) -> Iterator[Record]:
        kind = kind_of(entity)
        extra: dict[str, Any] = {}
        if since is not None:
            if kind.modified is None:
                raise ConfigError(f"{kind.name} records cannot be read incrementally", field="cursor")
            extra[f">={kind.modified}"] = since.value.isoformat()
        params = kind.list_params(self._filter(kind, extra), self.options.select)
        for row in self.client.iter_list(kind.method("list"), params):
            yield self._record(kind, row)

    def fetch(self, entity: str, ids: Sequence[str]) -> list[Record]:
        if not ids:
            return []
        kind = kind_of(entity)
        key = "@id" if kind.item else kind.id_field
        wanted = [int(i) if str(i).isdecimal() else i for i in dict.fromkeys(ids)]
        parts = [wanted[i : i + PAGE] for i in range(0, len(wanted), PAGE)]
        method, select = kind.method("list"), self.options.select
        if len(parts) == 1:
            result = self.client.call(method, kind.list_params({key: parts[0]}, select))
            return [self._record(kind, row) for row in kind.rows(result)]
        commands = {f"f{n}": Command(method, kind.list_params({key: p}, select)) for n, p in enumerate(parts)}
        found = self.client.batch(commands)
        for error in found.errors.values():
            raise error
        return [self._record(kind, row) for rows in found.results.values() for row in kind.rows(rows)]

    def lookup(self, entity: str, field: str, values: Sequence[Any]) -> list[Record]:
        kind = kind_of(entity)
        if not values:
            return []
        if field.upper() == kind.id_field.upper():
            return self.fetch(entity, [str(v) for v in values])
        if field.upper() in ("EMAIL", "PHONE") and kind.duplicate_type and self._findbycomm:
            try:
                return self._by_comm(kind, field.upper(), values)
            except MethodNotFound:
                self._findbycomm = False
        return self._by_filter(kind, field, values)

    def _by_comm(self, kind: Kind, field: str, values: Sequence[Any]) -> list[Record]:
        texts = [str(v) for v in values]
        commands = {
            f"d{i}": Command(
                "crm.duplicate.findbycomm",
                {"entity_type": kind.duplicate_type, "type": field, "values": texts[i : i + FINDBYCOMM_MAX]},
                idempotent=True,  # a read
            )
            for i in range(0, len(texts), FINDBYCOMM_MAX)
        }
        found = self.client.batch(commands)
        for error in found.errors.values():
            raise error
        ids = {
            str(i)
            for r in found.results.values()
            if isinstance(r, Mapping)
            for i in r.get(kind.duplicate_type or "", [])
        }
        return self.fetch(kind.name, sorted(ids, key=lambda i: (len(i), i))) if ids else []

    def _by_filter(self, kind: Kind, field: str, values: Sequence[Any]) -> list[Record]:
        """One list command per value in a single batch; text compares without case (``=%`` LIKE)."""
        commands = {}
        for i, value in enumerate(values):
            key = f"=%{field}" if isinstance(value, str) and not value.isdecimal() else field
            commands[f"v{i}"] = Command(
                kind.method("list"), kind.list_params(self._filter(kind, {key: value}), self.options.select)
            )
        result: BatchResult = self.client.batch(commands)
        for error in result.errors.values():
            raise error
        seen: dict[str, Record] = {}
        for rows in result.results.values():
            for row in kind.rows(rows):
                record = self._record(kind, row)
                seen.setdefault(record.id or "", record)
        return list(seen.values())

    # writing ----------------------------------------------------------------------------------

    def write(self, entity: str, changes: Sequence[Change]) -> list[WriteResult]:
        kind = kind_of(entity)
        commands: dict[str, Command] = {}
        refused: list[WriteResult] = []
        for change in changes:
            command = self._command(kind, change)
            if isinstance(command, WriteResult):
                refused.append(command)
            else:
                commands[change.key] = command
        result = self.client.batch(commands) if commands else BatchResult()
        answers = []
        for change in changes:
            if change.key in result.errors:
                answers.append(WriteResult(change.key, change.id, _message(result.errors[change.key])))
            elif change.key in result.results:
                new = kind.new_id(result.results[change.key]) if change.op == "create" else change.id
                answers.append(WriteResult(change.key, new))
        return [*answers, *refused]

    def _command(self, kind: Kind, change: Change) -> Command | WriteResult:
        fields = dict(change.fields)
        if change.op == "create":
            if self.options.category_id is not None and kind.category_field:
                fields.setdefault(kind.category_field, self.options.category_id)
            return Command(kind.method("add"), kind.add_params(fields))
        if change.id is None:
            return WriteResult(change.key, None, f"{change.op} needs a record id")
        if change.op == "update":
            return Command(kind.method("update"), kind.update_params(change.id, fields), idempotent=True)
        if kind.user:
            return WriteResult(
                change.key,
                change.id,
                "portal users cannot be deleted; use deletes.mode: deactivate with {ACTIVE: N}",
            )
        return Command(kind.method("delete"), {**kind.base(), "id": change.id})

    # describing -------------------------------------------------------------------------------

    def describe(self, entity: str) -> Mapping[str, FieldInfo]:
        kind = kind_of(entity)
        raw = self.client.call(kind.method("fields"), kind.base())
        if kind.item and isinstance(raw, Mapping):
            raw = raw.get("fields", raw)
        fields = {name: _field_info(name, spec) for name, spec in dict(raw or {}).items()}
        statuses = {
            name: spec.get("statusType")
            for name, spec in dict(raw or {}).items()
            if isinstance(spec, Mapping) and spec.get("statusType")
        }
        if statuses:
            items = self._statuses(kind, statuses)
            for name, values in items.items():
                fields[name] = _with_items(fields[name], values)
        return fields

    def _statuses(self, kind: Kind, types: Mapping[str, Any]) -> dict[str, dict[str, str]]:
        category = self.options.category_id
        commands = {}
        for name, status_type in types.items():
            entity_id = str(status_type)
            if entity_id == "DEAL_STAGE" and category:
                entity_id = f"DEAL_STAGE_{category}"
            commands[name] = Command("crm.status.list", {"filter": {"ENTITY_ID": entity_id}})
        result = self.client.batch(commands)
        return {
            name: {str(s["STATUS_ID"]): str(s.get("NAME", "")) for s in rows or []}
            for name, rows in result.results.items()
        }


def _field_info(name: str, spec: Any) -> FieldInfo:
    if not isinstance(spec, Mapping):  # user.fields answers {FIELD: title}
        return FieldInfo(name=name, title=str(spec))
    items = {str(i.get("ID")): str(i.get("VALUE")) for i in spec.get("items") or [] if isinstance(i, Mapping)}
    title = spec.get("listLabel") or spec.get("formLabel") or spec.get("title") or name
    return FieldInfo(
        name=name,
        type=str(spec.get("type", "string")),
        title=str(title),
        required=bool(spec.get("isRequired")),
        read_only=bool(spec.get("isReadOnly")),
        multiple=bool(spec.get("isMultiple")) or name in MULTIFIELDS,
        items=items,
    )


def _with_items(info: FieldInfo, items: Mapping[str, str]) -> FieldInfo:
    return FieldInfo(
        info.name, info.type, info.title, info.required, info.read_only, info.multiple, dict(items)
    )


def _message(error: Exception) -> str:
    description = getattr(error, "description", None)
    code = getattr(error, "code", None)
    if description:
        return f"{code}: {description}" if code else str(description)
    return str(error)

"""Built-in transforms that consult the side they write to: users by e-mail, enumerations, multi-fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from b24kit.sync import normalise
from b24kit.sync.values import is_empty

from .base import Transform, TransformContext
from .scalar import split_values


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserOptions(_Options):
    entity: str = Field("user", description="The entity that holds people on the side being written.")
    field: str = Field("EMAIL", description="The e-mail field of that entity.")
    returns: str | None = Field(None, description="The field to write; default the person's id.")
    missing: Literal["fail", "empty"] = Field(
        "fail", description="No such person: fail the record or write empty."
    )


class UserByEmail(Transform):
    """A person's id (``ASSIGNED_BY_ID``) found by e-mail on the side written; reverses to the e-mail."""

    name: ClassVar[str] = "user_by_email"
    Options: ClassVar[type[BaseModel]] = UserOptions
    reversible: ClassVar[bool] = True

    @property
    def opts(self) -> UserOptions:
        assert isinstance(self.options, UserOptions)
        return self.options

    def prefetch(self, values: Sequence[Any], ctx: TransformContext) -> None:
        emails = [e for e in (normalise.email(v) for v in values if not is_empty(v)) if e]
        if emails:
            ctx.prefetch(self.opts.entity, self.opts.field, emails)

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        email = normalise.email(value)
        if email is None:
            raise ValueError(f"{str(value).strip()!r} is not an e-mail address")
        found = [
            r
            for r in ctx.lookup(self.opts.entity, self.opts.field, email)
            if email in normalise.keys_of(r.fields.get(self.opts.field), "email")
        ]
        if not found:
            if self.opts.missing == "empty":
                return None
            raise ValueError(f"no {self.opts.entity} with e-mail {email}")
        best = min(found, key=lambda r: _id_order(r.id))
        return best.id if self.opts.returns is None else best.fields.get(self.opts.returns)

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        if is_empty(value):
            return None
        for record in ctx.fetch(self.opts.entity, [str(value)]):
            emails = normalise.scalar_values(record.fields.get(self.opts.field))
            return emails[0] if emails else None
        if self.opts.missing == "empty":
            return None
        raise ValueError(f"no {self.opts.entity} with id {value}")


def _id_order(record_id: str | None) -> tuple[int, str]:
    text = record_id or ""
    return (int(text), "") if text.isdecimal() else (1 << 62, text)


class EnumOptions(_Options):
    field: str | None = Field(None, description="The enumeration field; default the field being written.")
    missing: Literal["fail", "empty", "keep"] = Field(
        "fail", description="A label that is not in the list: fail the record, write empty, or keep the text."
    )


class EnumByLabel(Transform):
    """Enumeration item ids from labels (case-insensitive), item by item for lists; reverses to labels."""

    name: ClassVar[str] = "enum_by_label"
    Options: ClassVar[type[BaseModel]] = EnumOptions
    reversible: ClassVar[bool] = True

    @property
    def opts(self) -> EnumOptions:
        assert isinstance(self.options, EnumOptions)
        return self.options

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        field = self.opts.field or ctx.field
        items = ctx.enumeration(field)
        if isinstance(value, list | tuple):
            return [v for v in (self._one(x, field, items) for x in value) if v is not None]
        return self._one(value, field, items)

    def _one(self, value: Any, field: str, items: dict[str, str] | Any) -> Any:
        if is_empty(value):
            return None
        text = str(value).strip()
        by_label = {" ".join(label.split()).casefold(): item_id for item_id, label in items.items()}
        found = by_label.get(" ".join(text.split()).casefold())
        if found is not None:
            return found
        if text in items:
            return text
        if self.opts.missing == "empty":
            return None
        if self.opts.missing == "keep":
            return text
        labels = ", ".join(sorted(items.values())) or "no values"
        raise ValueError(f"{text!r} is not a value of {field} (it has: {labels})")

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        field = self.opts.field or ctx.field
        items = ctx.enumeration(field)
        if isinstance(value, list | tuple):
            return [items.get(str(v), str(v)) for v in value]
        return None if is_empty(value) else items.get(str(value), str(value))

    def same(self, desired: Any, current: Any) -> bool:
        if isinstance(desired, list | tuple) or isinstance(current, list | tuple):
            return {str(v) for v in split_values(desired)} == {str(v) for v in split_values(current)}
        return super().same(desired, current)


class MultiOptions(_Options):
    value_type: str = Field("WORK", description="VALUE_TYPE of new items: WORK, MOBILE, HOME, OTHER...")
    kind: Literal["phone", "email", "text"] = Field(
        "text", description="How values are checked and compared."
    )
    region: str = Field("RU", min_length=2, max_length=2, description="Region for phones without +code.")
    separators: str = Field(",;\n", description="Characters that separate several values in one cell.")


_WHAT = {"phone": "a phone number", "email": "an e-mail address", "text": "a value"}


class MultiField(Transform):
    """Bitrix multi-fields (PHONE, EMAIL, WEB, IM): values become ``[{VALUE, VALUE_TYPE}]`` items.

    A record already holding every value is unchanged; otherwise only the missing items are sent,
    because Bitrix appends items without an ID (sending an existing number again duplicates it).
    """

    name: ClassVar[str] = "multifield"
    Options: ClassVar[type[BaseModel]] = MultiOptions
    reversible: ClassVar[bool] = True

    @property
    def opts(self) -> MultiOptions:
        assert isinstance(self.options, MultiOptions)
        return self.options

    def _norm(self, value: Any) -> str | None:
        if self.opts.kind == "phone":
            return normalise.phone(value, self.opts.region)
        if self.opts.kind == "email":
            return normalise.email(value)
        return normalise.text(value)

    def forward(self, value: Any, ctx: TransformContext) -> Any:
        items: list[dict[str, Any]] = []
        seen: set[str] = set()
        for raw in split_values(value, self.opts.separators):
            key = self._norm(raw)
            if key is None:
                raise ValueError(f"{str(raw).strip()!r} is not {_WHAT[self.opts.kind]}")
            if key not in seen:
                seen.add(key)
                items.append(
                    {
                        "VALUE": key if self.opts.kind != "text" else str(raw).strip(),
                        "VALUE_TYPE": self.opts.value_type,
                    }
                )
        return items

    def _keys(self, value: Any) -> set[str]:
        return {k for k in (self._norm(v) for v in normalise.scalar_values(value)) if k is not None}

    def same(self, desired: Any, current: Any) -> bool:
        return self._keys(desired) <= self._keys(current)

    def patch(self, desired: Any, current: Any) -> Any:
        present = self._keys(current)
        return [item for item in desired or [] if self._norm(item["VALUE"]) not in present]

    def reverse(self, value: Any, ctx: TransformContext) -> Any:
        values = normalise.scalar_values(value)
        return values[0] if values else None

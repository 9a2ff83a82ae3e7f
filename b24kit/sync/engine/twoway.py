"""Two-way extras of a pair's decision: the link kept on both records, and fields recomputed on change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from b24kit.sync.mapping import CompiledField, compile_rules, forward, raw_value
from b24kit.sync.records import Record, Side
from b24kit.sync.spec import LinkSlot, Profile
from b24kit.sync.values import MISSING, get_path, same

from .io import FieldContext, SideIO
from .report import FieldChange

if TYPE_CHECKING:
    from .decide import Writes


def slot(profile: Profile, side: Side) -> LinkSlot | None:
    """The field of ``side``'s records that holds the partner's reference."""
    return profile.link_fields.source if side == "source" else profile.link_fields.target


def reference(record: Record, link: LinkSlot) -> Any:
    """What ``record``'s partner stores about it (its id, or the field named by ``from``)."""
    value = raw_value(record, link.from_)
    return None if value is MISSING else value


@dataclass
class Extras:
    """Adds link fields and computed fields to a pair's writes."""

    profile: Profile
    ios: dict[Side, SideIO]

    def __post_init__(self) -> None:
        self.rules: dict[Side, list[CompiledField]] = {
            "target": compile_rules(dict(self.profile.computed.target)),
            "source": compile_rules(dict(self.profile.computed.source)),
        }

    def links(self, source: Record | None, target: Record | None, writes: Writes) -> None:
        """Write each record's link field when its partner exists and the field does not hold it yet."""
        sides: tuple[tuple[Side, Record | None, Record | None], ...] = (
            ("source", source, target),
            ("target", target, source),
        )
        for side, own, partner in sides:
            link = slot(self.profile, side)
            if link is None or partner is None or partner.id is None:
                continue
            fields = writes.source_fields if side == "source" else writes.target_fields
            op = writes.source_op if side == "source" else writes.target_op
            if link.field in fields or (own is None and op != "create"):
                continue
            wanted = reference(partner, link)
            current = get_path(own.fields, link.field) if own is not None else MISSING
            if wanted is None or (current is not MISSING and same(current, wanted)):
                continue
            fields[link.field] = wanted
            before = None if current is MISSING else current
            writes.changes.append(FieldChange(side, link.field, before, wanted))
            if side == "source" and writes.source_op is None:
                writes.source_op = "update"
            if side == "target" and writes.target_op is None:
                writes.target_op = "update"

    def computed(self, source: Record | None, target: Record | None, writes: Writes) -> None:
        """Recompute each side's computed fields from the record as it will be after this write."""
        sides: tuple[tuple[Side, Record | None], ...] = (("target", target), ("source", source))
        for side, record in sides:
            rules = self.rules[side]
            if not rules:
                continue
            fields = writes.target_fields if side == "target" else writes.source_fields
            op = writes.target_op if side == "target" else writes.source_op
            if record is None and op != "create":
                continue
            view = {**(record.fields if record is not None else {}), **fields}
            after = Record(id=record.id if record is not None else None, fields=view)
            for rule in rules:
                value = forward(rule, after, FieldContext(self.ios[side], rule.name))
                current = get_path(view, rule.name)
                if value is MISSING or (current is not MISSING and rule.same(value, current)):
                    continue
                fields[rule.name] = value
                view[rule.name] = value
                before = None if current is MISSING else current
                writes.changes.append(FieldChange(side, rule.name, before, value))
            if fields and op is None:
                if side == "target":
                    writes.target_op = "update"
                else:
                    writes.source_op = "update"

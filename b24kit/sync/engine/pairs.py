"""Pairing: each record read finds its partner, by the link table first, then by match keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from b24kit.sync import normalise
from b24kit.sync.mapping import raw_value
from b24kit.sync.records import Record, Side, other
from b24kit.sync.spec import MatchKey, Profile
from b24kit.sync.state import Link, Snapshot, StateStore

from .io import SideIO, chunks


@dataclass
class Pair:
    """A record read on the driving side and what it pairs with on the other side."""

    driver: Record
    side: Side
    id: str | None
    derived: bool = False
    link: Link | None = None
    partner: Record | None = None
    snapshot: Snapshot | None = None
    how: str = ""
    skip: str | None = None
    fail: str | None = None
    unlink: bool = False
    vanished: str | None = None
    """Two-way: the partner no longer exists: ``gone`` (close the pair), ``tombstone`` (the delete
    phase handles the target), ``deactivate`` or ``delete`` (done to the source record)."""

    @property
    def source(self) -> Record | None:
        return self.driver if self.side == "source" else self.partner

    @property
    def target(self) -> Record | None:
        return self.partner if self.side == "source" else self.driver

    @property
    def source_id(self) -> str | None:
        if self.side == "source":
            return self.id
        return self.link.source_id if self.link else (self.partner.id if self.partner else None)

    @property
    def target_id(self) -> str | None:
        if self.side == "target":
            return self.id
        return self.link.target_id if self.link else (self.partner.id if self.partner else None)

    @property
    def partner_id(self) -> str | None:
        return self.target_id if self.side == "source" else self.source_id

    @property
    def open(self) -> bool:
        return self.skip is None and self.fail is None


def key_fields(key: MatchKey, side: Side) -> tuple[str, str]:
    """(field on ``side``, field on the other side) of a match key."""
    return (key.source, key.target) if side == "source" else (key.target, key.source)


def derive_id(record: Record, keys: Sequence[MatchKey]) -> str | None:
    """An id for a source record that has none: its first match-key value (``email:ann@x.ru``)."""
    for key in keys:
        values = normalise.keys_of(raw_value(record, key.source), key.normalise, key.phone_region)
        if values:
            return f"{key.source}:{values[0]}"
    return None


@dataclass
class Matcher:
    """Finds partners for one batch of records read on ``side``."""

    profile: Profile
    store: StateStore
    ios: dict[Side, SideIO]
    run_id: int
    claimed: set[str] = field(default_factory=set)

    def identify(self, records: Sequence[Record], side: Side) -> list[Pair]:
        """Give each record its id (deriving one from match keys when the system has none)."""
        pairs = []
        seen_here: dict[str, Pair] = {}
        for record in records:
            derived = record.id is None and side == "source"
            rid = derive_id(record, self.profile.match.keys) if derived else record.id
            pair = Pair(record, side, rid, derived)
            if rid is None:
                names = ", ".join(k.source for k in self.profile.match.keys) or "a match key"
                pair.fail = record.problem or f"no value to identify the record by ({names})"
            elif rid in seen_here:
                pair.skip = f"duplicate of {seen_here[rid].driver.label()} (same {rid.split(':', 1)[0]})"
            else:
                seen_here[rid] = pair
            pairs.append(pair)
        return pairs

    def attach_links(self, pairs: Sequence[Pair]) -> None:
        """Links and snapshots of the batch, one query each."""
        ids = [p.id for p in pairs if p.id is not None and p.open]
        if not ids:
            return
        side = pairs[0].side
        if side == "source":
            links = self.store.links_by_source(self.profile.name, ids)
        else:
            links = self.store.links_by_target(self.profile.name, ids)
        for pair in pairs:
            if pair.id is not None and pair.open:
                pair.link = links.get(pair.id)
                if pair.link is not None and pair.derived and pair.link.seen_run == self.run_id:
                    pair.skip = f"duplicate: an earlier record has the same {pair.id.split(':', 1)[0]}"
        linked = [p.link.source_id for p in pairs if p.link is not None and p.open]
        snaps = self.store.snapshots(self.profile.name, linked) if linked else {}
        for pair in pairs:
            if pair.link is not None:
                pair.snapshot = snaps.get(pair.link.source_id)

    def fetch_partners(self, pairs: Sequence[Pair]) -> None:
        """Fetch linked partners in batches; a vanished partner is handled per ``deletes.target_missing``."""
        todo = [p for p in pairs if p.open and p.link is not None and p.partner is None]
        if not todo:
            return
        io = self.ios[other(todo[0].side)]
        found = {r.id: r for r in io.fetch(io.entity, [str(p.partner_id) for p in todo])}
        for pair in todo:
            pair.partner = found.get(pair.partner_id)
            if pair.partner is None:
                self._vanished(pair)

    def _vanished(self, pair: Pair) -> None:
        link = pair.link
        assert link is not None
        rules = self.profile.deletes
        if link.state == "gone":
            pair.skip = "its partner was deleted earlier; the pair is closed"
        elif pair.side == "target":
            # two-way: the source record is gone; never recreate it from its old partner
            if rules.mode == "ignore" or link.state != "active":
                pair.skip = f"its source record {link.source_id} no longer exists; the pair is closed"
                pair.vanished = "gone"
            else:
                pair.skip = ""
                pair.vanished = "tombstone"
        elif self.profile.direction == "two_way" and rules.target_missing != "recreate":
            pair.skip = f"its partner {pair.partner_id} no longer exists; the pair is closed"
            pair.vanished = "gone"
            if rules.target_missing != "unlink":
                pair.skip = ""
                pair.vanished = rules.target_missing.removesuffix("_source")
        elif rules.target_missing == "unlink":
            pair.skip = f"its partner {pair.partner_id} no longer exists; the link is dropped"
            pair.unlink = True
        else:
            pair.how = f"recreated: {link.target_id} no longer exists"
            pair.unlink = True
            pair.link = None
            pair.snapshot = None

    def match(self, pairs: Sequence[Pair]) -> None:
        """Pair unlinked records by match keys, key by key; a partner is claimed once."""
        waiting = [p for p in pairs if p.open and p.link is None and p.partner is None]
        for key in self.profile.match.keys:
            if not waiting:
                break
            waiting = self._match_key(waiting, key)

    def _match_key(self, waiting: list[Pair], key: MatchKey) -> list[Pair]:
        side = waiting[0].side
        mine, theirs = key_fields(key, side)
        io = self.ios[other(side)]
        wanted = {
            id(p): normalise.keys_of(raw_value(p.driver, mine), key.normalise, key.phone_region)
            for p in waiting
        }
        values = list(dict.fromkeys(v for vs in wanted.values() for v in vs))
        candidates: list[Record] = []
        for part in chunks(values, io.read_size):
            io.count("lookup")
            candidates.extend(io.connector.lookup(io.entity, theirs, list(part)))
        taken = self._taken([c.id for c in candidates if c.id], side)
        by_key: dict[str, list[Record]] = {}
        for candidate in candidates:
            if candidate.id:
                for value in normalise.keys_of(candidate.fields.get(theirs), key.normalise, key.phone_region):
                    by_key.setdefault(value, []).append(candidate)
        rest = []
        for pair in waiting:
            keys = set(wanted[id(pair)])
            hits = {c.id: c for value in wanted[id(pair)] for c in by_key.get(value, ()) if c.id}
            free = {i: c for i, c in hits.items() if i not in self.claimed and self._free(taken.get(i), pair)}
            if not free and hits:
                other_id = min(hits)
                owner = taken[other_id].source_id if other_id in taken else "another record in this batch"
                pair.skip = (
                    f"{mine}={sorted(keys)[0]} matches {other_id}, which is already paired with {owner}; "
                    "not creating a duplicate"
                )
                continue
            hits = free
            if not hits:
                rest.append(pair)
            elif len(hits) > 1 and self.profile.match.on_ambiguous == "skip":
                pair.skip = f"{len(hits)} records match {mine}={sorted(keys)[0]} ({', '.join(sorted(hits))})"
            else:
                best = hits[min(hits, key=lambda i: (0, int(i)) if i.isdecimal() else (1, i))]
                self._claim(pair, best, f"matched by {mine}", taken.get(best.id or ""))
        return rest

    def _taken(self, ids: list[str], side: Side) -> dict[str, Link]:
        if not ids:
            return {}
        if side == "source":
            return self.store.links_by_target(self.profile.name, ids)
        return self.store.links_by_source(self.profile.name, ids)

    def _free(self, link: Link | None, pair: Pair) -> bool:
        """A partner linked to another record is free only for a record without a stable id whose
        old identity has not been seen in this run (its key changed: the link moves)."""
        if link is None:
            return True
        return pair.derived and link.seen_run != self.run_id

    def _claim(self, pair: Pair, partner: Record, how: str, old: Link | None) -> None:
        assert partner.id is not None
        self.claimed.add(partner.id)
        pair.partner = partner
        pair.how = how if old is None else f"{how} (moved from {old.source_id})"
        self.ios[other(pair.side)].remember(self.ios[other(pair.side)].entity, partner)

    def claim_new(self, pairs: Sequence[Pair]) -> None:
        """Records about to be created must not share a key value with one another in this batch."""
        index: dict[str, Pair] = {}
        for pair in pairs:
            if not pair.open or pair.link is not None or pair.partner is not None:
                continue
            mine = [key_fields(k, pair.side)[0] for k in self.profile.match.keys]
            values = [
                f"{name}:{v}"
                for k, name in zip(self.profile.match.keys, mine, strict=True)
                for v in normalise.keys_of(raw_value(pair.driver, name), k.normalise, k.phone_region)
            ]
            clash = next((v for v in values if v in index), None)
            if clash is not None:
                pair.skip = f"duplicate of {index[clash].driver.label()} (same {clash.split(':', 1)[0]})"
                continue
            for value in values:
                index[value] = pair

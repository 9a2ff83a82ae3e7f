"""Dates in the portal's locale format, as a few legacy fields send them (``TIMESTAMP_X``, lists).

An English portal writes ``12/31/2024 11:59:59 pm`` (the lists docs' examples); Russian and the
other European portals write ``31.12.2024 23:59:59``. The portal's language is ``Settings.language``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from b24kit.emulator.portal import Portal


def _english(portal: Portal) -> bool:
    return portal.settings.language.lower().startswith("en")


def locale_datetime(portal: Portal, value: object) -> str | None:
    moment = portal.clock.parse(value)
    if moment is None:
        return None
    if _english(portal):
        return moment.strftime("%m/%d/%Y %I:%M:%S ") + moment.strftime("%p").lower()
    return moment.strftime("%d.%m.%Y %H:%M:%S")


def locale_date(portal: Portal, value: object) -> str | None:
    moment = portal.clock.parse(value)
    if moment is None:
        return None
    return moment.strftime("%m/%d/%Y" if _english(portal) else "%d.%m.%Y")


def midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)

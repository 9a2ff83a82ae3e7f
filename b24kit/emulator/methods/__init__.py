"""REST method handlers, one module per scope; importing this package registers them all."""

from __future__ import annotations

from . import (  # noqa: F401 - imported for their @method registrations
    batch,
    bizproc,
    crm_duplicates,
    crm_item,
    crm_legacy,
    crm_meta,
    disk,
    events,
    im,
    lists,
    sonet,
    system,
    tasks,
    users,
)

"""The stored records: issues with their comments and change history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Comment:
    id: int
    author: str  # user name
    body: Any  # wiki text (Server/DC) or an ADF document (Cloud)
    created: datetime
    updated: datetime
    update_author: str


@dataclass
class History:
    id: int
    author: str
    created: datetime
    items: list[dict[str, Any]]


@dataclass
class Issue:
    """``values`` maps field ids to stored values: ids for references, user names for users."""

    id: int
    key: str
    project: str  # project id
    values: dict[str, Any]
    created: datetime
    updated: datetime
    comments: list[Comment] = field(default_factory=list)
    histories: list[History] = field(default_factory=list)

    @property
    def number(self) -> int:
        return int(self.key.rsplit("-", 1)[1])

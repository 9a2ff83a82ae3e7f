"""Built-in connectors (``memory``, ``excel``; ``bitrix`` arrives with the portal client)."""

from __future__ import annotations

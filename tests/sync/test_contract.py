"""Each built-in connector passes the connector contract (a third party's test file looks the same)."""

from __future__ import annotations

from b24kit.sync.connectors.bitrix import BitrixConnector
from b24kit.sync.connectors.memory import MemoryConnector
from b24kit.testing.connectors import connector_contract

TestMemoryContract = connector_contract(
    MemoryConnector,
    options={"store": "contract"},
    entity="things",
    sample={"NAME": "Ann", "EMAIL": "ann@x.ru"},
)


TestBitrixContract = connector_contract(
    BitrixConnector,
    options=lambda b24_webhook_url: {"webhook": b24_webhook_url},
    entity="contact",
    sample={"NAME": "Ann", "LAST_NAME": "Lee"},
)

"""The bitrix connector on the emulated portal: entities, fields with their values, and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from b24kit.errors import ConfigError
from b24kit.sync import StateStore, load_profile_text, run_sync
from b24kit.sync.connectors.bitrix import BitrixConnector, BitrixOptions
from b24kit.sync.connectors.memory import MemoryConnector, MemoryOptions, memory_store
from b24kit.sync.engine.preflight import check_fields
from b24kit.sync.records import Change, Since


@pytest.fixture
def bitrix(b24_emulator):
    connector = BitrixConnector(BitrixOptions(webhook=b24_emulator.webhook_url))
    yield connector
    connector.close()


def test_describe_gives_enumerations_and_statuses(b24_emulator, bitrix):
    b24_emulator.rest(
        "crm.contact.userfield.add",
        {
            "fields": {
                "FIELD_NAME": "SIZE",
                "USER_TYPE_ID": "enumeration",
                "LABEL": "Size",
                "LIST": [{"VALUE": "Small"}, {"VALUE": "Large"}],
            }
        },
    )
    fields = bitrix.describe("contact")
    assert dict(fields["UF_CRM_SIZE"].items) == {"1": "Small", "2": "Large"}
    assert fields["UF_CRM_SIZE"].title == "Size"
    assert fields["TYPE_ID"].items["CLIENT"] and fields["NAME"].required
    assert fields["EMAIL"].multiple
    stages = bitrix.describe("deal")["STAGE_ID"].items
    assert "NEW" in stages and "WON" in stages


def test_deals_of_one_pipeline(b24_emulator, bitrix):
    category = b24_emulator.rest("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Sales"}})
    category_id = category["result"]["category"]["id"]
    b24_emulator.rest("crm.deal.add", {"fields": {"TITLE": "other pipeline"}})
    connector = BitrixConnector(BitrixOptions(webhook=b24_emulator.webhook_url, category_id=category_id))
    try:
        (made,) = connector.write("deal", [Change("a", "create", None, {"TITLE": "in Sales"})])
        assert made.ok
        assert [r.fields["TITLE"] for r in connector.read("deal")] == ["in Sales"]
        assert f"C{category_id}:NEW" in connector.describe("deal")["STAGE_ID"].items
    finally:
        connector.close()


def test_smart_process_items(b24_emulator, bitrix):
    b24_emulator.rest("crm.type.add", {"fields": {"title": "Orders", "entityTypeId": 1038}})
    made = bitrix.write(
        "item:1038",
        [
            Change("a", "create", None, {"title": "Order 1"}),
            Change("b", "create", None, {"title": "Order 2"}),
        ],
    )
    ids = [r.id for r in made]
    assert all(r.ok for r in made)
    bitrix.write("item:1038", [Change("u", "update", ids[0], {"title": "Order 1b"})])
    assert sorted(r.fields["title"] for r in bitrix.fetch("item:1038", ids)) == ["Order 1b", "Order 2"]
    assert [r.id for r in bitrix.lookup("item:1038", "title", ["order 2"])] == [ids[1]]
    assert "title" in bitrix.describe("item:1038")


def test_users_can_be_found_and_deactivated_not_deleted(b24_emulator, bitrix):
    user_id = b24_emulator.rest(
        "user.add", {"EMAIL": "kate@example.com", "NAME": "Kate", "UF_DEPARTMENT": [1]}
    )["result"]
    (kate,) = bitrix.lookup("user", "EMAIL", ["kate@example.com"])
    assert kate.id == str(user_id)
    result = bitrix.write(
        "user", [Change("d", "delete", kate.id), Change("u", "update", kate.id, {"ACTIVE": "N"})]
    )
    by_key = {r.key: r for r in result}
    assert "cannot be deleted" in (by_key["d"].error or "") and by_key["u"].ok
    (after,) = bitrix.fetch("user", [kate.id])
    assert after.fields["ACTIVE"] in (False, "N")


def test_incremental_reads_filter_by_modification(b24_emulator, bitrix):
    bitrix.write("contact", [Change(str(i), "create", None, {"NAME": f"n{i}"}) for i in range(3)])
    records = list(bitrix.read("contact"))
    newest = max(r.modified for r in records if r.modified)
    assert len(list(bitrix.read("contact", since=Since("DATE_MODIFY", newest)))) >= 1
    later = newest + timedelta(days=1)
    assert list(bitrix.read("contact", since=Since("DATE_MODIFY", later))) == []


def test_unknown_entities_are_named():
    connector = BitrixConnector(BitrixOptions(webhook="http://127.0.0.1:1/rest/1/x/"))
    with connector, pytest.raises(ConfigError) as caught:
        next(connector.read("contcat"))
    assert caught.value.suggestion == "did you mean 'contact'?"


def test_a_portal_is_required():
    with pytest.raises(ConfigError) as caught:
        BitrixConnector(BitrixOptions())
    assert "--portal" in (caught.value.suggestion or "")


def test_preflight_checks_field_codes_and_values_against_the_portal(b24_emulator):
    text = f"""
version: 1
name: deals
source: {{connector: memory, entity: rows, options: {{store: src}}}}
target: {{connector: bitrix, entity: deal, options: {{webhook: "{b24_emulator.webhook_url}"}}}}
fields:
  TITLE: title
  STAGE_ID: {{from: status, map: {{open: NEW, won: WONN}}}}
  UF_CRM_NOPE: x
"""
    profile = load_profile_text(text, source="deals.yaml", env={})
    target = BitrixConnector(BitrixOptions(webhook=b24_emulator.webhook_url))
    try:
        issues = check_fields(profile, MemoryConnector(MemoryOptions(store="src")), target)
    finally:
        target.close()
    found = {(i.path, i.message, i.suggestion) for i in issues}
    assert (
        ("fields", "STAGE_ID", "map", "won"),
        "'WONN' is not a value of STAGE_ID",
        "did you mean 'WON'?",
    ) in found
    assert any(
        i.path == ("fields", "UF_CRM_NOPE") and "has no field 'UF_CRM_NOPE'" in i.message for i in issues
    )


def test_two_way_between_memory_and_the_portal(b24_emulator, tmp_path):
    """Deals edited in the portal flow back; our own writes are not echoed."""
    source = memory_store("jira")
    source.put("issues", {"key": "OPS-1", "summary": "Buy laptops", "status": "To Do"}, id="OPS-1")
    text = f"""
version: 1
name: issues-deals
source: {{connector: memory, entity: issues, options: {{store: jira}}}}
target: {{connector: bitrix, entity: deal, options: {{webhook: "{b24_emulator.webhook_url}"}}}}
direction: two_way
match: {{keys: [{{source: key, target: ORIGIN_ID}}]}}
fields:
  ORIGIN_ID: {{from: key, direction: to_target}}
  TITLE: summary
  STAGE_ID: {{from: status, map: {{"To Do": NEW, "Done": WON}}}}
"""
    profile = load_profile_text(text, source="issues.yaml", env={})
    with StateStore(f"sqlite:///{tmp_path}/s.db") as state:

        def once():
            src = MemoryConnector(MemoryOptions(store="jira"))
            tgt = BitrixConnector(BitrixOptions(webhook=b24_emulator.webhook_url))
            try:
                return run_sync(profile, src, tgt, state, keep_outcomes=True)
            finally:
                tgt.close()

        assert once().summary()["create"] == 1
        (deal,) = b24_emulator.rest("crm.deal.list", {"select": ["ID", "TITLE", "STAGE_ID"]})["result"]
        assert (deal["TITLE"], deal["STAGE_ID"]) == ("Buy laptops", "NEW")
        assert once().writes == 0
        b24_emulator.admin("clock", {"advance_seconds": 60})
        source.clock = lambda: datetime.now(UTC) - timedelta(hours=1)
        b24_emulator.rest("crm.deal.update", {"id": deal["ID"], "fields": {"STAGE_ID": "WON"}})
        report = once()
        assert [(c.side, c.field, c.after) for o in report.outcomes for c in o.changes] == [
            ("source", "status", "Done")
        ]
        assert source.rows("issues")["OPS-1"]["status"] == "Done"
        assert once().writes == 0

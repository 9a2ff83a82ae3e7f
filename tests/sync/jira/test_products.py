"""profiles/jira-products.yaml: Jira issues as the product catalog, mirrored into a smart process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from b24kit.client import PortalConfig
from b24kit.sync.service import execute, open_session
from tests.doubles.jira_fake import JiraFake
from tests.doubles.jira_fake.catalog import IssueType

from .conftest import jira_options

PROFILE = Path(__file__).resolve().parents[3] / "profiles" / "jira-products.yaml"


def rest(emulator: Any, method: str, params: dict[str, Any]) -> Any:
    body = emulator.rest(method, params)
    assert "error" not in body, body
    return body["result"]


@pytest.fixture
def catalog(jira_server, b24_emulator, tmp_path):
    """The CAT project with a Product type in Jira, the Products smart process in the portal."""
    fake: JiraFake = jira_server("cloud")
    fake.add_project("CAT", "Catalog", ("Laptops", "Monitors"))
    fake.state.catalog.issue_types.append(IssueType("10200", "Product"))
    made = rest(b24_emulator, "crm.type.add", {"fields": {"title": "Products", "isStagesEnabled": "Y"}})
    kind = made["type"]
    type_id, entity = kind["id"], kind["entityTypeId"]
    for name in ("SKU", "SECTION", "DESCRIPTION"):
        field = {"entityId": f"CRM_{type_id}", "fieldName": f"UF_CRM_{type_id}_{name}"}
        field["userTypeId"] = "string"
        rest(b24_emulator, "userfieldconfig.add", {"moduleId": "crm", "field": field})
    item = rest(b24_emulator, "crm.item.add", {"entityTypeId": entity, "fields": {"title": "probe"}})["item"]
    rest(b24_emulator, "crm.item.delete", {"entityTypeId": entity, "id": item["id"]})
    stage = item["stageId"].split(":")[0]
    text = PROFILE.read_text(encoding="utf-8").replace("1030", str(entity)).replace("DT1030_2", stage)
    text = text.replace("ufCrm1_", f"ufCrm{type_id}_").replace("https://jira.example.com", fake.url)
    text = text.replace('max_share: "20%"', 'max_share: "50%"')  # a catalog of two products
    options = jira_options(fake)
    auth = f"    token: {options['token']}\n    user: {options['user']}"
    text = text.replace("    token: ${JIRA_TOKEN}", auth)
    path = tmp_path / "jira-products.yaml"
    path.write_text(text, encoding="utf-8")
    return fake, path, entity, stage, type_id


def run(path: Path, emulator: Any, state: str) -> Any:
    portal = PortalConfig.from_url(emulator.webhook_url)
    with open_session(path, env={}, state_url=state, portal=portal) as session:
        return execute(session, keep_outcomes=True)


def product(fake: JiraFake, summary: str, **fields: Any) -> str:
    base = {"project": {"key": "CAT"}, "issuetype": {"name": "Product"}, "summary": summary}
    return fake.create_issue({**base, **fields})


def test_issues_become_catalog_items_and_leave_it_when_done(catalog, b24_emulator, tmp_path):
    fake, path, entity, stage, type_id = catalog
    state = f"sqlite:///{tmp_path}/state.db"
    laptop = product(fake, "Laptop 14", customfield_10010=1200.0, components=[{"name": "Laptops"}])
    monitor = product(fake, "Monitor 27", customfield_10010=300.0, description="IPS\n\n144 Hz")
    product(fake, "Tablet", labels=["draft"])
    fake.create_issue({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Not a product"})
    report = run(path, b24_emulator, state)
    assert report.summary()["create"] == 2 and report.failed == 0

    def items() -> dict[str, dict[str, Any]]:
        listed = rest(b24_emulator, "crm.item.list", {"entityTypeId": entity})["items"]
        return {i[f"ufCrm{type_id}_SKU"]: i for i in listed}

    got = items()
    assert sorted(got) == [laptop, monitor]
    assert (got[laptop]["title"], got[laptop]["opportunity"], got[laptop][f"ufCrm{type_id}_SECTION"]) == (
        "Laptop 14",
        1200,
        "Laptops",
    )
    assert got[monitor][f"ufCrm{type_id}_DESCRIPTION"] == "IPS\n\n144 Hz"

    fake.state.edit(fake.admin, "2", monitor, {"fields": {"customfield_10010": 280.0}})
    fake.state.transition(fake.admin, "2", laptop, {"transition": {"id": "11"}})
    fake.state.transition(fake.admin, "2", laptop, {"transition": {"id": "31"}})
    report = run(path, b24_emulator, state)
    assert (report.summary()["update"], report.summary()["deactivate"]) == (1, 1)
    got = items()
    assert got[monitor]["opportunity"] == 280 and got[laptop]["stageId"] == f"{stage}:FAIL"

    fake.state.transition(fake.admin, "2", laptop, {"transition": {"id": "41"}})
    report = run(path, b24_emulator, state)
    assert items()[laptop]["stageId"] == f"{stage}:NEW", "reopened: back in the catalog"
    assert run(path, b24_emulator, state).writes == 0

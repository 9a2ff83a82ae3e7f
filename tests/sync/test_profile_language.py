"""The profile language: every construct loads into its canonical model, and the schema accepts it."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
import yaml

from b24kit.sync import load_profile, load_profile_text, profile_schema
from b24kit.sync.spec import ConstField, FromField, LinkField, LookupField, Profile

from .conftest import profile

HERE = Path(__file__).parent
FUTURE = sorted((HERE / "profiles").glob("*.yaml"))
EXAMPLES = sorted((HERE.parents[1] / "profiles").glob("*.yaml"))
ENV = {
    "TEST_PORTAL_WEBHOOK": "https://test.example.com/rest/1/x/",
    "PRODUCTION_PORTAL_WEBHOOK": "https://b24.example.com/rest/1/y/",
    "JIRA_TOKEN": "t",
    "AD_BIND_USER": "u",
    "AD_BIND_PASSWORD": "p",
    "ONEC_USER": "u",
    "ONEC_PASSWORD": "p",
}


def test_shorthands_normalise_to_one_canonical_form():
    """A bare string is a source field, a transform name is a transform, a cron line is a schedule."""
    p = profile("""
        fields:
          NAME: first_name
          TYPE_ID: {const: CLIENT}
          BIRTHDATE: {from: born, transform: date}
        triggers: {schedule: "0 * * * *"}
    """)
    assert isinstance(p.fields["NAME"], FromField) and p.fields["NAME"].paths == ("first_name",)
    assert isinstance(p.fields["TYPE_ID"], ConstField) and p.fields["TYPE_ID"].const == "CLIENT"
    birth = p.fields["BIRTHDATE"]
    assert birth.transform is not None and birth.transform.name == "date" and birth.transform.options == {}
    assert p.triggers.schedule is not None and p.triggers.schedule.cron == "0 * * * *"
    assert p.triggers.schedule.timezone == "UTC"


def test_defaults_are_the_safe_ones():
    """Without settings: one-way upsert, deletes ignored behind a guard of 100, target edits overwritten."""
    p = profile("fields: {NAME: name}")
    assert (p.direction, p.mode, p.drift, p.conflict) == ("one_way", "upsert", "overwrite", "newest")
    assert p.deletes.mode == "ignore" and p.deletes.guard.max_count == 100
    assert p.match.keys == () and p.match.on_ambiguous == "skip"
    assert p.source.cursor is None and p.batch_size is None


def test_every_field_construct():
    """from (one or several), map with unmapped policy, transform options, defaults, lookups, links."""
    p = profile("""
        fields:
          PHONE: {from: [phone, mobile], transform: {name: multifield, kind: phone, value_type: MOBILE}}
          STAGE_ID: {from: status, map: {Open: NEW, Won: WON}, unmapped: default, default: NEW}
          POST: {from: title, empty: clear, update: false, required: true}
          COMPANY_ID:
            lookup:
              entity: company
              by:
                - {field: RQ_INN, from: inn, normalise: inn}
                - {field: TITLE, from: company}
              create: {TITLE: company, COMPANY_TYPE: {const: CUSTOMER}}
              returns: ID
          CONTACT_ID: {from: contact, links_of: contacts, missing: empty}
    """)
    phone = p.fields["PHONE"]
    assert isinstance(phone, FromField) and phone.paths == ("phone", "mobile")
    assert phone.transform is not None and phone.transform.options == {
        "kind": "phone",
        "value_type": "MOBILE",
    }
    stage = p.fields["STAGE_ID"]
    assert stage.map == {"Open": "NEW", "Won": "WON"} and stage.unmapped == "default" and stage.has_default
    post = p.fields["POST"]
    assert (post.empty, post.update, post.required) == ("clear", False, True)
    company = p.fields["COMPANY_ID"]
    assert isinstance(company, LookupField)
    assert [k.normalise for k in company.lookup.by] == ["inn", "text"]
    assert company.lookup.create is not None and isinstance(company.lookup.create["COMPANY_TYPE"], ConstField)
    contact = p.fields["CONTACT_ID"]
    assert isinstance(contact, LinkField) and contact.links_of == "contacts" and contact.missing == "empty"


def test_two_way_with_owners_cursors_deletes_protection_and_triggers():
    """The sections a Jira/AD/1C/portal profile needs, all in one profile."""
    p = profile("""
        direction: two_way
        conflict: source
        mode: update
        match:
          keys:
            - {source: email, target: EMAIL, normalise: email}
            - {source: tel, target: PHONE, normalise: phone, phone_region: DE}
          on_ambiguous: first
        fields:
          NAME: {from: name, owner: target}
          SOURCE_ONLY: {from: s, direction: to_target}
          BACK_ONLY: {from: b, direction: to_source}
        deletes:
          mode: deactivate
          deactivate: {ACTIVE: N}
          reactivate: {ACTIVE: Y}
          inactive_when: [{field: disabled, equals: true}]
          guard: {max_count: 5, max_share: 10%}
          target_missing: unlink
        protected: {ids: [1, 2], match_any: [{field: EMAIL, in: [root@x.ru]}, {field: ADMIN, not_equals: N}]}
        triggers:
          schedule: {cron: "*/5 9-18 * * mon-fri", timezone: Europe/Moscow}
          events:
            - {event: ONCRMCONTACTADD}
            - event: ONCRMDEALUPDATE
              when:
                - {field: STAGE_ID, in: [WON, LOSE]}
                - {field: STAGE_ID, changed: true}
                - {field: X, empty: false}
        batch_size: 25
    """)
    assert p.direction == "two_way" and p.conflict == "source" and p.mode == "update"
    assert p.match.keys[1].phone_region == "DE" and p.match.on_ambiguous == "first"
    assert p.fields["NAME"].owner == "target"
    assert p.deletes.guard.max_share == pytest.approx(0.10)
    assert p.protected.ids == ("1", "2")
    assert [c.operator for c in p.protected.match_any] == ["in", "not_equals"]
    assert [c.operator for c in p.triggers.events[1].when] == ["in", "changed", "empty"]
    assert p.triggers.events[0].side == "target"
    assert p.batch_size == 25 and p.deletes.target_missing == "unlink"


def test_cursor_and_backfill():
    """A cursor names the modified field, a lag window and the first run's backfill."""
    head = """
    version: 1
    name: {name}
    source:
      connector: memory
      entity: rows
      options: {{store: src}}
      cursor: {{field: DATE_MODIFY, lag_seconds: 300, backfill: 2024-03-01}}
      where: [{{field: TYPE, equals: CLIENT}}]
    target:
      connector: memory
      entity: contact
      cursor: {{field: modified, backfill: none}}
    """
    p = profile("fields: {NAME: name}", head=head)
    assert p.source.cursor is not None and p.source.cursor.lag_seconds == 300
    assert p.source.cursor.backfill == datetime(2024, 3, 1)
    assert p.target.cursor is not None and p.target.cursor.backfill == "none"
    assert p.source.where[0].equals == "CLIENT"


def test_env_substitution_only_for_dollar_braces():
    """``${NAME}`` is replaced; ``$$`` escapes; nothing else is interpreted."""
    text = """
version: 1
name: env
source: {connector: memory, entity: rows, options: {store: "${STORE}"}}
target: {connector: memory, entity: contact, options: {store: dst}}
fields:
  NOTE: {const: "cost $5 and $${literal} and {{ not_a_template }}"}
"""
    p = load_profile_text(text, source="env.yaml", env={"STORE": "from-env"})
    assert p.source.options == {"store": "from-env"}
    assert p.fields["NOTE"].const == "cost $5 and ${literal} and {{ not_a_template }}"


def test_yaml_keys_stay_text():
    """Value-map keys keep their spelling: ``yes``, ``1`` and ``on`` are not turned into booleans or ints."""
    p = profile("fields: {FLAG: {from: f, map: {yes: Y, no: N, 1: ONE, on: ON}}}")
    assert p.fields["FLAG"].map == {"yes": "Y", "no": "N", "1": "ONE", "on": "ON"}


def test_models_are_frozen():
    """A loaded profile cannot be changed by accident."""
    p = profile("fields: {NAME: name}")
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        p.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_profiles_validate_with_their_connectors(path: Path):
    """Every profile in profiles/ loads, connector options included."""
    assert isinstance(load_profile(path, env=ENV), Profile)


def test_there_are_example_profiles():
    assert [p.name for p in EXAMPLES] >= ["excel-contacts.yaml"]


@pytest.mark.parametrize("path", FUTURE, ids=[p.stem for p in FUTURE])
def test_later_connectors_fit_the_language(path: Path):
    """Jira two-way, AD, 1C and portal-to-portal profiles are valid profiles already."""
    p = load_profile(path, env=ENV, check_connectors=False)
    assert isinstance(p, Profile)


@pytest.mark.parametrize("path", FUTURE + EXAMPLES, ids=[p.stem for p in FUTURE + EXAMPLES])
def test_published_schema_accepts_the_examples(path: Path):
    """The JSON Schema that `b24kit profile schema` prints validates every example profile."""
    schema = profile_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(data, default=str)))


def test_published_schema_rejects_unknown_keys():
    """The schema forbids unknown keys, as the models do."""
    data = yaml.safe_load((HERE / "profiles" / "ad-users.yaml").read_text(encoding="utf-8"))
    data["fields"]["NAME"]["form"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(profile_schema()).validate(data)

"""One-way sync against the memory connector: create, match, update, skip, fail; and nothing twice."""

from __future__ import annotations

from b24kit.sync.connector import FieldInfo
from b24kit.sync.connectors.memory import MemoryStore

from .conftest import outcomes, profile, sync

CONTACTS = """
match:
  keys:
    - {source: email, target: EMAIL, normalise: email}
    - {source: phone, target: PHONE, normalise: phone}
fields:
  NAME: {from: name, required: true}
  POST: title
  EMAIL: {from: email, transform: {name: multifield, kind: email}}
  PHONE: {from: phone, transform: {name: multifield, kind: phone}}
"""


def writes(store: MemoryStore) -> list[tuple[str, str, str | None, dict]]:
    return [(entity, c.op, c.id, dict(c.fields)) for entity, c in store.writes]


def test_creates_links_and_then_changes_nothing(src, dst, state):
    """The first run creates and links every record; the second makes zero write calls."""
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "+79161234567", "title": "CEO"}, id="a")
    src.put("rows", {"name": "Bob", "email": "bob@x.ru", "phone": "", "title": ""}, id="b")
    p = profile(CONTACTS)
    first = sync(p, state)
    assert first.summary()["create"] == 2 and first.failed == 0
    rows = dst.rows("contact")
    assert sorted(r["NAME"] for r in rows.values()) == ["Ann", "Bob"]
    ann = next(r for r in rows.values() if r["NAME"] == "Ann")
    assert ann == {
        "NAME": "Ann",
        "POST": "CEO",
        "EMAIL": [{"VALUE": "ann@x.ru", "VALUE_TYPE": "WORK"}],
        "PHONE": [{"VALUE": "+79161234567", "VALUE_TYPE": "WORK"}],
    }
    assert {link.source_id for link in state.export_links("test")} == {"a", "b"}
    before = len(dst.writes)
    second = sync(p, state)
    assert second.summary()["unchanged"] == 2 and second.writes == 0
    assert len(dst.writes) == before
    assert "write" not in second.calls["target"]


def test_only_changed_fields_are_written(src, dst, state):
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": "CEO"}, id="a")
    p = profile(CONTACTS)
    sync(p, state)
    src.edit("rows", "a", {"title": "Chair"})
    report = sync(p, state)
    (updated,) = outcomes(report, "update")
    assert [(c.field, c.before, c.after) for c in updated.changes] == [("POST", "CEO", "Chair")]
    assert writes(dst)[-1] == ("contact", "update", updated.target_id, {"POST": "Chair"})


def test_match_keys_in_order_with_normalisers(src, dst, state):
    """E-mail first (any case), then phone (any format): existing contacts are linked, not duplicated."""
    by_email = dst.put("contact", {"NAME": "A", "EMAIL": [{"VALUE": "ANN@X.RU"}]})
    by_phone = dst.put("contact", {"NAME": "B", "PHONE": [{"VALUE": "8 (916) 000-00-01"}]})
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": ""}, id="a")
    src.put("rows", {"name": "Bob", "email": "bob@x.ru", "phone": "+7 916 000 00 01", "title": ""}, id="b")
    report = sync(profile(CONTACTS), state)
    got = {o.source_id: (o.action, o.target_id, o.reason) for o in report.outcomes}
    assert got["a"] == ("update", by_email, "matched by email")
    assert got["b"] == ("update", by_phone, "matched by phone")
    assert len(dst.rows("contact")) == 2
    assert dst.rows("contact")[by_phone]["EMAIL"] == [{"VALUE": "bob@x.ru", "VALUE_TYPE": "WORK"}]
    assert dst.rows("contact")[by_email]["EMAIL"] == [{"VALUE": "ANN@X.RU"}]  # already there: not re-sent


def test_ambiguous_match_is_skipped_or_takes_the_lowest_id(src, dst, state):
    one = dst.put("contact", {"NAME": "x", "EMAIL": [{"VALUE": "ann@x.ru"}]})
    dst.put("contact", {"NAME": "y", "EMAIL": [{"VALUE": "Ann@x.ru"}]})
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": ""}, id="a")
    report = sync(profile(CONTACTS), state)
    (skipped,) = outcomes(report, "skip")
    assert "2 records match email=ann@x.ru" in skipped.reason
    report = sync(profile(CONTACTS.replace("keys:", "on_ambiguous: first\n  keys:"), name="first"), state)
    assert outcomes(report, "update")[0].target_id == one


def test_duplicates_in_the_source_are_skipped_not_created_twice(src, dst, state):
    """Two rows with the same e-mail (no ids): the first creates, the second is reported as a duplicate."""
    p = profile(CONTACTS)
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": ""}, id="a")
    src.put("rows", {"name": "Ann again", "email": "ANN@x.ru", "phone": "", "title": ""}, id="b")
    report = sync(p, state)
    assert report.summary()["create"] == 1
    (dup,) = outcomes(report, "skip")
    assert dup.source_id == "b" and "duplicate of rows a" in dup.reason
    assert len(dst.rows("contact")) == 1


def test_a_target_linked_to_another_record_is_not_taken(src, dst, state):
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": ""}, id="a")
    p = profile(CONTACTS)
    sync(p, state)
    src.put("rows", {"name": "Ann 2", "email": "ann@x.ru", "phone": "", "title": ""}, id="z")
    report = sync(p, state)
    (skipped,) = outcomes(report, "skip")
    assert skipped.source_id == "z" and "already paired with a; not creating a duplicate" in skipped.reason
    assert len(dst.rows("contact")) == 1


def test_bad_records_fail_alone(src, dst, state):
    """A required field that is empty or a value a transform refuses fails that record; the rest go on."""
    src.put("rows", {"name": "", "email": "a@x.ru", "phone": "", "title": ""}, id="a")
    src.put("rows", {"name": "Bob", "email": "bob@", "phone": "+79160000001", "title": ""}, id="b")
    src.put("rows", {"name": "Cid", "email": "cid@x.ru", "phone": "12", "title": ""}, id="c")
    src.put("rows", {"name": "Dan", "email": "dan@x.ru", "phone": "", "title": ""}, id="d")
    report = sync(profile(CONTACTS), state)
    reasons = {o.source_id: o.reason for o in outcomes(report, "fail")}
    assert reasons == {
        "a": "NAME is required but name is empty",
        "b": "EMAIL: 'bob@' is not an e-mail address",
        "c": "PHONE: '12' is not a phone number",
    }
    assert [o.source_id for o in outcomes(report, "create")] == ["d"]
    log = {e.source_id: e for e in state.log_entries("test") if e.action == "fail"}
    assert log["a"].message == reasons["a"]


def test_a_rejected_write_fails_that_record_and_is_retried(src, dst, state):
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": ""}, id="a")
    src.put("rows", {"name": "Bob", "email": "bob@x.ru", "phone": "", "title": ""}, id="b")
    dst.reject = lambda entity, change: "Bob is not allowed" if change.fields.get("NAME") == "Bob" else None
    p = profile(CONTACTS)
    report = sync(p, state)
    assert [(o.source_id, o.reason) for o in outcomes(report, "fail")] == [("b", "Bob is not allowed")]
    dst.reject = None
    report = sync(p, state)
    assert [o.source_id for o in outcomes(report, "create")] == ["b"]


def test_drift_overwrite_and_keep(src, dst, state):
    """overwrite: a portal edit is undone next run; keep: it stays until the source value changes."""
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": "CEO"}, id="a")
    over = profile(CONTACTS, name="over")
    sync(over, state)
    (target_id,) = dst.rows("contact")
    dst.edit("contact", target_id, {"POST": "edited in the portal"})
    sync(over, state)
    assert dst.rows("contact")[target_id]["POST"] == "CEO"

    keep = profile(CONTACTS + "drift: keep\n", name="keep")
    state.import_links("keep", list(state.export_links("over")))
    sync(keep, state)  # first run of this profile: no snapshot yet
    dst.edit("contact", target_id, {"POST": "edited again"})
    report = sync(keep, state)
    assert dst.rows("contact")[target_id]["POST"] == "edited again"
    assert "fetch" not in report.calls["target"], "unchanged sources need no target read"
    src.edit("rows", "a", {"title": "Chair"})
    sync(keep, state)
    assert dst.rows("contact")[target_id]["POST"] == "Chair"


def test_modes_update_and_create(src, dst, state):
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": "CEO"}, id="a")
    report = sync(profile(CONTACTS + "mode: update\n", name="upd"), state)
    assert outcomes(report, "skip")[0].reason == "no matching record (mode: update never creates)"
    create_only = profile(CONTACTS + "mode: create\n", name="cre")
    sync(create_only, state)
    src.edit("rows", "a", {"title": "Chair"})
    report = sync(create_only, state)
    assert report.writes == 0 and next(iter(dst.rows("contact").values()))["POST"] == "CEO"


def test_value_maps_constants_defaults_and_empty_values(src, dst, state):
    p = profile("""
        fields:
          NAME: name
          STAGE_ID: {from: status, map: {Open: NEW, Won: WON}, unmapped: default, default: NEW}
          TYPE_ID: {const: CLIENT}
          SOURCE_ID: {from: source, default: OTHER}
          POST: {from: title, empty: clear}
          COMMENTS: {from: note}
          OPENED: {from: opened, transform: boolean}
          ASSIGNED: {from: owner, update: false}
    """)
    src.put(
        "rows",
        {"name": "A", "status": "Won", "source": "", "title": "", "note": "", "opened": "да", "owner": 5},
        id="a",
    )
    src.put(
        "rows",
        {
            "name": "B",
            "status": "Unknown",
            "source": "WEB",
            "title": "x",
            "note": "n",
            "opened": "no",
            "owner": 6,
        },
        id="b",
    )
    sync(p, state)
    rows = {r["NAME"]: r for r in dst.rows("contact").values()}
    assert rows["A"] == {
        "NAME": "A",
        "STAGE_ID": "WON",
        "TYPE_ID": "CLIENT",
        "SOURCE_ID": "OTHER",
        "POST": None,
        "OPENED": "Y",
        "ASSIGNED": 5,
    }
    assert rows["B"] == {
        "NAME": "B",
        "STAGE_ID": "NEW",
        "TYPE_ID": "CLIENT",
        "SOURCE_ID": "WEB",
        "POST": "x",
        "COMMENTS": "n",
        "OPENED": "N",
        "ASSIGNED": 6,
    }
    src.edit("rows", "a", {"owner": 9, "note": ""})
    report = sync(p, state)
    assert report.writes == 0, "update: false and empty: keep leave the target alone"


def test_unmapped_values_fail_by_default(src, dst, state):
    src.put("rows", {"name": "A", "status": "Lost"}, id="a")
    report = sync(profile("fields: {NAME: name, STAGE_ID: {from: status, map: {Open: NEW}}}"), state)
    assert outcomes(report, "fail")[0].reason == "STAGE_ID: 'Lost' is not in the value map ('Open')"


def test_company_lookup_by_inn_then_name_created_once(src, dst, state):
    """Companies are found by INN, then by name; a missing one is created once for all its contacts."""
    existing = dst.put("company", {"TITLE": "Vasilek LLC", "INN": ""})
    p = profile("""
        fields:
          NAME: name
          COMPANY_ID:
            lookup:
              entity: company
              by:
                - {field: INN, from: inn, normalise: inn}
                - {field: TITLE, from: company}
              create: {TITLE: company, INN: {from: inn, transform: inn}}
    """)
    src.put("rows", {"name": "A", "company": "Romashka", "inn": "7707083893"}, id="a")
    src.put("rows", {"name": "B", "company": "ROMASHKA ltd", "inn": "7707 083 893"}, id="b")
    src.put("rows", {"name": "C", "company": " vasilek  llc", "inn": ""}, id="c")
    src.put("rows", {"name": "D", "company": "", "inn": ""}, id="d")
    report = sync(p, state)
    companies = dst.rows("company")
    assert len(companies) == 2 and report.related["company"] == 1
    new = next(i for i, c in companies.items() if c["TITLE"] == "Romashka")
    assert companies[new] == {"TITLE": "Romashka", "INN": "7707083893"}
    linked = {r["NAME"]: r.get("COMPANY_ID") for r in dst.rows("contact").values()}
    assert linked == {"A": new, "B": new, "C": existing, "D": None}
    again = sync(p, state)
    assert again.writes == 0 and len(dst.rows("company")) == 2


def test_users_and_enumerations_by_label(src, dst, state):
    dst.put("user", {"EMAIL": "boss@x.ru"}, id="42")
    dst.schema["contact"] = {
        "UF_SIZE": FieldInfo("UF_SIZE", "enumeration", items={"7": "Small", "8": "Large"}),
        "NAME": FieldInfo("NAME"),
        "ASSIGNED_BY_ID": FieldInfo("ASSIGNED_BY_ID"),
    }
    p = profile("""
        fields:
          NAME: name
          ASSIGNED_BY_ID: {from: manager, transform: user_by_email}
          UF_SIZE: {from: size, transform: enum_by_label}
    """)
    src.put("rows", {"name": "A", "manager": "Boss@X.ru", "size": "large"}, id="a")
    src.put("rows", {"name": "B", "manager": "nobody@x.ru", "size": "small"}, id="b")
    report = sync(p, state)
    assert list(dst.rows("contact").values()) == [{"NAME": "A", "ASSIGNED_BY_ID": "42", "UF_SIZE": "8"}]
    assert outcomes(report, "fail")[0].reason == "ASSIGNED_BY_ID: no user with e-mail nobody@x.ru"


def test_ids_are_remapped_through_another_profiles_links(src, dst, state):
    """Portal-to-portal copies: COMPANY_ID of the source portal becomes the target portal's id."""
    companies = profile("fields: {TITLE: title}", name="copy-companies").model_copy(
        update={
            "source": profile("fields: {X: x}").source.model_copy(update={"entity": "companies"}),
            "target": profile("fields: {X: x}").target.model_copy(update={"entity": "company"}),
        }
    )
    src.put("companies", {"title": "Romashka"}, id="c1")
    sync(companies, state)
    (new_company,) = dst.rows("company")
    deals = profile("fields: {TITLE: title, COMPANY_ID: {from: company, links_of: copy-companies}}")
    src.put("rows", {"title": "Deal 1", "company": "c1"}, id="d1")
    src.put("rows", {"title": "Deal 2", "company": "c9"}, id="d2")
    report = sync(deals, state)
    assert [r["COMPANY_ID"] for r in dst.rows("contact").values()] == [new_company]
    assert "c9 is not linked by profile 'copy-companies' yet" in outcomes(report, "fail")[0].reason


def test_where_filters_source_records(src, dst, state):
    head = """
    version: 1
    name: {name}
    source:
      {{connector: memory, entity: rows, options: {{store: src}}, where: [{{field: kind, equals: client}}]}}
    target: {{connector: memory, entity: contact, options: {{store: dst}}}}
    """
    src.put("rows", {"name": "A", "kind": "client"}, id="a")
    src.put("rows", {"name": "B", "kind": "vendor"}, id="b")
    report = sync(profile("fields: {NAME: name}", head=head), state)
    assert [o.source_id for o in report.outcomes] == ["a"]


def test_a_vanished_target_is_recreated_or_unlinked(src, dst, state):
    src.put("rows", {"name": "A"}, id="a")
    p = profile("fields: {NAME: name}")
    sync(p, state)
    (old,) = dst.rows("contact")
    dst.remove("contact", old)
    report = sync(p, state)
    (created,) = outcomes(report, "create")
    assert created.target_id != old and created.reason.startswith("recreated")
    (new,) = dst.rows("contact")
    dst.remove("contact", new)
    unlink = profile("fields: {NAME: name}\ndeletes: {target_missing: unlink}")
    report = sync(unlink, state)
    assert "no longer exists; the link is dropped" in outcomes(report, "skip")[0].reason
    assert dst.rows("contact") == {}


def test_protected_targets_are_never_updated(src, dst, state):
    admin = dst.put("contact", {"NAME": "Root", "EMAIL": [{"VALUE": "root@x.ru"}]})
    src.put("rows", {"name": "Changed", "email": "root@x.ru", "phone": "", "title": ""}, id="a")
    p = profile(CONTACTS + "protected: {match_any: [{field: NAME, equals: Root}]}\n")
    report = sync(p, state)
    assert outcomes(report, "skip")[0].reason == "protected record"
    assert dst.rows("contact")[admin]["NAME"] == "Root"


def test_plan_writes_nothing_and_shows_what_a_run_would_do(src, dst, state):
    src.put("rows", {"name": "Ann", "email": "ann@x.ru", "phone": "", "title": "CEO"}, id="a")
    existing = dst.put("contact", {"NAME": "B", "EMAIL": [{"VALUE": "bob@x.ru"}], "POST": "old"})
    src.put("rows", {"name": "B", "email": "bob@x.ru", "phone": "", "title": "new"}, id="b")
    p = profile(CONTACTS)
    plan = sync(p, state, plan_only=True)
    assert [(o.action, o.source_id) for o in plan.outcomes] == [("create", "a"), ("update", "b")]
    assert [(c.field, c.before, c.after) for c in plan.outcomes[1].changes] == [("POST", "old", "new")]
    assert dst.writes == [] and list(state.export_links("test")) == [] and state.runs("test") == []
    run = sync(p, state)
    assert [(o.action, o.source_id) for o in run.outcomes] == [("create", "a"), ("update", "b")]
    assert run.outcomes[1].target_id == existing


def test_writes_go_in_batches_of_fifty(src, dst, state):
    for i in range(120):
        src.put("rows", {"name": f"n{i}"}, id=f"r{i:03}")
    report = sync(profile("fields: {NAME: name}"), state)
    assert report.summary()["create"] == 120
    assert [n for kind, _, n in dst.calls if kind == "write"] == [50, 50, 20]
    assert report.calls["target"] == {"write": 3}


def test_smaller_batches_when_the_profile_asks(src, dst, state):
    for i in range(12):
        src.put("rows", {"name": f"n{i}"}, id=f"r{i:03}")
    sync(profile("fields: {NAME: name}\nbatch_size: 5\n"), state)
    assert [n for kind, _, n in dst.calls if kind == "write"] == [5, 5, 2]


def test_the_run_log_is_append_only_per_record(src, dst, state):
    src.put("rows", {"name": "A"}, id="a")
    p = profile("fields: {NAME: name}")
    sync(p, state)
    src.edit("rows", "a", {"name": "B"})
    sync(p, state)
    log = [(e.run_id, e.action, e.source_id, e.fields) for e in state.log_entries("test")]
    assert log[0][:3] == (1, "create", "a") and log[1][:3] == (2, "update", "a")
    assert log[1][3] == [{"side": "target", "field": "NAME", "before": "A", "after": "B"}]
    assert [r["status"] for r in state.runs("test")] == ["ok", "ok"]

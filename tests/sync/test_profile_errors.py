"""Every profile error names the file, the line and the field, and suggests the fix when it can."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from b24kit.errors import ConfigError
from b24kit.sync import ProfileError, load_profile, load_profile_text

GOOD = """\
version: 1
name: contacts
source:
  connector: memory
  entity: rows
  options: {store: src}
target:
  connector: memory
  entity: contact
fields:
  NAME: {from: name}
"""


def issues_of(text: str, env: dict[str, str] | None = None) -> list[ConfigError]:
    with pytest.raises(ProfileError) as caught:
        load_profile_text(textwrap.dedent(text), source="p.yaml", env=env or {})
    assert caught.value.issues, "a ProfileError lists its issues"
    assert all(i.source == "p.yaml" for i in caught.value.issues)
    return caught.value.issues


def find(issues: list[ConfigError], field: str | None) -> ConfigError:
    for issue in issues:
        if issue.field == field:
            return issue
    raise AssertionError(f"no issue for {field!r} in {[str(i) for i in issues]}")


CASES = [
    # (id, profile text, line, field, words in the message, words in the suggestion)
    ("unknown top-level key", GOOD + "diretion: two_way\n", 12, "diretion", "unknown key", "direction"),
    (
        "unknown key in a side",
        GOOD.replace("options: {store: src}", "optons: {store: src}"),
        6,
        "source.optons",
        "unknown key 'optons'",
        "options",
    ),
    (
        "unknown key in a field map",
        GOOD.replace("{from: name}", "{fro: name}"),
        11,
        "fields.NAME.fro",
        "unknown key 'fro'",
        "did you mean 'from'",
    ),
    (
        "misspelt choice",
        GOOD + "direction: two-way\n",
        12,
        "direction",
        "'two-way' is not allowed",
        "two_way",
    ),
    (
        "misspelt normaliser",
        GOOD + "match:\n  keys:\n    - {source: e, target: EMAIL, normalise: emial}\n",
        14,
        "match.keys.0.normalise",
        "'emial' is not allowed",
        "email",
    ),
    (
        "unknown transform",
        GOOD.replace("{from: name}", "{from: name, transform: dat}"),
        11,
        "fields.NAME.transform",
        "unknown transform 'dat'",
        "date",
    ),
    (
        "unknown transform option",
        GOOD.replace("{from: name}", "\n    from: name\n    transform: {name: date, fromats: [x]}"),
        13,
        "fields.NAME.transform.fromats",
        "unknown option 'fromats'",
        "formats",
    ),
    (
        "bad transform option value",
        GOOD.replace("{from: name}", "{from: name, transform: {name: number, decimals: -1}}"),
        11,
        "fields.NAME.transform.decimals",
        "greater than or equal to 0",
        None,
    ),
    (
        "unknown connector",
        GOOD.replace("connector: memory\n  entity: contact", "connector: memroy\n  entity: contact"),
        8,
        "target.connector",
        "unknown connector 'memroy'",
        "memory",
    ),
    (
        "unknown connector option",
        GOOD.replace("{store: src}", "{stor: src}"),
        6,
        "source.options.stor",
        "unknown option 'stor'",
        "store",
    ),
    (
        "missing required key",
        GOOD.replace("name: contacts\n", ""),
        1,
        None,
        "missing required key 'name'",
        None,
    ),
    (
        "field map of the wrong kind",
        GOOD.replace("{from: name}", "5"),
        11,
        "fields.NAME",
        "a field map is",
        None,
    ),
    (
        "bad name",
        GOOD.replace("name: contacts", "name: My Contacts"),
        2,
        "name",
        "should match pattern",
        None,
    ),
]

TWO_WAY = """\
version: 1
name: both
source: {connector: memory, entity: rows}
target: {connector: memory, entity: contact}
direction: two_way
fields:
  STAGE_ID:
    from: status
    map: {open: NEW, new: NEW}
  FULL: {from: [first, last]}
"""

CASES += [
    ("non-reversible map", TWO_WAY, 9, "fields.STAGE_ID.map", "sends both 'open' and 'new' to 'NEW'", None),
    (
        "several sources cannot flow back",
        TWO_WAY.replace("new: NEW", "won: WON"),
        10,
        "fields.FULL.from",
        "cannot flow back",
        None,
    ),
    (
        "to_source in one-way",
        GOOD.replace("{from: name}", "{from: name, direction: to_source}"),
        11,
        "fields.NAME.direction",
        "needs the profile's direction: two_way",
        None,
    ),
    (
        "owner in one-way",
        GOOD.replace("{from: name}", "{from: name, owner: source}"),
        11,
        "fields.NAME.owner",
        "two-way profiles only",
        None,
    ),
    (
        "deactivate without fields",
        GOOD + "deletes: {mode: deactivate}\n",
        12,
        "deletes",
        "needs `deactivate`",
        None,
    ),
    (
        "bad cron",
        GOOD + "triggers: {schedule: '61 * * * *'}\n",
        12,
        "triggers.schedule",
        "outside 0-59",
        None,
    ),
    (
        "cron with 4 fields",
        GOOD + "triggers: {schedule: '* * * *'}\n",
        12,
        "triggers.schedule",
        "5 fields",
        None,
    ),
    (
        "unknown zone",
        GOOD + "triggers: {schedule: {cron: '@daily', timezone: Moscow}}\n",
        12,
        "triggers.schedule.timezone",
        "unknown time zone",
        None,
    ),
    (
        "condition with two operators",
        GOOD + "protected: {match_any: [{field: A, equals: 1, in: [2]}]}\n",
        12,
        "protected.match_any.0",
        "exactly one operator",
        None,
    ),
    (
        "percent that is not one",
        GOOD + "deletes: {guard: {max_share: ten%}}\n",
        12,
        "deletes.guard.max_share",
        "not a percentage",
        None,
    ),
    (
        "unmapped default without a default",
        GOOD.replace("{from: name}", "{from: name, map: {a: b}, unmapped: default}"),
        11,
        "fields.NAME",
        "needs a `default`",
        None,
    ),
    (
        "excel cannot be a target",
        GOOD.replace("connector: memory\n  entity: contact", "connector: excel\n  entity: x"),
        8,
        "target.connector",
        "cannot fetch records by id, look records up, write records",
        "choose another",
    ),
    (
        "excel cannot read incrementally",
        GOOD.replace(
            "connector: memory\n  entity: rows\n  options: {store: src}",
            "connector: excel\n  entity: rows\n  cursor: {field: modified}",
        ),
        4,
        "source.connector",
        "'excel' cannot read incrementally",
        "remove `cursor`",
    ),
    (
        "unsupported version",
        GOOD.replace("version: 1", "version: 2"),
        1,
        "version",
        "unsupported profile version 2",
        "version: 1",
    ),
]


@pytest.mark.parametrize(
    ("text", "line", "field", "message", "suggestion"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_names_line_field_and_fix(text, line, field, message, suggestion):
    """The error points at the exact line and dotted field, says what is wrong and how to fix it."""
    issue = find(issues_of(text), field)
    assert issue.line == line
    assert message in issue.message
    if suggestion is not None:
        assert issue.suggestion is not None and suggestion in issue.suggestion
    assert str(issue).startswith(f"p.yaml:{line}: ")


def test_malformed_yaml_names_the_line():
    """A YAML syntax error is reported with its line, not a traceback."""
    (issue,) = issues_of(GOOD + "fields2: [unclosed\nnext: 1\n")
    assert issue.line is not None and issue.line >= 12
    assert issue.message.startswith("invalid YAML")


def test_bad_indentation_names_the_line():
    (issue,) = issues_of("version: 1\nname: x\n  source: y\n")
    assert issue.line == 3 and "invalid YAML" in issue.message


def test_duplicate_keys_are_errors():
    """YAML would silently keep the last of two equal keys; a profile refuses them."""
    (issue,) = issues_of(GOOD + "  NAME: {from: other}\n")
    assert (issue.line, issue.field) == (12, "fields.NAME")
    assert "duplicate key 'NAME'" in issue.message


def test_missing_environment_variable_names_it():
    """``${NAME}`` that is not set names the variable, the line and the field."""
    (issue,) = issues_of(GOOD.replace("{store: src}", "{store: '${MEMORY_STORE}'}"))
    assert (issue.line, issue.field) == (6, "source.options.store")
    assert "MEMORY_STORE is not set" in issue.message


def test_only_plain_variable_names_are_substituted():
    (issue,) = issues_of(GOOD.replace("{store: src}", "{store: '${A:-default}'}"))
    assert "only ${NAME} is substituted" in issue.message


def test_every_problem_is_listed_at_once():
    """Several mistakes give several issues, each with its own line."""
    text = GOOD.replace("{from: name}", "{fro: name}") + "direction: sideways\nmode: upsrt\n"
    found = issues_of(text)
    assert {(i.line, i.field) for i in found} >= {(11, "fields.NAME.fro"), (12, "direction"), (13, "mode")}


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text\n"])
def test_a_profile_is_a_mapping(text):
    (issue,) = issues_of(text)
    assert "a profile is a YAML mapping" in issue.message and issue.line == 1


def test_missing_file_is_reported(tmp_path: Path):
    with pytest.raises(ProfileError) as caught:
        load_profile(tmp_path / "nope.yaml", env={})
    assert "file not found" in str(caught.value)


def test_undecodable_file_is_reported(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.encode() + "# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ProfileError) as caught:
        load_profile(path, env={})
    assert "cannot read the file" in str(caught.value)

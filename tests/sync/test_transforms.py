"""Normalisers and the built-in transforms, found through the b24kit.transforms entry points."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from b24kit.errors import ConfigError
from b24kit.sync import normalise
from b24kit.sync.connector import FieldInfo
from b24kit.sync.connectors.memory import MemoryConnector, MemoryOptions, memory_store
from b24kit.sync.engine.io import FieldContext, SideIO
from b24kit.sync.transforms import build_transform, known_transforms, transform_class


@pytest.fixture
def ctx() -> FieldContext:
    store = memory_store("portal")
    store.put("user", {"EMAIL": "Ann@Example.com", "NAME": "Ann"}, id="7")
    store.put("user", {"EMAIL": "bob@example.com", "NAME": "Bob"}, id="9")
    store.schema["contact"] = {
        "UF_COLOR": FieldInfo("UF_COLOR", "enumeration", items={"101": "Red", "102": "Dark Blue"}),
    }
    io = SideIO("target", MemoryConnector(MemoryOptions(store="portal")), "contact", 50)
    return FieldContext(io, "UF_COLOR")


def t(name: str, **options):
    return build_transform(name, options)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Ann@Example.COM ", "ann@example.com"),
        ("mailto:a@b.ru", "a@b.ru"),
        ("a@b", None),
        ("no", None),
    ],
)
def test_email_normaliser(raw, expected):
    assert normalise.email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("8 (916) 123-45-67", "RU", "+79161234567"),
        ("+7 916 123 45 67", "RU", "+79161234567"),
        ("030 12345678", "DE", "+493012345678"),
        ("12", "RU", None),
        ("not a phone", "RU", None),
        (79161234567, "RU", "+79161234567"),
    ],
)
def test_phone_normaliser_gives_e164(raw, region, expected):
    assert normalise.phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("7707083893", "7707083893"),
        (" 7707 083 893 ", "7707083893"),
        ("7707083894", None),
        ("500100732259", "500100732259"),
        ("123", None),
    ],
)
def test_inn_normaliser_checks_the_control_digits(raw, expected):
    assert normalise.inn(raw) == expected


def test_text_normaliser_trims_and_folds():
    assert normalise.text("  ООО   «Ромашка» ") == "ооо «ромашка»"
    assert normalise.keys_of([{"VALUE": "A@x.ru"}, {"VALUE": "a@x.ru"}, {"VALUE": "b@x.ru"}], "email") == [
        "a@x.ru",
        "b@x.ru",
    ]


def test_built_ins_are_registered_as_entry_points():
    assert {
        "date",
        "datetime",
        "number",
        "integer",
        "boolean",
        "text",
        "email",
        "phone",
        "inn",
        "split",
        "user_by_email",
        "enum_by_label",
        "multifield",
    } <= set(known_transforms())


def test_unknown_transform_suggests_the_closest():
    with pytest.raises(ConfigError) as caught:
        transform_class("multi_field")
    assert caught.value.suggestion == "did you mean 'multifield'?"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("31.12.2024", "2024-12-31"),
        ("2024-12-31", "2024-12-31"),
        (datetime(2024, 12, 31, 15, 0), "2024-12-31"),
        (date(2024, 2, 29), "2024-02-29"),
        (45657, "2024-12-31"),
        ("2024-12-31T00:00:00+03:00", "2024-12-31"),
    ],
)
def test_date_from_typed_cells_serials_and_text(value, expected, ctx):
    assert t("date").forward(value, ctx) == expected


def test_date_rejects_impossible_dates_and_reverses_to_the_first_format(ctx):
    with pytest.raises(ValueError, match="is not a date"):
        t("date").forward("31.02.2024", ctx)
    date_t = t("date", formats=["%d/%m/%Y"])
    assert date_t.reverse("2024-12-31T00:00:00+03:00", ctx) == "31/12/2024"
    assert date_t.same("2024-12-31", "2024-12-31T03:00:00+03:00")


def test_datetime_applies_the_zone_to_naive_values(ctx):
    dt = t("datetime", timezone="Europe/Moscow")
    assert dt.forward("31.12.2024 10:30", ctx) == "2024-12-31T10:30:00+03:00"
    assert dt.same("2024-12-31T07:30:00+00:00", "2024-12-31T10:30:00+03:00")
    assert dt.reverse(datetime(2024, 12, 31, 7, 30, tzinfo=UTC), ctx) == "2024-12-31T10:30:00+03:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1 234,50", 1234.5),
        ("1,234.50", 1234.5),
        ("1.234,50", 1234.5),
        (" 12 ", 12),
        (3.0, 3),
        ("7%", 7),
    ],
)
def test_number_reads_people_formats(value, expected, ctx):
    assert t("number").forward(value, ctx) == expected


def test_number_rounding_and_errors(ctx):
    assert t("number", decimals=2).forward("10.555", ctx) == 10.56
    with pytest.raises(ValueError, match="is not a number"):
        t("number").forward("abc", ctx)
    with pytest.raises(ValueError, match="not a whole number"):
        t("integer").forward("1.5", ctx)


@pytest.mark.parametrize(("value", "expected"), [("да", "Y"), ("No", "N"), (True, "Y"), (0, "N"), ("x", "Y")])
def test_boolean_to_bitrix_flags(value, expected, ctx):
    assert t("boolean").forward(value, ctx) == expected


def test_boolean_custom_values_and_reverse(ctx):
    b = t("boolean", true=1, false=0)
    assert b.forward("yes", ctx) == 1 and b.reverse(0, ctx) is False
    with pytest.raises(ValueError, match="is not yes or no"):
        t("boolean").forward("maybe", ctx)


def test_text_joins_several_values_and_cases(ctx):
    assert t("text").forward(("  Ann ", None, "Lee"), ctx) == "Ann Lee"
    assert t("text", case="upper", max_length=3).forward("abcdef", ctx) == "ABC"


def test_user_by_email_finds_the_person_on_the_written_side(ctx):
    user = t("user_by_email")
    assert user.forward("ann@example.com", ctx) == "7"
    assert user.reverse("9", ctx) == "bob@example.com"
    with pytest.raises(ValueError, match=r"no user with e-mail x@y\.ru"):
        user.forward("x@y.ru", ctx)
    assert t("user_by_email", missing="empty").forward("x@y.ru", ctx) is None


def test_user_by_email_batches_lookups(ctx):
    user = t("user_by_email")
    user.prefetch(["ann@example.com", "bob@example.com"], ctx)
    calls_before = dict(ctx.io.calls)
    assert user.forward("bob@example.com", ctx) == "9"
    assert ctx.io.calls == calls_before  # answered from the batch


def test_enum_by_label_maps_labels_to_item_ids(ctx):
    enum = t("enum_by_label")
    assert enum.forward(" dark   blue ", ctx) == "102"
    assert enum.forward(["Red", "Dark Blue"], ctx) == ["101", "102"]
    assert enum.forward("101", ctx) == "101"
    assert enum.reverse("101", ctx) == "Red"
    with pytest.raises(ValueError, match="'Purple' is not a value of UF_COLOR"):
        enum.forward("Purple", ctx)
    assert enum.same(["101", "102"], ["102", "101"])


def test_multifield_builds_items_and_sends_only_new_ones(ctx):
    phones = t("multifield", kind="phone", value_type="MOBILE")
    desired = phones.forward(("8 916 123-45-67; +7 916 000 00 01", "+79161234567"), ctx)
    assert desired == [
        {"VALUE": "+79161234567", "VALUE_TYPE": "MOBILE"},
        {"VALUE": "+79160000001", "VALUE_TYPE": "MOBILE"},
    ]
    current = [{"ID": "5", "VALUE": "8 (916) 123-45-67", "VALUE_TYPE": "WORK"}]
    assert not phones.same(desired, current)
    assert phones.patch(desired, current) == [{"VALUE": "+79160000001", "VALUE_TYPE": "MOBILE"}]
    assert phones.same(desired, [*current, {"ID": "6", "VALUE": "+79160000001"}])
    assert phones.reverse(current, ctx) == "8 (916) 123-45-67"
    with pytest.raises(ValueError, match="is not a phone number"):
        phones.forward("12", ctx)


def test_split_lists_and_joins_back(ctx):
    assert t("split").forward("a, b;c\n", ctx) == ["a", "b", "c"]
    assert t("split").reverse(["a", "b"], ctx) == "a, b"

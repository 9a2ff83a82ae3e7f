"""User-field types, default settings, language-map labels and the ``userfield.get/list`` wire form."""

from __future__ import annotations

from typing import Any

from b24kit.emulator.query import flag, php_int

USER_TYPES = {
    "string",
    "integer",
    "double",
    "boolean",
    "datetime",
    "date",
    "money",
    "url",
    "address",
    "enumeration",
    "file",
    "employee",
    "crm_status",
    "iblock_section",
    "iblock_element",
    "crm",
}
LANGS = (
    "ar",
    "br",
    "de",
    "en",
    "fr",
    "hi",
    "id",
    "in",
    "it",
    "ja",
    "kz",
    "la",
    "ms",
    "pl",
    "ru",
    "sc",
    "tc",
    "th",
    "tr",
    "ua",
    "vn",
)
LABEL_KEYS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE", "HELP_MESSAGE")
_IBLOCK = {
    "IBLOCK_TYPE_ID": "",
    "IBLOCK_ID": 0,
    "DEFAULT_VALUE": "",
    "DISPLAY": "LIST",
    "LIST_HEIGHT": 1,
    "ACTIVE_FILTER": "N",
}
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "string": {"SIZE": 20, "ROWS": 1, "REGEXP": "", "MIN_LENGTH": 0, "MAX_LENGTH": 0, "DEFAULT_VALUE": ""},
    "integer": {"SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None},
    "double": {"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None},
    "boolean": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""], "LABEL_CHECKBOX": ""},
    "date": {"DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""}},
    "datetime": {"DEFAULT_VALUE": {"TYPE": "NONE", "VALUE": ""}, "USE_SECOND": "Y", "USE_TIMEZONE": "N"},
    "enumeration": {"DISPLAY": "LIST", "LIST_HEIGHT": 1, "CAPTION_NO_VALUE": "", "SHOW_NO_VALUE": "Y"},
    "url": {"POPUP": "Y", "SIZE": 20, "MIN_LENGTH": 0, "MAX_LENGTH": 0, "DEFAULT_VALUE": "", "ROWS": 1},
    "file": {
        "SIZE": 20,
        "LIST_WIDTH": 0,
        "LIST_HEIGHT": 0,
        "MAX_SHOW_SIZE": 0,
        "MAX_ALLOWED_SIZE": 0,
        "EXTENSIONS": [],
        "TARGET_BLANK": "Y",
    },
    "crm_status": {"ENTITY_TYPE": ""},
    "iblock_section": _IBLOCK,
    "iblock_element": _IBLOCK,
}
_CRM_BINDINGS = ("LEAD", "CONTACT", "COMPANY", "DEAL")


def show_filter(value: Any) -> str:
    text = str(value).strip().upper()
    if text in ("I", "E", "S", "N"):
        return text
    return "E" if flag(value) == "Y" else "N"


def settings_for(user_type: str, given: Any) -> dict[str, Any]:
    settings = dict(DEFAULT_SETTINGS.get(user_type, {}))
    if isinstance(given, dict):
        settings.update(given)
    if user_type == "boolean":
        settings["DEFAULT_VALUE"] = 1 if php_int(settings.get("DEFAULT_VALUE")) >= 1 else 0
    if user_type == "crm":
        bindings = {k: flag(settings.get(k, "N")) for k in _CRM_BINDINGS}
        if "Y" not in bindings.values():
            bindings["LEAD"] = "Y"  # docs: with none of them given, binding to leads is enabled
        settings.update(bindings)
    return settings


def lang_map(value: Any, fallback: dict[str, str]) -> dict[str, str]:
    """A label given as a string (every language) or a ``lang_map`` (others from ``fallback``)."""
    if isinstance(value, dict):
        return {lang: str(value.get(lang, fallback[lang]) or "") for lang in LANGS}
    if value is None:
        return dict(fallback)
    return dict.fromkeys(LANGS, str(value))


def label(row: dict[str, Any], key: str, language: str) -> str:
    labels = row.get(key) or {}
    if isinstance(labels, str):
        return labels
    return str(labels.get(language) or labels.get("en") or "")


def render_userfield(row: dict[str, Any], lang: str | None = "*") -> dict[str, Any]:
    """A ``userfield.get`` (``lang="*"``: language maps) or ``userfield.list`` row.

    In lists the labels come only when the filter names a ``LANG`` (docs), as strings.
    """
    result: dict[str, Any] = {
        "ID": str(row["ID"]),
        "ENTITY_ID": row["ENTITY_ID"],
        "FIELD_NAME": row["FIELD_NAME"],
        "USER_TYPE_ID": row["USER_TYPE_ID"],
        "XML_ID": row.get("XML_ID"),
        "SORT": str(row["SORT"]),
        "MULTIPLE": row["MULTIPLE"],
        "MANDATORY": row["MANDATORY"],
        "SHOW_FILTER": row["SHOW_FILTER"],
        "SHOW_IN_LIST": row["SHOW_IN_LIST"],
        "EDIT_IN_LIST": row["EDIT_IN_LIST"],
        "IS_SEARCHABLE": row["IS_SEARCHABLE"],
        "SETTINGS": row["SETTINGS"] or [],
    }
    for key in LABEL_KEYS:
        if lang == "*":
            result[key] = dict(row.get(key) or {})
        elif lang is not None:
            result[key] = (row.get(key) or {}).get(lang) or None
    if row["USER_TYPE_ID"] == "enumeration":
        result["LIST"] = [
            {
                "ID": str(item["ID"]),
                "SORT": str(item["SORT"]),
                "VALUE": item["VALUE"],
                "DEF": item["DEF"],
                "XML_ID": item["XML_ID"],
            }
            for item in row["LIST"]
        ]
    return result

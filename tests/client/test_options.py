"""Vendor options without Home Assistant: their checks, what is saved, and the
excluded extensions leaving the listed ones they name."""

from __future__ import annotations

from typing import Any

from custom_components.pbx_hub.client.models import Extension
from custom_components.pbx_hub.client.options import (
    CURRENCY,
    EXCLUDED_EXTENSIONS,
    OptionField,
    check_fields,
    currency_code,
    followed_extensions,
    merged_options,
    not_excluded,
    on_followed_extensions,
)

FIELDS = (OptionField(key=CURRENCY, check=currency_code), OptionField(key="nodes"))


def test_followed_extensions_are_the_listed_ones_not_excluded() -> None:
    listed = {"1": "Arthur", "2": "Bea", "3": "Cas"}
    options = {EXCLUDED_EXTENSIONS: ["2", "9"]}
    assert followed_extensions(listed, options) == {"1": "Arthur", "3": "Cas"}
    assert followed_extensions(listed, {}) == listed
    # Not listed (yet): none to follow, whatever the options.
    assert followed_extensions(None, options) == {}


def test_check_fields_keeps_the_checked_value_or_names_the_error() -> None:
    values: dict[str, Any] = {CURRENCY: " eur ", "nodes": "x"}
    assert check_fields(FIELDS, values) == {}
    assert values == {CURRENCY: "EUR", "nodes": "x"}
    values = {CURRENCY: "euro"}
    assert check_fields(FIELDS, values) == {CURRENCY: "invalid_currency"}
    assert values == {CURRENCY: "euro"}
    # Left empty: nothing to check.
    assert check_fields(FIELDS, {CURRENCY: ""}) == {}


def test_merged_options_keep_what_was_not_shown_and_clear_emptied_fields() -> None:
    saved = {EXCLUDED_EXTENSIONS: ["2"], CURRENCY: "EUR", "nodes": "a", "x": 1}
    entered = {"fast_interval": 60, "nodes": "b"}
    assert merged_options(saved, entered, FIELDS) == {
        EXCLUDED_EXTENSIONS: ["2"],
        "nodes": "b",
        "x": 1,
        "fast_interval": 60,
    }


def _extension(extension_id: str, number: str) -> Extension:
    return Extension(id=extension_id, number=number, name=f"Ext {number}")


def test_extension_keys_leave_out_what_the_options_exclude() -> None:
    options = {EXCLUDED_EXTENSIONS: ["2"]}
    assert not_excluded(["1", "2", "3"], options) == ["1", "3"]
    assert not_excluded(["1", "2"], {}) == ["1", "2"]


def test_keys_on_followed_extensions_by_id_or_number() -> None:
    # Ids need not be the numbers: "e1" is 101, "e2" is 102 and left out.
    listed = {"e1": _extension("e1", "101"), "e2": _extension("e2", "102")}
    options = {EXCLUDED_EXTENSIONS: ["e2"]}
    keys = ["e1", "e2", "101", "102", "600"]
    assert on_followed_extensions(keys, listed, options, "id") == ["e1"]
    # 600 is a queue's number, 102 an excluded extension's: neither is kept.
    assert on_followed_extensions(keys, listed, options, "number") == ["101"]
    assert on_followed_extensions(keys, None, options, "number") == []

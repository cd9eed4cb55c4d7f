"""The conversion rules: loose where vendors are (numeric text, ids as number
or text), strict elsewhere, so that a value of the wrong kind is unknown or an
error, never garbage shown as a value (issue 8, the wrong-types review).
"""

from __future__ import annotations

import pytest

from custom_components.pbx_hub.client import PbxResponseError, pbxware, tim4biz
from custom_components.pbx_hub.client.convert import (
    readable,
    to_bool,
    to_float,
    to_key,
    to_text,
    unique,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" Ann ", "Ann"), ("", None), (7, None), (1.5, None), (True, None), ([], None)],
)
def test_text_only_from_text(value: object, expected: str | None) -> None:
    assert to_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("37", 37.0),
        ("37%", 37.0),
        (" 61 % ", 61.0),
        ("-4.5", -4.5),
        (12, 12.0),
        ("3 calls", None),
        ("v2", None),
        ("OK (12 ms)", None),
        ("12.5.1", None),
        ([3], None),
        ({"n": 3}, None),
    ],
)
def test_numbers_only_from_numbers_or_text_that_is_one(
    value: object, expected: float | None
) -> None:
    assert to_float(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("101", "101"),
        (101, "101"),
        (" 0042 ", "0042"),
        # Text is taken as it is: ids and numbers are free text on some PBXs.
        ("v2", "v2"),
        ("+31 20 123 4567", "+31 20 123 4567"),
        ("Jan.Jansen@example.com", "Jan.Jansen@example.com"),
        ("   ", None),
        ("", None),
        (True, None),
        (1.5, None),
        (None, None),
        ({"id": 1}, None),
    ],
)
def test_keys_from_text_or_integers(value: object, expected: str | None) -> None:
    assert to_key(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(1, True), (0, False), (2, None), (7, None), (1.0, None)]
)
def test_flags_from_one_and_zero_only(value: object, expected: bool | None) -> None:
    assert to_bool(value) is expected


def test_unique_refuses_a_key_twice() -> None:
    assert unique([("a", 1), (None, 2), ("b", 3)], "test") == {"a": 1, "b": 3}
    with pytest.raises(PbxResponseError, match="same id"):
        unique([("a", 1), ("a", 2)], "test")


def test_readable_refuses_a_list_of_nothing_readable() -> None:
    assert readable([], to_key, "test") == []
    assert readable([1, None, "x"], to_key, "test") == ["1", "x"]
    with pytest.raises(PbxResponseError, match="no row can be read"):
        readable([None, 1.5], to_key, "test")


# ---------------------------------------------------------------- the review's cases

STATUS = {
    "cpu": {"inuse": "16%"},
    "memory": {"inuse": "66"},
    "disk_usage": {"inuse": "74 %"},
    "ext_online": {"count": 2},
    "calls": {"now": 1, "last hour": 3, "today": 9, "answared calls": 7},
    "sip_registrations": {"SIP Registrations": {"success": 2, "failed": 0}},
    "licensing": {"ext": {"inuse": 2, "max": 10}},
    "services": {"asterisk": "running"},
}


def test_pbxware_status_with_loose_types_reads_the_same() -> None:
    loose = {
        **STATUS,
        "memory": {"inuse": 66},
        "ext_online": {"count": "2"},
        "calls": {"now": "1", "last hour": "3", "today": "9", "answared calls": "7"},
    }
    status = pbxware.parse_status(loose)
    assert status == pbxware.parse_status(STATUS)
    assert (status.cpu_percent, status.memory_percent) == (16.0, 66.0)


def test_pbxware_status_with_swapped_types_is_refused() -> None:
    """Every text sent as its length: CPU "16%" arrives as 3, a service's
    "running" as 7. The status is refused instead of showing 3 % CPU and every
    service down.
    """
    swapped = {**STATUS, "cpu": {"inuse": 3}, "services": {"asterisk": 7}}
    with pytest.raises(PbxResponseError, match="no text"):
        pbxware.parse_status(swapped)


def test_pbxware_reads_extension_numbers_sent_as_numbers() -> None:
    loose = {"1": {"ext": 101, "name": "Ann"}, "2": {"ext": "102", "name": "Bob"}}
    numbers = {e.id: e.number for e in pbxware.parse_extensions(loose, []).values()}
    assert numbers == {"1": "101", "2": "102"}
    # A name sent as a number is no name: the number stands in.
    assert pbxware.parse_extensions({"1": {"ext": "101", "name": 3}}, [])["1"].name == (
        "101"
    )


def test_pbxware_matches_no_state_by_a_number_two_rows_have() -> None:
    monitors = {"7": {"ext": "100", "dnd": "yes"}, "8": {"ext": 100, "dnd": ""}}
    extension = pbxware.parse_extensions({"1": {"ext": "100"}}, monitors)["1"]
    assert (extension.dnd, extension.registered) == (None, None)


def test_pbxware_refuses_a_list_of_no_readable_row() -> None:
    with pytest.raises(PbxResponseError, match="no row"):
        pbxware.parse_dids({"1": ["3293456789"], "2": ["3293456788"]})
    with pytest.raises(PbxResponseError, match="same id"):
        pbxware.rows([{"id": 1}, {"id": "1"}])
    assert pbxware.parse_dids([]) == {}


def test_tim4biz_refuses_duplicate_extensions() -> None:
    """Extensions "201" and "202" sent as their length (3) would read as one
    extension "3" (a stray device) with another's figures.
    """
    swapped = [
        {"Extension": 3, "Name": 10, "Calls": "3", "Duration": "540"},
        {"Extension": 3, "Name": 9, "Calls": "0", "Duration": "0"},
    ]
    with pytest.raises(PbxResponseError, match="same id"):
        tim4biz.parse_usage(swapped)


def test_tim4biz_reads_loose_types_with_the_right_values() -> None:
    loose = [{"Extension": 201, "Name": "Ann", "Calls": "3", "Duration": "540"}]
    usage = tim4biz.parse_usage(loose)["201"]
    assert (usage.name, usage.calls, usage.talk_seconds) == ("Ann", 3, 540)


def test_tim4biz_refuses_rows_none_of_which_is_readable() -> None:
    with pytest.raises(PbxResponseError, match="no row can be read"):
        tim4biz.parse_usage([{"Extension": 2.5}, {"Name": "Ann"}])
    assert tim4biz.parse_usage([]) == {}

"""PBXware parsers on recorded bodies, one test per quirk of the research notes."""

from __future__ import annotations

from datetime import UTC, datetime
import json

import pytest

from custom_components.pbx_hub.client import (
    DestinationType,
    LicenseUsage,
    PbxResponseError,
)
from custom_components.pbx_hub.client.http import decode_json
from custom_components.pbx_hub.client.pbxware import (
    is_registered,
    parse_dids,
    parse_extensions,
    parse_live_calls,
    parse_status,
    parse_tenants,
    rows,
    to_bool,
    to_float,
    to_int,
)
from tests.conftest import FIXTURES, load_fixture_json


def _text(name: str) -> str:
    return (FIXTURES / "pbxware" / name).read_bytes().decode("utf-8")


def test_status_numbers_as_strings_and_percent_signs() -> None:
    status = parse_status(load_fixture_json("pbxware/dashboard.json"))
    assert (status.cpu_percent, status.memory_percent, status.disk_percent) == (
        37,
        52,
        61,
    )
    assert status.extensions_online == 7
    assert (status.active_calls, status.calls_last_hour, status.calls_today) == (
        2,
        11,
        40,
    )
    assert status.answered_calls_today == 31  # from the misspelt "answared calls"
    assert (status.sip_registrations_ok, status.sip_registrations_failed) == (7, 2)
    assert status.licenses["ext"] == LicenseUsage(in_use=30, maximum=50)
    assert status.services_not_running == ["httpd"]


def test_status_empty_objects_arrive_as_lists() -> None:
    status = parse_status(load_fixture_json("pbxware/dashboard_empty.json"))
    assert status.cpu_percent is None
    assert status.memory_percent is None
    assert status.disk_percent is None
    assert status.extensions_online == 0
    assert status.calls_today is None
    assert status.licenses == {}
    assert status.services == {}
    assert status.services_not_running == []


def test_status_rejects_a_scalar_where_an_object_belongs() -> None:
    answers = load_fixture_json("pbxware/dashboard.json")
    answers["cpu"] = 37
    with pytest.raises(PbxResponseError):
        parse_status(answers)


def test_extensions_merge_list_and_monitor() -> None:
    extensions = parse_extensions(
        load_fixture_json("pbxware/ext_list.json"),
        load_fixture_json("pbxware/monitor_list.json"),
    )
    assert set(extensions) == {"1", "2", "3"}
    first = extensions["1"]
    assert (first.number, first.name, first.email) == (
        "530",
        "User 530",
        "u530@example.com",
    )
    assert (first.registered, first.ip_address, first.dnd, first.on_call) == (
        True,
        "10.0.0.21",
        True,
        False,
    )
    assert first.model == "Generic SIP"
    second = extensions["2"]
    assert (second.registered, second.ip_address, second.dnd, second.enabled) == (
        False,
        None,
        False,
        False,
    )
    # monitor.list keys this one by another id: matched by extension number.
    lobby = extensions["3"]
    assert (lobby.registered, lobby.on_call) == (True, True)


def test_extensions_without_monitor_row_have_unknown_state() -> None:
    extensions = parse_extensions(load_fixture_json("pbxware/ext_list.json"), [])
    assert extensions["1"].registered is None
    assert extensions["1"].dnd is None


def test_empty_lists() -> None:
    assert parse_extensions([], []) == {}
    assert parse_dids([]) == {}
    assert parse_tenants([]) == {}


def test_rows_accepts_a_list_and_refuses_text() -> None:
    assert rows([{"id": 4, "name": "x"}, "junk"]) == {"4": {"id": 4, "name": "x"}}
    with pytest.raises(PbxResponseError):
        rows("Live Calls: 2")


def test_live_calls() -> None:
    calls = parse_live_calls(_text("live_calls.json"))
    first = calls["1700000000.123"]
    assert (first.caller, first.callee) == ("530", "0038733123456")
    assert first.started_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert calls["1700000100.5"].started_at is not None  # timestamp as a string
    assert parse_live_calls(_text("live_calls_none.txt")) == {}


@pytest.mark.parametrize(
    "timestamp",
    [
        1700000000000,  # milliseconds: the year 55 840
        "1700000000000",
        1e308,
        -1e308,
        2**80,
        253402300800,  # 10000-01-01
    ],
)
def test_a_live_call_start_no_datetime_holds_is_unknown(timestamp: object) -> None:
    """Issue 18, item 3: ``datetime.fromtimestamp`` raised ``ValueError`` or
    ``OverflowError``, which escaped the client. The call is kept, its start
    unknown: a time in milliseconds is not guessed.
    """
    calls = parse_live_calls(
        json.dumps({"1.1": {"from": "101", "to": "102", "timestamp": timestamp}})
    )
    assert calls["1.1"].caller == "101"
    assert calls["1.1"].started_at is None


def test_dids_and_destination_types() -> None:
    dids = parse_dids(load_fixture_json("pbxware/did_list.json"))
    assert dids["7"].destination_type is DestinationType.EXTENSION
    assert (dids["7"].destination, dids["7"].enabled, dids["7"].trunk) == (
        "530",
        True,
        "6099",
    )
    assert dids["8"].destination_type is DestinationType.QUEUE
    assert dids["8"].enabled is False
    assert dids["9"].destination_type is DestinationType.OTHER


def test_a_did_without_its_type_has_an_unknown_destination_type() -> None:
    """Unknown, not "other": the PBX did not say (the ``missing keys`` fault);
    a type named but not mapped is "other".
    """
    dids = parse_dids(
        {
            "7": {"number": "3225550100", "ext": "530", "status": "1"},
            "8": {"number": "3225550101", "type": "  ", "ext": "531"},
            "9": {"number": "3225550102", "type": "Fax to e-mail", "ext": "532"},
        }
    )
    assert dids["7"].destination_type is None
    assert dids["7"].destination == "530"
    assert dids["8"].destination_type is None
    assert dids["9"].destination_type is DestinationType.OTHER


def test_tenants_with_numbers_or_strings() -> None:
    tenants = parse_tenants(load_fixture_json("pbxware/tenant_list.json"))
    assert [(t.id, t.name, t.code) for t in tenants.values()] == [
        ("2", "Acme", "100"),
        ("3", "Globex", "200"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("cpu_php_warning.txt", {"inuse": "37%"}),
        ("cpu_bom.txt", {"inuse": "37"}),
    ],
)
def test_decode_tolerates_php_warnings_and_bom(body: str, expected: object) -> None:
    assert decode_json(_text(body)) == expected


@pytest.mark.parametrize(
    "text", ["<b>Notice</b>: mysql gone away", "", '{"inuse": "3', "<html>502</html>"]
)
def test_decode_refuses_what_is_not_json(text: str) -> None:
    with pytest.raises(PbxResponseError):
        decode_json(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("37", 37),
        ("37%", 37),
        (" 61 % ", 61),
        (12, 12),
        (1.6, 2),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_to_int(value: object, expected: int | None) -> None:
    assert to_int(value) == expected


def test_to_float_keeps_decimals() -> None:
    assert to_float("12.5%") == 12.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("yes", True),
        ("1", True),
        ("", False),
        ("no", False),
        (False, False),
        (None, None),
        ("maybe", None),
    ],
)
def test_to_bool(value: object, expected: bool | None) -> None:
    assert to_bool(value) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("OK (3 ms)", True),
        ("LAGGED (900 ms)", True),
        ("UNREACHABLE", False),
        ("UNKNOWN", False),
        ("", False),
        (None, False),
        ("Ringing", None),
    ],
)
def test_is_registered(status: object, expected: bool | None) -> None:
    assert is_registered(status) is expected

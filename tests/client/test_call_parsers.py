"""Live calls, call records and push payloads, parsed from bodies built from
the vendor documents (PBXware's API reference, VoIPcloud's call lists,
VoipCenter's research notes). No sockets: the fast tier.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.pbx_hub.client import (
    CLEAR,
    Backoff,
    CallDirection,
    CallEventKind,
    CallOutcome,
    CallRecord,
    CallScope,
    CallState,
    PbxNoCallError,
    PbxResponseError,
    call_events,
    create_client,
    group_key,
    states_from_records,
)
from custom_components.pbx_hub.client.livecalls import party, to_seconds
from custom_components.pbx_hub.client.pbxware import live_calls, rows
from custom_components.pbx_hub.client.pbxware_calls import (
    CDR_HEADER,
    call_forwarding,
    call_states,
    cdr_date,
    cdr_page,
    cdr_record,
    recording_done,
)
from custom_components.pbx_hub.client.push import parse_notification
from custom_components.pbx_hub.client.voipcenter import (
    BELGIUM,
    DEFAULT_PUSH_URL,
    parse_call,
    parse_calls,
    parse_push_credentials,
    route_ref,
)
from custom_components.pbx_hub.client.voipcloud import parse_call as voipcloud_call

T0 = 1_765_000_000  # 2025-12-06 05:46:40 UTC
MONITORS = {
    "11": {"name": "Ann", "ext": "101", "ip": "", "status": "OK", "ua": "", "dnd": "", "on_call": True},
    "12": {"name": "Bob", "ext": "102", "ip": "", "status": "OK", "ua": "", "dnd": "", "on_call": True},
    "13": {"name": "Cy", "ext": "103", "ip": "", "status": "OK", "ua": "", "dnd": "", "on_call": ""},
    "14": {"name": "Di", "ext": "104", "ip": "", "status": "OK", "ua": "", "dnd": "", "on_call": True},
    "15": {"name": "Ed", "ext": "105", "ip": "", "status": "", "ua": "", "dnd": "", "on_call": 7},
}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("101", ("101", None)),
        (101, ("101", None)),
        ('"Ann Smith" <101>', ("101", "Ann Smith")),
        ("Ann <+3293456789>", ("+3293456789", "Ann")),
        ("SIP/101-00000a1b", ("101", None)),
        ("PJSIP/102-0000001", ("102", None)),
        ("Local/103@from-internal", ("103", None)),
        ("", (None, None)),
        (None, (None, None)),
    ],
)
def test_party_forms(value: object, expected: tuple[str | None, str | None]) -> None:
    assert party(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(75, 75), ("75", 75), ("1:15", 75), ("01:01:15", 3675), ("-3", None), ("x", None)],
)
def test_durations(value: object, expected: int | None) -> None:
    assert to_seconds(value) == expected


def test_pbxware_call_states_from_live_calls_and_on_call() -> None:
    raw = rows(
        {
            "c1": {"from": "+3293456789", "to": "101", "timestamp": T0},
            "c2": {"from": "SIP/102-0001", "to": '"Zed" <0470123456>', "timestamp": T0 + 5},
            "c3": {"from": "0471000000", "to": "104", "timestamp": T0 + 9, "status": "Ringing"},
            "c4": {"from": "0472000000", "to": "103", "timestamp": T0 + 12},
        }
    )  # fmt: skip
    states = call_states(rows(MONITORS), live_calls(raw), raw)

    ann = states["11"]
    assert ann.state is CallState.IN_CALL
    assert ann.direction is CallDirection.INBOUND
    assert (ann.other_number, ann.other_name) == ("+3293456789", None)
    assert ann.since == datetime.fromtimestamp(T0, UTC)
    assert ann.call_id == "c1"
    bob = states["12"]
    assert bob.direction is CallDirection.OUTBOUND
    assert (bob.other_number, bob.other_name) == ("0470123456", "Zed")
    assert states["14"].state is CallState.RINGING
    # In the live calls but not on a call ('') yet: ringing.
    assert (states["13"].state, states["13"].other_number) == (
        CallState.RINGING,
        "0472000000",
    )
    # A flag that is neither is unknown, not idle.
    assert states["15"].state is None


def test_pbxware_not_on_a_call_and_no_live_call_is_idle() -> None:
    states = call_states(rows(MONITORS), {}, {})
    assert states["13"].state is CallState.IDLE
    assert states["13"].other_number is None


def test_pbxware_on_call_without_a_live_call_is_in_call_with_nobody_known() -> None:
    states = call_states(rows(MONITORS), {}, {})
    assert states["11"].state is CallState.IN_CALL
    assert (states["11"].other_number, states["11"].since) == (None, None)


def test_cdr_date_is_the_documented_form_in_utc() -> None:
    moment = datetime(2022, 9, 27, 15, 4, 5, tzinfo=BELGIUM)
    assert cdr_date(moment) == ("Sep-27-2022", "13:04:05")


def _cdr(*rows_: list[object], header: object = list(CDR_HEADER)) -> dict[str, object]:
    return {
        "success": "success",
        "next_page": False,
        "limit": 1000,
        "records": len(rows_),
        "header": header,
        "csv": list(rows_),
    }


def _row(
    call_id: str, src: str, dst: str, when: object, status: object, rated: object = 0
) -> list[object]:
    return ["Tenant", src, dst, when, "0:45", rated, "0.00", status, call_id, "", "0", "Local"]  # fmt: skip


def test_cdr_rows_by_header_with_outcomes() -> None:
    page, more = cdr_page(
        _cdr(
            _row("a", '"Ann" <0470111111>', "101", T0, "Answered", "30"),
            _row("b", "0470222222", "102", str(T0 + 60), "Unanswered"),
            _row("c", "0470333333", "103", "2025-12-06 06:00:00", "Busy"),
            _row("d", "0470444444", "104", T0, "Weird"),
            _row("", "0470555555", "105", T0, "Answered"),
            _row("f", "0470666666", "106", "not a time", "Answered"),
        )
    )
    assert more is False
    records = [cdr_record(row, inbound=True) for row in page]
    answered, missed, busy, weird, no_id, no_time = records
    assert (no_id, no_time) == (None, None)
    assert answered is not None
    assert (answered.caller, answered.caller_name, answered.callee) == (
        "0470111111",
        "Ann",
        "101",
    )
    assert answered.user_number == "101"
    assert answered.outcome is CallOutcome.ANSWERED
    assert answered.talk_seconds == 30
    assert answered.direction is CallDirection.INBOUND
    assert answered.finished_at == answered.started_at + timedelta(seconds=45)
    assert missed is not None
    assert missed.outcome is CallOutcome.MISSED
    assert missed.started_at == datetime.fromtimestamp(T0 + 60, UTC)
    assert busy is not None
    assert busy.outcome is CallOutcome.MISSED
    assert busy.started_at == datetime(2025, 12, 6, 6, tzinfo=UTC)
    # A status the reference does not list is unknown: no missed-call event.
    assert weird is not None
    assert weird.outcome is CallOutcome.UNKNOWN
    assert call_events([weird]) == [
        event for event in call_events([weird]) if event.kind is CallEventKind.INCOMING_CALL
    ]  # fmt: skip


def test_cdr_outgoing_is_the_callers_call_and_unanswered() -> None:
    page, _ = cdr_page(_cdr(_row("x", "101", "0470111111", T0, "4")))
    record = cdr_record(page[0], inbound=False)
    assert record is not None
    assert (record.user_number, record.outcome) == ("101", CallOutcome.UNANSWERED)
    assert record.direction is CallDirection.OUTBOUND


def test_cdr_reordered_header_and_null_header() -> None:
    header = ["ID", "Date/Time", "From", "To", "Status"]
    page, _ = cdr_page(_cdr(["z", T0, "0470", "101", "Answered"], header=header))
    record = cdr_record(page[0], inbound=True)
    assert record is not None
    assert (record.id, record.caller) == ("z", "0470")
    # "No Data available": header null and csv empty.
    assert cdr_page({**_cdr(), "header": None}) == ([], False)
    assert cdr_page([]) == ([], False)


@pytest.mark.parametrize("body", ["text", {"csv": "rows"}, {"csv": [1, 2]}])
def test_cdr_page_not_understood(body: object) -> None:
    with pytest.raises(PbxResponseError):
        cdr_page(body)


@pytest.mark.parametrize(
    ("state", "enabled"),
    [("yes", True), ("no", False), ("pin", True), ("maybe", None), (None, None)],
)
def test_call_forwarding_states(state: str | None, enabled: bool | None) -> None:
    forwarding = call_forwarding("11", {"state": state})
    assert (forwarding.extension, forwarding.enabled) == ("11", enabled)


def test_recording_without_a_call_is_refused_clearly() -> None:
    recording_done(
        {"success": "Call status updated successfully.", "affected_calls": 1}, "101"
    )
    with pytest.raises(PbxNoCallError, match="101 has no call in progress"):
        recording_done(
            {"success": "No calls have been updated.", "affected_calls": 0}, "101"
        )
    with pytest.raises(PbxNoCallError):
        recording_done({"success": "No calls have been updated."}, "101")
    with pytest.raises(PbxResponseError):
        recording_done({}, "101")


def _voipcloud(row: dict[str, object]) -> CallRecord:
    record = voipcloud_call(
        CallScope.USER,
        {"unique_call_id": "1", "call_start_at": "2025-12-06T10:00:00Z", **row},
    )
    assert record is not None
    return record  # fmt: skip


def test_voipcloud_states_ringing_then_in_call_then_idle() -> None:
    ringing = _voipcloud(
        {
            "type": "user_inbound",
            "caller_id": "0470",
            "caller_name": "Zed",
            "user_number": "1010",
        }
    )
    answered = _voipcloud(
        {
            "type": "user_inbound",
            "caller_id": "0470",
            "user_number": "1010",
            "connected_at": "2025-12-06T10:00:09Z",
        }
    )
    ended = _voipcloud(
        {
            "type": "user_inbound_answered",
            "user_number": "1010",
            "call_finished_at": "2025-12-06T10:05:00Z",
        }
    )
    state = states_from_records([ringing])["1010"]
    assert (state.state, state.other_number, state.other_name) == (
        CallState.RINGING,
        "0470",
        "Zed",
    )
    assert state.since == ringing.started_at
    state = states_from_records([answered])["1010"]
    assert state.state is CallState.IN_CALL
    assert state.since == answered.answered_at
    # Which calls are in progress is the caller's (the vendor's) to say.
    assert ended.finished_at is not None
    assert states_from_records([], users=["1010"])["1010"].state is CallState.IDLE
    assert states_from_records([], users=["1011"])["1011"].state is CallState.IDLE


def test_call_events_once_per_call_and_kind() -> None:
    missed = _voipcloud(
        {"type": "user_inbound_missed", "caller_id": "0470", "user_number": "1010"}
    )
    outbound = _voipcloud({"type": "user_outbound_answered", "user_number": "1010"})
    abandoned = voipcloud_call(
        CallScope.QUEUE,
        {"unique_call_id": "2", "call_start_at": "2025-12-06T10:00:00Z", "status": "abandoned", "queue_name": "Sales"},
    )  # fmt: skip
    assert abandoned is not None
    events = call_events([missed, outbound, abandoned])
    assert [event.kind for event in events] == [
        CallEventKind.INCOMING_CALL,
        CallEventKind.MISSED_CALL,
        CallEventKind.ABANDONED_CALL,
    ]
    assert len({event.key for event in events}) == 3
    # Whose event each is: the user's number, or the queue's key.
    assert events[2].owner == group_key(CallScope.QUEUE, "Sales")
    assert [event.key for event in call_events([missed])] == [e.key for e in events[:2]]
    assert events[1].attributes == {
        "call_id": "1",
        "caller": "0470",
        "caller_name": None,
        "called": None,
        "time": "2025-12-06T10:00:00+00:00",
        "number": "0470",
    }


def test_voipcenter_call_history_rows() -> None:
    calls = parse_calls(
        {
            "id_7": {"datum": "2025-12-06", "tijd": "10:00:00", "van": "0470111111", "naar": "sipaccount1", "duur": "65", "richting": "inkomend", "status": "beantwoord"},
            "id_8": {"calldate": str(T0), "from": "0470222222", "to": "021234567", "direction": "in", "status": "NO ANSWER", "sipaccount": "sipaccount2"},
            "id_9": {"van": "0470", "naar": "x"},
            "id_10": {"datetime": "2025-12-06 11:00:00", "src": "sipaccount1", "dst": "0470", "type": "out", "duration": 0},
            "id_11": {"datum": "2025-12-06 12:00:00", "van": "0470", "naar": "sipaccount1", "richting": "in", "status": "rinkelt"},
        }
    )  # fmt: skip
    assert [call.id for call in calls] == ["7", "8", "10", "11"]
    first, second, third, ringing = calls
    # A date field that holds the time as well; a call still ringing.
    assert ringing.started_at == datetime(2025, 12, 6, 12, tzinfo=BELGIUM)
    assert ringing.outcome is CallOutcome.IN_PROGRESS
    assert first.started_at == datetime(2025, 12, 6, 10, tzinfo=BELGIUM)
    assert (first.inbound, first.outcome, first.talk_seconds) == (
        True,
        CallOutcome.ANSWERED,
        65,
    )
    assert first.user_number == "sipaccount1"
    assert (second.outcome, second.user_number) == (CallOutcome.MISSED, "sipaccount2")
    assert second.started_at == datetime.fromtimestamp(T0, UTC)
    # Outbound, no status, no talk time: how it ended is unknown.
    assert (third.inbound, third.outcome, third.user_number) == (
        False,
        CallOutcome.UNKNOWN,
        "sipaccount1",
    )
    assert parse_call("1", {"van": "0470"}) is None
    assert parse_calls([]) == []
    with pytest.raises(PbxResponseError):
        parse_calls({"id_1": {"van": "0470"}})


def test_voipcenter_push_credentials_shapes() -> None:
    flat = parse_push_credentials({"username": "ws1", "wskey": "k3y"}, "asked")
    assert (flat.username, flat.key) == ("ws1", "k3y")
    assert "k3y" not in repr(flat)
    nested = parse_push_credentials({"body": {"wskey": "k3y"}}, "asked")
    assert nested.username == "asked"
    with pytest.raises(PbxResponseError) as raised:
        parse_push_credentials({"username": "ws1", "key": "k3y"}, "asked")
    assert "k3y" not in str(raised.value)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"route": "140", "backuproute": "150"}, ("140", "150")),
        ({"r": "140", "b": "150"}, ("140", "150")),
        ({"route": "0", "b": ""}, (CLEAR, CLEAR)),
        ({"r": None, "backuproute": "0"}, (CLEAR, CLEAR)),
        ({}, (None, None)),
        ({"naam": "x", "r": "7"}, ("7", None)),
    ],
)
def test_voipcenter_route_keys(
    row: dict[str, object], expected: tuple[str | None, str | None]
) -> None:
    """Either name of a route; unknown (``None``) where the answer has
    neither, never "none" (``CLEAR``).
    """
    assert (
        route_ref(row, "route", "r"),
        route_ref(row, "backuproute", "b"),
    ) == expected


def test_push_notification_fields_and_raw() -> None:
    at = datetime(2025, 12, 6, tzinfo=UTC)
    payload = {"callerid": '"Zed" <0470123456>', "did": "021234567", "sipaccount": "sipaccount1", "status": "ringing", "direction": "incoming", "extra": [1]}  # fmt: skip
    notification = parse_notification(payload, at)
    assert notification.raw == payload
    assert (notification.caller, notification.caller_name) == ("0470123456", "Zed")
    assert (notification.callee, notification.extension) == ("021234567", "sipaccount1")
    assert (notification.state, notification.direction) == (
        CallState.RINGING,
        CallDirection.INBOUND,
    )
    bare = parse_notification("not json", at)
    assert (bare.raw, bare.caller, bare.state) == ("not json", None, None)
    as_text = parse_notification('{"callerid": "0470"}', at)
    assert as_text.caller == "0470"
    missed = parse_notification({"state": "missed", "direction": "uit"}, at)
    assert (missed.state, missed.direction) == (CallState.IDLE, CallDirection.OUTBOUND)
    internal = parse_notification({"state": "ended", "direction": "internal"}, at)
    assert (internal.state, internal.direction) == (CallState.IDLE, None)


def test_backoff_is_capped_jittered_and_never_zero() -> None:
    backoff = Backoff(first=2, longest=60)
    assert backoff.delay(0, lambda: 0.0) == 1.0
    assert backoff.delay(0, lambda: 1.0) == 2.0
    assert backoff.delay(3, lambda: 1.0) == 16.0
    assert backoff.delay(10, lambda: 1.0) == 60.0
    assert backoff.delay(10_000, lambda: 0.0) == 30.0


def test_push_address_derives_from_the_settings() -> None:
    def address(**settings: str) -> str:
        client = create_client("voipcenter", None, {"api_id": "a", **settings})  # type: ignore[arg-type]
        return client.push_url  # type: ignore[attr-defined,no-any-return]

    assert address() == DEFAULT_PUSH_URL
    assert address(url="http://127.0.0.1:8123/api/") == "http://127.0.0.1:8123"
    assert address(push_url="http://127.0.0.1:9") == "http://127.0.0.1:9"

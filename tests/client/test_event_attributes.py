"""What call events and call states carry: a call event is its user's (or
queue's), shows the caller by name where known and keeps the number apart; a
pushed call carries a read call's attributes and its payload; a call state
shows what the PBX told and ``None`` for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.pbx_hub.client import (
    CallDirection,
    CallEvent,
    CallEventKind,
    CallNotification,
    CallOutcome,
    CallRecord,
    CallScope,
    CallState,
    ExtensionCallState,
)

T0 = datetime(2025, 12, 6, 10, 0, tzinfo=UTC)


def test_a_read_call_shows_its_caller_by_name_and_keeps_the_number() -> None:
    record = CallRecord(
        id="1",
        scope=CallScope.USER,
        group=None,
        user_number="101",
        user_name="Arthur",
        inbound=True,
        caller="0470",
        caller_name="Bea",
        callee="101",
        started_at=T0,
        answered_at=None,
        finished_at=None,
        talk_seconds=0,
        outcome=CallOutcome.MISSED,
    )
    event = CallEvent(kind=CallEventKind.MISSED_CALL, record=record)
    assert event.owner == "101"
    assert event.attributes == {
        "call_id": "1",
        "caller": "Bea",
        "caller_name": "Bea",
        "called": "101",
        "time": "2025-12-06T10:00:00+00:00",
        "number": "0470",
    }


def test_a_pushed_call_has_the_read_calls_attributes_and_its_payload() -> None:
    note = CallNotification(
        received_at=T0, raw={"id": "7"}, call_id="7", caller="0470", callee="101"
    )
    assert note.attributes == {
        "call_id": "7",
        "caller": "0470",  # no name: the number
        "caller_name": None,
        "number": "0470",
        "called": "101",
        "time": "2025-12-06T10:00:00+00:00",
        "raw": {"id": "7"},
    }


def test_a_call_state_shows_the_other_party_and_none_where_not_told() -> None:
    state = ExtensionCallState(
        extension="1",
        state=CallState.IN_CALL,
        other_number="0470",
        direction=CallDirection.INBOUND,
        since=T0,
    )
    assert state.attributes == {
        "other_number": "0470",
        "other_name": None,
        "direction": "inbound",
        "since": "2025-12-06T10:00:00+00:00",
    }
    assert ExtensionCallState(extension="1", state=None).attributes == {
        "other_number": None,
        "other_name": None,
        "direction": None,
        "since": None,
    }

"""VoIPcloud parsers on the row shapes the research notes quote, and variants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.pbx_hub.client import (
    CallOutcome,
    CallScope,
    PbxAuthError,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
)
from custom_components.pbx_hub.client.voipcloud import parse_call, parse_status, unwrap

# Verbatim from the account's API page (research notes, section 2).
USER_ROW = {
    "unique_call_id": "160455961758",
    "type": "user_outbound_answered",
    "caller_id": "61300000000",
    "caller_name": "XYZ",
    "dest_number": "44123456789",
    "user_name": "John Smith",
    "user_number": "1010",
    "call_start_at": "2019-10-01T15:31:15.000Z",
    "connected_at": "2019-10-01T15:31:29.000Z",
    "call_duration": 28,
    "conversation_duration": 14,
}
QUEUE_ROW = {
    "unique_call_id": "160455961759",
    "queue_name": "Sales",
    "callerid": "61400000000",
    "caller_name": None,
    "dest_number": "61300000001",
    "user_name": None,
    "user_number": None,
    "call_start_at": "2019-10-01T15:40:00.000Z",
    "connected_at": None,
    "call_duration": "45",
    "conversation_duration": "0",
    "status": "abandoned",
}


def test_user_row() -> None:
    call = parse_call(CallScope.USER, USER_ROW)
    assert call is not None
    assert call.inbound is False
    assert call.outcome is CallOutcome.ANSWERED
    assert call.caller == "61300000000"
    assert call.callee == "44123456789"
    assert call.user_number == "1010"
    assert call.talk_seconds == 14
    assert call.wait_seconds == 14
    assert call.started_at == datetime(2019, 10, 1, 15, 31, 15, tzinfo=UTC)


def test_queue_row_uses_callerid() -> None:
    call = parse_call(CallScope.QUEUE, QUEUE_ROW)
    assert call is not None
    assert call.caller == "61400000000"
    assert call.group == "Sales"
    assert call.outcome is CallOutcome.ABANDONED
    assert call.wait_seconds is None
    assert call.key == "queue:160455961759"


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"type": "user_inbound_missed", "connected_at": None}, CallOutcome.MISSED),
        (
            {
                "type": None,
                "is_inbound": 1,
                "connected_at": None,
                "call_finished_at": "2019-10-01T15:32:00Z",
            },
            CallOutcome.MISSED,
        ),
        (
            {"type": "user_outbound_ringing", "connected_at": None},
            CallOutcome.IN_PROGRESS,
        ),
        (
            {
                "type": "user_outbound_missed",
                "is_inbound": 0,
                "connected_at": None,
            },
            CallOutcome.UNANSWERED,
        ),
    ],
)
def test_user_outcomes(changes: dict[str, Any], outcome: CallOutcome) -> None:
    unanswered = {**USER_ROW, "conversation_duration": 0}
    call = parse_call(CallScope.USER, {**unanswered, **changes})
    assert call is not None
    assert call.outcome is outcome


def test_a_row_shaped_as_the_document_says() -> None:
    """The document's fields only: no type, no connected_at; talk time tells
    an answered call from a missed one.
    """
    row = {
        "unique_call_id": "1",
        "from_number": "0298765432",
        "to_number": "61300000001",
        "user_name": "Ann",
        "is_inbound": 1,
        "call_start_at": "2019-10-01T15:31:15+00:00",
        "call_duration": 60,
        "call_finished_at": "2019-10-01T15:32:15+00:00",
        "conversation_duration": 45,
    }
    answered = parse_call(CallScope.USER, row)
    missed = parse_call(CallScope.USER, {**row, "conversation_duration": 0})
    assert answered is not None
    assert missed is not None
    assert (answered.outcome, missed.outcome) == (
        CallOutcome.ANSWERED,
        CallOutcome.MISSED,
    )
    assert answered.caller == "0298765432"
    assert answered.callee == "61300000001"


@pytest.mark.parametrize(
    "row",
    [
        None,
        [],
        {**USER_ROW, "unique_call_id": None},
        {**USER_ROW, "call_start_at": "yesterday"},
    ],
)
def test_rows_that_cannot_be_counted_once(row: Any) -> None:
    assert parse_call(CallScope.USER, row) is None


def test_ring_group_row_and_status_spellings() -> None:
    row = {**QUEUE_ROW, "ring_group_name": "Reception", "status": "timedout"}
    del row["queue_name"]
    call = parse_call(CallScope.RING_GROUP, row)
    assert call is not None
    assert (call.group, call.outcome) == ("Reception", CallOutcome.TIMED_OUT)
    waiting = parse_call(CallScope.QUEUE, {**QUEUE_ROW, "status": "waiting"})
    assert waiting is not None
    assert waiting.outcome is CallOutcome.IN_PROGRESS


@pytest.mark.parametrize(
    ("data", "state", "message"),
    [
        ({"status": "Operational", "message": "All good"}, "operational", "All good"),
        ("Partial Outage", "partial_outage", None),
        (
            {"components": [{"name": "Voice", "status": "ok"}, {"status": "down"}]},
            "down",
            None,
        ),
        ({"components": [{"name": "Voice", "status": "ok"}]}, "operational", None),
        ({}, None, None),
        (None, None, None),
    ],
)
def test_status_shapes(data: Any, state: str | None, message: str | None) -> None:
    status = parse_status(data)
    assert (status.state, status.message) == (state, message)


def test_status_that_is_a_number() -> None:
    with pytest.raises(PbxResponseError):
        parse_status(42)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"status": "error", "code": 401, "message": "Invalid token"}, PbxAuthError),
        (
            {"status": "error", "code": "401", "message": "IP not whitelisted"},
            PbxNotWhitelistedError,
        ),
        ({"status": "error", "code": 429, "message": "Slow down"}, PbxRateLimitError),
        ({"status": "error", "code": 400, "message": "Bad"}, PbxInvalidInputError),
        ({"status": "error", "code": 403, "message": "No"}, PbxPermissionError),
        ({"status": "error", "code": 0, "message": "Unknown"}, PbxResponseError),
        ({"status": "success", "code": 404, "data": None}, PbxInvalidInputError),
        ([1, 2], PbxResponseError),
    ],
)
def test_error_envelopes(body: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        unwrap(body)


def test_success_envelope() -> None:
    assert unwrap({"status": "success", "message": "", "code": 200, "data": [1]}) == [1]

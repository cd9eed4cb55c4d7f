"""The call states push notifications tell, without Home Assistant: since
when, the other party, unknown where not told and while the channel is down;
and which notifications tell a call coming in.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.pbx_hub.client import (
    CallDirection,
    CallNotification,
    CallState,
    NotifiedCallStates,
    PushState,
    rings_in,
)
from custom_components.pbx_hub.client.push import call_state_of

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _note(state: CallState | None, **fields: Any) -> CallNotification:
    values: dict[str, Any] = {
        "received_at": AT,
        "raw": {"state": str(state)},
        "call_id": "c1",
        "caller": "0470123456",
        "caller_name": "Jan",
        "callee": "sipaccount1",
        "extension": "sipaccount1",
        "state": state,
        "direction": CallDirection.INBOUND,
    }
    return CallNotification(**(values | fields))


def test_call_state_of_keeps_since_and_clears_on_idle() -> None:
    ringing = call_state_of(_note(CallState.RINGING), None)
    assert (ringing.state, ringing.other_number, ringing.other_name) == (
        CallState.RINGING,
        "0470123456",
        "Jan",
    )
    later = AT + timedelta(seconds=3)
    again = call_state_of(_note(CallState.RINGING, received_at=later), ringing)
    assert again.since == AT  # the same call, still ringing since then
    answered = call_state_of(_note(CallState.IN_CALL, received_at=later), again)
    assert answered.since == later
    # A notification without a state leaves the call where it was.
    assert call_state_of(_note(None), answered) is answered
    # Another call ringing starts its own 'since'.
    other = call_state_of(_note(CallState.IN_CALL, call_id="c2"), answered)
    assert (other.since, other.call_id) == (AT, "c2")
    idle = call_state_of(_note(CallState.IDLE, received_at=later), answered)
    assert (idle.state, idle.other_number, idle.direction) == (
        CallState.IDLE,
        None,
        None,
    )


def test_an_outgoing_calls_other_party_is_the_number_called() -> None:
    outbound = call_state_of(
        _note(
            CallState.RINGING,
            caller="sipaccount1",
            callee="0499000000",
            direction=CallDirection.OUTBOUND,
        ),
        None,
    )
    assert (outbound.other_number, outbound.other_name) == ("0499000000", None)


def test_states_as_told_and_unknown_where_not() -> None:
    states = NotifiedCallStates()
    assert states.take(_note(CallState.RINGING))
    assert states.take(_note(CallState.IN_CALL))
    # A notification that names no account tells no state.
    assert not states.take(_note(CallState.RINGING, extension=None))
    shown = states.shown(["sipaccount1", "sipaccount2"])
    assert shown["sipaccount1"].state is CallState.IN_CALL
    assert shown["sipaccount2"].state is None
    assert shown["sipaccount2"].extension == "sipaccount2"


@pytest.mark.parametrize(
    "state", [PushState.DISCONNECTED, PushState.CONNECTING, PushState.STOPPED]
)
def test_a_channel_not_connected_forgets_the_states(state: PushState) -> None:
    states = NotifiedCallStates()
    states.take(_note(CallState.IN_CALL))
    assert not states.channel_changed(PushState.CONNECTED)
    assert states.shown(["sipaccount1"])["sipaccount1"].state is CallState.IN_CALL
    assert states.channel_changed(state)
    assert states.shown(["sipaccount1"])["sipaccount1"].state is None
    # Nothing left to forget: no change to tell.
    assert not states.channel_changed(state)


@pytest.mark.parametrize(
    ("state", "direction", "coming_in"),
    [
        (CallState.RINGING, CallDirection.INBOUND, True),
        (CallState.RINGING, None, True),
        (None, None, True),
        (CallState.RINGING, CallDirection.OUTBOUND, False),
        (CallState.IN_CALL, CallDirection.INBOUND, False),
        (CallState.IDLE, None, False),
    ],
)
def test_which_notifications_tell_a_call_coming_in(
    state: CallState | None, direction: CallDirection | None, coming_in: bool
) -> None:
    assert rings_in(_note(state, direction=direction)) is coming_in

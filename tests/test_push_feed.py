"""The push feed on its own: notifications become call states and reach the
listeners; an outage is logged once and forgets the call states (the call
states themselves are tested in tests/client/test_notified_call_states.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import logging
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.pbx_hub.client import (
    CallDirection,
    CallNotification,
    CallState,
    PushState,
)
from custom_components.pbx_hub.push import PushFeed

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class FakeChannel:
    """Stands in for the client's ``PushChannel``: the test drives it."""

    def __init__(
        self,
        on_notification: Callable[[CallNotification], None],
        on_state: Callable[[PushState], None],
    ) -> None:
        self.notify = on_notification
        self._on_state = on_state
        self.state = PushState.STOPPED
        self.last_error: str | None = None

    def set(self, state: PushState, error: str | None = None) -> None:
        self.state, self.last_error = state, error
        self._on_state(state)


class FakeClient:
    def push_channel(
        self,
        on_notification: Callable[[CallNotification], None],
        on_state: Callable[[PushState], None],
    ) -> FakeChannel:
        self.channel = FakeChannel(on_notification, on_state)
        return self.channel


def _note(state: CallState | None, **fields: Any) -> CallNotification:
    fields.setdefault("received_at", AT)
    return CallNotification(
        raw={"state": str(state)},
        call_id="c1",
        caller="0470123456",
        caller_name="Jan",
        callee="sipaccount1",
        extension="sipaccount1",
        state=state,
        direction=CallDirection.INBOUND,
        **fields,
    )


def _feed(hass: HomeAssistant) -> tuple[PushFeed, FakeChannel]:
    client = FakeClient()
    feed = PushFeed(hass, client, "VoipCenter 1")
    return feed, client.channel


async def test_notifications_become_call_states_and_reach_listeners(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    feed, channel = _feed(hass)
    heard: list[CallNotification] = []
    shown_changes: list[None] = []
    feed.async_add_call_state_listener(lambda: shown_changes.append(None))

    def broken(_: CallNotification) -> None:
        raise RuntimeError("a listener's bug")

    feed.async_add_listener(broken)
    stop = feed.async_add_listener(heard.append)
    channel.notify(_note(CallState.RINGING))
    assert [n.state for n in heard] == [CallState.RINGING]
    assert len(shown_changes) == 1
    state = feed.shown(["sipaccount1"])["sipaccount1"]
    assert (state.state, state.other_number, state.other_name, state.since) == (
        CallState.RINGING,
        "0470123456",
        "Jan",
        AT,
    )
    # A failing listener is logged, the others still hear.
    assert "a listener's bug" in caplog.text
    stop()
    channel.notify(_note(CallState.IN_CALL))
    assert len(heard) == 1
    assert len(shown_changes) == 2
    # Shown for the extensions asked; one never notified is unknown.
    shown = feed.shown(["sipaccount1", "sipaccount2"])
    assert shown["sipaccount2"].state is None


async def test_an_outage_is_logged_once_and_forgets_the_call_states(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    feed, channel = _feed(hass)
    changes: list[PushState] = []
    feed.async_add_state_listener(lambda: changes.append(feed.state))
    shown_changes: list[None] = []
    feed.async_add_call_state_listener(lambda: shown_changes.append(None))
    channel.set(PushState.CONNECTING)
    channel.set(PushState.CONNECTED)
    assert feed.connected
    channel.notify(_note(CallState.IN_CALL))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        for _ in range(5):  # reconnecting, over and over
            channel.set(PushState.DISCONNECTED, "connection reset")
            channel.set(PushState.CONNECTING)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1
        assert "lost" in warnings[0].getMessage()
        assert "connection reset" in warnings[0].getMessage()
        # What the account did meanwhile is not known: told once.
        assert feed.shown(["sipaccount1"])["sipaccount1"].state is None
        assert len(shown_changes) == 2
        assert not feed.connected
        channel.set(PushState.CONNECTED)
        assert "connected again" in caplog.text
        channel.set(PushState.DISCONNECTED)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 2  # a new outage
    assert changes[:2] == [PushState.CONNECTING, PushState.CONNECTED]

"""The push channel in Home Assistant: a vendor's call notifications as call
states at once, without waiting for a poll.

``PushFeed`` is kept in the entry's runtime data (``runtime_data.push``, ``None``
without push). The client keeps the connection up (capped, jittered backoff);
this side only starts and stops it, shows its state, and logs once per outage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .client import (
    CallDirection,
    CallNotification,
    CallState,
    Capability,
    ExtensionCallState,
    PbxClient,
    PushChannel,
    PushState,
)
from .const import LOGGER

type NotificationListener = Callable[[CallNotification], None]


class _PushSource(Protocol):
    """What a client with ``Capability.CALL_PUSH`` offers."""

    def push_channel(
        self,
        on_notification: NotificationListener,
        on_state: Callable[[PushState], None] | None = None,
    ) -> PushChannel: ...


def has_push(client: PbxClient) -> bool:
    """Whether the entry's client can push call notifications."""
    return Capability.CALL_PUSH in client.capabilities


class PushFeed:
    """The push channel of one entry: its connection state, the call state
    each notification tells, and the listeners it hands notifications to.
    """

    def __init__(self, hass: HomeAssistant, client: PbxClient, title: str) -> None:
        """Nothing connects until ``async_start``."""
        self.hass = hass
        self._title = title
        self._channel = cast(_PushSource, client).push_channel(
            self._notified, self._state_changed
        )
        self.call_states: dict[str, ExtensionCallState] = {}
        """The last call state each SIP account's notifications told."""
        self.raw: dict[str, Any] = {}
        """The last notification's payload per SIP account, whole."""
        self._listeners: list[NotificationListener] = []
        self._state_listeners: list[CALLBACK_TYPE] = []
        self._outage_logged = False
        self._ever_connected = False

    @property
    def state(self) -> PushState:
        """Where the channel is now."""
        return self._channel.state

    @property
    def connected(self) -> bool:
        """Whether notifications flow."""
        return self._channel.state is PushState.CONNECTED

    async def async_start(self) -> None:
        """Connect in the background: setup never waits for the channel."""
        await self._channel.start()

    async def async_stop(self) -> None:
        """Disconnect and stop trying (at unload, and so at reload)."""
        await self._channel.stop()

    @callback
    def async_add_listener(self, listener: NotificationListener) -> CALLBACK_TYPE:
        """Hand ``listener`` every notification (in the event loop, after
        the call states took it in); call the result to stop.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_add_state_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` whenever the connection state changes."""
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener)

    @callback
    def _notified(self, notification: CallNotification) -> None:
        """Take the call state in, then hand the notification on; a failing
        listener is logged and does not keep the others from it.
        """
        if (extension := notification.extension) is not None:
            self.call_states[extension] = call_state_of(
                notification, self.call_states.get(extension)
            )
            self.raw[extension] = notification.raw
        for listener in list(self._listeners):
            try:
                listener(notification)
            except Exception:
                LOGGER.exception("Error in a push listener of %s", self._title)

    @callback
    def _state_changed(self, state: PushState) -> None:
        """Log the first loss of an outage and its end, once each."""
        if state is PushState.CONNECTED:
            if self._outage_logged:
                LOGGER.info("%s: push channel connected again", self._title)
            self._outage_logged = False
            self._ever_connected = True
        elif state is PushState.DISCONNECTED and not self._outage_logged:
            self._outage_logged = True
            LOGGER.warning(
                "%s: push channel %s (%s); retrying with backoff, call states"
                " wait until it is back",
                self._title,
                "lost" if self._ever_connected else "cannot connect",
                self._channel.last_error or "no reason given",
            )
        for listener in list(self._state_listeners):
            listener()


def call_state_of(
    notification: CallNotification, before: ExtensionCallState | None
) -> ExtensionCallState:
    """The SIP account's call state after ``notification``: the call's
    parties while it rings or talks, none once idle; the time it reached that
    state; unknown where the payload did not say.
    """
    extension = notification.extension or ""
    if notification.state is CallState.IDLE:
        return ExtensionCallState(
            extension=extension,
            state=CallState.IDLE,
            since=notification.received_at,
        )
    same_call = before is not None and before.call_id == notification.call_id
    if notification.state is None and same_call and before is not None:
        # A notification that names no state leaves the call where it was.
        return before
    since = notification.received_at
    if same_call and before is not None and before.state is notification.state:
        since = before.since or since
    outbound = notification.direction is CallDirection.OUTBOUND
    return ExtensionCallState(
        extension=extension,
        state=notification.state,
        other_number=notification.callee if outbound else notification.caller,
        other_name=None if outbound else notification.caller_name,
        direction=notification.direction,
        since=since,
        call_id=notification.call_id,
    )

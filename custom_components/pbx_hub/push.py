"""The push feed: call notifications reach entities at once, without a poll."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback

from .client import (
    CallNotification,
    Capability,
    ExtensionCallState,
    NotifiedCallStates,
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


def push_feed(hass: HomeAssistant, client: PbxClient, title: str) -> PushFeed | None:
    """The entry's push feed, where its client pushes call notifications."""
    if Capability.CALL_PUSH not in client.capabilities:
        return None
    return PushFeed(hass, cast(_PushSource, client), title)


class PushFeed:
    """One entry's push channel: its state, the call states, and the listeners."""

    def __init__(self, hass: HomeAssistant, client: _PushSource, title: str) -> None:
        """Nothing connects until ``async_start``."""
        self.hass = hass
        self._title = title
        self._channel = client.push_channel(self._notified, self._state_changed)
        self._call_states = NotifiedCallStates()
        self._listeners: list[NotificationListener] = []
        self._state_listeners: list[CALLBACK_TYPE] = []
        self._call_state_listeners: list[CALLBACK_TYPE] = []
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

    async def async_start(self, entry: ConfigEntry[Any]) -> None:
        """Connect in the background, never awaited; stop at unload."""
        await self._channel.start()
        entry.async_on_unload(self.async_stop)

    async def async_stop(self) -> None:
        """Disconnect and stop trying."""
        await self._channel.stop()

    @callback
    def async_add_listener(self, listener: NotificationListener) -> CALLBACK_TYPE:
        """Hand ``listener`` every notification; call the result to stop."""
        return _added(self._listeners, listener)

    @callback
    def async_add_state_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` whenever the connection state changes."""
        return _added(self._state_listeners, listener)

    @callback
    def async_add_call_state_listener(self, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``listener`` whenever the call states (``shown``) change."""
        return _added(self._call_state_listeners, listener)

    def shown(self, extensions: Iterable[str]) -> dict[str, ExtensionCallState]:
        """A call state for each of ``extensions``: as pushed, else unknown."""
        return self._call_states.shown(extensions)

    @callback
    def _notified(self, notification: CallNotification) -> None:
        """Take the call state in, then hand the notification on."""
        if self._call_states.take(notification):
            _call_all(self._call_state_listeners, self._title)
        _call_all(self._listeners, self._title, notification)

    @callback
    def _state_changed(self, state: PushState) -> None:
        """Forget the call states while down; log an outage and its end once each."""
        if state is PushState.CONNECTED:
            if self._outage_logged:
                LOGGER.info("%s: push channel connected again", self._title)
            self._outage_logged = False
            self._ever_connected = True
        elif self._call_states.channel_changed(state):
            _call_all(self._call_state_listeners, self._title)
        if state is PushState.DISCONNECTED and not self._outage_logged:
            self._outage_logged = True
            LOGGER.warning(
                "%s: push channel %s (%s); retrying with backoff, call states"
                " are unknown until it is back",
                self._title,
                "lost" if self._ever_connected else "cannot connect",
                self._channel.last_error or "no reason given",
            )
        _call_all(self._state_listeners, self._title)


def _added[T](listeners: list[T], listener: T) -> CALLBACK_TYPE:
    listeners.append(listener)
    return lambda: listeners.remove(listener)


def _call_all(
    listeners: Sequence[Callable[..., None]], title: str, *args: object
) -> None:
    for listener in list(listeners):
        try:
            listener(*args)
        except Exception:
            LOGGER.exception("Error in a push listener of %s", title)

"""A socket.io push channel for call notifications (VoipCenter's), and the
call states they tell.

The protocol, from VoipCenter's research notes and the public VoipCenter
integration: connect a socket.io client to the push server; on its
``serveroutput`` event, emit ``register`` with ``{"username", "wskey"}``;
each ``notify`` event after that is a call notification, whose fields are not
published. ``PushChannel`` keeps that connection: fresh credentials for
every connection (they come from the API, see ``credentials``), a callback
per notification with the payload kept whole, a callback per state change,
and on any loss a new attempt after a capped, jittered exponential backoff
that only starts over once a connection has held ``STABLE_AFTER`` seconds:
a server that accepts and drops at once is never hammered.

The socket.io client is python-socketio's ``AsyncClient`` (asyncio, on
aiohttp, maintained): it is untyped, so it is used through ``_SocketIo``
below. Its own reconnection is off (the channel decides when to retry) and
so is its logging, which would log the ``register`` packet and so the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import logging
import random
import time
from typing import Any, Protocol

import aiohttp
import socketio  # type: ignore[import-untyped]  # ships no type hints

from .convert import to_key, to_text
from .exceptions import PbxAuthError, PbxError
from .livecalls import first_of, party
from .models import (
    CallDirection,
    CallNotification,
    CallState,
    ExtensionCallState,
    PushCredentials,
    PushState,
)

_LOGGER = logging.getLogger(__name__)

STABLE_AFTER = 60.0
"""Seconds a connection must hold before the backoff starts over."""
CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Seconds to wait before attempt ``n`` after ``n`` failures in a row:
    ``first * 2**n`` capped at ``longest``, each drawn between half and all
    of that (jitter, so that many clients do not come back at once).
    """

    first: float = 2.0
    longest: float = 300.0

    def delay(self, failures: int, draw: Callable[[], float] = random.random) -> float:
        """The wait after ``failures`` failures in a row (never below ``first / 2``)."""
        ceiling = min(self.first * 2.0 ** min(failures, 30), self.longest)
        return ceiling * (0.5 + draw() / 2)


class _SocketIo(Protocol):
    """What the channel uses of ``socketio.AsyncClient``."""

    def on(self, event: str, handler: Callable[..., Any]) -> None: ...

    async def connect(self, url: str, **kwargs: Any) -> None: ...

    async def emit(
        self,
        event: str,
        data: Any = None,
        callback: Callable[..., None] | None = None,
    ) -> None: ...

    async def disconnect(self) -> None: ...


_KEYS: dict[str, tuple[str, ...]] = {
    "call_id": ("callid", "call_id", "uniqueid", "unique_id", "linkedid", "id"),
    "caller": ("callerid", "caller_id", "caller", "from", "van", "src", "cli"),
    "caller_name": ("callername", "caller_name", "cidname", "name", "naam"),
    "callee": ("called", "callee", "to", "naar", "dst", "did", "destination"),
    "extension": ("sipaccount", "sipacc", "sip_account", "extension", "user"),
    "state": ("state", "status", "event", "type", "action"),
    "direction": ("direction", "richting", "dir"),
}
_RINGING = ("ring", "incoming", "offer", "new", "start")
_IN_CALL = ("answer", "connect", "bridge", "up", "talk")
_IDLE = ("hangup", "end", "hung", "stop", "finish", "idle", "miss", "gemist")
_INBOUND = {"in", "inbound", "incoming", "inkomend"}
_OUTBOUND = {"out", "uit", "outbound", "outgoing", "uitgaand"}


def _field(payload: Mapping[str, Any], name: str) -> Any:
    return first_of(payload, _KEYS[name])


def _word(value: Any, *choices: tuple[str, ...]) -> int | None:
    """Which of ``choices`` the text ``value`` starts with a word of."""
    text = (to_text(value) or "").lower()
    for index, words in enumerate(choices):
        if text and any(text.startswith(word) for word in words):
            return index
    return None


def parse_notification(payload: Any, received_at: datetime) -> CallNotification:
    """A ``notify`` payload as a notification: what plausible keys say, the
    payload kept whole in ``raw``; a payload that is no object (or JSON text
    of one) tells nothing but itself.
    """
    if isinstance(payload, str):
        with contextlib.suppress(ValueError):
            payload = json.loads(payload)
    if not isinstance(payload, Mapping):
        return CallNotification(received_at=received_at, raw=payload)
    caller, caller_name = party(_field(payload, "caller"))
    state = _word(_field(payload, "state"), _RINGING, _IN_CALL, _IDLE)
    direction_word = (to_text(_field(payload, "direction")) or "").lower()
    return CallNotification(
        received_at=received_at,
        raw=dict(payload),
        call_id=to_key(_field(payload, "call_id")),
        caller=caller,
        caller_name=to_text(_field(payload, "caller_name")) or caller_name,
        callee=party(_field(payload, "callee"))[0],
        extension=to_key(_field(payload, "extension")),
        state=None
        if state is None
        else (CallState.RINGING, CallState.IN_CALL, CallState.IDLE)[state],
        direction=CallDirection.INBOUND
        if direction_word in _INBOUND
        else CallDirection.OUTBOUND
        if direction_word in _OUTBOUND
        else None,
    )


def call_state_of(
    notification: CallNotification, before: ExtensionCallState | None
) -> ExtensionCallState:
    """The SIP account's call state after ``notification``: the other party
    while it rings or talks, nothing of a call once idle; since when it is in
    that state; unknown where the payload did not say.
    """
    extension = notification.extension or ""
    if notification.state is CallState.IDLE:
        return ExtensionCallState(
            extension=extension, state=CallState.IDLE, since=notification.received_at
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


def rings_in(notification: CallNotification) -> bool:
    """Whether ``notification`` tells a call coming in: ringing (or in no
    state it names) and not outgoing.
    """
    return notification.direction is not CallDirection.OUTBOUND and (
        notification.state in (CallState.RINGING, None)
    )


class NotifiedCallStates:
    """Each SIP account's call state as the notifications told it; none
    while the channel is down, since what the accounts did then is not known.
    """

    def __init__(self) -> None:
        """Nothing told yet: every account unknown."""
        self._states: dict[str, ExtensionCallState] = {}

    def take(self, notification: CallNotification) -> bool:
        """Take in the state ``notification`` tells; whether it names an account."""
        if (extension := notification.extension) is None:
            return False
        self._states[extension] = call_state_of(
            notification, self._states.get(extension)
        )
        return True

    def channel_changed(self, state: PushState) -> bool:
        """Forget every call state unless the channel is connected: unknown
        until the next notification says; whether any was forgotten.
        """
        if state is PushState.CONNECTED or not self._states:
            return False
        self._states.clear()
        return True

    def shown(self, extensions: Iterable[str]) -> dict[str, ExtensionCallState]:
        """A call state for each of ``extensions``: as told, else unknown."""
        return {
            key: self._states.get(key) or ExtensionCallState(extension=key, state=None)
            for key in extensions
        }


def _socket_io(session: aiohttp.ClientSession | None, *, ssl_verify: bool) -> _SocketIo:
    """A python-socketio client that neither reconnects nor logs by itself."""
    client: _SocketIo = socketio.AsyncClient(
        reconnection=False,
        logger=False,
        engineio_logger=False,
        http_session=session,
        ssl_verify=ssl_verify,
    )
    return client


class PushChannel:
    """One push connection kept up until ``stop``."""

    def __init__(
        self,
        *,
        url: str,
        credentials: Callable[[], Awaitable[PushCredentials]],
        on_notification: Callable[[CallNotification], None],
        on_state: Callable[[PushState], None] | None = None,
        session: aiohttp.ClientSession | None = None,
        ssl_verify: bool = True,
        backoff: Backoff | None = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        socket_factory: Callable[..., _SocketIo] = _socket_io,
    ) -> None:
        """Nothing happens until ``start``. ``credentials`` is asked before
        every connection; ``on_notification`` and ``on_state`` are called in
        the event loop and must not block.
        """
        self.url = url
        self._credentials = credentials
        self._on_notification = on_notification
        self._on_state = on_state
        self._session = session
        self._ssl_verify = ssl_verify
        self.backoff = backoff or Backoff()
        self._connect_timeout = connect_timeout
        self._socket_factory = socket_factory
        self._task: asyncio.Task[None] | None = None
        self.state = PushState.STOPPED
        self.attempts = 0
        """Connections tried since ``start``."""
        self.last_error: str | None = None
        """Why the last connection ended, without secrets."""

    def _set_state(self, state: PushState) -> None:
        if state is self.state:
            return
        self.state = state
        if self._on_state is not None:
            self._on_state(state)

    async def start(self) -> None:
        """Connect in the background, and keep connecting until ``stop``."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="pbx_hub push channel")

    async def stop(self) -> None:
        """Disconnect and stop trying; waits until the connection is closed."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state(PushState.STOPPED)

    async def _run(self) -> None:
        if self._session is not None:
            await self._keep_connecting(self._session)
            return
        # Without a session of the caller's, one for the channel's life: the
        # socket.io client would otherwise make one per connection, and not
        # close it when a connection fails.
        async with aiohttp.ClientSession() as session:
            await self._keep_connecting(session)

    async def _keep_connecting(self, session: aiohttp.ClientSession) -> None:
        failures = 0
        while True:
            self._set_state(PushState.CONNECTING)
            self.attempts += 1
            held = await self._connect_once(session)
            self._set_state(PushState.DISCONNECTED)
            failures = 0 if held >= STABLE_AFTER else failures + 1
            delay = self.backoff.delay(failures - 1 if failures else 0)
            _LOGGER.debug(
                "Push channel to %s down (%s); next attempt in %.1f s",
                self.url,
                self.last_error,
                delay,
            )
            await asyncio.sleep(delay)

    async def _connect_once(self, session: aiohttp.ClientSession) -> float:
        """One connection, until it ends: how long it held after registering
        (0 when it never did, or the server refused the registration).
        """
        connection: _Connection | None = None
        try:
            credentials = await self._credentials()
            connection = _Connection(
                self._socket_factory(session, ssl_verify=self._ssl_verify),
                credentials,
                join_timeout=self._connect_timeout,
                on_registered=lambda: self._set_state(PushState.CONNECTED),
                on_notify=self._hand_over,
            )
            async with asyncio.timeout(self._connect_timeout):
                await connection.client.connect(
                    self.url, wait_timeout=self._connect_timeout
                )
            await connection.closed.wait()
            self.last_error = (
                "registration refused"
                if connection.refused.is_set()
                else "closed by the server"
            )
        except PbxAuthError as err:
            self.last_error = f"credentials refused: {err}"
        except PbxError as err:
            self.last_error = f"credentials not read: {err}"
        except (TimeoutError, OSError, socketio.exceptions.SocketIOError) as err:
            # The library's messages name the address at most, never the key.
            self.last_error = f"{type(err).__name__}: {err}"[:200]
        except Exception as err:  # the channel must outlive any failure
            self.last_error = f"unexpected {type(err).__name__}"
        finally:
            if connection is not None:
                await connection.close()
        if connection is None:
            return 0.0
        return connection.held

    def _hand_over(self, payload: Any) -> None:
        notification = parse_notification(payload, datetime.now(UTC))
        try:
            self._on_notification(notification)
        except Exception:
            _LOGGER.exception("A push notification's handler failed")


class _Connection:
    """One socket.io connection's events: join, greeting, register, notify."""

    def __init__(
        self,
        client: _SocketIo,
        credentials: PushCredentials,
        *,
        join_timeout: float,
        on_registered: Callable[[], None],
        on_notify: Callable[[Any], None],
    ) -> None:
        """Handle the events the protocol names on ``client``."""
        self.client = client
        self._credentials = credentials
        self._join_timeout = join_timeout
        self._on_registered = on_registered
        self.registered_at: float | None = None
        self.closed = asyncio.Event()
        self.joined = asyncio.Event()
        self.refused = asyncio.Event()
        self._handlers: set[asyncio.Task[Any]] = set()
        """Handlers under way (a greeting waiting to register), ended by ``close``."""
        client.on("connect", self.joined.set)
        client.on("serveroutput", self._on_serveroutput)
        client.on("notify", lambda payload=None, *_: on_notify(payload))
        client.on("disconnect", self._on_disconnect)

    @property
    def held(self) -> float:
        """Seconds since registering; 0 if it never did or was refused."""
        if self.registered_at is None or self.refused.is_set():
            return 0.0
        return time.monotonic() - self.registered_at

    async def close(self) -> None:
        """Disconnect, and end the handlers still under way."""
        self.closed.set()
        with contextlib.suppress(Exception):
            await self.client.disconnect()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _on_serveroutput(self, *_: Any) -> None:
        # A server may greet before the client has joined its namespace:
        # register once joined.
        if (task := asyncio.current_task()) is not None:
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        async with asyncio.timeout(self._join_timeout):
            await self.joined.wait()
        if self.closed.is_set():
            return
        await self.client.emit(
            "register",
            {"username": self._credentials.username, "wskey": self._credentials.key},
            callback=self._on_register_answer,
        )
        self.registered_at = time.monotonic()
        self._on_registered()

    def _on_register_answer(self, answer: Any = None, *_: Any) -> None:
        # Not documented: a server that acknowledges ``register`` with a
        # status other than ok has refused the credentials.
        status = answer.get("status") if isinstance(answer, Mapping) else None
        if isinstance(status, str) and status.lower() not in {"ok", "success"}:
            self.refused.set()
            self.closed.set()

    def _on_disconnect(self, *_: Any) -> None:
        self.closed.set()

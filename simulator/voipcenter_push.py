"""VoipCenter's socket.io push channel, simulated (python-socketio on aiohttp).

The research notes name the channel (``https://ws1.voipcenter.be:4123``), its
credentials (``get.php`` ``m=wskey`` answers ``{username, wskey}``) and its events
``register`` and ``notify``; the existing VoipCenter integration shows the
handshake: on ``serveroutput`` the client emits ``register`` with
``{"username": ..., "wskey": ...}``, and each ``notify`` is a call notification.
Served on a port of its own, like the real server.

ASSUMED (nothing public says more):

- ``serveroutput`` is sent once, right after a connection, with the text
  ``"Connected to VoipCenter push server"``; never again (a client that registers
  on every ``serveroutput`` would otherwise loop).
- ``register`` takes an object ``{"username", "wskey"}`` (a two-item list
  ``[username, wskey]`` is read the same). A wskey that is not the one get.php
  gives that username is refused: the ``register`` acknowledgement is
  ``{"status": "error", "message": "Invalid wskey"}`` and the server drops the
  connection. An accepted one is acknowledged ``{"status": "ok", "username"}``.
- Every registered connection of the account gets a ``notify`` for every state
  a call reaches, the start (``ringing``) first; the payload is
  ``{"event": "call", "callid", "state": "ringing"|"answered"|"ended"|"missed",
  "direction": "in"|"uit"|"intern", "caller", "callername" (``""`` when
  unknown), "called", "sipaccount", "timestamp" (unix seconds of the change)}``.
- Unregistered connections get nothing.

Test controls (on the API simulator's own port): ``POST /_sim/push/drop`` closes
every connection (a client must reconnect and register again);
``POST /_sim/push/refuse`` with ``{"refuse": true|false}`` turns new
connections away or lets them in; ``GET /_sim/push`` reports the URL, the
connections and the notifications sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import ssl
from typing import Any

from aiohttp import web
import engineio  # type: ignore[import-untyped]
import socketio  # type: ignore[import-untyped]

from .calls import Call, CallBook, CallState, Direction

SERVER_OUTPUT = "Connected to VoipCenter push server"
TICK_SECONDS = 0.05
"""How often the server looks for call changes only the clock made."""
STATE_WORDS = {
    CallState.RINGING: "ringing",
    CallState.IN_CALL: "answered",
    CallState.ENDED: "ended",
    CallState.MISSED: "missed",
}
DIRECTION_WORDS = {
    Direction.INBOUND: "in",
    Direction.OUTBOUND: "uit",
    Direction.INTERNAL: "intern",
}

type WskeyCheck = Callable[[str, str], bool]
type AccountOf = Callable[[Call], str]


class _TrackedEngineIo(engineio.AsyncServer):  # type: ignore[misc]
    """Engine.IO's server, keeping its background tasks (a ping each socket
    sleeps on for 25 s) so that stopping can cancel them instead of leaving
    them behind.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tasks: set[asyncio.Task[Any]] = set()

    def start_background_task(self, target: Any, *args: Any, **kwargs: Any) -> Any:
        """Start the task and keep it until it is done."""
        task = super().start_background_task(target, *args, **kwargs)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class _SocketIoServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server on the tracked Engine.IO server."""

    def _engineio_server_class(self) -> type[_TrackedEngineIo]:
        return _TrackedEngineIo


class PushServer:
    """The push channel: who is connected and registered, what was sent."""

    def __init__(
        self, book: CallBook, wskey_valid: WskeyCheck, sip_account: AccountOf
    ) -> None:
        self._book = book
        self._wskey_valid = wskey_valid
        self._sip_account = sip_account
        self._sio: Any = None
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._outbox: asyncio.Queue[dict[str, object]] | None = None
        self.url: str | None = None
        self.refusing = False
        """Whether new connections are turned away."""
        self.connected: set[str] = set()
        self.registered: dict[str, str] = {}
        """Socket id -> the username it registered."""
        self.notifications: list[dict[str, object]] = []
        """Every notify payload sent (once per payload, however many sockets)."""
        self.connections_total = 0
        self.refused_total = 0
        """Connection attempts turned away while refusing: how hard a client
        retries (a client that busy-loops shows here)."""
        book.listeners.append(self._heard)

    # ------------------------------------------------------------ events

    def notify_payload(self, call: Call, state: CallState) -> dict[str, object]:
        """The ``notify`` payload for ``call`` reaching ``state``."""
        return {
            "event": "call",
            "callid": call.id,
            "state": STATE_WORDS[state],
            "direction": DIRECTION_WORDS[call.direction],
            "caller": call.caller,
            "callername": call.caller_name or "",
            "called": call.callee,
            "sipaccount": self._sip_account(call),
            "timestamp": int(self._book.clock()),
        }

    def _heard(self, call: Call, state: CallState) -> None:
        if self._outbox is not None and state in STATE_WORDS:
            self._outbox.put_nowait(self.notify_payload(call, state))

    async def _on_connect(self, sid: str, environ: object, auth: object = None) -> bool:
        if self.refusing:
            self.refused_total += 1
            return False
        self.connected.add(sid)
        self.connections_total += 1
        self._spawn(self._greet(sid))
        return True

    async def _greet(self, sid: str) -> None:
        """``serveroutput`` once the connection is acknowledged."""
        await asyncio.sleep(0)
        if sid in self.connected:
            await self._sio.emit("serveroutput", SERVER_OUTPUT, to=sid)

    async def _on_disconnect(self, sid: str, reason: object = None) -> None:
        self.connected.discard(sid)
        self.registered.pop(sid, None)

    async def _on_register(self, sid: str, data: object = None) -> dict[str, str]:
        username, wskey = "", ""
        if isinstance(data, dict):
            username = str(data.get("username", ""))
            wskey = str(data.get("wskey", ""))
        elif isinstance(data, list | tuple) and len(data) == 2:
            username, wskey = str(data[0]), str(data[1])
        if not username or not self._wskey_valid(username, wskey):
            self._spawn(self._drop(sid))
            return {"status": "error", "message": "Invalid wskey"}
        self.registered[sid] = username
        return {"status": "ok", "username": username}

    async def _drop(self, sid: str) -> None:
        await asyncio.sleep(0.05)  # let the refusal's acknowledgement go out first
        with contextlib.suppress(Exception):
            await self._sio.disconnect(sid)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(self) -> None:
        """Send queued notifications to every registered connection."""
        assert self._outbox is not None
        while True:
            payload = await self._outbox.get()
            self.notifications.append(payload)
            for sid in list(self.registered):
                with contextlib.suppress(Exception):
                    await self._sio.emit("notify", payload, to=sid)

    async def _tick(self) -> None:
        """Notice transitions the clock made (a scripted answer, a ring-out)."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self._book.changes()

    # --------------------------------------------------------- lifecycle

    async def start(self, host: str, ssl_context: ssl.SSLContext | None) -> str:
        """Serve on an ephemeral port of ``host``; the URL clients connect to."""
        self._book.changes()  # what happened before the server ran is not news
        self._outbox = asyncio.Queue()
        self._sio = _SocketIoServer(
            async_mode="aiohttp", logger=False, engineio_logger=False
        )
        self._sio.on("connect", self._on_connect)
        self._sio.on("disconnect", self._on_disconnect)
        self._sio.on("register", self._on_register)
        app = web.Application()
        self._sio.attach(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, 0, ssl_context=ssl_context)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        scheme = "http" if ssl_context is None else "https"
        self.url = f"{scheme}://{bound_host}:{bound_port}"
        self._spawn(self._pump())
        self._spawn(self._tick())
        return self.url

    async def drop_all(self) -> int:
        """Cut every connection as a network failure would: the transport
        closes without a goodbye, so a client sees a drop (and reconnects),
        not a server that sent it away. How many there were.
        """
        count = len(self.connected)
        for socket in list(self._sio.eio.sockets.values()):
            with contextlib.suppress(Exception):
                await socket.close(wait=False, abort=True)
                # An empty packet ends Engine.IO's writer, which closes the
                # websocket now rather than at the next ping.
                await socket.queue.put(None)
        return count

    async def stop(self) -> None:
        """Close every connection and stop serving."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        if self._sio is not None:
            await self.drop_all()
            with contextlib.suppress(Exception):
                await self._sio.shutdown()
            leftovers = set(self._sio.eio.tasks)
            for task in leftovers:
                task.cancel()
            if leftovers:
                await asyncio.wait(leftovers)
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self.connected.clear()
        self.registered.clear()
        self._outbox = None
        self.url = None

    def as_json(self) -> dict[str, object]:
        """What ``GET /_sim/push`` reports."""
        return {
            "url": self.url,
            "refusing": self.refusing,
            "connected": len(self.connected),
            "connections_total": self.connections_total,
            "refused_total": self.refused_total,
            "registered": sorted(self.registered.values()),
            "notifications": self.notifications,
        }

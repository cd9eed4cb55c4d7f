"""The socket.io push channel against an in-test socket.io server on
loopback (python-socketio's server, speaking as VoipCenter's research notes
say its push server does): register on ``serveroutput``, notifications on
``notify``, reconnection with backoff after a drop, never a busy loop, and
the key never in a log.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
import json
import logging
import time
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest
import socketio

from custom_components.pbx_hub.client import (
    Backoff,
    CallNotification,
    CallState,
    Capability,
    PbxAuthError,
    PbxUnsupportedError,
    PushChannel,
    PushCredentials,
    PushState,
    create_client,
)

pytestmark = pytest.mark.slow

KEY = "wskey-5ecret-0f-the-push-channel"
FAST = Backoff(first=0.05, longest=0.4)


@dataclass
class PushServer:
    """What the test server saw, and its controls."""

    url: str
    sio: socketio.AsyncServer
    registered: list[Any] = field(default_factory=list)
    connections: list[float] = field(default_factory=list)
    drop_after_register: bool = False
    api_forms: list[dict[str, str]] = field(default_factory=list)

    @property
    def sids(self) -> list[str]:
        return [sid for sid, _ in self.sio.manager.get_participants("/", None)]


@contextlib.asynccontextmanager
async def push_server() -> AsyncIterator[PushServer]:
    """A socket.io server on loopback, and VoipCenter's ``get.php`` beside it
    (for the channel of a VoipCenter client, whose push address is the API's
    origin when the API is not VoipCenter's own).
    """
    sio = socketio.AsyncServer(async_mode="aiohttp")
    app = web.Application()
    sio.attach(app)
    server = TestServer(app)
    state = PushServer(url="", sio=sio)

    @sio.event
    async def connect(sid: str, environ: Any, auth: Any = None) -> None:
        state.connections.append(time.monotonic())
        await sio.emit("serveroutput", "Welcome, please register", to=sid)

    @sio.on("register")
    async def register(sid: str, data: Any) -> dict[str, str] | None:
        state.registered.append(data)
        if state.drop_after_register:
            await sio.disconnect(sid)
        if data.get("wskey") != KEY:
            return {"status": "error", "message": "Invalid wskey"}
        return None

    async def get_php(request: web.Request) -> web.Response:
        state.api_forms.append(dict(await request.post()))
        return web.Response(
            text=json.dumps({"username": "ws1", "wskey": KEY}), content_type="text/json"
        )

    app.router.add_post("/api/get.php", get_php)
    await server.start_server(access_log=None)
    state.url = str(server.make_url("")).rstrip("/")
    try:
        yield state
    finally:
        await sio.shutdown()
        await server.close()
        await _end_server_tasks()


async def _end_server_tasks() -> None:
    """End what the test server's sockets left sleeping (their ping loops);
    the client's tasks are left alone, for the harness to find if any linger.
    """
    server_side = ("engineio/async_socket.py", "engineio/async_server.py")
    tasks = [
        task
        for task in asyncio.all_tasks()
        if (code := getattr(task.get_coro(), "cr_code", None)) is not None
        and code.co_filename.endswith(server_side)
    ]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def wait_for(condition: Callable[[], object]) -> None:
    """Poll ``condition`` (state of another task's making) for up to 5 s."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110  (nothing to wait on but the state)
            await asyncio.sleep(0.01)


class Recorder:
    """Notes what channels hand over; ``stop_all`` ends every channel made."""

    def __init__(self) -> None:
        self.channels: list[PushChannel] = []
        self.notifications: list[CallNotification] = []
        self.states: list[PushState] = []
        self.credentials_asked = 0

    async def credentials(self) -> PushCredentials:
        self.credentials_asked += 1
        return PushCredentials(username="ws1", key=KEY)

    async def stop_all(self) -> None:
        for channel in self.channels:
            await channel.stop()

    def channel(self, url: str, **kwargs: Any) -> PushChannel:
        self.channels.append(channel := self._make(url, **kwargs))
        return channel

    def _make(self, url: str, **kwargs: Any) -> PushChannel:
        return PushChannel(
            url=url,
            credentials=self.credentials,
            on_notification=self.notifications.append,
            on_state=self.states.append,
            backoff=kwargs.pop("backoff", FAST),
            **kwargs,
        )


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    """A recorder whose channels are stopped after the test, passed or not."""
    made = Recorder()
    yield made
    await made.stop_all()


async def test_registers_then_hands_over_each_notification(
    caplog: pytest.LogCaptureFixture, recorder: Recorder
) -> None:
    caplog.set_level(logging.DEBUG)
    async with push_server() as server:
        channel = recorder.channel(server.url)
        await channel.start()
        await wait_for(lambda: channel.state is PushState.CONNECTED)
        await wait_for(lambda: server.registered)
        assert server.registered == [{"username": "ws1", "wskey": KEY}]
        payload = {
            "callerid": "0470123456",
            "sipaccount": "sipaccount1",
            "state": "ringing",
        }
        await server.sio.emit("notify", payload)
        await wait_for(lambda: recorder.notifications)
        notification = recorder.notifications[0]
        assert notification.raw == payload
        assert (notification.caller, notification.extension) == (
            "0470123456",
            "sipaccount1",
        )
        assert notification.state is CallState.RINGING
        await channel.stop()
        assert channel.state is PushState.STOPPED
        await wait_for(lambda: not server.sids)
    assert recorder.states == [
        PushState.CONNECTING,
        PushState.CONNECTED,
        PushState.STOPPED,
    ]
    assert KEY not in caplog.text


async def test_reconnects_with_backoff_after_the_server_drops_it(
    caplog: pytest.LogCaptureFixture, recorder: Recorder
) -> None:
    caplog.set_level(logging.DEBUG)
    async with push_server() as server:
        channel = recorder.channel(server.url)
        await channel.start()
        await wait_for(lambda: len(server.registered) == 1)
        await server.sio.disconnect(server.sids[0])
        dropped = time.monotonic()
        await wait_for(lambda: len(server.registered) == 2)
        # A new connection, with credentials asked again, after a pause.
        assert server.connections[1] - dropped >= FAST.first / 2
        assert recorder.credentials_asked == 2
        await wait_for(lambda: channel.state is PushState.CONNECTED)
        await server.sio.emit("notify", {"callerid": "0470"})
        await wait_for(lambda: recorder.notifications)
        await channel.stop()
    assert recorder.states[:4] == [
        PushState.CONNECTING,
        PushState.CONNECTED,
        PushState.DISCONNECTED,
        PushState.CONNECTING,
    ]
    assert KEY not in caplog.text


async def test_a_server_that_drops_at_once_is_not_hammered(
    recorder: Recorder,
) -> None:
    """Each drop right after registering counts as a failure: the waits
    grow to the cap, so a second holds only a few attempts.
    """
    async with push_server() as server:
        server.drop_after_register = True
        channel = recorder.channel(server.url, backoff=Backoff(first=0.1, longest=0.4))
        await channel.start()
        await asyncio.sleep(1.5)
        # Stopped between attempts: one cut short mid-connect may leave the
        # socket.io library's own tasks a moment longer than the test.
        await wait_for(lambda: channel.state is PushState.DISCONNECTED)
        await channel.stop()
    # Waits of at least 0.05, 0.1, 0.2, 0.2 ... seconds: never more than 9.
    assert 2 <= len(server.connections) <= 9
    gaps = [
        b - a for a, b in zip(server.connections, server.connections[1:], strict=False)
    ]
    assert all(gap >= 0.05 for gap in gaps)


async def test_unreachable_server_and_refused_credentials_back_off(
    recorder: Recorder,
) -> None:
    async with push_server() as server:
        url = server.url  # closed when the block ends: nothing listens there
    channel = recorder.channel(url, backoff=Backoff(first=0.1, longest=0.4))
    await channel.start()
    await asyncio.sleep(1.2)
    await channel.stop()
    assert 2 <= channel.attempts <= 8
    assert channel.last_error is not None

    async def refused() -> PushCredentials:
        raise PbxAuthError("VoipCenter error 15: user password incorrect")

    async def wrong_key() -> PushCredentials:
        return PushCredentials(username="ws1", key="not-the-key")

    async with push_server() as server:
        refused_channel = PushChannel(
            url=server.url,
            credentials=wrong_key,
            on_notification=lambda _: None,
            backoff=Backoff(first=5, longest=5),  # stopped while it waits
        )
        recorder.channels.append(refused_channel)
        await refused_channel.start()
        await wait_for(lambda: refused_channel.last_error == "registration refused")
        await wait_for(lambda: refused_channel.state is PushState.DISCONNECTED)
        await refused_channel.stop()

    failing = PushChannel(
        url=url, credentials=refused, on_notification=lambda _: None, backoff=FAST
    )
    await failing.start()
    await asyncio.sleep(0.3)
    await failing.stop()
    assert failing.last_error is not None
    assert failing.last_error.startswith("credentials refused")
    assert failing.state is PushState.STOPPED


async def test_voipcenter_channel_asks_the_key_by_form_post(
    caplog: pytest.LogCaptureFixture, recorder: Recorder
) -> None:
    """The key comes from ``get.php m=wskey id=<push user>`` as a signed form
    POST; the channel registers with it at the API's origin.
    """
    caplog.set_level(logging.DEBUG)
    async with push_server() as server, aiohttp.ClientSession() as session:
        settings = {
            "url": f"{server.url}/api/",
            "api_id": "pi990000tst",
            "api_key": "private",
            "customer_number": "123456",
            "password": "pw",
        }
        without = create_client("voipcenter", session, settings)
        assert Capability.CALL_PUSH not in without.capabilities
        with pytest.raises(PbxUnsupportedError):
            without.push_channel(lambda _: None)  # type: ignore[attr-defined]
        client = create_client(
            "voipcenter", session, {**settings, "ws_username": "ws1"}
        )
        assert Capability.CALL_PUSH in client.capabilities
        channel: PushChannel = client.push_channel(  # type: ignore[attr-defined]
            recorder.notifications.append, recorder.states.append
        )
        recorder.channels.append(channel)
        assert channel.url == server.url
        await channel.start()
        await wait_for(lambda: server.registered)
        await channel.stop()
    assert server.registered == [{"username": "ws1", "wskey": KEY}]
    form = server.api_forms[0]
    assert list(form)[:6] == ["apiID", "knummer", "pwd", "m", "id", "f"]
    assert (form["m"], form["id"]) == ("wskey", "ws1")
    assert list(form)[-1] == "pass"
    assert KEY not in caplog.text

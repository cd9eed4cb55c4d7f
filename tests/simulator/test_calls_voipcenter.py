"""VoipCenter calls from the shared model: the call history over get.php, the wskey
and the socket.io push channel (serveroutput, register, notify, drop, refuse).

The socket.io side plays the client the way the research notes describe it, with
python-socketio's own AsyncClient.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio  # type: ignore[import-untyped]

from simulator.voipcenter import VoipcenterSimulator
from tests.simulator.call_controls import control

pytestmark = pytest.mark.slow

NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC, 17:06:40 in Brussels
WS_USER = "wsuser"
PUSH_WAIT = 1.0
"""Seconds a notification may take: the issue asks push to beat one second."""


@pytest.fixture
async def sim() -> AsyncIterator[VoipcenterSimulator]:
    async with VoipcenterSimulator(clock=lambda: NOW, seed=4) as simulator:
        simulator.book.clock.freeze()
        yield simulator


async def get_php(
    session: aiohttp.ClientSession,
    sim: VoipcenterSimulator,
    params: list[tuple[str, str]],
) -> Any:
    """A signed get.php request sent as a form POST."""
    data = sim.signed_params("get.php", params)
    async with session.post(f"{sim.url}/api/get.php", data=data) as resp:
        return await resp.json(content_type=None)


async def history(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> dict[str, Any]:
    listing = await get_php(session, sim, [("m", "calls"), ("id", "0")])
    return {row["id"]: row for row in listing.values()}


async def test_history_follows_a_call(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    account = sim.sip_account("sipaccount1")
    before = await history(session, sim)
    call = await control(
        session, sim, "calls", {"from": "0470123456", "to": "sipaccount1"}
    )
    rows = await history(session, sim)
    assert set(rows) == set(before) | {call["id"]}
    row = rows[call["id"]]
    assert row["datum"] == "2025-06-15 17:06:40"
    assert (row["van"], row["naar"]) == ("0470123456", account.did_out or "sipaccount1")
    assert (row["richting"], row["sipaccount"]) == ("in", "sipaccount1")
    assert (row["status"], row["duur"]) == ("rinkelt", "0")
    await control(session, sim, f"calls/{call['id']}/answer", {})
    assert (await history(session, sim))[call["id"]]["status"] == "bezig"
    await control(session, sim, "clock", {"advance": 45})
    await control(session, sim, f"calls/{call['id']}/end", {})
    row = (await history(session, sim))[call["id"]]
    assert (row["status"], row["duur"]) == ("beantwoord", "45")
    detail = await get_php(session, sim, [("m", "calls"), ("id", call["id"])])
    assert detail == row

    missed = await control(
        session, sim, "calls", {"from": "0470999999", "to": "sipaccount2"}
    )
    await control(session, sim, "clock", {"advance": 31})
    assert (await history(session, sim))[missed["id"]]["status"] == "gemist"


async def test_click_to_call_is_a_model_call(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    data = sim.signed_params(
        "call.php", [("sipacc", "sipaccount1"), ("telnr", "021234567")]
    )
    async with session.get(f"{sim.url}/api/call.php", params=data) as resp:
        assert (await resp.json(content_type=None))["body"]["status"] == "1"
    [(call, state)] = sim.book.active()
    assert (call.caller_extension, call.callee, state.value) == (
        "sipaccount1",
        "021234567",
        "ringing",
    )
    await control(session, sim, "clock", {"advance": 10})
    row = (await history(session, sim))[call.id]
    assert (row["richting"], row["status"]) == ("uit", "bezig")


async def test_wskey_is_per_username_and_follows_the_api_key(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    answer = await get_php(session, sim, [("m", "wskey"), ("id", WS_USER)])
    assert answer == {"username": WS_USER, "wskey": sim.wskey(WS_USER)}
    other = await get_php(session, sim, [("m", "wskey"), ("id", "someone")])
    assert other["wskey"] != answer["wskey"]
    sim.change_api_key("rotated-key-0123456789")
    assert not sim.wskey_valid(WS_USER, answer["wskey"])


class PushClient:
    """A socket.io client that registers on every ``serveroutput``, as the
    existing VoipCenter integration does.
    """

    def __init__(self, username: str, wskey: str) -> None:
        self.sio = socketio.AsyncClient(
            reconnection=True, reconnection_delay=0.05, reconnection_delay_max=0.1
        )
        self.greetings: asyncio.Queue[Any] = asyncio.Queue()
        self.acks: asyncio.Queue[Any] = asyncio.Queue()
        self.notes: asyncio.Queue[Any] = asyncio.Queue()
        self.disconnects = 0
        self.gone = asyncio.Event()
        self.credentials = {"username": username, "wskey": wskey}
        self.sio.on("serveroutput", self._greeted)
        self.sio.on("notify", self.notes.put)
        self.sio.on("disconnect", self._gone)

    async def _greeted(self, data: Any) -> None:
        await self.greetings.put(data)
        await self.sio.emit("register", self.credentials, callback=self._acked)

    async def _acked(self, answer: Any) -> None:
        await self.acks.put(answer)

    async def _gone(self, *reason: Any) -> None:
        self.disconnects += 1
        self.gone.set()

    async def next(self, queue: asyncio.Queue[Any]) -> Any:
        async with asyncio.timeout(PUSH_WAIT):
            return await queue.get()


@pytest.fixture
async def push(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> AsyncIterator[PushClient]:
    answer = await get_php(session, sim, [("m", "wskey"), ("id", WS_USER)])
    client = PushClient(answer["username"], answer["wskey"])
    await client.sio.connect(sim.push_url, wait_timeout=5)
    yield client
    await client.sio.disconnect()


async def test_push_registers_and_notifies_each_state_of_a_call(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator, push: PushClient
) -> None:
    assert await push.next(push.greetings) == "Connected to VoipCenter push server"
    assert await push.next(push.acks) == {"status": "ok", "username": WS_USER}
    assert (await control(session, sim, "push"))["registered"] == [WS_USER]

    loop = asyncio.get_running_loop()
    started = loop.time()
    call = await control(
        session,
        sim,
        "calls",
        {"from": "0470123456", "to": "sipaccount2", "caller_name": "Jan Peeters"},
    )
    ringing = await push.next(push.notes)
    assert loop.time() - started < PUSH_WAIT
    assert ringing == {
        "event": "call",
        "callid": call["id"],
        "state": "ringing",
        "direction": "in",
        "caller": "0470123456",
        "callername": "Jan Peeters",
        "called": "sipaccount2",
        "sipaccount": "sipaccount2",
        "timestamp": int(NOW),
    }
    await control(session, sim, f"calls/{call['id']}/answer", {})
    assert (await push.next(push.notes))["state"] == "answered"
    await control(session, sim, f"calls/{call['id']}/end", {})
    assert (await push.next(push.notes))["state"] == "ended"

    # a transition only the clock makes (a ring-out) is pushed too
    missed = await control(
        session, sim, "calls", {"from": "0470654321", "to": "sipaccount1"}
    )
    assert (await push.next(push.notes))["state"] == "ringing"
    await control(session, sim, "clock", {"advance": 31})
    note = await push.next(push.notes)
    assert (note["callid"], note["state"]) == (missed["id"], "missed")
    assert push.greetings.empty()  # serveroutput came once: no register loop


async def test_push_refuses_a_wrong_wskey(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    client = PushClient(WS_USER, "0" * 32)
    client.sio.reconnection = False
    await client.sio.connect(sim.push_url, wait_timeout=5)
    try:
        assert (await client.next(client.acks))["status"] == "error"
        async with asyncio.timeout(2):
            await client.gone.wait()
        assert (await control(session, sim, "push"))["registered"] == []
        await control(session, sim, "calls", {"from": "0470", "to": "sipaccount1"})
        await asyncio.sleep(0.3)
        assert client.notes.empty()
    finally:
        await client.sio.disconnect()


async def test_push_drop_makes_the_client_reconnect_and_register_again(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator, push: PushClient
) -> None:
    await push.next(push.acks)
    dropped = await control(session, sim, "push/drop", {})
    assert dropped["dropped"] == 1
    async with asyncio.timeout(5):
        await push.greetings.get()  # the first greeting
        await push.greetings.get()  # after the reconnect
    assert await push.next(push.acks) == {"status": "ok", "username": WS_USER}
    assert push.disconnects == 1
    state = await control(session, sim, "push")
    assert (state["connections_total"], state["registered"]) == (2, [WS_USER])
    call = await control(session, sim, "calls", {"from": "0470", "to": "sipaccount1"})
    assert (await push.next(push.notes))["callid"] == call["id"]


async def test_push_refuse_turns_connections_away(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    await control(session, sim, "push/refuse", {"refuse": True})
    client = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(sim.push_url, wait_timeout=2)
    assert (await control(session, sim, "push"))["refused_total"] == 1
    await control(session, sim, "push/refuse", {"refuse": False})
    await client.connect(sim.push_url, wait_timeout=5)
    assert client.connected
    await client.disconnect()
    await control(session, sim, "push/refuse", {"refuse": "yes"}, status=400)

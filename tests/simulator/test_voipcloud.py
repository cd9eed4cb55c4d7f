"""The VoIPcloud simulator, over real loopback HTTP."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
import pytest

from simulator import Fault, __main__ as cli
from simulator.voipcloud import DEFAULT_TOKEN, VoipcloudSimulator

pytestmark = pytest.mark.slow

# Monday 2024-03-04 12:00 in Sydney (AEDT, UTC+11).
T0 = datetime(2024, 3, 4, 1, 0, tzinfo=UTC)

USER_KEYS = {
    "unique_call_id", "type", "caller_id", "caller_name", "dest_number",
    "user_name", "user_number", "call_start_at", "connected_at", "call_duration",
    "conversation_duration", "from_number", "to_number", "is_inbound",
    "call_finished_at",
}  # fmt: skip
GROUP_KEYS = {
    "unique_call_id", "callerid", "caller_name", "dest_number", "inbound_number",
    "user_name", "user_number", "answered_by_user_name", "call_start_at",
    "connected_at", "call_answered_at", "call_finished_at", "call_duration",
    "conversation_duration", "status",
}  # fmt: skip


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def at(self, seconds: float) -> None:
        self.now = T0 + timedelta(seconds=seconds)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[VoipcloudSimulator]:
    async with VoipcloudSimulator(clock=clock, generate=False, seed=1) as simulator:
        yield simulator


async def request(
    session: aiohttp.ClientSession,
    sim: VoipcloudSimulator,
    endpoint: str,
    *,
    method: str = "GET",
    version: str = "v1",
    token: str | None = None,
    params: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body of one API request."""
    headers = {"token": sim.token if token is None else token}
    if token == "":
        headers = {}
    url = f"{sim.url}/api/integration/{version}/{endpoint}"
    async with session.request(
        method, url, headers=headers, params=params or {}, **kwargs
    ) as resp:
        return resp.status, dict(resp.headers), await resp.json()


async def data(
    session: aiohttp.ClientSession,
    sim: VoipcloudSimulator,
    endpoint: str,
    **params: str,
) -> Any:
    status, _, body = await request(session, sim, endpoint, params=params)
    assert status == 200, body
    assert body["status"] == "success"
    assert body["code"] == 200
    assert isinstance(body["message"], str)
    return body["data"]


# ------------------------------------------------------------------ directory


def test_seeded_directory_and_scenario_errors(clock: Clock) -> None:
    sim = VoipcloudSimulator(clock=clock, users=5, queues=2, ring_groups=1)
    assert sim.users[0].name == "John Smith"
    assert [u.number for u in sim.users] == ["1001", "1002", "1003", "1004", "1005"]
    assert len({u.name for u in sim.users}) == 5
    assert [g.name for g in sim.queues] == ["Sales", "Support"]
    assert [g.name for g in sim.ring_groups] == ["Reception"]
    assert sim.user("John Smith") is sim.user("1001")
    assert sim.add_queue("Overflow").name == "Overflow"
    assert sim.add_user("Jo Bloggs").number == "1006"
    many = VoipcloudSimulator(clock=clock, queues=8, ring_groups=5, users=0)
    assert many.queues[7].name == "Queue 8"
    assert many.ring_groups[4].name == "Ring Group 5"
    with pytest.raises(ValueError, match="needs a user"):
        many.add_queue_call("Sales")
    with pytest.raises(KeyError):
        sim.add_queue_call("Nope")
    with pytest.raises(KeyError):
        sim.add_ringgroup_call("Sales")
    with pytest.raises(KeyError):
        sim.add_user_call("9999")
    with pytest.raises(ValueError, match="status"):
        sim.add_queue_call("Sales", status="lost")
    with pytest.raises(ValueError, match="agent"):
        sim.add_queue_call("Sales", status="abandoned", answered_by="1001")
    with pytest.raises(ValueError, match="positive"):
        VoipcloudSimulator(rate_limit=0)
    with pytest.raises(ValueError, match="negative"):
        VoipcloudSimulator(calls_per_hour=-1)


def test_default_clock_is_real_time() -> None:
    sim = VoipcloudSimulator(generate=False)
    assert abs(sim.now() - datetime.now(UTC)) < timedelta(seconds=5)
    call_id = sim.add_user_call("1001")
    assert sim.user_rows()[0]["unique_call_id"] == call_id


# ---------------------------------------------------------------- life cycle


async def test_queue_call_life_cycle(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator, clock: Clock
) -> None:
    call_id = sim.add_queue_call(
        "Sales",
        start=T0,
        wait=20,
        talk=60,
        caller="61400000001",
        caller_name="Jane Doe",
        answered_by="John Smith",
    )
    assert call_id.isdigit()
    assert call_id.startswith(str(int(T0.timestamp())))

    clock.at(-1)
    assert await data(session, sim, "get-queue-calls") == []

    clock.at(10)
    (row,) = await data(session, sim, "get-queue-calls")
    assert set(row) == GROUP_KEYS | {"queue_name"}
    assert row["queue_name"] == "Sales"
    assert row["callerid"] == "61400000001"
    assert row["caller_name"] == "Jane Doe"
    assert row["dest_number"] == row["inbound_number"] == sim.queues[0].did
    assert row["call_start_at"] == "2024-03-04T01:00:00.000Z"
    assert row["status"] == "waiting"
    for key in ("connected_at", "call_answered_at", "call_finished_at"):
        assert row[key] is None
    assert row["answered_by_user_name"] is None
    assert (row["call_duration"], row["conversation_duration"]) == (0, 0)
    # The agent's leg starts ringing 5 s before the answer.
    assert await data(session, sim, "get-user-calls") == []

    clock.at(17)
    (leg,) = await data(session, sim, "get-user-calls")
    assert leg["type"] == "user_inbound_ringing"
    assert leg["call_start_at"] == "2024-03-04T01:00:15.000Z"
    assert leg["connected_at"] is None

    clock.at(30)
    (row,) = await data(session, sim, "get-queue-calls")
    assert row["status"] == "answered"
    assert row["call_answered_at"] == row["connected_at"] == "2024-03-04T01:00:20.000Z"
    assert row["call_finished_at"] is None
    assert row["answered_by_user_name"] == row["user_name"] == "John Smith"
    assert row["user_number"] == "1001"
    assert row["call_duration"] == 0
    (leg,) = await data(session, sim, "get-user-calls")
    assert leg["type"] == "user_inbound_answered"
    assert leg["connected_at"] == "2024-03-04T01:00:20.000Z"

    clock.at(100)
    (row,) = await data(session, sim, "get-queue-calls")
    assert row["call_finished_at"] == "2024-03-04T01:01:20.000Z"
    assert (row["call_duration"], row["conversation_duration"]) == (80, 60)
    (leg,) = await data(session, sim, "get-user-calls")
    assert set(leg) == USER_KEYS
    assert leg["unique_call_id"] == call_id
    assert (leg["call_duration"], leg["conversation_duration"]) == (65, 60)
    assert leg["call_finished_at"] == "2024-03-04T01:01:20.000Z"
    assert leg["caller_id"] == leg["from_number"] == "61400000001"
    assert leg["dest_number"] == leg["to_number"] == sim.queues[0].did
    assert (leg["user_name"], leg["user_number"], leg["is_inbound"]) == (
        "John Smith",
        "1001",
        1,
    )
    assert sim.queue_rows() == [row]
    assert sim.user_rows() == [leg]


async def test_unanswered_group_calls(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator, clock: Clock
) -> None:
    sim.add_queue_call("Support", status="abandoned", start=T0, wait=30, talk=99)
    sim.add_ringgroup_call("Reception", status="timedout", start=T0, wait=60)
    clock.at(29)
    assert (await data(session, sim, "get-queue-calls"))[0]["status"] == "waiting"
    clock.at(45)
    (queued,) = await data(session, sim, "get-queue-calls")
    assert queued["status"] == "abandoned"
    assert queued["call_finished_at"] == "2024-03-04T01:00:30.000Z"
    assert (queued["call_duration"], queued["conversation_duration"]) == (30, 0)
    assert queued["answered_by_user_name"] is None
    (rang,) = await data(session, sim, "get-ringgroup-calls")
    assert set(rang) == GROUP_KEYS | {"ring_group_name"}
    assert (rang["ring_group_name"], rang["status"]) == ("Reception", "waiting")
    clock.at(61)
    (rang,) = await data(session, sim, "get-ringgroup-calls")
    assert rang["status"] == "timedout"
    assert rang["call_answered_at"] is None
    assert sim.ringgroup_rows() == [rang]
    assert await data(session, sim, "get-user-calls") == []


async def test_user_call_types(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator, clock: Clock
) -> None:
    out_id = sim.add_user_call(
        "1002", inbound=False, answered=False, start=T0, wait=25, caller="6421000000"
    )
    in_id = sim.add_user_call(
        "1003", inbound=True, answered=True, start=T0, wait=4, talk=10
    )
    assert out_id != in_id
    clock.at(5)
    rows = {r["unique_call_id"]: r for r in await data(session, sim, "get-user-calls")}
    assert rows[out_id]["type"] == "user_outbound_ringing"
    assert rows[in_id]["type"] == "user_inbound_answered"
    assert rows[in_id]["dest_number"] == sim.user("1003").did
    clock.at(30)
    rows = {r["unique_call_id"]: r for r in await data(session, sim, "get-user-calls")}
    out = rows[out_id]
    assert out["type"] == "user_outbound_missed"
    assert (out["caller_id"], out["caller_name"]) == (
        sim.company_number,
        "Example Pty Ltd",
    )
    assert out["dest_number"] == out["to_number"] == "6421000000"
    assert (out["is_inbound"], out["connected_at"]) == (0, None)
    assert (out["call_duration"], out["conversation_duration"]) == (25, 0)
    assert rows[in_id]["call_duration"] == 14


# ------------------------------------------------------------ list parameters


async def test_filters_sorting_and_paging(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    # 01:30 on 4 March in Sydney, but still 3 March in UTC.
    early = sim.add_user_call("1001", start=datetime(2024, 3, 3, 14, 30, tzinfo=UTC))
    late_3rd = sim.add_user_call("1002", start=datetime(2024, 3, 3, 12, 0, tzinfo=UTC))
    on_2nd = sim.add_user_call("1001", start=datetime(2024, 3, 2, 0, 0, tzinfo=UTC))
    newest = sim.add_user_call("1003", start=T0 - timedelta(minutes=5))
    future = sim.add_user_call("1003", start=T0 + timedelta(minutes=5))

    async def ids(**params: str) -> list[str]:
        rows = await data(session, sim, "get-user-calls", **params)
        return [row["unique_call_id"] for row in rows]

    assert await ids() == [newest, early, late_3rd, on_2nd]
    assert future not in await ids(limit="10000")
    assert await ids(sort_by="newest_first", limit="2") == [newest, early]
    assert await ids(limit="2", offset="1") == [early, late_3rd]
    assert await ids(offset="10") == []
    assert await ids(limit="", offset="") == [newest, early, late_3rd, on_2nd]
    assert await ids(from_date="2024-03-04") == [newest, early]
    assert await ids(to_date="2024-03-03") == [late_3rd, on_2nd]
    assert await ids(from_date="2024-03-03", to_date="2024-03-03") == [late_3rd]
    assert await ids(from_date="2024-03-05", to_date="2024-03-01") == []
    assert await ids(users_names="John Smith") == [early, on_2nd]
    names = f" {sim.user('1002').name} ,{sim.user('1003').name}"
    assert await ids(users_names=names) == [newest, late_3rd]
    assert await ids(users_names="Nobody") == []
    assert await ids(unique_call_id=late_3rd) == [late_3rd]

    sim.add_queue_call("Sales", start=T0 - timedelta(hours=1))
    support = sim.add_queue_call("Support", start=T0 - timedelta(hours=2))
    rows = await data(session, sim, "get-queue-calls", queues_names="Support")
    assert [r["unique_call_id"] for r in rows] == [support]
    sim.add_ringgroup_call("Reception", start=T0 - timedelta(hours=1))
    rows = await data(session, sim, "get-ringgroup-calls", ringgroups_names="Other")
    assert rows == []
    assert len(await data(session, sim, "get-ringgroup-calls")) == 1


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"from_date": "2024-13-01"}, "from_date"),
        ({"to_date": "04/03/2024"}, "to_date"),
        ({"sort_by": "oldest_first"}, "sort_by"),
    ],
)
async def test_parameter_errors(
    session: aiohttp.ClientSession,
    sim: VoipcloudSimulator,
    params: dict[str, str],
    word: str,
) -> None:
    status, _, body = await request(session, sim, "get-queue-calls", params=params)
    assert status == 400
    assert body["status"] == "error"
    assert body["code"] == 400
    assert body["data"] is None
    assert word in body["message"]


# ------------------------------------------------------------------ auth


async def test_token_and_whitelist(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    async def refused(**kwargs: Any) -> str:
        status, _, body = await request(session, sim, "get-user-calls", **kwargs)
        assert (status, body["status"], body["code"]) == (401, "error", 401)
        return str(body["message"])

    assert await refused(token="") == "Token not provided"
    assert await refused(token="wrong") == "Invalid token"
    retired = await refused(token="", params={"api_key": sim.token})
    assert "api_key" in retired
    assert "token header" in retired
    # The retired parameter does not rescue a wrong header either.
    assert await refused(token="wrong", params={"api_key": sim.token}) == (
        "Invalid token"
    )

    sim.whitelist = ["10.0.0.0/8", "192.0.2.7"]
    assert sim.whitelist == ["10.0.0.0/8", "192.0.2.7/32"]
    assert await refused() == "IP address 127.0.0.1 is not whitelisted"
    assert await refused(token="wrong") == "Invalid token"
    sim.whitelist = ["127.0.0.0/8"]
    assert await data(session, sim, "get-user-calls") == []
    sim.whitelist = None
    assert await data(session, sim, "get-user-calls") == []

    sim.token = "rotated-token-1"
    assert await refused(token=DEFAULT_TOKEN) == "Invalid token"
    assert await data(session, sim, "get-user-calls") == []
    # Only accepted requests use up the rate limit.
    assert sim.requests_in_window() == 3


async def test_whitelist_from_constructor(
    session: aiohttp.ClientSession, clock: Clock
) -> None:
    async with VoipcloudSimulator(
        clock=clock, generate=False, whitelist="203.0.113.9"
    ) as sim:
        assert sim.whitelist == ["203.0.113.9/32"]
        status, _, body = await request(session, sim, "get-system-status")
        assert (status, body["message"]) == (
            401,
            "IP address 127.0.0.1 is not whitelisted",
        )
    assert VoipcloudSimulator(whitelist=["::1"])._allowed(None) is False


# ------------------------------------------------------------ rate limit


async def test_sliding_window_rate_limit(
    session: aiohttp.ClientSession, clock: Clock
) -> None:
    async with VoipcloudSimulator(
        clock=clock, generate=False, rate_limit=3, rate_window=timedelta(minutes=15)
    ) as sim:
        assert await data(session, sim, "get-user-calls") == []
        clock.advance(seconds=60)
        await data(session, sim, "get-queue-calls")
        await data(session, sim, "get-system-status")
        async with session.get(f"{sim.url}/_sim/state") as resp:
            assert (await resp.json())["requests_in_window"] == 3
        assert sim.requests_in_window() == 3

        status, headers, body = await request(session, sim, "get-user-calls")
        assert status == 429
        assert body == {
            "status": "error",
            "message": "Too Many Requests",
            "code": 429,
            "data": None,
        }
        assert headers["Retry-After"] == "840"
        assert sim.requests_in_window() == 3

        clock.advance(seconds=839)
        status, headers, _ = await request(session, sim, "get-user-calls")
        assert (status, headers["Retry-After"]) == (429, "1")
        clock.advance(seconds=1)
        assert sim.requests_in_window() == 2
        await data(session, sim, "get-user-calls")
        status, headers, _ = await request(session, sim, "get-user-calls")
        assert (status, headers["Retry-After"]) == (429, "60")

        sim.reset_rate_limit()
        assert sim.requests_in_window() == 0
        await data(session, sim, "get-user-calls")


# ---------------------------------------------------------- click to call


async def test_call_to_number(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator, clock: Clock
) -> None:
    status, _, body = await request(
        session,
        sim,
        "call-to-number",
        method="POST",
        data={"user_number": "1002", "number_to_call": "0298765432"},
    )
    assert status == 200
    assert body["status"] == "success"
    reply = body["data"]
    assert reply["user"] == "1002"
    assert reply["number_to_call"] == "0298765432"
    assert reply["status"] == "initiated"

    (row,) = await data(session, sim, "get-user-calls")
    assert row["unique_call_id"] == reply["call_id"]
    assert row["type"] == "user_outbound_ringing"
    assert row["call_start_at"] == "2024-03-04T01:00:00.000Z"
    assert (row["dest_number"], row["user_number"]) == ("0298765432", "1002")

    clock.advance(hours=2)
    (row,) = await data(session, sim, "get-user-calls")
    assert row["type"] in {"user_outbound_answered", "user_outbound_missed"}
    assert row["call_finished_at"] is not None

    status, _, body = await request(
        session,
        sim,
        "call-to-number",
        method="POST",
        version="v2",
        json={
            "user": 1003,
            "number_to_call": "+61412000111",
            "caller_id": "0290000000",
        },
    )
    assert status == 200
    assert body["data"]["user"] == "1003"

    first, second = sim.calls_to_number
    assert (first.user_number, first.number_to_call) == ("1002", "0298765432")
    assert first.at == T0
    assert first.call_id == reply["call_id"]
    assert second.fields["caller_id"] == "0290000000"
    assert second.number_to_call == "+61412000111"
    assert second.at == T0 + timedelta(hours=2)
    assert len(await data(session, sim, "get-user-calls")) == 2


@pytest.mark.parametrize(
    ("kwargs", "status", "message"),
    [
        ({"data": {"number_to_call": "0298765432"}}, 400, "user_number"),
        ({"data": {"user_number": "1001"}}, 400, "number_to_call"),
        ({"data": {"user_number": "1001", "number_to_call": "12"}}, 400, "format"),
        ({"json": {"user_number": "1001", "number_to_call": "abc"}}, 400, "format"),
        (
            {"data": {"user_number": "7777", "number_to_call": "0298765432"}},
            404,
            "User not found",
        ),
        (
            {"data": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "Malformed",
        ),
        ({"json": ["1001", "0298765432"]}, 400, "object"),
        (
            {"json": {"user_number": True, "number_to_call": "02987"}},
            400,
            "user_number",
        ),
    ],
)
async def test_call_to_number_errors(
    session: aiohttp.ClientSession,
    sim: VoipcloudSimulator,
    kwargs: dict[str, Any],
    status: int,
    message: str,
) -> None:
    kwargs = dict(kwargs)
    headers = {"token": sim.token, **kwargs.pop("headers", {})}
    async with session.post(
        f"{sim.url}/api/integration/v1/call-to-number", headers=headers, **kwargs
    ) as resp:
        body = await resp.json()
    assert (resp.status, body["code"], body["status"]) == (status, status, "error")
    assert message in body["message"]
    assert sim.calls_to_number == []
    assert sim.user_calls == []


async def test_routing(session: aiohttp.ClientSession, sim: VoipcloudSimulator) -> None:
    sim.add_user_call("1001", start=T0)
    assert len(await data(session, sim, "get-user-calls")) == 1
    status, _, body = await request(session, sim, "get-user-calls", version="v2")
    assert (status, len(body["data"])) == (200, 1)
    status, _, body = await request(session, sim, "call-to-number")
    assert (status, body["code"], body["message"]) == (405, 405, "Method not allowed")
    status, _, body = await request(session, sim, "get-user-calls", method="POST")
    assert status == 405
    status, _, body = await request(session, sim, "get-nothing")
    assert (status, body["message"]) == (404, "Not found")
    status, _, body = await request(session, sim, "get-user-calls", version="v3")
    assert (status, body["code"]) == (404, 404)
    async with session.get(f"{sim.url}/elsewhere") as resp:
        assert resp.status == 404
        assert (await resp.json())["status"] == "error"
    assert sim.requests_by_action["get-user-calls"] == 3
    assert sim.requests_by_action["GET /elsewhere"] == 1


# ------------------------------------------------------------ system status


async def test_system_status(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator, clock: Clock
) -> None:
    status = await data(session, sim, "get-system-status")
    assert status["status"] == "operational"
    assert status["message"] == "All systems operational"
    assert {c["name"] for c in status["components"]} == {
        "Voice",
        "SMS",
        "Portal",
        "API",
    }
    assert {c["status"] for c in status["components"]} == {"operational"}
    assert status["updated_at"] == "2024-03-04T01:00:00.000Z"

    clock.advance(minutes=3)
    sim.set_system_status("degraded", "Inbound calls delayed", {"Voice": "degraded"})
    clock.advance(minutes=3)
    status = await data(session, sim, "get-system-status")
    assert status == {
        "status": "degraded",
        "message": "Inbound calls delayed",
        "components": [{"name": "Voice", "status": "degraded"}],
        "updated_at": "2024-03-04T01:03:00.000Z",
    }
    sim.set_system_status("outage")
    status = await data(session, sim, "get-system-status")
    assert (status["status"], status["message"]) == ("outage", "Service status: outage")
    sim.set_system_status()
    status = await data(session, sim, "get-system-status")
    assert status["message"] == "All systems operational"


# ------------------------------------------------------------- generation


def _all_rows(sim: VoipcloudSimulator) -> tuple[object, ...]:
    return (sim.user_rows(), sim.queue_rows(), sim.ringgroup_rows())


def test_generation_is_seeded_and_lazy() -> None:
    def make(seed: int, clock: Clock) -> VoipcloudSimulator:
        return VoipcloudSimulator(
            clock=clock,
            seed=seed,
            calls_per_hour=60,
            business_hours=False,
            history=timedelta(0),
        )

    stepped_clock, jump_clock, other_clock = Clock(), Clock(), Clock()
    stepped, jumped, other = (
        make(1, stepped_clock),
        make(1, jump_clock),
        make(2, other_clock),
    )
    assert stepped.catch_up() == 0
    added = 0
    for _ in range(36):
        stepped_clock.advance(minutes=5)
        added += stepped.catch_up()
        stepped.add_user_call("1001", start=T0 - timedelta(days=9))
    jump_clock.advance(hours=3)
    other_clock.advance(hours=3)
    for _ in range(36):
        jumped.add_user_call("1001", start=T0 - timedelta(days=9))
    assert jumped.catch_up() == added
    assert _all_rows(stepped) == _all_rows(jumped)
    assert _all_rows(other) != _all_rows(jumped)
    # A Poisson process at 60/h over 3 h: about 180 calls.
    assert 120 <= added <= 240
    groups = [*jumped.queue_calls, *jumped.ringgroup_calls]
    group_ids = {c.id for c in groups}
    # Agent legs share their group call's id; the rest are direct user calls.
    direct = [c for c in jumped.user_calls if c.id not in group_ids and c.start > T0]
    starts = [c.start for c in groups] + [c.start for c in direct]
    assert all(T0 < start <= jump_clock.now for start in starts)
    ids = [c.id for c in groups] + [c.id for c in direct]
    assert len(set(ids)) == len(ids) == added
    assert all(i.isdigit() for i in ids)
    statuses = {c.status for c in jumped.queue_calls}
    assert statuses <= {"answered", "abandoned", "timedout"}
    assert "answered" in statuses
    assert jumped.queue_calls
    assert jumped.ringgroup_calls
    assert any(not c.inbound for c in jumped.user_calls)


def test_business_hours_and_history() -> None:
    clock = Clock(T0 - timedelta(hours=12))  # Monday 00:00 local
    sim = VoipcloudSimulator(clock=clock, calls_per_hour=40, history=timedelta(0))
    clock.advance(days=7)
    sim.catch_up()
    groups = [*sim.queue_calls, *sim.ringgroup_calls]
    group_ids = {c.id for c in groups}
    starts = [c.start for c in groups] + [
        c.start for c in sim.user_calls if c.id not in group_ids
    ]
    busy = [s for s in starts if 8 <= s.astimezone(sim.timezone).hour < 18]
    weekday_busy = [s for s in busy if s.astimezone(sim.timezone).weekday() < 5]
    quiet = len(starts) - len(weekday_busy)
    # 50 busy hours at 40/h versus 118 quiet hours at 4/h.
    assert len(weekday_busy) / 50 > 4 * (quiet / 118)

    idle = VoipcloudSimulator(clock=Clock(), calls_per_hour=0)
    assert idle.catch_up() == 0

    empty = VoipcloudSimulator(clock=Clock(), users=0, queues=0, ring_groups=0)
    assert empty.catch_up() == 0

    history_clock = Clock()
    seeded = VoipcloudSimulator(
        clock=history_clock, history=timedelta(hours=2), business_hours=False
    )
    rows = seeded.queue_rows() + seeded.user_rows()
    assert rows
    assert min(str(r["call_start_at"]) for r in rows) >= "2024-03-03T23:00:00.000Z"


async def test_requests_drive_generation(
    session: aiohttp.ClientSession, clock: Clock
) -> None:
    async with VoipcloudSimulator(
        clock=clock, history=timedelta(0), calls_per_hour=120, business_hours=False
    ) as sim:
        assert await data(session, sim, "get-queue-calls") == []
        clock.advance(hours=1)
        rows = await data(session, sim, "get-user-calls", limit="10000")
        assert rows
        starts = [r["call_start_at"] for r in rows]
        assert starts == sorted(starts, reverse=True)
        assert max(starts) <= "2024-03-04T02:00:00.000Z"
        assert sim.generated_until == clock.now


# ------------------------------------------------------------------ faults


async def test_core_faults(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    sim.inject(Fault.SERVER_ERROR, count=1, actions=["get-queue-calls"])
    assert await data(session, sim, "get-user-calls") == []
    async with session.get(
        f"{sim.url}/api/integration/v2/get-queue-calls", headers={"token": sim.token}
    ) as resp:
        assert resp.status == 500
        assert "Internal Server Error" in await resp.text()

    sim.inject(Fault.AUTH_REVOKED, count=1)
    status, _, body = await request(session, sim, "get-user-calls")
    assert (status, body["message"], body["status"]) == (401, "Invalid token", "error")

    sim.inject(Fault.TRUNCATED, count=1)
    async with session.get(
        f"{sim.url}/api/integration/v1/get-system-status", headers={"token": sim.token}
    ) as resp:
        text = await resp.text()
    assert text.startswith('{"status": "success"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

    sim.inject(Fault.RATE_LIMIT, count=1, retry_after=9)
    async with session.get(
        f"{sim.url}/api/integration/v1/get-user-calls", headers={"token": sim.token}
    ) as resp:
        assert (resp.status, resp.headers["Retry-After"]) == (429, "9")
    # Only the two requests the handler answered used rate-limit slots.
    assert sim.requests_in_window() == 2
    assert sim.request_count == 5


# --------------------------------------------------------------------- CLI


async def test_from_cli_banner_and_state(
    session: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    options = argparse.Namespace(
        host="127.0.0.1",
        port=0,
        seed=3,
        extensions=4,
        dids=5,
        multi_tenant=False,
        tenants=2,
        api_key=None,
    )
    sim = VoipcloudSimulator.from_cli(options)
    assert (sim.token, len(sim.users), sim.seed) == (DEFAULT_TOKEN, 4, 3)
    options.api_key = "my-voipcloud-key"
    assert VoipcloudSimulator.from_cli(options).token == "my-voipcloud-key"
    assert len(VoipcloudSimulator.from_cli(argparse.Namespace()).users) == 5

    stop = asyncio.Event()
    stop.set()
    await cli.serve(sim, "127.0.0.1", 0, stop)
    out = capsys.readouterr().out
    assert "voipcloud simulator listening on http://127.0.0.1:" in out
    assert f"Token (HTTP header 'token'): {DEFAULT_TOKEN}" in out
    assert "/api/integration/v1/" in out
    assert "John Smith (1001)" in out
    assert "Whitelist: any IP" in out

    clock = Clock()
    async with VoipcloudSimulator(
        clock=clock, generate=False, whitelist=["127.0.0.1"]
    ) as live:
        assert "Whitelist: 127.0.0.1/32" in live.banner()
        live.add_queue_call("Sales", start=T0)
        async with session.get(f"{live.url}/_sim/state") as resp:
            state = await resp.json()
    assert state["vendor"] == "voipcloud"
    assert state["queues"] == ["Sales", "Support"]
    assert state["ring_groups"] == ["Reception"]
    assert state["users"][0] == {"name": "John Smith", "number": "1001"}
    assert (state["queue_calls"], state["user_calls"]) == (1, 1)
    assert state["now"] == "2024-03-04T01:00:00.000Z"
    assert state["rate_limit"] == 100
    assert state["requests_in_window"] == 0

"""VoIPcloud calls from the shared model: in progress and finished in today's user,
queue and ring-group lists, over HTTP, on a clock the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from simulator.voipcloud import VoipcloudSimulator
from tests.simulator.call_controls import control

pytestmark = pytest.mark.slow

T0 = datetime(2025, 6, 16, 1, 0, tzinfo=UTC)  # 11:00 on a Monday in Sydney
TODAY = "2025-06-16"


@pytest.fixture
async def sim() -> AsyncIterator[VoipcloudSimulator]:
    async with VoipcloudSimulator(clock=lambda: T0, generate=False) as simulator:
        simulator.book.clock.freeze()
        yield simulator


async def rows(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator, endpoint: str
) -> dict[str, list[dict[str, Any]]]:
    """Today's rows of one list, by unique_call_id."""
    async with session.get(
        f"{sim.url}/api/integration/v1/{endpoint}",
        params={"from_date": TODAY, "to_date": TODAY},
        headers={"token": sim.token},
    ) as resp:
        assert resp.status == 200
        data = (await resp.json())["data"]
    found: dict[str, list[dict[str, Any]]] = {}
    for row in data:
        found.setdefault(row["unique_call_id"], []).append(row)
    return found


async def test_user_call_in_progress_then_finished(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    user = sim.users[0]
    call = await control(
        session,
        sim,
        "calls",
        {"from": "61412345678", "to": user.number, "caller_name": "Ann Lee"},
    )
    assert call["id"].isdigit()
    [ringing] = (await rows(session, sim, "get-user-calls"))[call["id"]]
    assert ringing["type"] == "user_inbound_ringing"
    assert (ringing["caller_id"], ringing["caller_name"]) == ("61412345678", "Ann Lee")
    assert (ringing["dest_number"], ringing["user_number"]) == (user.did, user.number)
    assert ringing["call_start_at"] == "2025-06-16T01:00:00.000Z"
    assert ringing["connected_at"] is None
    assert ringing["call_finished_at"] is None

    await control(session, sim, "clock", {"advance": 6})
    await control(session, sim, f"calls/{call['id']}/answer", {})
    [talking] = (await rows(session, sim, "get-user-calls"))[call["id"]]
    assert talking["type"] == "user_inbound_answered"
    assert talking["connected_at"] == "2025-06-16T01:00:06.000Z"
    assert talking["call_finished_at"] is None
    assert talking["conversation_duration"] == 0

    await control(session, sim, "clock", {"advance": 60})
    await control(session, sim, f"calls/{call['id']}/end", {})
    [done] = (await rows(session, sim, "get-user-calls"))[call["id"]]
    assert done["call_finished_at"] == "2025-06-16T01:01:06.000Z"
    assert (done["call_duration"], done["conversation_duration"]) == (66, 60)


async def test_missed_and_outbound_and_internal_rows(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    first, second = sim.users[0], sim.users[1]
    missed = await control(
        session, sim, "calls", {"from": "61400000001", "to": first.number}
    )
    outbound = await control(
        session, sim, "calls", {"from": second.number, "to": "61298765432"}
    )
    internal = await control(
        session,
        sim,
        "calls",
        {"from": first.number, "to": second.number, "ring_seconds": None},
    )
    await control(session, sim, "clock", {"advance": 31})
    listed = await rows(session, sim, "get-user-calls")
    [missed_row] = listed[missed["id"]]
    assert missed_row["type"] == "user_inbound_missed"
    assert missed_row["call_finished_at"] == "2025-06-16T01:00:30.000Z"  # rang 30 s
    [out_row] = listed[outbound["id"]]
    assert out_row["type"] == "user_outbound_missed"
    assert (out_row["caller_id"], out_row["dest_number"]) == (
        sim.company_number,
        "61298765432",
    )
    legs = {row["user_number"]: row["type"] for row in listed[internal["id"]]}
    assert legs == {
        first.number: "user_outbound_ringing",
        second.number: "user_inbound_ringing",
    }


async def test_queue_call_waits_is_answered_by_an_agent_and_ends(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    queue, agent = sim.queues[0], sim.users[2]
    call = await control(
        session, sim, "calls", {"from": "61400000002", "group": queue.name}
    )
    assert call["to"] == queue.did
    [waiting] = (await rows(session, sim, "get-queue-calls"))[call["id"]]
    assert (waiting["queue_name"], waiting["status"]) == (queue.name, "waiting")
    assert waiting["user_name"] is None
    assert call["id"] not in await rows(session, sim, "get-user-calls")

    await control(session, sim, "clock", {"advance": 12})
    await control(session, sim, f"calls/{call['id']}/answer", {"by": agent.number})
    [answered] = (await rows(session, sim, "get-queue-calls"))[call["id"]]
    assert (answered["status"], answered["answered_by_user_name"]) == (
        "answered",
        agent.name,
    )
    [agent_row] = (await rows(session, sim, "get-user-calls"))[call["id"]]
    assert agent_row["user_number"] == agent.number
    assert agent_row["call_start_at"] == "2025-06-16T01:00:07.000Z"  # rang 5 s
    assert agent_row["dest_number"] == queue.did

    await control(session, sim, "clock", {"advance": 100})
    await control(session, sim, f"calls/{call['id']}/end", {})
    [ended] = (await rows(session, sim, "get-queue-calls"))[call["id"]]
    assert (ended["call_duration"], ended["conversation_duration"]) == (112, 100)


async def test_ring_group_call_abandoned_or_timed_out(
    session: aiohttp.ClientSession, sim: VoipcloudSimulator
) -> None:
    group = sim.ring_groups[0]
    abandoned = await control(
        session, sim, "calls", {"from": "61400000003", "group": group.name}
    )
    timed_out = await control(
        session, sim, "calls", {"from": "61400000004", "group": group.name}
    )
    await control(session, sim, "clock", {"advance": 10})
    await control(session, sim, f"calls/{abandoned['id']}/end", {})
    await control(session, sim, "clock", {"advance": 30})
    listed = await rows(session, sim, "get-ringgroup-calls")
    assert listed[abandoned["id"]][0]["status"] == "abandoned"
    assert listed[timed_out["id"]][0]["status"] == "timedout"
    assert listed[timed_out["id"]][0]["ring_group_name"] == group.name
    await control(session, sim, "calls", {"from": "614", "group": "Nobody"}, status=400)


async def test_clock_moves_generated_calls_too(
    session: aiohttp.ClientSession,
) -> None:
    async with VoipcloudSimulator(
        clock=lambda: T0, calls_per_hour=120, business_hours=False
    ) as sim:
        sim.book.clock.freeze()
        before = len(sim.user_rows()) + len(sim.queue_rows())
        await control(session, sim, "clock", {"advance": 3600})
        assert sim.now() == datetime(2025, 6, 16, 2, 0, tzinfo=UTC)
        assert len(sim.user_rows()) + len(sim.queue_rows()) > before

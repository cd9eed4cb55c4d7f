"""TIM4biz's ExtensionTotal counts the shared call model's finished calls."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from simulator import Tim4bizSimulator

pytestmark = pytest.mark.slow

T0 = datetime(2025, 6, 16, 9, 0, tzinfo=UTC)


async def totals(session: aiohttp.ClientSession, sim: Tim4bizSimulator) -> Any:
    async with session.get(
        f"{sim.url}/api/ExtensionTotal",
        params={"from": "2025-06-16T00:00:00", "to": "2025-06-17T00:00:00"},
        headers={
            "Authorization": aiohttp.encode_basic_auth(sim.username, sim.password)
        },
    ) as resp:
        assert resp.status == 200
        return {row["Extension"]: row for row in await resp.json()}


async def test_model_calls_count_once_finished_for_the_charged_extension() -> None:
    async with (
        Tim4bizSimulator(extensions=3, clock=lambda: T0, seeded_calls=False) as sim,
        aiohttp.ClientSession() as session,
    ):
        sim.book.clock.freeze()
        out = sim.place_call(caller="201", callee="0201234567", answer_after=5)
        sim.place_call(caller="0612345678", callee="202")  # rings out: missed
        sim.place_call(caller="0699999999", callee="203", answer_after=2, talk=30)
        sim.book.clock.advance(40)
        rows = await totals(session, sim)
        assert (rows["201"]["Calls"], rows["201"]["Duration"]) == (0, 0)  # talking
        assert (rows["202"]["Calls"], rows["202"]["Duration"]) == (1, 0)
        assert (rows["203"]["Calls"], rows["203"]["Duration"], rows["203"]["Cost"]) == (
            1,
            30,
            0,
        )
        sim.book.clock.advance(85)
        sim.book.end(out.id)  # 120 s talked: two started minutes
        rows = await totals(session, sim)
        assert (rows["201"]["Calls"], rows["201"]["Duration"], rows["201"]["Cost"]) == (
            1,
            120,
            0.1,
        )

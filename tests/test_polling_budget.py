"""A large account's per-item slow topics stretch the slow cadence, not the
fast one, and polling stays within the budget share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from homeassistant.core import HomeAssistant
import pytest

from custom_components.pbx_hub.client import (
    POLLING_SHARE,
    VENDORS,
    Cadence,
    Topic,
)
from custom_components.pbx_hub.client.poll_plan import DEFAULTS, cadence_costs
from simulator import PbxwareSimulator, VoipcenterSimulator, VoipcloudSimulator

from .conftest import setup_entry
from .vendors import pbxware_entry, voipcenter_entry, voipcloud_entry

pytestmark = pytest.mark.slow


@pytest.fixture
async def many_dids_sim() -> AsyncIterator[VoipcenterSimulator]:
    """VoipCenter reads each DID on its own: 400 of them would cost 400
    requests, more than a read's share (360), so a read asks 354 of them.
    """
    sim = VoipcenterSimulator(sip_accounts=5, dids=400, seed=3)
    await sim.start()
    yield sim
    await sim.stop()


async def test_many_dids_stretch_the_slow_cadence_only(
    hass: HomeAssistant, many_dids_sim: VoipcenterSimulator
) -> None:
    sim = many_dids_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    runtime = entry.runtime_data
    routing = runtime.coordinators[Topic.DID_ROUTING]
    assert routing.last_update_success

    # What the slow topics cost, as last read: the DIDs as measured.
    slow_cost = sum(c.cost for c in runtime.of(Cadence.SLOW))
    share = runtime.client.budget.per_read
    assert routing.cost == share
    assert slow_cost > share
    fast = runtime.coordinators[Topic.STATUS].update_interval
    slow = routing.update_interval
    assert fast == DEFAULTS.fast
    assert slow is not None
    assert slow > timedelta(minutes=15)

    spec = VENDORS["voipcenter"].budget
    per_second = (
        cadence_costs(runtime.client)[Cadence.FAST] / fast.total_seconds()
        + slow_cost / slow.total_seconds()
    )
    assert per_second <= POLLING_SHARE * spec.limit / spec.window


@pytest.mark.parametrize(
    ("vendor", "live"),
    # PBXware: 12 s, its call records (2 a fast poll) and call forwarding
    # (per extension, slow) taking their share; the issue asks 15 s or better.
    [("pbxware", timedelta(seconds=12)), ("voipcloud", timedelta(seconds=45))],
)
async def test_call_states_poll_as_often_as_the_budget_allows(
    hass: HomeAssistant, vendor: str, live: timedelta
) -> None:
    """With every other topic at its default, the call states take what is
    left of polling's share, at best every 10 s: PBXware's 2 requests every
    10 s (its 1800 per hour leave room); VoIPcloud's one every 45 s (the fast
    topics take 4 of every 60 s of its 100 per 15 min).
    """
    sim = (
        PbxwareSimulator(extensions=4, seed=1)
        if vendor == "pbxware"
        else VoipcloudSimulator(generate=False, seed=5)
    )
    async with sim:
        entry = (
            pbxware_entry(sim)
            if isinstance(sim, PbxwareSimulator)
            else voipcloud_entry(sim)
        )
        await setup_entry(hass, entry)
        runtime = entry.runtime_data
        assert runtime.coordinators[Topic.CALL_STATES].update_interval == live
        assert runtime.coordinators[Topic.STATUS].update_interval == (DEFAULTS.fast)
        per_second = 0.0
        for coordinator in runtime.coordinators.values():
            if coordinator.update_interval is not None:
                per_second += coordinator.cost / (
                    coordinator.update_interval.total_seconds()
                )
        spec = VENDORS[vendor].budget
        assert per_second <= POLLING_SHARE * spec.limit / spec.window

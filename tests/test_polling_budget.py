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
from custom_components.pbx_hub.const import DEFAULT_FAST_INTERVAL
from custom_components.pbx_hub.helpers import poll_cost
from simulator import VoipcenterSimulator

from .conftest import setup_entry
from .vendors import voipcenter_entry

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
    assert fast == DEFAULT_FAST_INTERVAL
    assert slow is not None
    assert slow > timedelta(minutes=15)

    spec = VENDORS["voipcenter"].budget
    per_second = (
        poll_cost(runtime.client, Cadence.FAST) / fast.total_seconds()
        + slow_cost / slow.total_seconds()
    )
    assert per_second <= POLLING_SHARE * spec.limit / spec.window

"""A large account's per-item slow topics stretch the slow cadence, not the
fast one, and polling stays within the budget share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from homeassistant.core import HomeAssistant
import pytest

from custom_components.pbx_hub.client import POLLING_SHARE, VENDORS, Capability
from custom_components.pbx_hub.const import DEFAULT_FAST_INTERVAL
from custom_components.pbx_hub.helpers import FAST_TOPICS, SLOW_TOPICS, poll_cost
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
    assert runtime.slow.last_update_success

    slow_cost = poll_cost(runtime.client, SLOW_TOPICS)
    share = runtime.client.http.budget.per_read
    assert runtime.client.measured_cost[Capability.DID_ROUTING] == share
    assert slow_cost > share
    fast, slow = runtime.fast.update_interval, runtime.slow.update_interval
    assert fast == DEFAULT_FAST_INTERVAL
    assert slow is not None
    assert slow > timedelta(minutes=15)

    spec = VENDORS["voipcenter"].budget
    per_second = (
        poll_cost(runtime.client, FAST_TOPICS) / fast.total_seconds()
        + slow_cost / slow.total_seconds()
    )
    assert per_second <= POLLING_SHARE * spec.limit / spec.window

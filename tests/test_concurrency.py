"""Many actions at once: each reaches the PBX, serialised where the vendor needs
it, none lost, and a poll running at the same time does not undo them.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import Cadence, Topic
from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    Fault,
    PbxwareSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from .conftest import click_to_call, find_device, setup_entry, wait_until_held
from .vendors import voipcenter_entry, voipcloud_entry

pytestmark = [pytest.mark.slow, pytest.mark.freeze_time("2026-11-25T12:00:00-08:00")]
BURST = 50


@pytest.fixture
def sim_extensions() -> int:
    return BURST


def dnd_switch(hass: HomeAssistant, entry: MockConfigEntry, ext_id: str) -> str:
    found = er.async_get(hass).async_get_entity_id(
        SWITCH_DOMAIN, DOMAIN, f"{entry.unique_id}_ext_{ext_id}_dnd"
    )
    assert found is not None
    return found


async def test_fifty_dnd_toggles_at_once_all_reach_the_pbx(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, pbxware_entry)
    extensions = list(pbxware_sim.tenant().extensions.values())
    assert len(extensions) == BURST
    wanted = {ext.id: not ext.dnd for ext in extensions}
    pbxware_sim.reset_counters()
    await asyncio.gather(
        *(
            hass.services.async_call(
                SWITCH_DOMAIN,
                SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
                {ATTR_ENTITY_ID: dnd_switch(hass, pbxware_entry, ext_id)},
                blocking=True,
            )
            for ext_id, on in wanted.items()
        )
    )
    assert {ext.id: ext.dnd for ext in extensions} == wanted
    assert pbxware_sim.requests_by_action == {"pbxware.ext.es.dnd.set": BURST}
    # The switch platform acts one at a time (PARALLEL_UPDATES = 1).
    assert pbxware_sim.max_in_flight == 1
    shown = {
        ext_id: hass.states.get(dnd_switch(hass, pbxware_entry, ext_id)).state
        for ext_id in wanted
    }
    assert shown == {ext_id: "on" if on else "off" for ext_id, on in wanted.items()}


async def test_a_poll_that_read_before_a_dnd_write_does_not_undo_it(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The poll reads DND, the user switches it, the poll's answer arrives:
    the switch stays as the user set it, and the next poll confirms it.
    """
    await setup_entry(hass, pbxware_entry)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    switch = dnd_switch(hass, pbxware_entry, ext.id)
    assert hass.states.get(switch).state == "off"
    pbxware_sim.inject(
        Fault.LATE_ANSWER, latency=5, actions=["pbxware.monitor.list"], count=1
    )
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await wait_until_held(hass, pbxware_sim)  # monitor.list has read DND off

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert ext.dnd is True
    freezer.tick(timedelta(seconds=6))  # the stale answer arrives
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert pbxware_entry.runtime_data.coordinators[Topic.STATUS].last_update_success
    assert hass.states.get(switch).state == "on"

    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(switch).state == "on"


async def test_voipcenter_actions_and_polls_at_once_go_one_at_a_time(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Indicator switches, route selects, click-to-call and both polls at
    once: VoipCenter gets one request at a time, and every change lands.
    """
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    uid = entry.unique_id
    indicators = {item: not sim.indicator_state(item) for item in sim.indicators}
    routes = list(sim.routes.values())
    dids = list(sim.dids.items())
    wanted_routes = {
        did_id: next(r for r in routes if r.id != did.route) for did_id, did in dids
    }
    online = [a for a in sim.sip_accounts.values() if a.online]
    devices = [
        find_device(device_registry, (DOMAIN, f"{uid}_ext_{account.username}"))
        for account in online
    ]
    runtime = entry.runtime_data
    sim.reset_counters()

    def indicator_entity(item: str) -> str:
        found = registry.async_get_entity_id(
            SWITCH_DOMAIN, DOMAIN, f"{uid}_indicator_{item}_indicator"
        )
        assert found is not None
        return found

    def route_entity(number: str) -> str:
        for entity_id in hass.states.async_entity_ids(SELECT_DOMAIN):
            if entity_id.endswith(f"{number}_route"):
                return entity_id
        raise AssertionError(number)

    await asyncio.gather(
        runtime.async_refresh(Cadence.FAST),
        runtime.async_refresh(Cadence.SLOW),
        *(
            hass.services.async_call(
                SWITCH_DOMAIN,
                SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
                {ATTR_ENTITY_ID: indicator_entity(item)},
                blocking=True,
            )
            for item, on in indicators.items()
        ),
        *(
            hass.services.async_call(
                SELECT_DOMAIN,
                SERVICE_SELECT_OPTION,
                {
                    ATTR_ENTITY_ID: route_entity(did.number),
                    ATTR_OPTION: wanted_routes[did_id].naam,
                },
                blocking=True,
            )
            for did_id, did in dids
        ),
        *(
            hass.services.async_call(
                DOMAIN,
                "click_to_call",
                {"device_id": device.id, "number": f"+32 9 345 67 {index:02d}"},
                blocking=True,
            )
            for index, device in enumerate(devices)
            if device is not None
        ),
    )
    assert sim.max_in_flight == 1
    assert {item: sim.indicator_state(item) for item in indicators} == indicators
    assert {did_id: sim.dids[did_id].route for did_id, _ in dids} == {
        did_id: route.id for did_id, route in wanted_routes.items()
    }
    assert sorted(call.telnr for call in sim.calls_placed) == [
        f"329345670{index}" for index in range(len(online))
    ]
    for item, on in indicators.items():
        assert hass.states.get(indicator_entity(item)).state == ("on" if on else "off")
    for did_id, did in dids:
        assert hass.states.get(route_entity(did.number)).state == (
            wanted_routes[did_id].naam
        )


async def test_a_click_to_call_burst_stays_within_the_voipcloud_budget(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    """Fifty calls at once against 100 requests per 15 minutes: the client's
    budget sends what actions may take (20: polling keeps 80) and refuses the
    rest with a translated error, before VoIPcloud would answer 429; every
    call sent is placed.
    """
    sim = voipcloud_sim
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    client = entry.runtime_data.client
    # Polling has used 70 of this window's 100 requests.
    for _ in range(70 - client.http.budget.used):
        await client.async_get_status()
    assert sim.requests_in_window() == 70

    async def call(index: int) -> str | None:
        error = await click_to_call(hass, entry, "1001", f"02987654{index:02d}")
        return None if error is None else error.translation_key

    results = await asyncio.gather(*(call(index) for index in range(BURST)))
    placed = [result for result in results if result is None]
    refused = [result for result in results if result is not None]
    assert len(placed) == 20
    assert refused == ["rate_limited"] * (BURST - 20)
    assert len(sim.calls_to_number) == 20
    # Polling's last 10 are left, and VoIPcloud never answered 429.
    assert sim.requests_in_window() == sim.rate_limit - 10

"""VoipCenter end to end: the config flow keeps only the password's hash; SIP
accounts, indicator switches, route and hot-desk selects, the actions, and the
clock-skew repair, against the simulator.
"""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.components.select import (
    ATTR_OPTION,
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import (
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.pbx_hub.client import Cadence, Topic
from custom_components.pbx_hub.client.voipcenter import password_hash
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.diagnostics import async_get_config_entry_diagnostics
from simulator import VoipcenterSimulator

from .conftest import find_device, setup_entry
from .vendors import SkewableClock, voipcenter_entry

pytestmark = pytest.mark.slow


def state(hass: HomeAssistant, entity_id: str) -> Any:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current


def entity_for(hass: HomeAssistant, domain: str, ending: str) -> str:
    for entity_id in hass.states.async_entity_ids(domain):
        if entity_id.endswith(ending):
            return entity_id
    raise AssertionError(f"no {domain} entity ending in {ending}")


@pytest.mark.minimum_ha
async def test_config_flow_keeps_only_the_hash(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voipcenter"}
    )
    form = {
        "url": f"{sim.url}/api/",
        "api_id": sim.api_id,
        "api_key": sim.api_key,
        "customer_number": sim.customer_number,
        "password": "wrong-password",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form, "password": sim.password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert "password" not in entry.data
    assert entry.data["password_hash"] == password_hash(sim.password)
    assert sim.password not in json.dumps(dict(entry.data))
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_sip_accounts_are_extensions(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    for account in voipcenter_sim.sip_accounts.values():
        device = find_device(
            device_registry, (DOMAIN, f"voipcenter_123456_ext_{account.username}")
        )
        assert device is not None
        # The person and the number they are known by, not the login.
        assert device.name == f"{account.voornaam} {account.naam} ({account.did_out})"
    offline = next(a for a in voipcenter_sim.sip_accounts.values() if not a.online)
    registered = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"voipcenter_123456_ext_{offline.username}_registered"
    )
    assert registered is not None
    assert state(hass, registered).state == "off"


async def test_indicator_switch_round_trip(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    indicator_id, indicator = next(iter(sim.indicators.items()))
    entity_id = entity_for(hass, "switch", indicator.naam.lower().replace(" ", "_"))
    service = SERVICE_TURN_OFF if indicator.actief else SERVICE_TURN_ON
    sim.reset_counters()
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert sim.indicator_state(indicator_id) is (service == SERVICE_TURN_ON)
    assert state(hass, entity_id).state == (
        "on" if service == SERVICE_TURN_ON else "off"
    )
    assert sim.request_count == 1  # no full poll after the click
    await entry.runtime_data.async_refresh(Cadence.SLOW)
    assert state(hass, entity_id).state == (
        "on" if service == SERVICE_TURN_ON else "off"
    )


async def test_route_select_changes_the_pbx(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    did_id, did = next(iter(sim.dids.items()))
    route_entity = entity_for(hass, "select", f"{did.number}_route")
    current = state(hass, route_entity)
    assert current.state == sim.routes[did.route].naam
    other = next(r for r in sim.routes.values() if r.id != did.route)
    sim.reset_counters()
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: route_entity, ATTR_OPTION: other.naam},
        blocking=True,
    )
    assert sim.dids[did_id].route == other.id
    assert state(hass, route_entity).state == other.naam
    assert sim.request_count == 1

    backup = entity_for(hass, "select", f"{did.number}_backup_route")
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: backup, ATTR_OPTION: "none"},
        blocking=True,
    )
    assert sim.dids[did_id].backuproute == "0"
    await entry.runtime_data.async_refresh(Cadence.SLOW)
    assert state(hass, route_entity).state == other.naam
    assert state(hass, backup).state == "none"


async def test_hot_desk_select_and_action(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    desk_id, desk = next(iter(sim.hot_desks.items()))
    entity_id = entity_for(hass, "select", desk.naam.lower().replace(" ", "_"))
    account_key, account = next(
        (k, a) for k, a in sim.sip_accounts.items() if k != desk.sipaccount
    )
    option = next(
        o
        for o in state(hass, entity_id).attributes["options"]
        if o.startswith(f"{account.voornaam} {account.naam} ({account.did_out}")
    )
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )
    assert sim.hot_desk(desk_id).sipaccount == account_key
    assert state(hass, entity_id).state == option

    template = next(t for t in sim.hot_desk_templates.values())
    response = await hass.services.async_call(
        DOMAIN,
        "set_hot_desk",
        {
            "config_entry_id": entry.entry_id,
            "hot_desk": desk.naam,
            "sip_account": "none",
            "template": template.naam,
        },
        blocking=True,
        return_response=True,
    )
    assert sim.hot_desk(desk_id).sipaccount == "0"
    assert sim.hot_desk(desk_id).template == template.id
    assert response == {
        "hot_desk": desk.naam,
        "sip_account": None,
        "template": template.naam,
    }
    assert state(hass, entity_id).state == "none"


async def test_set_did_route_plan(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    did_id, did = next(iter(sim.dids.items()))
    route = next(r for r in sim.routes.values() if r.id != did.route)
    office_hours = next(iter(sim.office_hours.values()))
    route_entity = entity_for(hass, "select", f"{did.number}_route")
    backup_entity = entity_for(hass, "select", f"{did.number}_backup_route")
    sim.reset_counters()
    response = await hass.services.async_call(
        DOMAIN,
        "set_did_route_plan",
        {
            "config_entry_id": entry.entry_id,
            "did": did.number,
            "route": route.naam.upper(),
            "backup_route": "none",
            "office_hours": office_hours.naam,
            "holidays": "none",
        },
        blocking=True,
        return_response=True,
    )
    changed = sim.dids[did_id]
    assert (changed.route, changed.backuproute) == (route.id, "0")
    assert (changed.kantooruren, changed.feestdagen) == (office_hours.id, "0")
    assert response is not None
    assert response["route"] == route.naam
    assert response["backup_route"] is None
    assert response["office_hours"] == office_hours.naam
    # Shown at once from the PBX's confirmation: one request, no poll.
    assert sim.request_count == 1
    assert state(hass, route_entity).state == route.naam
    assert state(hass, backup_entity).state == "none"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"route": "No such plan"}, "unknown_name"),
        ({}, "nothing_to_change"),
        ({"did": "0999999999", "route": "x"}, "did_not_found"),
        ({"route": "x" * 129}, "text_too_long"),
    ],
)
async def test_set_did_route_plan_validation(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    data: dict[str, str],
    key: str,
) -> None:
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    did = next(iter(sim.dids.values()))
    sim.reset_counters()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_did_route_plan",
            {"config_entry_id": entry.entry_id, "did": did.number, **data},
            blocking=True,
        )
    assert raised.value.translation_key == key
    assert sim.request_count == 0


async def test_click_to_call_from_a_sip_account(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = voipcenter_sim
    await setup_entry(hass, voipcenter_entry(sim))
    account = next(a for a in sim.sip_accounts.values() if a.online)
    device = find_device(
        device_registry, (DOMAIN, f"voipcenter_123456_ext_{account.username}")
    )
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "click_to_call",
        {"device_id": device.id, "number": "+32 9 345 67 89"},
        blocking=True,
    )
    assert [(c.sipacc, c.telnr) for c in sim.calls_placed] == [
        (account.username, "3293456789")
    ]
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {"device_id": device.id, "number": "12345"},
            blocking=True,
        )
    assert raised.value.translation_key == "invalid_number"


async def test_a_clock_ten_seconds_off_is_a_repair_not_an_auth_error(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    voipcenter_clock: SkewableClock,
    issue_registry: ir.IssueRegistry,
) -> None:
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    fast = entry.runtime_data.coordinators[Topic.STATUS]
    voipcenter_clock.offset = 10
    await entry.runtime_data.async_refresh(Cadence.FAST)
    await hass.async_block_till_done()
    assert not fast.last_update_success
    # One refused poll could be one slow answer: the second tells.
    assert (
        issue_registry.async_get_issue(DOMAIN, f"clock_skew_{entry.entry_id}") is None
    )
    await entry.runtime_data.async_refresh(Cadence.FAST)
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(DOMAIN, f"clock_skew_{entry.entry_id}")
    assert issue is not None
    assert hass.config_entries.flow.async_progress() == []  # no reauth
    registered = entity_for(hass, "binary_sensor", "_registered")
    assert state(hass, registered).state == STATE_UNAVAILABLE

    voipcenter_clock.offset = 0
    await entry.runtime_data.async_refresh(Cadence.FAST)
    await hass.async_block_till_done()
    assert fast.last_update_success
    assert (
        issue_registry.async_get_issue(DOMAIN, f"clock_skew_{entry.entry_id}") is None
    )


async def test_diagnostics_hold_no_password_hash_or_key(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    dumped = json.dumps(
        await async_get_config_entry_diagnostics(hass, entry), default=str
    )
    assert password_hash(voipcenter_sim.password) not in dumped
    assert voipcenter_sim.api_key not in dumped
    assert voipcenter_sim.password not in dumped


@pytest.mark.minimum_ha
@pytest.mark.parametrize("platform", [Platform.SELECT, Platform.SWITCH])
async def test_platform_snapshot(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    entry = voipcenter_entry(voipcenter_sim)
    with patch("custom_components.pbx_hub.PLATFORMS", [platform]):
        await setup_entry(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_a_call_the_pbx_cannot_set_up(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    """An offline phone: body error 21, a translated error, no reauth."""
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    offline = next(a for a in voipcenter_sim.sip_accounts.values() if not a.online)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {
                "config_entry_id": entry.entry_id,
                "user_number": offline.username,
                "number": "093456789",
            },
            blocking=True,
        )
    assert raised.value.translation_key == "call_failed"
    assert hass.config_entries.flow.async_progress() == []


async def test_a_clock_off_at_startup_or_in_the_flow(
    hass: HomeAssistant,
    voipcenter_sim: VoipcenterSimulator,
    voipcenter_clock: SkewableClock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Often at boot, before the clock is synchronised: a repair, and retries."""
    voipcenter_clock.offset = 10
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_registry.async_get_issue(DOMAIN, f"clock_skew_{entry.entry_id}")

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voipcenter"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "url": f"{voipcenter_sim.url}/api/",
            "api_id": voipcenter_sim.api_id,
            "api_key": voipcenter_sim.api_key,
            "customer_number": voipcenter_sim.customer_number,
            "password": voipcenter_sim.password,
        },
    )
    assert result["errors"] == {"base": "clock_skew"}


async def test_set_did_route_is_not_offered_by_a_route_plan_pbx(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    """VoipCenter routes numbers by route plan only: the destination action
    is refused as unsupported, and a destination is no route-plan field.
    """
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    did = next(iter(voipcenter_sim.dids.values()))
    destination = {"destination_type": "voicemail", "destination": "530"}
    voipcenter_sim.reset_counters()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_did_route",
            {"config_entry_id": entry.entry_id, "did": did.number, **destination},
            blocking=True,
        )
    assert raised.value.translation_key == "action_not_supported"
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN,
            "set_did_route_plan",
            {"config_entry_id": entry.entry_id, "did": did.number, **destination},
            blocking=True,
        )
    assert voipcenter_sim.request_count == 0

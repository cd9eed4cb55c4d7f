"""Entities of every platform, their states, and the DND switch."""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import patch

from homeassistant.components.switch import (
    DOMAIN as SWITCH_DOMAIN,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from simulator import Fault, PbxwareSimulator

from .conftest import setup_entry

pytestmark = pytest.mark.slow


@pytest.mark.minimum_ha
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
# The simulator's calls start relative to its clock: the last call's time is
# the same on every run.
@pytest.mark.freeze_time("2026-11-25T12:00:00-08:00")
@pytest.mark.parametrize(
    "platform", [Platform.SENSOR, Platform.BINARY_SENSOR, Platform.SWITCH]
)
async def test_platform_snapshot(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    # The seeded calls started a while before the real now: one start for
    # all, so the call-state sensors' "since" stays the same.
    for tenant in pbxware_sim.tenants.values():
        for call_id, call in tenant.calls.items():
            tenant.calls[call_id] = replace(call, timestamp=1_765_000_000)
    pbxware_entry.add_to_hass(hass)
    with patch("custom_components.pbx_hub.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(pbxware_entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, pbxware_entry.entry_id)


def _dnd_switch(hass: HomeAssistant, ext_id_number: str) -> str:
    for state in hass.states.async_all(SWITCH_DOMAIN):
        if ext_id_number in state.entity_id:
            return state.entity_id
    raise AssertionError(f"no DND switch for {ext_id_number}")


async def test_dnd_switch_changes_the_pbx(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    entity_id = _dnd_switch(hass, ext.ext)
    assert hass.states.get(entity_id).state == "off"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert pbxware_sim.tenant().extensions[ext.id].dnd is True
    assert hass.states.get(entity_id).state == "on"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    assert pbxware_sim.tenant().extensions[ext.id].dnd is False
    assert hass.states.get(entity_id).state == "off"


@pytest.mark.parametrize(
    ("fault", "error", "key"),
    [
        (Fault.RATE_LIMIT, HomeAssistantError, "rate_limited"),
        # A 500 (the request reached the PBX) or an answer that cannot be
        # read may hide a DND switched: no plain "cannot connect" or
        # "unexpected answer", which would invite a retry.
        (Fault.SERVER_ERROR, HomeAssistantError, "write_unconfirmed"),
        (Fault.MALFORMED, HomeAssistantError, "write_unconfirmed"),
        (Fault.AUTH_REVOKED, HomeAssistantError, "auth_failed"),
    ],
)
async def test_dnd_switch_failure_is_translated(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    fault: Fault,
    error: type[Exception],
    key: str,
) -> None:
    await setup_entry(hass, pbxware_entry)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    entity_id = _dnd_switch(hass, ext.ext)
    pbxware_sim.inject(fault, count=1)
    with pytest.raises(error) as raised:
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    assert raised.value.translation_key == key
    assert not isinstance(raised.value, ServiceValidationError)
    assert pbxware_sim.tenant().extensions[ext.id].dnd is False
    assert hass.states.get(entity_id).state == "off"

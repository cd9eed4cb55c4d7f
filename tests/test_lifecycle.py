"""What must survive change: extensions that leave and return, deleted DIDs,
options saved while unloaded, reauth, reloads and tenants that disappear.
"""

from __future__ import annotations

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import Cadence, Topic
from custom_components.pbx_hub.client.stale import STALE_AFTER_POLLS
from custom_components.pbx_hub.const import CONF_EXCLUDED_EXTENSIONS, DOMAIN
from custom_components.pbx_hub.devices import STALE_DEVICES
from simulator import Fault, PbxwareSimulator

from .conftest import find_device, pbxware_settings, save_options, setup_entry

pytestmark = pytest.mark.slow


async def _poll_fast(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, polls: int = 1
) -> None:
    for _ in range(polls):
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def _entities_of(hass: HomeAssistant, entry: MockConfigEntry, marker: str) -> set[str]:
    registry = er.async_get(hass)
    return {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        if marker in entity.unique_id
    }


async def test_extension_that_returns_gets_its_entities_back(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, pbxware_entry)
    tenant = pbxware_sim.tenant()
    ext_id, extension = next(iter(tenant.extensions.items()))
    marker = f"_ext_{ext_id}_"
    before = _entities_of(hass, pbxware_entry, marker)
    assert before

    del tenant.extensions[ext_id]
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    assert _entities_of(hass, pbxware_entry, marker) == before
    await _poll_fast(hass, freezer)
    assert _entities_of(hass, pbxware_entry, marker) == set()

    tenant.extensions[ext_id] = extension
    await _poll_fast(hass, freezer)
    # Call forwarding is read per extension on the slow cadence: its switch
    # comes back with that read.
    await pbxware_entry.runtime_data.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()
    assert _entities_of(hass, pbxware_entry, marker) == before
    registry = er.async_get(hass)
    enabled = [e for e in before if not registry.async_get(e).disabled]
    assert enabled
    for entity_id in enabled:
        assert hass.states.get(entity_id) is not None


def _extension_device(
    hass: HomeAssistant, entry: MockConfigEntry, ext_id: str
) -> dr.DeviceEntry | None:
    return find_device(dr.async_get(hass), (DOMAIN, f"{entry.unique_id}_ext_{ext_id}"))


async def _user_names_first_extension(
    hass: HomeAssistant, entry: MockConfigEntry, sim: PbxwareSimulator
) -> tuple[str, dr.DeviceEntry]:
    """The first extension's id and its device, given an area and a name."""
    ext_id = next(iter(sim.tenant().extensions))
    device = _extension_device(hass, entry, ext_id)
    assert device is not None
    area = ar.async_get(hass).async_create("Reception")
    device = dr.async_get(hass).async_update_device(
        device.id, area_id=area.id, name_by_user="Front desk phone"
    )
    assert device is not None
    return ext_id, device


async def test_extension_missing_from_fewer_polls_keeps_its_device(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Left out of a few lists, then back: the same device, with the area
    and name the user gave it, and the same entities, available again.
    """
    await setup_entry(hass, pbxware_entry)
    ext_id, device = await _user_names_first_extension(hass, pbxware_entry, pbxware_sim)
    marker = f"_ext_{ext_id}_"
    entities = _entities_of(hass, pbxware_entry, marker)
    # The extension list's own switch (call forwarding is read on the slow
    # cadence, and shows the extension gone at its next read).
    switch = next(e for e in entities if e.endswith("_do_not_disturb"))
    extension = pbxware_sim.tenant().extensions.pop(ext_id)

    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    assert hass.states.get(switch).state == STATE_UNAVAILABLE
    pbxware_sim.tenant().extensions[ext_id] = extension
    await _poll_fast(hass, freezer)

    assert _extension_device(hass, pbxware_entry, ext_id) == device
    assert _entities_of(hass, pbxware_entry, marker) == entities
    assert hass.states.get(switch).state != STATE_UNAVAILABLE
    # Nothing added twice: a second entity with the same unique ID is an error.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # Back once, the count starts again: missing as often again keeps it.
    del pbxware_sim.tenant().extensions[ext_id]
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    assert _extension_device(hass, pbxware_entry, ext_id) == device


async def test_an_empty_list_removes_no_device(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An empty list right after setup, or between the lists lacking an
    extension, counts for nothing: it neither removes nor counts as missing.
    """
    await setup_entry(hass, pbxware_entry)
    tenant = pbxware_sim.tenant()
    devices = {
        ext_id: _extension_device(hass, pbxware_entry, ext_id)
        for ext_id in tenant.extensions
    }
    extensions = dict(tenant.extensions)
    tenant.extensions.clear()
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS + 1)
    assert {
        ext_id: _extension_device(hass, pbxware_entry, ext_id) for ext_id in extensions
    } == devices

    tenant.extensions.update(extensions)
    gone = next(iter(extensions))
    del tenant.extensions[gone]
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    saved = dict(tenant.extensions)
    tenant.extensions.clear()
    await _poll_fast(hass, freezer, 2)
    assert _extension_device(hass, pbxware_entry, gone) is not None

    tenant.extensions.update(saved)
    await _poll_fast(hass, freezer)
    assert _extension_device(hass, pbxware_entry, gone) is None


async def test_a_failed_poll_does_not_count_as_missing(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Polls that failed between the lists lacking an extension: they read
    no list, so they are no evidence that it left.
    """
    await setup_entry(hass, pbxware_entry)
    ext_id, device = await _user_names_first_extension(hass, pbxware_entry, pbxware_sim)
    extension = pbxware_sim.tenant().extensions.pop(ext_id)
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    pbxware_sim.inject(Fault.SERVER_ERROR)
    await _poll_fast(hass, freezer, 2)
    assert not pbxware_entry.runtime_data.coordinators[Topic.STATUS].last_update_success
    pbxware_sim.clear_faults()

    pbxware_sim.tenant().extensions[ext_id] = extension
    await _poll_fast(hass, freezer)
    assert _extension_device(hass, pbxware_entry, ext_id) == device


async def test_excluding_an_extension_removes_its_device_at_once(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    """The user's own choice: no polls to wait for, though the PBX lists it."""
    await setup_entry(hass, pbxware_entry)
    ext_id = next(iter(pbxware_sim.tenant().extensions))
    assert _extension_device(hass, pbxware_entry, ext_id) is not None
    await save_options(hass, pbxware_entry, **{CONF_EXCLUDED_EXTENSIONS: [ext_id]})
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert _extension_device(hass, pbxware_entry, ext_id) is None
    assert _entities_of(hass, pbxware_entry, f"_ext_{ext_id}_") == set()


async def test_deleted_did_loses_its_sensor(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    tenant = pbxware_sim.tenant()
    did_id = next(iter(tenant.dids))
    assert _entities_of(hass, pbxware_entry, f"_did_{did_id}_")

    del tenant.dids[did_id]
    await pbxware_entry.runtime_data.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()
    assert _entities_of(hass, pbxware_entry, f"_did_{did_id}_") == set()
    assert len(_entities_of(hass, pbxware_entry, "_did_")) == len(tenant.dids)


async def test_set_did_route_while_dids_cannot_be_read(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    did = next(iter(pbxware_sim.tenant().dids.values()))
    pbxware_sim.inject(Fault.SERVER_ERROR, actions=["pbxware.did.list"])
    await pbxware_entry.runtime_data.async_refresh(Cadence.SLOW)
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_did_route",
            {
                "config_entry_id": pbxware_entry.entry_id,
                "did": did.number,
                "destination_type": "voicemail",
                "destination": "531",
            },
            blocking=True,
        )
    assert raised.value.translation_key == "dids_unavailable"


async def test_dnd_click_costs_one_request(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    """The PBX's answer is shown at once; no full poll follows each click."""
    await setup_entry(hass, pbxware_entry)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    entity_id = next(
        state.entity_id
        for state in hass.states.async_all("switch")
        if ext.ext in state.entity_id
    )
    pbxware_sim.reset_counters()
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(entity_id).state == "on"
    assert pbxware_sim.request_count == 1


async def test_options_saved_while_unloaded_keep_exclusions(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="127.0.0.1",
        data=pbxware_settings(pbxware_sim),
        options={CONF_EXCLUDED_EXTENSIONS: ["7"], "fast_interval": 60},
    )
    entry.add_to_hass(hass)  # not set up: the form cannot list extensions
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert CONF_EXCLUDED_EXTENSIONS not in result["data_schema"].schema
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"fast_interval": 90, "slow_interval": 900}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_EXCLUDED_EXTENSIONS] == ["7"]
    assert entry.options["fast_interval"] == 90


async def test_reauth_reloads_once(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    result = await pbxware_entry.start_reauth_flow(hass)
    pbxware_sim.reset_counters()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": pbxware_sim.api_key}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert pbxware_entry.state is ConfigEntryState.LOADED
    # One identify by the flow, then one setup: identify and two polls.
    assert pbxware_sim.requests_by_action["pbxware.license.info"] == 2


async def test_budget_survives_a_reload(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    budget = pbxware_entry.runtime_data.client.http.budget
    used = budget.used
    assert used > 0
    assert await hass.config_entries.async_reload(pbxware_entry.entry_id)
    await hass.async_block_till_done()
    assert pbxware_entry.runtime_data.client.http.budget is budget
    assert budget.used > used


async def test_tenants_of_one_pbx_share_a_budget(hass: HomeAssistant) -> None:
    async with PbxwareSimulator(extensions=2, multi_tenant=True, seed=3) as sim:
        entries = [
            MockConfigEntry(
                domain=DOMAIN,
                unique_id=f"127.0.0.1_{tenant_id}",
                data=pbxware_settings(sim, tenant=tenant_id),
            )
            for tenant_id in list(sim.tenants)[:2]
        ]
        for entry in entries:
            await setup_entry(hass, entry)
        first, second = (entry.runtime_data.client for entry in entries)
        assert first.http.budget is second.http.budget
        for entry in entries:
            await hass.config_entries.async_unload(entry.entry_id)


async def test_tenant_that_no_longer_exists_is_a_setup_error(
    hass: HomeAssistant,
) -> None:
    """Retrying cannot bring a deleted tenant back: no endless retries."""
    async with PbxwareSimulator(extensions=2, multi_tenant=True, seed=3) as sim:
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id="127.0.0.1_999",
            data=pbxware_settings(sim, tenant="999"),
        )
        await setup_entry(hass, entry)
        assert entry.state is ConfigEntryState.SETUP_ERROR


async def test_a_list_naming_no_known_extension_removes_no_device(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A garbled answer replaces every id at once; a PBX does not. The old
    devices (and their areas and names) stay for the user to delete.
    """
    await setup_entry(hass, pbxware_entry)
    devices = dr.async_get(hass)

    def device_names() -> set[str]:
        return {
            device.name or ""
            for device in dr.async_entries_for_config_entry(
                devices, pbxware_entry.entry_id
            )
        }

    before = device_names()
    tenant = pbxware_sim.tenant()
    kept_id, kept = next(iter(tenant.extensions.items()))
    for ext_id in list(tenant.extensions):
        pbxware_sim.remove_extension(ext_id)
    pbxware_sim.add_extension(name="Only Newcomer")
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    after = device_names()
    assert before < after  # the newcomer's device came, none went
    assert any("Only Newcomer" in name for name in after)

    # A known extension listed again: the list counts, and the others go
    # once that many lists lacked them.
    tenant.extensions[kept_id] = kept
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    assert device_names() == after
    await _poll_fast(hass, freezer)
    names = device_names()
    assert any(kept.name in name for name in names)
    assert any("Only Newcomer" in name for name in names)
    assert len(names) == len(after) - len(before) + 2  # PBX + kept + newcomer


def _extension_devices(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, dr.DeviceEntry]:
    """The entry's extension devices by extension id."""
    prefix = f"{entry.unique_id}_ext_"
    return {
        identifier.removeprefix(prefix): device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        for _, identifier in device.identifiers
        if identifier.startswith(prefix)
    }


def _replace_every_extension(sim: PbxwareSimulator, name: str) -> str:
    """Remove every extension and add one: the newcomer's id."""
    for ext_id in list(sim.tenant().extensions):
        sim.remove_extension(ext_id)
    return sim.add_extension(name=name).id


async def test_extensions_replaced_twice_leave_no_stale_device(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every extension replaced, and that one replaced again: each list
    shares nothing with the last. After as many such lists as the guard
    waits for, the new list is the reference, and the old devices go once
    as many lists again lacked them: none stays until a reload.
    """
    await setup_entry(hass, pbxware_entry)
    old = set(_extension_devices(hass, pbxware_entry))
    first = _replace_every_extension(pbxware_sim, "First Newcomer")
    await _poll_fast(hass, freezer, 2 * STALE_AFTER_POLLS - 1)
    assert set(_extension_devices(hass, pbxware_entry)) == old | {first}
    await _poll_fast(hass, freezer)
    assert set(_extension_devices(hass, pbxware_entry)) == {first}

    second = _replace_every_extension(pbxware_sim, "Second Newcomer")
    await _poll_fast(hass, freezer, 2 * STALE_AFTER_POLLS - 1)
    assert set(_extension_devices(hass, pbxware_entry)) == {first, second}
    await _poll_fast(hass, freezer)
    assert set(_extension_devices(hass, pbxware_entry)) == {second}


async def test_extensions_replaced_across_a_reload_leave_no_stale_device(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every extension replaced, and replaced again while the entry was
    unloaded: the counts outlive the reload, so the outcome is that of a
    running entry (the old devices go), and not sooner. Not every device
    registered is the reference: no list would name the old ones again.
    """
    await setup_entry(hass, pbxware_entry)
    old = set(_extension_devices(hass, pbxware_entry))
    first = _replace_every_extension(pbxware_sim, "First Newcomer")
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    assert set(_extension_devices(hass, pbxware_entry)) == old | {first}

    assert await hass.config_entries.async_unload(pbxware_entry.entry_id)
    second = _replace_every_extension(pbxware_sim, "Second Newcomer")
    assert await hass.config_entries.async_setup(pbxware_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    # Setup read the last list of the guard's wait: the reference from now.
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 1)
    assert set(_extension_devices(hass, pbxware_entry)) == old | {first, second}
    await _poll_fast(hass, freezer)
    assert set(_extension_devices(hass, pbxware_entry)) == {second}


async def test_a_reload_does_not_restart_the_count(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Lists lacking an extension before a reload (new options, reauth)
    still count after it: reloading neither keeps nor removes a device.
    """
    await setup_entry(hass, pbxware_entry)
    ext_id = next(iter(pbxware_sim.tenant().extensions))
    pbxware_sim.remove_extension(ext_id)
    await _poll_fast(hass, freezer, STALE_AFTER_POLLS - 2)
    assert await hass.config_entries.async_reload(pbxware_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _extension_device(hass, pbxware_entry, ext_id) is not None
    await _poll_fast(hass, freezer)
    assert _extension_device(hass, pbxware_entry, ext_id) is None


async def test_removing_the_entry_drops_its_stale_device_counts(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The counts outlive reloads, not the entry: kept after it, they would
    pile up with every entry added and removed.
    """
    await setup_entry(hass, pbxware_entry)
    pbxware_sim.remove_extension(next(iter(pbxware_sim.tenant().extensions)))
    await _poll_fast(hass, freezer)
    assert pbxware_entry.entry_id in hass.data[STALE_DEVICES]
    assert await hass.config_entries.async_remove(pbxware_entry.entry_id)
    await hass.async_block_till_done()
    assert pbxware_entry.entry_id not in hass.data.get(STALE_DEVICES, {})

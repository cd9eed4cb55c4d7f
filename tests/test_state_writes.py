"""A poll that reads nothing new writes no state; one that changes one
extension writes only what shows it.

Behaviour, not timing: the cost of writes is measured in ``scripts/bench``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_component import EntityComponent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockEntityPlatform,
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import Topic
from custom_components.pbx_hub.entity import PbxEntity, PbxEntityDescription
from simulator import Fault, PbxwareSimulator, VoipcenterSimulator

from .conftest import setup_entry
from .vendors import voipcenter_entry

pytestmark = pytest.mark.slow


@pytest.fixture
def sim_extensions() -> int:
    return 12


@pytest.fixture
def written() -> Iterator[list[str]]:
    """The entity id of every ``async_write_ha_state`` call."""
    calls: list[str] = []
    original = Entity.async_write_ha_state

    def counting(entity: Entity) -> None:
        calls.append(entity.entity_id)
        original(entity)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Entity, "async_write_ha_state", counting)
        yield calls


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A fast and a slow poll."""
    freezer.tick(timedelta(minutes=15, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _dnd_switch(hass: HomeAssistant, entry: MockConfigEntry, ext_id: str) -> str:
    registry = er.async_get(hass)
    return next(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        if entity.unique_id.endswith(f"_ext_{ext_id}_dnd")
    )


async def test_a_poll_with_nothing_changed_writes_no_state(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    written: list[str],
) -> None:
    await setup_entry(hass, pbxware_entry)
    assert len(written) > 30  # every entity wrote once when added
    changes: list[Event] = []

    @callback
    def changed(event: Event) -> None:
        changes.append(event)

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)

    written.clear()
    await _poll(hass, freezer)
    await _poll(hass, freezer)

    assert all(
        c.last_update_success for c in pbxware_entry.runtime_data.coordinators.values()
    )
    assert written == []
    assert changes == []


async def test_a_changed_extension_writes_only_its_own_entities(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    written: list[str],
) -> None:
    await setup_entry(hass, pbxware_entry)
    ext_id, extension = next(iter(pbxware_sim.tenant().extensions.items()))
    switch = _dnd_switch(hass, pbxware_entry, ext_id)
    before = hass.states.get(switch)
    assert before is not None
    extension.dnd = before.state == STATE_OFF

    written.clear()
    await _poll(hass, freezer)

    after = hass.states.get(switch)
    assert after is not None
    assert after.state == (STATE_ON if extension.dnd else STATE_OFF)
    assert switch in written
    # The PBX's own sensors (extensions in DND) and this extension's entities.
    others = {entity_id for entity_id in written if entity_id != switch}
    assert len(others) <= 3, others


async def test_an_unavailable_poll_writes_and_recovers(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    written: list[str],
) -> None:
    """A failed poll changes every entity (to unavailable), and the next good
    one writes them back, though the data equals the last good poll's.
    """
    await setup_entry(hass, pbxware_entry)
    ext_id = next(iter(pbxware_sim.tenant().extensions))
    switch = _dnd_switch(hass, pbxware_entry, ext_id)
    state = hass.states.get(switch)
    assert state is not None
    good = state.state

    pbxware_sim.inject(Fault.SERVER_ERROR, count=50)
    await _poll(hass, freezer)
    state = hass.states.get(switch)
    assert state is not None
    assert state.state == "unavailable"

    pbxware_sim.clear_faults()
    written.clear()
    await _poll(hass, freezer)
    state = hass.states.get(switch)
    assert state is not None
    assert state.state == good
    assert switch in written


async def test_unavailable_and_back_with_the_same_data_writes_each_entity_once(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    written: list[str],
) -> None:
    """Each entity writes once going unavailable and once coming back, with
    what it showed before; the poll after that writes nothing.
    """
    await setup_entry(hass, pbxware_entry)
    entity_ids = {
        entity.entity_id
        for entity in er.async_entries_for_config_entry(
            er.async_get(hass), pbxware_entry.entry_id
        )
        if not entity.disabled
    }
    shown = {entity_id: _shown(hass, entity_id) for entity_id in entity_ids}

    pbxware_sim.inject(Fault.SERVER_ERROR, count=50)
    written.clear()
    await _poll(hass, freezer)
    assert sorted(written) == sorted(entity_ids)
    assert {_shown(hass, entity_id)[0] for entity_id in entity_ids} == {
        STATE_UNAVAILABLE
    }

    pbxware_sim.clear_faults()
    written.clear()
    await _poll(hass, freezer)
    assert sorted(written) == sorted(entity_ids)
    assert {entity_id: _shown(hass, entity_id) for entity_id in entity_ids} == shown

    written.clear()
    await _poll(hass, freezer)
    assert written == []


def _shown(hass: HomeAssistant, entity_id: str) -> tuple[str, dict[str, Any]]:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state, dict(state.attributes)


class _RestoringEntity(PbxEntity):
    """Shows a restored value from being added until the first poll: its
    state changes after ``super().async_added_to_hass()``.
    """

    _attr_name = "Restoring"
    restored: str | None = None

    @property
    def state(self) -> str:
        return self.restored or "polled"

    async def async_added_to_hass(self) -> None:
        await super().async_added_to_hass()
        self.restored = "restored"

    @callback
    def _handle_coordinator_update(self) -> None:
        self.restored = None
        super()._handle_coordinator_update()


async def test_a_state_changed_after_being_added_is_written_when_it_changes(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    """What the platform's first write showed is what counts, not what the
    entity showed inside its ``async_added_to_hass``.
    """
    await setup_entry(hass, pbxware_entry)
    fast = pbxware_entry.runtime_data.coordinators[Topic.STATUS]
    entity = _RestoringEntity(
        fast, PbxEntityDescription(key="restoring", topic=Topic.STATUS)
    )
    await MockEntityPlatform(hass).async_add_entities([entity])
    assert entity.entity_id is not None
    assert hass.states.get(entity.entity_id).state == "restored"

    fast.async_update_listeners()
    await hass.async_block_till_done()
    assert hass.states.get(entity.entity_id).state == "polled"


class _SettableEntity(PbxEntity):
    """Shows whatever the test sets, so it can change between polls."""

    _attr_name = "Settable"
    value = "first"

    @property
    def state(self) -> str:
        return self.value

    async def async_update(self) -> None:
        """No refresh: one would write through the coordinator's listeners,
        and the service's own write is what is tested.
        """


async def test_a_write_by_the_update_entity_service_is_remembered(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    """``homeassistant.update_entity`` writes without ``async_write_ha_state``:
    what it showed must still count, or a poll that brings the old value back
    is taken for no change and the state machine keeps the service's value.
    """
    await async_setup_component(hass, "homeassistant", {})
    await setup_entry(hass, pbxware_entry)
    fast = pbxware_entry.runtime_data.coordinators[Topic.STATUS]
    entity = _SettableEntity(
        fast, PbxEntityDescription(key="settable", topic=Topic.STATUS)
    )
    component: EntityComponent[Entity] = EntityComponent(
        logging.getLogger(__name__), "test_domain", hass
    )
    await component.async_add_entities([entity])
    assert entity.entity_id is not None
    assert hass.states.get(entity.entity_id).state == "first"

    entity.value = "second"
    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": entity.entity_id},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get(entity.entity_id).state == "second"

    # The poll brings back what the write before the service's showed.
    entity.value = "first"
    fast.async_update_listeners()
    await hass.async_block_till_done()
    assert hass.states.get(entity.entity_id).state == "first"


async def test_async_patch_changes_one_item_and_tells_the_listeners(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    """An action's confirmed result is shown by changing the one item it
    wrote, however deep, and nothing else.
    """
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    routing = entry.runtime_data.coordinators[Topic.DID_ROUTING]
    desks = entry.runtime_data.coordinators[Topic.HOT_DESKS]
    before, desks_before = routing.data, desks.data
    did_id, other_id = list(before.dids)[:2]
    heard: list[Any] = []
    remove = routing.async_add_listener(lambda: heard.append(routing.data))

    routing.async_patch("dids", did_id, route="patched")

    after = routing.data
    assert heard == [after]
    assert after.dids[did_id] == replace(before.dids[did_id], route="patched")
    assert after.dids[other_id] is before.dids[other_id]
    assert after.routes is before.routes
    assert desks.data is desks_before
    remove()


async def test_async_patch_of_what_a_poll_removed_shows_nothing(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    entry = voipcenter_entry(voipcenter_sim)
    await setup_entry(hass, entry)
    coordinators = entry.runtime_data.coordinators
    before = {topic: c.data for topic, c in coordinators.items()}
    heard: list[str] = []
    removes = [
        c.async_add_listener(lambda topic=topic: heard.append(topic))
        for topic, c in coordinators.items()
    ]

    coordinators[Topic.DID_ROUTING].async_patch("dids", "gone", route="1")
    coordinators[Topic.HOT_DESKS].async_patch("desks", "gone", template="1")
    coordinators[Topic.INDICATORS].async_patch("", "gone", active=True)
    coordinators[Topic.EXTENSIONS].async_patch("", "gone", dnd=True)

    assert heard == []
    assert {topic: c.data for topic, c in coordinators.items()} == before
    for remove in removes:
        remove()


async def test_async_patch_of_a_topic_the_vendor_lacks_shows_nothing(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    """PBXware routes numbers to destinations: it has no route plans, so no
    coordinator reads them, and a patch of a field path its DIDs lack is none.
    """
    await setup_entry(hass, pbxware_entry)
    coordinators = pbxware_entry.runtime_data.coordinators
    assert Topic.DID_ROUTING not in coordinators
    dids = coordinators[Topic.DIDS]
    before = dids.data
    did_id = next(iter(before))

    dids.async_patch("dids", did_id, route="1")

    assert dids.data is before

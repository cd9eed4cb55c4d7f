"""Call events, the call-back button, call forwarding and recording (issue 17
part B), end to end against the simulators' call model: each event fires once
per call, across polls and a restart; the button calls the last caller back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub import async_remove_config_entry_device
from custom_components.pbx_hub.calls import CallTracker
from custom_components.pbx_hub.client import (
    CallOutcome,
    CallRecord,
    CallScope,
    Topic,
)
from custom_components.pbx_hub.const import DOMAIN
from simulator import PbxwareSimulator, VoipcenterSimulator, VoipcloudSimulator

from .conftest import find_device, setup_entry
from .vendors import pbxware_entry, voipcenter_entry, voipcloud_entry

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Fired:
    """One event entity's event, as a state change showed it."""

    entity_id: str
    event_type: str
    attributes: dict[str, Any]


def record_events(hass: HomeAssistant) -> list[Fired]:
    """Every event fired by an event entity from now on, in order; a state
    restored after a restart is the last event again, not a new one.
    """
    fired: list[Fired] = []
    last: dict[str, tuple[str, dict[str, Any]]] = {}

    @callback
    def record(event: Event[Any]) -> None:
        new = event.data["new_state"]
        name = event.data["entity_id"]
        if (
            not name.startswith("event.")
            or new is None
            or new.state in ("unknown", STATE_UNAVAILABLE)
        ):
            return
        # A device renamed (its friendly name) is no new event.
        attributes = {k: v for k, v in new.attributes.items() if k != "friendly_name"}
        shown = (new.state, attributes)
        if last.get(name) == shown:
            return
        last[name] = shown
        fired.append(Fired(name, new.attributes["event_type"], shown[1]))

    hass.bus.async_listen("state_changed", record)
    return fired


def entity_id(
    hass: HomeAssistant, entry: MockConfigEntry, platform: str, object_id: str
) -> str:
    """The entity id of ``<entry unique id>_<object_id>``."""
    found = er.async_get(hass).async_get_entity_id(
        platform, DOMAIN, f"{entry.unique_id}_{object_id}"
    )
    assert found is not None, object_id
    return found


async def read_calls(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """One poll of the call history (its cadence's interval depends on the
    budget: the coordinator is asked directly).
    """
    await entry.runtime_data.coordinators[Topic.CALLS].async_refresh()
    await hass.async_block_till_done()


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload and set the entry up again, as a Home Assistant restart does."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def of(fired: list[Fired], kind: str, number: str) -> list[Fired]:
    """The events of one kind whose caller was ``number``."""
    return [
        f for f in fired if f.event_type == kind and f.attributes["number"] == number
    ]


def idle_extension(sim: PbxwareSimulator) -> tuple[str, str]:
    """The id and number of an extension not on a call."""
    ext_id, ext = next(
        (key, e) for key, e in sim.tenant().extensions.items() if not e.on_call
    )
    return ext_id, ext.ext


@pytest.mark.usefixtures("freezer")
async def test_pbxware_missed_call_fires_once_across_polls_and_a_restart(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    sim = pbxware_sim
    sim.book.clock.freeze()
    entry = pbxware_entry(sim)
    await setup_entry(hass, entry)
    fired = record_events(hass)
    ext_id, number = idle_extension(sim)

    call = sim.place_call(caller="0470123456", callee=number, caller_name="Jan")
    sim.book.clock.advance(31)  # rang out: missed
    assert sim.book.get(call.id).missed_reason == "timeout"
    await read_calls(hass, entry)
    missed = entity_id(hass, entry, "event", f"ext_{ext_id}_missed_call")
    incoming = entity_id(hass, entry, "event", f"ext_{ext_id}_incoming_call")
    assert [f.entity_id for f in of(fired, "missed_call", "0470123456")] == [missed]
    assert [f.entity_id for f in of(fired, "incoming_call", "0470123456")] == [incoming]
    attributes = of(fired, "missed_call", "0470123456")[0].attributes
    assert attributes["called"] == number
    assert attributes["call_id"]
    assert attributes["time"]
    # Today's figures sit on the extension's own device, by the keys the
    # voice intents look for.
    calls_today = entity_id(hass, entry, "sensor", f"ext_{ext_id}_calls_today")
    missed_today = entity_id(hass, entry, "sensor", f"ext_{ext_id}_missed_calls")
    assert int(hass.states.get(calls_today).state) >= 1
    assert int(hass.states.get(missed_today).state) >= 1
    registry = er.async_get(hass)
    device = registry.async_get(calls_today).device_id  # type: ignore[union-attr]
    assert device == find_device_of_extension(hass, entry, ext_id)

    await read_calls(hass, entry)
    await read_calls(hass, entry)
    await restart(hass, entry)
    await read_calls(hass, entry)
    assert len(of(fired, "missed_call", "0470123456")) == 1
    assert len(of(fired, "incoming_call", "0470123456")) == 1

    # Missed while Home Assistant is down: fired once after the restart.
    assert await hass.config_entries.async_unload(entry.entry_id)
    later = sim.place_call(caller="0470999999", callee=number)
    sim.book.clock.advance(5)
    sim.book.miss(later.id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await read_calls(hass, entry)
    assert len(of(fired, "missed_call", "0470999999")) == 1
    assert len(of(fired, "missed_call", "0470123456")) == 1


def find_device_of_extension(
    hass: HomeAssistant, entry: MockConfigEntry, ext_id: str
) -> str:
    """The device id of an extension."""
    device = find_device(
        dr.async_get(hass), (DOMAIN, f"{entry.unique_id}_ext_{ext_id}")
    )
    assert device is not None
    return device.id


def push_entry(sim: VoipcenterSimulator) -> MockConfigEntry:
    """A VoipCenter entry whose push user name is set (its push channel
    connects to the simulator's socket.io server).
    """
    entry = voipcenter_entry(sim)
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**entry.data, "ws_username": "wsuser", "push_url": str(sim.push_url)},
        options=entry.options,
    )


async def until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Real time until ``check`` holds (push is real I/O)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "timed out"
        await asyncio.sleep(0.005)


async def test_voipcenter_push_fires_incoming_at_once_and_history_not_again(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    entry = push_entry(sim)
    await setup_entry(hass, entry)
    await until(lambda: "wsuser" in sim.push.registered.values())
    fired = record_events(hass)
    incoming = entity_id(hass, entry, "event", "ext_sipaccount2_incoming_call")

    sim.book.clock.freeze()
    call = sim.place_call(caller="0470654321", callee="sipaccount2")
    started = time.monotonic()
    await until(lambda: bool(of(fired, "incoming_call", "0470654321")))
    assert time.monotonic() - started < 1.0  # at once, not at the next poll
    pushed = of(fired, "incoming_call", "0470654321")
    assert [f.entity_id for f in pushed] == [incoming]
    assert pushed[0].attributes["call_id"] == call.id
    assert pushed[0].attributes["raw"]

    sim.book.clock.advance(31)  # missed
    await read_calls(hass, entry)
    await restart(hass, entry)
    await read_calls(hass, entry)
    assert len(of(fired, "incoming_call", "0470654321")) == 1
    assert len(of(fired, "missed_call", "0470654321")) == 1


async def test_voipcenter_history_fires_incoming_without_push(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    sim = voipcenter_sim
    sim.book.clock.freeze()
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    fired = record_events(hass)
    other = sim.place_call(caller="0470111222", callee="sipaccount2")
    sim.book.clock.advance(5)
    sim.book.answer(other.id)
    await read_calls(hass, entry)
    await read_calls(hass, entry)
    assert len(of(fired, "incoming_call", "0470111222")) == 1
    assert of(fired, "missed_call", "0470111222") == []


async def test_a_refused_device_deletion_forgets_no_call_user(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    """A listed extension's device cannot be deleted; its call user stays
    remembered, and stored, as before.
    """
    sim = voipcenter_sim
    sim.book.clock.freeze()
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    call = sim.place_call(caller="0470111222", callee="sipaccount2")
    sim.book.clock.advance(5)
    sim.book.answer(call.id)
    await read_calls(hass, entry)
    tracker = entry.runtime_data.call_tracker
    assert tracker is not None
    users = dict(tracker.to_stored()["users"])
    assert "sipaccount2" in users
    device = find_device(
        dr.async_get(hass), (DOMAIN, f"{entry.unique_id}_ext_sipaccount2")
    )
    assert device is not None
    assert not await async_remove_config_entry_device(hass, entry, device)
    assert tracker.to_stored()["users"] == users


@pytest.mark.freeze_time("2026-11-25T12:00:00-08:00")
async def test_voipcloud_incoming_call_event_and_call_back_button(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    sim.add_user_call("1002", start=datetime.now(UTC) - timedelta(hours=1))
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    fired = record_events(hass)
    button = entity_id(hass, entry, "button", "ext_1002_call_back")

    sim.add_user_call(
        "1002",
        answered=False,
        start=datetime.now(UTC) - timedelta(seconds=40),
        wait=20,
        caller="0412000111",
    )
    await read_calls(hass, entry)
    await read_calls(hass, entry)
    assert [f.event_type for f in of(fired, "incoming_call", "0412000111")] == [
        "incoming_call"
    ]
    assert len(of(fired, "missed_call", "0412000111")) == 1
    assert hass.states.get(button).attributes["number"] == "0412000111"

    await hass.services.async_call(
        "button", "press", {"entity_id": button}, blocking=True
    )
    assert [(c.user_number, c.number_to_call) for c in sim.calls_to_number] == [
        ("1002", "0412000111")
    ]
    placed = [f for f in fired if f.event_type == "call_placed"]
    assert [(f.entity_id, f.attributes["number"]) for f in placed] == [
        (entity_id(hass, entry, "event", "ext_1002_call_placed"), "0412000111")
    ]

    # The action gives the same feedback.
    freezer.tick(1)
    await hass.services.async_call(
        DOMAIN,
        "click_to_call",
        {"config_entry_id": entry.entry_id, "user_number": "1002", "number": "0298"},
        blocking=True,
    )
    placed = [f for f in fired if f.event_type == "call_placed"]
    assert [f.attributes["number"] for f in placed] == ["0412000111", "0298"]


@pytest.mark.freeze_time("2026-11-25T12:00:00-08:00")
async def test_call_back_button_unavailable_without_a_caller(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    sim = voipcloud_sim
    sim.add_user_call(
        "1003", start=datetime.now(UTC) - timedelta(hours=1), inbound=False
    )
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    button = entity_id(hass, entry, "button", "ext_1003_call_back")
    assert hass.states.get(button).state == STATE_UNAVAILABLE


async def test_pbxware_call_forwarding_switch(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    sim = pbxware_sim
    entry = pbxware_entry(sim)
    await setup_entry(hass, entry)
    ext_id, _ = idle_extension(sim)
    switch = entity_id(hass, entry, "switch", f"ext_{ext_id}_call_forwarding")
    assert hass.states.get(switch).state == "off"

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": switch}, blocking=True
    )
    assert sim.tenant().extensions[ext_id].callfwd == "yes"
    assert hass.states.get(switch).state == "on"
    # Changed on the PBX: the next read shows it.
    sim.tenant().extensions[ext_id].callfwd = "no"
    await entry.runtime_data.coordinators[Topic.CALL_FORWARDING].async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(switch).state == "off"


async def test_pbxware_recording_refused_without_a_call(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    sim = pbxware_sim
    sim.book.clock.freeze()
    entry = pbxware_entry(sim)
    await setup_entry(hass, entry)
    ext_id, number = idle_extension(sim)
    device = find_device_of_extension(hass, entry, ext_id)

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "start_recording", {"device_id": device}, blocking=True
        )
    assert refused.value.translation_key == "no_call"

    call = sim.place_call(caller="0470123456", callee=number)
    sim.book.clock.advance(3)
    sim.book.answer(call.id)
    await hass.services.async_call(
        DOMAIN, "start_recording", {"device_id": device}, blocking=True
    )
    assert sim.book.get(call.id).recording is True
    await hass.services.async_call(
        DOMAIN, "stop_recording", {"device_id": device}, blocking=True
    )
    assert sim.book.get(call.id).recording is False


async def test_the_call_tracker_is_stored_across_runs(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The next run takes up what a run stored, and removing the entry
    removes it; nothing is written before the first poll (an empty record
    would make the next run fire an event for every call of the day).
    """
    now = datetime.now(UTC)
    key = f"{DOMAIN}.e1.calls"
    tracker = CallTracker(hass, "e1")
    await tracker.async_load()
    await tracker.async_save()
    assert key not in hass_storage
    tracker.update([_missed("c1", now)], now - timedelta(hours=1))
    await tracker.async_save()

    again = CallTracker(hass, "e1")
    await again.async_load()
    calls = [_missed("c1", now), _missed("c2", now)]
    events = again.update(calls, now - timedelta(hours=1)).events
    assert [(event.kind, event.record.id) for event in events] == [
        ("incoming_call", "c2"),
        ("missed_call", "c2"),
    ]
    await again.async_remove()
    assert key not in hass_storage


def _missed(call_id: str, now: datetime) -> CallRecord:
    """A missed call to user 1002, five minutes ago."""
    return CallRecord(
        id=call_id,
        scope=CallScope.USER,
        group=None,
        user_number="1002",
        user_name=None,
        inbound=True,
        caller="0412000111",
        caller_name=None,
        callee="1002",
        started_at=now - timedelta(minutes=5),
        answered_at=None,
        finished_at=now - timedelta(minutes=4),
        talk_seconds=0,
        outcome=CallOutcome.MISSED,
    )


async def test_a_refused_call_shows_no_placed_call(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator
) -> None:
    """An offline phone: the translated error, and the extension's placed-call
    event stays as it was; an accepted call fires it.
    """
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    fired = record_events(hass)
    offline = next(a for a in sim.sip_accounts.values() if not a.online)
    online = next(a for a in sim.sip_accounts.values() if a.online)
    for account in (offline, online):
        data = {
            "config_entry_id": entry.entry_id,
            "user_number": account.username,
            "number": "093456789",
        }
        if account is offline:
            with pytest.raises(HomeAssistantError) as refused:
                await hass.services.async_call(
                    DOMAIN, "click_to_call", data, blocking=True
                )
            assert refused.value.translation_key == "call_failed"
        else:
            await hass.services.async_call(DOMAIN, "click_to_call", data, blocking=True)
    placed = [f for f in fired if f.event_type == "call_placed"]
    assert [f.entity_id for f in placed] == [
        entity_id(hass, entry, "event", f"ext_{online.username}_call_placed")
    ]

"""VoIPcloud end to end: config flow, statistics entities, call events and
click-to-call, against the simulator on loopback.

Time is frozen at 12:00 in Home Assistant's test time zone (US/Pacific), so
"today" starts eight hours earlier; the simulator reads the same clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.pbx_hub import async_remove_config_entry_device
from custom_components.pbx_hub.client import Cadence
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.diagnostics import async_get_config_entry_diagnostics
from simulator import Fault, PbxwareSimulator, VoipcloudSimulator

from .conftest import find_device, setup_entry
from .vendors import pbxware_entry, voipcloud_entry

NOON = "2026-11-25T12:00:00-08:00"
pytestmark = [pytest.mark.slow, pytest.mark.freeze_time(NOON)]


def ago(**delta: float) -> datetime:
    return dt_util.utcnow() - timedelta(**delta)


async def poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def state(hass: HomeAssistant, entity_id: str) -> Any:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current


@pytest.mark.minimum_ha
async def test_config_flow(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert "voipcloud" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voipcloud"}
    )
    assert result["step_id"] == "voipcloud"
    flow_id = result["flow_id"]

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": voipcloud_sim.url, "token": "wrong-token-123456"}
    )
    assert result["errors"] == {"base": "invalid_auth"}

    voipcloud_sim.whitelist = ["203.0.113.7"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": voipcloud_sim.url, "token": voipcloud_sim.token}
    )
    assert result["errors"] == {"base": "ip_not_whitelisted"}

    voipcloud_sim.whitelist = None
    # A key the API accepts but refuses this request (its 403 envelope).
    voipcloud_sim.inject(Fault.FORBIDDEN, count=1)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": voipcloud_sim.url, "token": voipcloud_sim.token}
    )
    assert result["errors"] == {"base": "missing_permission"}
    assert result["description_placeholders"] == {"permission": "get-system-status"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"url": voipcloud_sim.url, "token": voipcloud_sim.token}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["token"] == voipcloud_sim.token
    assert voipcloud_sim.token not in (result["result"].unique_id or "")
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


async def test_statistics_entities(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = voipcloud_sim
    sim.add_queue_call("Sales", start=ago(hours=3), wait=20, talk=60)
    sim.add_queue_call("Sales", start=ago(hours=2), wait=40, talk=60)
    sim.add_queue_call("Sales", status="abandoned", start=ago(hours=1), wait=15)
    sim.add_user_call("1004", answered=False, start=ago(minutes=30), wait=20)
    sim.add_user_call("1004", inbound=False, start=ago(minutes=20), talk=300)
    sim.add_queue_call("Support", start=ago(hours=20))  # yesterday: not counted
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)

    assert state(hass, "sensor.voipcloud_127_0_0_1_system_status").state == (
        "operational"
    )
    assert state(hass, "sensor.sales_calls_today").state == "3"
    assert state(hass, "sensor.sales_answered_calls_today").state == "2"
    assert state(hass, "sensor.sales_abandoned_calls_today").state == "1"
    assert float(state(hass, "sensor.sales_answer_rate").state) == pytest.approx(66.7)
    assert float(state(hass, "sensor.sales_average_wait").state) == 30
    assert float(state(hass, "sensor.sales_longest_wait").state) == 40
    user = sim.user("1004")
    prefix = f"sensor.{user.name.lower().replace(' ', '_')}_1004"
    assert state(hass, f"{prefix}_missed_calls_today").state == "1"
    assert state(hass, f"{prefix}_outbound_calls_today").state == "1"
    assert float(state(hass, f"{prefix}_talk_time_today").state) == 5  # minutes

    sales = find_device(device_registry, (DOMAIN, "127.0.0.1_testaccount_queue_Sales"))
    assert sales is not None
    assert sales.model == "Queue"
    assert (
        find_device(device_registry, (DOMAIN, "127.0.0.1_testaccount_queue_Support"))
        is None
    )


async def test_counts_start_again_at_midnight(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    voipcloud_sim.add_queue_call("Sales", start=ago(hours=1))
    await setup_entry(hass, voipcloud_entry(voipcloud_sim))
    assert state(hass, "sensor.sales_calls_today").state == "1"

    freezer.move_to("2026-11-26T00:00:30-08:00")
    await poll(hass, freezer)
    # A queue without calls today shows zero, not "unavailable".
    assert state(hass, "sensor.sales_calls_today").state == "0"
    assert state(hass, "sensor.sales_answer_rate").state == STATE_UNKNOWN


async def test_missed_call_event_fires_once_across_polls_and_restarts(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    # Missed before PBX Hub was set up: history, not news.
    sim.add_user_call("1002", answered=False, start=ago(hours=2), wait=20)
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    user = sim.user("1002")
    event_id = f"event.{user.name.lower().replace(' ', '_')}_1002_missed_call"
    assert state(hass, event_id).state == STATE_UNKNOWN

    fired: list[str] = []

    @callback  # in the event loop, in order (a plain function runs in a thread)
    def record(event: Any) -> None:
        if event.data["entity_id"] == event_id and event.data["new_state"]:
            fired.append(event.data["new_state"].attributes.get("call_id"))

    hass.bus.async_listen("state_changed", record)

    call_id = sim.add_user_call(
        "1002", answered=False, start=ago(seconds=40), wait=20, caller="0412000111"
    )
    await poll(hass, freezer)
    assert fired == [call_id]
    attributes = state(hass, event_id).attributes
    assert attributes["event_type"] == "missed_call"
    assert attributes["number"] == "0412000111"

    await poll(hass, freezer)
    await poll(hass, freezer)
    assert fired == [call_id]

    # Home Assistant restarts; one more call is missed while it is down.
    assert await hass.config_entries.async_unload(entry.entry_id)
    second = sim.add_user_call("1002", answered=False, start=ago(seconds=30), wait=5)
    freezer.tick(timedelta(seconds=10))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await poll(hass, freezer)
    assert fired.count(call_id) == 1
    assert fired.count(second) == 1


async def test_abandoned_call_event_on_the_queue(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    sim.add_queue_call("Support", start=ago(hours=1))
    await setup_entry(hass, voipcloud_entry(sim))
    event_id = "event.support_abandoned_call"
    assert state(hass, event_id).state == STATE_UNKNOWN

    sim.add_queue_call(
        "Support", status="abandoned", start=ago(seconds=50), wait=10, caller="0299"
    )
    await poll(hass, freezer)
    current = state(hass, event_id)
    assert current.state != STATE_UNKNOWN
    assert current.attributes["event_type"] == "abandoned_call"
    assert current.attributes["number"] == "0299"


async def test_a_new_user_first_seen_through_a_missed_call_gets_its_event(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    sim.add_user_call("1001", start=ago(hours=1))
    await setup_entry(hass, voipcloud_entry(sim))
    sim.add_user_call("1003", answered=False, start=ago(seconds=40), wait=20)
    await poll(hass, freezer)
    user = sim.user("1003")
    event_id = f"event.{user.name.lower().replace(' ', '_')}_1003_missed_call"
    assert state(hass, event_id).attributes["event_type"] == "missed_call"


async def test_click_to_call(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    sim = voipcloud_sim
    sim.add_user_call("1005", start=ago(hours=1))
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    device = find_device(device_registry, (DOMAIN, "127.0.0.1_testaccount_ext_1005"))
    assert device is not None

    await hass.services.async_call(
        DOMAIN,
        "click_to_call",
        {"device_id": device.id, "number": "+61 2 9876 5432"},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN,
        "click_to_call",
        {"config_entry_id": entry.entry_id, "user_number": "1001", "number": "0298"},
        blocking=True,
    )
    assert [(c.user_number, c.number_to_call) for c in sim.calls_to_number] == [
        ("1005", "+61298765432"),
        ("1001", "0298"),
    ]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"number": "12&action=x"}, "invalid_number"),
        ({"number": "call me maybe"}, "invalid_number"),
        ({"number": "1\n2"}, "invalid_number"),
        ({"number": "0298", "user_number": None}, "extension_required"),
        ({"number": "0298", "config_entry_id": "missing"}, "entry_not_found"),
        ({"number": "0298", "device_id": "any"}, "device_or_entry"),
        ({"number": "0298", "config_entry_id": None}, "target_required"),
        ({"number": "1" * 65}, "text_too_long"),
        ({"number": "0298", "user_number": "1" * 33}, "text_too_long"),
        ({"number": " "}, "text_empty"),
    ],
)
async def test_click_to_call_validation(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    data: dict[str, Any],
    key: str,
) -> None:
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    voipcloud_sim.reset_counters()
    call = {"config_entry_id": entry.entry_id, "user_number": "1001", **data}
    call = {name: value for name, value in call.items() if value is not None}
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(DOMAIN, "click_to_call", call, blocking=True)
    assert raised.value.translation_key == key
    assert voipcloud_sim.request_count == 0


async def test_click_to_call_targets_only_extensions(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    pbx = find_device(device_registry, (DOMAIN, "127.0.0.1_testaccount"))
    assert pbx is not None
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {"device_id": pbx.id, "number": "0298"},
            blocking=True,
        )
    assert raised.value.translation_key == "not_an_extension"


async def test_click_to_call_is_not_offered_by_pbxware(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    entry = pbxware_entry(pbxware_sim)
    await setup_entry(hass, entry)
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {"config_entry_id": entry.entry_id, "user_number": "100", "number": "0298"},
            blocking=True,
        )
    assert raised.value.translation_key == "action_not_supported"


async def test_reauth_with_a_new_token_keeps_the_entities(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    voipcloud_sim.add_queue_call("Sales", start=ago(hours=1))
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    before = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }

    voipcloud_sim.token = "a-brand-new-token-987654"
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"token": "a-brand-new-token-987654"}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.unique_id == "127.0.0.1_testaccount"
    assert entry.state is ConfigEntryState.LOADED
    after = {
        e.entity_id
        for e in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    }
    assert after == before
    assert state(hass, "sensor.sales_calls_today").state == "1"


async def test_not_whitelisted_while_polling_raises_a_repair_and_recovers(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The fix is on the PBX, not new credentials: no reauth, polling goes on."""
    voipcloud_sim.add_queue_call("Sales", start=ago(hours=1))
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    issue_id = f"not_whitelisted_{entry.entry_id}"
    voipcloud_sim.whitelist = ["203.0.113.7"]
    await poll(hass, freezer)
    assert state(hass, "sensor.sales_calls_today").state == STATE_UNAVAILABLE
    assert hass.config_entries.flow.async_progress() == []
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    voipcloud_sim.whitelist = None
    await poll(hass, freezer)
    assert state(hass, "sensor.sales_calls_today").state == "1"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_403_while_polling_is_a_missing_permission_not_a_reauth(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The key is accepted but refused these requests: new credentials would
    not help. The refused topics' entities are unavailable (not unknown), a
    repair issue names the endpoints, and both recover once it is granted.
    """
    voipcloud_sim.add_queue_call("Sales", start=ago(hours=1))
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    status = "sensor.voipcloud_127_0_0_1_system_status"
    assert state(hass, status).state != STATE_UNAVAILABLE
    issue_id = f"missing_permission_fast_{entry.entry_id}"
    voipcloud_sim.inject(Fault.FORBIDDEN)
    await poll(hass, freezer)
    assert state(hass, status).state == STATE_UNAVAILABLE
    assert state(hass, "sensor.sales_calls_today").state == STATE_UNAVAILABLE
    assert hass.config_entries.flow.async_progress() == []
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    refused = issue.translation_placeholders["permission"].split(", ")
    assert "get-system-status" in refused
    assert set(refused) <= {
        "get-system-status",
        "get-user-calls",
        "get-queue-calls",
        "get-ringgroup-calls",
    }

    voipcloud_sim.clear_faults()
    await poll(hass, freezer)
    assert state(hass, status).state != STATE_UNAVAILABLE
    assert state(hass, "sensor.sales_calls_today").state == "1"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_not_whitelisted_at_setup_is_retried(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    voipcloud_sim.whitelist = ["203.0.113.7"]
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert hass.config_entries.flow.async_progress() == []


async def _entry_with_a_morning_of_calls(
    hass: HomeAssistant, sim: VoipcloudSimulator
) -> MockConfigEntry:
    sim.add_queue_call("Sales", start=ago(hours=3), wait=25, talk=200)
    sim.add_queue_call("Sales", status="abandoned", start=ago(hours=2), wait=70)
    sim.add_ringgroup_call("Reception", start=ago(hours=1), wait=8, talk=30)
    sim.add_user_call(
        "1002", answered=False, start=ago(minutes=30), wait=20, caller_name="Ann"
    )
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    return entry


@pytest.mark.minimum_ha
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.EVENT])
async def test_platform_snapshot(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    with patch("custom_components.pbx_hub.PLATFORMS", [platform]):
        entry = await _entry_with_a_morning_of_calls(hass, voipcloud_sim)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_diagnostics_hold_no_token_and_no_names(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    snapshot: SnapshotAssertion,
) -> None:
    entry = await _entry_with_a_morning_of_calls(hass, voipcloud_sim)
    # Called directly: Home Assistant's JSON encoder cannot encode the frozen
    # clock's datetimes (a freezegun limit, not a diagnostics one).
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    dumped = json.dumps(diagnostics, default=str)
    assert voipcloud_sim.token not in dumped
    for user in voipcloud_sim.users:
        assert user.name not in dumped
    assert "Ann" not in dumped
    assert diagnostics["topics"]["call_history"]["data"]["users_seen"] == 2
    assert diagnostics == snapshot(
        exclude=props("entry_id", "created_at", "modified_at")
    )


async def test_options_offer_only_what_voipcloud_polls(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = {str(key) for key in result["data_schema"].schema}
    # No DIDs to poll, no extension list; call states from the calls.
    assert fields == {"fast_interval", "call_states"}

    # Four requests a poll within 80 of 100 per 15 minutes: 45 s at the least.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"fast_interval": 44}
    )
    assert result["errors"] == {"fast_interval": "over_budget"}
    assert result["description_placeholders"]["minimum"] == "45"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"fast_interval": 45}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    fast = entry.runtime_data.of(Cadence.FAST)
    assert {c.update_interval for c in fast} == {timedelta(seconds=45)}


async def test_two_missed_calls_in_one_poll_fire_twice(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    sim.add_user_call("1002", start=ago(hours=1))
    await setup_entry(hass, voipcloud_entry(sim))
    user = sim.user("1002")
    event_id = f"event.{user.name.lower().replace(' ', '_')}_1002_missed_call"
    fired: list[str] = []

    @callback  # in the event loop, in order (a plain function runs in a thread)
    def record(event: Any) -> None:
        new_state = event.data["new_state"]
        if event.data["entity_id"] == event_id and "call_id" in new_state.attributes:
            fired.append(new_state.attributes["call_id"])

    hass.bus.async_listen("state_changed", record)
    first = sim.add_user_call("1002", answered=False, start=ago(seconds=50), wait=5)
    second = sim.add_user_call("1002", answered=False, start=ago(seconds=40), wait=5)
    await poll(hass, freezer)
    assert fired == [first, second]


async def test_a_call_missed_across_midnight_fires_after_it(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """It starts at 23:59:30 and rings out at 00:00:30: counted for the day
    it started, and its event fires when it ends.
    """
    sim = voipcloud_sim
    sim.add_user_call("1002", start=ago(hours=1))
    await setup_entry(hass, voipcloud_entry(sim))
    freezer.move_to("2026-11-25T23:58:00-08:00")
    await poll(hass, freezer)  # at 23:59:01
    late = sim.add_user_call(
        "1002", answered=False, start=dt_util.utcnow() + timedelta(seconds=29), wait=60
    )
    freezer.move_to("2026-11-26T00:00:45-08:00")
    await poll(hass, freezer)
    user = sim.user("1002")
    event_id = f"event.{user.name.lower().replace(' ', '_')}_1002_missed_call"
    assert state(hass, event_id).attributes["call_id"] == late
    missed_today = (
        f"sensor.{user.name.lower().replace(' ', '_')}_1002_missed_calls_today"
    )
    assert state(hass, missed_today).state == "0"
    await poll(hass, freezer)
    await poll(hass, freezer)
    assert state(hass, event_id).attributes["call_id"] == late


async def test_click_to_call_takes_a_device_or_a_number_not_both(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    voipcloud_sim.add_user_call("1005", start=ago(hours=1))
    entry = voipcloud_entry(voipcloud_sim)
    await setup_entry(hass, entry)
    device = find_device(device_registry, (DOMAIN, "127.0.0.1_testaccount_ext_1005"))
    assert device is not None
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {"device_id": device.id, "user_number": "1001", "number": "0298"},
            blocking=True,
        )
    assert raised.value.translation_key == "device_or_user_number"
    assert voipcloud_sim.calls_to_number == []


async def test_a_deleted_queue_device_comes_back_with_its_next_call(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    sim.add_queue_call("Support", start=ago(hours=20))  # yesterday
    sim.add_queue_call("Sales", start=ago(hours=1))
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    identifier = (DOMAIN, "127.0.0.1_testaccount_queue_Sales")
    device = find_device(device_registry, identifier)
    assert device is not None

    # Deleting it is allowed (the API lists no queues to check against) ...
    assert await async_remove_config_entry_device(hass, entry, device)
    device_registry.async_remove_device(device.id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.sales_calls_today") is None

    # ... and the queue's next call brings it back.
    sim.add_queue_call("Sales", start=ago(seconds=30))
    await poll(hass, freezer)
    assert find_device(device_registry, identifier) is not None
    assert state(hass, "sensor.sales_calls_today").state == "2"

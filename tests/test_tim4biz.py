"""TIM4biz end to end: config flow, call-accounting sensors, the rate-limit
sensors and slow-down, licence and API-address repairs, and SMS.

Time is frozen at 12:00 in Home Assistant's test time zone (US/Pacific); the
simulator reads the same clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.components.notify import (
    ATTR_MESSAGE,
    DOMAIN as NOTIFY_DOMAIN,
    SERVICE_SEND_MESSAGE,
)
from homeassistant.components.repairs import DOMAIN as REPAIRS_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.pbx_hub import async_remove_config_entry_device
from custom_components.pbx_hub.client import (
    Cadence,
    Notice,
    PbxClient,
    ReadContext,
    ReadResult,
    Topic,
)
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.diagnostics import async_get_config_entry_diagnostics
from simulator import Tim4bizSimulator

from .conftest import find_device, setup_entry
from .vendors import tim4biz_entry

pytestmark = [pytest.mark.slow, pytest.mark.freeze_time("2026-11-25T12:00:00-08:00")]
SLOW = timedelta(minutes=15, seconds=1)


async def poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, step: timedelta = SLOW
) -> None:
    freezer.tick(step)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def state(hass: HomeAssistant, entity_id: str) -> Any:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current


def local(text: str) -> datetime:
    parsed = dt_util.parse_datetime(text)
    assert parsed is not None
    return parsed


@pytest.mark.minimum_ha
async def test_config_flow(hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "tim4biz"}
    )
    assert result["step_id"] == "tim4biz"
    form = {
        "url": f"{tim4biz_sim.url}/api/",
        "username": tim4biz_sim.username,
        "password": "wrong-password-123",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**form, "password": tim4biz_sim.password}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"tim4biz_{tim4biz_sim.username.lower()}"


async def test_accounting_sensors_match_the_simulator(
    hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator
) -> None:
    hass.config.currency = "GBP"
    sim = tim4biz_sim
    extension = next(iter(sim.extensions.values()))
    sim.add_call(extension.number, dt_util.utcnow() - timedelta(hours=1), 125, 0.42)
    entry = tim4biz_entry(sim)
    await setup_entry(hass, entry)

    now = dt_util.utcnow()
    # The client sends local times without an offset; the simulator reads them
    # as UTC: ask it for the same wall-clock ranges.
    wall = dt_util.now().replace(tzinfo=dt_util.UTC)
    midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    today = {
        t.as_json()["Extension"]: t.as_json()
        for t in sim.extension_totals(midnight, wall)
    }
    month = {
        t.as_json()["Extension"]: t.as_json()
        for t in sim.extension_totals(midnight.replace(day=1), wall)
    }
    assert now  # the freezer holds the clock for both
    prefix = f"sensor.{extension.name.lower().replace(' ', '_')}_{extension.number}"
    assert (
        int(state(hass, f"{prefix}_calls_today").state)
        == today[extension.number]["Calls"]
    )
    assert float(state(hass, f"{prefix}_cost_today").state) == pytest.approx(
        today[extension.number]["Cost"]
    )
    assert (
        state(hass, f"{prefix}_cost_today").attributes["unit_of_measurement"] == "GBP"
    )
    assert (
        int(state(hass, f"{prefix}_calls_this_month").state)
        == month[extension.number]["Calls"]
    )
    talk = state(hass, f"{prefix}_talk_time_this_month")
    # A month's talk time is in hours.
    assert talk.attributes["unit_of_measurement"] == "h"
    assert float(talk.state) == pytest.approx(
        month[extension.number]["Duration"] / 3600, abs=0.01
    )
    assert today[extension.number]["Calls"] >= 1

    left_hour = state(
        hass, "sensor.tim4biz_api_user_example_com_api_calls_left_this_hour"
    )
    left_day = state(
        hass, "sensor.tim4biz_api_user_example_com_api_calls_left_in_24_hours"
    )
    assert int(left_hour.state) == sim.remaining_hourly()
    assert int(left_day.state) == sim.remaining_daily()


async def test_polling_slows_down_as_the_calls_run_out_and_stops_at_zero(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = tim4biz_sim
    entry = tim4biz_entry(sim)
    await setup_entry(hass, entry)
    slow = entry.runtime_data.coordinators[Topic.USAGE]
    assert slow.update_interval == timedelta(minutes=15)

    # Another app of the company spends the hour: 10 left after the next poll,
    # of which 2 requests a poll may use 80 %: every 15 minutes still.
    sim.consume(sim.remaining_hourly() - 12)
    await poll(hass, freezer)
    assert slow.last_update_success
    assert slow.update_interval == timedelta(seconds=900)
    # 4 left after the next poll: every 3600 * 2 / (0.8 * 4) s = 37.5 minutes.
    sim.consume(4)
    await poll(hass, freezer)
    assert slow.update_interval == timedelta(seconds=2250)

    # The next poll takes the last two; then nothing is sent until the hour
    # the vendor counts has passed, and no 429 is ever met.
    freezer.tick(timedelta(seconds=2251))
    sim.consume(sim.remaining_hourly() - 2)
    await poll(hass, freezer, timedelta(0))
    assert slow.last_update_success
    assert sim.remaining_hourly() == 0
    sent = sim.request_count
    await slow.async_refresh()
    assert not slow.last_update_success
    assert sim.request_count == sent
    extension = next(iter(sim.extensions.values()))
    prefix = f"sensor.{extension.name.lower().replace(' ', '_')}_{extension.number}"
    assert state(hass, f"{prefix}_calls_today").state == STATE_UNAVAILABLE
    assert slow.update_interval is not None
    assert timedelta(minutes=55) < slow.update_interval <= timedelta(hours=1)

    await poll(hass, freezer, slow.update_interval + timedelta(seconds=1))
    assert slow.last_update_success
    assert state(hass, f"{prefix}_calls_today").state != STATE_UNAVAILABLE


async def test_a_day_at_60_an_hour_never_meets_a_429(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Polling as often as the options allow (every 150 s, 48 calls an hour)
    while another application spends 20 an hour: only the headers keep the
    total under 60, by slowing polling down.
    """
    sim = tim4biz_sim
    sim.set_limits(hourly=60)
    entry = tim4biz_entry(sim, slow_interval=150)
    await setup_entry(hass, entry)
    slow = entry.runtime_data.coordinators[Topic.USAGE]
    polls = refused = 0
    start = dt_util.utcnow()
    while dt_util.utcnow() - start < timedelta(days=1):
        for _ in range(int((slow.update_interval or SLOW).total_seconds() // 180)):
            sim.consume(1)  # the other application, once every 3 minutes
        await poll(hass, freezer, (slow.update_interval or SLOW) + timedelta(seconds=1))
        polls += 1
        refused += not slow.last_update_success
        assert sim.remaining_hourly() >= 0
    assert polls > 24 * 4  # faster than the default interval
    assert not issue_registry.async_get_issue(DOMAIN, f"rate_limited_{entry.entry_id}")
    # A 429 from TIM4biz pauses the client's budget: none was met.
    assert entry.runtime_data.client.http.budget._unexplained_429s == 0
    assert refused < polls / 10


async def test_a_missing_licence_raises_a_repair_naming_it(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = tim4biz_sim
    entry = tim4biz_entry(sim)
    await setup_entry(hass, entry)
    sim.revoke_licence("call_accounting")
    await poll(hass, freezer)
    issue = issue_registry.async_get_issue(
        DOMAIN, f"missing_permission_slow_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": "TIM4biz",
        "title_plain": "TIM4biz",
        "permission": "call accounting",
    }
    extension = next(iter(sim.extensions.values()))
    prefix = f"sensor.{extension.name.lower().replace(' ', '_')}_{extension.number}"
    assert state(hass, f"{prefix}_calls_today").state == STATE_UNAVAILABLE
    # What does not need the licence stays.
    left = state(hass, "sensor.tim4biz_api_user_example_com_api_calls_left_this_hour")
    assert int(left.state) == sim.remaining_hourly()

    sim.grant_licence("call_accounting")
    await poll(hass, freezer)
    assert (
        issue_registry.async_get_issue(
            DOMAIN, f"missing_permission_slow_{entry.entry_id}"
        )
        is None
    )
    assert state(hass, f"{prefix}_calls_today").state != STATE_UNAVAILABLE


async def test_a_new_api_address_is_a_fixable_repair(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    tim4biz_sim: Tim4bizSimulator,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = tim4biz_sim
    entry = tim4biz_entry(sim)
    await setup_entry(hass, entry)
    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    issue_id = f"api_url_moved_{entry.entry_id}"
    # Only an https address of TIM4biz's may receive the credentials.
    sim.api_url = "http://evil.example/api/"
    await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    moved = "https://api2.tim4biz.com/api/"
    sim.api_url = moved
    await poll(hass, freezer)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.is_fixable

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue_id}
    )
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}")
    assert (await response.json())["type"] == "create_entry"
    await hass.async_block_till_done()
    assert entry.data["url"] == moved
    # The identity does not follow the host: a reauth there is the same account.
    assert entry.unique_id == f"tim4biz_{sim.username.lower()}"


async def test_send_sms_action(
    hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {
            "config_entry_id": entry.entry_id,
            "recipient": "+44 7700 900123",
            "message": "The office alarm went off.",
        },
        blocking=True,
    )
    [sent] = tim4biz_sim.sent_sms
    assert (sent.recipient, sent.message) == (
        "+447700900123",
        "The office alarm went off.",
    )


@pytest.mark.parametrize(
    ("recipient", "message", "key"),
    [
        ("+44 7700 900123", "", "invalid_sms_length"),
        ("+44 7700 900123", "x" * 919, "invalid_sms_length"),
        ("+44 7700 900123", "x" * 5000, "invalid_sms_length"),
        ("call me", "Hi", "invalid_sms_recipient"),
        ("12345", "Hi", "invalid_sms_recipient"),
        ("1" * 65, "Hi", "text_too_long"),
    ],
)
async def test_send_sms_validation(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    recipient: str,
    message: str,
    key: str,
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    tim4biz_sim.reset_counters()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "send_sms",
            {
                "config_entry_id": entry.entry_id,
                "recipient": recipient,
                "message": message,
            },
            blocking=True,
        )
    assert raised.value.translation_key == key
    assert tim4biz_sim.request_count == 0


async def test_send_sms_without_the_messaging_licence(
    hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    tim4biz_sim.revoke_licence("messaging")
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "send_sms",
            {
                "config_entry_id": entry.entry_id,
                "recipient": "+3247012345",
                "message": "x",
            },
            blocking=True,
        )
    assert raised.value.translation_key == "missing_permission"
    assert raised.value.translation_placeholders == {"permission": "messaging"}
    registry = ir.async_get(hass)
    issue = registry.async_get_issue(
        DOMAIN, f"missing_permission_async_send_sms_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": "TIM4biz",
        "title_plain": "TIM4biz",
        "permission": "messaging",
    }
    tim4biz_sim.grant_licence("messaging")
    await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"config_entry_id": entry.entry_id, "recipient": "+3247012345", "message": "x"},
        blocking=True,
    )
    assert (
        registry.async_get_issue(
            DOMAIN, f"missing_permission_async_send_sms_{entry.entry_id}"
        )
        is None
    )


async def test_notify_entity_sends_to_the_recipient_in_the_options(
    hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    # Without a recipient the entity could send nothing: it does not exist.
    assert not hass.states.async_entity_ids(NOTIFY_DOMAIN)

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"slow_interval": 900, "sms_recipient": "not a number"},
    )
    assert result["errors"] == {"sms_recipient": "invalid_sms_recipient"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"slow_interval": 900, "sms_recipient": "+44 7700 900456"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["sms_recipient"] == "+447700900456"
    await hass.async_block_till_done()

    [entity_id] = hass.states.async_entity_ids(NOTIFY_DOMAIN)
    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {ATTR_ENTITY_ID: entity_id, ATTR_MESSAGE: "Hello", "title": "Alarm"},
        blocking=True,
    )
    [sent] = tim4biz_sim.sent_sms
    assert (sent.recipient, sent.message) == ("+447700900456", "Alarm: Hello")

    # Clearing the recipient takes the entity away again.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {"slow_interval": 900, "sms_recipient": ""}
    )
    await hass.async_block_till_done()
    assert not hass.states.async_entity_ids(NOTIFY_DOMAIN)
    assert er.async_get(hass).async_get(entity_id) is None


async def test_diagnostics_hold_no_password(
    hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    dumped = json.dumps(diagnostics, default=str)
    assert tim4biz_sim.password not in dumped
    assert diagnostics["topics"]["rate_limit"]["data"]["hourly_limit"] == 1000


@pytest.mark.minimum_ha
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.NOTIFY])
async def test_platform_snapshot(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    hass.config.currency = "EUR"
    # The SMS entity exists once it has a recipient.
    entry = tim4biz_entry(tim4biz_sim, sms_recipient="+447700900456")
    with patch("custom_components.pbx_hub.PLATFORMS", [platform]):
        await setup_entry(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_an_authentication_recommendation_is_logged_once(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    client = entry.runtime_data.client
    read = type(client).async_read

    async def advised(
        self: PbxClient, topic: Topic, context: ReadContext
    ) -> ReadResult[Any]:
        result = await read(self, topic, context)
        return replace(result, notices={Notice.AUTHENTICATION: "OAUTH"})

    monkeypatch.setattr(type(client), "async_read", advised)
    await poll(hass, freezer)
    await poll(hass, freezer)
    assert caplog.text.count("recommends OAUTH authentication") == 1


async def test_an_extension_with_usage_cannot_be_deleted(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    extension = next(iter(tim4biz_sim.extensions.values()))
    device = find_device(
        device_registry, (DOMAIN, f"{entry.unique_id}_ext_{extension.number}")
    )
    assert device is not None
    assert not await async_remove_config_entry_device(hass, entry, device)
    tim4biz_sim.remove_extension(extension.number)
    await entry.runtime_data.async_refresh(Cadence.SLOW)
    assert await async_remove_config_entry_device(hass, entry, device)

"""Setup, unload, retries, reauth, polling recovery and dynamic devices."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import Cadence, PbxPermissionError, Topic
from custom_components.pbx_hub.client.pbxware import PbxwareClient
from custom_components.pbx_hub.client.stale import STALE_AFTER_POLLS
from custom_components.pbx_hub.const import DOMAIN
from simulator import Fault, PbxwareSimulator, SimulatorBase

from .conftest import find_device, save_options, setup_entry, shown_tracebacks
from .vendors import ENTRIES, pbxware_tenant_entry

pytestmark = pytest.mark.slow

FAST = timedelta(seconds=61)


def _registered_entity(hass: HomeAssistant, ext_number: str) -> str:
    for state in hass.states.async_all("binary_sensor"):
        if state.entity_id.endswith("_registered") and ext_number in state.entity_id:
            return state.entity_id
    raise AssertionError(f"no registered sensor for {ext_number}")


async def test_load_and_unload(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.pbxware_127_0_0_1_cpu_usage") is not None

    assert await hass.config_entries.async_unload(pbxware_entry.entry_id)
    await hass.async_block_till_done()
    assert pbxware_entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.minimum_ha
@pytest.mark.parametrize("vendor", list(ENTRIES))
async def test_every_vendor_loads_and_unloads(
    hass: HomeAssistant, vendor: str, vendor_sim: SimulatorBase
) -> None:
    entry = ENTRIES[vendor](vendor_sim)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert entities
    assert all(
        hass.states.get(entity.entity_id) for entity in entities if not entity.disabled
    )

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize(
    "fault",
    [Fault.SERVER_ERROR, Fault.MALFORMED, Fault.RATE_LIMIT, Fault.PHP_WARNING_ONLY],
)
async def test_setup_retry_when_pbx_fails(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    fault: Fault,
) -> None:
    pbxware_sim.inject(fault)
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_auth_failure_starts_reauth(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    pbxware_sim.inject(Fault.AUTH_REVOKED)
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


@pytest.mark.parametrize("multi_tenant", [True])
async def test_setup_refused_for_a_permission_retries_without_reauth(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A key that lacks a right identification needs (a tenant's entry
    checks the tenant with tenant.list): new credentials would not help, so
    no reauth. A repair issue names the right; setup retries and loads once
    it is granted.
    """
    entry = pbxware_tenant_entry(pbxware_sim)
    pbxware_sim.inject(Fault.FORBIDDEN, actions=["pbxware.tenant.list"])
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "missing_permission"
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    issue_id = f"missing_permission_setup_{entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    # PBXware's advice only.
    assert issue.translation_key == "missing_permission_pbxware"
    assert issue.translation_placeholders == {
        "title": entry.title,
        "title_plain": entry.title,
        "permission": "pbxware.tenant.list",
    }

    pbxware_sim.clear_faults()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_setup_goes_on_without_the_licence_info(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A key that may do all but ``license.info`` loads the entry: the PBX's
    device has no model or version, everything else is there.
    """
    pbxware_sim.inject(Fault.FORBIDDEN, actions=["pbxware.license.info"])
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.pbxware_127_0_0_1_cpu_usage").state == str(
        float(pbxware_sim.cpu)
    )
    assert _registered_entity(hass, next(iter(pbxware_sim.tenant().extensions)))
    device = find_device(device_registry, (DOMAIN, "127.0.0.1"))
    assert device is not None
    assert (device.model, device.sw_version) == (None, None)
    assert not [
        issue
        for (domain, issue) in issue_registry.issues
        if domain == DOMAIN and "permission" in issue
    ]


DASHBOARD = [
    f"pbxware.dashboard.{name}"
    for name in (
        "cpu",
        "memory",
        "disk_usage",
        "ext_online",
        "calls",
        "sip_registrations",
        "licensing",
        "services",
    )
]
"""The actions PBXware's status is read with."""
STATUS_ENTITIES = (
    "sensor.pbxware_127_0_0_1_cpu_usage",
    "sensor.pbxware_127_0_0_1_calls_today",
    "binary_sensor.pbxware_127_0_0_1_services",
)


async def test_a_topic_granted_after_setup_gets_its_entities(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The status was refused at setup, so none of its entities could be
    made; once the right is granted, the next poll adds them, without a
    reload, showing the PBX's values, and the repair goes.
    """
    pbxware_sim.inject(Fault.FORBIDDEN, actions=DASHBOARD)
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert all(hass.states.get(e) is None for e in STATUS_ENTITIES)
    issue_id = f"missing_permission_fast_{pbxware_entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    pbxware_sim.clear_faults()
    pbxware_sim.services["ntpd"] = "stopped"
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    cpu, calls_today, services = (hass.states.get(e) for e in STATUS_ENTITIES)
    assert cpu.state == str(float(pbxware_sim.cpu))
    assert calls_today.state == str(pbxware_sim.tenant().calls_today)
    assert services.state == "on"
    assert services.attributes["not_running"] == ["ntpd"]
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    # Added once: the polls after do not add them again.
    entities = len(hass.states.async_all())
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(hass.states.async_all()) == entities


async def test_a_refusal_that_names_no_right_reads_well(
    hass: HomeAssistant,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A bare 403 (a proxy's) names no right: its message must not stand in
    for one. Setup says the PBX refused this request; a poll names the topic.
    """
    refused = PbxPermissionError(
        "127.0.0.1 refused the request: the account lacks a right or licence "
        "for it (HTTP 403)"
    )
    with patch.object(PbxwareClient, "async_identify", side_effect=refused):
        await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.SETUP_RETRY
    assert pbxware_entry.error_reason_translation_key == "missing_permission_unnamed"
    issue_id = f"missing_permission_setup_{pbxware_entry.entry_id}"
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "missing_permission_unnamed_pbxware"
    # Escaped for the markdown description, plain for the issue's title.
    assert issue.translation_placeholders == {
        "title": r"PBXware 127\.0\.0\.1",
        "title_plain": "PBXware 127.0.0.1",
    }

    with patch.object(PbxwareClient, "async_get_status", side_effect=refused):
        assert await hass.config_entries.async_reload(pbxware_entry.entry_id)
        await hass.async_block_till_done()
        assert pbxware_entry.state is ConfigEntryState.LOADED
    issue = issue_registry.async_get_issue(
        DOMAIN, f"missing_permission_fast_{pbxware_entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "missing_permission_pbxware"
    assert issue.translation_placeholders["permission"] == "status"


@pytest.mark.parametrize(
    "fault",
    [
        Fault.SERVER_ERROR,
        Fault.RATE_LIMIT,
        Fault.MALFORMED,
        Fault.TRUNCATED,
        Fault.PHP_WARNING_ONLY,
    ],
)
async def test_poll_failure_unavailable_then_recovers(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    fault: Fault,
) -> None:
    await setup_entry(hass, pbxware_entry)
    runtime = pbxware_entry.runtime_data
    cpu = "sensor.pbxware_127_0_0_1_cpu_usage"
    assert hass.states.get(cpu).state != STATE_UNAVAILABLE

    pbxware_sim.inject(fault, retry_after=1)
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(cpu).state == STATE_UNAVAILABLE
    # Once per failing topic, not per entity.
    for coordinator in runtime.coordinators.values():
        logged = caplog.text.count(f"Error fetching {coordinator.name} data")
        assert logged == (0 if coordinator.last_update_success else 1)
    assert not shown_tracebacks(caplog.records)

    pbxware_sim.clear_faults()
    runtime.client.http.budget.resume()  # the 429 pause has passed
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(cpu).state != STATE_UNAVAILABLE
    assert "Fetching pbx_hub" in caplog.text or "back online" in caplog.text


async def test_php_warning_before_json_is_tolerated(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    pbxware_sim.inject(Fault.PHP_WARNING)
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.pbxware_127_0_0_1_cpu_usage").state not in (
        STATE_UNAVAILABLE,
        "unknown",
    )


async def test_auth_revoked_while_polling_starts_reauth(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, pbxware_entry)
    pbxware_sim.inject(Fault.AUTH_REVOKED)
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_permission_revoked_while_polling_is_a_repair_not_a_reauth(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The status sensors of a refused topic go unavailable (not unknown)."""
    await setup_entry(hass, pbxware_entry)
    watched = (
        "sensor.pbxware_127_0_0_1_cpu_usage",
        "binary_sensor.pbxware_127_0_0_1_services",
    )
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in watched)
    pbxware_sim.inject(Fault.FORBIDDEN)
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(hass.states.get(e).state == STATE_UNAVAILABLE for e in watched)
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    issue_id = f"missing_permission_fast_{pbxware_entry.entry_id}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None

    pbxware_sim.clear_faults()
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert all(hass.states.get(e).state != STATE_UNAVAILABLE for e in watched)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_extension_devices_follow_the_pbx(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, pbxware_entry)

    def extension_devices() -> set[str]:
        return {
            device.name or ""
            for device in dr.async_entries_for_config_entry(
                device_registry, pbxware_entry.entry_id
            )
            if device.via_device_id is not None
        }

    tenant = pbxware_sim.tenant()
    assert len(extension_devices()) == len(tenant.extensions)
    pbx = find_device(device_registry, (DOMAIN, "127.0.0.1"))
    assert pbx is not None
    assert pbx.manufacturer == "Bicom Systems"

    removed_id, removed = next(iter(tenant.extensions.items()))
    pbxware_sim.remove_extension(removed_id)
    added = pbxware_sim.add_extension(name="New Hire")

    async def poll() -> set[str]:
        freezer.tick(FAST)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        return extension_devices()

    # A newcomer's device comes with the first list naming it; a device goes
    # only once that many lists in a row lacked its extension.
    names = await poll()
    assert any("New Hire" in name for name in names)
    assert hass.states.get(_registered_entity(hass, added.ext)) is not None
    for _ in range(STALE_AFTER_POLLS - 2):
        names = await poll()
    assert any(removed.name in name for name in names)
    names = await poll()
    assert not any(removed.name in name for name in names)
    assert any("New Hire" in name for name in names)


async def test_timeout_unavailable_then_recovers(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    """Without freezer: a frozen clock would never let the request time out."""
    await setup_entry(hass, pbxware_entry)
    fast = pbxware_entry.runtime_data.coordinators[Topic.STATUS]
    fast.client.http.request_timeout = 0.3
    cpu = "sensor.pbxware_127_0_0_1_cpu_usage"

    pbxware_sim.inject(Fault.TIMEOUT)
    await fast.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(cpu).state == STATE_UNAVAILABLE

    pbxware_sim.clear_faults()
    await fast.async_refresh()
    await hass.async_block_till_done()
    assert hass.states.get(cpu).state != STATE_UNAVAILABLE


async def test_options_change_reloads_with_new_interval(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    runtime = pbxware_entry.runtime_data
    assert {c.update_interval for c in runtime.of(Cadence.FAST)} == {
        timedelta(seconds=60)
    }
    await save_options(hass, pbxware_entry, fast_interval=120, slow_interval=1800)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    runtime = pbxware_entry.runtime_data
    assert {c.update_interval for c in runtime.of(Cadence.FAST)} == {
        timedelta(seconds=120)
    }
    assert {c.update_interval for c in runtime.of(Cadence.SLOW)} == {
        timedelta(seconds=1800)
    }


async def test_failing_dids_do_not_block_the_rest(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    """The slow topic fails alone: the PBX loads, DID sensors come when it heals."""
    pbxware_sim.inject(Fault.SERVER_ERROR, actions=["pbxware.did.list"])
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert (
        hass.states.get("sensor.pbxware_127_0_0_1_cpu_usage").state != STATE_UNAVAILABLE
    )
    numbers = [e for e in hass.states.async_entity_ids("sensor") if "_number_" in e]
    assert numbers == []

    pbxware_sim.clear_faults()
    await pbxware_entry.runtime_data.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()
    numbers = [e for e in hass.states.async_entity_ids("sensor") if "_number_" in e]
    assert len(numbers) == len(pbxware_sim.tenant().dids)


async def test_repeated_pbx_429s_raise_and_clear_a_repair_issue(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    await setup_entry(hass, pbxware_entry)
    fast = pbxware_entry.runtime_data.coordinators[Topic.STATUS]
    budget = fast.client.budget
    issue_id = f"rate_limited_{pbxware_entry.entry_id}"

    async def refused_poll() -> None:
        pbxware_sim.inject(Fault.RATE_LIMIT, count=1, retry_after=5)
        budget.resume()  # as if the pause had passed
        await fast.async_refresh()
        assert not fast.last_update_success

    # One 429 is not worth a repair; our own budget pause is not the PBX refusing.
    await refused_poll()
    await fast.async_refresh()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await refused_poll()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await refused_poll()
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "rate_limited"

    budget.resume()
    await fast.async_refresh()
    assert fast.last_update_success
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None

    # Removing the entry takes a standing issue with it.
    for _ in range(3):
        await refused_poll()
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    await hass.config_entries.async_remove(pbxware_entry.entry_id)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_poll_listeners_hear_the_data_the_entities_show(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A listener runs once the poll is the coordinator's data, not before."""
    await setup_entry(hass, pbxware_entry)
    fast = pbxware_entry.runtime_data.coordinators[Topic.EXTENSIONS]
    heard: list[bool] = []
    fast.async_add_poll_listener(lambda data: heard.append(data is fast.data))
    ext = next(iter(pbxware_sim.tenant().extensions.values()))
    ext.dnd = not ext.dnd
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert heard == [True]


async def test_a_failing_poll_listener_does_not_fail_the_poll(
    hass: HomeAssistant,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its error is logged; the entities stay available."""
    await setup_entry(hass, pbxware_entry)
    fast = pbxware_entry.runtime_data.coordinators[Topic.STATUS]

    def broken(data: object) -> None:
        raise RuntimeError("listener bug")

    fast.async_add_poll_listener(broken)
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fast.last_update_success
    assert hass.states.get("sensor.pbxware_127_0_0_1_cpu_usage").state != (
        STATE_UNAVAILABLE
    )
    assert "Error in a poll listener" in caplog.text
    assert "listener bug" in caplog.text


async def test_setup_and_poll_issues_name_their_entry_alike(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """One helper creates both: the setup's issue carries the same data."""
    entry = pbxware_tenant_entry(pbxware_sim)
    pbxware_sim.inject(Fault.FORBIDDEN, actions=["pbxware.tenant.list"])
    await setup_entry(hass, entry)
    issue = issue_registry.async_get_issue(
        DOMAIN, f"missing_permission_setup_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.data == {
        "entry_id": entry.entry_id,
        "permission": "pbxware.tenant.list",
    }


async def test_a_failing_topic_fails_alone(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Live calls failing make only their own sensor unavailable: the status
    and extension entities, read at the same cadence, stay.
    """
    await setup_entry(hass, pbxware_entry)
    live = "sensor.pbxware_127_0_0_1_active_calls"
    cpu = "sensor.pbxware_127_0_0_1_cpu_usage"
    registered = [
        e for e in hass.states.async_entity_ids("binary_sensor") if "registered" in e
    ]
    assert registered

    pbxware_sim.inject(Fault.SERVER_ERROR, actions=["pbxware.monitor.live_calls"])
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(live).state == STATE_UNAVAILABLE
    assert hass.states.get(cpu).state != STATE_UNAVAILABLE
    assert all(
        hass.states.get(entity).state != STATE_UNAVAILABLE for entity in registered
    )

    pbxware_sim.clear_faults()
    freezer.tick(FAST)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(live).state != STATE_UNAVAILABLE

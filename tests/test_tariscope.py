"""Tariscope end to end: config flow, subscriber accounts, a week of 1-hour
tokens, the method-rights repair and ``get_charges``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
import json
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
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
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.pbx_hub import async_remove_config_entry_device
from custom_components.pbx_hub.client import (
    AccountSelection,
    Cadence,
    PbxFact,
    Topic,
    account_selection,
    option_list,
)
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.diagnostics import async_get_config_entry_diagnostics
from simulator import TariscopeSimulator
from simulator.tariscope import METHODS

from .conftest import find_device, setup_entry
from .vendors import tariscope_entry

pytestmark = [pytest.mark.slow, pytest.mark.freeze_time("2026-11-25T12:00:00-08:00")]


def ids(sim: TariscopeSimulator) -> list[str]:
    return [str(subscriber_id) for subscriber_id in sim.subscribers]


def state(hass: HomeAssistant, entity_id: str) -> Any:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


def subscriber_slug(subscriber: Any) -> str:
    """A subscriber's device is named "<full name> (<id>)"."""
    return slug(f"{subscriber.fullname} {subscriber.id}")


@pytest.mark.minimum_ha
async def test_config_flow(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    sim = tariscope_sim
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "tariscope"}
    )
    assert result["step_id"] == "tariscope"
    form = {"url": sim.url, "username": sim.username, "password": sim.password}
    sim.set_rights(sim.username, [m for m in METHODS if m != "tariscope.serial"])
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["errors"] == {"base": "missing_permission"}
    sim.set_rights(sim.username, None)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == sim.serial


async def test_subscriber_accounts_and_system_facts(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    sim = tariscope_sim
    chosen = ids(sim)[0]
    entry = tariscope_entry(sim, subscribers=chosen, currency="UAH")
    await setup_entry(hass, entry)
    subscriber = sim.subscriber(int(chosen))
    today = dt_util.now().date()
    summary = sim.summary(int(chosen), today.year, today.month)
    prefix = f"sensor.{subscriber_slug(subscriber)}"
    balance = state(hass, f"{prefix}_balance")
    assert float(balance.state) == pytest.approx(float(summary.end_debt))
    assert balance.attributes["unit_of_measurement"] == "UAH"
    assert float(state(hass, f"{prefix}_charges_this_month").state) == pytest.approx(
        float(summary.charge)
    )
    assert float(state(hass, f"{prefix}_payments_this_month").state) == pytest.approx(
        float(summary.payment)
    )
    # The polled month's start, in Home Assistant's time zone.
    assert state(hass, f"{prefix}_charges_this_month").attributes["last_reset"] == (
        "2026-11-01T00:00:00-07:00"
    )
    assert "last_reset" not in balance.attributes or (
        balance.attributes["last_reset"] is None
    )
    assert state(hass, "sensor.tariscope_127_0_0_1_serial_number").state == sim.serial
    assert state(hass, "sensor.tariscope_127_0_0_1_build").state == str(sim.build)


async def test_a_week_of_one_hour_tokens(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every poll succeeds, and the client signs in about once an hour: as
    often as tokens expire, never more.
    """
    sim = tariscope_sim
    entry = tariscope_entry(sim, subscribers=",".join(ids(sim)[:2]), slow_interval=1800)
    await setup_entry(hass, entry)
    slow = entry.runtime_data.coordinators[Topic.ACCOUNTS]
    client = entry.runtime_data.client
    hours = 7 * 24
    for _ in range(hours * 2):
        freezer.tick(timedelta(seconds=1801))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert slow.last_update_success
    first = ids(sim)[0]
    name = subscriber_slug(sim.subscriber(int(first)))
    assert state(hass, f"sensor.{name}_balance").state != STATE_UNAVAILABLE
    assert hours - 2 <= client.logins <= hours + 2
    assert sim.tokens_issued == client.logins


async def test_a_revoked_method_right_raises_a_repair_naming_it(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    sim = tariscope_sim
    entry = tariscope_entry(sim, subscribers=ids(sim)[0])
    await setup_entry(hass, entry)
    name = subscriber_slug(sim.subscriber(int(ids(sim)[0])))
    sim.set_rights(sim.username, [m for m in METHODS if m != "accounts.summary"])
    await entry.runtime_data.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()

    issue = issue_registry.async_get_issue(
        DOMAIN, f"missing_permission_slow_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {
        "title": "Tariscope",
        "title_plain": "Tariscope",
        "permission": "accounts.summary",
    }
    assert state(hass, f"sensor.{name}_balance").state == STATE_UNAVAILABLE
    # What does not need the right stays.
    assert state(hass, "sensor.tariscope_127_0_0_1_serial_number").state == sim.serial

    sim.set_rights(sim.username, None)
    await entry.runtime_data.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()
    assert (
        issue_registry.async_get_issue(
            DOMAIN, f"missing_permission_slow_{entry.entry_id}"
        )
        is None
    )
    assert state(hass, f"sensor.{name}_balance").state != STATE_UNAVAILABLE


async def test_get_charges(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    snapshot: SnapshotAssertion,
) -> None:
    sim = tariscope_sim
    entry = tariscope_entry(sim)
    await setup_entry(hass, entry)
    subscriber = sim.subscriber(int(ids(sim)[1]))
    response = await hass.services.async_call(
        DOMAIN,
        "get_charges",
        {
            "config_entry_id": entry.entry_id,
            "subscriber": subscriber.email,
            "start": "2026-11-01",
            "end": "2026-11-25",
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    start = dt_util.parse_datetime("2026-11-01T00:00:00+00:00")
    end = dt_util.parse_datetime("2026-11-26T00:00:00+00:00")
    assert start is not None
    assert end is not None
    expected = sim.charges_between(subscriber.id, start, end)
    charges = response["charges"]
    assert isinstance(charges, list)
    assert [c["id"] for c in charges] == [str(c.id) for c in expected]
    assert response["total"] == pytest.approx(float(sum(c.amount for c in expected)))
    assert response == snapshot


async def test_get_charges_takes_dates_as_yaml_gives_them(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    """Unquoted dates in YAML arrive as date objects, not text."""
    entry = tariscope_entry(tariscope_sim)
    await setup_entry(hass, entry)
    response = await hass.services.async_call(
        DOMAIN,
        "get_charges",
        {
            "config_entry_id": entry.entry_id,
            "subscriber": ids(tariscope_sim)[0],
            "start": date(2026, 11, 1),
            "end": date(2026, 11, 25),
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert (response["start"], response["end"]) == ("2026-11-01", "2026-11-25")


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"start": "2026-11-10", "end": "2026-11-01"}, "invalid_period"),
        ({"start": "2024-01-01", "end": "2026-11-01"}, "invalid_period"),
        ({"subscriber": "999999"}, "invalid_input"),
        ({"start": "2026-13-01"}, "invalid_date"),
        ({"end": "yesterday"}, "invalid_date"),
        ({"subscriber": "x" * 255}, "text_too_long"),
        ({"subscriber": ""}, "text_empty"),
    ],
)
async def test_get_charges_validation(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    data: dict[str, str],
    key: str,
) -> None:
    entry = tariscope_entry(tariscope_sim)
    await setup_entry(hass, entry)
    call = {
        "config_entry_id": entry.entry_id,
        "subscriber": ids(tariscope_sim)[0],
        "start": "2026-11-01",
        "end": "2026-11-25",
        **data,
    }
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "get_charges", call, blocking=True, return_response=True
        )
    assert raised.value.translation_key == key


async def test_options_choose_subscribers(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    sim = tariscope_sim
    entry = tariscope_entry(sim)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    base = {"slow_interval": 900}  # nothing is polled fast: no status interval
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "subscribers": "999999"}
    )
    assert result["errors"] == {"subscribers": "subscriber_not_found"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**base, "subscribers": ids(sim)[0], "currency": "euro"}
    )
    assert result["errors"] == {"currency": "invalid_currency"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**base, "subscribers": ids(sim)[0], "departments": "2", "currency": "eur"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["currency"] == "EUR"
    await hass.async_block_till_done()
    accounts = entry.runtime_data.data(Topic.ACCOUNTS).accounts
    assert accounts is not None
    members = {str(s.id) for s in sim.subscribers.values() if s.department_id == 2}
    assert set(accounts) == members | {ids(sim)[0]}


async def test_diagnostics_hold_no_password_or_names(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    sim = tariscope_sim
    entry = tariscope_entry(sim, subscribers=ids(sim)[0])
    await setup_entry(hass, entry)
    dumped = json.dumps(
        await async_get_config_entry_diagnostics(hass, entry), default=str
    )
    assert sim.password not in dumped
    subscriber = sim.subscriber(int(ids(sim)[0]))
    assert subscriber.fullname not in dumped
    assert subscriber.email not in dumped
    assert sim.serial not in dumped


async def test_diagnostics_snapshot(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator, snapshot: SnapshotAssertion
) -> None:
    """Tariscope reports facts (database, build, summary counts): shown by key."""
    entry = tariscope_entry(tariscope_sim, subscribers=ids(tariscope_sim)[0])
    await setup_entry(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["info"]["facts"]
    # The topics carry this month's charges, which move with the calendar.
    assert diagnostics == snapshot(
        exclude=props("entry_id", "created_at", "modified_at", "topics")
    )


async def test_diagnostics_redact_a_fact_by_its_name(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    """A fact is shown under its name, where redaction by key reaches it."""
    entry = tariscope_entry(tariscope_sim, subscribers=ids(tariscope_sim)[0])
    await setup_entry(hass, entry)
    runtime = entry.runtime_data
    planted = PbxFact(key="email", value="admin@pbx.example")
    runtime.info = replace(runtime.info, facts=(*runtime.info.facts, planted))
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["info"]["facts"]["email"] == "**REDACTED**"
    assert planted.value not in json.dumps(diagnostics, default=str)


async def test_a_refused_list_leaves_the_other_subscribers(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Followed by id and by node; the node list's right is revoked: the
    subscriber chosen by id stays, and the repair names the list's right.
    """
    sim = tariscope_sim
    chosen = ids(sim)[0]
    entry = tariscope_entry(sim, subscribers=chosen, nodes="2")
    await setup_entry(hass, entry)
    sim.set_rights(sim.username, [m for m in METHODS if m != "subscriber.list.node"])
    await entry.runtime_data.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()
    name = subscriber_slug(sim.subscriber(int(chosen)))
    assert state(hass, f"sensor.{name}_balance").state != STATE_UNAVAILABLE
    issue = issue_registry.async_get_issue(
        DOMAIN, f"missing_permission_slow_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders["permission"] == "subscriber.list.node"


async def test_a_deleted_subscriber_leaves_the_others_and_is_logged_once(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A followed subscriber deleted in Tariscope: only its entities go
    unavailable, a warning names it once, and they come back with it.
    """
    sim = tariscope_sim
    deleted, kept = ids(sim)[:2]
    entry = tariscope_entry(sim, subscribers=f"{deleted},{kept}")
    await setup_entry(hass, entry)
    slow = entry.runtime_data.coordinators[Topic.ACCOUNTS]
    gone = f"sensor.{subscriber_slug(sim.subscriber(int(deleted)))}_balance"
    other = f"sensor.{subscriber_slug(sim.subscriber(int(kept)))}_balance"
    assert state(hass, gone).state != STATE_UNAVAILABLE
    subscriber = sim.subscriber(int(deleted))

    sim.remove_subscriber(int(deleted))
    for _ in range(2):
        await slow.async_refresh()
        await hass.async_block_till_done()
        assert slow.last_update_success
        assert state(hass, gone).state == STATE_UNAVAILABLE
        assert state(hass, other).state != STATE_UNAVAILABLE
    warnings = [
        record
        for record in caplog.records
        if record.levelname == "WARNING" and "no longer exists" in record.getMessage()
    ]
    assert len(warnings) == 1
    assert f"subscriber {deleted}," in warnings[0].getMessage()

    sim.subscribers[subscriber.id] = subscriber
    await slow.async_refresh()
    await hass.async_block_till_done()
    assert state(hass, gone).state != STATE_UNAVAILABLE


async def test_a_followed_subscriber_cannot_be_deleted(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    chosen = ids(tariscope_sim)[0]
    entry = tariscope_entry(tariscope_sim, subscribers=chosen)
    await setup_entry(hass, entry)
    device = find_device(
        device_registry, (DOMAIN, f"{entry.unique_id}_subscriber_{chosen}")
    )
    assert device is not None
    assert not await async_remove_config_entry_device(hass, entry, device)


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("Sales Team", ("Sales Team",)),
        ("Sales Team, 2", ("Sales Team", "2")),
        ("Sales Team\nHead office PBX\n", ("Sales Team", "Head office PBX")),
        (" 1 2 ", ("1", "2")),
        ("1 2, 3", ("1", "2", "3")),
        ("ann@example.com 7", ("ann@example.com", "7")),
        ("2,2, ,", ("2",)),
        ("", ()),
        (None, ()),
    ],
)
def test_list_options_are_separated_by_commas_or_lines(
    text: str | None, values: tuple[str, ...]
) -> None:
    """A name with spaces stays whole; options saved when spaces separated
    ids too ("1 2") read as before.
    """
    assert option_list(text) == values
    assert account_selection({"departments": text, "nodes": text}) == (
        AccountSelection(departments=values, nodes=values)
    )


async def test_a_department_with_spaces_is_asked_for_whole(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    """The options flow asks Tariscope for "Sales Team", not for "Sales" and
    "Team"; the simulator knows departments by id only, so it is not found.
    """
    entry = tariscope_entry(tariscope_sim)
    await setup_entry(hass, entry)
    tariscope_sim.reset_counters()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"slow_interval": 900, "departments": "Sales Team, 2"}
    )
    asked = sorted(
        dict(request.query)["id"]
        for request in tariscope_sim.recent_requests
        if "/subscriber/list/department" in request.path
    )
    assert asked == ["2", "Sales Team"]
    assert result["errors"] == {"subscribers": "subscriber_not_found"}


async def test_departments_saved_space_separated_still_load(
    hass: HomeAssistant, tariscope_sim: TariscopeSimulator
) -> None:
    sim = tariscope_sim
    entry = tariscope_entry(sim, departments="1 2")
    await setup_entry(hass, entry)
    accounts = entry.runtime_data.data(Topic.ACCOUNTS).accounts
    assert accounts is not None
    members = {str(s.id) for s in sim.subscribers.values() if s.department_id in (1, 2)}
    assert members
    assert set(accounts) == members


@pytest.mark.minimum_ha
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_platform_snapshot(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    entry = tariscope_entry(tariscope_sim)
    with patch("custom_components.pbx_hub.PLATFORMS", [Platform.SENSOR]):
        await setup_entry(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_a_token_with_a_line_break_is_a_broken_answer(
    hass: HomeAssistant,
    tariscope_sim: TariscopeSimulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not refused credentials: no reauthentication starts, setup retries."""
    issue_token = TariscopeSimulator.issue_token

    def broken_token(sim: TariscopeSimulator, *args: Any, **kw: Any) -> str:
        return issue_token(sim, *args, **kw) + "\r\nX-Injected: 1"

    monkeypatch.setattr(TariscopeSimulator, "issue_token", broken_token)
    entry = tariscope_entry(tariscope_sim)
    await setup_entry(hass, entry)
    assert entry.state is config_entries.ConfigEntryState.SETUP_RETRY
    assert not [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"]["source"] == config_entries.SOURCE_REAUTH
    ]
    # Signed in, and nothing sent with the broken token.
    assert tariscope_sim.request_count == 1

"""Bounded work, end to end through Home Assistant (issue 18, items 2 and 4):
a PBX that lists more than a topic takes gets a repair issue and changes
nothing; extreme but valid values show as unknown, and every other entity
keeps updating, with no "Task exception was never retrieved".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import logging
from pathlib import Path
import re
from typing import Any

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
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

from custom_components.pbx_hub.client import VENDORS, Capability, Topic
from custom_components.pbx_hub.client.pbxware import PbxwareClient
from custom_components.pbx_hub.const import DOMAIN
from simulator import PbxwareSimulator
from tests.loopback import loopback_server

from .conftest import setup_entry
from .vendors import voipcloud_entry

NOW = datetime(2026, 11, 26, 4, tzinfo=UTC)
"""20:00 in Home Assistant's test zone: calls of the hours before are today's."""
EXTREME_TIME = "9999-12-31T23:59:59-14:00"


@pytest.fixture
def sim_extensions() -> int:
    return 2


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A fast and a slow poll, as Home Assistant's timers run them."""
    freezer.tick(timedelta(minutes=15, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _entity(hass: HomeAssistant, entry: MockConfigEntry, ending: str) -> str:
    (entity_id,) = (
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if item.unique_id.endswith(ending)
    )
    return entity_id


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


def _last_call(hass: HomeAssistant, entity_id: str) -> object:
    """The time of the last call, which the calls-today sensor carries."""
    state = hass.states.get(entity_id)
    assert state is not None
    return state.attributes["last_call"]


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What went wrong unseen: a traceback, or a task nobody awaited."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
        and (record.exc_info is not None or "never retrieved" in record.getMessage())
    ]


def _devices(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    return {
        identifier
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        for _, identifier in device.identifiers
    }


# ---------------------------------------------------------------- item 2

DATA_UPDATES = Path(__file__).parent.parent / "docs" / "data-updates.md"
_MAXIMUM_ROW = re.compile(
    r"\| (?P<vendor>[^|]+) \| `(?P<topic>\w+)`: [^|]+ \| (?P<at_most>[\d,]+) \|"
)


def test_the_docs_list_every_maximum_of_items() -> None:
    """The table users read is the one the client applies."""
    text = DATA_UPDATES.read_text()
    table = text[text.index("<!-- maximum-of-items") :].split("\n\n", 1)[0]
    listed = {
        (match["vendor"], match["topic"]): int(match["at_most"].replace(",", ""))
        for match in _MAXIMUM_ROW.finditer(table)
    }
    declared = {
        (spec.name.removeprefix("Bicom "), topic.value): maximum
        for spec in VENDORS.values()
        for topic, maximum in spec.client_class.max_items.items()
    }
    assert listed == declared


@pytest.mark.slow
async def test_more_extensions_than_the_maximum_raise_a_repair_and_change_nothing(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """20,000 rows once took 39 s to set up 20,001 devices."""
    await setup_entry(hass, pbxware_entry)
    devices = _devices(hass, pbxware_entry)
    entities = _unique_ids(hass, pbxware_entry)
    maximum = PbxwareClient.max_items[Capability.EXTENSIONS]
    tenant = pbxware_sim.tenant()
    added = [
        pbxware_sim.add_extension().id
        for _ in range(maximum + 1 - len(tenant.extensions))
    ]

    await _poll(hass, freezer)

    fast = pbxware_entry.runtime_data.coordinators[Topic.EXTENSIONS]
    assert not fast.last_update_success
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"too_many_items_fast_{pbxware_entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "too_many_items"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["topic"] == "extensions"
    assert issue.translation_placeholders["maximum"] == str(maximum)
    # Refused whole: not one device or entity more.
    assert _devices(hass, pbxware_entry) == devices
    assert _unique_ids(hass, pbxware_entry) == entities
    # The slow poll (DIDs) goes on.
    assert pbxware_entry.runtime_data.coordinators[Topic.DIDS].last_update_success

    for ext_id in added[1:]:
        pbxware_sim.remove_extension(ext_id)
    await _poll(hass, freezer)
    assert fast.last_update_success
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, f"too_many_items_fast_{pbxware_entry.entry_id}"
    )
    assert len(_devices(hass, pbxware_entry)) == len(devices) + 1
    assert not _errors(caplog)


# ---------------------------------------------------------------- item 4


@pytest.mark.slow
async def test_a_licence_in_use_1e308_shows_unknown_and_the_rest_updates(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The licence percentage's state write once raised OverflowError: the
    listeners after it (the DND switches, the adders of new extensions)
    stopped updating, and every poll logged "Task exception was never
    retrieved", while the poll counted as a success.
    """
    await setup_entry(hass, pbxware_entry)
    licence = _entity(hass, pbxware_entry, "_license_ivr")
    assert _state(hass, licence) not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    tenant = pbxware_sim.tenant()
    tenant.licensing["ivr"].inuse = 1e308  # type: ignore[assignment]

    await _poll(hass, freezer)
    assert _state(hass, licence) == STATE_UNKNOWN

    # Other entities go on: a DND set on the PBX, and a new extension.
    ext_id, extension = next(iter(tenant.extensions.items()))
    extension.dnd = True
    new = pbxware_sim.add_extension()
    await _poll(hass, freezer)
    assert _state(hass, _entity(hass, pbxware_entry, f"_ext_{ext_id}_dnd")) == STATE_ON
    assert _state(hass, _entity(hass, pbxware_entry, f"_ext_{new.id}_dnd"))
    assert _state(hass, licence) == STATE_UNKNOWN
    assert not _errors(caplog)


@pytest.fixture
async def voipcloud_rows() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A VoIPcloud that lists the user calls a test puts in its list."""
    rows: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.Response:
        endpoint = request.path.rsplit("/", 1)[-1]
        data: object = []
        if endpoint == "get-system-status":
            data = {"status": "operational"}
        elif endpoint == "get-user-calls" and request.query.get("offset") == "0":
            data = sorted(rows, key=lambda row: row["unique_call_id"], reverse=True)
        return web.json_response(
            {"status": "success", "message": "OK", "code": 200, "data": data}
        )

    async with loopback_server(handler) as server:
        yield str(server.make_url("")).rstrip("/"), rows


def _call(call_id: int, user: str, start: str) -> dict[str, Any]:
    """A user's ended outbound call of a minute, as the API lists it."""
    return {
        "unique_call_id": str(call_id),
        "user_number": user,
        "user_name": f"User {user}",
        "is_inbound": 0,
        "caller_id": "61300123456",
        "dest_number": "61412345678",
        "call_start_at": start,
        "connected_at": start,
        "call_finished_at": start,
        "conversation_duration": 60,
    }


@pytest.mark.slow
async def test_a_call_starting_in_year_9999_is_left_out_and_the_rest_updates(
    hass: HomeAssistant,
    voipcloud_rows: tuple[str, list[dict[str, Any]]],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``call_start_at`` 9999-12-31T23:59:59-14:00 once broke the last-call
    timestamp sensor (its UTC time is in year 10000), with the same
    consequences as above. Its start unknown, the call cannot be counted:
    the user's figures are those of its other calls.
    """
    freezer.move_to(NOW)
    url, rows = voipcloud_rows
    rows += [
        _call(101, "1001", "2026-11-26T02:00:00Z"),
        _call(102, "1001", EXTREME_TIME),
        _call(103, "1002", EXTREME_TIME),  # this user's only call
    ]
    entry = voipcloud_entry(_FakeSim(url))
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    calls_today = _entity(hass, entry, "_ext_1001_calls_today")
    assert _last_call(hass, calls_today) == "2026-11-26T02:00:00+00:00"
    assert _state(hass, calls_today) == "1"
    assert not any("_ext_1002_" in entity for entity in _unique_ids(hass, entry))

    # Later calls, of that user and of a new one, show at the next poll.
    rows += [
        _call(104, "1001", "2026-11-26T03:00:00Z"),
        _call(105, "1003", "2026-11-26T03:30:00Z"),
    ]
    await _poll(hass, freezer)
    assert _last_call(hass, calls_today) == "2026-11-26T03:00:00+00:00"
    assert _state(hass, calls_today) == "2"
    assert _last_call(hass, _entity(hass, entry, "_ext_1003_calls_today")) == (
        "2026-11-26T03:30:00+00:00"
    )
    assert not _errors(caplog)


class _FakeSim:
    """What ``voipcloud_entry`` reads of a simulator: its URL and token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.token = "hostile-server-token-0123456789"


def _unique_ids(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    return {
        item.unique_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
    }

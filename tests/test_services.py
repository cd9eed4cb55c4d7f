"""The pbx_hub.set_did_route and pbx_hub.set_did_route_plan actions, and how
actions report a client's errors.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.pbx_hub.client import (
    PbxPermissionError,
    Topic,
)
from custom_components.pbx_hub.client.pbxware import PbxwareClient
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.service_schemas import check_input
from simulator import Fault, PbxwareSimulator, SimulatorBase

from .conftest import setup_entry
from .vendors import ENTRIES

pytestmark = pytest.mark.slow


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> MockConfigEntry:
    await setup_entry(hass, pbxware_entry)
    return pbxware_entry


async def _route(hass: HomeAssistant, **data: Any) -> Any:
    return await hass.services.async_call(
        DOMAIN, "set_did_route", data, blocking=True, return_response=True
    )


async def test_set_did_route(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    loaded_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    did_id, did = next(iter(pbxware_sim.tenant().dids.items()))
    response = await _route(
        hass,
        config_entry_id=loaded_entry.entry_id,
        did=did.number,
        destination_type="voicemail",
        destination="531",
    )
    assert response == snapshot
    changed = pbxware_sim.tenant().dids[did_id]
    assert changed.destination == "531"
    state = next(
        s
        for s in hass.states.async_all("sensor")
        if s.attributes.get("number") == did.number
    )
    # The state is where the number now rings: a change shows in its history.
    assert state.state == "Voicemail 531"
    assert state.attributes["destination_type"] == "voicemail"
    assert state.attributes["destination"] == "531"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"device_id": "d", "config_entry_id": "e"}, "device_or_entry"),
        ({"number": "0298"}, "target_required"),
        ({"device_id": "d", "user_number": "201"}, "device_or_user_number"),
    ],
)
def test_the_target_is_a_device_or_an_entry(data: dict[str, str], key: str) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        check_input(data)
    assert raised.value.translation_key == key
    assert raised.value.translation_placeholders == {}


def test_a_device_or_an_entry_is_a_target() -> None:
    check_input({"device_id": "d", "number": "0298"})
    check_input({"config_entry_id": "e", "user_number": "201", "number": "0298"})


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({"did": "999999999"}, "did_not_found", {"did": "999999999"}),
        ({"destination": "not-digits"}, "invalid_input", None),
        ({"config_entry_id": "missing"}, "entry_not_found", {"entry_id": "missing"}),
        ({"destination_type": None}, "destination_required", {}),
        ({"destination": None}, "destination_required", {}),
        ({"did": "1" * 129}, "text_too_long", {"field": "did", "max": "128"}),
    ],
)
async def test_set_did_route_invalid(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    loaded_entry: MockConfigEntry,
    data: dict[str, str | None],
    key: str,
    placeholders: dict[str, str] | None,
) -> None:
    """Bad input is refused in the user's language, the schema's old checks
    (choices, pairs, lengths) included, and the route stays as it was; every
    text, type and date check is in tests/client/test_action_input.py.
    """
    did_id, did = next(iter(pbxware_sim.tenant().dids.items()))
    before = pbxware_sim.tenant().dids[did_id].destination
    call = {
        "config_entry_id": loaded_entry.entry_id,
        "did": did.number,
        "destination_type": "extension",
        "destination": "530",
        **data,
    }
    with pytest.raises(ServiceValidationError) as raised:
        await _route(hass, **{k: v for k, v in call.items() if v is not None})
    assert raised.value.translation_key == key
    if placeholders is not None:
        assert raised.value.translation_placeholders == placeholders
    assert pbxware_sim.tenant().dids[did_id].destination == before


async def test_set_did_route_takes_no_route_plan_fields(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, loaded_entry: MockConfigEntry
) -> None:
    """The route plan has its own action: a call in this action's old form is
    told where its fields went, and PBXware, which routes to destinations, does
    not offer that action.
    """
    did = next(iter(pbxware_sim.tenant().dids.values()))
    call = {"config_entry_id": loaded_entry.entry_id, "did": did.number}
    pbxware_sim.reset_counters()
    for old_form in ({"route": "1"}, {"backup_route": "none"}):
        with pytest.raises(ServiceValidationError) as moved:
            await _route(
                hass,
                **call,
                destination_type="voicemail",
                destination="531",
                **old_form,
            )
        assert moved.value.translation_key == "route_plan_moved"
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_did_route_plan",
            {**call, "route": "Night"},
            blocking=True,
            return_response=True,
        )
    assert raised.value.translation_key == "action_not_supported"
    assert pbxware_sim.request_count == 0


@pytest.mark.parametrize("vendor", ["voipcloud", "tariscope", "tim4biz"])
@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("set_did_route", {"destination_type": "voicemail", "destination": "531"}),
        ("set_did_route_plan", {"route": "Night"}),
    ],
)
async def test_did_actions_refused_where_numbers_cannot_be_routed(
    hass: HomeAssistant,
    vendor: str,
    vendor_sim: SimulatorBase,
    service: str,
    data: dict[str, str],
) -> None:
    """A vendor that routes no numbers is told so, whichever fields are
    given: not to give the other kind of routing's fields.
    """
    entry = ENTRIES[vendor](vendor_sim)
    await setup_entry(hass, entry)
    vendor_sim.reset_counters()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": entry.entry_id, "did": "0123456789", **data},
            blocking=True,
            return_response=True,
        )
    assert raised.value.translation_key == "action_not_supported"
    assert raised.value.translation_placeholders == {"title": entry.title}
    assert vendor_sim.request_count == 0


async def test_set_did_route_unloaded_entry(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, loaded_entry: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await _route(
            hass,
            config_entry_id=loaded_entry.entry_id,
            did="1",
            destination_type="ivr",
            destination="1",
        )
    assert raised.value.translation_key == "entry_not_loaded"


async def test_set_did_route_answered_500_is_unconfirmed(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, loaded_entry: MockConfigEntry
) -> None:
    """A 500 answer to the route write: it reached the PBX, which may have
    routed the number (a PHP error after the change), so the user is told to
    check rather than "cannot connect"; the simulator did not route it.
    """
    did_id, did = next(iter(pbxware_sim.tenant().dids.items()))
    before = pbxware_sim.tenant().dids[did_id].destination
    pbxware_sim.inject(Fault.SERVER_ERROR, count=1)
    with pytest.raises(HomeAssistantError) as raised:
        await _route(
            hass,
            config_entry_id=loaded_entry.entry_id,
            did=did.number,
            destination_type="ivr",
            destination="7",
        )
    assert raised.value.translation_key == "write_unconfirmed"
    assert pbxware_sim.tenant().dids[did_id].destination == before


async def test_a_did_without_its_destination_type_shows_unknown(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    """``did.list`` rows without their ``type`` (the ``missing keys`` fault
    drops it): the route sensor is unknown, not "other", and routing the
    number still checks what it is given, then shows what it was routed to.
    """
    pbxware_sim.inject(Fault.MISSING_KEYS, actions=["pbxware.did.list"])
    await setup_entry(hass, pbxware_entry)
    did_id, did = next(iter(pbxware_sim.tenant().dids.items()))

    def route_sensor() -> Any:
        return next(
            s
            for s in hass.states.async_all("sensor")
            if s.attributes.get("destination") == did.destination
            and s.attributes.get("number") == did_id
        )

    assert route_sensor().state == "unknown"
    with pytest.raises(ServiceValidationError) as raised:
        await _route(
            hass,
            config_entry_id=pbxware_entry.entry_id,
            did=did_id,
            destination_type="other",
            destination="531",
        )
    assert raised.value.translation_key == "invalid_destination_type"
    assert pbxware_sim.tenant().dids[did_id].destination != "531"

    response = await _route(
        hass,
        config_entry_id=pbxware_entry.entry_id,
        did=did_id,
        destination_type="voicemail",
        destination="531",
    )
    assert response["destination_type"] == "voicemail"
    assert pbxware_sim.tenant().dids[did_id].destination == "531"
    did = pbxware_sim.tenant().dids[did_id]
    assert route_sensor().state == "Voicemail 531"


async def test_an_action_refused_without_naming_a_right(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    loaded_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A bare 403 names no right: the error and the repair say the PBX
    refused this request, rather than show the raw message as a right.
    """
    _, did = next(iter(pbxware_sim.tenant().dids.items()))
    refused = PbxPermissionError("127.0.0.1 refused the request (HTTP 403)")
    with (
        patch.object(PbxwareClient, "async_set_did_route", side_effect=refused),
        pytest.raises(HomeAssistantError) as raised,
    ):
        await _route(
            hass,
            config_entry_id=loaded_entry.entry_id,
            did=did.number,
            destination_type="voicemail",
            destination="531",
        )
    assert raised.value.translation_key == "missing_permission_unnamed"
    assert raised.value.translation_placeholders == {}
    issues = [
        issue
        for (domain, _), issue in issue_registry.issues.items()
        if domain == DOMAIN and issue.issue_id.startswith("missing_permission_")
    ]
    assert [issue.translation_key for issue in issues] == ["missing_permission_unnamed"]
    # Escaped for the markdown description, plain for the issue's title.
    assert issues[0].translation_placeholders == {
        "title": r"PBXware 127\.0\.0\.1",
        "title_plain": loaded_entry.title,
    }


def _did_state(hass: HomeAssistant, number: str) -> str:
    """What the DID's sensor shows: where the number rings."""
    return next(
        s
        for s in hass.states.async_all("sensor")
        if s.attributes.get("number") == number
    ).state


@pytest.mark.parametrize(
    ("fault", "carried_out"),
    [
        # The PBX changed the route; only the answer is cut in half.
        (Fault.TRUNCATED, True),
        # A maintenance page: nothing changed, which PBX Hub cannot tell.
        (Fault.MALFORMED, False),
    ],
)
async def test_set_did_route_with_an_unreadable_answer(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    loaded_entry: MockConfigEntry,
    fault: Fault,
    carried_out: bool,
) -> None:
    """An unreadable answer to a write may hide a change made: the user is
    told to check (not "unexpected answer", which invites a retry), the
    sensor shows no change the PBX did not confirm, and a poll is asked for
    that shows what the PBX holds.
    """
    did_id, did = next(iter(pbxware_sim.tenant().dids.items()))
    before = _did_state(hass, did.number)
    assert before != "voicemail"
    pbxware_sim.inject(fault, count=1, actions=["pbxware.did.edit"])
    pbxware_sim.reset_counters()
    with pytest.raises(HomeAssistantError) as raised:
        await _route(
            hass,
            config_entry_id=loaded_entry.entry_id,
            did=did.number,
            destination_type="voicemail",
            destination="531",
        )
    assert raised.value.translation_key == "write_unconfirmed"
    assert "could not be read" in str(raised.value)
    assert (pbxware_sim.tenant().dids[did_id].destination == "531") is carried_out
    # Nothing claimed, but what the requested poll read (the slow cadence
    # would not poll again for minutes).
    await hass.async_block_till_done()
    # The slow cadence's poll, asked for once: the write may have been done.
    assert pbxware_sim.requests_by_action["pbxware.did.list"] == 1
    assert _did_state(hass, did.number) == ("Voicemail 531" if carried_out else before)


@pytest.mark.parametrize(
    ("fault", "key", "carried_out"),
    [
        # Sent, and the answer trickles in past the timeout: the PBX did it.
        (Fault.SLOW_DRIP, "write_unconfirmed", True),
        # Sent, and held past the timeout: it may yet be done.
        (Fault.TIMEOUT, "write_unconfirmed", False),
        # Nothing listening: nothing sent, nothing done.
        (None, "cannot_connect", False),
    ],
)
async def test_dnd_whose_answer_is_lost(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    loaded_entry: MockConfigEntry,
    fault: Fault | None,
    key: str,
    carried_out: bool,
) -> None:
    """A DND switch whose write went out but got no answer in time says it may
    have switched, shows no state of its own guess, and asks for a poll; a
    refused connection is still "cannot connect".
    """
    extension = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    entity_id = next(
        entry.entity_id
        for entry in er.async_entries_for_config_entry(
            er.async_get(hass), loaded_entry.entry_id
        )
        if entry.unique_id.endswith(f"_{extension.id}_dnd")
    )
    assert hass.states.get(entity_id).state == STATE_OFF
    loaded_entry.runtime_data.client.http.request_timeout = 1
    if fault is None:
        await pbxware_sim.refuse_connections()
    else:
        pbxware_sim.inject(
            fault, count=1, latency=0.3, actions=["pbxware.ext.es.dnd.set"]
        )
    pbxware_sim.reset_counters()
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: entity_id}, blocking=True
        )
    assert raised.value.translation_key == key
    assert extension.dnd is carried_out
    await hass.async_block_till_done()
    # A poll (its extension list) asked for exactly when the write may have
    # been done. Refused, one asked for could not be seen here, but it would
    # have failed too and made the switch unavailable.
    unconfirmed = key == "write_unconfirmed"
    assert pbxware_sim.requests_by_action["pbxware.ext.list"] == int(unconfirmed)
    assert loaded_entry.runtime_data.coordinators[Topic.STATUS].last_update_success
    # Refused: no poll asked for, the switch shows what it showed. Otherwise
    # the poll asked for shows what the PBX holds.
    assert hass.states.get(entity_id).state == (STATE_ON if carried_out else STATE_OFF)

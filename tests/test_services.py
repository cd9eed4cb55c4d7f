"""The pbx_hub.set_did_route action."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.pbx_hub.client import PbxPermissionError
from custom_components.pbx_hub.client.pbxware import PbxwareClient
from custom_components.pbx_hub.const import DOMAIN
from simulator import Fault, PbxwareSimulator

from .conftest import setup_entry


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
    assert state.state == "voicemail"
    assert state.attributes["destination"] == "531"


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({"did": "999999999"}, "did_not_found", {"did": "999999999"}),
        ({"destination": "not-digits"}, "invalid_input", None),
        ({"config_entry_id": "missing"}, "entry_not_found", {"entry_id": "missing"}),
        ({"route": "Night"}, "destination_fields", None),
        (
            {"destination_type": "moon"},
            "invalid_destination_type",
            {
                "destination_type": "moon",
                "types": "extension, ring_group, ivr, queue, external, voicemail,"
                " conference",
            },
        ),
        ({"destination_type": None}, "destination_required", {}),
        ({"destination": None}, "destination_required", {}),
        ({"did": "1" * 129}, "text_too_long", {"field": "did", "max": "128"}),
        ({"destination": "  "}, "text_empty", {"field": "destination"}),
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
    (choices, pairs, lengths) included, and the route stays as it was.
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


async def test_set_did_route_pbx_down(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, loaded_entry: MockConfigEntry
) -> None:
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
    assert raised.value.translation_key == "cannot_connect"
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
    assert route_sensor().state == "voicemail"


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
    assert issues[0].translation_placeholders == {"title": loaded_entry.title}

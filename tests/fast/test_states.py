"""States that carry their meaning (issue 19): a number's destination, one
precision for percentages, translated enums, the SMS entity once it can send.
"""

from __future__ import annotations

from dataclasses import replace
from unittest.mock import MagicMock

from homeassistant.components.notify import DOMAIN as NOTIFY_DOMAIN
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import CLEAR, DidRouting, SystemStatus
from custom_components.pbx_hub.const import CONF_SMS_RECIPIENT, DOMAIN
from tests.conftest import setup_entry

from .conftest import NOW

pytestmark = pytest.mark.freeze_time(NOW)


def _state_of(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, unique_id_end: str
) -> tuple[str, dict[str, object]]:
    """The state and attributes of the entity whose unique id ends so."""
    (entity_id,) = [
        entry.entity_id
        for entry in entity_registry.entities.values()
        if entry.unique_id.endswith(unique_id_end)
    ]
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state, dict(state.attributes)


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("vendor", ["pbxware"])
async def test_did_state_is_its_destination(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The extension's name where the PBX listed it; type and enabled flag
    are attributes; a disabled number says so; no type read is unknown.
    """
    await setup_entry(hass, mock_config_entry)
    state, attributes = _state_of(hass, entity_registry, "_did_1_route")
    assert state == "Extension Levi Wright (100)"
    assert attributes["destination_type"] == "extension"
    assert attributes["enabled"] is True
    state, _ = _state_of(hass, entity_registry, "_did_2_route")
    assert state == "Ring group 600"
    state, attributes = _state_of(hass, entity_registry, "_did_5_route")
    assert state == "Extension Sophie Young (102) (disabled)"
    assert attributes["enabled"] is False


@pytest.mark.parametrize("vendor", ["voipcloud"])
@pytest.mark.parametrize(
    ("verdict", "shown"),
    [
        ("operational", "operational"),
        ("major_outage", "major_outage"),
        ("on_fire", "unknown"),
    ],
)
async def test_system_status_is_an_enum(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    verdict: str,
    shown: str,
) -> None:
    """A verdict the enum lists is its (translated) state; another word is
    unknown, not the raw word.
    """
    mock_client.async_get_status.return_value = SystemStatus(state=verdict)
    await setup_entry(hass, mock_config_entry)
    state, attributes = _state_of(hass, entity_registry, "_pbx_system_status")
    assert state == shown
    assert "major_outage" in attributes["options"]  # type: ignore[operator]


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("vendor", ["tim4biz"])
async def test_sms_entity_only_with_a_recipient(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Without a recipient the notify entity could send nothing: it is not
    there, and it leaves the registry when the recipient is cleared.
    """
    await setup_entry(hass, mock_config_entry)
    [entity_id] = hass.states.async_entity_ids(NOTIFY_DOMAIN)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, CONF_SMS_RECIPIENT: ""},
    )
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert not hass.states.async_entity_ids(NOTIFY_DOMAIN)
    assert er.async_get(hass).async_get(entity_id) is None


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("vendor", ["voipcloud"])
async def test_last_call_is_an_unrecorded_attribute(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The time of the last call changes on every call: no entity of its own
    (which would be a logbook entry each time), an attribute of today's calls
    that the recorder leaves out.
    """
    # A sensor of the last call, as an earlier version made it, goes.
    mock_config_entry.add_to_hass(hass)
    entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{mock_config_entry.unique_id}_ext_1001_last_call",
        config_entry=mock_config_entry,
    )
    await setup_entry(hass, mock_config_entry)
    assert not [
        entry
        for entry in entity_registry.entities.values()
        if entry.unique_id.endswith("_last_call")
    ]
    calls_today = [
        entry.entity_id
        for entry in entity_registry.entities.values()
        if entry.unique_id.endswith("_calls_today") and "_ext_" in entry.unique_id
    ]
    assert calls_today
    for entity_id in calls_today:
        state = hass.states.get(entity_id)
        assert state is not None
        assert "last_call" in state.attributes
        entity = hass.data["entity_components"]["sensor"].get_entity(entity_id)
        assert "last_call" in entity._unrecorded_attributes


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("vendor", ["voipcenter"])
async def test_sip_account_devices_show_the_person_and_number(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A SIP account's device names its person and the number they are known
    by (the account's outgoing DID), not its login ``sipaccount<n>``.
    """
    await setup_entry(hass, mock_config_entry)
    devices = {
        device.identifiers.copy().pop()[1]: device.name
        for device in dr.async_entries_for_config_entry(
            device_registry, mock_config_entry.entry_id
        )
    }
    assert devices[f"{mock_config_entry.unique_id}_ext_sipaccount1"] == (
        "Lucas Janssens (039542205)"
    )


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("vendor", ["tariscope"])
async def test_subscriber_devices_show_their_number(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A subscriber's device names the subscriber and its number."""
    await setup_entry(hass, mock_config_entry)
    names = [
        device.name
        for device in dr.async_entries_for_config_entry(
            device_registry, mock_config_entry.entry_id
        )
        if device.model == "Subscriber"
    ]
    assert names
    assert all(name and name.endswith(")") and "(" in name for name in names)


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("vendor", ["voipcenter"])
async def test_no_generated_card_toggles_unrelated_functions(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Home Assistant's generated dashboard gives a card per device, but
    gathers devices of one entity into a card per domain, with a header
    toggle over its switches. Function indicators are the account's routing
    settings (entity category config), which it leaves out, so no card flips
    night mode and holidays together; each number's route selects sit on that
    number's device.
    """
    await setup_entry(hass, mock_config_entry)
    entries = er.async_entries_for_config_entry(
        entity_registry, mock_config_entry.entry_id
    )
    indicators = [e for e in entries if e.translation_key == "indicator"]
    assert len(indicators) > 1
    assert {e.entity_category for e in indicators} == {EntityCategory.CONFIG}
    shown_switches = [
        e for e in entries if e.domain == "switch" and e.entity_category is None
    ]
    assert not shown_switches
    routes = [e for e in entries if e.translation_key == "did_route_plan"]
    assert routes
    for route in routes:
        device = device_registry.async_get(route.device_id or "")
        assert device is not None
        assert device.model == "Incoming number"


@pytest.mark.parametrize("vendor", ["voipcenter"])
async def test_a_route_the_answer_lacks_is_unknown_not_none(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    """A number's detail without ``route``/``r`` and ``backuproute``/``b``
    (the client reads ``None``): both selects show unknown, never "none"; a
    cleared backup route is "none".
    """
    routing: DidRouting = mock_client.async_get_did_routing.return_value
    first, second, *_ = routing.dids.values()
    mock_client.async_get_did_routing.return_value = replace(
        routing,
        dids={
            **routing.dids,
            first.id: replace(first, route=None, backup_route=None),
            second.id: replace(second, backup_route=CLEAR),
        },
    )
    await setup_entry(hass, mock_config_entry)
    for entity_id, shown in (
        (f"select.{first.number}_route", "unknown"),
        (f"select.{first.number}_backup_route", "unknown"),
        (f"select.{second.number}_backup_route", "none"),
    ):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == shown

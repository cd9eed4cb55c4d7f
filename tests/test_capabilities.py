"""The integration offers only what a vendor's client declares.

A minimal vendor, registered only here, proves that the integration holds no
vendor knowledge: no DND, no DIDs, no live calls, no service list.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub import async_remove_config_entry_device
from custom_components.pbx_hub.client import (
    VENDORS,
    BudgetSpec,
    Capability,
    ClicksToCall,
    Extension,
    FieldKind,
    LicenseUsage,
    ListsTenants,
    OptionField,
    OptionKind,
    PbxClient,
    PbxInfo,
    PbxUnsupportedError,
    ReadContext,
    RequestBudget,
    RoutesDids,
    SetsDnd,
    SettingField,
    SystemStatus,
    Topic,
    VendorSpec,
    currency_code,
)
from custom_components.pbx_hub.client.readers import ReadsExtensions, ReadsStatus
from custom_components.pbx_hub.const import CONF_VENDOR, DOMAIN

from .conftest import find_device


class MinimalClient(PbxClient, ReadsStatus, ReadsExtensions):
    """Status without services or live calls, extensions without DND."""

    vendor = "minimal"
    capabilities = frozenset({Capability.STATUS, Capability.EXTENSIONS})
    licence_kinds: ClassVar[Mapping[str, str]] = {"ext": "license_ext"}

    async def async_identify(self) -> PbxInfo:
        return PbxInfo(unique_id="minimal-1", name="Minimal PBX", manufacturer="Test")

    async def async_get_status(self) -> SystemStatus:
        return SystemStatus(
            active_calls=3,
            licenses={"ext": LicenseUsage(in_use=4, maximum=0)},
        )

    async def async_get_extensions(self) -> dict[str, Extension]:
        return {"7": Extension(id="7", number="207", name="207", registered=True)}


@pytest.fixture
def minimal_vendor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry lists the five vendors; this test adds a sixth for a while."""
    monkeypatch.setitem(
        VENDORS,  # type: ignore[arg-type]
        "minimal",
        VendorSpec(
            key="minimal",
            name="Minimal",
            client_class=MinimalClient,
            fields=(SettingField(key="token", kind=FieldKind.PASSWORD),),
            budget=BudgetSpec(limit=100, window=900),
            options=(
                OptionField(key="currency", check=currency_code),
                OptionField(key="nodes", kind=OptionKind.LIST, default="HQ"),
            ),
            check_options=_check_options,
        ),
    )


async def _check_options(
    client: PbxClient, options: Mapping[str, Any], today: date
) -> dict[str, str]:
    """Refuses one node, as a PBX that does not know it would."""
    return {"nodes": "subscriber_not_found"} if options.get("nodes") == "Mars" else {}


@pytest.fixture
async def minimal_entry(hass: HomeAssistant, minimal_vendor: None) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Minimal PBX",
        unique_id="minimal-1",
        data={CONF_VENDOR: "minimal", "token": "t0ken-secret"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def test_only_supported_entities(
    hass: HomeAssistant, minimal_entry: MockConfigEntry
) -> None:
    entity_ids = hass.states.async_entity_ids()
    assert not [e for e in entity_ids if e.startswith("switch.")]
    assert "binary_sensor.minimal_pbx_services" not in entity_ids
    assert not [e for e in entity_ids if e.startswith("sensor.minimal_pbx_number")]
    assert not [e for e in entity_ids if "cpu" in e]
    # Without live calls the count comes from the status.
    assert hass.states.get("sensor.minimal_pbx_active_calls").state == "3"
    # A licence with no maximum has no usage percentage.
    assert (
        hass.states.get("sensor.minimal_pbx_extension_licences_used").state == "unknown"
    )
    assert hass.states.get("binary_sensor.207_registered").state == "on"
    assert hass.states.get("binary_sensor.207_on_call") is None


async def test_action_refused_when_unsupported(
    hass: HomeAssistant, minimal_entry: MockConfigEntry
) -> None:
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            "set_did_route",
            {
                "config_entry_id": minimal_entry.entry_id,
                "did": "1",
                "destination_type": "ivr",
                "destination": "1",
            },
            blocking=True,
        )
    assert raised.value.translation_key == "action_not_supported"


async def test_manual_device_removal_only_for_stale(
    hass: HomeAssistant,
    minimal_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    pbx = find_device(device_registry, (DOMAIN, "minimal-1"))
    current = find_device(device_registry, (DOMAIN, "minimal-1_ext_7"))
    stale = device_registry.async_get_or_create(
        config_entry_id=minimal_entry.entry_id,
        identifiers={(DOMAIN, "minimal-1_ext_99")},
    )
    assert pbx is not None
    assert current is not None
    assert not await async_remove_config_entry_device(hass, minimal_entry, pbx)
    assert not await async_remove_config_entry_device(hass, minimal_entry, current)
    assert await async_remove_config_entry_device(hass, minimal_entry, stale)


async def test_base_client_refuses_what_it_does_not_offer() -> None:
    """A topic it does not read is refused; an action it lacks it has not."""
    client = MinimalClient(
        None,  # type: ignore[arg-type]
        {},
        budget=RequestBudget(BudgetSpec(limit=1, window=1)),
    )
    context = ReadContext.at(datetime(2026, 11, 25, 12, tzinfo=UTC))
    for topic in (Topic.LIVE_CALLS, Topic.DIDS):
        with pytest.raises(PbxUnsupportedError, match="minimal does not read"):
            await client.async_read(topic, context)
    assert not isinstance(client, ListsTenants | SetsDnd | RoutesDids | ClicksToCall)
    assert SystemStatus().services_not_running is None


async def test_the_options_flow_asks_what_the_vendor_declares(
    hass: HomeAssistant, minimal_entry: MockConfigEntry
) -> None:
    """The form lists the vendor's option fields, no others, and runs their
    checks: the flow knows no vendor and no capability behind them.
    """
    result = await hass.config_entries.options.async_init(minimal_entry.entry_id)
    schema = result["data_schema"].schema
    fields = {str(key): key for key in schema}
    assert set(fields) == {"fast_interval", "currency", "nodes", "excluded_extensions"}
    assert fields["nodes"].description == {"suggested_value": "HQ"}
    answers = {"fast_interval": 60, "currency": "euro", "nodes": "Mars"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], answers
    )
    assert result["errors"] == {
        "currency": "invalid_currency",
        "nodes": "subscriber_not_found",
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**answers, "currency": " eur", "nodes": "HQ"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert minimal_entry.options["currency"] == "EUR"

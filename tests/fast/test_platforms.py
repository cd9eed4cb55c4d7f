"""Every platform's entities and states, per vendor, from the mocked client."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.pbx_hub import PLATFORMS
from tests.conftest import setup_entry

from .conftest import NOW

pytestmark = pytest.mark.freeze_time(NOW)

ENTITY_PLATFORMS: dict[str, tuple[Platform, ...]] = {
    "pbxware": (
        Platform.BINARY_SENSOR,
        Platform.EVENT,
        Platform.SENSOR,
        Platform.SWITCH,
    ),
    "voipcloud": (Platform.BUTTON, Platform.EVENT, Platform.SENSOR),
    "voipcenter": (
        Platform.BINARY_SENSOR,
        Platform.BUTTON,
        Platform.EVENT,
        Platform.SELECT,
        Platform.SENSOR,
        Platform.SWITCH,
    ),
    "tariscope": (Platform.SENSOR,),
    "tim4biz": (Platform.NOTIFY, Platform.SENSOR),
}
"""The platforms each vendor's capabilities give entities."""


async def _set_up(
    hass: HomeAssistant, entry: MockConfigEntry, platform: Platform
) -> None:
    with patch("custom_components.pbx_hub.PLATFORMS", [platform]):
        await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "mock_client")
@pytest.mark.parametrize(
    ("vendor", "platform"),
    [
        (vendor, platform)
        for vendor, platforms in ENTITY_PLATFORMS.items()
        for platform in platforms
    ],
)
async def test_platform(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    await _set_up(hass, mock_config_entry, platform)
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "mock_client")
@pytest.mark.parametrize(
    ("vendor", "platform"),
    [
        (vendor, platform)
        for vendor, platforms in ENTITY_PLATFORMS.items()
        for platform in PLATFORMS
        if platform not in platforms
    ],
)
async def test_platform_without_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    platform: Platform,
) -> None:
    """A platform the vendor has nothing for sets up empty."""
    await _set_up(hass, mock_config_entry, platform)
    assert not er.async_entries_for_config_entry(
        entity_registry, mock_config_entry.entry_id
    )
    assert not hass.states.async_all(platform)

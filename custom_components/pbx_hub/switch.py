"""Switches: do-not-disturb per extension, and function indicators."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Capability, FunctionIndicator, SetsDnd, SetsIndicators
from .coordinator import PbxConfigEntry, PbxSlowCoordinator, SlowData
from .entity import (
    PbxEntity,
    PbxExtensionEntity,
    add_extension_entities_dynamically,
    add_slow_entities_dynamically,
)
from .helpers import not_supported, run_write

PARALLEL_UPDATES = 1

DND = SwitchEntityDescription(key="dnd", translation_key="dnd")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a DND switch to every extension whose DND state the PBX reports,
    and a switch per function indicator.
    """
    runtime = entry.runtime_data
    if Capability.SET_INDICATOR in runtime.client.capabilities:
        add_slow_entities_dynamically(
            entry,
            async_add_entities,
            lambda data: data.indicators,
            lambda _, indicator: [
                IndicatorSwitch(coordinator=runtime.slow, indicator=indicator)
            ],
        )
    if Capability.SET_DND not in runtime.client.capabilities:
        return
    add_extension_entities_dynamically(
        entry,
        async_add_entities,
        lambda extension: (
            [DndSwitch(coordinator=runtime.fast, description=DND, extension=extension)]
            if extension.dnd is not None
            else []
        ),
    )


class DndSwitch(PbxExtensionEntity, SwitchEntity):
    """Do-not-disturb of one extension."""

    @property
    def is_on(self) -> bool | None:
        """Whether DND is on."""
        return self.extension.dnd

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch DND on."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch DND off."""
        await self._async_set(False)

    async def _async_set(self, enabled: bool) -> None:
        """Write DND and show the state the PBX confirms at once; the next poll
        reads it back, so a click costs one request, not a full poll.
        """
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, SetsDnd):
            raise not_supported(entry)
        confirmed = await run_write(
            entry,
            client.async_set_dnd(self.extension_id, enabled),
            shown_by=self.coordinator,
        )
        self.coordinator.async_patch("extensions", self.extension_id, dnd=confirmed)


INDICATOR = SwitchEntityDescription(key="indicator", translation_key="indicator")


class IndicatorSwitch(PbxEntity[PbxSlowCoordinator], SwitchEntity):
    """A function indicator: a flag calls are routed by (night mode, ...)."""

    def __init__(
        self, *, coordinator: PbxSlowCoordinator, indicator: FunctionIndicator
    ) -> None:
        """Named after the indicator."""
        super().__init__(
            coordinator=coordinator,
            description=INDICATOR,
            object_id=f"indicator_{indicator.id}",
        )
        self.indicator_id = indicator.id
        self._attr_translation_placeholders = {"name": indicator.name}

    @property
    def _indicator(self) -> FunctionIndicator | None:
        data: SlowData | None = self.coordinator.data
        if data is None or data.indicators is None:
            return None
        return data.indicators.get(self.indicator_id)

    @property
    def available(self) -> bool:
        """Unavailable while the indicators cannot be read, or it is gone."""
        return super().available and self._indicator is not None

    @property
    def is_on(self) -> bool | None:
        """Whether the indicator is active."""
        indicator = self._indicator
        return None if indicator is None else indicator.active

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Activate the indicator."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Deactivate the indicator."""
        await self._async_set(False)

    async def _async_set(self, active: bool) -> None:
        """Write it, then show it at once; the next poll reads it back."""
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, SetsIndicators):
            raise not_supported(entry)
        await run_write(
            entry,
            client.async_set_indicator(self.indicator_id, active),
            shown_by=self.coordinator,
        )
        self.coordinator.async_patch("indicators", self.indicator_id, active=active)

"""Switches: do-not-disturb and call forwarding per extension, function indicators."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Capability, ForwardsCalls, SetsDnd, SetsIndicators, Topic
from .coordinator import PbxConfigEntry, PbxRuntimeData
from .entity import (
    EXTENSION_ITEMS,
    PbxEntity,
    PbxEntityDescription,
    Place,
    listed_extension_place,
)
from .helpers import not_supported, run_write
from .loader import add_entities_dynamically

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PbxSwitchEntityDescription(PbxEntityDescription, SwitchEntityDescription):
    """A switch of one item: how it is written, and which field that changes."""

    capability: Capability
    ability: type[Any]
    """The protocol of the clients that write it."""
    set_fn: Callable[[Any, str, bool], Awaitable[bool | None]]
    """Write; the state the PBX confirms, or ``None`` for the one asked."""
    field: str


def _forwarding_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    """On the extension's device; read per extension, so added over several reads."""
    return listed_extension_place(runtime, key)


SWITCHES = (
    PbxSwitchEntityDescription(
        key="dnd",
        translation_key="dnd",
        **EXTENSION_ITEMS,
        exists_fn=lambda extension: extension.dnd is not None,
        value_fn=lambda extension: extension.dnd,
        capability=Capability.SET_DND,
        ability=SetsDnd,
        set_fn=lambda client, key, on: client.async_set_dnd(key, on),
        field="dnd",
    ),
    PbxSwitchEntityDescription(
        key="call_forwarding",
        translation_key="call_forwarding",
        topic=Topic.CALL_FORWARDING,
        items_fn=dict.keys,
        place_fn=_forwarding_place,
        extension_key="id",
        value_fn=lambda forwarding: forwarding.enabled,
        capability=Capability.SET_CALL_FORWARDING,
        ability=ForwardsCalls,
        set_fn=lambda client, key, on: client.async_set_call_forwarding(key, on),
        field="enabled",
    ),
    PbxSwitchEntityDescription(
        key="indicator",
        translation_key="indicator",
        topic=Topic.INDICATORS,
        items_fn=dict.keys,
        # Settings of the account's routing: Home Assistant's generated
        # dashboard would put the indicators in one card whose header toggle
        # flips night mode, emergency routing and holidays together (on one
        # device, or as devices of one entity each, gathered by domain).
        entity_category=EntityCategory.CONFIG,
        place_fn=lambda runtime, key, data: Place(
            f"indicator_{key}", placeholders={"name": data[key].name}
        ),
        value_fn=lambda indicator: indicator.active,
        capability=Capability.SET_INDICATOR,
        ability=SetsIndicators,
        set_fn=lambda client, key, on: client.async_set_indicator(key, on),
        field="active",
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches the vendor can write, as their items appear."""
    capabilities = entry.runtime_data.client.capabilities
    add_entities_dynamically(
        entry,
        async_add_entities,
        (switch for switch in SWITCHES if switch.capability in capabilities),
        PbxSwitch,
    )


class PbxSwitch(PbxEntity, SwitchEntity):
    """A switch of one item of a topic."""

    entity_description: PbxSwitchEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The field the description reads."""
        return self.value  # type: ignore[no-any-return]

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch on."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch off."""
        await self._async_set(False)

    async def _async_set(self, on: bool) -> None:
        """Write, and show at once the state the PBX confirms."""
        entry = self.coordinator.config_entry
        description = self.entity_description
        if not isinstance(client := entry.runtime_data.client, description.ability):
            raise not_supported(entry)
        confirmed = await run_write(
            entry,
            description.set_fn(client, self.key, on),
            shown_by=self.coordinator,
        )
        shown = on if confirmed is None else confirmed
        self.coordinator.async_patch("", self.key, **{description.field: shown})

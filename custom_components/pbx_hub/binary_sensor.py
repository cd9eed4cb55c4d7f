"""Binary sensors: PBX service problems; extension registration and calls."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Topic
from .coordinator import PbxConfigEntry
from .entity import (
    EXTENSION_ITEMS,
    PbxEntity,
    PbxEntityDescription,
    known,
    pbx_device_info,
)
from .loader import add_entities_dynamically
from .push import PushFeed

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PbxBinarySensorEntityDescription(
    PbxEntityDescription, BinarySensorEntityDescription
):
    """A binary sensor of one item of a topic."""


BINARY_SENSORS = (
    PbxBinarySensorEntityDescription(
        key="services",
        translation_key="services",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        topic=Topic.STATUS,
        # Only vendors that report their services have this sensor.
        exists_fn=lambda status: status.services is not None,
        value_fn=lambda status: status.services_not_running,
        attributes_fn=lambda status: {"not_running": status.services_not_running or []},
    ),
    *(
        PbxBinarySensorEntityDescription(
            key=key,
            translation_key=key,
            device_class=device_class,
            **EXTENSION_ITEMS,
            exists_fn=known(key),
            value_fn=attrgetter(key),
        )
        for key, device_class in (
            ("registered", BinarySensorDeviceClass.CONNECTIVITY),
            ("on_call", None),
        )
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the services and push channel sensors, and extensions' as they appear."""
    add_entities_dynamically(entry, async_add_entities, BINARY_SENSORS, PbxBinarySensor)
    if (push := entry.runtime_data.push) is not None:
        async_add_entities([PushChannelSensor(entry, push)])


class PbxBinarySensor(PbxEntity, BinarySensorEntity):
    """A binary sensor of one item of a topic; a list means on when not empty."""

    entity_description: PbxBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The field the description reads."""
        value = self.value
        return None if value is None else bool(value)


class PushChannelSensor(BinarySensorEntity):
    """Whether the PBX's push channel is connected (notifications flow)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_translation_key = "push_channel"
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, entry: PbxConfigEntry, push: PushFeed) -> None:
        """On the PBX's device."""
        info = entry.runtime_data.info
        self._push = push
        self._attr_unique_id = f"{info.unique_id}_pbx_push_channel"
        self._attr_device_info = pbx_device_info(info)

    @property
    def is_on(self) -> bool:
        """Connected and registered."""
        return self._push.connected

    @property
    def extra_state_attributes(self) -> dict[str, str]:
        """Where the channel is (connecting, connected, disconnected)."""
        return {"state": self._push.state.value}

    async def async_added_to_hass(self) -> None:
        """Follow the channel's state changes."""
        self.async_on_remove(self._push.async_add_state_listener(self._changed))

    @callback
    def _changed(self) -> None:
        self.async_write_ha_state()

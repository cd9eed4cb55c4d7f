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
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Topic
from .coordinator import PbxConfigEntry
from .entity import (
    EXTENSION_ITEMS,
    PbxEntity,
    PbxEntityDescription,
    known,
)
from .loader import add_entities_dynamically

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
    """Add the services sensor and, as extensions appear, their sensors."""
    add_entities_dynamically(entry, async_add_entities, BINARY_SENSORS, PbxBinarySensor)


class PbxBinarySensor(PbxEntity, BinarySensorEntity):
    """A binary sensor of one item of a topic; a list means on when not empty."""

    entity_description: PbxBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The field the description reads."""
        value = self.value
        return None if value is None else bool(value)

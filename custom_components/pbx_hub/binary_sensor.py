"""Binary sensors: PBX service problems; extension registration and calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Extension
from .coordinator import FastData, PbxConfigEntry, PbxFastCoordinator
from .entity import (
    PbxEntity,
    PbxExtensionEntity,
    add_extension_entities_dynamically,
    add_pbx_entities_dynamically,
)

PARALLEL_UPDATES = 0


class ServicesProblemSensor(PbxEntity[PbxFastCoordinator], BinarySensorEntity):
    """On when a PBX service is not running; the attribute names them."""

    entity_description = BinarySensorEntityDescription(
        key="services",
        translation_key="services",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
    )

    @staticmethod
    def exists(data: FastData) -> bool:
        """Only vendors that report their services have this sensor."""
        return data.status is not None and data.status.services is not None

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or did not read the status."""
        return super().available and self.coordinator.data.status is not None

    @property
    def _not_running(self) -> list[str] | None:
        status = self.coordinator.data.status
        return None if status is None else status.services_not_running

    @property
    def is_on(self) -> bool | None:
        """Whether any service is not running."""
        not_running = self._not_running
        return None if not_running is None else bool(not_running)

    @property
    def extra_state_attributes(self) -> dict[str, list[str]]:
        """The services that are not running."""
        return {"not_running": self._not_running or []}


@dataclass(frozen=True, kw_only=True)
class ExtensionBinarySensorEntityDescription(BinarySensorEntityDescription):
    """An extension binary sensor and the field it shows."""

    is_on_fn: Callable[[Extension], bool | None]


EXTENSION_BINARY_SENSORS: tuple[ExtensionBinarySensorEntityDescription, ...] = (
    ExtensionBinarySensorEntityDescription(
        key="registered",
        translation_key="registered",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        is_on_fn=lambda extension: extension.registered,
    ),
    ExtensionBinarySensorEntityDescription(
        key="on_call",
        translation_key="on_call",
        is_on_fn=lambda extension: extension.on_call,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the services sensor and, as extensions appear, their sensors."""
    fast = entry.runtime_data.fast
    add_pbx_entities_dynamically(
        entry,
        async_add_entities,
        [ServicesProblemSensor.entity_description],
        lambda _, data: ServicesProblemSensor.exists(data),
        lambda description: ServicesProblemSensor(
            coordinator=fast, description=description
        ),
    )
    add_extension_entities_dynamically(
        entry,
        async_add_entities,
        lambda extension: (
            ExtensionBinarySensor(
                coordinator=fast, description=description, extension=extension
            )
            for description in EXTENSION_BINARY_SENSORS
            if description.is_on_fn(extension) is not None
        ),
    )


class ExtensionBinarySensor(PbxExtensionEntity, BinarySensorEntity):
    """A binary sensor of an extension device."""

    entity_description: ExtensionBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The field the description reads."""
        return self.entity_description.is_on_fn(self.extension)

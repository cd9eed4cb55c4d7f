"""Base entities: one device per PBX account, one per extension under it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .client import Extension, PbxInfo
from .const import CONF_EXCLUDED_EXTENSIONS, DOMAIN
from .coordinator import PbxConfigEntry, PbxCoordinator, PbxFastCoordinator


def pbx_device_info(info: PbxInfo) -> DeviceInfo:
    """The device of the PBX account itself."""
    return DeviceInfo(
        identifiers={(DOMAIN, info.unique_id)},
        name=info.name,
        manufacturer=info.manufacturer,
        model=info.model,
        sw_version=info.sw_version,
        configuration_url=info.configuration_url,
    )


def extension_device_identifier(info: PbxInfo, extension_id: str) -> tuple[str, str]:
    """Device registry identifier of one extension."""
    return (DOMAIN, f"{info.unique_id}_ext_{extension_id}")


class PbxEntity[CoordinatorT: PbxCoordinator[Any]](CoordinatorEntity[CoordinatorT]):
    """An entity of the PBX device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        *,
        coordinator: CoordinatorT,
        description: EntityDescription,
        object_id: str = "pbx",
    ) -> None:
        """Set the unique id ``<entry unique id>_<object>_<key>``."""
        super().__init__(coordinator)
        self.entity_description = description
        info = coordinator.config_entry.runtime_data.info
        self._attr_unique_id = f"{info.unique_id}_{object_id}_{description.key}"
        self._attr_device_info = pbx_device_info(info)


class PbxExtensionEntity(PbxEntity[PbxFastCoordinator]):
    """An entity of one extension's device, linked to the PBX with ``via_device``."""

    def __init__(
        self,
        *,
        coordinator: PbxFastCoordinator,
        description: EntityDescription,
        extension: Extension,
    ) -> None:
        """Remember which extension this entity shows."""
        super().__init__(
            coordinator=coordinator,
            description=description,
            object_id=f"ext_{extension.id}",
        )
        self.extension_id = extension.id
        info = coordinator.config_entry.runtime_data.info
        self._attr_device_info = DeviceInfo(
            identifiers={extension_device_identifier(info, extension.id)},
            name=f"{extension.name} ({extension.number})"
            if extension.name != extension.number
            else extension.number,
            # The phone's own make shows in the user agent sensor; the device is
            # the PBX's extension.
            manufacturer=info.manufacturer,
            model="Extension",
            via_device=(DOMAIN, info.unique_id),
        )

    @property
    def extension(self) -> Extension:
        """The extension as last polled; only read while ``available``."""
        return self.coordinator.data.extensions[self.extension_id]

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or the extension is gone."""
        return (
            super().available and self.extension_id in self.coordinator.data.extensions
        )


def add_extension_entities_dynamically(
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make_entities: Callable[[Extension], Iterable[Entity]],
) -> None:
    """Add an extension's entities now and whenever a new extension appears,
    except for the extensions the user excluded in the options.
    """
    coordinator = entry.runtime_data.fast
    excluded = set(entry.options.get(CONF_EXCLUDED_EXTENSIONS, ()))
    added: set[str] = set()

    def add_new() -> None:
        current = coordinator.data.extensions
        # Forget extensions that left: their devices are removed, so one that
        # comes back needs its entities again.
        added.intersection_update(current)
        new = [
            extension
            for extension_id, extension in current.items()
            if extension_id not in added and extension_id not in excluded
        ]
        if not new:
            return
        added.update(extension.id for extension in new)
        async_add_entities(
            entity for extension in new for entity in make_entities(extension)
        )

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))

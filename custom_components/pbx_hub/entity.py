"""The one entity shape: a description names its topic, items, device and value."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .client import CallScope, PbxInfo, Topic
from .client.titles import name_and_number
from .client.topics import UsagePeriods
from .const import DOMAIN
from .coordinator import PbxConfigEntry, PbxRuntimeData, PbxTopicCoordinator

PBX = ""
"""The item key of an entity of the PBX itself (a description without items)."""


@dataclass(frozen=True)
class Place:
    """Where an item's entity sits: object id and device (``None``: the PBX's own)."""

    object_id: str
    device: DeviceInfo | None = None
    placeholders: Mapping[str, str] | None = None


def _the_pbx(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    return Place("pbx")


def _by_key(data: Any, key: str) -> Any:
    return data.get(key)


@dataclass(frozen=True, kw_only=True)
class PbxEntityDescription(EntityDescription):
    """Which topic an entity shows, which items of it, and how."""

    topic: Topic
    items_fn: Callable[[Any], Iterable[str]] | None = None
    """The keys of the topic's items; ``None``: the PBX itself, one entity."""
    item_fn: Callable[[Any, str], Any] = _by_key
    """An item by key (``None``: gone); the data itself for the PBX."""
    place_fn: Callable[[PbxRuntimeData, str, Any], Place] = _the_pbx
    """The item's object id and device, from the topic's data."""
    exists_fn: Callable[[Any], bool] = lambda item: True
    """Whether the item has this entity (checked until it does)."""
    value_fn: Callable[[Any], Any] = lambda item: None
    """What the entity shows of its item (state, on/off, option)."""
    attributes_fn: Callable[[Any], dict[str, Any]] | None = None
    """The state attributes the entity shows of its item."""
    renewed_fn: Callable[[Any], Iterable[str]] = lambda data: ()
    """Items whose device the user deleted and that are back: added again."""
    remove_when_gone: bool = False
    """Whether the entity leaves the registry as soon as its item does."""
    extension_key: Literal["id", "number"] | None = None
    """Items are extensions, by id or number: only listed, not excluded ones count."""


def known(field: str) -> Callable[[Any], bool]:
    """Whether an item knows ``field`` (the PBX sent it)."""
    return lambda item: getattr(item, field) is not None


def remove_sensors(hass: HomeAssistant, entry: PbxConfigEntry, key: str) -> None:
    """Remove the entry's sensors of description ``key``, no longer made."""
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.domain == Platform.SENSOR and entity.unique_id.endswith(f"_{key}"):
            registry.async_remove(entity.entity_id)


def pbx_device_info(info: PbxInfo) -> DeviceInfo:
    """The device of the PBX account itself."""
    return DeviceInfo(
        identifiers={(DOMAIN, info.unique_id)},
        name=info.name,
        manufacturer=info.manufacturer,
        model=info.model,
        sw_version=info.sw_version,
        configuration_url=info.configuration_url,
        serial_number=info.serial_number,
    )


def extension_device_identifier(info: PbxInfo, extension_id: str) -> tuple[str, str]:
    """Device registry identifier of one extension."""
    return (DOMAIN, f"{info.unique_id}_ext_{extension_id}")


def extension_place(
    runtime: PbxRuntimeData, extension_id: str, number: str, name: str | None
) -> Place:
    """One extension's (or user's) device under the PBX's, which actions target."""
    # Its identifier is extension_device_identifier's, which services look up.
    shown = name_and_number(name, number)
    return child_place(runtime, f"ext_{extension_id}", shown, "Extension")


def child_place(
    runtime: PbxRuntimeData, object_id: str, name: str, model: str
) -> Place:
    """An entity of a device of its own under the PBX's (a queue, a subscriber)."""
    info = runtime.info
    return Place(
        object_id,
        DeviceInfo(
            identifiers={(DOMAIN, f"{info.unique_id}_{object_id}")},
            name=name,
            manufacturer=info.manufacturer,
            model=model,
            via_device_id=runtime.pbx_device_id,
        ),
    )


GROUP_MODELS = {CallScope.QUEUE: "Queue", CallScope.RING_GROUP: "Ring group"}


def _extension_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    return extension_place(runtime, key, data[key].shown_number, data[key].name)


def listed_extension_place(
    runtime: PbxRuntimeData, extension_id: str, unlisted_name: str | None = None
) -> Place:
    """The extension's device as its list names it; else ``unlisted_name`` or the id."""
    extension = (runtime.data(Topic.EXTENSIONS) or {}).get(extension_id)
    if extension is None:
        return extension_place(runtime, extension_id, extension_id, unlisted_name)
    return extension_place(
        runtime, extension_id, extension.shown_number, extension.name
    )


EXTENSION_ITEMS: dict[str, Any] = {
    "topic": Topic.EXTENSIONS,
    "items_fn": dict.keys,
    "place_fn": _extension_place,
}
"""Where an extension's entities take their extension from."""


def _group_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    scope, name = data.groups[key]
    return child_place(runtime, f"{scope}_{name}", name, GROUP_MODELS[scope])


def _user_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    """A user's entities sit on the listed extension with that number, if any."""
    # Users are keyed by number, extensions by id, which need not be the number.
    for extension in (runtime.data(Topic.EXTENSIONS) or {}).values():
        if extension.number == key:
            return _extension_place(runtime, extension.id, {extension.id: extension})
    return extension_place(runtime, key, key, data.users[key])


CALL_GROUP: dict[str, Any] = {
    "topic": Topic.CALLS,
    "items_fn": lambda activity: activity.groups.keys(),
    "item_fn": lambda activity, key: (
        activity.group(key) if key in activity.groups else None
    ),
    "place_fn": _group_place,
    "renewed_fn": lambda activity: activity.revived,
}
"""Where a queue's or ring group's entities take today's figures from."""
CALL_USER: dict[str, Any] = {
    "topic": Topic.CALLS,
    "items_fn": lambda activity: activity.users.keys(),
    "item_fn": lambda activity, key: (
        activity.user(key) if key in activity.users else None
    ),
    "place_fn": _user_place,
    "renewed_fn": lambda activity: activity.revived,
    "extension_key": "number",
}
"""Where a user's entities take today's figures from."""


def callers[DescriptionT: PbxEntityDescription](
    entry: PbxConfigEntry, descriptions: Iterable[DescriptionT]
) -> tuple[DescriptionT, ...]:
    """The call entities' descriptions: of listed extensions, else of call users."""
    topic = (
        Topic.EXTENSIONS
        if Topic.EXTENSIONS in entry.runtime_data.coordinators
        else Topic.CALLS
    )
    return tuple(d for d in descriptions if d.topic is topic)


def _did_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    return Place(f"did_{key}", placeholders={"number": data[key].number})


DID_ITEMS: dict[str, Any] = {
    "topic": Topic.DIDS,
    "items_fn": dict.keys,
    "place_fn": _did_place,
}
"""Where a DID's entities take it from."""


def _usage_place(runtime: PbxRuntimeData, key: str, data: UsagePeriods) -> Place:
    usage = data.today.get(key) or data.month.get(key)
    return extension_place(runtime, key, key, usage.name if usage else None)


USAGE_ITEMS: dict[str, Any] = {
    "topic": Topic.USAGE,
    "items_fn": UsagePeriods.extensions,
    "item_fn": UsagePeriods.of,
    "place_fn": _usage_place,
}
"""Where an extension's call accounting entities take it from."""


def _account_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    """A subscriber's device, by name and the number the options follow it by."""
    subscriber = data.accounts[key].subscriber
    shown = name_and_number(subscriber.name, subscriber.id)
    return child_place(runtime, f"subscriber_{subscriber.id}", shown, "Subscriber")


ACCOUNT_ITEMS: dict[str, Any] = {
    "topic": Topic.ACCOUNTS,
    "items_fn": lambda data: data.accounts.keys(),
    "item_fn": lambda data, key: data.accounts.get(key),
    "place_fn": _account_place,
}
"""Where a followed subscriber's entities take its account from."""


class PbxEntity(CoordinatorEntity[PbxTopicCoordinator]):
    """An entity showing one item of its topic's data."""

    _attr_has_entity_name = True
    entity_description: PbxEntityDescription

    def __init__(
        self,
        coordinator: PbxTopicCoordinator,
        description: PbxEntityDescription,
        key: str = PBX,
    ) -> None:
        """Set the unique id ``<entry unique id>_<object>_<key>``."""
        super().__init__(coordinator)
        self.entity_description = description
        self.key = key
        runtime = coordinator.config_entry.runtime_data
        place = description.place_fn(runtime, key, coordinator.data)
        self._attr_unique_id = (
            f"{runtime.info.unique_id}_{place.object_id}_{description.key}"
        )
        self._attr_device_info = place.device or pbx_device_info(runtime.info)
        if place.placeholders is not None:
            self._attr_translation_placeholders = dict(place.placeholders)
        self._written: tuple[Any, ...] | None = None
        """What the last state write showed."""

    @property
    def item(self) -> Any:
        """The item as last read; ``None`` while not read or gone."""
        data = self.coordinator.data
        if data is None or self.entity_description.items_fn is None:
            return data
        return self.entity_description.item_fn(data, self.key)

    @property
    def available(self) -> bool:
        """Unavailable when the read failed, was refused, or the item is gone."""
        return super().available and self.item is not None

    @property
    def value(self) -> Any:
        """What the description shows of the item."""
        item = self.item
        return None if item is None else self.entity_description.value_fn(item)

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """What the description shows of the item beside its state."""
        attributes_fn = self.entity_description.attributes_fn
        if attributes_fn is None:
            return None
        item = self.item
        return {} if item is None else attributes_fn(item)

    def _shown(self) -> tuple[Any, ...]:
        """What a state write would show: availability, state, attributes."""
        if not self.available:
            return (False,)
        return (
            True,
            self.state,
            self.capability_attributes,
            self.state_attributes,
            self.extra_state_attributes,
        )

    async def async_added_to_hass(self) -> None:
        """Remember what the platform's first write shows."""
        await super().async_added_to_hass()
        # That write follows this hook (and any subclass's) before the loop
        # runs another callback.
        self.hass.loop.call_soon(self._remember_shown)

    async def async_update_ha_state(self, force_refresh: bool = False) -> None:
        """Remember what a write by ``homeassistant.update_entity`` showed."""
        await super().async_update_ha_state(force_refresh)
        self._remember_shown()

    def _remember_shown(self) -> None:
        self._written = self._shown()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when this entity shows something new."""
        if (shown := self._shown()) != self._written:
            self._written = shown
            self.async_write_ha_state()

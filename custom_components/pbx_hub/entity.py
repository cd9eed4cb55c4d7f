"""Base entities: one device per PBX account, one per extension under it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .client import (
    AccountSummary,
    CallScope,
    Extension,
    ExtensionUsage,
    GroupStats,
    PbxInfo,
    Subscriber,
    UserStats,
)
from .const import CONF_EXCLUDED_EXTENSIONS, DOMAIN
from .coordinator import (
    FastData,
    PbxConfigEntry,
    PbxCoordinator,
    PbxFastCoordinator,
    PbxRuntimeData,
    PbxSlowCoordinator,
    SlowData,
)


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
        self._written: tuple[Any, ...] | None = None
        """What the last state write showed."""
        self._written_source: object = None
        """What the state was made of at the last write (see ``_source``)."""
        self._shown_next: tuple[Any, ...] | None = None
        """What the write under way shows, when its caller built that."""

    def _source(self) -> object:
        """The data this entity's state is made of, where comparing it is
        cheaper than building the state; ``None``: build and compare that.
        """
        return None

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

    @callback
    def _async_write_ha_state(self) -> None:
        """Remember what every write shows, whichever way it came: the
        platform's first one (after every ``async_added_to_hass`` hook, so a
        subclass that changes its state there is remembered as shown), and
        ``async_update_ha_state`` (the ``homeassistant.update_entity``
        service), which skips ``async_write_ha_state``. A write left out
        would leave the record stale, and a later real change unwritten.
        """
        shown, self._shown_next = self._shown_next, None
        self._written = self._shown() if shown is None else shown
        self._written_source = self._source()
        super()._async_write_ha_state()

    @callback
    def _write_state(self, shown: tuple[Any, ...] | None = None) -> None:
        """Write the state, which shows ``shown`` (if the caller built it
        already).
        """
        self._shown_next = shown
        try:
            self.async_write_ha_state()
        finally:
            self._shown_next = None

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when this entity shows something new: a poll
        that changed one extension leaves the other entities alone. Going
        unavailable (a failed poll) and back is new too.
        """
        source = self._source()
        if source is not None and source == self._written_source:
            return
        if (shown := self._shown()) != self._written:
            self._write_state(shown)


class PbxExtensionEntity(PbxEntity[PbxFastCoordinator]):
    """An entity of one extension's device, linked to the PBX with ``via_device_id``."""

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
        self._attr_device_info = extension_device_info(
            coordinator.config_entry.runtime_data,
            extension.id,
            extension.number,
            extension.name,
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
    added: dict[str, set[str | None]] = {}
    """The unique IDs of the entities added for each extension."""
    left: set[str] = set()
    """Extensions added that a later list lacked."""

    def add_new() -> None:
        current = coordinator.data.extensions
        left.update(added.keys() - current.keys())
        if back := left & current.keys():
            # Entities stay while their device does (an extension missing
            # from a few lists); they went with it if it was removed, and
            # then the extension needs them again.
            registry = er.async_get(coordinator.hass)
            registered = {
                entity.unique_id
                for entity in er.async_entries_for_config_entry(
                    registry, entry.entry_id
                )
            }
            for extension_id in back:
                if not added[extension_id] & registered:
                    del added[extension_id]
            left.difference_update(back)
        entities: list[Entity] = []
        for extension_id, extension in current.items():
            if extension_id in added or extension_id in excluded:
                continue
            made = list(make_entities(extension))
            added[extension_id] = {entity.unique_id for entity in made}
            entities.extend(made)
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def add_pbx_entities_dynamically[DescriptionT: EntityDescription](
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[DescriptionT],
    exists: Callable[[DescriptionT, FastData], bool],
    make_entity: Callable[[DescriptionT], Entity],
) -> None:
    """Add each entity of the PBX's device once the fast data shows it
    exists: at setup, or at the first poll that reads its topic. Which ones
    exist depends on what the PBX reports, so a topic refused at setup (a
    right granted since) would otherwise get its entities only at a reload.
    """
    coordinator = entry.runtime_data.fast
    waiting = list(descriptions)

    @callback
    def add_new() -> None:
        if not coordinator.last_update_success:
            return
        ready = [
            description
            for description in waiting
            if exists(description, coordinator.data)
        ]
        for description in ready:
            waiting.remove(description)
        if ready:
            async_add_entities(make_entity(description) for description in ready)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def call_group_device_identifier(
    info: PbxInfo, scope: CallScope, name: str
) -> tuple[str, str]:
    """Device registry identifier of a queue or ring group."""
    return (DOMAIN, f"{info.unique_id}_{scope}_{name}")


def extension_device_info(
    runtime: PbxRuntimeData, extension_id: str, number: str, name: str | None
) -> DeviceInfo:
    """The device of one extension (or user), under the PBX's device.

    Every vendor's extension entities share it, so actions can target it. The
    phone's own make shows in the user agent sensor, not here.
    """
    info = runtime.info
    return DeviceInfo(
        identifiers={extension_device_identifier(info, extension_id)},
        name=f"{name} ({number})" if name and name != number else number,
        manufacturer=info.manufacturer,
        model="Extension",
        via_device_id=runtime.pbx_device_id,
    )


class PbxCallGroupEntity(PbxEntity[PbxFastCoordinator]):
    """An entity of a queue's or ring group's device, fed by today's calls."""

    def __init__(
        self,
        *,
        coordinator: PbxFastCoordinator,
        description: EntityDescription,
        key: str,
        scope: CallScope,
        name: str,
    ) -> None:
        """Remember which group this entity shows."""
        super().__init__(
            coordinator=coordinator,
            description=description,
            object_id=f"{scope}_{name}",
        )
        self.group_key = key
        info = coordinator.config_entry.runtime_data.info
        self._attr_device_info = DeviceInfo(
            identifiers={call_group_device_identifier(info, scope, name)},
            name=name,
            manufacturer=info.manufacturer,
            model=GROUP_MODELS[scope],
            via_device_id=coordinator.config_entry.runtime_data.pbx_device_id,
        )

    @property
    def stats(self) -> GroupStats:
        """Today's figures; only read while ``available``."""
        activity = self.coordinator.data.calls
        assert activity is not None
        return activity.group(self.group_key)

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed."""
        activity = self.coordinator.data.calls
        return (
            super().available
            and activity is not None
            and self.group_key in activity.groups
        )


class PbxCallUserEntity(PbxEntity[PbxFastCoordinator]):
    """An entity of a user's (extension's) device, fed by today's calls."""

    def __init__(
        self,
        *,
        coordinator: PbxFastCoordinator,
        description: EntityDescription,
        number: str,
        name: str | None,
    ) -> None:
        """Share the extension device, so actions can target it."""
        super().__init__(
            coordinator=coordinator, description=description, object_id=f"ext_{number}"
        )
        self.number = number
        self._attr_device_info = extension_device_info(
            coordinator.config_entry.runtime_data, number, number, name
        )

    @property
    def stats(self) -> UserStats:
        """Today's figures; only read while ``available``."""
        activity = self.coordinator.data.calls
        assert activity is not None
        return activity.user(self.number)

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed."""
        activity = self.coordinator.data.calls
        return (
            super().available and activity is not None and self.number in activity.users
        )


GROUP_MODELS: dict[CallScope, str] = {
    CallScope.QUEUE: "Queue",
    CallScope.RING_GROUP: "Ring group",
}


def add_call_entities_dynamically(
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    make_group_entities: Callable[[str, CallScope, str], Iterable[Entity]],
    make_user_entities: Callable[[str, str | None], Iterable[Entity]],
) -> None:
    """Add a queue's, ring group's or user's entities once it is first seen,
    in today's calls or (after a restart) in what earlier runs stored.
    """
    coordinator = entry.runtime_data.fast
    added_groups: set[str] = set()
    added_users: set[str] = set()

    def add_new() -> None:
        activity = coordinator.data.calls
        if activity is None:
            return
        # A deleted device's user or group comes back with its next call.
        added_groups.difference_update(activity.revived)
        added_users.difference_update(activity.revived)
        entities: list[Entity] = []
        for key, (scope, name) in activity.groups.items():
            if key not in added_groups:
                added_groups.add(key)
                entities.extend(make_group_entities(key, scope, name))
        for number, user_name in activity.users.items():
            if number not in added_users:
                added_users.add(number)
                entities.extend(make_user_entities(number, user_name))
        if entities:
            async_add_entities(entities)

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


class PbxUsageEntity(PbxEntity[PbxSlowCoordinator]):
    """An entity of an extension's device, fed by call accounting."""

    def __init__(
        self,
        *,
        coordinator: PbxSlowCoordinator,
        description: EntityDescription,
        extension: str,
        name: str | None,
    ) -> None:
        """Share the extension device."""
        super().__init__(
            coordinator=coordinator,
            description=description,
            object_id=f"ext_{extension}",
        )
        self.extension_id = extension
        self._attr_device_info = extension_device_info(
            coordinator.config_entry.runtime_data, extension, extension, name
        )

    @property
    def available(self) -> bool:
        """Unavailable while the accounting cannot be read."""
        data: SlowData | None = self.coordinator.data
        return super().available and data is not None and data.usage_today is not None

    def _source(self) -> object:
        """The extension's accounting (a poll also brings, say, a new count
        of requests left, which these entities do not show).
        """
        data: SlowData | None = self.coordinator.data
        if data is None:
            return (self.coordinator.last_update_success,)
        return (
            self.coordinator.last_update_success,
            data.usage_today is not None,
            (data.usage_today or {}).get(self.extension_id),
            (data.usage_month or {}).get(self.extension_id),
            data.usage_since,
        )


def add_slow_entities_dynamically[T](
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    items: Callable[[SlowData], Mapping[str, T] | None],
    make_entities: Callable[[str, T], Iterable[Entity]],
) -> None:
    """Add an item's entities once the slow data first lists it (an
    extension's usage, a subscriber's account, an indicator, a DID, a desk).
    """
    coordinator = entry.runtime_data.slow
    added: set[str] = set()

    @callback
    def add_new() -> None:
        data: SlowData | None = coordinator.data  # None while no poll succeeded
        current = None if data is None else items(data)
        if not current:
            return
        new = {key: item for key, item in current.items() if key not in added}
        added.update(new)
        if new:
            async_add_entities(
                entity
                for key, item in new.items()
                for entity in make_entities(key, item)
            )

    add_new()
    entry.async_on_unload(coordinator.async_add_listener(add_new))


def usage_by_extension(data: SlowData) -> dict[str, ExtensionUsage]:
    """Every extension the month's or today's accounting lists."""
    return {**(data.usage_month or {}), **(data.usage_today or {})}


class PbxSubscriberEntity(PbxEntity[PbxSlowCoordinator]):
    """An entity of a billed subscriber's device (call accounting)."""

    def __init__(
        self,
        *,
        coordinator: PbxSlowCoordinator,
        description: EntityDescription,
        subscriber: Subscriber,
    ) -> None:
        """One device per subscriber, under the PBX's device."""
        super().__init__(
            coordinator=coordinator,
            description=description,
            object_id=f"subscriber_{subscriber.id}",
        )
        self.subscriber_id = subscriber.id
        info = coordinator.config_entry.runtime_data.info
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{info.unique_id}_subscriber_{subscriber.id}")},
            name=subscriber.name,
            manufacturer=info.manufacturer,
            model="Subscriber",
            via_device_id=coordinator.config_entry.runtime_data.pbx_device_id,
        )

    @property
    def account(self) -> AccountSummary | None:
        """The account over the current month, as last polled."""
        data: SlowData | None = self.coordinator.data
        if data is None or data.accounts is None:
            return None
        return data.accounts.get(self.subscriber_id)

    @property
    def available(self) -> bool:
        """Unavailable while the account cannot be read."""
        return super().available and self.account is not None

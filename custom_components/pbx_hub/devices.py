"""Stale devices: extension devices go once the PBX surely no longer lists them."""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util.hass_dict import HassKey

from .client import Extension, Topic
from .client.stale import StaleExtensions
from .const import CONF_EXCLUDED_EXTENSIONS, DOMAIN
from .coordinator import PbxConfigEntry, PbxRuntimeData
from .entity import extension_device_identifier

STALE_DEVICES: HassKey[dict[str, StaleDevices]] = HassKey(f"{DOMAIN}_stale_devices")
"""Each entry's stale-device counts, kept across reloads."""


class StaleDevices:
    """Drops the devices of extensions the PBX no longer lists or the user excluded."""

    def __init__(self, hass: HomeAssistant, entry: PbxConfigEntry) -> None:
        """Start without a reference: the first list sets it."""
        self._hass = hass
        self._entry = entry
        self._stale = StaleExtensions()

    @callback
    def count(self, extensions: dict[str, Extension] | None) -> None:
        """Count a poll's list; remove the devices it says are stale or excluded."""
        devices = self._extension_devices()
        lists_extensions = Topic.EXTENSIONS in self._entry.runtime_data.coordinators
        gone = self._stale.count(
            (extensions or {}) if lists_extensions else (),
            devices,
            self._entry.options.get(CONF_EXCLUDED_EXTENSIONS, ()),
        )
        registry = dr.async_get(self._hass)
        for extension_id in sorted(gone):
            registry.async_remove_device(devices[extension_id].id)

    def _extension_devices(self) -> dict[str, dr.DeviceEntry]:
        """The entry's extension devices by extension id."""
        prefix = extension_device_identifier(self._entry.runtime_data.info, "")[1]
        registry = dr.async_get(self._hass)
        return {
            identifier.removeprefix(prefix): device
            for device in dr.async_entries_for_config_entry(
                registry, self._entry.entry_id
            )
            for domain, identifier in device.identifiers
            if domain == DOMAIN and identifier.startswith(prefix)
        }


def live_identifiers(runtime: PbxRuntimeData) -> set[tuple[str, str]]:
    """Devices the last polls still show (PBX, extensions, usage, subscribers)."""
    info = runtime.info
    extensions = set(runtime.data(Topic.EXTENSIONS) or {})
    if (usage := runtime.data(Topic.USAGE)) is not None:
        extensions |= set(usage.today) | set(usage.month)
    accounts = runtime.data(Topic.ACCOUNTS)
    subscribers = set() if accounts is None else set(accounts.accounts)
    return {
        (DOMAIN, info.unique_id),
        *(extension_device_identifier(info, ext) for ext in extensions),
        *((DOMAIN, f"{info.unique_id}_subscriber_{sid}") for sid in subscribers),
    }

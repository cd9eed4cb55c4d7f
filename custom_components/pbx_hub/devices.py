"""Stale devices: extension devices go once the PBX surely no longer lists
them (see docs/design-stale-devices.md).
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.util.hass_dict import HassKey

from .client import Extension, Topic
from .const import CONF_EXCLUDED_EXTENSIONS, DOMAIN
from .coordinator import PbxConfigEntry, PbxRuntimeData
from .entity import extension_device_identifier

STALE_AFTER_POLLS = 3
"""Counted lists in a row an extension must be missing from before its device goes."""


STALE_DEVICES: HassKey[dict[str, StaleDevices]] = HassKey(f"{DOMAIN}_stale_devices")
"""Each entry's stale-device counts, kept across reloads."""


class StaleDevices:
    """Drops the devices of extensions the PBX no longer lists or the user excluded."""

    def __init__(self, hass: HomeAssistant, entry: PbxConfigEntry) -> None:
        """Start without a reference: the first list sets it."""
        self._hass = hass
        self._entry = entry
        self._known: set[str] = set()
        """The extensions of the last list that counted."""
        self._missing: dict[str, int] = {}
        """Lists in a row, of those that counted, lacking each extension."""
        self._unrelated = 0
        """Lists in a row naming none of ``_known``."""

    @callback
    def count(self, extensions: dict[str, Extension] | None) -> None:
        """Count a successful poll's list, and remove what enough lists
        lacked; the excluded extensions' devices whatever the list.
        """
        excluded = set(self._entry.options.get(CONF_EXCLUDED_EXTENSIONS, ()))
        devices = self._extension_devices()
        for extension_id in devices.keys() & excluded:
            self._remove_device(devices.pop(extension_id))
        if Topic.EXTENSIONS not in self._entry.runtime_data.coordinators:
            return
        listed = set(extensions or {})
        if not listed:
            return
        if self._known and not listed & self._known:
            self._unrelated += 1
            if self._unrelated >= STALE_AFTER_POLLS:
                self._known = listed
                self._missing = {}
                self._unrelated = 0
            return
        self._unrelated = 0
        self._known = listed
        self._missing = {
            extension_id: self._missing.get(extension_id, 0) + 1
            for extension_id in devices.keys() - listed
        }
        for extension_id, polls in list(self._missing.items()):
            if polls >= STALE_AFTER_POLLS:
                self._remove_device(devices[extension_id])
                del self._missing[extension_id]

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

    def _remove_device(self, device: dr.DeviceEntry) -> None:
        dr.async_get(self._hass).async_remove_device(device.id)


def live_identifiers(runtime: PbxRuntimeData) -> set[tuple[str, str]]:
    """Devices the last polls still show: the PBX itself, the extensions it
    lists, those with call accounting, and the followed subscribers.
    """
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

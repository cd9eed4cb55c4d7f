"""PBX Hub: business phone systems in Home Assistant."""

from __future__ import annotations

from dataclasses import replace

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    HomeAssistantError,
)
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .calls import CallTracker
from .client import (
    VENDORS,
    Capability,
    PbxClockSkewError,
    PbxError,
    PbxInvalidInputError,
    PbxUnsupportedError,
)
from .const import CONF_EXCLUDED_EXTENSIONS, CONF_VENDOR, CONF_VERIFY_SSL, DOMAIN
from .coordinator import (
    CLOCK_SKEW,
    REPAIR_ISSUES,
    TLS_UNVERIFIED,
    PbxConfigEntry,
    PbxFastCoordinator,
    PbxRuntimeData,
    PbxSlowCoordinator,
    client_for_entry,
    error_translation,
    issue_id,
    needs_reauth,
)
from .entity import extension_device_identifier
from .services import async_setup_services

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.NOTIFY,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions once, whatever entries exist."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> bool:
    """Identify the PBX, poll it once, then set up the platforms."""
    _sync_tls_issue(hass, entry)
    try:
        client = client_for_entry(hass, dict(entry.data))
        info = await client.async_identify()
    except PbxError as err:
        key, placeholders = error_translation(err)
        error_class: type[HomeAssistantError] = ConfigEntryNotReady
        if needs_reauth(err):
            error_class = ConfigEntryAuthFailed
        elif isinstance(err, PbxClockSkewError):
            # Often at boot, before the clock is synchronised: say so, and retry.
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(CLOCK_SKEW, entry),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=CLOCK_SKEW,
                translation_placeholders={"title": entry.title},
            )
        elif isinstance(err, PbxInvalidInputError | PbxUnsupportedError):
            # A tenant that no longer exists will not come back by retrying.
            error_class = ConfigEntryError
        raise error_class(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err

    if entry.unique_id:
        # Entities and devices are named after the entry's identity, which stays
        # when a vendor's identity follows its key and the key is replaced.
        info = replace(info, unique_id=entry.unique_id)
    fast = PbxFastCoordinator(hass, entry, client)
    slow = PbxSlowCoordinator(hass, entry, client)
    entry.runtime_data = PbxRuntimeData(client=client, info=info, fast=fast, slow=slow)
    await fast.async_config_entry_first_refresh()
    # A failing DID list must not keep the PBX from loading: its entities wait.
    await slow.async_refresh()

    stale = StaleDevices(hass, entry)
    entry.async_on_unload(fast.async_add_listener(stale.remove))
    stale.remove()
    options_at_setup = dict(entry.options)

    async def _async_reload_on_options(
        hass: HomeAssistant, entry: PbxConfigEntry
    ) -> None:
        # Reauth and reconfigure reload the entry themselves; only new options
        # need a reload here.
        if entry.options != options_at_setup:
            await hass.config_entries.async_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(_async_reload_on_options))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


@callback
def _sync_tls_issue(hass: HomeAssistant, entry: PbxConfigEntry) -> None:
    """A warning for as long as the entry accepts any certificate from an
    ``https://`` address: anyone on the path to the PBX could then pose as
    it. A plain ``http://`` address has no certificate to verify, so the
    warning would be wrong there. Reconfiguring with verification on (which
    reloads the entry) or removing the entry clears it.
    """
    spec = VENDORS.get(str(entry.data.get(CONF_VENDOR)))
    in_clear = spec is not None and spec.client_class.sends_in_clear(entry.data)
    if entry.data.get(CONF_VERIFY_SSL, True) is False and not in_clear:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(TLS_UNVERIFIED, entry),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=TLS_UNVERIFIED,
            translation_placeholders={"title": entry.title},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id(TLS_UNVERIFIED, entry))


class StaleDevices:
    """Drops the devices of extensions the PBX no longer lists or the user
    excluded.

    Only where the PBX lists its extensions: users known only through their
    calls stay, as do queues and ring groups. A list that names none of the
    extensions of the last list trusted removes nothing: a PBX does not replace
    every extension at once, a garbled answer does (and removing would lose
    each device's area and names). Such devices are the user's to delete.
    """

    def __init__(self, hass: HomeAssistant, entry: PbxConfigEntry) -> None:
        """Trust the first list that comes."""
        self._hass = hass
        self._entry = entry
        self._trusted: set[str] = set()

    @callback
    def remove(self) -> None:
        """Remove what the latest successful poll no longer lists."""
        runtime = self._entry.runtime_data
        if (
            not runtime.fast.last_update_success
            or Capability.EXTENSIONS not in runtime.client.capabilities
        ):
            return
        listed = set(runtime.fast.data.extensions)
        if self._trusted and not listed & self._trusted:
            return
        self._trusted = listed
        _remove_stale_devices(self._hass, self._entry, listed)


def _remove_stale_devices(
    hass: HomeAssistant, entry: PbxConfigEntry, listed: set[str]
) -> None:
    runtime = entry.runtime_data
    excluded = set(entry.options.get(CONF_EXCLUDED_EXTENSIONS, ()))
    current = {
        extension_device_identifier(runtime.info, extension_id)
        for extension_id in listed
        if extension_id not in excluded
    }
    extension_prefix = extension_device_identifier(runtime.info, "")[1]
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if device.identifiers & current or not any(
            identifier.startswith(extension_prefix)
            for domain, identifier in device.identifiers
            if domain == DOMAIN
        ):
            continue
        registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PbxConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete an extension device the PBX no longer lists, or a
    user's or queue's device known only through calls (until its next call).
    """
    runtime = entry.runtime_data
    if (tracker := runtime.fast.call_tracker) is not None:
        prefix = f"{runtime.info.unique_id}_"
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier.startswith(prefix):
                tracker.forget(identifier.removeprefix(prefix))
    return not device.identifiers & _live_identifiers(runtime)


def _live_identifiers(runtime: PbxRuntimeData) -> set[tuple[str, str]]:
    """Devices the last polls still show: the PBX itself, the extensions it
    lists, those with call accounting, and the followed subscribers.
    """
    info = runtime.info
    extensions = set(runtime.fast.data.extensions)
    slow = runtime.slow.data
    subscribers: set[str] = set()
    if slow is not None:
        extensions |= set(slow.usage_today or {}) | set(slow.usage_month or {})
        subscribers = set(slow.accounts or {})
    return {
        (DOMAIN, info.unique_id),
        *(extension_device_identifier(info, ext) for ext in extensions),
        *((DOMAIN, f"{info.unique_id}_subscriber_{sid}") for sid in subscribers),
    }


async def async_unload_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> bool:
    """Unload the platforms; the coordinators stop with the entry."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    if (tracker := entry.runtime_data.fast.call_tracker) is not None:
        await tracker.async_save()
    return True


async def async_remove_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> None:
    """Take the entry's repair issues and stored call history with it."""
    for kind in REPAIR_ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))
    suffix = f"_{entry.entry_id}"
    for domain, issue in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue.endswith(suffix):
            ir.async_delete_issue(hass, DOMAIN, issue)
    await CallTracker(hass, entry.entry_id).async_remove()

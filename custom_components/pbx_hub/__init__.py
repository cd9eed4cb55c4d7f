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
from homeassistant.util.hass_dict import HassKey

from .calls import CallTracker
from .client import (
    VENDORS,
    Capability,
    PbxClockSkewError,
    PbxError,
    PbxInvalidInputError,
    PbxPermissionError,
    PbxUnsupportedError,
)
from .const import CONF_EXCLUDED_EXTENSIONS, CONF_VENDOR, CONF_VERIFY_SSL, DOMAIN
from .coordinator import (
    CLOCK_SKEW,
    REPAIR_ISSUES,
    SETUP_REFUSED,
    TLS_UNVERIFIED,
    FastData,
    PbxConfigEntry,
    PbxFastCoordinator,
    PbxRuntimeData,
    PbxSlowCoordinator,
    client_for_entry,
    create_entry_issue,
    error_translation,
    issue_id,
    needs_reauth,
)
from .entity import extension_device_identifier, pbx_device_info
from .repairs import sync_plain_http_issue
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
    sync_plain_http_issue(hass, entry)
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
            create_entry_issue(hass, entry, CLOCK_SKEW)
        elif isinstance(err, PbxPermissionError):
            # Good credentials without a right or licence: no reauth (new
            # credentials would not help). Say what to grant, and retry: the
            # entry loads by itself once it is granted.
            create_entry_issue(
                hass,
                entry,
                SETUP_REFUSED,
                translation_key=key,
                placeholders=placeholders,
            )
        elif isinstance(err, PbxInvalidInputError | PbxUnsupportedError):
            # A tenant that no longer exists will not come back by retrying.
            error_class = ConfigEntryError
        raise error_class(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, issue_id(SETUP_REFUSED, entry))

    if entry.unique_id:
        # Entities and devices are named after the entry's identity, which stays
        # when a vendor's identity follows its key and the key is replaced.
        info = replace(info, unique_id=entry.unique_id)
    fast = PbxFastCoordinator(hass, entry, client)
    slow = PbxSlowCoordinator(hass, entry, client)
    # Registered before any entity, so extension devices can name it by its id.
    pbx_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **pbx_device_info(info)
    )
    entry.runtime_data = PbxRuntimeData(
        client=client, info=info, pbx_device_id=pbx_device.id, fast=fast, slow=slow
    )
    await fast.async_config_entry_first_refresh()
    # A failing DID list must not keep the PBX from loading: its entities wait.
    await slow.async_refresh()

    stale = hass.data.setdefault(STALE_DEVICES, {}).setdefault(
        entry.entry_id, StaleDevices(hass, entry)
    )
    stale.count(fast.data)
    entry.async_on_unload(fast.async_add_poll_listener(stale.count))
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
        create_entry_issue(hass, entry, TLS_UNVERIFIED)
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id(TLS_UNVERIFIED, entry))


STALE_AFTER_POLLS = 3
"""Successful polls in a row an extension must be missing from before its
device goes. Home Assistant's ``stale-devices`` rule asks to remove only
devices that are surely gone; its example (and core integrations such as
Tailscale) remove on the first list that lacks a device. One answer is not
proof here: a PBX that is being reconfigured or a half-read answer can
leave an extension out once, and removing its device loses the area, name
and automations the user gave it. Three polls are a few minutes at the
usual intervals: a removed extension still goes soon.
"""


STALE_DEVICES: HassKey[dict[str, StaleDevices]] = HassKey(f"{DOMAIN}_stale_devices")
"""Each entry's stale-device counts, kept across reloads: a reload (new
options, reauth) must not restart or change the counting.
"""


class StaleDevices:
    """Drops the devices of extensions the PBX no longer lists or the user
    excluded.

    Only where the PBX lists its extensions: users known only through their
    calls stay, as do queues and ring groups. Excluded extensions go at once:
    that is the user's decision, not the PBX's answer. Others go once
    ``STALE_AFTER_POLLS`` lists in a row that count lack them.

    A failed poll or an empty list counts for nothing. Nor does a list that
    names none of the reference extensions (those of the last list that
    counted): a PBX does not replace every extension at once, a garbled
    answer or ids that changed their form do, and the counter alone would
    remove every device after a few polls. But if ``STALE_AFTER_POLLS``
    such lists come in a row, the change is real (every extension was
    replaced): the latest becomes the reference, removing nothing that time,
    and the lists after it count as usual. So old devices go after twice
    ``STALE_AFTER_POLLS`` polls, and none stays forever.

    The counts outlive a reload (see ``STALE_DEVICES``), so reloading
    changes nothing. After a restart the first list that is not empty is
    the reference, and counts. Not the registered devices: they mix the
    extensions of every list seen, counted or not, so the first list would
    count though the running entry had refused it, and remove what it kept.
    """

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
    def count(self, data: FastData) -> None:
        """Count a successful poll's list, and remove what enough lists
        lacked; the excluded extensions' devices whatever the list.
        """
        excluded = set(self._entry.options.get(CONF_EXCLUDED_EXTENSIONS, ()))
        devices = self._extension_devices()
        for extension_id in devices.keys() & excluded:
            self._remove_device(devices.pop(extension_id))
        if Capability.EXTENSIONS not in self._entry.runtime_data.client.capabilities:
            return
        listed = set(data.extensions)
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
    """Take the entry's repair issues, stale-device counts and stored call
    history with it.
    """
    for kind in REPAIR_ISSUES:
        ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))
    hass.data.get(STALE_DEVICES, {}).pop(entry.entry_id, None)
    suffix = f"_{entry.entry_id}"
    for domain, issue in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue.endswith(suffix):
            ir.async_delete_issue(hass, DOMAIN, issue)
    await CallTracker(hass, entry.entry_id).async_remove()

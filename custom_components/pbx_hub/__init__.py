"""PBX Hub: business phone systems in Home Assistant."""

from __future__ import annotations

from dataclasses import replace

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryError,
    ConfigEntryNotReady,
    HomeAssistantError,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .calls import CallTracker
from .client import (
    Cadence,
    PbxClockSkewError,
    PbxError,
    PbxPermissionError,
    Topic,
)
from .client.error_keys import error_translation, is_bad_input, needs_reauth
from .client.poll_issues import CLOCK_SKEW
from .clients import client_for_entry
from .const import DOMAIN
from .coordinator import PbxConfigEntry, PbxRuntimeData, build_coordinators
from .devices import STALE_DEVICES, StaleDevices, live_identifiers
from .entity import GROUP_MODELS, pbx_device_info
from .helpers import translated
from .push import push_feed
from .repairs import (
    SETUP_REFUSED,
    create_entry_issue,
    delete_entry_issue,
    delete_entry_issues,
    sync_address_issues,
)
from .services import async_setup_services

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
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
    sync_address_issues(hass, entry)
    try:
        client = client_for_entry(hass, dict(entry.data), identity=entry.unique_id)
        info = await client.async_identify()
    except PbxError as err:
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
            key, placeholders = error_translation(err)
            create_entry_issue(
                hass,
                entry,
                SETUP_REFUSED,
                translation_key=key,
                placeholders=placeholders,
            )
        elif is_bad_input(err):
            # A tenant that no longer exists will not come back by retrying.
            error_class = ConfigEntryError
        raise translated(error_class, err) from err
    delete_entry_issue(hass, entry, SETUP_REFUSED)

    if entry.unique_id:
        # Entities and devices are named after the entry's identity, which stays
        # when a vendor's identity follows its key and the key is replaced.
        info = replace(info, unique_id=entry.unique_id)
    tracker = None
    if Topic.CALLS in client.topics:
        tracker = CallTracker(hass, entry.entry_id)
        # The queues, users and call events of earlier runs.
        await tracker.async_load()
    push = push_feed(hass, client, entry.title)
    coordinators = build_coordinators(hass, entry, client, tracker, push)
    # Registered before any entity, so extension devices can name it by its id.
    pbx_device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, **pbx_device_info(info)
    )
    entry.runtime_data = PbxRuntimeData(
        hass=hass,
        client=client,
        info=info,
        pbx_device_id=pbx_device.id,
        coordinators=coordinators,
        call_tracker=tracker,
        push=push,
    )
    # The fast topics must read for the PBX to load; a failing slow topic (a
    # DID list) must not keep it from loading: its entities wait. The rate
    # limits last, as the other reads left them.
    for coordinator in coordinators.values():
        if coordinator.cadence is Cadence.FAST:
            await coordinator.async_config_entry_first_refresh()
    for coordinator in coordinators.values():
        if coordinator.cadence is not Cadence.FAST:
            await coordinator.async_refresh()

    stale = hass.data.setdefault(STALE_DEVICES, {}).setdefault(
        entry.entry_id, StaleDevices(hass, entry)
    )
    # Counted at each extension list; where there is none, excluded devices
    # still go at each poll of the first topic.
    counted = coordinators.get(Topic.EXTENSIONS) or next(iter(coordinators.values()))
    stale.count(entry.runtime_data.data(Topic.EXTENSIONS))
    entry.async_on_unload(
        counted.async_add_poll_listener(
            lambda _: stale.count(entry.runtime_data.data(Topic.EXTENSIONS))
        )
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if (push := entry.runtime_data.push) is not None:
        # Connects in the background; stopped at unload (and so at reload).
        await push.async_start(entry)
    return True


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: PbxConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device no longer listed, or a call user's or a queue's."""
    runtime = entry.runtime_data
    if device.identifiers & live_identifiers(runtime):
        return False
    if (tracker := runtime.call_tracker) is not None:
        # A call user's device is ``ext_<number>``, a group's ``<scope>_<name>``.
        prefix = f"{runtime.info.unique_id}_"
        for domain, identifier in device.identifiers:
            if domain != DOMAIN or not identifier.startswith(prefix):
                continue
            object_id = identifier.removeprefix(prefix)
            if object_id.startswith("ext_"):
                tracker.forget_user(object_id.removeprefix("ext_"))
            for scope in GROUP_MODELS:
                if object_id.startswith(f"{scope}_"):
                    tracker.forget_group(scope, object_id.removeprefix(f"{scope}_"))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> bool:
    """Unload the platforms; the coordinators stop with the entry."""
    if not await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        return False
    if (tracker := entry.runtime_data.call_tracker) is not None:
        await tracker.async_save()
    return True


async def async_remove_entry(hass: HomeAssistant, entry: PbxConfigEntry) -> None:
    """Take the entry's repair issues, stale-device counts and call history with it."""
    delete_entry_issues(hass, entry)
    hass.data.get(STALE_DEVICES, {}).pop(entry.entry_id, None)
    await CallTracker(hass, entry.entry_id).async_remove()

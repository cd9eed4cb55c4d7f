"""The people voice requests name: extension devices across every loaded PBX."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .client import Topic
from .client.people import Person
from .const import DOMAIN
from .coordinator import PbxRuntimeData
from .entity import extension_device_identifier


def _extensions(runtime: PbxRuntimeData) -> Iterable[tuple[str, str]]:
    """Each extension's id and the number people know, and each call user's number."""
    for extension in (runtime.data(Topic.EXTENSIONS) or {}).values():
        yield extension.id, extension.shown_number
    if (calls := runtime.data(Topic.CALLS)) is not None:
        for number in calls.users:
            yield number, number


def async_people(hass: HomeAssistant) -> list[Person]:
    """Everyone with an extension device on a loaded entry, each once."""
    devices = dr.async_get(hass)
    people: dict[str, Person] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is not ConfigEntryState.LOADED:
            continue
        runtime = entry.runtime_data
        for extension_id, number in _extensions(runtime):
            device = devices.async_get_device_by_identifier(
                extension_device_identifier(runtime.info, extension_id),
                entry.entry_id,
            )
            if device is None or device.disabled or device.id in people:
                continue
            people[device.id] = Person(
                device_id=device.id,
                number=number,
                name=device.name_by_user or device.name or number,
            )
    return list(people.values())

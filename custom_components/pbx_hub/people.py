"""The people on the PBXs: extensions and call users, by name or number.

Voice requests name people ("call Alice", "DND on for 101"); this finds the
extension device they mean, across every loaded PBX.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .client import Topic
from .const import DOMAIN
from .coordinator import PbxRuntimeData
from .entity import extension_device_identifier


@dataclass(frozen=True, kw_only=True)
class Person:
    """An extension (or a call user) with a device of its own."""

    device_id: str
    number: str
    name: str
    """The device's name as the user sees it (renamed or not)."""

    @property
    def label(self) -> str:
        """How a list of candidates names this person."""
        return self.name if self.number in self.name else f"{self.name} ({self.number})"


def _extensions(runtime: PbxRuntimeData) -> Iterable[tuple[str, str]]:
    """Each extension's id and the number a person knows it by (a
    VoipCenter SIP account's direct number, not its login), and each call
    user's (keyed by number).
    """
    for extension in (runtime.data(Topic.EXTENSIONS) or {}).values():
        yield extension.id, extension.shown_number
    if (calls := runtime.data(Topic.CALLS)) is not None:
        for number in calls.users:
            yield number, number


def async_people(hass: HomeAssistant) -> list[Person]:
    """Everyone with an extension device on a loaded PBX Hub entry, once
    (an extension is also a call user where the vendor keys both alike).
    """
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


def _full_names(person: Person) -> set[str]:
    """The number, the whole name, and the name without its "(number)"."""
    name = person.name.casefold()
    return {person.number.casefold(), name, name.split(" (", 1)[0].strip()}


def _names(person: Person) -> set[str]:
    """What a speaker may call ``person``: a full name or the first word."""
    full = _full_names(person)
    bare = person.name.casefold().split(" (", 1)[0].strip()
    return full | {bare.split(" ", 1)[0]}


def match_people(people: Iterable[Person], spoken: str) -> list[Person]:
    """The people ``spoken`` names; an exact number or full name wins over a
    first name shared by several.
    """
    wanted = " ".join(spoken.casefold().split())
    people = list(people)
    exact = [person for person in people if wanted in _full_names(person)]
    return exact or [person for person in people if wanted in _names(person)]

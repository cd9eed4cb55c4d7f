"""The call-state sensor of each extension, polled or pushed (docs/calls-state.md)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import HomeAssistant

from .client import CallState, Topic
from .coordinator import PbxConfigEntry, PbxRuntimeData
from .entity import Place, listed_extension_place, remove_sensors


def _call_state_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    """The extension's device, named as the extension list (else the calls) name it."""
    # A user's device as its call figures name it: the same device, unchanged.
    users = getattr(runtime.data(Topic.CALLS), "users", None) or {}
    return listed_extension_place(runtime, key, users.get(key))


CALL_STATE_SENSOR: dict[str, Any] = {
    "key": "call_state",
    "translation_key": "call_state",
    "device_class": SensorDeviceClass.ENUM,
    "options": [state.value for state in CallState],
    "topic": Topic.CALL_STATES,
    "items_fn": dict.keys,
    "place_fn": _call_state_place,
    "value_fn": lambda state: None if state.state is None else state.state.value,
    "attributes_fn": attrgetter("attributes"),
}
"""The call-state sensor's description fields (sensor.py makes it)."""


def call_state_sensors[D](
    hass: HomeAssistant, entry: PbxConfigEntry, make: Callable[..., D]
) -> tuple[D, ...]:
    """The call-state sensor's description where the entry has call states."""
    if Topic.CALL_STATES in entry.runtime_data.coordinators:
        return (make(**CALL_STATE_SENSOR),)
    # Else those of before go: they would stay unavailable.
    remove_sensors(hass, entry, CALL_STATE_SENSOR["key"])
    return ()

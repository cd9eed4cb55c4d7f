"""The call-state sensor of each extension, polled or pushed (docs/calls-state.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .client import CallState, ExtensionCallState, Topic
from .coordinator import PbxConfigEntry, PbxRuntimeData
from .entity import Place, listed_extension_place


def _call_state_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    """The extension's device, named as the extension list (else the calls) name it."""
    # A user's device as its call figures name it: the same device, unchanged.
    users = getattr(runtime.data(Topic.CALLS), "users", None) or {}
    return listed_extension_place(runtime, key, users.get(key))


def call_state_attributes(state: ExtensionCallState) -> dict[str, Any]:
    """The other party, the direction and since when; ``None`` where not told."""
    return {
        "other_number": state.other_number,
        "other_name": state.other_name,
        "direction": None if state.direction is None else state.direction.value,
        "since": state.since and state.since.isoformat(),
    }


CALL_STATE_SENSOR: dict[str, Any] = {
    "key": "call_state",
    "translation_key": "call_state",
    "device_class": SensorDeviceClass.ENUM,
    "options": [state.value for state in CallState],
    "topic": Topic.CALL_STATES,
    "items_fn": dict.keys,
    "place_fn": _call_state_place,
    "value_fn": lambda state: None if state.state is None else state.state.value,
    "attributes_fn": call_state_attributes,
}
"""The call-state sensor's description fields (sensor.py makes it)."""


def call_state_sensors[D](
    hass: HomeAssistant, entry: PbxConfigEntry, make: Callable[..., D]
) -> tuple[D, ...]:
    """The call-state sensor's description where the entry has call states."""
    if Topic.CALL_STATES in entry.runtime_data.coordinators:
        return (make(**CALL_STATE_SENSOR),)
    # Else those of before go: they would stay unavailable.
    registry = er.async_get(hass)
    suffix = f"_{CALL_STATE_SENSOR['key']}"
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.domain == "sensor" and entity.unique_id.endswith(suffix):
            registry.async_remove(entity.entity_id)
    return ()

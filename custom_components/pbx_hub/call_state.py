"""The call-state sensor of each extension: idle, ringing or in a call, with
the other party and since when; polled or pushed, the same shape.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.sensor import SensorDeviceClass

from .client import CallState, ExtensionCallState, Topic
from .coordinator import PbxRuntimeData
from .entity import Place, extension_place


def _call_state_place(runtime: PbxRuntimeData, key: str, data: Any) -> Place:
    """The extension's device, named as the extension list names it (a
    vendor without one, VoIPcloud, by its user number).
    """
    extension = (runtime.data(Topic.EXTENSIONS) or {}).get(key)
    if extension is None:
        return extension_place(runtime, key, key, None)
    return extension_place(runtime, key, extension.number, extension.name)


def call_state_attributes(state: ExtensionCallState) -> dict[str, Any]:
    """The other party, the direction and since when; unknown (``None``)
    where the PBX did not say, nothing of a call while idle.
    """
    return {
        "other_number": state.other_number,
        "other_name": state.other_name,
        "direction": None if state.direction is None else state.direction.value,
        "since": state.since,
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

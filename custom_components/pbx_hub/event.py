"""Events: a user's missed call and a queue's abandoned call.

Each call fires once: ``CallTracker`` hands a call to one poll's data only, and
remembers across restarts which calls it handed out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import CallRecord, CallScope, group_key
from .coordinator import PbxConfigEntry
from .entity import (
    CALL_GROUP,
    CALL_USER,
    PbxEntity,
    PbxEntityDescription,
)
from .loader import add_entities_dynamically

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PbxEventEntityDescription(PbxEntityDescription, EventEntityDescription):
    """An event of one item: which of a poll's due calls are its own."""

    belongs_fn: Callable[[CallRecord, str], bool]


EVENTS = (
    PbxEventEntityDescription(
        key="missed_call",
        translation_key="missed_call",
        event_types=["missed_call"],
        **CALL_USER,
        belongs_fn=lambda call, number: (
            call.scope is CallScope.USER and call.user_number == number
        ),
    ),
    PbxEventEntityDescription(
        key="abandoned_call",
        translation_key="abandoned_call",
        event_types=["abandoned_call"],
        **CALL_GROUP,
        exists_fn=lambda stats: stats.scope is CallScope.QUEUE,
        belongs_fn=lambda call, key: (
            call.scope is CallScope.QUEUE
            and group_key(call.scope, call.group or "") == key
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of users and queues as they are first seen."""
    add_entities_dynamically(entry, async_add_entities, EVENTS, PbxCallEvent)


def _attributes(call: CallRecord) -> dict[str, str | None]:
    return {
        "caller": call.caller_name or call.caller,
        "number": call.caller,
        "time": call.started_at.isoformat(),
        "call_id": call.id,
    }


class PbxCallEvent(PbxEntity, EventEntity):
    """Fires each poll's due calls that belong to this user or queue, once."""

    entity_description: PbxEventEntityDescription
    _handled: tuple[CallRecord, ...] = ()

    def _fire_due(self) -> None:
        activity = self.coordinator.data
        # Data set again without a poll (an optimistic update) carries the same
        # tuple: its calls were handled already.
        if activity is None or activity.events is self._handled:
            return
        self._handled = activity.events
        for call in activity.events:
            if self.entity_description.belongs_fn(call, self.key):
                # One state per call: two missed calls in one poll run an
                # automation twice.
                self._trigger_event(self.entity_description.key, _attributes(call))
                self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """A user or queue first seen through a missed or abandoned call gets
        that call's event as it appears.
        """
        await super().async_added_to_hass()
        self._fire_due()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._fire_due()
        self._written = self._shown()
        super()._handle_coordinator_update()

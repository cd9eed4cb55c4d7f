"""Events: incoming, missed and abandoned calls, and the calls PBX Hub placed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import (
    async_dispatcher_connect,
    async_dispatcher_send,
)
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .client import (
    CallEvent,
    CallEventKind,
    CallNotification,
    ClicksToCall,
    rings_in,
)
from .const import DOMAIN
from .coordinator import PbxConfigEntry
from .entity import (
    CALL_GROUP,
    CALL_USER,
    EXTENSION_ITEMS,
    PbxEntity,
    PbxEntityDescription,
    callers,
)
from .loader import add_entities_dynamically

PARALLEL_UPDATES = 0

CALL_PLACED = "call_placed"
"""The event type of a call the PBX accepted from PBX Hub (button or action)."""


@dataclass(frozen=True, kw_only=True)
class PbxEventEntityDescription(PbxEntityDescription, EventEntityDescription):
    """An event of one item of a topic."""


def _event(key: str, items: dict[str, Any]) -> PbxEventEntityDescription:
    return PbxEventEntityDescription(
        key=key, translation_key=key, event_types=[key], **items
    )


EVENTS = (
    _event(CallEventKind.MISSED_CALL.value, CALL_USER),
    _event(CallEventKind.INCOMING_CALL.value, CALL_USER),
    _event(CallEventKind.ABANDONED_CALL.value, CALL_GROUP),
)
PLACED = tuple(_event(CALL_PLACED, items) for items in (EXTENSION_ITEMS, CALL_USER))
"""On each extension (without an extension list, user) that places calls."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add users' and groups' call events as first seen, and placed-call events."""
    add_entities_dynamically(entry, async_add_entities, EVENTS, PbxCallEvent)
    if isinstance(entry.runtime_data.client, ClicksToCall):
        placed = callers(entry, PLACED)
        add_entities_dynamically(entry, async_add_entities, placed, PbxPlacedCall)


class PbxCallEvent(PbxEntity, EventEntity):
    """Fires this user's or group's due events once; incoming calls also from push."""

    entity_description: PbxEventEntityDescription
    _handled: tuple[CallEvent, ...] = ()

    def _fire_due(self) -> bool:
        """Fire this item's due events; whether any was (and written)."""
        activity = self.coordinator.data
        # Data set again without a poll (an optimistic update) carries the same
        # tuple: its calls were handled already.
        if activity is None or activity.events is self._handled:
            return False
        self._handled = activity.events
        fired = False
        for event in activity.events:
            if event.kind in self.event_types and event.owner == self.key:
                # One state per call: two missed calls in one poll run an
                # automation twice.
                self._trigger_event(event.kind.value, event.attributes)
                self.async_write_ha_state()
                fired = True
        return fired

    @callback
    def _on_push(self, note: CallNotification) -> None:
        """Fire an incoming call to this user as pushed, once per call id."""
        if note.extension != self.key or not rings_in(note):
            return
        tracker = self.coordinator.config_entry.runtime_data.call_tracker
        if tracker is not None and not tracker.claim(note.call_id, dt_util.utcnow()):
            return
        self._trigger_event(CallEventKind.INCOMING_CALL.value, note.attributes)
        self.async_write_ha_state()

    async def async_added_to_hass(self) -> None:
        """Fire the call that made this item appear; listen to the push channel."""
        await super().async_added_to_hass()
        self._fire_due()
        feed = self.coordinator.config_entry.runtime_data.push
        if feed is not None and self.entity_description.key == "incoming_call":
            self.async_on_remove(feed.async_add_listener(self._on_push))

    @callback
    def _handle_coordinator_update(self) -> None:
        """Fire what is due; otherwise write only what changed."""
        if self._fire_due():
            self._written = self._shown()
        super()._handle_coordinator_update()


def placed_signal(entry: PbxConfigEntry) -> str:
    """The dispatcher signal of the entry's calls the PBX accepted."""
    return f"{DOMAIN}_{entry.entry_id}_{CALL_PLACED}"


@callback
def announce_placed_call(
    hass: HomeAssistant, entry: PbxConfigEntry, extension: str, number: str
) -> None:
    """Tell the extension's placed-call event that the PBX accepted a call."""
    async_dispatcher_send(hass, placed_signal(entry), extension, number)


class PbxPlacedCall(PbxEntity, EventEntity):
    """Shows each call the PBX accepted from this extension: the number and when."""

    entity_description: PbxEventEntityDescription

    async def async_added_to_hass(self) -> None:
        """Listen for the entry's placed calls."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, placed_signal(self.coordinator.config_entry), self._placed
            )
        )

    @callback
    def _placed(self, extension: str, number: str) -> None:
        if extension != self.key:
            return
        self._trigger_event(
            CALL_PLACED, {"number": number, "time": dt_util.utcnow().isoformat()}
        )
        self.async_write_ha_state()

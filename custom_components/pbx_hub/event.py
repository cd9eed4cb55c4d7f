"""Events: a user's missed call and a queue's abandoned call.

Each call fires once: ``CallTracker`` hands a call to one poll's data only, and
remembers across restarts which calls it handed out.
"""

from __future__ import annotations

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import CallRecord, CallScope, group_key
from .coordinator import PbxConfigEntry, PbxFastCoordinator
from .entity import (
    PbxCallGroupEntity,
    PbxCallUserEntity,
    PbxEntity,
    add_call_entities_dynamically,
)

PARALLEL_UPDATES = 0

MISSED_CALL = EventEntityDescription(
    key="missed_call", translation_key="missed_call", event_types=["missed_call"]
)
ABANDONED_CALL = EventEntityDescription(
    key="abandoned_call",
    translation_key="abandoned_call",
    event_types=["abandoned_call"],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of users and queues as they are first seen."""
    fast = entry.runtime_data.fast
    add_call_entities_dynamically(
        entry,
        async_add_entities,
        make_group_entities=lambda key, scope, name: (
            [
                AbandonedCallEvent(
                    coordinator=fast,
                    description=ABANDONED_CALL,
                    key=key,
                    scope=scope,
                    name=name,
                )
            ]
            if scope is CallScope.QUEUE
            else []
        ),
        make_user_entities=lambda number, name: [
            MissedCallEvent(
                coordinator=fast, description=MISSED_CALL, number=number, name=name
            )
        ],
    )


def _attributes(call: CallRecord) -> dict[str, str | None]:
    return {
        "caller": call.caller_name or call.caller,
        "number": call.caller,
        "time": call.started_at.isoformat(),
        "call_id": call.id,
    }


class _CallEventMixin(PbxEntity[PbxFastCoordinator], EventEntity):
    """Fire each poll's due calls that belong to this entity, once."""

    _handled: tuple[CallRecord, ...] = ()

    def _belongs(self, call: CallRecord) -> bool:
        raise NotImplementedError

    def _fire_due(self) -> None:
        activity = self.coordinator.data.calls
        # Data set again without a poll (an optimistic update) carries the same
        # tuple: its calls were handled already.
        if activity is None or activity.events is self._handled:
            return
        self._handled = activity.events
        for call in activity.events:
            if self._belongs(call):
                # One state per call: two missed calls in one poll run an
                # automation twice.
                self._trigger_event(self.entity_description.key, _attributes(call))
                self._write_state()

    async def async_added_to_hass(self) -> None:
        """A user or queue first seen through a missed or abandoned call gets
        that call's event as it appears.
        """
        await super().async_added_to_hass()
        self._fire_due()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._fire_due()
        super()._handle_coordinator_update()


class MissedCallEvent(_CallEventMixin, PbxCallUserEntity):
    """Fires when a call to this user ends unanswered."""

    def _belongs(self, call: CallRecord) -> bool:
        return call.scope is CallScope.USER and call.user_number == self.number


class AbandonedCallEvent(_CallEventMixin, PbxCallGroupEntity):
    """Fires when a caller hangs up while waiting in this queue."""

    def _belongs(self, call: CallRecord) -> bool:
        return (
            call.scope is CallScope.QUEUE
            and group_key(call.scope, call.group or "") == self.group_key
        )

"""Today's call activity: statistics, the queues and users seen, and call events.

The client returns today's calls; this module turns them into what entities show
and remembers, across restarts, two things the PBX cannot tell again:

- which queues, ring groups and users exist (the API lists them only through
  their calls, so after midnight a quiet queue still shows 0 calls, not nothing);
- which missed and abandoned calls already had their event, so that each fires
  once and never again after a restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .client import (
    CallOutcome,
    CallRecord,
    CallScope,
    CallSummary,
    GroupStats,
    UserStats,
    summarize,
)
from .const import DOMAIN

STORAGE_VERSION = 1
EVENT_LOOKBACK = timedelta(hours=6)
"""How far before midnight calls are still read: a call that starts late in
the evening and ends after midnight gets its event too.
"""
SAVE_DELAY = 10
"""Seconds to gather changes before writing; Home Assistant writes pending
changes when it stops, so no event is lost to a restart.
"""


@dataclass(frozen=True, kw_only=True)
class CallActivity:
    """What the call entities show after one poll."""

    summary: CallSummary
    groups: dict[str, tuple[CallScope, str]]
    """Every queue and ring group seen, by ``group_key``: scope and name."""
    users: dict[str, str | None]
    """Every user seen, by number: the name last seen."""
    events: tuple[CallRecord, ...]
    """Calls that ended missed or abandoned since the previous poll."""
    revived: frozenset[str] = frozenset()
    """Groups (by key) and users (by number) whose device the user deleted and
    who had a call again: their entities are added anew.
    """

    def group(self, key: str) -> GroupStats:
        """Today's figures of a group; zero when it had no call today."""
        if (stats := self.summary.groups.get(key)) is not None:
            return stats
        scope, name = self.groups[key]
        return GroupStats(scope=scope, name=name)

    def user(self, number: str) -> UserStats:
        """Today's figures of a user; zero when they had no call today."""
        if (stats := self.summary.users.get(number)) is not None:
            return stats
        return UserStats(number=number, name=self.users.get(number))


def is_event(call: CallRecord) -> bool:
    """Whether a call gets an event: a user's missed call or a queue's
    abandoned one.
    """
    return (call.scope is CallScope.USER and call.outcome is CallOutcome.MISSED) or (
        call.scope is CallScope.QUEUE and call.outcome is CallOutcome.ABANDONED
    )


class _Stored(TypedDict):
    fired: list[str]
    groups: dict[str, list[str]]
    users: dict[str, str | None]


class CallTracker:
    """Turns each poll's calls into ``CallActivity``, remembering what must
    survive a restart in Home Assistant's storage.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is known until ``async_load``."""
        self._store: Store[_Stored] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.calls"
        )
        self._polled = False
        self._fired: set[str] = set()
        self._groups: dict[str, tuple[CallScope, str]] = {}
        self._users: dict[str, str | None] = {}
        self._forgotten: set[str] = set()
        self._has_history = False

    async def async_load(self) -> None:
        """Read what an earlier run stored."""
        stored = await self._store.async_load()
        if not stored:
            return
        self._has_history = True
        self._fired = set(stored.get("fired", []))
        for key, (scope, name) in stored.get("groups", {}).items():
            self._groups[key] = (CallScope(scope), name)
        self._users = dict(stored.get("users", {}))

    async def async_save(self) -> None:
        """Write now, as the entry unloads: a reload must not fire again.

        Nothing is written before the first poll: an empty record would make
        the next run fire an event for every call of the day.
        """
        if self._polled:
            await self._store.async_save(self._data())

    def forget(self, object_id: str) -> None:
        """Forget a user (``ext_<number>``) or group (``<scope>_<name>``) whose
        device the user deleted; a new call brings it back.
        """
        if object_id.startswith("ext_"):
            number = object_id.removeprefix("ext_")
            self._users.pop(number, None)
            self._forgotten.add(number)
        for key, (scope, name) in list(self._groups.items()):
            if f"{scope}_{name}" == object_id:
                del self._groups[key]
                self._forgotten.add(key)
        self._store.async_delay_save(self._data, SAVE_DELAY)

    async def async_remove(self) -> None:
        """Delete the stored data, with the config entry."""
        await self._store.async_remove()

    def update(self, calls: Iterable[CallRecord], midnight: datetime) -> CallActivity:
        """Count the calls that started since ``midnight`` and pick the calls
        whose event is due, among all given (``EVENT_LOOKBACK`` before it).

        The very first poll of a new entry only takes note: the calls that
        ended before PBX Hub was set up are history, not news.
        """
        calls = list(calls)
        summary = summarize(call for call in calls if call.started_at >= midnight)
        self._polled = True
        # A call the client no longer returns is too old to come back: forget it.
        self._fired.intersection_update(call.key for call in calls)
        for key, stats in summary.groups.items():
            self._groups[key] = (stats.scope, stats.name)
        for number, user in summary.users.items():
            self._users[number] = user.name or self._users.get(number)
        revived = self._forgotten & (set(summary.groups) | set(summary.users))
        self._forgotten -= revived
        due = [call for call in calls if is_event(call) and call.key not in self._fired]
        self._fired.update(call.key for call in due)
        if not self._has_history:
            self._has_history = True
            due = []
        self._store.async_delay_save(self._data, SAVE_DELAY)
        return CallActivity(
            summary=summary,
            groups=dict(self._groups),
            users=dict(self._users),
            events=tuple(sorted(due, key=lambda call: call.started_at)),
            revived=frozenset(revived),
        )

    def _data(self) -> _Stored:
        return {
            "fired": sorted(self._fired),
            "groups": {
                key: [str(scope), name] for key, (scope, name) in self._groups.items()
            },
            "users": self._users,
        }

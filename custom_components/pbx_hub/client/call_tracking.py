"""Today's call activity: statistics, the queues and users seen, and call events.

The client returns today's calls; ``CallTracker`` turns them into what a
caller shows, and keeps, as plain data to store (``to_stored``), two things
the PBX cannot tell again after a restart:

- which queues, ring groups and users exist (the API lists them only through
  their calls, so after midnight a quiet queue still shows 0 calls, not nothing);
- which incoming, missed and abandoned calls already had their event, so that
  each fires once and never again after a restart; an incoming call pushed by
  the PBX (``claim``) is not fired again when the call history lists it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from .callstats import CallSummary, GroupStats, UserStats, group_key, summarize
from .livecalls import CallEvent, CallEventKind, call_events
from .models import CallRecord, CallScope

EVENT_LOOKBACK = timedelta(hours=6)
"""How far before midnight calls are still read: a call that starts late in
the evening and ends after midnight gets its event too.
"""
PUSH_MEMORY = timedelta(days=1)
"""How long an incoming call fired from a push notification is remembered
while the call history does not list it (yet)."""


@dataclass(frozen=True, kw_only=True)
class CallActivity:
    """What the call entities show after one poll."""

    summary: CallSummary
    groups: dict[str, tuple[CallScope, str]]
    """Every queue and ring group seen, by ``group_key``: scope and name."""
    users: dict[str, str | None]
    """Every user seen, by number: the name last seen."""
    events: tuple[CallEvent, ...]
    """Events due since the previous poll: calls listed incoming, or ended
    missed or abandoned.
    """
    last_callers: dict[str, str] = field(default_factory=dict)
    """The number of each user's latest incoming (or missed) call, by user."""
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


def _pushed_key(call_id: str) -> str:
    """The event key the call history gives a user's incoming call ``call_id``."""
    return f"{CallEventKind.INCOMING_CALL}:{CallScope.USER}:{call_id}"


def _stored_keys(keys: Iterable[str]) -> set[str]:
    """Event keys as stored; a bare call key (stored before incoming calls
    had events) stands for every event of that call: none fires again.
    """
    kinds = {f"{kind}:" for kind in CallEventKind}
    known: set[str] = set()
    for key in keys:
        if any(key.startswith(kind) for kind in kinds):
            known.add(key)
        else:
            known.update(f"{kind}:{key}" for kind in CallEventKind)
    return known


class StoredCalls(TypedDict, total=False):
    """What ``CallTracker`` keeps across restarts, as JSON can hold it."""

    fired: list[str]
    pushed: dict[str, str]
    groups: dict[str, list[str]]
    users: dict[str, str | None]


class CallTracker:
    """Turns each poll's calls into ``CallActivity``, remembering what must
    survive a restart; ``on_change`` is called after each change worth storing.
    """

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        """Nothing is known until ``restore``, or the first ``update``."""
        self._on_change = on_change
        self._polled = False
        self._fired: set[str] = set()
        self._pushed: dict[str, datetime] = {}
        """Incoming calls fired from a push notification, by event key."""
        self._groups: dict[str, tuple[CallScope, str]] = {}
        self._users: dict[str, str | None] = {}
        self._forgotten: set[str] = set()
        self._has_history = False
        self._last_calls: dict[str, CallRecord] = {}
        """Each user's latest inbound call with a caller number."""

    @property
    def polled(self) -> bool:
        """Whether a poll was taken in: before one, nothing is worth storing,
        since an empty record would make the next run fire an event for every
        call of the day.
        """
        return self._polled

    def restore(self, stored: StoredCalls) -> None:
        """Take up what an earlier run stored (``to_stored``)."""
        if not stored:
            return
        self._has_history = True
        self._fired = _stored_keys(stored.get("fired", []))
        self._pushed = {
            key: datetime.fromisoformat(moment)
            for key, moment in stored.get("pushed", {}).items()
        }
        for key, (scope, name) in stored.get("groups", {}).items():
            self._groups[key] = (CallScope(scope), name)
        self._users = dict(stored.get("users", {}))

    def to_stored(self) -> StoredCalls:
        """What to store for the next run's ``restore``."""
        return {
            "fired": sorted(self._fired),
            "pushed": {key: moment.isoformat() for key, moment in self._pushed.items()},
            "groups": {
                key: [str(scope), name] for key, (scope, name) in self._groups.items()
            },
            "users": dict(self._users),
        }

    def forget_user(self, number: str) -> None:
        """Forget the user ``number``, whose device the user deleted; a new call
        brings it back.
        """
        self._users.pop(number, None)
        self._forgotten.add(number)
        self._on_change()

    def forget_group(self, scope: CallScope, name: str) -> None:
        """Forget a queue or ring group whose device the user deleted; a new
        call brings it back.
        """
        key = group_key(scope, name)
        if self._groups.pop(key, None) is not None:
            self._forgotten.add(key)
        self._on_change()

    def claim(self, call_id: str | None, now: datetime) -> bool:
        """Whether the incoming call ``call_id`` a push notification told is
        still due; claimed, the call history will not fire it again. One
        without an id cannot be told apart: always due.
        """
        if call_id is None:
            return True
        key = _pushed_key(call_id)
        if key in self._fired or key in self._pushed:
            return False
        self._pushed[key] = now
        self._on_change()
        return True

    def update(self, calls: Iterable[CallRecord], midnight: datetime) -> CallActivity:
        """Count the calls that started since ``midnight`` and pick the calls
        whose event is due, among all given (``EVENT_LOOKBACK`` before it).

        The very first poll of a new entry only takes note: the calls that
        ended before PBX Hub was set up are history, not news.
        """
        calls = list(calls)
        summary = summarize(call for call in calls if call.started_at >= midnight)
        self._polled = True
        events = call_events(calls)
        listed = {event.key for event in events}
        # A call the client no longer returns is too old to come back: forget it.
        self._fired.intersection_update(listed)
        # A pushed call the history lists is fired; one it never lists is
        # forgotten after a day.
        self._fired.update(listed & self._pushed.keys())
        oldest = midnight - PUSH_MEMORY
        self._pushed = {
            key: moment
            for key, moment in self._pushed.items()
            if key not in listed and moment >= oldest
        }
        for key, stats in summary.groups.items():
            self._groups[key] = (stats.scope, stats.name)
        for number, user in summary.users.items():
            self._users[number] = user.name or self._users.get(number)
        revived = self._forgotten & (set(summary.groups) | set(summary.users))
        self._forgotten -= revived
        for call in calls:
            self._note_caller(call)
        due = [event for event in events if event.key not in self._fired]
        self._fired.update(event.key for event in due)
        if not self._has_history:
            self._has_history = True
            due = []
        self._on_change()
        return CallActivity(
            summary=summary,
            groups=dict(self._groups),
            users=dict(self._users),
            events=tuple(sorted(due, key=lambda event: event.record.started_at)),
            last_callers={
                user: call.caller
                for user, call in self._last_calls.items()
                if call.caller is not None
            },
            revived=frozenset(revived),
        )

    def _note_caller(self, call: CallRecord) -> None:
        """Keep ``call`` as its user's last caller where it is newer."""
        user = call.user_number
        if call.scope is not CallScope.USER or not user or call.inbound is not True:
            return
        if call.caller is None:
            return
        latest = self._last_calls.get(user)
        if latest is None or call.started_at >= latest.started_at:
            self._last_calls[user] = call

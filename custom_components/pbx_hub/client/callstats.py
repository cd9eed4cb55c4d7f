"""Statistics of a day's calls, per queue, ring group and user.

Vendor-neutral: any client with ``Capability.CALL_HISTORY`` returns
``CallRecord``s, and these functions count them. Which day is the caller's
business (Home Assistant uses its own time zone's); they count what they are given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .models import CallOutcome, CallRecord, CallScope


@dataclass(frozen=True, kw_only=True)
class GroupStats:
    """One queue's or ring group's day."""

    scope: CallScope
    name: str
    calls: int = 0
    answered: int = 0
    abandoned: int = 0
    timed_out: int = 0
    average_wait: float | None = None
    """Seconds from the start of a call to its answer, over answered calls."""
    longest_wait: int | None = None
    last_call: datetime | None = None

    @property
    def key(self) -> str:
        """Unique across scopes: a queue and a ring group may share a name."""
        return group_key(self.scope, self.name)

    @property
    def answer_rate(self) -> float | None:
        """Answered calls in % of the calls that have ended; ``None`` before any."""
        ended = self.answered + self.abandoned + self.timed_out
        if not ended:
            return None
        return round(100 * self.answered / ended, 1)


@dataclass(frozen=True, kw_only=True)
class UserStats:
    """One user's (extension's) day."""

    number: str
    name: str | None
    calls: int = 0
    inbound: int = 0
    outbound: int = 0
    missed: int = 0
    talk_seconds: int = 0
    last_call: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CallSummary:
    """Everything counted from one set of calls."""

    groups: dict[str, GroupStats]
    users: dict[str, UserStats]


def group_key(scope: CallScope, name: str) -> str:
    """The key of a queue or ring group in ``CallSummary.groups``."""
    return f"{scope}:{name}"


def summarize(calls: Iterable[CallRecord]) -> CallSummary:
    """Count ``calls`` per queue, ring group and user."""
    by_group: dict[str, list[CallRecord]] = {}
    by_user: dict[str, list[CallRecord]] = {}
    for call in calls:
        if call.scope is CallScope.USER:
            if call.user_number:
                by_user.setdefault(call.user_number, []).append(call)
        elif call.group:
            by_group.setdefault(group_key(call.scope, call.group), []).append(call)
    return CallSummary(
        groups={key: _group_stats(rows) for key, rows in by_group.items()},
        users={number: _user_stats(number, rows) for number, rows in by_user.items()},
    )


def _group_stats(calls: list[CallRecord]) -> GroupStats:
    first = calls[0]
    waits = [
        wait
        for call in calls
        if call.outcome is CallOutcome.ANSWERED
        and (wait := call.wait_seconds) is not None
    ]
    return GroupStats(
        scope=first.scope,
        name=first.group or "",
        calls=len(calls),
        answered=_count(calls, CallOutcome.ANSWERED),
        abandoned=_count(calls, CallOutcome.ABANDONED),
        timed_out=_count(calls, CallOutcome.TIMED_OUT),
        average_wait=round(sum(waits) / len(waits), 1) if waits else None,
        longest_wait=max(waits) if waits else None,
        last_call=max(call.started_at for call in calls),
    )


def _user_stats(number: str, calls: list[CallRecord]) -> UserStats:
    latest = max(calls, key=lambda call: call.started_at)
    return UserStats(
        number=number,
        name=next((call.user_name for call in calls if call.user_name), None),
        calls=len(calls),
        inbound=sum(1 for call in calls if call.inbound is True),
        outbound=sum(1 for call in calls if call.inbound is False),
        missed=_count(calls, CallOutcome.MISSED),
        talk_seconds=sum(call.talk_seconds for call in calls),
        last_call=latest.started_at,
    )


def _count(calls: list[CallRecord], outcome: CallOutcome) -> int:
    return sum(1 for call in calls if call.outcome is outcome)

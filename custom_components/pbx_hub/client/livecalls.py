"""Vendor-neutral pieces of live calls and call events.

Parties as PBXs write them (``"Ann" <101>``, ``SIP/101-00000a1b``, ``101``),
durations (seconds or ``h:mm:ss``), call states derived from call records
still in progress (VoIPcloud's lists), and which event each call record
warrants, keyed so that each fires once per call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
import re
from typing import Any

from .callstats import group_key
from .convert import from_unix, in_range, to_int, to_key, to_text
from .models import (
    CallDirection,
    CallOutcome,
    CallRecord,
    CallScope,
    CallState,
    ExtensionCallState,
)

_NAMED = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^<>]*)>\s*$')
"""``"Ann Smith" <101>`` or ``Ann <101>``: a caller id with a name."""
_CHANNEL = re.compile(r"^[A-Za-z0-9]+/([^@/\-;]+)")
"""An Asterisk channel: ``SIP/101-00000a1b``, ``PJSIP/101-...``, ``Local/101@ctx``."""
_CLOCK = re.compile(r"^\s*(?:(\d+):)?([0-5]?\d):([0-5]\d)\s*$")


def party(value: Any) -> tuple[str | None, str | None]:
    """The number and name of a call's party, as far as ``value`` tells."""
    text = to_key(value)
    if text is None:
        return None, None
    if (named := _NAMED.match(text)) is not None:
        return to_text(named.group(2)), to_text(named.group(1))
    if (channel := _CHANNEL.match(text)) is not None:
        return channel.group(1), None
    return text, None


def first_of(row: Mapping[str, Any], keys: Iterable[str]) -> Any:
    """The value of the first of ``keys`` (lower case) that ``row`` has,
    in any case, and not empty: for payloads whose field names are not
    published.
    """
    lowered = {str(key).lower(): value for key, value in row.items()}
    for key in keys:
        if lowered.get(key) not in (None, ""):
            return lowered[key]
    return None


def moment(value: Any, forms: Iterable[str], zone: tzinfo) -> datetime | None:
    """Unix seconds, or text in one of the ``strptime`` ``forms`` in
    ``zone``; ``None`` for anything else (see ``convert.in_range``).
    """
    if (seconds := from_unix(value)) is not None:
        return seconds
    text = to_text(value)
    if text is None:
        return None
    for form in forms:
        try:
            return in_range(datetime.strptime(text, form).replace(tzinfo=zone))
        except ValueError:
            continue
    return None


def to_seconds(value: Any) -> int | None:
    """Seconds from a number, numeric text or ``[h:]mm:ss``; else ``None``."""
    if isinstance(value, str) and (clock := _CLOCK.match(value)) is not None:
        hours, minutes, seconds = clock.groups()
        return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    seconds = to_int(value)
    return seconds if seconds is None or seconds >= 0 else None


def states_from_records(
    in_progress: Iterable[CallRecord], users: Iterable[str] = ()
) -> dict[str, ExtensionCallState]:
    """Each user's call state from its calls in progress (the caller
    decides which are): ringing until answered (an inbound call without an
    answer time or talk time), in a call after; the newest call counts.
    ``users`` without such a call are idle.
    """
    states = {
        user: ExtensionCallState(extension=user, state=CallState.IDLE) for user in users
    }
    live: dict[str, CallRecord] = {}
    for record in in_progress:
        user = record.user_number
        if record.scope is not CallScope.USER or not user:
            continue
        current = live.get(user)
        if current is None or record.started_at > current.started_at:
            live[user] = record
    for user, record in live.items():
        answered = record.answered_at is not None or record.talk_seconds > 0
        inbound = record.direction is CallDirection.INBOUND
        states[user] = ExtensionCallState(
            extension=user,
            state=CallState.RINGING if inbound and not answered else CallState.IN_CALL,
            other_number=record.caller if inbound else record.callee,
            other_name=record.caller_name if inbound else None,
            direction=record.direction,
            since=record.answered_at or record.started_at,
            call_id=record.id,
        )
    return states


class CallEventKind(StrEnum):
    """The events a call record can fire."""

    INCOMING_CALL = "incoming_call"
    MISSED_CALL = "missed_call"
    ABANDONED_CALL = "abandoned_call"


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """An event a call warrants; ``key`` is the same for the same call and
    kind on every read, so that a caller fires it once.
    """

    kind: CallEventKind
    record: CallRecord

    @property
    def key(self) -> str:
        """The call's key and the kind: one event of each kind per call."""
        return f"{self.kind}:{self.record.key}"

    @property
    def owner(self) -> str | None:
        """Whose event it is: the user's number, or the queue's or ring group's key."""
        if self.record.scope is CallScope.USER:
            return self.record.user_number
        return group_key(self.record.scope, self.record.group or "")

    @property
    def attributes(self) -> dict[str, str | None]:
        """What the event carries: ``caller`` the name where known, ``number`` the number."""
        return {
            "call_id": self.record.id,
            "caller": self.record.caller_name or self.record.caller,
            "caller_name": self.record.caller_name,
            "called": self.record.callee,
            "time": self.record.started_at.isoformat(),
            "number": self.record.caller,
        }


def call_events(records: Iterable[CallRecord]) -> list[CallEvent]:
    """The events ``records`` warrant, in the order given: an inbound call
    to a user is incoming (as soon as it is listed, in progress or not); a
    user's unanswered inbound call is missed; a queue's or ring group's
    call the caller hung up on is abandoned.
    """
    events: list[CallEvent] = []
    for record in records:
        if record.scope is CallScope.USER:
            if record.inbound is True:
                events.append(
                    CallEvent(kind=CallEventKind.INCOMING_CALL, record=record)
                )
            if record.outcome is CallOutcome.MISSED:
                events.append(CallEvent(kind=CallEventKind.MISSED_CALL, record=record))
        elif record.outcome is CallOutcome.ABANDONED:
            events.append(CallEvent(kind=CallEventKind.ABANDONED_CALL, record=record))
    return events

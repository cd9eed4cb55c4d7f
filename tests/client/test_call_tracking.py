"""The call tracker without Home Assistant: each event fires once, across
polls and (through its stored state) restarts; pushed calls are not fired
again by the history; groups and users are remembered, forgotten, revived.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

from custom_components.pbx_hub.client import (
    PUSH_MEMORY,
    CallOutcome,
    CallRecord,
    CallScope,
    CallTracker,
    StoredCalls,
)

MIDNIGHT = datetime(2026, 12, 7, tzinfo=UTC)


def _call(call_id: str, **fields: Any) -> CallRecord:
    """A user's missed inbound call to 1002, ten hours after midnight."""
    values: dict[str, Any] = {
        "id": call_id,
        "scope": CallScope.USER,
        "group": None,
        "user_number": "1002",
        "user_name": "Ann",
        "inbound": True,
        "caller": "0412000111",
        "caller_name": None,
        "callee": "1002",
        "started_at": MIDNIGHT + timedelta(hours=10),
        "answered_at": None,
        "finished_at": MIDNIGHT + timedelta(hours=10, minutes=1),
        "talk_seconds": 0,
        "outcome": CallOutcome.MISSED,
    }
    return CallRecord(**(values | fields))


def _queue_call(call_id: str, outcome: CallOutcome) -> CallRecord:
    return _call(
        call_id, scope=CallScope.QUEUE, group="Sales", user_number=None, outcome=outcome
    )


def _known() -> CallTracker:
    """A tracker past its first poll (which fires nothing)."""
    tracker = CallTracker()
    tracker.update([], MIDNIGHT)
    return tracker


def _kinds(tracker: CallTracker, calls: list[CallRecord]) -> list[tuple[str, str]]:
    return [
        (event.kind.value, event.record.id)
        for event in tracker.update(calls, MIDNIGHT).events
    ]


def _restarted(tracker: CallTracker) -> CallTracker:
    """A new tracker from what ``tracker`` stored, through JSON as a store keeps it."""
    stored: StoredCalls = json.loads(json.dumps(tracker.to_stored()))
    again = CallTracker()
    again.restore(stored)
    return again


def test_the_first_poll_only_takes_note() -> None:
    tracker = CallTracker()
    assert not tracker.polled
    assert tracker.update([_call("c1")], MIDNIGHT).events == ()
    assert tracker.polled
    # The calls of before are history; a new one is news, once.
    assert _kinds(tracker, [_call("c1"), _call("c2")]) == [
        ("incoming_call", "c2"),
        ("missed_call", "c2"),
    ]
    assert _kinds(tracker, [_call("c1"), _call("c2")]) == []


def test_a_restart_fires_nothing_again() -> None:
    tracker = _known()
    queue_call = _queue_call("q1", CallOutcome.ABANDONED)
    assert _kinds(tracker, [_call("c1"), queue_call]) == [
        ("incoming_call", "c1"),
        ("missed_call", "c1"),
        ("abandoned_call", "q1"),
    ]
    again = _restarted(tracker)
    assert _kinds(again, [_call("c1"), queue_call]) == []
    # A stored tracker is no new entry: its first poll fires what is new.
    later = _restarted(tracker)
    assert _kinds(later, [_call("c1"), _call("c3")]) == [
        ("incoming_call", "c3"),
        ("missed_call", "c3"),
    ]


def test_a_call_no_longer_listed_is_forgotten() -> None:
    tracker = _known()
    _kinds(tracker, [_call("c1")])
    _kinds(tracker, [])
    assert tracker.to_stored()["fired"] == []


def test_events_stored_before_incoming_calls_had_events_stay_fired() -> None:
    """An earlier version stored bare call keys (missed calls only): after
    the upgrade, neither that call's missed nor its incoming event fires.
    """
    call = _call("c1")
    tracker = CallTracker()
    tracker.restore({"fired": [call.key], "groups": {}, "users": {"1002": None}})
    assert tracker.update([call], MIDNIGHT).events == ()


def test_a_pushed_call_is_not_fired_again_by_the_history() -> None:
    tracker = _known()
    pushed_at = MIDNIGHT + timedelta(hours=10)
    assert tracker.claim("c1", pushed_at)
    assert not tracker.claim("c1", pushed_at)
    # A notification without a call id cannot be told apart: always due.
    assert tracker.claim(None, pushed_at)
    assert tracker.claim(None, pushed_at)
    # Claimed across a restart too; the history then fires only the miss.
    again = _restarted(tracker)
    assert not again.claim("c1", pushed_at)
    assert _kinds(again, [_call("c1")]) == [("missed_call", "c1")]
    assert not again.claim("c1", pushed_at)


def test_a_pushed_call_the_history_never_lists_is_forgotten_after_a_day() -> None:
    tracker = _known()
    pushed_at = MIDNIGHT - timedelta(hours=1)
    tracker.claim("c9", pushed_at)
    tracker.update([], MIDNIGHT)
    assert not tracker.claim("c9", pushed_at)
    tracker.update([], pushed_at + PUSH_MEMORY + timedelta(seconds=1))
    assert tracker.claim("c9", pushed_at)


def test_groups_and_users_are_remembered_forgotten_and_revived() -> None:
    tracker = _known()
    activity = tracker.update(
        [_call("c1"), _queue_call("q1", CallOutcome.ANSWERED)], MIDNIGHT
    )
    assert activity.users == {"1002": "Ann"}
    assert list(activity.groups) == ["queue:Sales"]
    # A quiet day still shows them, with zero calls.
    quiet = _restarted(tracker).update([], MIDNIGHT + timedelta(days=1))
    assert quiet.user("1002").calls == 0
    assert quiet.group("queue:Sales").calls == 0
    assert quiet.user("1002").name == "Ann"

    tracker.forget_user("1002")
    tracker.forget_group(CallScope.QUEUE, "Sales")
    assert tracker.to_stored()["users"] == {}
    assert tracker.to_stored()["groups"] == {}
    assert tracker.update([], MIDNIGHT).revived == frozenset()
    back = tracker.update(
        [_call("c2"), _queue_call("q2", CallOutcome.ANSWERED)], MIDNIGHT
    )
    assert back.revived == {"1002", "queue:Sales"}
    assert tracker.update([_call("c2")], MIDNIGHT).revived == frozenset()


def test_a_name_seen_once_is_kept_when_a_call_has_none() -> None:
    tracker = _known()
    tracker.update([_call("c1")], MIDNIGHT)
    assert tracker.update([_call("c2", user_name=None)], MIDNIGHT).users == {
        "1002": "Ann"
    }


def test_the_last_caller_is_the_newest_inbound_call_with_a_number() -> None:
    tracker = _known()
    later = MIDNIGHT + timedelta(hours=11)
    activity = tracker.update(
        [
            _call("c2", caller="0499", started_at=later),
            _call("c1"),
            _call("c3", caller=None, started_at=later + timedelta(minutes=1)),
            _call("c4", inbound=False, caller="1002", started_at=later),
        ],
        MIDNIGHT,
    )
    assert activity.last_callers == {"1002": "0499"}


def test_each_change_worth_storing_is_told() -> None:
    changes: list[None] = []
    tracker = CallTracker(on_change=lambda: changes.append(None))
    tracker.update([], MIDNIGHT)
    assert len(changes) == 1
    tracker.claim("c1", MIDNIGHT)
    tracker.claim("c1", MIDNIGHT)  # not claimed again: no change
    tracker.claim(None, MIDNIGHT)  # nothing to remember
    assert len(changes) == 2
    tracker.forget_user("1002")
    assert len(changes) == 3
    tracker.forget_group(CallScope.QUEUE, "Sales")
    assert len(changes) == 4

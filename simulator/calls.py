"""Calls over time, shared by every simulator that has calls: one model, rendered by
each vendor in its own wire format.

A call rings, is answered or missed, and ends. Its moments are absolute times on a
:class:`SimClock`, so a call can be scripted in advance (``answer_after``, ``talk``)
or driven step by step (:meth:`CallBook.answer`, :meth:`CallBook.end`,
:meth:`CallBook.miss`); either way its state is read from the clock, never from a
timer. The clock follows its source (real time, or the simulator's own clock)
until a test freezes or advances it; from then on it moves only when told.

States: ``ringing`` (started, not answered, not over), ``in_call`` (answered, not
over), ``ended`` (answered, then hung up) and ``missed`` (over without an answer;
``missed_reason`` says ``abandoned`` when the caller hung up and ``timeout`` when
nobody answered within ``ring_seconds``). A call whose start is still ahead of the
clock is ``scheduled`` and no vendor shows it.

The parties are numbers. ``caller_extension`` and ``callee_extension`` name the
simulator's own extensions taking part (``None`` for an outside number): inbound
calls have only a callee extension, outbound only a caller extension, internal
calls both. ``group`` is the queue or ring group an inbound call came through;
its ``callee_extension`` is the agent, known once one answers.

The control routes (``/_sim/calls``, ``/_sim/clock``) that drive this model over
HTTP are in :mod:`simulator.core`; docs/calls-sim.md describes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
import time

DEFAULT_RING_SECONDS = 30.0
"""How long a call rings before it is missed when nobody says otherwise."""


class CallState(StrEnum):
    """Where a call is at one moment."""

    SCHEDULED = "scheduled"
    RINGING = "ringing"
    IN_CALL = "in_call"
    ENDED = "ended"
    MISSED = "missed"


ACTIVE_STATES = frozenset({CallState.RINGING, CallState.IN_CALL})
FINISHED_STATES = frozenset({CallState.ENDED, CallState.MISSED})


class Direction(StrEnum):
    """Which way a call goes, seen from the PBX."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class CallError(ValueError):
    """A control step that does not fit the call's state (or no such call)."""


def _wall_clock() -> float:
    """``time.time()`` looked up at each call, so a test's frozen time applies."""
    return time.time()


class SimClock:
    """Unix seconds: the source's time plus an offset, until frozen; frozen, it
    stands still and moves only by :meth:`advance` or :meth:`set`.

    Callable, so it serves wherever a simulator takes a ``clock`` function.
    """

    def __init__(self, source: Callable[[], float] | None = None) -> None:
        self._source = source or _wall_clock
        self._offset = 0.0
        self._frozen_at: float | None = None

    def __call__(self) -> float:
        """The time now."""
        base = self._source() if self._frozen_at is None else self._frozen_at
        return base + self._offset

    @property
    def frozen(self) -> bool:
        """Whether the clock moves only when told."""
        return self._frozen_at is not None

    def freeze(self) -> None:
        """Stop the clock where it is."""
        if self._frozen_at is None:
            self._frozen_at = self._source()

    def resume(self) -> None:
        """Follow the source again, from the time the clock shows now."""
        if self._frozen_at is not None:
            shown = self()
            self._frozen_at = None
            self._offset = shown - self._source()

    def advance(self, seconds: float) -> None:
        """Freeze the clock and move it ``seconds`` ahead (never back)."""
        if seconds < 0:
            msg = "the clock does not go back"
            raise ValueError(msg)
        self.freeze()
        self._offset += seconds

    def set(self, moment: float) -> None:
        """Freeze the clock at ``moment`` (unix seconds)."""
        self.freeze()
        assert self._frozen_at is not None
        self._offset = moment - self._frozen_at


@dataclass(kw_only=True)
class Call:
    """One call and its moments (unix seconds on the book's clock)."""

    id: str
    caller: str
    """The calling number (an extension number for an outbound or internal call)."""
    callee: str
    """The number dialled (an extension number for an inbound or internal call)."""
    caller_name: str | None = None
    caller_extension: str | None = None
    callee_extension: str | None = None
    group: str | None = None
    scope: str | None = None
    """The simulator's own partition (a PBXware tenant); ``None``: the only one."""
    started_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    missed_reason: str | None = None
    """``abandoned`` or ``timeout`` for a missed call."""
    recording: bool = False
    """Whether the call is being recorded (PBXware recording.start)."""
    recorded: bool = False
    """Whether it ever was (its CDR then has a recording)."""

    @property
    def direction(self) -> Direction:
        """Inbound, outbound or internal, from which parties are extensions."""
        if self.caller_extension is not None and (
            self.callee_extension is not None and self.group is None
        ):
            return Direction.INTERNAL
        if self.caller_extension is not None:
            return Direction.OUTBOUND
        return Direction.INBOUND

    @property
    def extensions(self) -> tuple[str, ...]:
        """The simulator's extensions in the call (the agent once one answers)."""
        return tuple(
            ext for ext in (self.caller_extension, self.callee_extension) if ext
        )

    def state(self, now: float) -> CallState:
        """The state at ``now``."""
        if now < self.started_at:
            return CallState.SCHEDULED
        answered = self.answered_at is not None and self.answered_at <= now
        if self.ended_at is not None and self.ended_at <= now:
            return CallState.ENDED if answered else CallState.MISSED
        return CallState.IN_CALL if answered else CallState.RINGING

    def passed(self, now: float) -> list[CallState]:
        """Every state the call has been in by ``now``, in order."""
        final = self.state(now)
        if final is CallState.SCHEDULED:
            return []
        states = [CallState.RINGING]
        if self.answered_at is not None and self.answered_at <= now:
            states.append(CallState.IN_CALL)
        if final in FINISHED_STATES:
            states.append(final)
        return states

    def talk_seconds(self, now: float) -> int:
        """Seconds talked so far (all of them once ended)."""
        if self.answered_at is None or self.answered_at > now:
            return 0
        until = now if self.ended_at is None else min(now, self.ended_at)
        return int(until - self.answered_at)

    def total_seconds(self, now: float) -> int:
        """Seconds from the start (ringing included) until now or the end."""
        until = now if self.ended_at is None else min(now, self.ended_at)
        return max(0, int(until - self.started_at))

    def as_json(self, now: float) -> dict[str, object]:
        """The call as the control routes report it."""
        return {
            "id": self.id,
            "state": self.state(now).value,
            "direction": self.direction.value,
            "from": self.caller,
            "to": self.callee,
            "caller_name": self.caller_name,
            "caller_extension": self.caller_extension,
            "callee_extension": self.callee_extension,
            "group": self.group,
            "scope": self.scope,
            "started_at": self.started_at,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "missed_reason": self.missed_reason,
            "talk_seconds": self.talk_seconds(now),
            "recording": self.recording,
        }


type Listener = Callable[[Call, CallState], None]


class CallBook:
    """Every call of one simulator, on one clock.

    ``new_id`` makes a vendor-shaped id from the start time. Listeners hear each
    state a call reaches, once, when :meth:`changes` notices it (every control
    step calls it; a push server also calls it on a short tick, so transitions
    that only the clock makes are heard too).
    """

    def __init__(self, clock: SimClock, new_id: Callable[[float], str]) -> None:
        self.clock = clock
        self._new_id = new_id
        self.calls: dict[str, Call] = {}
        self._seen: dict[str, set[CallState]] = {}
        self.listeners: list[Listener] = []

    def __iter__(self) -> Iterator[Call]:
        """Calls in start order."""
        return iter(sorted(self.calls.values(), key=lambda c: c.started_at))

    def get(self, call_id: str) -> Call:
        """The call ``call_id`` (CallError when unknown)."""
        try:
            return self.calls[call_id]
        except KeyError:
            msg = f"no call {call_id}"
            raise CallError(msg) from None

    def start(
        self,
        *,
        caller: str,
        callee: str,
        caller_name: str | None = None,
        caller_extension: str | None = None,
        callee_extension: str | None = None,
        group: str | None = None,
        scope: str | None = None,
        at: float | None = None,
        answer_after: float | None = None,
        talk: float | None = None,
        ring_seconds: float | None = DEFAULT_RING_SECONDS,
    ) -> Call:
        """Start a call (now, or ``at``); it rings until answered or missed.

        ``answer_after`` schedules the answer and ``talk`` the hang-up after it;
        without ``answer_after`` the call is missed after ``ring_seconds``
        (``None``: it rings until told).
        """
        for name, value in (
            ("answer_after", answer_after),
            ("talk", talk),
            ("ring_seconds", ring_seconds),
        ):
            if value is not None and value < 0:
                msg = f"{name} must not be negative"
                raise CallError(msg)
        started = self.clock() if at is None else at
        call = Call(
            id=self._unique_id(started),
            caller=caller,
            callee=callee,
            caller_name=caller_name,
            caller_extension=caller_extension,
            callee_extension=callee_extension,
            group=group,
            scope=scope,
            started_at=started,
        )
        if answer_after is not None:
            call.answered_at = started + answer_after
            if talk is not None:
                call.ended_at = call.answered_at + talk
        elif ring_seconds is not None:
            call.ended_at = started + ring_seconds
            call.missed_reason = "timeout"
        self.calls[call.id] = call
        self.changes()
        return call

    def _unique_id(self, started: float) -> str:
        call_id = self._new_id(started)
        while call_id in self.calls:
            call_id = self._new_id(started)
        return call_id

    def answer(
        self, call_id: str, *, by: str | None = None, talk: float | None = None
    ) -> Call:
        """Answer a ringing call now (``by``: the answering extension, for a
        group call); it lasts ``talk`` seconds, or until ended.
        """
        call = self.get(call_id)
        now = self.clock()
        self._require(call, now, CallState.RINGING)
        if by is not None:
            call.callee_extension = by
        call.answered_at = now
        call.ended_at = None if talk is None else now + talk
        call.missed_reason = None
        self.changes()
        return call

    def end(self, call_id: str) -> Call:
        """Hang up now: an answered call ends; a ringing one is missed,
        abandoned by its caller.
        """
        call = self.get(call_id)
        now = self.clock()
        state = self._require(call, now, CallState.RINGING, CallState.IN_CALL)
        if state is CallState.RINGING:
            call.answered_at = None
            call.missed_reason = "abandoned"
        call.ended_at = now
        call.recording = False
        self.changes()
        return call

    def miss(self, call_id: str) -> Call:
        """Stop a ringing call now as unanswered (nobody picked up)."""
        call = self.get(call_id)
        now = self.clock()
        self._require(call, now, CallState.RINGING)
        call.answered_at = None
        call.ended_at = now
        call.missed_reason = "timeout"
        self.changes()
        return call

    @staticmethod
    def _require(call: Call, now: float, *states: CallState) -> CallState:
        state = call.state(now)
        if state not in states:
            wanted = " or ".join(s.value for s in states)
            msg = f"call {call.id} is {state.value}, not {wanted}"
            raise CallError(msg)
        return state

    def at(self, now: float | None = None) -> list[tuple[Call, CallState]]:
        """Every visible call (started) with its state, in start order."""
        moment = self.clock() if now is None else now
        return [
            (call, state)
            for call in self
            if (state := call.state(moment)) is not CallState.SCHEDULED
        ]

    def active(
        self, scope: str | None = None, now: float | None = None
    ) -> list[tuple[Call, CallState]]:
        """Calls ringing or in progress (of ``scope`` when given)."""
        return [
            (call, state)
            for call, state in self.at(now)
            if state in ACTIVE_STATES and (scope is None or call.scope == scope)
        ]

    def finished(
        self, scope: str | None = None, now: float | None = None
    ) -> list[tuple[Call, CallState]]:
        """Calls that are over (of ``scope`` when given), in start order."""
        return [
            (call, state)
            for call, state in self.at(now)
            if state in FINISHED_STATES and (scope is None or call.scope == scope)
        ]

    def state_of(self, extension: str, scope: str | None = None) -> CallState | None:
        """The call state of an extension now: ``in_call`` beats ``ringing``;
        ``None`` when it is in no call.
        """
        states = {
            state for call, state in self.active(scope) if extension in call.extensions
        }
        if CallState.IN_CALL in states:
            return CallState.IN_CALL
        return CallState.RINGING if states else None

    def changes(self) -> list[tuple[Call, CallState]]:
        """The states calls reached since the last look, in order (a call that
        rang and was answered between two looks yields both); listeners hear
        each once.
        """
        now = self.clock()
        reached: list[tuple[Call, CallState]] = []
        for call in self:
            seen = self._seen.setdefault(call.id, set())
            for state in call.passed(now):
                if state not in seen:
                    seen.add(state)
                    reached.append((call, state))
        for call, state in reached:
            for listener in self.listeners:
                listener(call, state)
        return reached

"""The request budget: how many requests a vendor allows per time window.

Every request goes through ``RequestBudget.acquire``. Steady polling is sized to use
at most ``POLLING_SHARE`` of the budget (``min_poll_interval``), so the rest stays
free for user actions; and actions may use no more than that rest
(``action_allowance``), so polling goes on whatever a script asks. A 429 or an
exhausted window pauses every request until the window has room again, so no
caller can retry in a tight loop.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
import math
import time

from .exceptions import PbxRateLimitError, PbxRequestCapError

POLLING_SHARE = 0.8
"""Share of the budget that steady polling may use; the rest is for actions."""
READ_SHARE = 0.2
"""Share of the budget's limit that one read of a topic may send (one call
of a getter, whatever it pages through or asks item by item). A read with
more to ask, such as details of thousands of items or pages that never end,
asks the rest at the next read, so that one poll cannot spend the window.
"""


def action_allowance(limit: int) -> int:
    """Requests of a window of ``limit`` that actions may take: what steady
    polling's share leaves (20 of VoIPcloud's 100). Rounded so that a float's
    last digit does not take one away.
    """
    return limit - math.ceil(round(limit * POLLING_SHARE, 6))


MAX_BACKOFF = 15 * 60.0
"""Longest pause, in seconds, after a 429 that does not say how long to wait.

No vendor document asks to wait out a whole window after a 429 (TIM4biz's hour,
an assumed hour elsewhere): a pause as long as that keeps entities unavailable
for most of an hour after the PBX is fine again. 15 minutes is VoIPcloud's
documented window, the shortest a vendor names, and the next 429 pauses again.
"""


@dataclass(frozen=True, kw_only=True)
class BudgetSpec:
    """A vendor's declared limit: ``limit`` requests per ``window`` seconds."""

    limit: int
    window: float
    backoff_start: float | None = None
    """Pause after a 429 without ``Retry-After``: doubling from this many seconds
    up to the window; ``None`` pauses a whole window at once. Either way at most
    ``MAX_BACKOFF``.
    """

    @property
    def longest_backoff(self) -> float:
        """The window or ``MAX_BACKOFF``, whichever is shorter."""
        return min(self.window, MAX_BACKOFF)

    def min_poll_interval(self, cost_per_poll: int, other_rate: float = 0.0) -> float:
        """Shortest interval, in seconds, at which a poll of ``cost_per_poll``
        requests keeps the total polling rate within ``POLLING_SHARE``.

        ``other_rate`` is what other polls already use, in requests per second.
        """
        spare = POLLING_SHARE * self.limit / self.window - other_rate
        if spare <= 0:
            return math.inf
        return cost_per_poll / spare


class ReadAllowance:
    """The requests one read may still send."""

    def __init__(self, limit: int) -> None:
        """Nothing sent yet."""
        self.limit = limit
        self.sent = 0

    @property
    def left(self) -> int:
        """Requests this read may still send."""
        return max(self.limit - self.sent, 0)


_READ: ContextVar[ReadAllowance | None] = ContextVar("pbx_hub_read", default=None)
"""The read under way in this task (and the tasks it gathers)."""


@dataclass
class _Reported:
    """What the vendor's headers said of one of its windows, and when."""

    remaining: int
    at: float
    sent_since: int = 0


class RequestBudget:
    """Counts requests in a sliding window and pauses after a 429."""

    def __init__(
        self, spec: BudgetSpec, *, clock: Callable[[], float] | None = None
    ) -> None:
        """Start with an empty window; ``clock`` is injectable for tests."""
        self.spec = spec
        # Looked up on every call, so that a test's frozen time applies.
        self._clock = clock or (lambda: time.monotonic())  # noqa: PLW0108
        self._sent: deque[float] = deque()
        self._sent_for_actions: deque[float] = deque()
        self._paused_until = 0.0
        self._unexplained_429s = 0
        self._reported: dict[float, _Reported] = {}

    def _forget_old(self, now: float) -> None:
        for sent in (self._sent, self._sent_for_actions):
            while sent and sent[0] <= now - self.spec.window:
                sent.popleft()

    @property
    def used(self) -> int:
        """Requests sent within the current window."""
        self._forget_old(self._clock())
        return len(self._sent)

    @property
    def remaining(self) -> int:
        """Requests still allowed within the current window."""
        return max(self.spec.limit - self.used, 0)

    @property
    def per_read(self) -> int:
        """Requests one read may send: ``READ_SHARE`` of the limit."""
        return max(math.floor(self.spec.limit * READ_SHARE), 1)

    @contextlib.contextmanager
    def read(self) -> Iterator[ReadAllowance]:
        """Count the requests of one read against ``per_read``; a read
        within a read (a getter calling another) shares the outer allowance.
        """
        if (current := _READ.get()) is not None:
            yield current
            return
        allowance = ReadAllowance(self.per_read)
        token = _READ.set(allowance)
        try:
            yield allowance
        finally:
            _READ.reset(token)

    @staticmethod
    def read_left() -> int | None:
        """Requests the read under way may still send; ``None`` outside one."""
        allowance = _READ.get()
        return None if allowance is None else allowance.left

    def acquire(self, *, action: bool = False) -> None:
        """Count one request, or raise ``PbxRateLimitError`` if none is allowed
        now (``PbxRequestCapError`` when the read under way has sent its share).

        An ``action``'s request is also refused once actions have sent their
        ``action_allowance`` within the window: the rest is polling's. (What
        the vendor reports left counts other callers too, and is not shared
        out: polling slows down to it, see ``min_interval``.)
        """
        allowance = _READ.get()
        if allowance is not None and allowance.left <= 0:
            raise PbxRequestCapError(
                f"One read may send at most {allowance.limit} requests, "
                f"{READ_SHARE:.0%} of the budget of {self.spec.limit}",
                maximum=allowance.limit,
            )
        now = self._clock()
        if now < self._paused_until:
            raise PbxRateLimitError(
                "Request budget paused after a rate limit answer",
                retry_after=self._paused_until - now,
            )
        self._forget_old(now)
        for window, report in self._live_reports(now):
            if report.remaining - report.sent_since <= 0:
                raise PbxRateLimitError(
                    f"The vendor reports no requests left in its {window:.0f} s window",
                    retry_after=report.at + window - now,
                )
        if len(self._sent) >= self.spec.limit:
            retry_after = self._sent[0] + self.spec.window - now
            raise PbxRateLimitError(
                f"Request budget of {self.spec.limit} per "
                f"{self.spec.window:.0f} s is spent",
                retry_after=retry_after,
            )
        if action:
            self._check_action_allowance(now)
            self._sent_for_actions.append(now)
        self._sent.append(now)
        if allowance is not None:
            allowance.sent += 1
        for report in self._reported.values():
            report.sent_since += 1

    def _check_action_allowance(self, now: float) -> None:
        allowance = action_allowance(self.spec.limit)
        if len(self._sent_for_actions) >= allowance:
            oldest = self._sent_for_actions[0] if allowance else now
            raise PbxRateLimitError(
                f"Actions have used their {allowance} of {self.spec.limit} "
                f"requests per {self.spec.window:.0f} s; the rest is kept for "
                "polling",
                retry_after=oldest + self.spec.window - now,
            )

    def pause(self, retry_after: float | None) -> float:
        """Stop all requests for ``retry_after`` seconds; when the PBX did not
        say, back off (see ``BudgetSpec.backoff_start``). Return the pause length.
        """
        if retry_after is not None:
            seconds = max(retry_after, 0.0)
        elif self.spec.backoff_start is None:
            seconds = self.spec.longest_backoff
        else:
            seconds = min(
                self.spec.backoff_start * 2**self._unexplained_429s,
                self.spec.longest_backoff,
            )
            self._unexplained_429s += 1
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        return seconds

    def resume(self) -> None:
        """End a pause now: the caller knows the vendor's window has reset
        (a test that does not wait out a ``Retry-After``).
        """
        self._paused_until = 0.0

    def succeeded(self) -> None:
        """A request got an answer that was not a 429: the backoff starts over."""
        self._unexplained_429s = 0

    def report(self, window: float, remaining: int | None) -> None:
        """Take the vendor's count of requests left in its ``window`` seconds
        (from response headers): it counts other callers of the account too.
        """
        if remaining is not None:
            self._reported[window] = _Reported(
                remaining=max(remaining, 0), at=self._clock()
            )

    def _live_reports(self, now: float) -> list[tuple[float, _Reported]]:
        """Reports still within their window; older ones say nothing of now."""
        return [
            (window, report)
            for window, report in self._reported.items()
            if now - report.at < window
        ]

    def min_interval(self, cost_per_poll: int) -> float:
        """Seconds between polls of ``cost_per_poll`` requests so that polling
        uses at most ``POLLING_SHARE`` of what the vendor reports left: the
        fewer left, the slower. With nothing left, the time until the report
        is a window old. Zero when the vendor reports nothing.
        """
        now = self._clock()
        longest = 0.0
        for window, report in self._live_reports(now):
            left = report.remaining - report.sent_since
            if left <= 0:
                longest = max(longest, report.at + window - now)
            else:
                longest = max(longest, window * cost_per_poll / (POLLING_SHARE * left))
        return longest


SLOW_SHARE = 0.5
"""Share of polling that the slow topics may take (see docs/design-budgets.md)."""


def slow_poll_interval(
    spec: BudgetSpec, cost: int, chosen: timedelta, longest: timedelta
) -> timedelta:
    """``chosen``, lengthened where slow polls of ``cost`` requests would take
    more than ``SLOW_SHARE`` of polling; never lengthened beyond ``longest``.
    """
    share = SLOW_SHARE * POLLING_SHARE * spec.limit / spec.window
    needed = min(cost / share, longest.total_seconds())
    return max(chosen, timedelta(seconds=math.ceil(needed)))


def min_fast_poll_interval(
    spec: BudgetSpec, fast_cost: int, slow_cost: int, slow_interval: timedelta
) -> float:
    """Shortest fast interval, in seconds, that keeps polling within the budget;
    infinite where the slow polls alone fill it.
    """
    slow_rate = slow_cost / slow_interval.total_seconds()
    return spec.min_poll_interval(fast_cost, slow_rate)


def default_fast_poll_interval(
    spec: BudgetSpec,
    fast_cost: int,
    slow_cost: int,
    slow_interval: timedelta,
    *,
    default: timedelta,
    longest: timedelta,
) -> timedelta:
    """``default``, lengthened where the budget needs it; ``longest`` where
    the slow polls alone fill the budget.
    """
    minimum = min_fast_poll_interval(spec, fast_cost, slow_cost, slow_interval)
    if not math.isfinite(minimum):
        return longest
    return max(default, timedelta(seconds=math.ceil(minimum)))


def live_poll_interval(
    spec: BudgetSpec,
    live_cost: int,
    other_rate: float,
    *,
    default: timedelta,
    longest: timedelta,
) -> timedelta:
    """The call states' interval: ``default``, lengthened to what polling's
    share leaves beside ``other_rate`` (the fast and slow topics at their
    intervals, in requests per second); ``longest`` where nothing is left.
    """
    minimum = spec.min_poll_interval(live_cost, other_rate)
    if not math.isfinite(minimum):
        return longest
    return min(max(default, timedelta(seconds=math.ceil(minimum))), longest)


def reported_poll_interval(
    budget: RequestBudget, cost: int, chosen: timedelta, longest: timedelta
) -> timedelta:
    """``chosen``, lengthened as the vendor reports fewer requests left for
    polls of ``cost`` requests (``RequestBudget.min_interval``), up to ``longest``.
    """
    needed = min(budget.min_interval(cost), longest.total_seconds())
    return max(chosen, timedelta(seconds=math.ceil(needed)))

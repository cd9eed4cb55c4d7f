"""How often each cadence polls within a vendor's request budget: the user's
choice or the default, lengthened where the budget needs it (see
docs/design-budgets.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
import math
from typing import TYPE_CHECKING

from .budget import (
    BudgetSpec,
    default_fast_poll_interval,
    live_poll_interval,
    min_fast_poll_interval,
    slow_poll_interval,
)
from .topics import TOPICS, Cadence, Topic

if TYPE_CHECKING:
    from .base import PbxClient


@dataclass(frozen=True, kw_only=True)
class PollDefaults:
    """The intervals polling starts from where the user chose none."""

    fast: timedelta = timedelta(seconds=60)
    slow: timedelta = timedelta(minutes=15)
    live: timedelta = timedelta(seconds=10)
    """Call states' interval where the budget has room for it."""
    longest: timedelta = timedelta(hours=6)
    """No cadence is lengthened beyond it."""


DEFAULTS = PollDefaults()


@dataclass(frozen=True, kw_only=True)
class PollPlan:
    """The interval of each cadence, and what one poll of it costs."""

    intervals: Mapping[Cadence, timedelta]
    costs: Mapping[Cadence, int]
    min_fast: float
    """Shortest fast interval, in seconds, the user may choose beside the slow
    interval they chose; infinite where those slow polls alone fill the budget.
    """

    def refused_interval(
        self, fast: float | None
    ) -> tuple[Cadence, str, dict[str, str]] | None:
        """The cadence whose chosen interval (``fast``, in seconds) the budget
        refuses, with the form error and its placeholders; ``None`` if all fit.
        """
        if not math.isfinite(self.min_fast):
            # The slow polls alone would use the budget up.
            return Cadence.SLOW, "slow_over_budget", {}
        if fast is not None and fast < self.min_fast:
            return Cadence.FAST, "over_budget", {"minimum": f"{self.min_fast:.0f}"}
        return None


def cadence_costs(
    client: PbxClient, measured: Mapping[Topic, int] | None = None
) -> dict[Cadence, int]:
    """Requests one poll of each cadence's topics sends with ``client``: each
    topic's as last ``measured``, else as the vendor declares it.
    """
    costs = dict.fromkeys(Cadence, 0)
    for topic in client.topics:
        costs[TOPICS[topic].cadence] += (measured or {}).get(
            topic, client.poll_cost(topic)
        )
    return costs


def plan_polls(
    spec: BudgetSpec,
    costs: Mapping[Cadence, int],
    *,
    fast: timedelta | None = None,
    slow: timedelta | None = None,
    defaults: PollDefaults = DEFAULTS,
) -> PollPlan:
    """The intervals for polls of ``costs`` within ``spec``: the slow one as
    chosen (``slow``) or the default, lengthened to its share; the fast one as
    chosen or the default, lengthened to what the slow polls leave; the call
    states what both leave, at best ``defaults.live``.
    """
    chosen_slow = defaults.slow if slow is None else slow
    slow_interval = slow_poll_interval(
        spec, costs[Cadence.SLOW], chosen_slow, defaults.longest
    )
    if fast is None:
        fast = default_fast_poll_interval(
            spec,
            costs[Cadence.FAST],
            costs[Cadence.SLOW],
            slow_interval,
            default=defaults.fast,
            longest=defaults.longest,
        )
    intervals = {Cadence.FAST: fast, Cadence.SLOW: slow_interval}
    others = sum(
        costs[cadence] / interval.total_seconds()
        for cadence, interval in intervals.items()
        if costs[cadence]
    )
    intervals[Cadence.LIVE] = live_poll_interval(
        spec,
        costs[Cadence.LIVE],
        others,
        default=defaults.live,
        longest=defaults.longest,
    )
    return PollPlan(
        intervals=intervals,
        costs=costs,
        min_fast=min_fast_poll_interval(
            spec, costs[Cadence.FAST], costs[Cadence.SLOW], chosen_slow
        ),
    )

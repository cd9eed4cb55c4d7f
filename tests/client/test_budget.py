"""The budget's interval arithmetic, without Home Assistant: how often each
cadence may poll within a vendor's request budget.
"""

from __future__ import annotations

from datetime import timedelta
import math

import pytest

from custom_components.pbx_hub.client.budget import (
    BudgetSpec,
    RequestBudget,
    default_fast_poll_interval,
    live_poll_interval,
    min_fast_poll_interval,
    reported_poll_interval,
    slow_poll_interval,
)

from .test_base import FakeClock

SPEC = BudgetSpec(limit=90, window=900)
"""Polling may use 80 %: 0.08 requests a second; the slow topics half of it."""
LONGEST = timedelta(hours=6)


@pytest.mark.parametrize(
    ("cost", "chosen", "expected"),
    [
        (9, timedelta(minutes=15), timedelta(minutes=15)),  # well within
        (9, timedelta(seconds=60), timedelta(seconds=225)),  # 9 / 0.04
        (10, timedelta(seconds=60), timedelta(seconds=250)),
        (7, timedelta(seconds=60), timedelta(seconds=175)),
        (1, timedelta(seconds=1), timedelta(seconds=25)),
        (100_000, timedelta(seconds=60), LONGEST),  # never beyond the longest
        (100_000, timedelta(hours=7), timedelta(hours=7)),  # nor below the choice
        (0, timedelta(seconds=60), timedelta(seconds=60)),
    ],
)
def test_slow_interval_stretches_to_its_share(
    cost: int, chosen: timedelta, expected: timedelta
) -> None:
    assert slow_poll_interval(SPEC, cost, chosen, LONGEST) == expected


def test_slow_interval_rounds_up_to_whole_seconds() -> None:
    # 1 / (0.5 * 0.8 * 100 / 900) = 22.5 s
    spec = BudgetSpec(limit=100, window=900)
    assert slow_poll_interval(spec, 1, timedelta(0), LONGEST) == timedelta(seconds=23)


def test_min_fast_interval_leaves_room_for_the_slow_polls() -> None:
    # Polling may use 0.08/s; 9 slow requests per 900 s take 0.01 of it.
    assert min_fast_poll_interval(SPEC, 7, 9, timedelta(seconds=900)) == (
        pytest.approx(100.0)
    )
    assert min_fast_poll_interval(SPEC, 7, 0, timedelta(seconds=900)) == (
        pytest.approx(87.5)
    )


def test_min_fast_interval_is_infinite_when_slow_polls_fill_the_budget() -> None:
    assert math.isinf(min_fast_poll_interval(SPEC, 1, 72, timedelta(seconds=900)))
    assert math.isinf(min_fast_poll_interval(SPEC, 1, 100, timedelta(seconds=900)))


@pytest.mark.parametrize(
    ("fast_cost", "slow_cost", "expected"),
    [
        (1, 0, timedelta(seconds=60)),  # 12.5 s is allowed: the default stays
        (7, 9, timedelta(seconds=100)),  # the budget needs longer
        (7, 10, timedelta(seconds=102)),  # 101.6 s, rounded up
        (1, 72, LONGEST),  # the slow polls alone fill the budget
    ],
)
def test_default_fast_interval(
    fast_cost: int, slow_cost: int, expected: timedelta
) -> None:
    assert (
        default_fast_poll_interval(
            SPEC,
            fast_cost,
            slow_cost,
            timedelta(seconds=900),
            default=timedelta(seconds=60),
            longest=LONGEST,
        )
        == expected
    )


def test_reported_interval_follows_what_the_vendor_reports_left() -> None:
    clock = FakeClock()
    budget = RequestBudget(BudgetSpec(limit=1000, window=60), clock=clock)
    chosen = timedelta(seconds=10)
    # Nothing reported: the choice stands.
    assert reported_poll_interval(budget, 2, chosen, LONGEST) == chosen
    # 10 left in a 60 s window: 2-request polls use 80 % of them in 15 s.
    budget.report(60, 10)
    assert reported_poll_interval(budget, 2, chosen, LONGEST) == timedelta(seconds=15)
    assert reported_poll_interval(
        budget, 2, timedelta(seconds=30), LONGEST
    ) == timedelta(seconds=30)
    # None left: wait until the report is a window old, at most the longest.
    budget.report(60, 0)
    clock.now += 20.5
    assert reported_poll_interval(budget, 2, chosen, LONGEST) == timedelta(seconds=40)
    assert reported_poll_interval(
        budget, 2, chosen, timedelta(seconds=30)
    ) == timedelta(seconds=30)


LIVE = {"default": timedelta(seconds=10), "longest": timedelta(hours=6)}


def test_live_interval_takes_what_the_other_polls_leave() -> None:
    # VoIPcloud: 80 of 100 per 15 min for polling; status and three call
    # lists every 60 s take 4/60 per second, leaving 1/45 for call states.
    spec = BudgetSpec(limit=100, window=900)
    others = 4 / 60
    interval = live_poll_interval(spec, 1, others, **LIVE)
    assert interval == timedelta(seconds=45)
    used = (others + 1 / interval.total_seconds()) * spec.window
    assert used <= 0.8 * spec.limit
    # One second less would go over.
    assert (others + 1 / 44) * spec.window > 0.8 * spec.limit


def test_live_interval_is_the_default_where_the_budget_has_room() -> None:
    # PBXware: 1800 per hour; a call-state read of 2 fits every 10 s.
    spec = BudgetSpec(limit=1800, window=3600)
    assert live_poll_interval(spec, 2, 13 / 60, **LIVE) == timedelta(seconds=11)
    assert live_poll_interval(spec, 2, 0.0, **LIVE) == timedelta(seconds=10)


def test_live_interval_is_the_longest_when_nothing_is_left() -> None:
    spec = BudgetSpec(limit=100, window=900)
    assert live_poll_interval(spec, 1, 80 / 900, **LIVE) == timedelta(hours=6)
    assert live_poll_interval(spec, 1, 1.0, **LIVE) == timedelta(hours=6)

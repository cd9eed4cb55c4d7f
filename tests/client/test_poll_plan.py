"""The poll plan, without Home Assistant: each cadence's interval for every
vendor, from the user's choices or the defaults, within the vendor's budget.
"""

from __future__ import annotations

from datetime import timedelta
import math
from typing import Any

import aiohttp
import pytest

from custom_components.pbx_hub.client import (
    POLLING_SHARE,
    VENDORS,
    Cadence,
    PbxClient,
    Topic,
    create_client,
)
from custom_components.pbx_hub.client.poll_plan import (
    DEFAULTS,
    PollPlan,
    cadence_costs,
    plan_polls,
)

URL = "https://pbx.example"
SETTINGS: dict[str, dict[str, Any]] = {
    "pbxware": {"url": URL, "api_key": "k" * 32},
    "voipcloud": {"url": URL, "token": "t" * 40},
    "voipcenter": {
        "url": f"{URL}/api/",
        "api_id": "1",
        "api_key": "k",
        "customer_number": "1",
        "password_hash": "a" * 32,
    },
    "tariscope": {"url": URL, "username": "u", "password": "p"},
    "tim4biz": {"url": f"{URL}/api/", "username": "u", "password": "p"},
}
"""Settings a client is built from; no test sends a request."""

FAST, SLOW, LIVE = Cadence.FAST, Cadence.SLOW, Cadence.LIVE


def _seconds(*seconds: float) -> dict[Cadence, timedelta]:
    return {
        cadence: timedelta(seconds=value)
        for cadence, value in zip((FAST, SLOW, LIVE), seconds, strict=True)
    }


def _client(session: aiohttp.ClientSession, vendor: str) -> PbxClient:
    return create_client(vendor, session, SETTINGS[vendor])


def _rate(costs: dict[Cadence, int], intervals: dict[Cadence, timedelta]) -> float:
    """Requests per second that polling at ``intervals`` sends."""
    return sum(costs[c] / intervals[c].total_seconds() for c in costs if costs[c])


@pytest.mark.parametrize(
    ("vendor", "costs", "intervals", "min_fast"),
    [
        # Call records (2 a fast poll) and call forwarding (10, slow) leave
        # the call states 12 s, not the best 10 s.
        ("pbxware", (13, 11, 2), _seconds(60, 900, 12), 33.52),
        # Status and three call lists every 60 s leave the call states 45 s.
        ("voipcloud", (4, 0, 1), _seconds(60, 900, 45), 45.0),
        ("voipcenter", (3, 16, 0), _seconds(60, 900, 10), 7.85),  # pushed
        ("tariscope", (0, 3, 0), _seconds(60, 900, 10), 0.0),
        ("tim4biz", (0, 2, 0), _seconds(60, 900, 10), 0.0),
    ],
)
async def test_every_vendor_at_the_defaults(
    session: aiohttp.ClientSession,
    vendor: str,
    costs: tuple[int, int, int],
    intervals: dict[Cadence, timedelta],
    min_fast: float,
) -> None:
    spec = VENDORS[vendor].budget
    declared = cadence_costs(_client(session, vendor))
    assert declared == dict(zip((FAST, SLOW, LIVE), costs, strict=True))
    plan = plan_polls(spec, declared)
    assert plan.intervals == intervals
    assert plan.costs == declared
    assert plan.min_fast == pytest.approx(min_fast, abs=0.01)
    assert _rate(declared, intervals) <= POLLING_SHARE * spec.limit / spec.window


async def test_measured_costs_count_instead_of_the_declared(
    session: aiohttp.ClientSession,
) -> None:
    """VoipCenter reads each DID on its own: a large account's slow topics
    stretch the slow cadence (to its half of polling), not the fast one.
    """
    client = _client(session, "voipcenter")
    measured = {Topic.DID_ROUTING: 354}
    costs = cadence_costs(client, measured)
    assert (
        costs[SLOW]
        == cadence_costs(client)[SLOW] - client.poll_cost(Topic.DID_ROUTING) + 354
    )
    assert costs[FAST] == 3
    plan = plan_polls(VENDORS["voipcenter"].budget, costs)
    assert plan.intervals[FAST] == DEFAULTS.fast
    assert plan.intervals[SLOW] > DEFAULTS.slow


def test_the_users_fast_choice_stands_and_slows_the_call_states() -> None:
    """VoIPcloud: a fast interval below the minimum is the options flow's to
    refuse; where chosen, nothing is left for the call states (6 h), and a
    longer one leaves them more.
    """
    spec = VENDORS["voipcloud"].budget
    costs = {FAST: 4, SLOW: 0, LIVE: 1}
    quick = plan_polls(spec, costs, fast=timedelta(seconds=30))
    assert quick.intervals[FAST] == timedelta(seconds=30)
    assert quick.intervals[LIVE] == DEFAULTS.longest
    calm = plan_polls(spec, costs, fast=timedelta(seconds=120))
    assert calm.intervals[LIVE] == timedelta(seconds=18)


def test_the_minimum_fast_interval_is_beside_the_slow_interval_chosen() -> None:
    """TIM4biz's slow polls every 150 s would take the whole budget: the plan
    polls them every 300 s (their half), but the minimum fast interval, which
    the options flow checks the user's choice against, is infinite.
    """
    spec = VENDORS["tim4biz"].budget
    costs = {FAST: 0, SLOW: 2, LIVE: 0}
    plan = plan_polls(spec, costs, slow=timedelta(seconds=150))
    assert plan.intervals[SLOW] == timedelta(seconds=300)
    assert math.isinf(plan.min_fast)
    assert plan_polls(spec, costs).min_fast == 0.0


def test_slow_polls_that_fill_the_budget_push_the_fast_default_to_the_longest() -> None:
    spec = VENDORS["tim4biz"].budget
    plan = plan_polls(spec, {FAST: 1, SLOW: 1000, LIVE: 1})
    assert plan.intervals == dict.fromkeys((FAST, SLOW, LIVE), DEFAULTS.longest)


def _plan(min_fast: float) -> PollPlan:
    return PollPlan(intervals={}, costs={}, min_fast=min_fast)


def test_refused_interval_names_the_cadence_and_the_minimum() -> None:
    assert _plan(30).refused_interval(30) is None
    assert _plan(30).refused_interval(None) is None  # no fast polls asked
    assert _plan(30).refused_interval(29) == (
        Cadence.FAST,
        "over_budget",
        {"minimum": "30"},
    )
    # The slow polls alone fill the budget: no fast interval would help.
    assert _plan(math.inf).refused_interval(3600) == (
        Cadence.SLOW,
        "slow_over_budget",
        {},
    )
    assert _plan(math.inf).refused_interval(None) == (
        Cadence.SLOW,
        "slow_over_budget",
        {},
    )

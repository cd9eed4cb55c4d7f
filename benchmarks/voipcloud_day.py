"""One simulated day of VoIPcloud polling with the default options, against the
100-requests-per-15-minutes limit.

The simulator and the client's request budget share one fake clock, so a day
takes seconds. Polling runs as the integration's fast coordinator does: status
and today's calls (from six hours before midnight, for events) every default
fast interval. The day runs from Monday 06:00 to Tuesday 06:00, across
midnight, after a busy Sunday already in the simulator's history; it generates
calls through the day (30 an hour in business hours) and answers 429 as the real
service would.

Run with ``scripts/bench``; ``tests/client/test_voipcloud_day.py`` asserts the
same figures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
import sys
from zoneinfo import ZoneInfo

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.pbx_hub.client import (
    EVENT_LOOKBACK,
    POLLING_SHARE,
    VENDORS,
    Cadence,
    PbxRateLimitError,
    RequestBudget,
    create_client,
)
from custom_components.pbx_hub.client.poll_plan import cadence_costs, plan_polls
from simulator import VoipcloudSimulator

TIME_ZONE = ZoneInfo("Australia/Sydney")
MONDAY_MORNING = datetime(2026, 11, 23, 6, tzinfo=TIME_ZONE)


class FakeClock:
    """One clock for the simulator (datetimes) and the budget (seconds)."""

    def __init__(self, start: datetime) -> None:
        self.start = start.astimezone(UTC)
        self.now = self.start

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return (self.now - self.start).total_seconds()


@dataclass(frozen=True, kw_only=True)
class DayResult:
    """What one simulated day cost."""

    interval: timedelta
    polls: int
    requests: int
    budget_per_day: int
    refused_by_pbx: int
    refused_by_budget: int
    """Polls the client's own budget held back (none expected)."""
    most_in_any_window: int
    window_limit: int
    calls_today_at_end: int

    @property
    def share_of_budget(self) -> float:
        """Requests of the day as a share of what the limit allows in a day."""
        return self.requests / self.budget_per_day


async def simulate_day(*, calls_per_hour: float = 30.0, seed: int = 11) -> DayResult:
    """Poll a simulated VoIPcloud from Monday 00:00 to Tuesday 00:00."""
    spec = VENDORS["voipcloud"].budget
    clock = FakeClock(MONDAY_MORNING)
    async with (
        VoipcloudSimulator(
            clock=clock,
            calls_per_hour=calls_per_hour,
            history=timedelta(hours=30),
            seed=seed,
        ) as sim,
        aiohttp.ClientSession() as session,
    ):
        client = create_client(
            "voipcloud",
            session,
            {"url": sim.url, "token": sim.token},
            budget=RequestBudget(spec, clock=clock.monotonic),
        )
        interval = plan_polls(spec, cadence_costs(client)).intervals[Cadence.FAST]
        end = clock.start + timedelta(days=1)
        polls = refused = held_back = busiest = calls = 0
        while clock.now < end:
            midnight = clock.now.astimezone(TIME_ZONE).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            try:
                _, read = await asyncio.gather(
                    client.async_get_status(),
                    client.async_get_calls(midnight - EVENT_LOOKBACK),
                )
                calls = len(read)
            except PbxRateLimitError as err:
                refused += err.from_pbx
                held_back += not err.from_pbx
            polls += 1
            busiest = max(busiest, sim.requests_in_window())
            clock.now += interval
        return DayResult(
            interval=interval,
            polls=polls,
            requests=sim.request_count,
            budget_per_day=round(spec.limit * 86400 / spec.window),
            refused_by_pbx=refused,
            refused_by_budget=held_back,
            most_in_any_window=busiest,
            window_limit=spec.limit,
            calls_today_at_end=calls,
        )


async def main() -> None:
    result = await simulate_day()
    print("# A simulated day of VoIPcloud with the default options\n")
    print(
        "Status and today's calls every "
        f"{result.interval.total_seconds():.0f} s from Monday 06:00 to Tuesday "
        "06:00 (across midnight, after a busy Sunday), against a simulator "
        "generating 30 calls an hour in business hours, with one shared fake "
        "clock.\n"
    )
    print("| figure | value |")
    print("| --- | ---: |")
    print(f"| polls | {result.polls} |")
    print(f"| requests | {result.requests} |")
    print(f"| budget per day (100 per 15 min) | {result.budget_per_day} |")
    print(
        f"| share of the budget | {result.share_of_budget:.1%} "
        f"(target at most {POLLING_SHARE:.0%}) |"
    )
    print(
        f"| most requests in any 15 minutes | {result.most_in_any_window} "
        f"of {result.window_limit} |"
    )
    print(f"| requests refused with 429 | {result.refused_by_pbx} |")
    print(f"| polls held back by the client's budget | {result.refused_by_budget} |")
    print(f"| call rows held after the last poll | {result.calls_today_at_end} |\n")


if __name__ == "__main__":
    asyncio.run(main())

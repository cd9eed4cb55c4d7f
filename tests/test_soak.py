"""A simulated day per vendor, with seeded random fault windows.

Every vendor polls its simulator for 24 hours of Home Assistant's frozen clock
at its default intervals, ticking by the shortest interval it polls at (the
fast one, or the slow one for vendors with no fast data: a coarser tick fires
no poll more or less). Fault windows chosen by a seeded random stream put the
simulator into one misbehaviour for a while and change its state; after each
window the next polls must make every entity available again, showing the
simulator's new values. Over the day:

* nothing escapes the coordinators: no traceback or unexpected error in the
  log (the harness also fails on any task exception);
* requests in any of the vendor's windows stay within 80 % of its declared
  budget (counted from the simulator's counters at every tick);
* memory does not grow with the number of polls (``tracemalloc``, below).

Memory is traced over 2N ticks in the middle of the day, not all day: tracing
slows every allocation several-fold, and a day traced in full would take
minutes. What is alive after 2N ticks and was not after N is what N polls
leave behind; a leak of ``LEAK_BYTES_PER_POLL`` per poll or more fails.
Allocations made by the simulators (they are in-process) are left out.

The asyncio debug mode the harness turns on is switched off here: it records
a stack for every callback and made a day ten times slower, and nothing here
depends on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import gc
import logging
import random
import time
import tracemalloc
from typing import Any

from _pytest.logging import LogCaptureHandler
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import POLLING_SHARE, VENDORS
from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    Fault,
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from .conftest import setup_entry, shown_tracebacks
from .secret_guard import SecretGuard
from .vendors import ENTRIES

MONDAY = "2026-11-23T00:00:30-08:00"
pytestmark = [pytest.mark.slow, pytest.mark.freeze_time(MONDAY)]
DAY = timedelta(hours=24)
HELD_STEP = timedelta(seconds=5)
"""How far the clock moves while the simulator holds a request (latency and
timeout faults sleep on the event loop's clock, which the freezer drives)."""
LEAK_BYTES_PER_POLL = 1024
"""Growth per poll that fails the memory check. Measured growth is a few
hundred bytes over the whole traced stretch (see the report in the output);
a leak of one small response or model per poll is at least this big.
"""
MEMORY_NOISE = 48 * 1024
"""Allowed growth whatever the number of polls: caches that fill once (the
entity registry's, the logger's, the SSL context's) and the last few answers
in flight when the snapshot is taken."""


type Change = Callable[[Any, random.Random], None]
type Expected = Callable[[HomeAssistant, Any, str], dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class Soak:
    """One vendor's day: its simulator, entry, faults and what must show."""

    vendor: str
    simulator: Callable[[], SimulatorBase]
    faults: tuple[str, ...]
    change: Change
    """Changes the simulator's state during a fault window."""
    expected: Expected
    """Entity id -> the state the simulator's data should show."""
    options: Callable[[Any], dict[str, Any]] = lambda _: {}
    traced_ticks: int = 30
    time_zone: str | None = None
    """Home Assistant's time zone for the day, where not the harness's."""


def entity_id(hass: HomeAssistant, domain: str, unique_id: str) -> str:
    found = er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id)
    assert found is not None, f"no {domain} with unique id {unique_id}"
    return found


def on_off(value: bool) -> str:
    return "on" if value else "off"


# ------------------------------------------------------------------ PBXware


def pbxware_change(sim: PbxwareSimulator, rng: random.Random) -> None:
    extension = rng.choice(list(sim.tenant().extensions.values()))
    extension.dnd = not extension.dnd
    sim.cpu = rng.randint(5, 95)


def pbxware_expected(
    hass: HomeAssistant, sim: PbxwareSimulator, uid: str
) -> dict[str, str]:
    expected = {"sensor.pbxware_127_0_0_1_cpu_usage": f"{float(sim.cpu)}"}
    for extension in sim.tenant().extensions.values():
        switch = entity_id(hass, "switch", f"{uid}_ext_{extension.id}_dnd")
        expected[switch] = on_off(extension.dnd)
    return expected


# ---------------------------------------------------------------- VoIPcloud


def voipcloud_change(sim: VoipcloudSimulator, rng: random.Random) -> None:
    sim.set_system_status(rng.choice(["operational", "degraded", "maintenance"]))
    user = rng.choice(sim.users)
    sim.add_user_call(user.number, start=sim.now() - timedelta(minutes=2))


def voipcloud_expected(
    hass: HomeAssistant, sim: VoipcloudSimulator, uid: str
) -> dict[str, str]:
    today = dt_util.start_of_local_day().astimezone(UTC)
    expected = {
        "sensor.voipcloud_127_0_0_1_system_status": sim.system_status.status,
    }
    for user in sim.users:
        calls = sum(
            1
            for row in sim.user_rows()
            if row["user_number"] == user.number
            and datetime.fromisoformat(str(row["call_start_at"])) >= today
        )
        # A user's sensors appear with the first call the tracker sees.
        sensor = er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{uid}_ext_{user.number}_calls_today"
        )
        if sensor is not None or calls:
            assert sensor is not None, f"no calls-today sensor for {user.number}"
            expected[sensor] = str(calls)
    return expected


# --------------------------------------------------------------- VoipCenter


def voipcenter_change(sim: VoipcenterSimulator, rng: random.Random) -> None:
    indicator = rng.choice(list(sim.indicators))
    sim.set_indicator(indicator, not sim.indicator_state(indicator))


def voipcenter_expected(
    hass: HomeAssistant, sim: VoipcenterSimulator, uid: str
) -> dict[str, str]:
    return {
        entity_id(hass, "switch", f"{uid}_indicator_{item}_indicator"): on_off(
            sim.indicator_state(item)
        )
        for item in sim.indicators
    }


def voipcenter_fault(sim: VoipcenterSimulator, on: bool) -> None:
    sim.backend_down = on


# ---------------------------------------------------------------- Tariscope


FOLLOWED = 2


def followed(sim: TariscopeSimulator) -> list[int]:
    return list(sim.subscribers)[:FOLLOWED]


def tariscope_change(sim: TariscopeSimulator, rng: random.Random) -> None:
    sim.add_payment(rng.choice(followed(sim)), f"{rng.randint(1, 500)}.25")


def tariscope_expected(
    hass: HomeAssistant, sim: TariscopeSimulator, uid: str
) -> dict[str, str]:
    today = dt_util.now().date()
    expected = {}
    for subscriber in followed(sim):
        debt = sim.summary(subscriber, today.year, today.month).end_debt
        sensor = entity_id(hass, "sensor", f"{uid}_subscriber_{subscriber}_balance")
        expected[sensor] = f"{float(debt)}"
    return expected


# ------------------------------------------------------------------ TIM4biz


def tim4biz_change(sim: Tim4bizSimulator, rng: random.Random) -> None:
    extension = rng.choice(list(sim.extensions))
    sim.add_call(
        extension, sim.now() - timedelta(minutes=20), rng.randint(10, 600), 0.25
    )


def tim4biz_expected(
    hass: HomeAssistant, sim: Tim4bizSimulator, uid: str
) -> dict[str, str]:
    midnight = dt_util.start_of_local_day()
    expected = {}
    for totals in sim.extension_totals(midnight, dt_util.now()):
        sensor = entity_id(
            hass, "sensor", f"{uid}_ext_{totals.extension}_usage_calls_today"
        )
        expected[sensor] = str(totals.calls)
    return expected


# ------------------------------------------------------------------- faults

COMMON = (
    Fault.SERVER_ERROR,
    Fault.MALFORMED,
    Fault.TRUNCATED,
    Fault.RATE_LIMIT,
    "rate_limit_retry_after",
    Fault.LATENCY,
    Fault.TIMEOUT,
    "refused",
)
"""Connection refused is the simulator stopped for the window; latency holds
each answer 3 s (within the client's timeout); timeout holds two requests
longer than the client waits."""

SOAKS = {
    "pbxware": Soak(
        vendor="pbxware",
        simulator=lambda: PbxwareSimulator(extensions=4, seed=21),
        faults=(*COMMON, Fault.PHP_WARNING_ONLY),
        change=pbxware_change,
        expected=pbxware_expected,
    ),
    "voipcloud": Soak(
        vendor="voipcloud",
        simulator=lambda: VoipcloudSimulator(
            clock=dt_util.utcnow, generate=False, users=3, seed=22
        ),
        faults=COMMON,
        change=voipcloud_change,
        expected=voipcloud_expected,
    ),
    "voipcenter": Soak(
        vendor="voipcenter",
        simulator=lambda: VoipcenterSimulator(seed=23),
        faults=(*COMMON, "backend_down"),
        change=voipcenter_change,
        expected=voipcenter_expected,
    ),
    "tariscope": Soak(
        vendor="tariscope",
        simulator=lambda: TariscopeSimulator(
            subscribers=4,
            clock=dt_util.utcnow,
            token_lifetime=timedelta(hours=1),
            seed=24,
        ),
        options=lambda sim: {"subscribers": ",".join(map(str, followed(sim)))},
        faults=(*COMMON, "tokens_revoked"),
        change=tariscope_change,
        expected=tariscope_expected,
        traced_ticks=24,
    ),
    "tim4biz": Soak(
        vendor="tim4biz",
        simulator=lambda: Tim4bizSimulator(
            extensions=3, clock=dt_util.utcnow, seeded_calls=False, seed=25
        ),
        faults=COMMON,
        change=tim4biz_change,
        expected=tim4biz_expected,
        traced_ticks=24,
        # The client sends local times without an offset and the simulator
        # reads them as UTC: they agree where Home Assistant runs on UTC.
        time_zone="UTC",
    ),
}


@dataclass(frozen=True)
class Window:
    """A stretch of the day with one fault in effect."""

    start: timedelta
    length: timedelta
    fault: str


def fault_windows(soak: Soak, tick: timedelta) -> list[Window]:
    """Seeded windows, 1 to 3 ticks long (at least 10 minutes) with quiet
    stretches of 40 to 120 minutes between them. Every fault comes once, in
    a random order, before any comes again.
    """
    rng = random.Random(f"soak-{soak.vendor}")
    windows: list[Window] = []
    order: list[str] = []
    at = timedelta(minutes=rng.uniform(30, 90))
    shortest = max(tick, timedelta(minutes=10))
    while at < DAY - timedelta(hours=2):
        if not order:
            order = rng.sample(soak.faults, len(soak.faults))
        fault = order.pop()
        length = shortest * rng.uniform(1.0, 3.0)
        windows.append(Window(start=at, length=length, fault=str(fault)))
        at += length + timedelta(minutes=rng.uniform(40, 120))
    return windows


class Day:
    """Drives one vendor's simulated day and keeps its figures."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        sim: SimulatorBase,
        port: int,
    ) -> None:
        self.hass = hass
        self.freezer = freezer
        self.sim = sim
        self.port = port
        self.start = dt_util.utcnow()
        self.samples: list[tuple[float, int]] = [(0.0, 0)]
        self.requests = 0
        """Vendor requests over the day (the simulator's counter, across restarts)."""
        self.holding = False
        """Whether the current fault holds requests (latency, timeout)."""

    @property
    def elapsed(self) -> timedelta:
        return dt_util.utcnow() - self.start

    async def tick(self, step: timedelta) -> None:
        """Move the clock by ``step`` and let every poll it starts finish."""
        self.freezer.tick(step)
        async_fire_time_changed(self.hass)
        if self.holding:
            await self._release_held_requests()
        await self.hass.async_block_till_done(wait_background_tasks=True)
        self.samples.append(
            (self.elapsed.total_seconds(), self.requests + self.sim.request_count)
        )

    async def _release_held_requests(self) -> None:
        """Move the clock on while the simulator holds a request: it sleeps on
        the loop's (frozen) clock, and so does the client's timeout.
        """
        quiet = 0
        while quiet < 3:
            # Real time for loopback I/O; freezegun does not patch time.sleep.
            await self.hass.async_add_executor_job(time.sleep, 0.003)
            if self.sim.in_flight:
                quiet = 0
                self.freezer.tick(HELD_STEP)
                async_fire_time_changed(self.hass)
            else:
                quiet += 1

    async def begin(self, window: Window, rng: random.Random, soak: Soak) -> None:
        fault = window.fault
        soak.change(self.sim, rng)
        if fault == "refused":
            await self.sim.stop()
            self.requests += self.sim.request_count
            self.sim.reset_counters()
        elif fault == "rate_limit_retry_after":
            self.sim.inject(Fault.RATE_LIMIT, retry_after=120)
        elif fault == "backend_down":
            voipcenter_fault(self.sim, True)  # type: ignore[arg-type]
        elif fault == "tokens_revoked":
            self.sim.expire_all_tokens()  # type: ignore[attr-defined]
        elif fault == Fault.TIMEOUT:
            # Two requests, not the whole window: a client that sends one
            # request at a time would wait 10 s for each of a poll's.
            self.sim.inject(Fault.TIMEOUT, count=2)
            self.holding = True
        else:
            self.sim.inject(Fault(fault), latency=3.0)
            self.holding = fault in (Fault.LATENCY, Fault.TIMEOUT)

    async def end(self, window: Window) -> None:
        self.sim.clear_faults()
        self.holding = False
        if window.fault == "refused":
            await self.sim.start(port=self.port)
        elif window.fault == "backend_down":
            voipcenter_fault(self.sim, False)  # type: ignore[arg-type]
        if self.sim.in_flight:  # timed-out requests the simulator still holds
            self.holding = True

    def busiest_window(self, window: float) -> int:
        """Most requests counted within ``window`` seconds, at tick resolution."""
        busiest = 0
        first = 0
        for at, count in self.samples:
            while self.samples[first][0] < at - window:
                first += 1
            # The sample just before the window started (or the start of day).
            before = self.samples[max(first - 1, 0)][1]
            busiest = max(busiest, count - before)
        return busiest


@pytest.fixture
def soak_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Only warnings and errors are kept: debug records of every poll (the
    secret guard reads PBX Hub's logger at DEBUG) would count as growth in the
    memory check. pytest's report handler keeps records too, beside caplog's.
    """
    caplog.set_level(logging.WARNING)
    keepers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler, LogCaptureHandler)
    ]
    levels = [handler.level for handler in keepers]
    for handler in keepers:
        handler.setLevel(logging.WARNING)
    yield caplog
    for handler, level in zip(keepers, levels, strict=True):
        handler.setLevel(level)


@pytest.fixture
async def soak_sim(request: pytest.FixtureRequest) -> AsyncIterator[SimulatorBase]:
    sim = SOAKS[request.param].simulator()
    await sim.start()
    yield sim
    await sim.stop()


async def run_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    soak: Soak,
    sim: SimulatorBase,
    logs: pytest.LogCaptureFixture,
    guard: SecretGuard,
) -> dict[str, object]:
    hass.loop.set_debug(False)
    if soak.time_zone is not None:
        await hass.config.async_set_time_zone(soak.time_zone)
    assert sim.url is not None
    port = int(sim.url.rsplit(":", 1)[1].split("/", 1)[0])
    entry = ENTRIES[soak.vendor](sim, **soak.options(sim))
    await setup_entry(hass, entry)
    runtime = entry.runtime_data
    uid = runtime.info.unique_id
    polling = list(runtime.coordinators.values())
    assert polling, "nothing polls"
    tick = min(c.update_interval for c in polling if c.update_interval)
    day = Day(hass, freezer, sim, port)

    def available() -> set[str]:
        return {
            state.entity_id
            for state in hass.states.async_all()
            if state.entity_id in entities and state.state != STATE_UNAVAILABLE
        }

    entities = {
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
    }
    baseline = available()
    assert baseline, "no entity is available before the day starts"
    assert_shows(hass, soak.expected(hass, sim, uid))

    rng = random.Random(f"soak-changes-{soak.vendor}")
    windows = fault_windows(soak, tick)
    spec = VENDORS[soak.vendor].budget
    recoveries: list[tuple[str, float]] = []
    traced_from = len(windows) // 2
    memory: Memory | None = None

    async def run_until(moment: timedelta) -> None:
        while day.elapsed < moment:
            await day.tick(tick)

    for index, window in enumerate(windows):
        await run_until(window.start)
        if index == traced_from:
            memory = await measure_memory(day, tick, soak.traced_ticks, guard)
        await day.begin(window, rng, soak)
        await run_until(window.start + window.length)
        await day.end(window)
        ended = day.elapsed
        # Recovered: every coordinator has polled successfully since the
        # window ended, every entity available before is again, and they
        # show what the simulator holds now.
        # A 429 without Retry-After pauses for up to one budget window.
        longest = timedelta(seconds=spec.window) + max(
            c.update_interval or tick for c in polling
        )
        before = [c.data for c in polling]
        succeeded_after: set[int] = set()
        while True:
            for number, coordinator in enumerate(polling):
                # A successful poll sets new data.
                if coordinator.last_update_success and (
                    coordinator.data is not before[number]
                ):
                    succeeded_after.add(number)
            if (
                len(succeeded_after) == len(polling)
                and available() == baseline
                and shows(hass, expected := soak.expected(hass, sim, uid))
            ):
                break
            assert day.elapsed - ended <= longest, (
                f"{window.fault} at {window.start}: not recovered after "
                f"{day.elapsed - ended}; unavailable: {sorted(baseline - available())}"
                f"; polled: {succeeded_after}; expected {expected}, shown "
                f"{ {e: getattr(hass.states.get(e), 'state', None) for e in expected} }"
            )
            await day.tick(tick)
        recoveries.append((window.fault, (day.elapsed - ended).total_seconds()))
    await run_until(DAY)

    assert "Unexpected error" not in logs.text
    assert not shown_tracebacks(logs.records), "an exception was logged"
    busiest = day.busiest_window(spec.window)
    assert busiest <= POLLING_SHARE * spec.limit, (
        f"{busiest} requests in one {spec.window:.0f} s window, budget {spec.limit}"
    )
    assert memory is not None
    growth = memory.growth
    polls = soak.traced_ticks
    assert growth <= MEMORY_NOISE + LEAK_BYTES_PER_POLL * polls, (
        f"memory grew {growth} bytes over {polls} ticks:\n{memory.biggest_growth()}"
    )
    figures = {
        "vendor": soak.vendor,
        "tick": tick.total_seconds(),
        "windows": len(windows),
        "faults": sorted({w.fault for w in windows}),
        "requests": day.requests + sim.request_count,
        "busiest_window": busiest,
        "budget": f"{spec.limit}/{spec.window:.0f}s",
        "memory_after_n": Memory.size(memory.first),
        "memory_growth_n_to_2n": growth,
        "longest_recovery_s": max(seconds for _, seconds in recoveries),
    }
    print(figures)
    await hass.config_entries.async_unload(entry.entry_id)
    return figures


NOT_OURS = (
    tracemalloc.Filter(False, "*/simulator/*", all_frames=True),
    tracemalloc.Filter(False, tracemalloc.__file__),
    tracemalloc.Filter(False, "*/unittest/mock.py", all_frames=True),
)
"""Left out of the memory check: the in-process simulators, the first
snapshot itself, and the harness's storage mock, which records every save."""


async def measure_memory(
    day: Day, tick: timedelta, ticks: int, guard: SecretGuard
) -> Memory:
    """Traced memory alive after ``ticks`` ticks, then after twice as many.

    The secret guard checks what it kept before each snapshot and lets it go:
    its records of every log line and error are the test's, not PBX Hub's.
    """
    snapshots = []
    guard.checkpoint(day.hass)
    gc.collect()
    tracemalloc.start(8)
    try:
        for _ in range(2):
            for _ in range(ticks):
                await day.tick(tick)
            guard.checkpoint(day.hass)
            gc.collect()
            snapshots.append(tracemalloc.take_snapshot().filter_traces(NOT_OURS))
    finally:
        tracemalloc.stop()
    return Memory(first=snapshots[0], second=snapshots[1])


@dataclass(frozen=True)
class Memory:
    """What was alive after N and after 2N traced ticks."""

    first: tracemalloc.Snapshot
    second: tracemalloc.Snapshot

    @staticmethod
    def size(snapshot: tracemalloc.Snapshot) -> int:
        return sum(stat.size for stat in snapshot.statistics("filename"))

    @property
    def growth(self) -> int:
        return self.size(self.second) - self.size(self.first)

    def biggest_growth(self) -> str:
        """Where the growth was allocated, for the failure message."""
        stats = self.second.compare_to(self.first, "traceback")[:5]
        return "\n".join(
            f"{stat.size_diff} B: "
            + " <- ".join(
                f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}"
                for frame in stat.traceback
            )
            for stat in stats
        )


def shows(hass: HomeAssistant, expected: dict[str, str]) -> bool:
    return all(
        (state := hass.states.get(entity)) is not None and state.state == value
        for entity, value in expected.items()
    )


def assert_shows(hass: HomeAssistant, expected: dict[str, str]) -> None:
    actual = {
        entity: getattr(hass.states.get(entity), "state", None) for entity in expected
    }
    assert actual == expected


@pytest.mark.parametrize("soak_sim", list(SOAKS), indirect=True)
async def test_a_day_with_random_faults(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    soak_sim: SimulatorBase,
    soak_logs: pytest.LogCaptureFixture,
    secret_guard: SecretGuard,
) -> None:
    await run_day(
        hass, freezer, SOAKS[soak_sim.vendor], soak_sim, soak_logs, secret_guard
    )

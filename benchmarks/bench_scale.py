"""What PBX Hub costs at 10 to 5000 extensions, against a naive baseline.

Not part of the test suite (``testpaths`` is ``tests``): ``scripts/bench`` runs
it with pytest, for Home Assistant's test harness (the ``hass`` fixture), and
``benchmarks/report.py`` turns the figures into ``docs/benchmarks.md``.

Each case sets up one config entry against a vendor simulator running in its
own process (so the process's CPU time and memory are Home Assistant's alone),
then polls: one poll cycle is one refresh of the fast and of the slow
coordinator. The simulators' clocks stand still where a vendor's data depends
on time, so nothing changes between polls.

A *state write* is a call of ``Entity.async_write_ha_state``: each one builds
the entity's state and attributes and hands them to the state machine, which
fires ``state_changed`` when they differ and ``state_reported`` when not. Both
events are counted too.

The *naive* mode is the obvious implementation: every poll also asks each item
(extension, user, subscriber) on its own, and every entity writes its state on
every poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
import cProfile
from dataclasses import asdict, dataclass
import json
import math
import os
from pathlib import Path
import statistics
import time
import tracemalloc
from typing import Any
from unittest.mock import patch

import aiohttp
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import CoordinatorEntity
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from benchmarks.loopwatch import ServerProcess
from benchmarks.vendors import VENDOR_BENCHES, VendorBench

# Before Home Assistant puts its test config dir (with a custom_components of
# its own) on sys.path.
import custom_components.pbx_hub  # noqa: F401
from custom_components.pbx_hub.client import VENDORS, BudgetSpec, Cadence, RequestBudget
from custom_components.pbx_hub.clients import BUDGETS
from custom_components.pbx_hub.const import CONF_VENDOR, DOMAIN
from custom_components.pbx_hub.entity import PbxEntity

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("PBX_BENCH_RESULTS", ROOT / "benchmarks/results.jsonl"))
SIZES = tuple(
    int(size)
    for size in os.environ.get("PBX_BENCH_SIZES", "10,100,1000,5000").split(",")
)
VENDOR_NAMES = tuple(
    os.environ.get("PBX_BENCH_VENDORS", ",".join(VENDOR_BENCHES)).split(",")
)
POLLS = 2
"""Measured poll cycles per case (the naive baseline: one), after one that is
not measured.
"""
MODES = ("pbx_hub", "naive")
NAIVE_UP_TO = 1000
"""The naive baseline runs up to this size: at 5000 its per-item requests
take half a minute a poll on this machine, and the bench must stay short.
"""
MEMORY_SIZES = tuple(
    int(size) for size in os.environ.get("PBX_BENCH_MEMORY_SIZES", "1000").split(",")
)
"""Sizes traced for memory: tracemalloc triples the time of a setup, and
5000 too would take the bench past ten minutes on a shared two-core machine.
"""
PROFILE = cProfile.Profile() if os.environ.get("PBX_BENCH_PROFILE") else None
"""Set PBX_BENCH_PROFILE to a file name: the polls' profile goes there."""
UNLIMITED = BudgetSpec(limit=10**9, window=3600)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/pbx_hub."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """The simulators listen on 127.0.0.1."""


@dataclass(kw_only=True)
class CaseResult:
    """The figures of one vendor, size and mode."""

    kind: str
    """``timing``, or ``memory`` (traced, so slower: its times are not kept)."""
    vendor: str
    size: int
    mode: str
    entities: int
    setup_s: float
    setup_cpu_s: float
    fast_wall_ms: float
    fast_cpu_ms: float
    slow_wall_ms: float
    slow_cpu_ms: float
    fast_requests: int
    slow_requests: int
    setup_requests: int
    fast_interval_s: float
    slow_interval_s: float
    requests_per_day: float
    budget_per_day: float
    writes_per_poll: int
    changed_per_poll: int
    reported_per_poll: int
    peak_mb: float
    naive_note: str


class SimulatorProcess(ServerProcess):
    """``python -m simulator`` in its own process, with its request counter."""

    def __init__(self, vendor: str, args: list[str]) -> None:
        super().__init__("-m", "simulator", vendor, "--port", "0", *args)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SimulatorProcess:
        await super().__aenter__()
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
        await super().__aexit__(*exc_info)

    async def requests(self) -> int:
        """Requests counted since the last reset."""
        assert self._session is not None
        async with self._session.get(f"{self.url}/_sim/state") as response:
            return int((await response.json())["request_count"])

    async def reset(self) -> None:
        """Zero the counter."""
        assert self._session is not None
        async with self._session.post(f"{self.url}/_sim/reset_counters"):
            pass


class WriteCounter:
    """Calls of ``async_write_ha_state`` and the state machine's events."""

    def __init__(self, hass: HomeAssistant) -> None:
        self.writes = self.changed = self.reported = 0
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._changed)
        hass.bus.async_listen(
            EVENT_STATE_REPORTED, self._reported, event_filter=self._every
        )

    @staticmethod
    @callback
    def _every(event_data: Any) -> bool:
        return True

    @callback
    def _changed(self, event: Event[Any]) -> None:
        self.changed += 1

    @callback
    def _reported(self, event: Event[Any]) -> None:
        self.reported += 1

    def reset(self) -> None:
        self.writes = self.changed = self.reported = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        original = Entity.async_write_ha_state

        def counted(entity: Entity) -> None:
            self.writes += 1
            original(entity)

        with patch.object(Entity, "async_write_ha_state", counted):
            yield


class NaiveLoad:
    """The naive baseline's per-item requests, sent to the simulator."""

    def __init__(self, bench: VendorBench) -> None:
        self.bench = bench

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """The vendor's getter also asks every item on its own, as a naive
        client does (the list answer still feeds the entities, so they show
        the same).
        """
        client_class = VENDORS[self.bench.name].client_class
        original: Callable[..., Any] = getattr(client_class, self.bench.naive_getter)

        async def naive(client: Any, *args: Any) -> Any:
            result = await original(client, *args)
            await asyncio.gather(*self.bench.naive_items(client, result, args))
            return result

        with patch.object(client_class, self.bench.naive_getter, naive):
            yield


def naive_writes(entry: MockConfigEntry) -> None:
    """Every entity writes its state on every poll, changed or not."""
    for coordinator in entry.runtime_data.coordinators.values():
        coordinator.always_update = True


@contextlib.asynccontextmanager
async def loaded_entry(
    hass: HomeAssistant, bench: VendorBench, size: int, sim: SimulatorProcess
) -> AsyncIterator[MockConfigEntry]:
    data = bench.entry_data(sim.url)
    settings = {key: value for key, value in data.items() if key != CONF_VENDOR}
    unique_id = f"bench_{bench.name}_{size}"
    key = VENDORS[bench.name].budget_key(settings, unique_id)
    # Polls follow each other at once here: the per-day figure is worked out
    # from the requests per poll and the coordinators' intervals instead.
    hass.data.setdefault(BUDGETS, {})[key] = RequestBudget(UNLIMITED)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{bench.name} {size}",
        unique_id=unique_id,
        data=data,
        options=bench.options(size),
    )
    entry.add_to_hass(hass)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def budget_per_day(vendor: str) -> float:
    spec = VENDORS[vendor].budget
    return spec.limit * 86400 / spec.window


@dataclass
class Cycle:
    """One measured poll cycle."""

    wall: list[float]
    cpu: list[float]
    requests: list[int]
    writes: int
    changed: int
    reported: int


async def poll_cycle(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    sim: SimulatorProcess,
    counter: WriteCounter,
    load: NaiveLoad | None,
) -> Cycle:
    """Refresh the fast, then the slow coordinator, and count what it cost."""
    counter.reset()
    cycle = Cycle(wall=[], cpu=[], requests=[], writes=0, changed=0, reported=0)
    for cadence in Cadence:
        await sim.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        if PROFILE is not None:
            PROFILE.enable()
        await entry.runtime_data.async_refresh(cadence)
        await hass.async_block_till_done()
        if PROFILE is not None:
            PROFILE.disable()
        cycle.wall.append(time.perf_counter() - wall)
        cycle.cpu.append(time.process_time() - cpu)
        cycle.requests.append(await sim.requests())
        for coordinator in entry.runtime_data.of(cadence):
            assert coordinator.last_update_success, coordinator.last_exception
    cycle.writes, cycle.changed = counter.writes, counter.changed
    cycle.reported = counter.reported
    return cycle


async def measure(
    hass: HomeAssistant, vendor: str, size: int, mode: str, *, kind: str
) -> CaseResult:
    """Set up one entry and poll it; with ``kind="memory"``, traced."""
    # The harness runs the loop in debug mode, which records a stack for
    # every callback; Home Assistant does not, and neither does the bench.
    asyncio.get_running_loop().set_debug(False)
    bench = VENDOR_BENCHES[vendor]
    traced = kind == "memory"
    load = NaiveLoad(bench) if mode == "naive" else None
    counter = WriteCounter(hass)
    polls = 1 if traced or load is not None else POLLS
    async with (
        SimulatorProcess(vendor, bench.sim_args(size)) as sim,
        loaded_entry(hass, bench, size, sim) as entry,
    ):
        with contextlib.ExitStack() as stack:
            stack.enter_context(counter.counting())
            if load is not None:
                stack.enter_context(load.active())
                stack.enter_context(
                    patch.object(
                        PbxEntity,
                        "_handle_coordinator_update",
                        CoordinatorEntity._handle_coordinator_update,
                    )
                )
            await sim.reset()
            if traced:
                tracemalloc.start()
            wall, cpu = time.perf_counter(), time.process_time()
            assert await hass.config_entries.async_setup(entry.entry_id)
            await hass.async_block_till_done()
            setup = (time.perf_counter() - wall, time.process_time() - cpu)
            setup_requests = await sim.requests()
            if load is not None:
                naive_writes(entry)
            registry = er.async_get(hass)
            entities = len(er.async_entries_for_config_entry(registry, entry.entry_id))
            if not traced:  # the first cycle after setup is not measured
                await poll_cycle(hass, entry, sim, counter, load)
            cycles = [
                await poll_cycle(hass, entry, sim, counter, load) for _ in range(polls)
            ]
            peak = 0
            if traced:
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            intervals = tuple(
                max(
                    (
                        c.update_interval.total_seconds()
                        for c in entry.runtime_data.of(cadence)
                        if c.update_interval is not None
                    ),
                    default=math.inf,
                )
                for cadence in Cadence
            )
    fast_requests = max(c.requests[0] for c in cycles)
    slow_requests = max(c.requests[1] for c in cycles)
    return CaseResult(
        kind=kind,
        vendor=vendor,
        size=size,
        mode=mode,
        entities=entities,
        setup_s=setup[0],
        setup_cpu_s=setup[1],
        fast_wall_ms=statistics.median(c.wall[0] for c in cycles) * 1000,
        fast_cpu_ms=statistics.median(c.cpu[0] for c in cycles) * 1000,
        slow_wall_ms=statistics.median(c.wall[1] for c in cycles) * 1000,
        slow_cpu_ms=statistics.median(c.cpu[1] for c in cycles) * 1000,
        fast_requests=fast_requests,
        slow_requests=slow_requests,
        setup_requests=setup_requests,
        fast_interval_s=intervals[0],
        slow_interval_s=intervals[1],
        requests_per_day=fast_requests * 86400 / intervals[0]
        + slow_requests * 86400 / intervals[1],
        budget_per_day=budget_per_day(vendor),
        writes_per_poll=max(c.writes for c in cycles),
        changed_per_poll=max(c.changed for c in cycles),
        reported_per_poll=max(c.reported for c in cycles),
        peak_mb=peak / 2**20,
        naive_note=bench.naive_note,
    )


def record(result: CaseResult) -> None:
    """Append one case to the results file, for ``benchmarks/report.py``."""
    with RESULTS.open("a") as results:
        results.write(json.dumps(asdict(result)) + "\n")
    if PROFILE is not None:
        PROFILE.dump_stats(os.environ["PBX_BENCH_PROFILE"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("vendor", VENDOR_NAMES)
async def test_scale(hass: HomeAssistant, vendor: str, size: int, mode: str) -> None:
    """Setup, poll time, requests and state writes."""
    if mode == "naive" and size > NAIVE_UP_TO:
        pytest.skip("the naive baseline runs up to 1000 extensions")
    record(await measure(hass, vendor, size, mode, kind="timing"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("vendor", VENDOR_NAMES)
async def test_memory(hass: HomeAssistant, vendor: str, size: int, mode: str) -> None:
    """Peak memory of setup and one poll cycle, traced."""
    if size not in MEMORY_SIZES or (mode == "naive" and size > NAIVE_UP_TO):
        pytest.skip("not traced at this size")
    record(await measure(hass, vendor, size, mode, kind="memory"))

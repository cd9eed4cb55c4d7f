"""Polls against hostile servers: the memory and event-loop time they cost.

``scripts/bench`` runs ``python -m benchmarks.bench_hostile``, which writes
``docs/hostile.md`` (and prints it). Each server of ``benchmarks.hostile`` runs
in a process of its own; this process holds only the client, as Home Assistant
would, polling it ``POLLS_PER_SERVER`` times as a coordinator does. Measured:

- **peak memory above the baseline**: the baseline is the resident memory
  after polls of the vendor's simulator at 1000 extensions (imports loaded,
  connections open); the peak is the kernel's high-water mark of resident
  memory (``VmHWM``, reset before each server), so that no short peak between
  two samples is missed.
- **longest stall**: a ticker task asks to wake every 5 ms; how much later
  than asked it woke is how long something held the event loop. Home
  Assistant's every entity, timer and automation waits that long.

Targets (issue 18): within 50 MB of the baseline, no stall over 100 ms.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import gc
import json
import os
from pathlib import Path
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.hostile import BY_NAME, SERVERS
from benchmarks.loopwatch import TICK, ServerProcess, Watch, resident_mb
from custom_components.pbx_hub.client import (
    PbxClient,
    PbxError,
    ReadContext,
    Topic,
    create_client,
)

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs/hostile.md"
POLLS_PER_SERVER = 5
PEAK_TARGET_MB = 50.0
STALL_TARGET_MS = 100.0
REFERENCE_EXTENSIONS = 1000
REFERENCE = f"PBXware simulator, {REFERENCE_EXTENSIONS} extensions"
"""The row that polls the simulator itself: what polling costs at all."""
SIMULATOR_KEY = "sim-pbxware-0123456789"
"""The PBXware simulator's default API key; the hostile servers take any."""

POLLS: dict[str, tuple[Topic, ...]] = {
    "pbxware": (Topic.STATUS, Topic.EXTENSIONS, Topic.LIVE_CALLS),
}
"""One poll of a vendor's fast topics, as its coordinators read them together:
PBXware's eight dashboard calls, the two lists and the live calls."""
SETTINGS: dict[str, Callable[[str], dict[str, str]]] = {
    "pbxware": lambda url: {"url": url, "api_key": SIMULATOR_KEY},
}


@dataclass(frozen=True, kw_only=True)
class Row:
    """One server's figures."""

    server: str
    finding: str
    requests_per_poll: float
    outcome: str
    poll_ms: float
    baseline_mb: float
    peak_above_mb: float
    stall_ms: float

    @property
    def within(self) -> bool:
        """Whether both targets are met and only ``PbxError``s were raised."""
        return (
            self.peak_above_mb <= PEAK_TARGET_MB
            and self.stall_ms <= STALL_TARGET_MS
            and "escaped" not in self.outcome
        )


async def _polls(
    vendor: str, url: str, polls: int
) -> tuple[Counter[str], list[float], int]:
    """``polls`` polls of ``vendor`` at ``url``, one after the other: what
    each call returned or raised, each poll's wall time, the requests sent.
    """
    sent = 0

    async def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    outcomes: Counter[str] = Counter()
    times: list[float] = []
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        client = create_client(vendor, session, SETTINGS[vendor](url))
        for _ in range(polls):
            started = time.perf_counter()
            outcomes.update(
                map(
                    _outcome,
                    await asyncio.gather(
                        *_poll(client, POLLS[vendor]), return_exceptions=True
                    ),
                )
            )
            times.append((time.perf_counter() - started) * 1000)
    return outcomes, times, sent


def _poll(client: PbxClient, topics: Sequence[Topic]) -> list[Awaitable[object]]:
    """One read of each of ``topics``, as a coordinator of each would ask."""
    context = ReadContext.at(datetime.now(UTC))
    return [client.async_read(topic, context) for topic in topics]


def _outcome(result: object) -> str:
    """What a call returned or raised, by name: the result itself is let go
    at once, as a coordinator lets go of all but its last error.
    """
    if not isinstance(result, BaseException):
        return "read"
    if isinstance(result, PbxError):
        return type(result).__name__
    return f"escaped: {type(result).__name__}"


async def _measure(name: str, finding: str, vendor: str, url: str) -> Row:
    """Polls of ``url``: what they cost above what polls of the simulator
    left this process holding.
    """
    async with ServerProcess(
        "-m", "simulator", "pbxware", "--port", "0",
        "--extensions", str(REFERENCE_EXTENSIONS),
    ) as simulator:  # fmt: skip
        await _polls("pbxware", simulator.url, 2)
        gc.collect()
        baseline = resident_mb()
        async with Watch() as watch:
            outcomes, times, sent = await _polls(
                vendor, url or simulator.url, POLLS_PER_SERVER
            )
            peak = watch.peak_mb
    return Row(
        server=name,
        finding=finding,
        requests_per_poll=sent / POLLS_PER_SERVER,
        outcome=", ".join(f"{kind} x{n}" for kind, n in sorted(outcomes.items())),
        poll_ms=statistics.median(times),
        baseline_mb=baseline,
        peak_above_mb=max(peak - baseline, 0.0),
        stall_ms=watch.longest_stall * 1000,
    )


async def measure(name: str) -> Row:
    """One row, measured in this process: ``REFERENCE`` or a server's name."""
    if name == REFERENCE:
        return await _measure(name, "reference", "pbxware", "")
    server = BY_NAME[name]
    async with ServerProcess("-m", "benchmarks.hostile", server.name) as process:
        return await _measure(server.name, server.finding, server.vendor, process.url)


def rows() -> list[Row]:
    """Every row, each measured in a process of its own: memory one server
    left behind (a heap grown, a stack touched) must not count against the
    next.
    """
    measured = []
    for name in (REFERENCE, *(server.name for server in SERVERS)):
        output = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_hostile", "--one", name],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        measured.append(Row(**json.loads(output.strip().splitlines()[-1])))
    return measured


def render(rows: list[Row]) -> str:
    """``docs/hostile.md``."""
    lines = [
        "# Benchmarks: polling hostile servers",
        "",
        "Produced by `scripts/bench` (`benchmarks/bench_hostile.py`, the servers",
        "in `benchmarks/hostile.py`); do not edit by hand. Measured"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()},"
        f" aiohttp {aiohttp.__version__}, {os.cpu_count()} cores, load average"
        f" {os.getloadavg()[0]:.1f} (shared with other work: stalls are noisy).",
        "",
        "Each hostile server runs in a process of its own; the benchmark's",
        "process holds only the client, polling it"
        f" {POLLS_PER_SERVER} times as a coordinator does (PBXware: eight dashboard",
        "calls, the extension and monitor lists and the live calls at once).",
        "Each row is measured in a client process of its own. *Peak above",
        "baseline*: the kernel's high-water mark of resident memory (`VmHWM`)",
        "less the *baseline*, the resident memory after two polls of the PBXware",
        f"simulator at {REFERENCE_EXTENSIONS} extensions. *Longest stall*: how much",
        f"later than asked a ticker task that sleeps {TICK * 1000:g} ms at a time woke:",
        "how long the event loop, and with it all of Home Assistant, stood",
        f"still. Targets: at most {PEAK_TARGET_MB:g} MB above the baseline, no stall",
        f"over {STALL_TARGET_MS:g} ms, and nothing raised but the client's errors.",
        "",
        "| server | finding | requests per poll | what the calls returned or raised "
        "| poll ms (median) | baseline, MB | peak above baseline, MB "
        "| longest stall, ms | within targets |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    lines += [
        f"| {row.server} | {row.finding} | {row.requests_per_poll:g} "
        f"| {row.outcome} | {row.poll_ms:,.0f} | {row.baseline_mb:.0f} "
        f"| {row.peak_above_mb:.1f} "
        f"| {row.stall_ms:.1f} | {'yes' if row.within else '**no**'} |"
        for row in rows
    ]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Measure, print and write ``docs/hostile.md``; with ``--one NAME``,
    measure that row alone and print it as JSON.
    """
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(asdict(asyncio.run(measure(sys.argv[2])))))
        return
    text = render(rows())
    OUTPUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()

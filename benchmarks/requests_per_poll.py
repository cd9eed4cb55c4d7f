"""Requests and time per fast poll of PBXware, against 10, 100 and 1000 extensions.

Run with ``scripts/bench``, which collects its table in benchmarks/RESULTS.md. The requests per poll
must be the same for every size: PBXware has list calls for everything polled.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import statistics
import sys
import time

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.pbx_hub.client import create_client
from simulator import PbxwareSimulator

SIZES = (10, 100, 1000)
ROUNDS = 5


async def measure(extensions: int) -> tuple[int, int, float]:
    """Requests for one fast poll, extensions seen, median seconds per poll."""
    async with (
        PbxwareSimulator(extensions=extensions, dids=5, seed=7) as sim,
        aiohttp.ClientSession() as session,
    ):
        client = create_client(
            "pbxware", session, {"url": sim.url, "api_key": sim.api_key}
        )
        seconds: list[float] = []
        requests = set()
        seen = 0
        for _ in range(ROUNDS):
            sim.reset_counters()
            started = time.perf_counter()
            _, found, _ = await asyncio.gather(
                client.async_get_status(),
                client.async_get_extensions(),
                client.async_get_live_calls(),
            )
            seconds.append(time.perf_counter() - started)
            requests.add(sim.request_count)
            seen = len(found)
        assert len(requests) == 1, f"requests per poll varied: {requests}"
        return requests.pop(), seen, statistics.median(seconds)


async def main() -> None:
    lines = [
        "# Fast poll of PBXware (status + extensions + live calls)",
        "",
        "Simulator on loopback, one poll repeated 5 times; median wall time.",
        "",
        "| extensions | requests per poll | extensions parsed | median ms per poll |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for size in SIZES:
        requests, seen, seconds = await measure(size)
        lines.append(f"| {size} | {requests} | {seen} | {seconds * 1000:.1f} |")
    print("\n".join(lines) + "\n")


if __name__ == "__main__":
    asyncio.run(main())

"""What the hostile-server benchmarks share: a server started in a process of
its own, this process's resident memory and its peak, and how long the event
loop was held (in wall time, and in the CPU time this thread spent meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from pathlib import Path
import re
import sys
import time

ROOT = Path(__file__).resolve().parent.parent
TICK = 0.005
"""Seconds the ticker sleeps; how late it wakes is the stall."""
_URL = re.compile(r"https?://127\.0\.0\.1:\d+")


def status_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status``, in MB."""
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None, field
    return int(match.group(1)) / 1024


def resident_mb() -> float:
    """This process's resident memory now."""
    return status_mb("VmRSS")


def reset_peak() -> None:
    """Set ``VmHWM`` to the resident memory now (Linux 4.0 and later)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class ServerProcess:
    """A server started as ``python <args>`` that prints its URL first."""

    def __init__(self, *args: str) -> None:
        self.args = args
        self.url = ""
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> ServerProcess:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable, *self.args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
        )
        assert self._process.stdout is not None
        while not self.url:
            line = (await self._process.stdout.readline()).decode()
            if not line:
                msg = f"{' '.join(self.args)} exited"
                raise RuntimeError(msg)
            if match := _URL.search(line):
                self.url = match.group(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._process is not None:
            self._process.terminate()
            await self._process.wait()


class Watch:
    """While on: the longest event-loop stall (wall time, and the most CPU
    time this thread spent between two ticks) and the peak resident memory.
    """

    def __init__(self) -> None:
        self.longest_stall = 0.0
        self.longest_cpu_stall = 0.0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watch:
        gc.collect()
        reset_peak()
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    @property
    def peak_mb(self) -> float:
        """The highest resident memory since it was switched on."""
        return status_mb("VmHWM")

    async def _tick(self) -> None:
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(TICK)
            self.longest_stall = max(
                self.longest_stall, time.perf_counter() - started - TICK
            )
            self.longest_cpu_stall = max(
                self.longest_cpu_stall, time.thread_time() - cpu
            )

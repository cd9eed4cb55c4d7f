"""Concurrent reads that end together."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def gather_reads(*reads: Awaitable[Any]) -> list[Any]:
    """``asyncio.gather``, but the first failure cancels the other reads and
    waits for them before it is raised: no request outlives the read that
    failed (and holds its answer's memory, or its share of the budget).
    """
    tasks = [asyncio.ensure_future(read) for read in reads]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise

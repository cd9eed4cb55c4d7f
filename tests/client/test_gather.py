"""Concurrent reads end together: a failure leaves no read running."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.pbx_hub.client import PbxResponseError
from custom_components.pbx_hub.client.gather import gather_reads


async def test_the_first_failure_cancels_the_other_reads() -> None:
    slow_ended = asyncio.Event()
    cancelled = []

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        finally:
            slow_ended.set()
        return 1

    async def failing() -> int:
        raise PbxResponseError("too large")

    with pytest.raises(PbxResponseError, match="too large"):
        await gather_reads(slow(), failing())
    # Ended before the error reached the caller, not left to run on.
    assert slow_ended.is_set()
    assert cancelled == [True]


async def test_the_answers_come_in_order() -> None:
    async def answer(value: int, delay: float) -> int:
        await asyncio.sleep(delay)
        return value

    assert await gather_reads(answer(1, 0.02), answer(2, 0)) == [1, 2]

"""Simulator tests need no Home Assistant instance."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
def auto_enable_custom_integrations() -> None:
    """Override the package-wide autouse fixture: no ``hass`` here."""
    return


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session for one test's requests."""
    async with aiohttp.ClientSession() as client:
        yield client

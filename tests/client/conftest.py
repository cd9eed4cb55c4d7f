"""Fixtures of the client tests: an HTTP session, and a server that answers
whatever a test queues (for answers no simulator gives).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
import pytest

from tests.loopback import loopback_server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[str, list[web.Response]]]:
    """The server's ``/api/`` URL, and the answers it gives, in order."""
    answers: list[web.Response] = []

    async def handler(request: web.Request) -> web.Response:
        return answers.pop(0)

    async with loopback_server(handler) as server:
        yield str(server.make_url("/api/")), answers

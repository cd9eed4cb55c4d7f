"""Fixtures of the client tests: an HTTP session, and a server that answers
whatever a test queues (for answers no simulator gives).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest


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

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app)
    await server.start_server()
    yield str(server.make_url("/api/")), answers
    await server.close()

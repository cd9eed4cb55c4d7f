"""Fixtures of the client tests: an HTTP session, a server that answers
whatever a test queues (for answers no simulator gives), and raw TCP servers
that answer as no HTTP server would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import socket
import struct

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


type Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def loopback_port(serve: Serve) -> AsyncIterator[int]:
    """``serve`` for each connection to a loopback TCP port: the port."""
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def reset_when_closed(writer: asyncio.StreamWriter) -> None:
    """Make the connection's close a reset (a process that crashed, or a
    PBX that resets after it acted), not an orderly end.
    """
    writer.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
    )

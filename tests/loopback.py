"""A server on loopback that answers with whatever a test's handler says:
for answers no simulator gives (a hostile PBX).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib

from aiohttp import web
from aiohttp.test_utils import TestServer


@contextlib.asynccontextmanager
async def loopback_server(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[TestServer]:
    """Serve every path and method with ``handler`` on 127.0.0.1. No access
    log: its local time breaks under a frozen clock.
    """
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app)
    await server.start_server(access_log=None)
    try:
        yield server
    finally:
        await server.close()

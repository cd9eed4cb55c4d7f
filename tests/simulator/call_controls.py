"""The call and clock controls (``/_sim/...``) over HTTP, for the call tests."""

from __future__ import annotations

from typing import Any

import aiohttp

from simulator import SimulatorBase


async def control(
    session: aiohttp.ClientSession,
    sim: SimulatorBase,
    path: str,
    payload: object = None,
    *,
    status: int = 200,
) -> Any:
    """GET ``/_sim/<path>``, or POST ``payload`` to it; its JSON answer, after
    checking the status.
    """
    url = f"{sim.url}/_sim/{path}"
    method = "GET" if payload is None else "POST"
    kwargs: dict[str, Any] = {} if payload is None else {"json": payload}
    async with session.request(method, url, **kwargs) as resp:
        assert resp.status == status, await resp.text()
        return await resp.json(content_type=None)

"""A hostile PBXware for ``benchmarks/bench_flood.py``: it answers like a small
PBX until told to flood its lists with rows.

``python benchmarks/flood_server.py`` serves on an ephemeral loopback port and
prints its URL. ``POST /_mode/<mode>`` switches what the lists hold:

- ``normal``: one extension, no DIDs, nothing odd;
- ``tiny_rows``: the extension, monitor and DID lists just under the client's
  4 MiB body cap of the smallest rows there are (``"1000000":{}``, about
  320,000 a list): the issue's 524,287 "extensions";
- ``over_maximum``: one extension more than PBX Hub takes, with full rows.

``GET /_count`` answers how many API requests it served. It lives in its own
process, so that its memory and CPU are not the measured Home Assistant's.
"""

from __future__ import annotations

import asyncio
import json
import sys

from aiohttp import web

BODY_CAP = 4 * 1024 * 1024
"""The client's body cap (``http.MAX_BODY_BYTES``); kept below it."""
OVER_MAXIMUM = 5001
"""PBXware's maximum of extensions (``PbxwareClient.max_items``), plus one."""
_ROW = '"1000000":{},'


def tiny_rows() -> str:
    """As many of the smallest rows as fit under the body cap."""
    count = (BODY_CAP - 1024) // len(_ROW)
    return "{" + ",".join(f'"{10**6 + i}":{{}}' for i in range(count)) + "}"


def full_rows(count: int) -> str:
    """``count`` extensions as PBXware lists them."""
    return json.dumps(
        {
            str(index): {
                "ext": str(1000 + index),
                "name": f"Person {index}",
                "email": f"person{index}@example.com",
                "status": "1",
                "ua_fullname": "Yealink SIP-T54W",
            }
            for index in range(1, count + 1)
        }
    )


NORMAL = {
    "license.info": json.dumps({"Edition": "Business", "Version": "7.2"}),
    "ext.list": full_rows(1),
    "monitor.list": "[]",
    "did.list": "[]",
    "monitor.live_calls": "Live Calls: 0",
}


class FloodServer:
    """The answers of the current mode, and a request counter."""

    def __init__(self) -> None:
        self.answers = dict(NORMAL)
        self.requests = 0
        self._tiny = tiny_rows()
        self._over = full_rows(OVER_MAXIMUM)

    async def api(self, request: web.Request) -> web.Response:
        self.requests += 1
        action = request.query.get("action", "").removeprefix("pbxware.")
        return web.Response(
            text=self.answers.get(action, "{}"), content_type="text/html"
        )

    async def mode(self, request: web.Request) -> web.Response:
        mode = request.match_info["mode"]
        self.answers = dict(NORMAL)
        if mode == "tiny_rows":
            self.answers |= dict.fromkeys(
                ("ext.list", "monitor.list", "did.list"), self._tiny
            )
        elif mode == "over_maximum":
            self.answers["ext.list"] = self._over
        elif mode != "normal":
            raise web.HTTPNotFound
        return web.json_response({"mode": mode})

    async def count(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.requests})


async def main() -> None:
    server = FloodServer()
    app = web.Application()
    app.router.add_post("/_mode/{mode}", server.mode)
    app.router.add_get("/_count", server.count)
    app.router.add_route("*", "/{tail:.*}", server.api)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"flood server listening on http://{host}:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)

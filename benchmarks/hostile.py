"""Hostile servers: one row each, for ``benchmarks/bench_hostile.py``.

Each server answers every request of a vendor's poll as a hostile or broken
PBX would, in a process of its own (``python -m benchmarks.hostile NAME``
prints its URL), so that what it costs to build and send an answer is not
counted against the client. A new case is a new ``HostileServer`` in
``SERVERS``: a name, the finding it reproduces, and ``build``, which prepares
whatever is costly once and returns the handler that answers each request
(it gets the request, so that it can answer each action of a poll its own way).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import itertools
import zlib

from aiohttp import web

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MIB = 1024 * 1024
BODY_CAP = 4 * MIB
"""The client's cap on a body, as sent and as inflated (``MAX_BODY_BYTES``);
repeated here, as the servers never import the client."""


@dataclass(frozen=True, kw_only=True)
class HostileServer:
    """One hostile server of the benchmark."""

    name: str
    finding: str
    """What it reproduces, for the table (issue 18's item, say)."""
    build: Callable[[], Handler]
    vendor: str = "pbxware"
    """Whose poll ``bench_hostile`` sends to it (see ``bench_hostile.POLLS``)."""


def _always(body: bytes, headers: dict[str, str]) -> Handler:
    """A handler that answers every request with ``body`` and ``headers``."""

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(body=body, headers=headers)

    return answer


def gzip_bomb(inflated: int = 1024 * MIB) -> Handler:
    """Issue 18, item 1: 1 MB of gzip that inflates to 1 GiB of whitespace
    after ``{}`` (valid JSON), sent however the request asked.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b" " * MIB
    parts = [packer.compress(b"{}")]
    parts += [packer.compress(block) for _ in range(inflated // MIB)]
    body = b"".join([*parts, packer.flush()])
    return _always(
        body, {"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )


def deep_nesting() -> Handler:
    """Issue 18, item 3: JSON lists nested two million deep, just under the
    cap (``RecursionError`` from Python's parser).
    """
    depth = (BODY_CAP - 1) // 2
    return _always(b"[" * depth + b"]" * depth, {"Content-Type": "application/json"})


PUNYCODE_STALL = b"-" + b"ba" * ((BODY_CAP - 2) // 2)
"""Just under 4 MiB that ``punycode`` decodes in quadratic time."""


def hostile_charsets() -> Handler:
    """Issue 18, item 3: ``Content-Type`` charsets that are no text encoding
    (``LookupError``), fail on ordinary bytes (``idna``) or decode in
    quadratic time (``punycode``: hours for this body), in turn.
    """
    charsets = itertools.cycle(("base64", "rot13", "hex", "idna", "punycode"))

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(
            body=PUNYCODE_STALL,
            headers={"Content-Type": f"application/json; charset={next(charsets)}"},
        )

    return answer


def braces() -> Handler:
    """A page of 4 MiB of ``{``: each may start the JSON after PHP's warnings,
    and trying each in turn, copying the rest each time, took hours.
    """
    return _always(b"<html>" + b"{" * (BODY_CAP - 6), {"Content-Type": "text/html"})


SERVERS: tuple[HostileServer, ...] = (
    HostileServer(name="gzip bomb", finding="18.1", build=gzip_bomb),
    HostileServer(name="deep nesting", finding="18.3", build=deep_nesting),
    HostileServer(name="hostile charsets", finding="18.3", build=hostile_charsets),
    HostileServer(name="4 MiB of braces", finding="PHP warning search", build=braces),
)
BY_NAME = {server.name: server for server in SERVERS}


async def _serve(server: HostileServer) -> None:
    """Serve ``server`` on a loopback port, print its URL, run until killed."""
    handler = server.build()
    app = web.Application(client_max_size=BODY_CAP)
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    print(f"http://{host}:{port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    """``python -m benchmarks.hostile NAME``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("name", choices=sorted(BY_NAME))
    asyncio.run(_serve(BY_NAME[parser.parse_args().name]))


if __name__ == "__main__":
    main()

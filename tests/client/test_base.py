"""The shared client base: budget, HTTP status mapping, registry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import json
import socket
import struct
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest
from yarl import URL

from custom_components.pbx_hub.client import (
    VENDORS,
    BudgetSpec,
    PbxAnswerLostError,
    PbxAuthError,
    PbxConnectionError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxResponseError,
    PbxUnsupportedError,
    RequestBudget,
    create_client,
)
from custom_components.pbx_hub.client.budget import MAX_BACKOFF
from custom_components.pbx_hub.client.http import (
    CONNECT_SHARE,
    MAX_BODY_BYTES,
    HttpHelper,
    _never_read,
    parse_retry_after,
)

pytestmark = pytest.mark.slow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_sliding_window() -> None:
    clock = FakeClock()
    budget = RequestBudget(BudgetSpec(limit=3, window=60), clock=clock)
    for _ in range(3):
        budget.acquire()
    assert budget.remaining == 0
    with pytest.raises(PbxRateLimitError) as raised:
        budget.acquire()
    assert raised.value.retry_after == 60
    clock.now += 60
    assert budget.remaining == 3
    budget.acquire()
    assert budget.used == 1


def test_budget_pause() -> None:
    clock = FakeClock()
    budget = RequestBudget(BudgetSpec(limit=100, window=900), clock=clock)
    assert budget.pause(None) == 900
    with pytest.raises(PbxRateLimitError):
        budget.acquire()
    clock.now += 899
    with pytest.raises(PbxRateLimitError) as raised:
        budget.acquire()
    assert raised.value.retry_after == 1
    clock.now += 1
    budget.acquire()


def test_budget_backoff_without_retry_after() -> None:
    """A 429 that does not say how long to wait doubles the pause each time,
    up to the window, and starts over after an answer that was not a 429.
    """
    clock = FakeClock()
    budget = RequestBudget(
        BudgetSpec(limit=100, window=900, backoff_start=60), clock=clock
    )
    assert [budget.pause(None) for _ in range(6)] == [60, 120, 240, 480, 900, 900]
    assert budget.pause(30) == 30  # an explicit Retry-After wins
    budget.succeeded()
    assert budget.pause(None) == 60


def test_budget_backoff_is_capped_below_a_long_window() -> None:
    """An hour's window does not keep the entities unavailable for an hour:
    the backoff stops at ``MAX_BACKOFF``, as does a whole-window pause.
    """
    clock = FakeClock()
    budget = RequestBudget(
        BudgetSpec(limit=1800, window=3600, backoff_start=60), clock=clock
    )
    pauses = [budget.pause(None) for _ in range(7)]
    assert pauses == [60, 120, 240, 480, 900, 900, 900]
    assert MAX_BACKOFF == 900
    clock.now += 899
    with pytest.raises(PbxRateLimitError):
        budget.acquire()
    clock.now += 1
    budget.acquire()
    whole = RequestBudget(BudgetSpec(limit=60, window=3600), clock=clock)
    assert whole.pause(None) == MAX_BACKOFF
    assert whole.pause(1800) == 1800  # a Retry-After the PBX sends is kept


def test_min_poll_interval_keeps_twenty_percent_free() -> None:
    spec = BudgetSpec(limit=100, window=900)
    # 80 requests per 900 s, a poll of 2 requests: every 22.5 s at the most.
    assert spec.min_poll_interval(2) == pytest.approx(22.5)
    assert spec.min_poll_interval(2, other_rate=80 / 900) == float("inf")


@pytest.mark.parametrize(
    ("value", "expected"), [("12", 12.0), ("-3", 0.0), ("soon", None), (None, None)]
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value) == expected


def test_registry() -> None:
    spec = VENDORS["pbxware"]
    assert spec.secret_keys == ("api_key",)
    with pytest.raises(PbxUnsupportedError):
        create_client("nokia", None, {})  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def _serving(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[TestServer]:
    """``handler`` at ``/`` on a loopback port."""
    app = web.Application()
    app.router.add_get("/", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def status_server() -> AsyncIterator[TestServer]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=int(request.query["status"]), text="nope")

    async with _serving(handler) as server:
        yield server


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, PbxAuthError),
        # Forbidden: the credentials are known, a right is missing; new ones
        # would not help, so no auth error (which starts reauthentication).
        (403, PbxPermissionError),
        # Readable and saying no: nothing to doubt, unlike a garbled body.
        (404, PbxRefusedError),
        (503, PbxConnectionError),
        # A read's server error: nothing was changed, try again later.
        (500, PbxConnectionError),
        (502, PbxConnectionError),
        # Redirects are not followed: the URL needs fixing, nothing was read.
        (301, PbxRefusedError),
        (302, PbxRefusedError),
    ],
)
async def test_status_mapping(
    status_server: TestServer, status: int, error: type[Exception]
) -> None:
    async with aiohttp.ClientSession() as session:
        helper = HttpHelper(
            session,
            budget=RequestBudget(BudgetSpec(limit=10, window=60)),
            request_timeout=2,
            secrets=lambda: ["s3cret-value"],
        )
        with pytest.raises(error) as raised:
            await helper.request(
                "GET",
                str(status_server.make_url("/")),
                params={"status": str(status), "key": "s3cret-value"},
            )
    assert "s3cret-value" not in str(raised.value)
    assert type(raised.value) is error
    assert helper.redact("key=s3cret-value") == "key=**REDACTED**"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        # The write reached the server (a PHP error after the change, a
        # proxy that forwarded it): it may have been done.
        (500, PbxAnswerLostError),
        (502, PbxAnswerLostError),
        (504, PbxAnswerLostError),
        # Unavailable: the server did not take it.
        (503, PbxConnectionError),
        (404, PbxRefusedError),
    ],
)
async def test_status_mapping_of_a_write(
    session: aiohttp.ClientSession,
    status_server: TestServer,
    status: int,
    error: type[Exception],
) -> None:
    with pytest.raises(error) as raised:
        await _helper(session, 2).request(
            "GET",
            str(status_server.make_url("/")),
            params={"status": str(status), "key": "s3cret-value"},
            write=True,
        )
    assert type(raised.value) is error
    assert "s3cret-value" not in str(raised.value)


async def test_a_redirect_names_the_host_only(
    session: aiohttp.ClientSession, status_server: TestServer
) -> None:
    with pytest.raises(PbxRefusedError, match="redirect") as raised:
        await _helper(session, 2).request(
            "GET",
            str(status_server.make_url("/")),
            params={"status": "307", "key": "s3cret-value"},
            write=True,
        )
    assert str(raised.value) == (
        "127.0.0.1 answered HTTP 307 (redirect): check the URL"
    )


async def test_decode_error_preview_is_redacted() -> None:
    """A PBX that echoes the request (and its key) in an error page must not
    put the key into the error message.
    """
    async with aiohttp.ClientSession() as session:
        helper = HttpHelper(
            session,
            budget=RequestBudget(BudgetSpec(limit=10, window=60)),
            request_timeout=2,
            secrets=lambda: ["s3cret-value"],
        )
        with pytest.raises(PbxResponseError) as raised:
            helper.decode_json("Bad request: apikey=s3cret-value&action=x")
    assert "s3cret-value" not in str(raised.value)
    assert "REDACTED" in str(raised.value)


@pytest.fixture
async def size_server() -> AsyncIterator[TestServer]:
    """Bodies of ``size`` bytes, with a Content-Length or chunked, in a
    ``charset`` when one is asked for.
    """

    async def handler(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        charset = request.query.get("charset")
        content_type = f"text/plain; charset={charset}" if charset else "text/plain"
        if "chunked" not in request.query:
            return web.Response(
                body=b"x" * size, headers={"Content-Type": content_type}
            )
        response = web.StreamResponse(headers={"Content-Type": content_type})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(size // 65536):
                await response.write(b"x" * 65536)
            await response.write_eof()
        except ConnectionError:
            pass
        return response

    async with _serving(handler) as server:
        yield server


@pytest.mark.parametrize("chunked", [False, True])
async def test_body_size_is_capped(size_server: TestServer, chunked: bool) -> None:
    """Beyond ``MAX_BODY_BYTES``, declared or streamed, a ``PbxResponseError``;
    up to it, the body is read.
    """
    async with aiohttp.ClientSession() as session:
        helper = HttpHelper(
            session,
            budget=RequestBudget(BudgetSpec(limit=10, window=60)),
            request_timeout=10,
            secrets=list,
        )

        async def text_of(size: int, **query: str) -> str:
            params = {"size": str(size), **query}
            if chunked:
                params["chunked"] = "1"
            answer = await helper.request(
                "GET", str(size_server.make_url("/")), params=params
            )
            return answer.text

        assert len(await text_of(MAX_BODY_BYTES)) == MAX_BODY_BYTES
        with pytest.raises(PbxResponseError, match="larger than 4 MiB"):
            await text_of(MAX_BODY_BYTES + 65536)
        # An unknown charset is read as UTF-8.
        assert await text_of(65536, charset="no-such-charset") == "x" * 65536


ECHOED_KEYS = [
    "k3y-0123456789abcdefghijklmnopqrstuvwxyz",
    "k3y\\with\\backslashes\\0123456789",
    'k3y"quoted"/plus+eq=amp&0123456789',
]


def _pieces(secret: str, length: int = 12) -> list[str]:
    return [secret[start : start + length] for start in range(len(secret) - 11)]


@pytest.mark.parametrize("key", ECHOED_KEYS)
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(lambda key: f"Bad request, you sent apikey={key}", id="text"),
        pytest.param(lambda key: f'{{"echo": {json.dumps(key)}', id="cut-json"),
        pytest.param(
            lambda key: f"<pre>{URL.build(query={'apikey': key})}</pre>", id="url"
        ),
    ],
)
async def test_a_body_echoing_the_key_shows_none_of_it(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
    key: str,
    body: Callable[[str], str],
) -> None:
    """The preview of a body that is not JSON is redacted before it is cut
    to 60 characters and escaped: neither the key nor 12 characters of it
    reach the error, a backslash in the key included.
    """
    url, answers = scripted
    client = create_client("pbxware", session, {"url": url, "api_key": key})
    answers.append(web.Response(text=body(key)))
    with pytest.raises(PbxResponseError) as raised:
        await client.async_identify()
    message = str(raised.value)
    assert "REDACTED" in message
    assert [piece for piece in _pieces(key) if piece in message] == []
    assert [piece for piece in _pieces(repr(key)) if piece in message] == []


@contextlib.asynccontextmanager
async def _raw_server(
    answer: Callable[[asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback TCP server that reads a request's head, keeps it, then lets
    ``answer`` reply (or not) as no HTTP server would: the URL and the heads.
    """
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        try:
            await answer(writer)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/", received
    finally:
        server.close()
        await server.wait_closed()


async def _hold(writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(5)


async def _hang_up(writer: asyncio.StreamWriter) -> None:
    """Close without a word."""


async def _reset(writer: asyncio.StreamWriter) -> None:
    """Read the request, then reset the connection (a process that crashed)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def _cut_off(writer: asyncio.StreamWriter) -> None:
    """Promise 100 bytes, send 10."""
    writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"ok": tru')
    await writer.drain()


async def _garbage(writer: asyncio.StreamWriter) -> None:
    """No HTTP at all."""
    writer.write(b"\x00\x01 not a status line\r\n\r\n")
    await writer.drain()


def _helper(session: aiohttp.ClientSession, timeout: float) -> HttpHelper:
    return HttpHelper(
        session,
        budget=RequestBudget(BudgetSpec(limit=10, window=60)),
        request_timeout=timeout,
        secrets=lambda: ["s3cret-value"],
    )


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        pytest.param(_hold, "No answer from 127.0.0.1 within 1 s", id="timeout"),
        pytest.param(_hang_up, "ServerDisconnectedError", id="hung-up"),
        pytest.param(_reset, "broke off", id="reset"),
        pytest.param(_cut_off, "ClientPayloadError", id="cut-off"),
        pytest.param(_garbage, "broke off", id="not-http"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_an_answer_lost_after_sending_is_told_apart(
    session: aiohttp.ClientSession,
    answer: Callable[[asyncio.StreamWriter], Awaitable[None]],
    words: str,
    method: str,
) -> None:
    """The write reached the server, which may have acted on it: a
    ``PbxAnswerLostError`` (still a ``PbxConnectionError``), naming the host,
    never the key; and it reached it once, even as a GET (VoipCenter's
    writes), which aiohttp would otherwise send again.
    """
    async with _raw_server(answer) as (url, received):
        with pytest.raises(PbxAnswerLostError, match=words) as raised:
            await _helper(session, 1).request(
                method,
                url,
                params={"key": "s3cret-value"},
                data={"dnd": "1"} if method == "POST" else None,
                write=True,
            )
    assert len(received) == 1
    assert received[0].startswith(f"{method} /?key=".encode())
    assert isinstance(raised.value, PbxConnectionError)
    assert "s3cret-value" not in str(raised.value)


async def test_aiohttp_still_sends_a_dropped_get_twice(
    session: aiohttp.ClientSession,
) -> None:
    """What the write path turns off: aiohttp sends a GET again when the
    server drops it. If aiohttp stops doing so (or renames the switch),
    this fails and ``_sending_once`` can be revisited.
    """
    async with _raw_server(_hang_up) as (url, received):
        with pytest.raises(PbxConnectionError):
            await _helper(session, 1).request("GET", url)
    assert len(received) == 2


async def test_a_reset_of_a_reused_connection_sent_nothing(
    session: aiohttp.ClientSession,
) -> None:
    """A kept-alive connection the server drops with a reset when the next
    request comes: the write was never read, so "cannot connect".
    """
    received: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        received.append(await reader.readuntil(b"\r\n\r\n"))
        await _reset(writer)
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    try:
        helper = _helper(session, 1)
        await helper.request("GET", url)
        with pytest.raises(PbxConnectionError, match="Cannot reach") as raised:
            await helper.request("GET", url, write=True)
    finally:
        server.close()
        await server.wait_closed()
    assert type(raised.value) is PbxConnectionError
    assert len(received) == 2


async def _ok(writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    await writer.drain()


async def test_a_write_keeps_the_shared_session_as_it_was() -> None:
    """A write's own session sends the shared session's headers (Home
    Assistant's User-Agent) and, once closed, leaves the shared one usable.
    """
    async with (
        aiohttp.ClientSession(headers={"User-Agent": "HomeAssistant/test"}) as shared,
        _raw_server(_ok) as (url, received),
    ):
        helper = _helper(shared, 1)
        await helper.request("GET", url, write=True)
        assert not shared.closed
        await helper.request("GET", url)
    assert len(received) == 2
    assert all(b"User-Agent: HomeAssistant/test" in head for head in received)


def test_a_reset_while_still_sending_sent_nothing() -> None:
    assert _never_read(
        aiohttp.ClientConnectionResetError("Connection lost"),
        answer_began=False,
        reused=False,
    )


async def test_a_refused_connection_sent_nothing(
    session: aiohttp.ClientSession,
) -> None:
    """Nothing listens: a plain ``PbxConnectionError``, nothing can have been done."""
    async with _raw_server(_hang_up) as (url, _):
        pass  # closed: its port now refuses
    with pytest.raises(PbxConnectionError, match="Cannot reach") as raised:
        await _helper(session, 2).request("POST", url)
    assert type(raised.value) is PbxConnectionError


class _NeverConnects(aiohttp.TCPConnector):
    """A network where connecting hangs (a host that drops the SYN)."""

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(60)


async def test_a_connect_timeout_sent_nothing() -> None:
    """Connecting takes at most ``CONNECT_SHARE`` of the timeout, so a PBX
    never reached is told apart from one that got the request and did not
    answer in time: not ``PbxAnswerLostError``.
    """
    async with aiohttp.ClientSession(connector=_NeverConnects()) as session:
        started = asyncio.get_running_loop().time()
        with pytest.raises(
            PbxConnectionError, match="ConnectionTimeoutError"
        ) as raised:
            await _helper(session, 0.4).request("POST", "http://192.0.2.1/")
        took = asyncio.get_running_loop().time() - started
    assert type(raised.value) is PbxConnectionError
    assert took == pytest.approx(0.4 * CONNECT_SHARE, abs=0.15)

"""The one rule for what a failed write tells (``docs/write-outcomes.md``),
in every vendor's write path, against small hostile servers on loopback.

Refused (nothing was done) only where an answer that can be read says so for
a reason on the caller's side; once the request went out, anything else may
follow a change: ``PbxAnswerLostError``, which Home Assistant tells as
``write_unconfirmed``. Issue 18, items 6 and 9.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
import json
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    PbxAnswerLostError,
    PbxClient,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxRefusedError,
    create_client,
)

from .conftest import loopback_port, reset_when_closed

pytestmark = pytest.mark.slow


@dataclass(frozen=True, kw_only=True)
class Vendor:
    """A vendor's write, and a read whose answer ``read_answer`` satisfies."""

    settings: Callable[[str], dict[str, str]]
    write: Callable[[PbxClient], Awaitable[object]]
    read: Callable[[PbxClient], Awaitable[object]]
    read_answer: Any


VENDORS: dict[str, Vendor] = {
    "pbxware": Vendor(
        settings=lambda url: {"url": url, "api_key": "k" * 12},
        write=lambda client: client.async_set_dnd("12", True),
        read=lambda client: client.async_get_dids(),
        read_answer=[],
    ),
    "voipcloud": Vendor(
        settings=lambda url: {"url": url, "token": "t" * 20},
        write=lambda client: client.async_click_to_call("1001", "+61 2 9999 0000"),
        read=lambda client: client.async_get_status(),
        read_answer={"status": "success", "data": "operational"},
    ),
    "voipcenter": Vendor(
        settings=lambda url: {
            "url": url,
            "api_id": "id",
            "api_key": "k" * 12,
            "customer_number": "123456",
            "password": "p" * 12,
        },
        write=lambda client: client.async_click_to_call("sip100", "+32 9 345 67 89"),
        read=lambda client: client.async_identify(),
        read_answer={"head": {"status": "1", "error_number": ""}, "body": {}},
    ),
    "tim4biz": Vendor(
        settings=lambda url: {"url": url, "username": "u", "password": "p" * 8},
        write=lambda client: client.async_send_sms("+44 7700 900123", "Alarm"),
        read=lambda client: client.async_get_extension_usage(
            datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
        ),
        read_answer=[],
    ),
}
"""Every vendor that writes (Tariscope only reads)."""


def _redirect(status: int) -> web.Response:
    return web.Response(status=status, headers={"Location": "/done"})


COMMON: dict[str, tuple[Callable[[], web.Response], type[PbxError]]] = {
    # A server's own failure, after the request reached it.
    "HTTP 500": (lambda: web.Response(status=500, text="<h1>500</h1>"), PbxAnswerLostError),
    "HTTP 502": (lambda: web.Response(status=502, text="<h1>502</h1>"), PbxAnswerLostError),
    "HTTP 504": (lambda: web.Response(status=504, text="<h1>504</h1>"), PbxAnswerLostError),
    # Unavailable: the server says it did not take the request.
    "HTTP 503": (lambda: web.Response(status=503, text="<h1>503</h1>"), PbxConnectionError),
    # What a server sends after it handled a form (303 See Other, and the
    # 302 PHP sends in its place): issue 18, item 9.
    "HTTP 303": (lambda: _redirect(303), PbxAnswerLostError),
    "HTTP 302": (lambda: _redirect(302), PbxAnswerLostError),
    # The request belongs elsewhere: not handled, the URL needs fixing.
    "HTTP 301": (lambda: _redirect(301), PbxRefusedError),
    "HTTP 307": (lambda: _redirect(307), PbxRefusedError),
    "HTTP 308": (lambda: _redirect(308), PbxRefusedError),
    # Readable, but no answer to a write: nothing confirms it.
    "HTML instead of JSON": (
        lambda: web.Response(text="<html>Maintenance</html>"),
        PbxError,
    ),
}  # fmt: skip
"""Answers whose outcome is the same for every vendor's write."""

OWN: dict[str, dict[str, tuple[Callable[[], web.Response], type[PbxError]]]] = {
    "pbxware": {
        # Issue 18, item 9: the server's failure, not the user's input.
        "error: Internal server error": (
            lambda: web.json_response({"error": "Internal server error"}),
            PbxAnswerLostError,
        ),
        "error: Database error": (
            lambda: web.json_response({"error": "Database error, try later"}),
            PbxAnswerLostError,
        ),
        # About the input: the user's to fix.
        "error: Extension ID 12 does not exist.": (
            lambda: web.json_response({"error": "Extension ID 12 does not exist."}),
            PbxInvalidInputError,
        ),
    },
    "voipcloud": {
        # Issue 18, item 9: as HTTP 500 and 504 are.
        "code 500 over HTTP 200": (
            lambda: web.json_response(
                {"status": "error", "code": 500, "message": "Server Error"}
            ),
            PbxAnswerLostError,
        ),
        "code 504 over HTTP 200": (
            lambda: web.json_response(
                {"status": "error", "code": "504", "message": "Gateway Timeout"}
            ),
            PbxAnswerLostError,
        ),
        "code 503 over HTTP 200": (
            lambda: web.json_response(
                {"status": "error", "code": 503, "message": "Unavailable"}
            ),
            PbxConnectionError,
        ),
        "code 400": (
            lambda: web.json_response(
                {"status": "error", "code": 400, "message": "Invalid number"}
            ),
            PbxInvalidInputError,
        ),
    },
    "voipcenter": {
        # Body error 1: the PBX's backend is down, it did not act.
        "body error 1": (
            lambda: web.json_response(
                {"head": {"error_number": ""}, "body": {"error_number": 1}}
            ),
            PbxConnectionError,
        ),
        "head error 17 (bad input)": (
            lambda: web.json_response({"head": {"error_number": 17}, "body": {}}),
            PbxInvalidInputError,
        ),
    },
    "tim4biz": {
        "HTTP 400": (
            lambda: web.json_response({"Message": "Invalid recipient"}, status=400),
            PbxInvalidInputError,
        ),
    },
}
"""Each vendor's own ways of telling an outcome in its body."""

CASES = [
    pytest.param(vendor, answer, expected, id=f"{vendor}-{name}")
    for vendor in VENDORS
    for name, (answer, expected) in {**COMMON, **OWN[vendor]}.items()
]


@pytest.mark.parametrize(("vendor", "answer", "expected"), CASES)
async def test_a_failed_write_tells_whether_it_may_have_been_done(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
    vendor: str,
    answer: Callable[[], web.Response],
    expected: type[PbxError],
) -> None:
    """The write, sent once, answered as the case says."""
    url, answers = scripted
    client = create_client(vendor, session, VENDORS[vendor].settings(url))
    answers.append(answer())
    with pytest.raises(PbxError) as raised:
        await VENDORS[vendor].write(client)
    assert answers == []  # sent once
    if expected is PbxError:
        # Some vendors' writes read no body (TIM4biz's SetSMS): all that
        # matters is that no such answer reads as a refusal.
        assert not isinstance(raised.value, PbxRefusedError | PbxInvalidInputError)
    elif expected in (PbxConnectionError, PbxRefusedError):
        assert type(raised.value) is expected
    else:
        assert isinstance(raised.value, expected)


@contextlib.asynccontextmanager
async def _resetting_after_the_write(
    read_answer: Any,
) -> AsyncIterator[tuple[str, list[list[bytes]]]]:
    """A server that answers the first request on a connection with
    ``read_answer`` and keeps it alive, then reads the next request whole
    (a write it may carry out) and resets the connection, as VoipCenter's
    ``call.php`` did after it placed the call. Yields the URL and, per
    connection, the request heads it read.
    """
    connections: list[list[bytes]] = []
    body = json.dumps(read_answer).encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads: list[bytes] = []
        connections.append(heads)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                heads.append(head)
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                if len(heads) == 1:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                    )
                    await writer.drain()
                    continue
                reset_when_closed(writer)
                return
        except asyncio.IncompleteReadError:
            return
        finally:
            writer.close()

    async with loopback_port(serve) as port:
        yield f"http://127.0.0.1:{port}/api/", connections


@pytest.mark.parametrize("vendor", list(VENDORS))
async def test_a_write_reset_on_a_kept_alive_connection_may_have_been_done(
    session: aiohttp.ClientSession, vendor: str
) -> None:
    """Issue 18, item 6: the PBX read the write on a connection kept alive
    from a read, may have carried it out, then reset the connection. That
    was "cannot connect", which invites a retry that rings twice.
    """
    spec = VENDORS[vendor]
    async with _resetting_after_the_write(spec.read_answer) as (url, connections):
        client = create_client(vendor, session, spec.settings(url))
        await spec.read(client)
        with pytest.raises(PbxAnswerLostError, match="broke off"):
            await spec.write(client)
    # Both on one connection, and the write sent once.
    assert [len(heads) for heads in connections] == [2]

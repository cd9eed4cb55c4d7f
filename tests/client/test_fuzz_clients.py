"""Every vendor client, end to end over a fake transport that answers anything:
any status, any headers (rate limits, ``Retry-After``, TIM4biz's API address),
any body (JSON-like, JSON text cut short, not JSON at all), and Tariscope
tokens with any claims. Each public call returns its model or raises a
``PbxError``, never another exception.

This reaches what the parser tests cannot call alone: envelope and error
parsing (``_explain``, ``error_detail``, PBXware's ``error`` key), header
reading, token expiry, and the parsing done inside the getters. Bounded and
derandomised, so it runs the same in CI every time.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
import json
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings, strategies as st
from multidict import CIMultiDict
import pytest

from custom_components.pbx_hub.client import (
    VENDORS,
    AccountSelection,
    PbxClient,
    PbxConnectionError,
    PbxError,
    create_client,
)
from custom_components.pbx_hub.client.readers import ReportsRateLimits
from custom_components.pbx_hub.client.tim4biz import (
    HEADER_API_URL,
    HEADER_AUTHENTICATION,
    HEADER_LIMIT,
    HEADER_LIMIT_DAY,
    HEADER_REMAINING,
    HEADER_REMAINING_DAY,
)
from custom_components.pbx_hub.client.topics import reporting

from .test_fuzz_parsers import DEEP, JSON, SCALARS, UNIX_TIMES

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str
    charset: str | None = "utf-8"


class FakeBody:
    """The body as aiohttp's stream gives it: in chunks."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    async def iter_chunked(self, size: int) -> AsyncIterator[bytes]:
        for start in range(0, len(self._raw), size):
            yield self._raw[start : start + size]


class FakeResponse:
    def __init__(self, answer: Answer) -> None:
        self.status = answer.status
        self.headers = CIMultiDict(answer.headers)
        raw = answer.text.encode("utf-8", errors="surrogatepass")
        self.content_length: int | None = len(raw)
        self.charset = answer.charset
        self.content = FakeBody(raw)


class FakeSession:
    """Gives the drawn answers in order, then 500s (which end any loop)."""

    def __init__(self, answers: list[Answer]) -> None:
        self._answers: Iterator[Answer] = iter(answers)
        self.requests = 0

    @contextlib.asynccontextmanager
    async def request(self, method: str, url: str, **kw: Any) -> AsyncIterator[Any]:
        self.requests += 1
        yield FakeResponse(next(self._answers, Answer(500, {}, "")))


def _jwt(claims: Any) -> str:
    def part(value: Any) -> str:
        raw = json.dumps(value).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


HEADER_TEXT = st.text(max_size=20) | st.sampled_from(
    ["0", "-1", "60", "1e400", "9" * 400, "3.5", "https://api2.tim4biz.com/api/",
     "http://[", "https://", "https://x.tim4biz.com:99999/", "OAUTH", "basic"]
)  # fmt: skip
HEADERS = st.dictionaries(
    st.sampled_from(
        [
            HEADER_LIMIT, HEADER_REMAINING, HEADER_LIMIT_DAY, HEADER_REMAINING_DAY,
            HEADER_API_URL, HEADER_AUTHENTICATION, "Retry-After", "Content-Type",
            "Content-Encoding",
        ]
    ),
    HEADER_TEXT | st.sampled_from(["gzip", "deflate", "br", "identity", "gzip, br"]),
    max_size=4,
)  # fmt: skip
CHARSETS = st.sampled_from(
    ["utf-8", "utf-16", "latin-1", "shift_jis", "base64", "rot13", "hex", "zlib",
     "idna", "punycode", "utf-7", "no-such-charset", "utf\x00", ""]
) | st.none()  # fmt: skip
"""Charsets a ``Content-Type`` may name: text encodings, codecs that are
none (``LookupError``), and ``idna``, which fails on ordinary bytes."""
LIVE_CALLS = st.dictionaries(
    st.text(max_size=6),
    st.fixed_dictionaries(
        {}, optional={"from": SCALARS, "to": SCALARS, "timestamp": UNIX_TIMES}
    ),
    max_size=3,
)
"""PBXware's live calls, with start times in seconds, milliseconds, and
beyond what a ``datetime`` holds."""
MESSAGE = JSON | st.sampled_from(
    ["The period is too long", "Invalid API key.", "not allowed", "whitelist ip"]
)
BODY_JSON = JSON | st.fixed_dictionaries(
    {},
    optional={
        "token": JSON | JSON.map(_jwt),
        "status": JSON,
        "code": JSON,
        "data": JSON,
        "message": MESSAGE,
        "Message": MESSAGE,
        "error": MESSAGE,
        "head": JSON,
        "body": JSON,
    },
)
TEXT = st.one_of(
    BODY_JSON.map(json.dumps),
    BODY_JSON.map(lambda body: json.dumps(body)[:-1]),
    st.text(max_size=40),
    st.just("Live Calls: 0"),
    DEEP,
    LIVE_CALLS.map(json.dumps),
)
ANSWER = st.builds(
    Answer,
    status=st.sampled_from(
        [200, 200, 200, 204, 301, 303, 400, 401, 403, 404, 429, 500, 504]
    ),
    headers=HEADERS,
    text=TEXT,
    charset=CHARSETS,
)
TYPICAL: dict[str, list[Answer]] = {
    "pbxware": [
        Answer(200, {}, json.dumps({"error": "Invalid API key."})),
        Answer(200, {}, json.dumps({"error": "Tenant not found"})),
        Answer(200, {}, "Live Calls: 0"),
    ],
    "voipcloud": [
        Answer(200, {}, json.dumps({"status": "error", "code": 429, "message": "x"})),
        Answer(401, {}, json.dumps({"status": "error", "message": "IP whitelist"})),
        Answer(200, {}, json.dumps({"status": "success", "data": []})),
    ],
    "voipcenter": [
        Answer(200, {}, json.dumps({"head": {"error_number": n}, "body": {}}))
        for n in (11, 13, 14, 17)
    ]
    + [Answer(200, {}, json.dumps({"body": {"status": "1"}}))],
    "tariscope": [
        Answer(200, {}, json.dumps({"token": _jwt({"exp": 2e9, "iat": 1e9})})),
        Answer(200, {}, json.dumps({"token": "a.b.c"})),
        Answer(401, {}, json.dumps({"message": "expired"})),
    ],
    "tim4biz": [
        Answer(400, {}, json.dumps({"Message": "The period is too long"})),
        Answer(200, {HEADER_API_URL: "http://["}, "[]"),
        Answer(200, {HEADER_API_URL: "https://x.tim4biz.com:99999/"}, "[]"),
        Answer(200, {HEADER_REMAINING: "0", HEADER_REMAINING_DAY: "-5"}, "[]"),
    ],
}
"""Answers each vendor really gives, mixed in so that the fuzzer reaches the
paths behind them (a split period, a token to renew, an error envelope).
"""


def answers(vendor: str) -> st.SearchStrategy[list[Answer]]:
    return st.lists(ANSWER | st.sampled_from(TYPICAL[vendor]), max_size=12)


NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
SETTINGS: dict[str, dict[str, str]] = {
    "pbxware": {"url": "http://pbx.test", "api_key": "k" * 12, "tenant": "2"},
    "voipcloud": {"url": "http://voipcloud.test", "token": "t" * 12},
    "voipcenter": {
        "url": "http://voipcenter.test/api/",
        "api_id": "id",
        "api_key": "k" * 12,
        "customer_number": "123456",
        "password": "p" * 12,
    },
    "tariscope": {"url": "http://tariscope.test", "username": "u", "password": "p" * 8},
    "tim4biz": {
        "url": "https://api.tim4biz.com/api/",
        "username": "u",
        "password": "p" * 8,
    },
}
type Call = Callable[[PbxClient], Awaitable[object]]
CALLS: dict[str, dict[str, Call]] = {
    "pbxware": {
        "identify": lambda c: c.async_identify(),
        "tenants": lambda c: c.async_get_tenants(),
        "status": lambda c: c.async_get_status(),
        "extensions": lambda c: c.async_get_extensions(),
        "live_calls": lambda c: c.async_get_live_calls(),
        "dids": lambda c: c.async_get_dids(),
        "set_dnd": lambda c: c.async_set_dnd("1", True),
    },
    "voipcloud": {
        "identify": lambda c: c.async_identify(),
        "status": lambda c: c.async_get_status(),
        "calls": lambda c: c.async_get_calls(NOW),
        "click_to_call": lambda c: c.async_click_to_call("1001", "0298765432"),
    },
    "voipcenter": {
        "identify": lambda c: c.async_identify(),
        "status": lambda c: c.async_get_status(),
        "extensions": lambda c: c.async_get_extensions(),
        "indicators": lambda c: c.async_get_indicators(),
        "did_routing": lambda c: c.async_get_did_routing(),
        "hot_desks": lambda c: c.async_get_hot_desks(),
        "set_indicator": lambda c: c.async_set_indicator("1", True),
        "click_to_call": lambda c: c.async_click_to_call("sip1", "021234567"),
    },
    "tariscope": {
        "identify": lambda c: c.async_identify(),
        "accounts": lambda c: c.async_get_accounts(
            AccountSelection(
                ids=("1", "a@b.example"), departments=("2",), nodes=("3",)
            ),
            date(2026, 5, 1),
        ),
        "subscriber": lambda c: c.async_get_subscriber("1"),
        "charges": lambda c: c.async_get_charges(
            "1", date(2026, 5, 1), date(2026, 5, 4)
        ),
    },
    "tim4biz": {
        "identify": lambda c: c.async_identify(),
        "usage": lambda c: c.async_get_extension_usage(
            datetime(2026, 1, 1, tzinfo=UTC), NOW
        ),
        "send_sms": lambda c: c.async_send_sms("+32470123456", "Hi"),
    },
}
CASES = sorted((vendor, name) for vendor, calls in CALLS.items() for name in calls)


def _read_what_the_client_exposes(client: PbxClient) -> None:
    """Properties built from what was read must not fail either."""
    if isinstance(client, ReportsRateLimits):
        _ = client.rate_limit_status
    client.http.budget.min_interval(3)


@pytest.mark.parametrize(("vendor", "name"), CASES)
def test_clients_raise_only_pbx_errors(vendor: str, name: str) -> None:
    call = CALLS[vendor][name]

    @settings(
        max_examples=30,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(answers(vendor))
    def check(drawn: list[Answer]) -> None:
        session = FakeSession(drawn)
        client = create_client(vendor, session, SETTINGS[vendor], request_timeout=5)  # type: ignore[arg-type]

        async def run() -> None:
            with contextlib.suppress(PbxError):
                await call(client)
            _read_what_the_client_exposes(client)

        asyncio.run(run())

    check()


URLS = st.text(max_size=30) | st.sampled_from(
    ["http://[", "http://x:99999/", "", "http://", "no scheme", "http://a b/",
     "https://[::1]:8085", "ftp://pbx.test", "//pbx.test", "http://pbx.test?x=1#y"]
)  # fmt: skip


@pytest.mark.parametrize("vendor", sorted(SETTINGS))
def test_any_server_address(vendor: str) -> None:
    """A URL setting that is no URL at all is a ``PbxError`` too (yarl
    raises ``ValueError`` for ``http://[`` or a port over 65535).
    """

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(URLS)
    def check(url: str) -> None:
        session = FakeSession([Answer(200, {}, "[]")])
        settings_ = {**SETTINGS[vendor], "url": url}
        with contextlib.suppress(PbxError):
            VENDORS[vendor].budget_key(settings_)
            asyncio.run(create_client(vendor, session, settings_).async_identify())  # type: ignore[arg-type]

    check()


def test_a_failing_half_of_a_split_period_raises_its_own_error() -> None:
    """Found by fuzzing: TIM4biz's split used a TaskGroup, whose
    ``ExceptionGroup`` no ``except PbxError`` catches.
    """
    too_long = Answer(400, {}, json.dumps({"Message": "The period is too long"}))
    client = create_client(
        "tim4biz",
        FakeSession([too_long, Answer(500, {}, "")]),  # type: ignore[arg-type]
        SETTINGS["tim4biz"],
    )
    with pytest.raises(PbxConnectionError):
        asyncio.run(CALLS["tim4biz"]["usage"](client))


@pytest.mark.parametrize("url", ["http://[", "https://x.tim4biz.com:99999/"])
def test_a_tim4biz_api_url_that_is_no_url_is_ignored(url: str) -> None:
    """Found by fuzzing: yarl raised ``ValueError`` on reading the header."""
    client = create_client(
        "tim4biz",
        FakeSession([Answer(200, {HEADER_API_URL: url}, "[]")]),  # type: ignore[arg-type]
        SETTINGS["tim4biz"],
    )
    with reporting() as report:
        asyncio.run(client.async_identify())
    assert report.notices == {}


CREDENTIAL = st.text(max_size=40) | st.sampled_from(
    ["Zomer€2026", "пароль-2026", "a:b", "line\r\nX-Injected: 1", "\x00", " ", "é"]
)  # fmt: skip


@pytest.mark.parametrize("vendor", sorted(SETTINGS))
def test_any_credentials(vendor: str) -> None:
    """Any text in a vendor's secret fields (and user name) is sent, or
    refused with a ``PbxError``, over real HTTP: aiohttp refuses a header
    with a newline, and Latin-1 cannot carry ``€``.
    """
    fields = sorted({*VENDORS[vendor].secret_keys, "username"} & set(SETTINGS[vendor]))

    async def refuse(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"message": "denied"}, status=401)

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(st.fixed_dictionaries(dict.fromkeys(fields, CREDENTIAL)))
    def check(credentials: dict[str, str]) -> None:
        async def run() -> None:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", refuse)
            async with TestServer(app, host="127.0.0.1") as server:
                url = str(server.make_url("/api/"))
                async with aiohttp.ClientSession() as session:
                    client = create_client(
                        vendor, session, {**SETTINGS[vendor], **credentials, "url": url}
                    )
                    with contextlib.suppress(PbxError):
                        await client.async_identify()

        asyncio.run(run())

    check()

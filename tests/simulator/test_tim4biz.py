"""The TIM4biz simulator over real loopback HTTP."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import aiohttp
import pytest

from simulator import Fault
from simulator.tim4biz import (
    DEFAULT_PASSWORD,
    HEADER_API_URL,
    HEADER_AUTHENTICATION,
    HEADER_LIMIT,
    HEADER_LIMIT_24H,
    HEADER_REMAINING,
    HEADER_REMAINING_24H,
    LICENCE_CALL_ACCOUNTING,
    LICENCE_MESSAGING,
    Tim4bizSimulator,
)

pytestmark = pytest.mark.slow

NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
RATE_HEADERS = (HEADER_LIMIT, HEADER_REMAINING, HEADER_LIMIT_24H, HEADER_REMAINING_24H)


class Clock:
    """A hand-driven clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[Tim4bizSimulator]:
    async with Tim4bizSimulator(extensions=10, seed=1, clock=clock) as simulator:
        yield simulator


def basic(username: str, password: str) -> str:
    """An Authorization header's value with Basic credentials."""
    return aiohttp.encode_basic_auth(username, password)


async def call(
    session: aiohttp.ClientSession,
    sim: Tim4bizSimulator,
    method: str,
    *,
    verb: str = "GET",
    auth: tuple[str, str] | bool = True,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and decoded body (JSON when possible) of one request,
    with Basic credentials ``auth`` (the simulator's own when ``True``).
    """
    if auth is True:
        auth = (sim.username, sim.password)
    if auth:
        headers = {**(headers or {}), "Authorization": basic(*auth)}
    async with session.request(
        verb, f"{sim.url}/api/{method}", headers=headers, **kwargs
    ) as resp:
        text = await resp.text()
        try:
            body: Any = json.loads(text)
        except ValueError:
            body = text
        return resp.status, dict(resp.headers), body


def period(start: datetime, end: datetime) -> dict[str, str]:
    return {
        "from": start.replace(tzinfo=None).isoformat(),
        "to": end.replace(tzinfo=None).isoformat(),
    }


FEB = period(datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))


# ------------------------------------------------------------- auth + headers


async def test_auth(session: aiohttp.ClientSession, sim: Tim4bizSimulator) -> None:
    for auth in (
        False,
        (sim.username, "wrong"),
        ("someone", sim.password),
    ):
        status, headers, body = await call(
            session, sim, "ExtensionTotal", auth=auth, params=FEB
        )
        assert status == 401
        assert body == {"Message": "Authorization has been denied for this request."}
        assert headers["WWW-Authenticate"].startswith("Basic")
        assert headers[HEADER_REMAINING] == "1000"
    status, _, _ = await call(
        session,
        sim,
        "ExtensionTotal",
        auth=False,
        headers={"Authorization": f"Bearer {sim.password}"},
        params=FEB,
    )
    assert status == 401
    assert sim.remaining_hourly() == 1000  # 401s use no quota

    status, _, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    sim.set_credentials(password="rotated")
    old = (sim.username, DEFAULT_PASSWORD)
    assert (await call(session, sim, "ExtensionTotal", auth=old, params=FEB))[0] == 401
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200
    sim.set_credentials(username="renamed@example.com")
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200
    authorization = {"Authorization": basic(sim.username, sim.password)}
    async with session.get(
        f"{sim.url}/other/ExtensionTotal", headers=authorization
    ) as resp:
        assert resp.status == 404
        assert resp.headers[HEADER_AUTHENTICATION] == "BASIC"
    sim.api_access_enabled = False
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 401


async def test_headers_on_every_response(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    status, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers[HEADER_LIMIT] == "1000"
    assert headers[HEADER_REMAINING] == "999"
    assert headers[HEADER_LIMIT_24H] == "10000"
    assert headers[HEADER_REMAINING_24H] == "9999"
    assert headers[HEADER_API_URL] == f"{sim.url}/api/"
    assert headers[HEADER_AUTHENTICATION] == "BASIC"

    # Errors carry them too, and every authenticated non-429 request uses quota.
    status, headers, _ = await call(session, sim, "ExtensionTotal", verb="POST")
    assert status == 400
    assert headers[HEADER_REMAINING] == "998"
    status, headers, _ = await call(session, sim, "NoSuchMethod")
    assert status == 404
    assert headers[HEADER_REMAINING] == "997"
    assert headers[HEADER_API_URL] == f"{sim.url}/api/"
    assert sim.remaining_hourly() == 997
    assert sim.remaining_daily() == 9997

    sim.api_url = "https://api.tim4biz.com/api/"
    _, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert headers[HEADER_API_URL] == "https://api.tim4biz.com/api/"

    # The control surface is not an API response.
    async with session.get(f"{sim.url}/_sim/state") as resp:
        assert HEADER_LIMIT not in resp.headers
        state = await resp.json()
    assert state["vendor"] == "tim4biz"
    assert state["remaining_hourly"] == 996
    assert state["licences"] == [LICENCE_CALL_ACCOUNTING, LICENCE_MESSAGING]


async def test_constructor_api_url(session: aiohttp.ClientSession) -> None:
    async with Tim4bizSimulator(api_url="https://x.example/api/") as sim:
        _, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
        assert headers[HEADER_API_URL] == "https://x.example/api/"


# ----------------------------------------------------------------- rate limit


async def test_hourly_limit_is_rolling(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator, clock: Clock
) -> None:
    sim.set_limits(hourly=2)
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200
    clock.advance(minutes=30)
    status, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    assert headers[HEADER_REMAINING] == "0"
    status, headers, body = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 429
    assert "60 minutes" in body["Message"]
    assert headers[HEADER_LIMIT] == "2"
    assert headers[HEADER_REMAINING] == "0"
    assert headers[HEADER_REMAINING_24H] == "9998"  # the 429 used nothing
    # Rolling window: the first call falls out 60 minutes after it was made.
    clock.advance(minutes=31)
    assert sim.remaining_hourly() == 1
    status, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    assert headers[HEADER_REMAINING] == "0"
    assert headers[HEADER_REMAINING_24H] == "9997"


async def test_daily_limit(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator, clock: Clock
) -> None:
    sim.set_limits(daily=5)
    sim.consume(4, at=NOW - timedelta(hours=23))
    assert sim.remaining_daily() == 1
    assert sim.remaining_hourly() == 1000
    status, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    assert headers[HEADER_REMAINING_24H] == "0"
    status, headers, body = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 429
    assert "24 hours" in body["Message"]
    assert headers[HEADER_LIMIT_24H] == "5"
    clock.advance(hours=1, seconds=1)
    assert sim.remaining_daily() == 4
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200
    sim.reset_usage()
    assert sim.remaining_daily() == 5
    with pytest.raises(ValueError, match="negative"):
        sim.set_limits(hourly=-1)


@pytest.mark.parametrize("limits", [{"hourly": 0}, {"daily": 0}])
async def test_zero_limit(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator, limits: dict[str, int]
) -> None:
    sim.set_limits(**limits)
    for method, verb in (("ExtensionTotal", "GET"), ("SetSMS", "POST")):
        status, headers, body = await call(session, sim, method, verb=verb)
        assert status == 429
        assert body == {"Message": "Too Many Requests: you have a rate limit of zero."}
        assert headers[HEADER_REMAINING] == "0" or headers[HEADER_REMAINING_24H] == "0"
    assert sim.sent_sms == []


# ------------------------------------------------------------- verbs, licences


async def test_wrong_verb_is_400(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    status, _, body = await call(session, sim, "ExtensionTotal", verb="POST")
    assert status == 400
    assert "HTTP GET" in body["Message"]
    for verb in ("GET", "PUT", "DELETE"):
        status, _, body = await call(
            session, sim, "SetSMS", verb=verb, params={"recipient": "+447700900123"}
        )
        assert status == 400
        assert "HTTP POST" in body["Message"]
    assert sim.sent_sms == []
    # Method names are case-insensitive, like ASP.NET routing.
    assert (await call(session, sim, "extensiontotal", params=FEB))[0] == 200


async def test_licences(session: aiohttp.ClientSession, sim: Tim4bizSimulator) -> None:
    sim.revoke_licence(LICENCE_CALL_ACCOUNTING)
    status, _, body = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 403
    assert "call accounting licence" in body["Message"]
    ok = {"json": {"recipient": "+447700900123", "message": "hi"}}
    assert (await call(session, sim, "SetSMS", verb="POST", **ok))[0] == 200

    sim.revoke_licence(LICENCE_MESSAGING)
    status, _, body = await call(session, sim, "SetSMS", verb="POST", **ok)
    assert status == 403
    assert "messaging licence" in body["Message"]
    assert len(sim.sent_sms) == 1

    sim.grant_licence(LICENCE_CALL_ACCOUNTING)
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200


async def test_constructor_licences(session: aiohttp.ClientSession) -> None:
    async with Tim4bizSimulator(licences={LICENCE_MESSAGING}) as sim:
        assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 403


# -------------------------------------------------------------- ExtensionTotal


async def test_extension_total_shape(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    status, _, body = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    assert [row["Extension"] for row in body] == [str(n) for n in range(201, 211)]
    for row in body:
        assert set(row) == {"Extension", "Name", "Calls", "Duration", "Cost"}
        assert row["Name"] == sim.extensions[row["Extension"]].name
        assert isinstance(row["Calls"], int)
        assert isinstance(row["Duration"], int)
        assert isinstance(row["Cost"], int | float)
    assert sum(row["Calls"] for row in body) > 50  # a busy month
    assert sum(row["Cost"] for row in body) > 0
    assert all(row["Duration"] > 0 for row in body if row["Calls"])
    expected = [
        t.as_json()
        for t in sim.extension_totals(
            datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
        )
    ]
    assert body == expected

    # Parameter names are case-insensitive; one extension can be asked for.
    status, _, one = await call(
        session, sim, "ExtensionTotal", params={**FEB, "Extension": "203"}
    )
    assert status == 200
    assert one == [body[2]]
    status, _, err = await call(
        session, sim, "ExtensionTotal", params={**FEB, "extension": "999"}
    )
    assert status == 404
    assert "999" in err["Message"]


async def test_extension_total_splits_sum(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    a = datetime(2025, 2, 3, 8, 0, tzinfo=UTC)
    m = datetime(2025, 2, 17, 13, 37, tzinfo=UTC)
    b = datetime(2025, 3, 5, 17, 0, tzinfo=UTC)

    async def totals(start: datetime, end: datetime) -> dict[str, tuple[int, int, int]]:
        status, _, body = await call(
            session, sim, "ExtensionTotal", params=period(start, end)
        )
        assert status == 200
        return {
            r["Extension"]: (r["Calls"], r["Duration"], round(r["Cost"] * 100))
            for r in body
        }

    whole = await totals(a, b)
    left = await totals(a, m)
    right = await totals(m, b)
    assert sum(c for c, _, _ in left.values()) > 0
    assert sum(c for c, _, _ in right.values()) > 0
    for ext, (calls, duration, cents) in whole.items():
        assert calls == left[ext][0] + right[ext][0]
        assert duration == left[ext][1] + right[ext][1]
        assert cents == left[ext][2] + right[ext][2]

    # Stable: same seed, same totals; another seed, other totals.
    async with Tim4bizSimulator(seed=1, clock=lambda: NOW) as same:
        assert await totals_of(session, same, a, b) == whole
    async with Tim4bizSimulator(seed=2, clock=lambda: NOW) as other:
        assert await totals_of(session, other, a, b) != whole


async def totals_of(
    session: aiohttp.ClientSession,
    sim: Tim4bizSimulator,
    start: datetime,
    end: datetime,
) -> dict[str, tuple[int, int, int]]:
    _, _, body = await call(session, sim, "ExtensionTotal", params=period(start, end))
    return {
        r["Extension"]: (r["Calls"], r["Duration"], round(r["Cost"] * 100))
        for r in body
    }


async def test_extension_total_periods(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    cases: list[tuple[dict[str, str], str]] = [
        ({}, "datetime range was not supplied"),
        ({"from": "2025-01-01T00:00:00"}, "datetime range was not supplied"),
        ({"from": "yesterday", "to": "2025-01-02"}, "'from' is not a valid datetime"),
        ({"from": "2025-01-02", "to": "2025-01-01"}, "'to' must be after 'from'"),
        (period(start, start + timedelta(days=31, seconds=1)), "too long a period"),
    ]
    for params, message in cases:
        status, headers, body = await call(
            session, sim, "ExtensionTotal", params=params
        )
        assert status == 400, params
        assert message in body["Message"]
        assert HEADER_REMAINING in headers
    assert "maximum is 31 days" in body["Message"]
    ok = period(start, start + timedelta(days=31))
    assert (await call(session, sim, "ExtensionTotal", params=ok))[0] == 200
    # Offsets are honoured; date-only means midnight.
    status, _, body = await call(
        session,
        sim,
        "ExtensionTotal",
        params={"from": "2025-01-01", "to": "2025-01-02T01:00:00+01:00"},
    )
    assert status == 200
    whole_day = period(start, start + timedelta(days=1))
    assert body == (await call(session, sim, "ExtensionTotal", params=whole_day))[2]


async def test_max_period_is_configurable(session: aiohttp.ClientSession) -> None:
    async with Tim4bizSimulator(max_period_days=7, clock=lambda: NOW) as sim:
        start = datetime(2025, 1, 1, tzinfo=UTC)
        too_long = period(start, start + timedelta(days=8))
        status, _, body = await call(session, sim, "ExtensionTotal", params=too_long)
        assert status == 400
        assert "maximum is 7 days" in body["Message"]


async def test_add_call_and_clock(session: aiohttp.ClientSession, clock: Clock) -> None:
    async with Tim4bizSimulator(extensions=2, seeded_calls=False, clock=clock) as sim:
        day = period(NOW - timedelta(hours=12), NOW + timedelta(hours=12))
        _, _, body = await call(session, sim, "ExtensionTotal", params=day)
        assert [r["Calls"] for r in body] == [0, 0]
        sim.add_call("202", NOW - timedelta(hours=1), 125, 0.35)
        assert sim.add_call("202", NOW - timedelta(minutes=5), 60, 0.1).cost == 0.1
        sim.add_call("500", NOW - timedelta(hours=2), 30, 0)
        sim.add_call("201", NOW - timedelta(days=2), 999, 9.99)  # outside the period
        _, _, body = await call(session, sim, "ExtensionTotal", params=day)
        rows = {r["Extension"]: r for r in body}
        assert list(rows) == ["201", "202", "500"]
        assert rows["201"]["Calls"] == 0
        assert rows["202"]["Calls"] == 2
        assert rows["202"]["Duration"] == 185
        assert rows["202"]["Cost"] == pytest.approx(0.45)
        assert rows["500"]["Name"] == "Extension 500"
        sim.remove_extension("500")
        assert len(sim.manual_calls) == 3
        with pytest.raises(ValueError, match="negative"):
            sim.add_call("201", NOW, -1, 0)

    # Seeded calls appear only once they have ended by the clock.
    async with Tim4bizSimulator(extensions=3, clock=clock) as sim:
        today = (NOW.replace(hour=0), NOW.replace(hour=0) + timedelta(days=1))
        clock.now = NOW.replace(hour=6)
        assert sim.calls(*today) == []
        clock.now = NOW.replace(hour=23)
        later = sim.calls(*today)
        assert later
        clock.now = NOW.replace(hour=14)
        ended = [
            c
            for c in later
            if c.start + timedelta(seconds=c.duration) <= NOW.replace(hour=14)
        ]
        assert 0 < len(ended) < len(later)
        assert sim.calls(*today) == ended


# ---------------------------------------------------------------------- SetSMS


async def test_set_sms(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator, clock: Clock
) -> None:
    status, _, body = await call(
        session,
        sim,
        "SetSMS",
        verb="POST",
        json={"Recipient": "+44 7700 900123", "Message": "Queue 5 is busy"},
    )
    assert status == 200
    assert body == {"Id": 1, "Recipient": "+447700900123", "Status": "Queued"}
    status, _, body = await call(
        session,
        sim,
        "SetSMS",
        verb="POST",
        data={"recipient": "0612345678", "message": "form body"},
    )
    assert status == 200
    assert body["Id"] == 2
    clock.advance(minutes=1)
    status, _, _ = await call(
        session,
        sim,
        "SetSMS",
        verb="POST",
        params={"recipient": "(020) 7946-0018", "message": "query string"},
    )
    assert status == 200
    assert [(s.recipient, s.message) for s in sim.sent_sms] == [
        ("+447700900123", "Queue 5 is busy"),
        ("0612345678", "form body"),
        ("02079460018", "query string"),
    ]
    assert sim.sent_sms[2].sent_at == NOW + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"json": {"message": "x"}}, "'recipient'"),
        ({"json": {"recipient": "12345", "message": "x"}}, "'recipient'"),
        ({"json": {"recipient": "+44abc123456", "message": "x"}}, "'recipient'"),
        ({"json": {"recipient": "+447700900123"}}, "'message' must not be empty"),
        ({"json": {"recipient": "+447700900123", "message": " "}}, "empty"),
        ({"json": {"recipient": "+447700900123", "message": None}}, "empty"),
        (
            {"json": {"recipient": "+447700900123", "message": "x" * 919}},
            "longer than 918",
        ),
        ({"json": ["+447700900123", "x"]}, "JSON object"),
        (
            {"data": "{not json", "headers": {"Content-Type": "application/json"}},
            "not valid JSON",
        ),
    ],
)
async def test_set_sms_validation(
    session: aiohttp.ClientSession,
    sim: Tim4bizSimulator,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    status, headers, body = await call(session, sim, "SetSMS", verb="POST", **kwargs)
    assert status == 400
    assert message in body["Message"]
    assert HEADER_REMAINING in headers
    assert sim.sent_sms == []


async def test_longest_sms_is_accepted(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    payload = {"recipient": "+447700900123", "message": "x" * 918}
    assert (await call(session, sim, "SetSMS", verb="POST", json=payload))[0] == 200


# ---------------------------------------------------------------------- faults


async def test_faults_keep_headers(
    session: aiohttp.ClientSession, sim: Tim4bizSimulator
) -> None:
    sim.inject(Fault.RATE_LIMIT, count=1, retry_after=7, actions=["SetSMS"])
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200
    status, headers, _ = await call(
        session, sim, "SetSMS", verb="POST", json={"recipient": "+4477009001"}
    )
    assert status == 429
    assert headers["Retry-After"] == "7"
    # Calls remain, so a 429 the budget did not cause says nothing of it.
    for name in RATE_HEADERS:
        assert name not in headers
    assert headers[HEADER_AUTHENTICATION] == "BASIC"
    assert sim.requests_by_action["SetSMS"] == 1
    assert sim.requests_by_action["ExtensionTotal"] == 1

    sim.inject(Fault.AUTH_REVOKED, count=1)
    status, headers, body = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 401
    assert body["Message"] == "Authorization has been denied for this request."
    assert HEADER_API_URL in headers

    sim.inject(Fault.SERVER_ERROR, count=1)
    status, headers, _ = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 500
    assert HEADER_LIMIT in headers

    sim.inject(Fault.TRUNCATED, count=1)
    status, _, body = await call(session, sim, "ExtensionTotal", params=FEB)
    assert status == 200
    assert isinstance(body, str)  # half a JSON array
    assert body.startswith("[{")

    sim.inject(Fault.LATENCY, count=1, latency=0.01)
    assert (await call(session, sim, "ExtensionTotal", params=FEB))[0] == 200
    # Only requests that reached the handler used quota.
    assert sim.remaining_hourly() == 1000 - 3


# ---------------------------------------------------------------- CLI, banner


def test_from_cli_and_banner() -> None:
    options = argparse.Namespace(
        vendor="tim4biz",
        host="127.0.0.1",
        port=0,
        seed=3,
        extensions=4,
        dids=5,
        multi_tenant=False,
        tenants=2,
        api_key="cli-secret",
    )
    sim = Tim4bizSimulator.from_cli(options)
    assert sim.vendor == "tim4biz"
    assert len(sim.extensions) == 4
    assert sim.password == "cli-secret"
    assert sim.seed == 3
    banner = "\n".join(sim.banner())
    assert sim.username in banner
    assert "cli-secret" in banner
    assert "/api/" in banner

    bare = Tim4bizSimulator.from_cli(argparse.Namespace())
    assert bare.password == DEFAULT_PASSWORD
    assert len(bare.extensions) == 10
    assert bare.now().tzinfo is not None

"""The TIM4biz client against its simulator, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    ExtensionUsage,
    Notice,
    PbxAuthError,
    PbxClient,
    PbxInvalidInputError,
    PbxNotFoundError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
    ReadContext,
    ReadResult,
    Topic,
    create_client,
    tim4biz,
)
from custom_components.pbx_hub.client.tim4biz import (
    Tim4bizClient,
    merge_usage,
    parse_usage,
)
from simulator import Fault, Tim4bizSimulator

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def sim() -> AsyncIterator[Tim4bizSimulator]:
    async with Tim4bizSimulator(extensions=4, clock=Clock(), seed=2) as simulator:
        yield simulator


def _client(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession, **settings: str
) -> Tim4bizClient:
    client = create_client(
        "tim4biz",
        session,
        {
            "url": f"{sim.url}/api/",
            "username": sim.username,
            "password": sim.password,
            **settings,
        },
    )
    assert isinstance(client, Tim4bizClient)
    return client


def _expected(sim: Tim4bizSimulator, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        totals.as_json()["Extension"]: totals.as_json()
        for totals in sim.extension_totals(start, end)
    }


async def test_identify(sim: Tim4bizSimulator, session: aiohttp.ClientSession) -> None:
    info = await _client(sim, session).async_identify()
    assert info.unique_id == f"tim4biz_{sim.username.lower()}"
    with pytest.raises(PbxAuthError) as raised:
        await _client(sim, session, password="wrong-password-1").async_identify()
    assert "wrong-password-1" not in str(raised.value)


@pytest.mark.parametrize(
    ("username", "password"),
    [("api-user", "Zomer€2026-пароль"), ("пользователь", "p4ss-€uro-2026")],
)
async def test_credentials_beyond_latin_1(
    session: aiohttp.ClientSession, username: str, password: str
) -> None:
    """Basic auth in UTF-8 (RFC 7617): ``€`` or Cyrillic signs in, where
    Latin-1 raised ``UnicodeEncodeError`` before any request was sent; the
    simulator accepts no other encoding of them.
    """
    async with Tim4bizSimulator(
        extensions=1, clock=Clock(), username=username, password=password
    ) as simulator:
        client = _client(simulator, session)
        assert (await client.async_identify()).unique_id == f"tim4biz_{username}"
        with pytest.raises(PbxAuthError):
            await _client(simulator, session, password="€" * 12).async_identify()


async def test_identify_without_the_accounting_licence(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    """A 403 proves the credentials; the missing licence is polling's business."""
    sim.revoke_licence("call_accounting")
    assert (await _client(sim, session).async_identify()).manufacturer == "TIM4biz"


async def test_usage_matches_the_simulators_totals(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    # The simulator reads naive times as UTC; the client sends local times
    # without an offset, so give it UTC ones.
    start, end = NOW.replace(day=1, hour=0), NOW
    usage = await _client(sim, session).async_get_extension_usage(start, end)
    expected = _expected(sim, start, end)
    assert set(usage) == set(expected)
    for extension, row in expected.items():
        assert usage[extension].calls == row["Calls"]
        assert usage[extension].talk_seconds == row["Duration"]
        assert usage[extension].cost == pytest.approx(row["Cost"])
        assert usage[extension].name == row["Name"]


async def test_too_long_a_period_is_split_and_added_up(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    start, end = NOW - timedelta(days=100), NOW
    usage = await _client(sim, session).async_get_extension_usage(start, end)
    expected = _expected(sim, start, end)
    assert {e: u.calls for e, u in usage.items()} == {
        e: row["Calls"] for e, row in expected.items()
    }
    assert {e: round(u.cost or 0, 2) for e, u in usage.items()} == {
        e: round(row["Cost"], 2) for e, row in expected.items()
    }
    # 100 days > 31: refused once, then halves (and quarters) that fit.
    assert sim.requests_by_action["ExtensionTotal"] > 2


async def test_rate_limit_headers_are_read_and_slow_polling_down(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    await client.async_identify()
    status = client.rate_limit_status
    assert status is not None
    assert status.hourly_limit == sim.hourly_limit
    assert status.hourly_remaining == sim.remaining_hourly()
    assert status.daily_remaining == sim.remaining_daily()
    roomy = client.http.budget.min_interval(2)

    sim.consume(sim.remaining_hourly() - 10)  # other apps of the company
    await client.async_identify()
    assert client.rate_limit_status is not None
    assert client.rate_limit_status.hourly_remaining == 9
    tight = client.http.budget.min_interval(2)
    assert tight > roomy
    assert tight == pytest.approx(3600 * 2 / (0.8 * 9))


async def test_polling_stops_cleanly_at_zero(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    """With nothing left, the client sends nothing: no 429 is ever met."""
    client = _client(sim, session)
    sim.consume(sim.remaining_hourly() - 1)
    await client.async_identify()  # uses the last one; the headers say 0
    sent = sim.request_count
    with pytest.raises(PbxRateLimitError) as raised:
        await client.async_get_extension_usage(NOW - timedelta(hours=1), NOW)
    assert not raised.value.from_pbx
    assert raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 3600
    assert sim.request_count == sent
    assert client.http.budget.min_interval(2) > 3000


async def test_a_limit_of_zero_is_a_429(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    sim.set_limits(hourly=0)
    with pytest.raises(PbxRateLimitError) as raised:
        await _client(sim, session).async_identify()
    assert raised.value.from_pbx
    assert raised.value.retry_after == 60  # no Retry-After: back off from a minute


async def test_missing_licences_are_named(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    sim.revoke_licence("call_accounting")
    sim.revoke_licence("messaging")
    client = _client(sim, session)
    with pytest.raises(PbxPermissionError) as accounting:
        await client.async_get_extension_usage(NOW - timedelta(hours=1), NOW)
    assert accounting.value.permission == "call accounting"
    with pytest.raises(PbxPermissionError) as messaging:
        await client.async_send_sms("+447700900123", "Hello")
    assert messaging.value.permission == "messaging"


async def test_the_wrong_http_method_is_a_400(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PbxInvalidInputError):
        await _client(sim, session)._call("POST", "ExtensionTotal")


async def test_send_sms(sim: Tim4bizSimulator, session: aiohttp.ClientSession) -> None:
    await _client(sim, session).async_send_sms("+44 (0)7700-900.123", " Hi there ")
    [sent] = sim.sent_sms
    assert (sent.recipient, sent.message) == ("+447700900123", "Hi there")


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("12345", "too short a number"),
        ("+1234567890123456", "too long a number"),
        ("0470&x=1", "not a number"),
        ("+32470123456", ""),
        ("+32470123456", "   "),
        ("+32470123456", "x" * 919),
    ],
)
async def test_bad_sms_is_refused_before_sending(
    sim: Tim4bizSimulator,
    session: aiohttp.ClientSession,
    recipient: str,
    message: str,
) -> None:
    with pytest.raises(PbxInvalidInputError):
        await _client(sim, session).async_send_sms(recipient, message)
    assert sim.request_count == 0


async def _read(client: PbxClient) -> ReadResult[Any]:
    """A read of today's and this month's call accounting."""
    return await client.async_read(Topic.USAGE, ReadContext.at(datetime.now(UTC)))


async def test_a_new_api_address_is_noticed(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    assert (await _read(client)).notices == {}
    sim.api_url = "https://api2.tim4biz.com/api/"
    read = await _read(client)
    assert read.notices == {Notice.API_URL: "https://api2.tim4biz.com/api/"}


@pytest.mark.parametrize(
    "api_url",
    [
        "https://someone:pa55word@api2.tim4biz.com/api/",
        "https://api2.tim4biz.com/api/?key=1",
        "https://api2.tim4biz.com/api/#x",
        "http://api2.tim4biz.com/api/",
        "https://api2.tim4biz.com.evil.example/api/",
    ],
)
async def test_an_api_address_that_could_leak_is_not_noticed(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession, api_url: str
) -> None:
    """Only a plain https address on TIM4biz's domain is offered as a repair:
    a user name and password in it would reach whoever answers there.
    """
    client = _client(sim, session)
    sim.api_url = api_url
    assert (await _read(client)).notices == {}


async def test_faults_on_reads(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    sim.inject(Fault.MALFORMED, count=1)
    with pytest.raises(PbxResponseError) as raised:
        await client.async_get_extension_usage(NOW - timedelta(hours=1), NOW)
    assert sim.password not in str(raised.value)


def test_parse_usage_variants() -> None:
    body = {
        "Data": [
            {
                "ext": "201",
                "TotalCalls": "3",
                "TalkTime": "0:02:05",
                "TotalCost": "1.5",
            },
            {"Number": 202, "count": 1, "seconds": 30},
            {"ext": "203", "TalkTime": "1.02:03:04", "TotalCost": "1,234.56"},
            {"ext": "204", "TalkTime": "00:02:05.5000000"},
            {"Name": "no extension"},
            "junk",
        ]
    }
    usage = parse_usage(body)
    assert usage == {
        "201": ExtensionUsage(extension="201", calls=3, talk_seconds=125, cost=1.5),
        "203": ExtensionUsage(extension="203", talk_seconds=93784, cost=1234.56),
        "204": ExtensionUsage(extension="204", talk_seconds=125),
        "202": ExtensionUsage(extension="202", calls=1, talk_seconds=30),
    }
    assert parse_usage([]) == {}
    assert parse_usage(None) == {}
    with pytest.raises(PbxResponseError, match="no list"):
        parse_usage({"Data": "nothing"})


def test_merge_usage() -> None:
    first = {"201": ExtensionUsage(extension="201", calls=2, cost=1.0)}
    second = {
        "201": ExtensionUsage(extension="201", calls=1, talk_seconds=9, cost=0.25),
        "202": ExtensionUsage(extension="202", calls=4),
    }
    merged = merge_usage(first, second)
    assert merged["201"] == ExtensionUsage(
        extension="201", calls=3, talk_seconds=9, cost=1.25
    )
    assert merged["202"].calls == 4


async def test_an_unknown_value_is_a_404(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PbxNotFoundError):
        await _client(sim, session)._call(
            "GET",
            "ExtensionTotal",
            params={
                "from": "2026-11-25T00:00:00",
                "to": "2026-11-25T01:00:00",
                "extension": "999",
            },
        )


async def test_headers_are_read_whatever_their_case(
    scripted: tuple[str, list[web.Response]], session: aiohttp.ClientSession
) -> None:
    url, answers = scripted
    client = create_client(
        "tim4biz", session, {"url": url, "username": "u", "password": "p"}
    )
    answers.append(
        web.json_response(
            [],
            headers={
                "tim4biz-rate-limit-limit": "60",
                "tim4biz-rate-limit-remaining": "7",
                "TIM4BIZ-RATE-LIMIT-REMAINING-24-HOURS": "70",
            },
        )
    )
    await client.async_get_extension_usage(NOW - timedelta(hours=1), NOW)
    status = client.rate_limit_status
    assert status is not None
    assert (status.hourly_limit, status.hourly_remaining, status.daily_remaining) == (
        60,
        7,
        70,
    )


async def test_a_400_about_something_else_is_not_split(
    scripted: tuple[str, list[web.Response]], session: aiohttp.ClientSession
) -> None:
    """TIM4biz's own example: "datetime range was not supplied" is no reason
    to halve the range, 127 times.
    """
    url, answers = scripted
    client = create_client(
        "tim4biz", session, {"url": url, "username": "u", "password": "p"}
    )
    answers.append(
        web.json_response({"Message": "datetime range was not supplied"}, status=400)
    )
    with pytest.raises(PbxInvalidInputError):
        await client.async_get_extension_usage(NOW - timedelta(days=60), NOW)
    assert answers == []


async def test_no_split_below_a_day(
    scripted: tuple[str, list[web.Response]], session: aiohttp.ClientSession
) -> None:
    url, answers = scripted
    client = create_client(
        "tim4biz", session, {"url": url, "username": "u", "password": "p"}
    )
    answers.append(web.json_response({"Message": "too long a period"}, status=400))
    with pytest.raises(PbxInvalidInputError):
        await client.async_get_extension_usage(NOW - timedelta(hours=20), NOW)
    assert answers == []


async def test_a_refused_length_is_not_asked_for_again(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    """The simulator takes 31 days at most: a 100-day read is refused once,
    then every later read splits before asking.
    """
    client = _client(sim, session)
    start, end = NOW - timedelta(days=100), NOW
    first = await client.async_get_extension_usage(start, end)
    refused = sim.request_count  # the first read: refused once, then split
    sim.reset_counters()
    again = await client.async_get_extension_usage(start, end)
    assert again == first
    # 100 days in 25-day pieces: 4 requests, none refused.
    assert sim.request_count == 4
    assert refused > 4


def test_rows_none_can_be_read_are_no_answer() -> None:
    """Read as "no calls", a garbled list would zero every counter."""
    with pytest.raises(PbxResponseError, match="no row"):
        parse_usage([["201", 3], {"Name": "no extension"}])


async def test_an_empty_200_is_no_answer(
    sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    sim.inject(Fault.EMPTY, count=1)
    with pytest.raises(PbxResponseError, match="empty body"):
        await client.async_get_extension_usage(NOW.replace(hour=0), NOW)
    # SetSMS returns nothing to read: its empty 200 is fine.
    sim.inject(Fault.EMPTY, count=1)
    await client.async_send_sms("+447700900123", "Empty is fine here.")


async def _fails_after_a_step(error: Exception) -> None:
    # Both halves resume in the same loop pass, so both fail before the
    # TaskGroup can cancel the second: as two answers arriving together.
    await asyncio.sleep(0)
    raise error


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ((PbxRateLimitError("slow down"), PbxAuthError("denied")), PbxAuthError),
        ((PbxAuthError("denied"), PbxRateLimitError("slow down")), PbxAuthError),
        ((PbxResponseError("bad"), PbxRateLimitError("slow down")), PbxRateLimitError),
        ((PbxResponseError("bad"), PbxNotFoundError("gone")), PbxResponseError),
    ],
)
async def test_both_halves_failing_raise_the_most_telling_error(
    errors: tuple[Exception, Exception], expected: type[Exception]
) -> None:
    """Wrong credentials are never hidden behind the other half's rate limit
    (reauthentication, not a pause, is what the user needs); a rate limit
    beats other errors; otherwise the first half's error is raised.
    """
    first, second = errors
    with pytest.raises(expected):
        await tim4biz._together(_fails_after_a_step(first), _fails_after_a_step(second))

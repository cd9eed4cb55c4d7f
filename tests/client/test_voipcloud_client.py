"""The VoIPcloud client against its simulator, over real HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    CallOutcome,
    CallRecord,
    CallScope,
    PbxAuthError,
    PbxConnectionError,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
    create_client,
    group_key,
    summarize,
    voipcloud,
)
from custom_components.pbx_hub.client.voipcloud import VoipcloudClient
from simulator import Fault, VoipcloudSimulator

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 11:00 in Sydney


class Clock:
    """The simulator's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sim(clock: Clock) -> AsyncIterator[VoipcloudSimulator]:
    """A quiet simulator: calls only where a test adds them."""
    async with VoipcloudSimulator(clock=clock, generate=False, seed=4) as simulator:
        yield simulator


def _client(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, **settings: str
) -> VoipcloudClient:
    client = create_client(
        "voipcloud",
        session,
        {"url": sim.url, "token": sim.token, **settings},
        request_timeout=1,
    )
    assert isinstance(client, VoipcloudClient)
    return client


async def test_identify_and_status(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    info = await client.async_identify()
    assert info.manufacturer == "VoIPcloud"
    assert info.unique_id.startswith("127.0.0.1_")
    assert sim.token not in info.unique_id
    sim.set_system_status("degraded", "Calls to mobiles may fail")
    status = await client.async_get_status()
    assert status.state == "degraded"
    assert status.message == "Calls to mobiles may fail"


async def test_wrong_token_and_not_whitelisted_are_told_apart(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PbxAuthError) as wrong:
        await _client(sim, session, token="not-the-token-123").async_identify()
    assert not isinstance(wrong.value, PbxNotWhitelistedError)
    assert "not-the-token-123" not in str(wrong.value)

    sim.whitelist = ["203.0.113.7"]
    with pytest.raises(PbxNotWhitelistedError) as refused:
        await _client(sim, session).async_identify()
    assert "whitelist" in str(refused.value)


async def test_statistics_match_calls_built_by_hand(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    """Four Sales calls and two of a user's, counted by hand below."""
    t0 = START - timedelta(hours=2)
    sim.add_queue_call("Sales", status="answered", start=t0, wait=20, talk=100)
    sim.add_queue_call(
        "Sales", status="answered", start=t0 + timedelta(minutes=5), wait=40
    )
    sim.add_queue_call(
        "Sales", status="abandoned", start=t0 + timedelta(minutes=10), wait=30
    )
    sim.add_queue_call(
        "Sales", status="timedout", start=t0 + timedelta(minutes=20), wait=180
    )
    sim.add_user_call("1003", inbound=True, answered=False, start=t0, wait=25)
    sim.add_user_call(
        "1003", inbound=False, answered=True, start=t0 + timedelta(hours=1), talk=90
    )
    calls = await _client(sim, session).async_get_calls(START - timedelta(hours=11))
    summary = summarize(calls)

    sales = summary.groups[group_key(CallScope.QUEUE, "Sales")]
    assert (sales.calls, sales.answered, sales.abandoned, sales.timed_out) == (
        4,
        2,
        1,
        1,
    )
    assert sales.answer_rate == 50.0
    assert sales.average_wait == 30.0  # (20 + 40) / 2: answered calls only
    assert sales.longest_wait == 40
    assert sales.last_call == t0 + timedelta(minutes=20)

    user = summary.users["1003"]
    assert (user.calls, user.inbound, user.outbound, user.missed) == (2, 1, 1, 1)
    assert user.talk_seconds == 90
    assert user.last_call == t0 + timedelta(hours=1)


async def test_a_quiet_poll_costs_one_request_per_list(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    for minute in range(30):
        sim.add_queue_call("Support", start=START - timedelta(minutes=90 - minute))
    client = _client(sim, session)
    since = START - timedelta(hours=11)
    assert len(await client.async_get_calls(since)) == 60  # 30 queue + 30 agent
    sim.reset_counters()
    clock.advance(minutes=1)
    assert len(await client.async_get_calls(since)) == 60
    assert sim.request_count == 3


async def test_pages_are_read_until_a_known_call(
    sim: VoipcloudSimulator,
    session: aiohttp.ClientSession,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 4)
    for minute in range(10):
        sim.add_ringgroup_call(
            "Reception",
            status="abandoned",
            start=START - timedelta(minutes=60 - minute),
        )
    client = _client(sim, session)
    since = START - timedelta(hours=11)
    calls = await client.async_get_calls(since)
    assert len([c for c in calls if c.scope is CallScope.RING_GROUP]) == 10
    # Ten rows in pages of four: three requests for ring groups, one each other.
    assert sim.requests_by_action["get-ringgroup-calls"] == 3

    sim.reset_counters()
    for minute in range(5):
        sim.add_ringgroup_call(
            "Reception", status="abandoned", start=START + timedelta(minutes=minute)
        )
    clock.advance(minutes=10)
    calls = await client.async_get_calls(since)
    assert len([c for c in calls if c.scope is CallScope.RING_GROUP]) == 15
    # Five new rows: one full page, then the first known call on the second.
    assert sim.requests_by_action["get-ringgroup-calls"] == 2


async def test_calls_in_progress_are_read_again_until_they_end(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, clock: Clock
) -> None:
    """A long call that started before a short, finished one is listed after
    it (newest first), and is still read again until it ends.
    """
    sim.add_queue_call("Sales", status="answered", start=START, wait=10, talk=600)
    sim.add_queue_call(
        "Sales", status="answered", start=START + timedelta(seconds=30), talk=5
    )
    client = _client(sim, session)
    since = START - timedelta(hours=11)

    def queue_calls_ended(calls: list[CallRecord]) -> list[bool]:
        rows = [c for c in calls if c.scope is CallScope.QUEUE]
        return [c.finished_at is not None for c in sorted(rows, key=lambda c: c.id)]

    clock.advance(seconds=60)  # the short call has ended, the long one goes on
    assert queue_calls_ended(await client.async_get_calls(since)) == [False, True]
    clock.advance(minutes=1)
    assert queue_calls_ended(await client.async_get_calls(since)) == [False, True]
    clock.advance(minutes=10)
    calls = await client.async_get_calls(since)
    assert queue_calls_ended(calls) == [True, True]
    long_call = min(
        (c for c in calls if c.scope is CallScope.QUEUE), key=lambda c: c.id
    )
    assert long_call.outcome is CallOutcome.ANSWERED
    assert long_call.talk_seconds == 600


async def test_only_calls_since_the_start_of_the_day(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    sim.add_user_call("1001", start=START - timedelta(hours=30))
    sim.add_user_call("1001", start=START - timedelta(hours=1))
    calls = await _client(sim, session).async_get_calls(START - timedelta(hours=11))
    assert len(calls) == 1
    request_dates = {
        action for action in sim.requests_by_action if action.startswith("get-")
    }
    assert request_dates == {
        "get-user-calls",
        "get-queue-calls",
        "get-ringgroup-calls",
    }


async def test_click_to_call_reaches_the_pbx(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    await client.async_click_to_call("1002", "+61 (2) 9876-5432")
    [placed] = sim.calls_to_number
    assert (placed.user_number, placed.number_to_call) == ("1002", "+61298765432")


@pytest.mark.parametrize(
    "number", ["", "12&action=delete", "call me", "+", "1" * 21, "123\n456"]
)
async def test_click_to_call_refuses_bad_numbers_before_sending(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, number: str
) -> None:
    with pytest.raises(PbxInvalidInputError):
        await _client(sim, session).async_click_to_call("1002", number)
    assert sim.request_count == 0
    assert sim.calls_to_number == []


async def test_click_to_call_unknown_user(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PbxInvalidInputError):
        await _client(sim, session).async_click_to_call("4999", "0298765432")


async def test_429_pauses_until_the_window_frees(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    sim.inject(Fault.RATE_LIMIT, count=1, retry_after=120)
    with pytest.raises(PbxRateLimitError) as raised:
        await client.async_get_status()
    assert raised.value.from_pbx
    assert raised.value.retry_after == 120
    sent = sim.request_count
    with pytest.raises(PbxRateLimitError):
        await client.async_get_status()
    assert sim.request_count == sent

    client = _client(sim, session)
    sim.inject(Fault.RATE_LIMIT, count=1)
    with pytest.raises(PbxRateLimitError) as unexplained:
        await client.async_get_status()
    assert unexplained.value.retry_after == 15 * 60  # the whole window


async def test_the_simulators_own_limit_is_a_429(
    clock: Clock, session: aiohttp.ClientSession
) -> None:
    async with VoipcloudSimulator(clock=clock, generate=False, rate_limit=2) as sim:
        client = _client(sim, session)
        await client.async_get_status()
        await client.async_get_status()
        with pytest.raises(PbxRateLimitError) as raised:
            await client.async_get_status()
    assert raised.value.from_pbx
    assert raised.value.retry_after is not None
    assert 0 < raised.value.retry_after <= 15 * 60


@pytest.mark.parametrize("fault", [Fault.MALFORMED, Fault.TRUNCATED])
async def test_unreadable_answers(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, fault: Fault
) -> None:
    sim.inject(fault, count=1)
    with pytest.raises(PbxResponseError) as raised:
        await _client(sim, session).async_get_status()
    assert sim.token not in str(raised.value)


async def test_a_row_that_never_ends_stops_being_read_again(
    sim: VoipcloudSimulator,
    session: aiohttp.ClientSession,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Six hours of younger calls later, a call without an end is taken as
    ended, so it no longer makes every poll read the whole list.
    """
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 2)
    sim.add_queue_call("Sales", status="answered", start=START, wait=5, talk=86_000)
    client = _client(sim, session)
    since = START - timedelta(hours=11)
    clock.advance(minutes=1)
    await client.async_get_calls(since)
    for hour in range(1, 8):
        sim.add_queue_call("Support", start=START + timedelta(hours=hour), talk=5)
    clock.advance(hours=8)
    await client.async_get_calls(since)
    sim.reset_counters()
    clock.advance(minutes=1)
    await client.async_get_calls(since)
    assert sim.requests_by_action["get-queue-calls"] == 1


async def test_a_call_arriving_between_two_pages_loses_nothing(
    sim: VoipcloudSimulator,
    session: aiohttp.ClientSession,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The new call shifts the list by one row: the second page starts with a
    row the first page already had, which must not end the read.
    """
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 4)
    for minute in range(10):
        sim.add_ringgroup_call(
            "Reception",
            status="abandoned",
            start=START - timedelta(minutes=60 - minute),
        )
    pages = 0

    async def a_call_arrives_after_the_first_page(
        _: aiohttp.ClientSession,
        __: SimpleNamespace,
        request: aiohttp.TraceRequestEndParams,
    ) -> None:
        nonlocal pages
        if request.url.path.endswith("get-ringgroup-calls"):
            pages += 1
            if pages == 1:
                sim.add_ringgroup_call("Reception", status="abandoned", start=START)

    # Watched through aiohttp's public request tracing, not the client's insides.
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(a_call_arrives_after_the_first_page)
    async with aiohttp.ClientSession(trace_configs=[trace]) as traced:
        client = _client(sim, traced)
        since = START - timedelta(hours=11)
        calls = await client.async_get_calls(since)
        assert len([c for c in calls if c.scope is CallScope.RING_GROUP]) == 10
        calls = await client.async_get_calls(since)  # the newcomer, next poll
        assert len([c for c in calls if c.scope is CallScope.RING_GROUP]) == 11
    assert pages > 1  # the call came between two pages of one read


async def test_after_midnight_yesterday_is_not_read_again(
    sim: VoipcloudSimulator,
    session: aiohttp.ClientSession,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A busy yesterday and a quiet morning: each poll reads one page per list,
    since the first row of yesterday ends what is new.
    """
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 5)
    midnight = START - timedelta(hours=11)
    for minute in range(40):
        sim.add_queue_call("Sales", start=midnight - timedelta(minutes=5 + minute))
    client = _client(sim, session)
    for _ in range(3):
        sim.reset_counters()
        assert await client.async_get_calls(midnight) == []
        assert sim.requests_by_action["get-queue-calls"] == 1
        clock.advance(minutes=1)


async def test_a_429_inside_a_200_answer_pauses_polling(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
) -> None:
    url, answers = scripted
    client = create_client("voipcloud", session, {"url": url, "token": "t" * 20})
    answers.append(
        web.json_response({"status": "error", "code": 429, "message": "Slow down"})
    )
    with pytest.raises(PbxRateLimitError) as raised:
        await client.async_get_status()
    assert raised.value.retry_after == 15 * 60
    with pytest.raises(PbxRateLimitError):  # refused here, never sent
        await client.async_get_status()
    assert answers == []


async def test_a_token_echoed_in_an_error_is_redacted(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
) -> None:
    url, answers = scripted
    token = "secret-token-0123456789"
    client = create_client("voipcloud", session, {"url": url, "token": token})
    answers.append(
        web.json_response(
            {"status": "error", "code": 0, "message": f"bad request {token}"}
        )
    )
    with pytest.raises(PbxResponseError) as raised:
        await client.async_get_status()
    assert token not in str(raised.value)


async def test_a_proxys_403_is_a_missing_permission(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
) -> None:
    """A bare 403 (a proxy's, no envelope) refuses this request, not the key:
    no auth error, which would ask for a key that cannot help.
    """
    url, answers = scripted
    client = create_client("voipcloud", session, {"url": url, "token": "t" * 20})
    answers.append(web.Response(status=403, text="<html>Forbidden</html>"))
    with pytest.raises(PbxPermissionError) as raised:
        await client.async_get_status()
    assert raised.value.permission == "get-system-status"


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (403, "This action is unauthorized.", PbxPermissionError),
        # The 403 only in the envelope's code, sent with HTTP 200.
        (200, "This action is unauthorized.", PbxPermissionError),
        # Fixed in the portal's whitelist, as the documented 401 is.
        (403, "IP address not whitelisted", PbxNotWhitelistedError),
    ],
)
async def test_a_403_envelope(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
    status: int,
    message: str,
    expected: type[Exception],
) -> None:
    """A missing right names the endpoint it refused."""
    url, answers = scripted
    client = create_client("voipcloud", session, {"url": url, "token": "t" * 20})
    answers.append(
        web.json_response(
            {"status": "error", "code": 403, "message": message}, status=status
        )
    )
    with pytest.raises(expected) as raised:
        await client.async_click_to_call("1001", "+61 2 9999 0000")
    assert message in str(raised.value)
    if isinstance(raised.value, PbxPermissionError):
        assert raised.value.permission == "call-to-number"


async def test_the_simulators_403_is_a_missing_permission(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    sim.inject(Fault.FORBIDDEN)
    with pytest.raises(PbxPermissionError) as raised:
        await _client(sim, session).async_get_status()
    assert raised.value.permission == "get-system-status"


@pytest.mark.parametrize("code", [500, 503, 504])
async def test_a_server_error_in_a_200_envelope_is_one(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
    code: int,
) -> None:
    """An envelope's 5xx reads as that HTTP status would: a read is tried
    again later (a write's side is in ``test_write_outcomes``). It was a
    refusal, told as an answer not understood.
    """
    url, answers = scripted
    client = create_client("voipcloud", session, {"url": url, "token": "t" * 20})
    answers.append(
        web.json_response({"status": "error", "code": code, "message": "Oops"})
    )
    with pytest.raises(PbxConnectionError) as raised:
        await client.async_get_status()
    assert type(raised.value) is PbxConnectionError
    assert f"code {code}" in str(raised.value)

"""Bounded work against a hostile or broken PBX (issue 18, items 2, 4, 5):
a maximum of items per topic, large answers decoded without holding the
event loop, extreme values read as unknown, and at most a share of the
request budget per read, with paging that ends and progress that is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
import json
import math
import random
import time
import tracemalloc
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    VENDORS,
    CallScope,
    Capability,
    DidRouting,
    LicenseUsage,
    PbxRateLimitError,
    PbxResponseError,
    PbxTooManyItemsError,
    ReadContext,
    RequestBudget,
    Topic,
    create_client,
    pbxware,
    stepwise,
    voipcloud,
)
from custom_components.pbx_hub.client.budget import READ_SHARE
from custom_components.pbx_hub.client.convert import (
    MAX_NUMBER,
    percent,
    to_datetime,
    to_float,
    to_int,
)
from custom_components.pbx_hub.client.http import MAX_BODY_BYTES
from custom_components.pbx_hub.client.rotation import DetailRotation
from custom_components.pbx_hub.client.stepwise import (
    MAX_DEPTH,
    MAX_MEMBERS,
    SLACK,
    decode_stepwise,
    reading,
)
from simulator import Fault, VoipcenterSimulator, VoipcloudSimulator
from tests.loopback import loopback_server
from tests.vendor_sims import voipcenter_settings

EXTREME_TIME = "9999-12-31T23:59:59-14:00"
"""The VoIPcloud ``call_start_at`` of the issue: valid ISO 8601, but its UTC
time is in year 10000."""
STALL_LIMIT = 0.1
"""Longest the event loop may be held, in seconds (the issue's 100 ms)."""


# ---------------------------------------------------------------- a hostile PBX


type Answer = Callable[[str], str]


@pytest.fixture
async def hostile() -> AsyncIterator[tuple[str, dict[str, Answer]]]:
    """A PBXware-shaped server on loopback: each ``action`` answered by the
    function a test puts under its name (``[]`` for any other).
    """
    answers: dict[str, Answer] = {}

    async def handler(request: web.Request) -> web.Response:
        action = request.query.get("action", "").removeprefix("pbxware.")
        body = answers.get(action, lambda _: "[]")(action)
        return web.Response(text=body, content_type="application/json")

    async with loopback_server(handler) as server:
        yield str(server.make_url("")), answers


def _pbxware(url: str, session: aiohttp.ClientSession) -> Any:
    return create_client("pbxware", session, {"url": url, "api_key": "k" * 32})


def _tiny_rows(count: int) -> str:
    """An object of ``count`` rows keyed by id (seven digits), each as small
    as a row gets.
    """
    return "{" + ",".join(f'"{10**6 + index}":{{}}' for index in range(count)) + "}"


def _rows_under(size: int) -> str:
    """As many tiny rows as fit in ``size`` characters (the body cap)."""
    return _tiny_rows((size - 2) // len('"1000000":{},'))


async def _max_stall(work: Awaitable[Any]) -> tuple[float, BaseException | None]:
    """The longest the event loop was held while ``work`` ran, and what
    ``work`` raised. A ticker sleeps 1 ms at a time; the CPU time this thread
    spent between its turns is how long something else held the loop (CPU
    time, not wall time: on a loaded machine the process also waits for a
    core, which is no stall of ours).
    """
    lags: list[float] = []
    done = asyncio.Event()

    async def tick() -> None:
        while not done.is_set():
            started = time.thread_time()
            await asyncio.sleep(0.001)
            lags.append(time.thread_time() - started)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0.01)
    raised: BaseException | None = None
    try:
        await work
    except Exception as err:  # returned for the test to check
        raised = err
    done.set()
    await ticker
    return max(lags), raised


# ---------------------------------------------------------------- item 2


def test_every_topic_of_every_vendor_has_a_maximum() -> None:
    reads = {
        Capability.STATUS,
        Capability.EXTENSIONS,
        Capability.LIVE_CALLS,
        Capability.DIDS,
        Capability.TENANTS,
        Capability.CALL_HISTORY,
        Capability.EXTENSION_USAGE,
        Capability.INDICATORS,
        Capability.DID_ROUTING,
        Capability.HOT_DESKS,
        Capability.ACCOUNTS,
        Capability.CHARGES,
        Capability.CALL_STATES,
        Capability.CALL_FORWARDING,
    }
    for key, spec in VENDORS.items():
        client_class = spec.client_class
        assert set(client_class.max_items) == client_class.capabilities & reads, key
        # The decoder's own bound never stops a list a topic takes.
        assert max(client_class.max_items.values()) <= MAX_MEMBERS, key


@pytest.mark.slow
async def test_more_extensions_than_the_maximum_are_refused_whole(
    hostile: tuple[str, dict[str, Answer]], session: aiohttp.ClientSession
) -> None:
    """20,000 rows once set up 20,001 devices in Home Assistant."""
    url, answers = hostile
    maximum = pbxware.PbxwareClient.max_items[Capability.EXTENSIONS]
    answers["ext.list"] = lambda _: _tiny_rows(maximum + 1)
    client = _pbxware(url, session)
    with pytest.raises(PbxTooManyItemsError) as refused:
        await client.async_get_extensions()
    assert refused.value.topic == "extensions"
    assert refused.value.maximum == maximum
    # At the maximum, every one is read.
    answers["ext.list"] = lambda _: _tiny_rows(maximum)
    assert len(await client.async_get_extensions()) == maximum


@pytest.mark.slow
async def test_a_flood_of_rows_neither_stalls_the_loop_nor_takes_memory(
    hostile: tuple[str, dict[str, Answer]], session: aiohttp.ClientSession
) -> None:
    """Just under the 4 MiB body cap of tiny rows: once 524,287 extensions,
    1.8 GB and the event loop held for 12.9 s.
    """
    url, answers = hostile
    flood = _rows_under(MAX_BODY_BYTES - 1024)
    assert len(flood) > MAX_BODY_BYTES - 64 * 1024
    answers["ext.list"] = lambda _: flood
    client = _pbxware(url, session)
    tracemalloc.start()
    try:
        stall, raised = await _max_stall(client.async_get_extensions())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused at the extensions' maximum, not a row further.
    assert isinstance(raised, PbxTooManyItemsError)
    assert raised.topic == "extensions"
    assert raised.maximum == pbxware.PbxwareClient.max_items[Capability.EXTENSIONS]
    assert stall < STALL_LIMIT
    # The body itself (bytes and text) and no more than a list's worth of rows.
    assert peak < 4 * MAX_BODY_BYTES + 16 * 1024 * 1024


@pytest.mark.slow
async def test_a_large_valid_answer_is_read_without_holding_the_loop(
    hostile: tuple[str, dict[str, Answer]], session: aiohttp.ClientSession
) -> None:
    """The maximum of extensions, with full rows: read, in slices."""
    url, answers = hostile
    maximum = pbxware.PbxwareClient.max_items[Capability.EXTENSIONS]
    rows = {
        str(index): {
            "ext": str(1000 + index),
            "name": f"Person {index} of the Example Company",
            "email": f"person{index}@example.com",
            "status": "1",
            "ua_fullname": "Yealink SIP-T54W",
            "department": "Sales and support",
        }
        for index in range(maximum)
    }
    monitor = {
        str(index): {"ext": str(1000 + index), "status": "OK (12 ms)", "dnd": ""}
        for index in range(maximum)
    }
    answers["ext.list"] = lambda _: json.dumps(rows)
    answers["monitor.list"] = lambda _: json.dumps(monitor)
    client = _pbxware(url, session)
    stall, raised = await _max_stall(client.async_get_extensions())
    assert raised is None
    assert stall < STALL_LIMIT
    extensions = await client.async_get_extensions()
    assert len(extensions) == maximum
    assert extensions["7"].number == "1007"
    assert extensions["7"].registered is True


def _json_value(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value: nested lists and objects of every scalar kind."""
    kind = rng.random()
    if depth > 4 or kind < 0.4:
        return rng.choice(
            [0, -2.5, 1e300, 12345678901234567890, "", 'a "quoted" \\ é', True, None]
        )
    if kind < 0.7:
        return [_json_value(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {
        f"k{rng.randint(0, 9)}": _json_value(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


@pytest.mark.parametrize("row_slice", [1, 16, 4096])
async def test_stepwise_decoding_reads_what_json_loads_reads(
    monkeypatch: pytest.MonkeyPatch, row_slice: int
) -> None:
    """Walked member by member (a slice of 1 walks every list and object),
    in C by rows, or mixed: the same values, whatever the whitespace.
    """
    monkeypatch.setattr(stepwise, "ROW_SLICE", row_slice)
    rng = random.Random(row_slice)
    for _ in range(300):
        value = _json_value(rng)
        for text in (json.dumps(value), json.dumps(value, indent=2)):
            assert await decode_stepwise(text) == json.loads(text)


async def test_stepwise_decoding_skips_php_warnings_but_refuses_no_json() -> None:
    warning = "<br />\n<b>Warning</b>: Undefined index [x] in <b>api.php</b><br />\n"
    assert await decode_stepwise(warning + '{"a": [1, 2]}') == {"a": [1, 2]}
    first, nan = await decode_stepwise("\ufeff [1, NaN] ")
    assert first == 1
    assert math.isnan(nan)
    broken = ("[1,]", '{"a" 1}', "[1 2]", "[1]x", "{1: 2}", '["a\nb"]', '{"\\u12": 1}')
    for text in (*broken, "", "[" * 9):
        with pytest.raises(PbxResponseError, match="not JSON") as refused:
            await decode_stepwise(text, redact=lambda shown: shown.replace("1", "#"))
        # The preview is what ``redact`` made of the answer.
        assert "1" not in str(refused.value)


async def test_stepwise_decoding_refuses_deep_nesting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stepwise, "ROW_SLICE", 1)
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(PbxResponseError, match="nests deeper"):
        await decode_stepwise(deep)
    shallow = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert await decode_stepwise(shallow) == json.loads(shallow)


async def test_a_list_past_the_topic_maximum_stops_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Within a read of a topic, a list may hold its maximum and a little
    (an envelope's keys): more stops the decoding, as the topic's error.
    """
    monkeypatch.setattr(stepwise, "ROW_SLICE", 1)

    def rows(count: int) -> str:
        return json.dumps({"status": "ok", "data": [{} for _ in range(count)]})

    with reading("extensions", 10):
        assert len((await decode_stepwise(rows(10 + SLACK)))["data"]) == 10 + SLACK
        with pytest.raises(PbxTooManyItemsError) as refused:
            await decode_stepwise(rows(10 + SLACK + 1))
    assert (refused.value.topic, refused.value.maximum) == ("extensions", 10)
    # Outside a read only the bound of any answer applies.
    assert len((await decode_stepwise(rows(100)))["data"]) == 100


async def test_a_rotation_keeps_the_details_read_before_one_failed() -> None:
    rotation: DetailRotation[str] = DetailRotation()

    async def ask(item: str) -> str:
        if item == "b":
            raise PbxResponseError("garbled")
        return item.upper()

    with pytest.raises(PbxResponseError):
        await rotation.read(["a", "b", "c"], None, ask)
    assert rotation.read_so_far(["a", "b", "c"]) == ["a", "c"]
    # The next read asks the one never read first; one no longer listed is
    # forgotten.
    assert rotation.due(["a", "b", "c"], 1) == ["b"]
    assert rotation.due(["a", "b"], None) == ["b", "a"]
    assert rotation.read_so_far(["a", "b", "c"]) == ["a"]


# ---------------------------------------------------------------- item 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e308, None),
        (-1e308, None),
        ("1" + "0" * 300, None),
        (float(MAX_NUMBER), float(MAX_NUMBER)),
        (MAX_NUMBER + 2, None),
        (12.5, 12.5),
    ],
)
def test_numbers_beyond_what_a_float_holds_exactly_are_unknown(
    value: object, expected: float | None
) -> None:
    assert to_float(value) == expected
    assert to_int(value) == (None if expected is None else round(expected))


@pytest.mark.parametrize(
    "text",
    [
        EXTREME_TIME,
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59",
        "1969-12-31T23:59:59Z",
        "2200-01-01T00:00:00Z",
    ],
)
def test_date_times_outside_what_home_assistant_holds_are_unknown(text: str) -> None:
    assert to_datetime(text) is None


def test_date_times_within_the_range_are_read() -> None:
    assert to_datetime("2026-11-26T04:00:00-14:00") == datetime(
        2026, 11, 26, 18, tzinfo=UTC
    )
    assert to_datetime("1970-01-01T00:00:00Z") == datetime(1970, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [(5, 20, 25.0), (1, 3, 33.3), (5, 0, None), (5, -4, None), (-1, 4, None)],
)
def test_percentages_only_of_a_whole_above_zero(
    part: float, whole: float, expected: float | None
) -> None:
    assert percent(part, whole) == expected
    assert LicenseUsage(in_use=int(part), maximum=int(whole)).percent == expected


def test_a_licence_in_use_1e308_is_unknown() -> None:
    """It once raised OverflowError in the licence sensor's state write."""
    answers: dict[str, Any] = {name: {} for name in pbxware.DASHBOARD}
    answers["licensing"] = {"ext": {"inuse": 1e308, "max": 50}}
    status = pbxware.parse_status(answers)
    assert status.licenses["ext"] == LicenseUsage(in_use=None, maximum=50)
    assert status.licenses["ext"].percent is None


def test_a_call_starting_in_year_9999_cannot_be_read() -> None:
    """Its start is unknown: it cannot be counted (nor shown as the last
    call, which broke the timestamp sensor).
    """
    row = {"unique_call_id": "1", "call_start_at": EXTREME_TIME, "is_inbound": 1}
    assert voipcloud.parse_call(CallScope.USER, row) is None
    row["call_start_at"] = "2026-11-25T01:00:00Z"
    row["call_finished_at"] = EXTREME_TIME
    call = voipcloud.parse_call(CallScope.USER, row)
    assert call is not None
    assert call.finished_at is None


# ---------------------------------------------------------------- item 5

START = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # 11:00 in Sydney
USER_LIST = "get-user-calls"
SINCE = START - timedelta(hours=11)


class Clock:
    """One clock for the simulator and the client's budget, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _voipcloud(
    sim: VoipcloudSimulator, session: aiohttp.ClientSession, clock: Clock
) -> voipcloud.VoipcloudClient:
    budget = RequestBudget(VENDORS["voipcloud"].budget, clock=clock.monotonic)
    client = create_client(
        "voipcloud", session, {"url": sim.url, "token": sim.token}, budget=budget
    )
    assert isinstance(client, voipcloud.VoipcloudClient)
    return client


def _user_calls(sim: VoipcloudSimulator, count: int) -> None:
    """``count`` ended calls of the first user, a minute apart, before START."""
    for minute in range(count):
        sim.add_user_call(
            sim.users[0].number,
            start=START - timedelta(minutes=count - minute),
            wait=5,
            talk=20,
        )


@pytest.mark.slow
async def test_a_server_that_ignores_offset_ends_the_paging(
    clock: Clock, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its every page is the first: once 99 requests in one poll, which
    failed and came back at every window.
    """
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 5)
    async with VoipcloudSimulator(clock=clock, generate=False, seed=4) as sim:
        _user_calls(sim, 12)
        sim.inject(Fault.IGNORE_OFFSET)
        client = _voipcloud(sim, session, clock)
        calls = await client.async_get_calls(SINCE)
        # The first page, then the same again: nothing new, so the end.
        assert sim.requests_by_action[USER_LIST] == 2
        assert len(calls) == 5
        sim.reset_counters()
        await client.async_get_calls(SINCE)
        assert sim.requests_by_action[USER_LIST] == 1


@pytest.mark.slow
async def test_one_read_sends_at_most_its_share_and_the_next_goes_on(
    clock: Clock, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty pages of calls: a fifth of the budget per read, and each read
    goes on where the last one stopped, until every call is read.
    """
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 2)
    share = int(VENDORS["voipcloud"].budget.limit * READ_SHARE)
    async with VoipcloudSimulator(clock=clock, generate=False, seed=4) as sim:
        _user_calls(sim, 80)
        client = _voipcloud(sim, session, clock)
        reads = []
        for _ in range(3):
            sim.reset_counters()
            reads.append(len(await client.async_get_calls(SINCE)))
            assert sim.request_count <= share
            clock.now += timedelta(minutes=1)
        assert reads[0] < reads[1] < reads[2] == 80
        sim.reset_counters()
        assert len(await client.async_get_calls(SINCE)) == 80
        assert sim.request_count == 3  # caught up: one page per list


@pytest.mark.slow
async def test_calls_read_before_a_failure_are_kept(
    clock: Clock, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read refused halfway (here the PBX's 429) once kept nothing, and the
    next read started again from the first page.
    """
    monkeypatch.setattr(voipcloud, "PAGE_SIZE", 2)
    async with VoipcloudSimulator(
        clock=clock, generate=False, seed=4, rate_limit=7
    ) as sim:
        _user_calls(sim, 15)  # eight pages, the last of one call
        client = _voipcloud(sim, session, clock)
        with pytest.raises(PbxRateLimitError):
            await client.async_get_calls(SINCE)
        refused = sim.requests_by_action[USER_LIST]
        clock.now += timedelta(hours=1)  # both windows pass
        sim.reset_counters()
        calls = await client.async_get_calls(SINCE)
        assert len(calls) == 15
        # Caught up at the top (one page), then on from where the first stopped.
        user_pages = sim.requests_by_action[USER_LIST]
        assert user_pages < 8
        assert user_pages == 1 + 8 - (refused - 1)


@pytest.fixture
async def many_dids() -> AsyncIterator[VoipcenterSimulator]:
    async with VoipcenterSimulator(dids=2500, clock=time.time, seed=9) as sim:
        yield sim


@pytest.mark.slow
async def test_thousands_of_dids_take_a_share_of_the_budget_per_read(
    many_dids: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """2,500 DIDs once sent 1,800 requests in one poll: every call and poll
    was then refused for the hour.
    """
    settings = voipcenter_settings(many_dids)
    settings.pop("vendor")
    client = create_client("voipcenter", session, settings)
    share = client.budget.per_read
    read = await client.async_read(Topic.DID_ROUTING, ReadContext.at(datetime.now(UTC)))
    assert many_dids.request_count == share
    assert len(read.data.dids) == share - 6  # six lists, then one request a DID
    assert read.cost == share
    # The rest of the budget is still there: a call goes out.
    username = next(iter(many_dids.sip_accounts.values())).username
    await client.async_click_to_call(username, "+32 9 345 67 89")
    assert many_dids.calls_placed


@pytest.mark.slow
async def test_each_read_asks_the_dids_not_read_yet_then_the_oldest(
    session: aiohttp.ClientSession,
) -> None:
    """One read every half hour (the budget's clock), as a slow poll would."""
    now = 0.0
    budget = RequestBudget(VENDORS["voipcenter"].budget, clock=lambda: now)

    async def read() -> DidRouting:
        nonlocal now
        now += 1800
        return await client.async_get_did_routing()

    async with VoipcenterSimulator(dids=800, clock=time.time, seed=9) as sim:
        settings = voipcenter_settings(sim)
        settings.pop("vendor")
        client = create_client("voipcenter", session, settings, budget=budget)
        room = client.http.budget.per_read - 6
        seen = [set((await read()).dids) for _ in range(3)]
        assert [len(dids) for dids in seen] == [room, 2 * room, 800]
        assert seen[0] < seen[1] < seen[2]
        assert sim.requests_by_action["get:did"] == 3 + 3 * room
        # A route changed on the PBX shows within the reads it takes to ask
        # every DID once more.
        did = next(iter(sim.dids.values()))
        route = next(r for r in sim.routes if r != did.route)
        did.route = route
        routes = [(await read()).dids[did.id].route for _ in range(-(-800 // room))]
        assert routes[-1] == route

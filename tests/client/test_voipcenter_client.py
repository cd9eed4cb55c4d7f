"""The VoipCenter client: the signing recipe by hand, then the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aiohttp
import pytest

from custom_components.pbx_hub.client import (
    CLEAR,
    VENDORS,
    PbxAuthError,
    PbxCallFailedError,
    PbxClockSkewError,
    PbxConnectionError,
    PbxInvalidInputError,
    PbxRateLimitError,
    PbxResponseError,
    ReadContext,
    RequestBudget,
    TimeFilter,
    Topic,
    create_client,
    voipcenter,
)
from custom_components.pbx_hub.client.voipcenter import (
    VoipcenterClient,
    password_hash,
    signature,
)
from simulator import Fault, VoipcenterSimulator

pytestmark = pytest.mark.slow

# The document's example values.
API_ID, KNUMMER, KEY = "pi990000tst", "123456", "privatekey"


def test_password_hash_by_hand() -> None:
    """sha256 of the hex md5 of the password, both hex: the document's recipe."""
    md5_hex = hashlib.md5(b"password", usedforsecurity=False).hexdigest()
    assert md5_hex == "5f4dcc3b5aa765d61d8327deb882cf99"
    assert password_hash("password") == hashlib.sha256(md5_hex.encode()).hexdigest()
    assert password_hash("password") == (
        "3f2cd8e57b096fe7e4a78a5627e34ca3f885ad65a56e61c287cf4211bbc5949f"
    )


def test_signature_vectors_by_hand() -> None:
    """The document's string, ``apiID<id>knummer<nr>pwd<hash>m<menu>id<id>f<f>
    ts<ts>``, HMAC-SHA256 with the private key; ``filter`` is not signed.
    """
    pwd = password_hash("password")
    get = [
        ("apiID", API_ID),
        ("knummer", KNUMMER),
        ("pwd", pwd),
        ("m", "sipacc"),
        ("id", "0"),
        ("filter", "bureau"),
        ("f", "json"),
        ("ts", "1400229417"),
    ]
    by_hand = hmac.new(
        KEY.encode(),
        f"apiID{API_ID}knummer{KNUMMER}pwd{pwd}msipaccid0fjsonts1400229417".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert signature(get, KEY, "get.php") == by_hand
    call = [
        ("apiID", API_ID),
        ("knummer", KNUMMER),
        ("pwd", pwd),
        ("sipacc", "sipaccount1"),
        ("telnr", "021234567"),
        ("f", "json"),
        ("ts", "1400229417"),
    ]
    call_by_hand = hmac.new(
        KEY.encode(),
        (
            f"apiID{API_ID}knummer{KNUMMER}pwd{pwd}sipaccsipaccount1"
            "telnr021234567fjsonts1400229417"
        ).encode(),
        hashlib.sha256,
    ).hexdigest()
    assert signature(call, KEY, "call.php") == call_by_hand
    # Outside get.php, a parameter called filter is signed like any other.
    assert signature([*call, ("filter", "x")], KEY, "call.php") != call_by_hand


def test_only_the_hash_is_kept() -> None:
    spec = VENDORS["voipcenter"]
    stored = spec.stored({"api_id": API_ID, "password": "password"})
    assert "password" not in stored
    assert stored["password_hash"] == password_hash("password")
    assert "password_hash" in spec.secret_keys


@pytest.fixture
async def sim() -> AsyncIterator[VoipcenterSimulator]:
    async with VoipcenterSimulator(seed=5) as simulator:
        yield simulator


def _client(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    clock: Callable[[], float] | None = None,
    **settings: str,
) -> VoipcenterClient:
    """A client of the simulator; ``clock`` drives its request budget."""
    client = create_client(
        "voipcenter",
        session,
        {
            "url": f"{sim.url}/api/",
            "api_id": sim.api_id,
            "api_key": sim.api_key,
            "customer_number": sim.customer_number,
            "password": sim.password,
            **settings,
        },
        budget=RequestBudget(VENDORS["voipcenter"].budget, clock=clock),
    )
    assert isinstance(client, VoipcenterClient)
    assert "password" not in client.settings
    return client


async def test_requests_are_signed_as_the_recipe_says(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The query actually sent, checked against a signature computed here."""
    client = _client(sim, session)
    sent: list[list[tuple[str, str]]] = []
    original = client.http.request

    async def spy(method: str, url: str, **kwargs: Any) -> Any:
        sent.append(list(kwargs["params"]))
        return await original(method, url, **kwargs)

    monkeypatch.setattr(client.http, "request", spy)
    await client.async_identify()
    [params] = sent
    names = [name for name, _ in params]
    assert names == ["apiID", "knummer", "pwd", "m", "id", "f", "ts", "pass"]
    values = dict(params)
    assert values["pwd"] == password_hash(sim.password)
    text = "".join(name + value for name, value in params[:-1])
    expected = hmac.new(sim.api_key.encode(), text.encode(), hashlib.sha256)
    assert values["pass"] == expected.hexdigest()


async def test_identify_and_read(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    info = await client.async_identify()
    assert info.unique_id == f"voipcenter_{sim.customer_number}"
    extensions = await client.async_get_extensions()
    assert set(extensions) == {a.username for a in sim.sip_accounts.values()}
    offline = next(a for a in sim.sip_accounts.values() if not a.online)
    assert extensions[offline.username].registered is False
    status = await client.async_get_status()
    assert status.calls_today == len(sim.calls_on(sim.today()))


@pytest.mark.parametrize("wrong", ["api_key", "password", "api_id"])
async def test_wrong_credentials(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession, wrong: str
) -> None:
    with pytest.raises(PbxAuthError) as raised:
        await _client(sim, session, **{wrong: "not-right-at-all"}).async_identify()
    assert "not-right-at-all" not in str(raised.value)


async def test_a_clock_ten_seconds_off(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_time = time.time
    monkeypatch.setattr(voipcenter.time, "time", lambda: real_time() + 10)
    with pytest.raises(PbxClockSkewError):
        await _client(sim, session).async_identify()


async def test_indicator_round_trip(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    indicators = await client.async_get_indicators()
    assert {i: x.active for i, x in indicators.items()} == {
        i: sim.indicator_state(i) for i in sim.indicators
    }
    first = next(iter(indicators))
    await client.async_set_indicator(first, not indicators[first].active)
    assert sim.indicator_state(first) is not indicators[first].active
    assert (await client.async_get_indicators())[first].active is not (
        indicators[first].active
    )


async def test_did_routing_round_trip(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    routing = await client.async_get_did_routing()
    did_id, did = next(iter(routing.dids.items()))
    assert did.route == sim.dids[did_id].route
    other = next(r for r in routing.routes if r != did.route)
    holidays = next(iter(routing.time_filters[TimeFilter.HOLIDAYS]))
    await client.async_set_did_routing(
        did_id,
        route=other,
        backup_route=CLEAR,
        time_filters={TimeFilter.HOLIDAYS: holidays},
    )
    assert (sim.dids[did_id].route, sim.dids[did_id].backuproute) == (other, "0")
    again = (await client.async_get_did_routing()).dids[did_id]
    # Cleared, as the PBX said: not unknown (None).
    assert (again.route, again.backup_route) == (other, CLEAR)
    with pytest.raises(PbxInvalidInputError):
        await client.async_set_did_routing(did_id, route="99999")
    with pytest.raises(PbxInvalidInputError):
        await client.async_set_did_routing(did_id, route="140|x=1")


async def test_hot_desk_round_trip(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    await client.async_get_extensions()  # the usernames of the numeric ids
    desks = await client.async_get_hot_desks()
    desk_id = next(iter(desks.desks))
    username = "sipaccount2"
    await client.async_set_hot_desk(desk_id, sip_account=username)
    numeric = next(k for k, a in sim.sip_accounts.items() if a.username == username)
    assert sim.hot_desk(desk_id).sipaccount == numeric
    assert (await client.async_get_hot_desks()).desks[desk_id].sip_account == username
    await client.async_set_hot_desk(desk_id, sip_account=CLEAR)  # sent as "0"
    assert sim.hot_desk(desk_id).sipaccount == "0"
    assert (await client.async_get_hot_desks()).desks[desk_id].sip_account is None


@pytest.mark.parametrize(
    ("number", "dialled"),
    [
        ("02 123 45 67", "021234567"),
        ("+32 470 12 34 56", "32470123456"),
        ("0470123456", "0470123456"),
    ],
)
async def test_click_to_call(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    number: str,
    dialled: str,
) -> None:
    await _client(sim, session).async_click_to_call("sipaccount1", number)
    [placed] = sim.calls_placed
    assert (placed.sipacc, placed.telnr) == ("sipaccount1", dialled)


@pytest.mark.parametrize("number", ["123", "0212&m=did", "+1 2", "02-12"])
async def test_click_to_call_refuses_other_numbers(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession, number: str
) -> None:
    with pytest.raises(PbxInvalidInputError):
        await _client(sim, session).async_click_to_call("sipaccount1", number)
    assert sim.request_count == 0


async def test_call_failures(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    with pytest.raises(PbxCallFailedError):
        await client.async_click_to_call("nobody", "021234567")
    offline = next(a for a in sim.sip_accounts.values() if not a.online)
    with pytest.raises(PbxCallFailedError):
        await client.async_click_to_call(offline.username, "021234567")


async def test_backend_down(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    sim.backend_down = True
    with pytest.raises(PbxConnectionError):
        await _client(sim, session).async_get_extensions()


def test_urls_are_encoded() -> None:
    """An odd value cannot add a parameter: it is encoded, and signed as is."""
    from yarl import URL

    url = URL("https://pbxonline.be/api/get.php").with_query(
        [("m", "did"), ("id", "1&m=x")]
    )
    assert dict(parse_qsl(urlsplit(str(url)).query)) == {"m": "did", "id": "1&m=x"}


async def test_a_revoked_key_stops_at_the_first_refusal(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """A slow poll sends a burst; with a wrong key only the first goes out, so
    the account is not locked by VoipCenter's "too many attempts".
    """
    client = _client(sim, session, api_key="a-key-that-was-rotated")
    with pytest.raises(PbxAuthError):
        await asyncio.gather(
            client.async_get_did_routing(),
            client.async_get_indicators(),
            client.async_get_hot_desks(),
        )
    assert sim.request_count == 1
    assert not sim.locked
    # The right key still works at once (a new client, as after reauth).
    await _client(sim, session).async_identify()


async def test_too_many_attempts_pauses(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    sim.lock_out(60)
    client = _client(sim, session)
    with pytest.raises(PbxRateLimitError):
        await client.async_get_extensions()
    sent = sim.request_count
    with pytest.raises(PbxRateLimitError):
        await client.async_get_extensions()
    assert sim.request_count == sent  # paused, not hammering a locked account


async def test_a_held_back_request_does_not_lengthen_the_pause(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """After "too many attempts" the budget pauses once; each request it then
    holds back must not renew that pause, or polling never starts again.
    """
    clock = [0.0]
    client = _client(sim, session, clock=lambda: clock[0])
    sim.lock_out(60)
    with pytest.raises(PbxRateLimitError) as first:
        await client.async_get_extensions()
    assert first.value.from_pbx
    sim.clear_lockout()
    for _ in range(5):
        clock[0] += 10
        with pytest.raises(PbxRateLimitError) as held:
            await client.async_get_extensions()
        assert not held.value.from_pbx
    clock[0] += 60  # the first pause (60 s) has long passed
    await client.async_get_extensions()


async def test_an_echoed_key_is_redacted(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _client(sim, session)
    body = {
        "head": {"status": "0", "error_number": "17", "error_message": sim.api_key},
        "body": {},
    }
    monkeypatch.setattr(client.http, "decode_json", lambda text: body)
    with pytest.raises(PbxInvalidInputError) as raised:
        await client.async_get_extensions()
    assert sim.api_key not in str(raised.value)


async def test_a_change_without_a_confirmed_status_is_an_error(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _client(sim, session)
    body = {"head": {"status": "1", "error_number": ""}, "body": {"status": "0"}}
    monkeypatch.setattr(client.http, "decode_json", lambda text: body)
    with pytest.raises(PbxResponseError):
        await client.async_set_indicator("100", True)


_HEAD_OK = {"status": "1", "error_number": "", "error_message": ""}


@pytest.mark.parametrize(
    "body",
    [
        {"head": _HEAD_OK},  # no body at all
        {"head": _HEAD_OK, "body": None},
        {"head": _HEAD_OK, "body": []},  # PHP's empty array
        {"head": _HEAD_OK, "body": ["1"]},
        {"head": _HEAD_OK, "body": "1"},
        {"head": _HEAD_OK, "body": {}},
        {"head": _HEAD_OK, "body": {"error_number": "", "error_message": ""}},
        {"head": _HEAD_OK, "body": {"status": ""}},
        {"head": _HEAD_OK, "body": {"status": None}},
    ],
    ids=lambda body: repr(body.get("body", "missing")),
)
def test_a_write_is_confirmed_only_by_a_body_whose_status_is_1(body: Any) -> None:
    """A successful head is not enough: the document's write answers carry
    the outcome in ``body.status``; without it nothing says the change was made.
    """
    with pytest.raises(PbxResponseError, match="without a status"):
        voipcenter.check_envelope(body, write=True)
    # A read is not asked to confirm anything.
    assert voipcenter.check_envelope(body) is body


@pytest.mark.parametrize("status", ["1", 1, " 1 "])
def test_a_write_whose_body_says_1_is_confirmed(status: Any) -> None:
    body = {"head": _HEAD_OK, "body": {**_HEAD_OK, "status": status}}
    assert voipcenter.check_envelope(body, write=True) is body


def test_a_refused_write_keeps_its_error() -> None:
    """A body error outranks the missing confirmation: it says why."""
    refused = {"status": "0", "error_number": "21", "error_message": "Call Leg failed"}
    with pytest.raises(PbxCallFailedError):
        voipcenter.check_envelope({"head": _HEAD_OK, "body": refused}, write=True)
    with pytest.raises(PbxResponseError, match="not confirmed"):
        voipcenter.check_envelope(
            {"head": _HEAD_OK, "body": {"status": "0"}}, write=True
        )


async def test_a_call_answered_without_a_body_status_is_an_error(
    sim: VoipcenterSimulator,
    session: aiohttp.ClientSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = _client(sim, session)
    monkeypatch.setattr(
        client.http, "decode_json", lambda text: {"head": _HEAD_OK, "body": []}
    )
    with pytest.raises(PbxResponseError):
        await client.async_click_to_call(
            next(iter(sim.sip_accounts.values())).username, "093456789"
        )


async def test_head_16_is_a_refused_api_user(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """ "API user not allowed" refuses the API user as a whole (unknown, or not
    linked to the customer number): new credentials fix it, and no further
    request is sent, as it counts towards the lock-out.
    """
    client = _client(sim, session)
    sim.inject(Fault.FORBIDDEN)
    with pytest.raises(PbxAuthError, match="error 16"):
        await client.async_get_extensions()
    sent = sim.request_count
    with pytest.raises(PbxAuthError):
        await client.async_get_indicators()
    assert sim.request_count == sent


async def test_the_measured_cost_is_what_a_slow_poll_sends(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """One request per indicator, DID and desk: the budget check is given the
    real count, not an estimate.
    """
    client = _client(sim, session)
    await client.async_get_extensions()
    sim.reset_counters()
    context = ReadContext.at(datetime.now(UTC))
    topics = (Topic.INDICATORS, Topic.DID_ROUTING, Topic.HOT_DESKS)
    # Read at once, each read's cost is its own.
    reads = await asyncio.gather(
        *(client.async_read(topic, context) for topic in topics)
    )
    measured = dict(zip(topics, (read.cost for read in reads), strict=True))
    assert sum(measured.values()) == sim.request_count
    assert measured[Topic.INDICATORS] == 1 + len(sim.indicators)
    assert measured[Topic.DID_ROUTING] == 6 + len(sim.dids)
    assert measured[Topic.HOT_DESKS] == 2 + len(sim.hot_desks)


def test_sip_accounts_without_a_username_are_skipped() -> None:
    """Keyed by another id, they would replace the extension's device."""
    body = {
        "id_1": {"SIPusername": "sipaccount1", "naam": "Peeters"},
        "id_2": {"naam": "no username"},
    }
    assert list(voipcenter.parse_sip_accounts(body)) == ["sipaccount1"]
    with pytest.raises(PbxResponseError, match="SIP accounts: no row can be read"):
        voipcenter.parse_sip_accounts({"id_1": ["sipaccount1"], "id_2": {"naam": "x"}})
    assert voipcenter.parse_sip_accounts({}) == {}


def test_a_username_that_is_no_text_is_no_username() -> None:
    with pytest.raises(PbxResponseError, match="SIP accounts: no row can be read"):
        voipcenter.parse_sip_accounts({"id_1": {"SIPusername": 11}})


async def test_a_429_pauses_once_however_often_polls_are_refused(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """The budget's own refusals send nothing and must not stretch the wait."""
    now = [1000.0]
    client = _client(sim, session, clock=lambda: now[0])
    sim.inject(Fault.RATE_LIMIT_HEADERS, count=1, retry_after=120)
    with pytest.raises(PbxRateLimitError):
        await client.async_get_extensions()
    for _ in range(3):
        now[0] += 30
        with pytest.raises(PbxRateLimitError):
            await client.async_get_extensions()
    sent = sim.request_count
    now[0] += 31  # 121 s after the 429
    assert await client.async_get_extensions()
    assert sim.request_count == sent + 1


POLL_READS = 8
READ_LATENCY = 0.5
"""Seconds the simulator takes for every request, as a slow PBX would."""


async def test_a_call_goes_before_the_poll_reads_still_waiting(
    sim: VoipcenterSimulator, session: aiohttp.ClientSession
) -> None:
    """One request at a time, but not first come, first served: a
    click-to-call made while a poll's 8 reads queue waits for the one read
    in flight, not for the 7 behind it (3.5 s at 0.5 s a request).
    """
    client = _client(sim, session)
    sim.inject(Fault.LATENCY, latency=READ_LATENCY)
    loop = asyncio.get_running_loop()
    polls = [
        asyncio.create_task(client.async_get_extensions()) for _ in range(POLL_READS)
    ]
    for _ in range(400):  # until the first read is held
        if sim.in_flight:
            break
        await asyncio.sleep(0.005)
    sim.reset_counters()
    started = loop.time()
    await client.async_click_to_call("sipaccount1", "021234567")
    waited = loop.time() - started
    # The read in flight, then the call: the other 7 reads still wait.
    assert [request.path for request in sim.recent_requests] == [
        "/api/get.php",
        "/api/call.php",
    ]
    assert waited < 2 * READ_LATENCY + 0.4
    assert sim.max_in_flight == 1
    for poll in polls:
        poll.cancel()
    await asyncio.gather(*polls, return_exceptions=True)
    sim.clear_faults()
    assert await client.async_get_extensions()  # the cancelled reads left it free

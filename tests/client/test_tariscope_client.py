"""The Tariscope client against its simulator, over real HTTP on loopback."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
import json
import time

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    AccountSelection,
    PbxAuthError,
    PbxInvalidInputError,
    PbxNotFoundError,
    PbxPermissionError,
    PbxResponseError,
    ReadContext,
    Topic,
    create_client,
)
from custom_components.pbx_hub.client.tariscope import (
    PATHS,
    TariscopeClient,
    parse_charges,
    token_expiry,
)
from simulator import Fault, TariscopeSimulator
from simulator.tariscope import METHODS

pytestmark = pytest.mark.slow


@pytest.fixture
async def sim() -> AsyncIterator[TariscopeSimulator]:
    async with TariscopeSimulator(subscribers=6, seed=4) as simulator:
        yield simulator


def _client(
    sim: TariscopeSimulator, session: aiohttp.ClientSession, **settings: str
) -> TariscopeClient:
    client = create_client(
        "tariscope",
        session,
        {
            "url": sim.url,
            "username": sim.username,
            "password": sim.password,
            **settings,
        },
    )
    assert isinstance(client, TariscopeClient)
    return client


def _ids(sim: TariscopeSimulator) -> list[str]:
    return [str(subscriber_id) for subscriber_id in sim.subscribers]


async def test_identify(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    info = await _client(sim, session).async_identify()
    assert info.unique_id == sim.serial
    assert info.serial_number == sim.serial
    assert info.sw_version == sim.version
    assert info.model == f"Tariscope {sim.edition}"
    facts = {fact.key: fact for fact in info.facts}
    assert facts["database"].value == sim.database_version
    assert facts["build"].value == str(sim.build)
    assert facts["summary_edition"].value == sim.edition
    assert [fact.key for fact in info.sensor_facts] == [
        "serial_number",
        "database",
        "build",
    ]


async def test_a_url_without_a_port_means_8085(session: aiohttp.ClientSession) -> None:
    client = create_client(
        "tariscope", session, {"url": "http://tariscope.example", "username": "u"}
    )
    assert isinstance(client, TariscopeClient)
    assert client._base.port == 8085
    client.settings["url"] = "https://tariscope.example:443/"
    assert client._base.port == 443


async def test_wrong_password(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PbxAuthError) as raised:
        await _client(sim, session, password="not-the-password").async_identify()
    assert "not-the-password" not in str(raised.value)


async def test_the_serial_right_is_needed_to_identify(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    sim.set_rights(sim.username, [m for m in METHODS if m != "tariscope.serial"])
    with pytest.raises(PbxPermissionError) as raised:
        await _client(sim, session).async_identify()
    assert raised.value.permission == "tariscope.serial"


async def test_accounts_by_id_email_department_and_node(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    ids = _ids(sim)
    first = sim.subscriber(int(ids[0]))
    client = _client(sim, session)
    today = sim.now().date()
    accounts = await client.async_get_accounts(
        AccountSelection(ids=(ids[1], first.email)), today
    )
    assert set(accounts) == {ids[0], ids[1]}
    expected = sim.summary(int(ids[0]), today.year, today.month)
    account = accounts[ids[0]]
    assert account.subscriber.name == first.fullname
    assert account.start_debt == pytest.approx(float(expected.start_debt))
    assert account.charges == pytest.approx(float(expected.charge))
    assert account.payments == pytest.approx(float(expected.payment))
    assert account.end_debt == pytest.approx(float(expected.end_debt))

    by_group = await client.async_get_accounts(
        AccountSelection(departments=("1",), nodes=("2",)), today
    )
    members = {
        str(s.id)
        for s in sim.subscribers.values()
        if s.department_id == 1 or s.node_id == 2
    }
    assert set(by_group) == members


async def test_an_id_written_with_leading_zeros_is_that_subscriber(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    """``007`` asks for subscriber 7, whose id Tariscope writes ``7``: the
    same subscriber, looked up once, not "another" failing every poll.
    """
    wanted = _ids(sim)[0]
    client = _client(sim, session)
    today = sim.now().date()
    selection = AccountSelection(ids=(f"00{wanted}",))
    assert set(await client.async_get_accounts(selection, today)) == {wanted}
    assert (await client.async_get_subscriber(f"00{wanted}")).id == wanted
    sim.reset_counters()
    assert set(await client.async_get_accounts(selection, today)) == {wanted}
    assert "subscriber.get" not in sim.requests_by_action


async def test_another_subscriber_answered_fails_only_that_one(
    sim: TariscopeSimulator,
    session: aiohttp.ClientSession,
) -> None:
    """A server answering subscriber ``b`` for ``a``: ``a``'s figures are
    left out (never shown as ``b``'s), the others still count.
    """
    asked, other, kept = _ids(sim)[:3]
    client = _client(sim, session)
    # The server files b's record under a's id.
    sim.subscribers[int(asked)] = sim.subscribers[int(other)]
    with pytest.raises(PbxResponseError, match="another"):
        await client.async_get_subscriber(asked)
    accounts = await client.async_get_accounts(
        AccountSelection(ids=(asked, kept)), sim.now().date()
    )
    assert set(accounts) == {kept}


async def test_unknown_subscriber(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    with pytest.raises(PbxNotFoundError):
        await client.async_get_subscriber("999999")
    with pytest.raises(PbxInvalidInputError):
        await client.async_get_subscriber("drop table")


def _context(sim: TariscopeSimulator, selection: AccountSelection) -> ReadContext:
    """A read of ``selection``'s accounts at the simulator's "now"."""
    return ReadContext.at(sim.now(), accounts=selection)


async def test_a_deleted_subscriber_fails_only_that_one(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    """A subscriber never found, or looked up at one poll and deleted before
    the next: its figures are left out and named, the others still count.
    """
    never, deleted, kept = _ids(sim)[:3]
    client = _client(sim, session)
    selection = AccountSelection(ids=(never, deleted, kept))
    sim.remove_subscriber(int(never))
    read = await client.async_read(Topic.ACCOUNTS, _context(sim, selection))
    assert set(read.data.accounts) == {deleted, kept}
    assert read.missing == {never}

    sim.remove_subscriber(int(deleted))
    read = await client.async_read(Topic.ACCOUNTS, _context(sim, selection))
    assert set(read.data.accounts) == {kept}
    assert read.missing == {never, deleted}


async def test_a_deleted_subscriber_is_looked_up_again(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    """The name looked up is dropped with the subscriber's figures: the next
    poll asks Tariscope again rather than the summary of a gone id.
    """
    wanted = _ids(sim)[0]
    client = _client(sim, session)
    today = sim.now().date()
    selection = AccountSelection(ids=(f"00{wanted}",))
    await client.async_get_accounts(selection, today)
    sim.remove_subscriber(int(wanted))
    read = await client.async_read(Topic.ACCOUNTS, _context(sim, selection))
    assert read.data.accounts == {}
    assert read.missing == {f"00{wanted}"}
    sim.reset_counters()
    read = await client.async_read(Topic.ACCOUNTS, _context(sim, selection))
    assert read.data.accounts == {}
    assert sim.requests_by_action.get("subscriber.get") == 1
    assert "accounts.summary" not in sim.requests_by_action
    assert read.missing == {f"00{wanted}"}


async def test_charges_are_exactly_the_simulators(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    subscriber_id = _ids(sim)[0]
    today = sim.now().date()
    start = (today.replace(day=1) - timedelta(days=40)).replace(day=1)
    charges = await _client(sim, session).async_get_charges(subscriber_id, start, today)
    expected = sim.charges_between(
        int(subscriber_id),
        datetime.combine(start, datetime.min.time(), UTC),
        datetime.combine(today + timedelta(days=1), datetime.min.time(), UTC),
    )
    assert [c.id for c in charges] == [str(c.id) for c in expected]
    assert [c.amount for c in charges] == [float(c.amount) for c in expected]
    with pytest.raises(PbxInvalidInputError):
        await _client(sim, session).async_get_charges(subscriber_id, today, start)


async def test_a_401_signs_in_again_once(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    """An expired token, or one bound to an IP the caller no longer has."""
    client = _client(sim, session)
    await client.async_identify()
    assert client.logins == 1
    sim.expire_all_tokens()
    await client.async_get_subscriber(_ids(sim)[0])
    assert client.logins == 2
    sim.simulate_ip_change()
    await client.async_get_subscriber(_ids(sim)[0])
    assert client.logins == 3
    sim.inject(Fault.AUTH_REVOKED)  # every call refused: one retry, then give up
    with pytest.raises(PbxAuthError):
        await client.async_get_subscriber(_ids(sim)[0])


async def test_the_token_is_renewed_before_it_expires(
    session: aiohttp.ClientSession,
) -> None:
    """Three-second tokens: the client signs in anew before using a token in
    its last tenth of life, so no call meets a 401.
    """
    async with TariscopeSimulator(
        subscribers=2, token_lifetime=timedelta(seconds=3)
    ) as sim:
        client = _client(sim, session)
        await client.async_identify()
        refused_before = sim.request_count
        time_to_renew = client._renew_at - time.time()
        assert 0 < time_to_renew < 3
        await client.async_get_subscriber(_ids(sim)[0])
        assert client.logins == 1
        await asyncio.sleep(time_to_renew + 0.05)
        await client.async_get_subscriber(_ids(sim)[0])
        assert client.logins == 2
        # Login, then one call: no 401 retry in between.
        assert sim.request_count == refused_before + 3


async def test_without_exp_a_token_is_taken_for_six_hours(
    session: aiohttp.ClientSession,
) -> None:
    async with TariscopeSimulator(subscribers=2, include_exp=False) as sim:
        client = _client(sim, session)
        await client.async_identify()
        assert client._renew_at - time.time() == pytest.approx(6 * 3600 - 300, abs=5)


async def test_the_sql_method_is_never_called(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    await client.async_identify()
    await client.async_get_accounts(
        AccountSelection(ids=tuple(_ids(sim)), departments=("1",)), date.today()
    )
    assert sim.sql_calls == 0
    assert "sql" not in {path.strip("/").split("/")[-1] for path in PATHS.values()}


def test_token_expiry() -> None:
    def jwt(claims: dict[str, object]) -> str:
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
        return f"e30.{payload.decode()}.sig"

    assert token_expiry(jwt({"exp": 1_800_000_000})) == 1_800_000_000
    assert token_expiry(jwt({"sub": "api"})) is None
    assert token_expiry("not-a-jwt") is None
    assert token_expiry("a.!!!.c") is None


def test_parse_charges_tolerates_shapes() -> None:
    rows = {
        "data": [
            {
                "id": 7,
                "charge": "1.50",
                "servicename": "Local",
                "recdate": "2026-11-02T10:00:00",
            }
        ]
    }
    [charge] = parse_charges(rows)
    assert (charge.id, charge.amount, charge.service) == ("7", 1.5, "Local")
    assert charge.recorded_at == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert parse_charges([]) == []


async def test_a_server_clock_behind_ours_does_not_cause_a_login_storm(
    session: aiohttp.ClientSession,
) -> None:
    """Two hours behind with 1-hour tokens: by ``exp`` alone every token would
    look expired on arrival; ``exp - iat`` gives its real life.
    """
    async with TariscopeSimulator(
        subscribers=2,
        token_lifetime=timedelta(hours=1),
        clock=lambda: datetime.now(UTC) - timedelta(hours=2),
    ) as sim:
        client = _client(sim, session)
        await client.async_identify()
        for _ in range(3):
            await client.async_get_accounts(
                AccountSelection(ids=(_ids(sim)[0],)), date.today()
            )
        assert client.logins == 1


async def test_the_token_is_redacted_from_errors(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    await client.async_identify()
    token = client._token
    assert token is not None
    assert client.http.redact(f"refused {token}") == "refused **REDACTED**"


async def test_a_server_address_without_a_scheme(
    session: aiohttp.ClientSession,
) -> None:
    client = create_client(
        "tariscope", session, {"url": "192.168.1.5", "username": "u"}
    )
    assert isinstance(client, TariscopeClient)
    assert str(client._base) == "http://192.168.1.5:8085"
    client.settings["url"] = ""
    with pytest.raises(PbxInvalidInputError):
        _ = client._base


async def test_the_measured_cost_is_what_a_poll_sends(
    sim: TariscopeSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(sim, session)
    await client.async_identify()
    selection = AccountSelection(ids=(_ids(sim)[0],), departments=("1",))
    for _ in range(2):  # the second poll knows the subscriber's name
        sim.reset_counters()
        read = await client.async_read(Topic.ACCOUNTS, _context(sim, selection))
        assert read.cost == sim.request_count


@pytest.mark.parametrize("fault", [Fault.MISSING_KEYS, Fault.WRONG_SHAPES])
async def test_a_garbled_subscriber_is_no_unknown_one(
    sim: TariscopeSimulator, session: aiohttp.ClientSession, fault: Fault
) -> None:
    """A row without an id, or rows that are not objects: the answer is
    broken, not the user's input (which "not found" would tell them).
    """
    client = _client(sim, session)
    await client.async_identify()
    sim.inject(fault, actions=["subscriber.get"])
    with pytest.raises(PbxResponseError):
        await client.async_get_subscriber(str(min(sim.subscribers)))


@pytest.mark.parametrize("token", ["eyJ.a\r\nX-Injected: 1", "eyJ a.b", "eyJ\x00.b"])
async def test_a_token_that_cannot_be_a_header_is_a_broken_answer(
    session: aiohttp.ClientSession,
    scripted: tuple[str, list[web.Response]],
    token: str,
) -> None:
    """A malformed answer (``invalid_response``), not refused credentials
    (which would start reauthentication).
    """
    url, answers = scripted
    answers.append(web.json_response({"token": token}))
    client = create_client(
        "tariscope", session, {"url": url, "username": "u", "password": "p" * 8}
    )
    with pytest.raises(PbxResponseError, match="malformed"):
        await client.async_identify()
    assert not answers

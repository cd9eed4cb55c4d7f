"""The Tariscope simulator over real loopback HTTP."""

from __future__ import annotations

import argparse
import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
import hashlib
import hmac
import json
import re
import time
from typing import Any
from xml.etree import ElementTree as ET

import aiohttp
from multidict import CIMultiDictProxy
import pytest

from simulator import Fault
from simulator.tariscope import TariscopeSimulator

pytestmark = pytest.mark.slow

SECRET = b"test-secret-0123456789abcdef"
START = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
SUBSCRIBER_FIELDS = {
    "id", "fullname", "street", "House", "Flat", "email", "description", "authcode",
    "ispublic", "abonenttype", "code", "zipcode", "personalcode", "contractid",
    "information", "privilegeinfo", "area", "contractdate", "building",
    "floornumber", "accountId", "gender", "birthday", "bankaccount", "bankmfo",
    "taxcode", "deliverytype", "privilegediscount",
}  # fmt: skip
CHARGE_FIELDS = {
    "id", "recdate", "fromdate", "todate", "servicename", "charge",
    "numberofservices",
}  # fmt: skip


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[TariscopeSimulator]:
    async with TariscopeSimulator(
        subscribers=10, clock=clock, secret=SECRET, seed=3
    ) as simulator:
        yield simulator


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(b64decode(token.split(".")[1]))
    return payload


async def login(
    session: aiohttp.ClientSession,
    sim: TariscopeSimulator,
    username: str | None = None,
    password: str | None = None,
) -> str:
    body = {
        "username": username or sim.username,
        "password": password or sim.password,
    }
    async with session.post(f"{sim.url}/api/auth", json=body) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        return str((await resp.json())["token"])


async def call(
    session: aiohttp.ClientSession,
    sim: TariscopeSimulator,
    path: str,
    token: str | None,
    *,
    method: str = "GET",
    **kwargs: Any,
) -> tuple[int, Any, CIMultiDictProxy[str]]:
    """Status, decoded JSON (or text) and headers of one request."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    async with session.request(
        method, f"{sim.url}{path}", headers=headers, **kwargs
    ) as resp:
        text = await resp.text()
        try:
            data: Any = json.loads(text)
        except ValueError:
            data = text
        return resp.status, data, resp.headers


async def ok(
    session: aiohttp.ClientSession,
    sim: TariscopeSimulator,
    path: str,
    token: str,
    **kwargs: Any,
) -> Any:
    status, data, _ = await call(session, sim, path, token, **kwargs)
    assert status == 200, data
    return data


# -------------------------------------------------------------------- auth


async def test_auth_returns_signed_jwt_bound_to_ip(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    assert (sim.username, sim.password) == ("api", "sim-tariscope-password")
    token = await login(session, sim)
    header_b64, payload_b64, signature_b64 = token.split(".")
    assert json.loads(b64decode(header_b64)) == {"alg": "HS256", "typ": "JWT"}
    expected = hmac.new(
        SECRET, f"{header_b64}.{payload_b64}".encode(), hashlib.sha256
    ).digest()
    assert b64decode(signature_b64) == expected
    payload = claims(token)
    assert payload["sub"] == "api"
    assert payload["ip"] == "127.0.0.1"
    assert payload["iat"] == int(START.timestamp())
    assert payload["exp"] - payload["iat"] == 6 * 3600
    assert sim.tokens_issued == 1
    assert len(sim.valid_tokens()) == 1
    # Trailing slash and any case are accepted.
    async with session.post(
        f"{sim.url}/API/Auth/", json={"username": "api", "password": sim.password}
    ) as resp:
        assert resp.status == 200
    assert sim.tokens_issued == 2
    assert sim.requests_by_action["api.auth"] == 2


async def test_login_failures(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    url = f"{sim.url}/api/auth"
    for body in (
        {"username": "api", "password": "wrong"},
        {"username": "nobody", "password": sim.password},
    ):
        async with session.post(url, json=body) as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "error": "invalid_credentials",
                "message": "Invalid username or password",
            }
    async with session.post(url, json={"username": "api"}) as resp:
        assert resp.status == 400
        assert (await resp.json())["parameter"] == "password"
    async with session.post(url, data="not json") as resp:
        assert resp.status == 400
    async with session.post(url, json=["api", "x"]) as resp:
        assert resp.status == 400
    async with session.get(url) as resp:
        assert resp.status == 405
        assert (await resp.json())["error"] == "method_not_allowed"
    assert sim.tokens_issued == 0


async def test_bad_tokens_are_refused(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    path = "/api/tariscope/version"
    status, body, headers = await call(session, sim, path, None)
    assert status == 401
    assert body["error"] == "unauthorized"
    assert headers["WWW-Authenticate"] == "Bearer"

    token = await login(session, sim)
    assert await ok(session, sim, path, token) == {"version": sim.version}

    header_b64, payload_b64, signature_b64 = token.split(".")
    forged_payload = b64encode(json.dumps({**claims(token), "sub": "admin"}).encode())
    none_header = b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    other = TariscopeSimulator(subscribers=0, secret=b"another-secret")
    for bad in (
        "garbage",
        "a.b.c",
        "a!b.c.d",
        f"{header_b64}.{b64encode(b'[1]')}.{signature_b64}",
        f"{header_b64}.{forged_payload}.{signature_b64}",
        f"{none_header}.{payload_b64}.",
        f"{header_b64}.{payload_b64}.{signature_b64[:-4]}AAAA",
        other.issue_token("api"),
    ):
        status, body, headers = await call(session, sim, path, bad)
        assert status == 401, bad
        assert headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    status, _, _ = await call(
        session, sim, path, None, headers={"Authorization": f"Basic {token}"}
    )
    assert status == 401


async def test_token_expires_after_lifetime(session: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with TariscopeSimulator(
        subscribers=1, clock=clock, token_lifetime=timedelta(hours=1)
    ) as sim:
        token = await login(session, sim)
        assert claims(token)["exp"] - claims(token)["iat"] == 3600
        clock.advance(minutes=59)
        await ok(session, sim, "/api/tariscope/edition", token)
        clock.advance(minutes=1)
        status, body, headers = await call(
            session, sim, "/api/tariscope/edition", token
        )
        assert status == 401
        assert "expired" in headers["WWW-Authenticate"]
        assert "expired" in body["message"]
        assert sim.valid_tokens() == []
        fresh = await login(session, sim)
        await ok(session, sim, "/api/tariscope/edition", fresh)


async def test_token_without_exp_still_expires(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    async with TariscopeSimulator(subscribers=1, clock=clock, include_exp=False) as sim:
        token = await login(session, sim)
        assert "exp" not in claims(token)
        assert "iat" in claims(token)
        clock.advance(hours=5, minutes=59)
        await ok(session, sim, "/api/tariscope/build", token)
        clock.advance(minutes=1)
        status, _, _ = await call(session, sim, "/api/tariscope/build", token)
        assert status == 401


async def test_expire_all_tokens(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    first = await login(session, sim)
    second = await login(session, sim)
    sim.expire_all_tokens()
    for token in (first, second):
        status, _, _ = await call(session, sim, "/api/tariscope/serial", token)
        assert status == 401
    third = await login(session, sim)
    assert await ok(session, sim, "/api/tariscope/serial", third) == {
        "serial": sim.serial
    }
    assert sim.tokens_issued == 3
    assert len(sim.valid_tokens()) == 1


async def test_ip_binding(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    elsewhere = sim.issue_token(sim.username, ip="192.0.2.7")
    status, body, _ = await call(session, sim, "/api/tariscope/version", elsewhere)
    assert status == 401
    assert "another IP" in body["message"]

    sim.simulate_ip_change()
    status, body, _ = await call(session, sim, "/api/tariscope/version", token)
    assert status == 401
    assert "another IP" in body["message"]
    fresh = await login(session, sim)
    new_ip = claims(fresh)["ip"]
    assert new_ip != "127.0.0.1"
    assert new_ip.startswith("10.")
    await ok(session, sim, "/api/tariscope/version", fresh)
    # The same client keeps its new address until the next change.
    again = await login(session, sim)
    assert claims(again)["ip"] == new_ip
    sim.simulate_ip_change()
    status, _, _ = await call(session, sim, "/api/tariscope/version", fresh)
    assert status == 401


async def test_method_rights(session: aiohttp.ClientSession, clock: FakeClock) -> None:
    async with TariscopeSimulator(
        subscribers=2,
        clock=clock,
        users={"api": "one", "reader": "two"},
        rights={"reader": {"subscriber.get", "tariscope.version"}},
    ) as sim:
        subscriber_id = next(iter(sim.subscribers))
        token = await login(session, sim, "reader", "two")
        await ok(session, sim, f"/api/subscriber/get/?id={subscriber_id}", token)
        status, body, _ = await call(
            session, sim, f"/api/accounts.summary/?id={subscriber_id}", token
        )
        assert status == 403
        assert body == {
            "error": "forbidden",
            "message": "User 'reader' has no right to the method 'accounts.summary'",
            "method": "accounts.summary",
        }
        # The default user has every right.
        admin = await login(session, sim, "api", "one")
        await ok(session, sim, f"/api/accounts.summary/?id={subscriber_id}", admin)

        sim.set_rights("reader", {"accounts.summary"})
        await ok(session, sim, f"/api/accounts.summary/?id={subscriber_id}", token)
        status, _, _ = await call(session, sim, "/api/tariscope/version", token)
        assert status == 403
        sim.set_rights("reader", None)
        await ok(session, sim, "/api/tariscope/version", token)

        sim.add_user("temp", "pw", rights=[])
        temp = await login(session, sim, "temp", "pw")
        status, body, _ = await call(session, sim, "/api/tariscope/summary", temp)
        assert (status, body["method"]) == (403, "tariscope.summary")
        sim.remove_user("temp")
        status, _, _ = await call(session, sim, "/api/tariscope/summary", temp)
        assert status == 401
        assert "temp" not in {t.username for t in sim.valid_tokens()}


async def test_sql_is_always_refused_and_counted(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    await ok(session, sim, "/api/tariscope/version", token)
    assert sim.sql_calls == 0
    status, body, _ = await call(
        session, sim, "/api/sql", token, method="POST", json={"query": "SELECT 1"}
    )
    assert (status, body["error"], body["method"]) == (403, "forbidden", "sql")
    status, _, _ = await call(session, sim, "/api/sql/", None)
    assert status == 401
    assert sim.sql_calls == 2


# ------------------------------------------------------------- subscribers


async def test_subscriber_get(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    assert len(sim.subscribers) == 10
    assert 2928 in sim.subscribers  # the guide's example ID
    subscriber = sim.subscriber(2928)
    data = await ok(session, sim, "/api/subscriber/get/?id=2928", token)
    assert set(data) == SUBSCRIBER_FIELDS
    assert data["id"] == 2928
    assert data["fullname"] == subscriber.fullname
    assert data["email"] == subscriber.email
    assert data["accountId"] == subscriber.account_id
    assert isinstance(data["ispublic"], bool)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00", data["contractdate"])

    assert await ok(session, sim, "/api/subscriber/get?id=2928", token) == data
    by_email = await ok(
        session,
        sim,
        "/api/subscriber/get/",
        token,
        params={"email": subscriber.email.upper()},
    )
    assert by_email == data

    subscriber.fullname = "Renamed Person"
    data = await ok(session, sim, "/api/subscriber/get/?id=2928", token)
    assert data["fullname"] == "Renamed Person"
    added = sim.add_subscriber("New Person", email="new@example.com")
    data = await ok(session, sim, "/api/subscriber/get/?email=new@example.com", token)
    assert (data["id"], data["fullname"]) == (added.id, "New Person")

    for query, status, parameter in (
        ("", 400, "id"),
        ("?id=abc", 400, "id"),
        ("?id=-1", 400, "id"),
        ("?id=0", 400, "id"),
        ("?email=no-at-sign", 400, "email"),
        ("?id=99999", 404, None),
        ("?email=ghost@example.com", 404, None),
    ):
        got, body, _ = await call(session, sim, f"/api/subscriber/get/{query}", token)
        assert got == status, query
        assert set(body) >= {"error", "message"}
        assert body.get("parameter") == parameter


async def test_subscriber_lists(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    seen: list[int] = []
    for department_id in sim.departments:
        rows = await ok(
            session, sim, f"/api/subscriber/list/department/?id={department_id}", token
        )
        assert isinstance(rows, list)
        assert all(set(row) == SUBSCRIBER_FIELDS for row in rows)
        assert {row["id"] for row in rows} == {
            s.id for s in sim.subscribers.values() if s.department_id == department_id
        }
        seen.extend(row["id"] for row in rows)
    assert sorted(seen) == sorted(sim.subscribers)
    node_ids: list[int] = []
    for node_id in sim.nodes:
        rows = await ok(session, sim, f"/api/subscriber/list/node?id={node_id}", token)
        node_ids.extend(row["id"] for row in rows)
        assert rows
    assert sorted(node_ids) == sorted(sim.subscribers)

    moved = sim.subscriber(2921)
    target = max(sim.departments)
    moved.department_id = target
    rows = await ok(
        session, sim, f"/api/subscriber/list/department/?id={target}", token
    )
    assert 2921 in {row["id"] for row in rows}

    for path, status in (
        ("/api/subscriber/list/department/?id=99", 404),
        ("/api/subscriber/list/node/?id=99", 404),
        ("/api/subscriber/list/node/", 400),
        ("/api/subscriber/list/department/?id=x", 400),
    ):
        got, _, _ = await call(session, sim, path, token)
        assert got == status, path


async def test_empty_department_is_empty_list(
    session: aiohttp.ClientSession, clock: FakeClock
) -> None:
    async with TariscopeSimulator(subscribers=1, departments=3, clock=clock) as sim:
        token = await login(session, sim)
        assert (
            await ok(session, sim, "/api/subscriber/list/department/?id=3", token) == []
        )


# ----------------------------------------------------------------- accounts


def money_text(raw: str, key: str) -> list[str]:
    return re.findall(rf'"{key}": (-?\d+\.\d+)', raw)


async def test_seeded_accounts(sim: TariscopeSimulator) -> None:
    for subscriber in sim.subscribers.values():
        assert subscriber.charges
        assert all(c.when < START for c in subscriber.charges)
        assert all(
            c.amount == c.amount.quantize(Decimal("0.01")) for c in subscriber.charges
        )
        assert subscriber.payments
        months = {(c.when.year, c.when.month) for c in subscriber.charges}
        assert (2025, 3) in months
        assert (2024, 12) in months
    fees = [
        c for c in sim.subscriber(2921).charges if c.description == "Subscription fee"
    ]
    assert len(fees) == 4


async def test_accounts_summary(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    subscriber = sim.subscriber(2925)
    current = await ok(session, sim, "/api/accounts.summary/?id=2925", token)
    expected = sim.summary(2925, 2025, 3)
    assert set(current) == {"start_debt", "end_debt", "charge", "payment", "date"}
    assert current["date"] == "2025-03-01T00:00:00"
    assert Decimal(str(current["charge"])) == expected.charge > 0
    assert Decimal(str(current["start_debt"])) == subscriber.debt_at(
        datetime(2025, 3, 1, tzinfo=UTC)
    )
    assert Decimal(str(current["end_debt"])) == (
        expected.start_debt + expected.charge - expected.payment
    )

    february = await ok(
        session, sim, "/api/accounts.summary?id=2925&year=2025&month=2", token
    )
    assert february["date"] == "2025-02-01T00:00:00"
    assert february["end_debt"] == current["start_debt"]
    assert february["payment"] > 0

    # Money is always written with two decimals.
    status, _, _ = await call(session, sim, "/api/accounts.summary/?id=2925", token)
    assert status == 200
    async with session.get(
        f"{sim.url}/api/accounts.summary/?id=2925",
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        raw = await resp.text()
    for key in ("start_debt", "end_debt", "charge", "payment"):
        assert re.fullmatch(r"-?\d+\.\d\d", money_text(raw, key)[0])

    sim.add_charge(2925, "10.5", datetime(2025, 3, 14, 9, tzinfo=UTC))
    sim.add_payment(2925, 4, datetime(2025, 3, 14, 10, tzinfo=UTC))
    after = await ok(session, sim, "/api/accounts.summary/?id=2925", token)
    assert Decimal(str(after["charge"])) == expected.charge + Decimal("10.50")
    assert Decimal(str(after["payment"])) == expected.payment + Decimal("4.00")

    day = await ok(
        session, sim, "/api/accounts.summary/?id=2925&year=2025&month=3&day=13", token
    )
    assert Decimal(str(day["charge"])) == sum(
        (
            c.amount
            for c in sim.charges_between(
                2925,
                datetime(2025, 3, 1, tzinfo=UTC),
                datetime(2025, 3, 14, tzinfo=UTC),
            )
        ),
        Decimal(0),
    )
    future = await ok(
        session, sim, "/api/accounts.summary/?id=2925&year=2026&month=1", token
    )
    assert (future["charge"], future["payment"]) == (0, 0)
    assert future["start_debt"] == future["end_debt"] == after["end_debt"]

    for query, parameter in (
        ("id=2925&year=2025", "month"),
        ("id=2925&month=2", "year"),
        ("id=2925&year=2025&month=13", "month"),
        ("id=2925&year=1999&month=1", "year"),
        ("id=2925&year=2025&month=2&day=29", "day"),
        ("id=x", "id"),
        ("year=2025&month=1", "id"),
    ):
        status, body, _ = await call(
            session, sim, f"/api/accounts.summary/?{query}", token
        )
        assert (status, body["parameter"]) == (400, parameter), query
    status, _, _ = await call(session, sim, "/api/accounts.summary/?id=1", token)
    assert status == 404
    # The summary path has a dot; the slash form is not a method.
    status, _, _ = await call(session, sim, "/api/accounts/summary/?id=2925", token)
    assert status == 404


async def test_accounts_charges(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    path = "/api/accounts/charges/"
    rows = await ok(
        session,
        sim,
        path,
        token,
        params={"id": "2922", "fromdate": "2025-02-01", "todate": "2025-02-28"},
    )
    expected = sim.charges_between(
        2922, datetime(2025, 2, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC)
    )
    assert [row["id"] for row in rows] == [c.id for c in expected]
    assert rows
    assert all(set(row) == CHARGE_FIELDS for row in rows)
    fee = rows[0]
    assert fee["servicename"] == "Subscription fee"
    assert fee["recdate"] == "2025-02-01T00:00:00"

    added = sim.add_charge(
        2922,
        3.6,
        datetime(2025, 2, 28, 23, 59, tzinfo=UTC),
        description="Mobile calls",
        number="0501234567",
        duration=125,
        count=3,
    )
    rows = await ok(
        session,
        sim,
        path,
        token,
        params={"id": "2922", "fromdate": "2025-02-28", "todate": "2025-02-28"},
    )
    row = next(r for r in rows if r["id"] == added.id)
    assert row == {
        "id": added.id,
        "recdate": "2025-02-28T23:59:00",
        "fromdate": "2025-02-28T23:59:00",
        "todate": "2025-03-01T00:01:05",
        "servicename": "Mobile calls",
        "charge": 3.6,
        "numberofservices": 3,
    }
    narrow = await ok(
        session,
        sim,
        path,
        token,
        params={
            "id": "2922",
            "fromdate": "2025-02-28T23:00:00",
            "todate": "2025-02-28T23:59:00",
        },
    )
    assert added.id not in {r["id"] for r in narrow}
    empty = await ok(
        session,
        sim,
        path,
        token,
        params={"id": "2922", "fromdate": "2020-01-01", "todate": "2020-01-31"},
    )
    assert empty == []

    for params, parameter in (
        ({"id": "2922", "todate": "2025-02-01"}, "fromdate"),
        ({"id": "2922", "fromdate": "2025-02-01"}, "todate"),
        ({"id": "2922", "fromdate": "yesterday", "todate": "2025-02-01"}, "fromdate"),
        ({"id": "2922", "fromdate": "2025-02-30", "todate": "2025-03-01"}, "fromdate"),
        ({"id": "2922", "fromdate": "2025-02-01", "todate": "9999-12-31"}, "todate"),
        ({"id": "2922", "fromdate": "2025-03-01", "todate": "2025-02-01"}, "todate"),
        ({"fromdate": "2025-02-01", "todate": "2025-02-02"}, "id"),
    ):
        status, body, _ = await call(session, sim, path, token, params=params)
        assert (status, body["parameter"]) == (400, parameter), params


async def test_payments_written_through_api_show_up(
    session: aiohttp.ClientSession, sim: TariscopeSimulator, clock: FakeClock
) -> None:
    token = await login(session, sim)
    before = await ok(session, sim, "/api/accounts.summary/?id=2923", token)
    status, created, _ = await call(
        session,
        sim,
        "/api/accounts/payment/",
        token,
        method="POST",
        json={"id": 2923, "payment": "25.5", "paymenttype": 2, "bank": "Mono"},
    )
    assert status == 200
    assert created["subscriberid"] == 2923
    assert created["payment"] == 25.5
    assert created["paymentday"] == "2025-03-15T12:00:00"
    payment = sim.subscriber(2923).payments[-1]
    assert (payment.id, payment.payment_type, payment.bank) == (
        created["paymentid"],
        2,
        "Mono",
    )
    after = await ok(session, sim, "/api/accounts.summary/?id=2923", token)
    assert round(after["payment"] - before["payment"], 2) == 25.5
    assert round(before["end_debt"] - after["end_debt"], 2) == 25.5

    rows = await ok(session, sim, "/api/accounts/payments/?id=2923", token)
    assert rows[-1] == created
    assert len(rows) == len(sim.subscriber(2923).payments)
    only = await ok(
        session,
        sim,
        f"/api/accounts/payments/?id=2923&paymentid={created['paymentid']}",
        token,
    )
    assert only == [created]
    march = await ok(
        session,
        sim,
        "/api/accounts/payments/?id=2923&fromdate=2025-03-15T11:00:00&todate=2025-03-15",
        token,
    )
    assert march == [created]

    # Form bodies and an explicit paymentday work too.
    status, form_created, _ = await call(
        session,
        sim,
        "/api/accounts/payment",
        token,
        method="POST",
        data={"id": "2923", "payment": "1", "paymentday": "2025-01-10"},
    )
    assert status == 200
    assert form_created["paymentday"] == "2025-01-10T00:00:00"
    assert form_created["payment"] == 1

    for body, parameter in (
        ({"id": 2923, "payment": "-5"}, "payment"),
        ({"id": 2923, "payment": "abc"}, "payment"),
        ({"id": 2923}, "payment"),
        ({"id": 2923, "payment": 5, "paymenttype": 4}, "paymenttype"),
        ({"id": 2923, "payment": 5, "paymentday": "soon"}, "paymentday"),
        ({"payment": 5}, "id"),
        (["not", "an", "object"], "body"),
    ):
        status, err, _ = await call(
            session, sim, "/api/accounts/payment", token, method="POST", json=body
        )
        assert (status, err["parameter"]) == (400, parameter), body
    status, err, _ = await call(
        session,
        sim,
        "/api/accounts/payment",
        token,
        method="POST",
        data="{broken",
        headers={"Content-Type": "application/json"},
    )
    assert (status, err["parameter"]) == (400, "body")
    status, _, _ = await call(
        session, sim, "/api/accounts/payment/?id=2923&payment=5", token
    )
    assert status == 405
    status, _, _ = await call(
        session, sim, "/api/accounts/payments/?id=2923&paymentid=x", token
    )
    assert status == 400


# ------------------------------------------------------------------ system


async def test_system_info(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    assert await ok(session, sim, "/api/tariscope/version/", token) == {
        "version": "4.6.2.1150"
    }
    assert await ok(session, sim, "/api/tariscope/database", token) == {
        "database": sim.database_version
    }
    assert await ok(session, sim, "/api/tariscope/build", token) == {
        "build": "2024-11-18"
    }
    assert await ok(session, sim, "/api/tariscope/edition", token) == {
        "edition": "Enterprise"
    }
    serial = (await ok(session, sim, "/api/tariscope/serial", token))["serial"]
    assert re.fullmatch(r"TS-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}", serial)
    sim.edition = "Provider"
    summary = await ok(session, sim, "/api/tariscope/summary", token)
    assert summary == {
        "version": sim.version,
        "database": sim.database_version,
        "build": "2024-11-18",
        "serial": serial,
        "edition": "Provider",
        "subscribers": 10,
        "departments": 3,
        "nodes": 2,
    }


async def test_xml_format(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    async with session.post(
        f"{sim.url}/api/auth/xml",
        json={"username": sim.username, "password": sim.password},
    ) as resp:
        assert resp.content_type == "application/xml"
        token = ET.fromstring(await resp.text()).findtext("token")
    assert token
    assert claims(token)["sub"] == "api"
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(
        f"{sim.url}/api/subscriber/get/xml/?id=2928", headers=headers
    ) as resp:
        root = ET.fromstring(await resp.text())
    assert root.tag == "response"
    assert root.findtext("fullname") == sim.subscriber(2928).fullname
    assert root.findtext("privilegediscount") == "0.00"
    assert root.findtext("ispublic") in ("true", "false")
    async with session.get(
        f"{sim.url}/api/accounts/charges/xml",
        params={"id": "2928", "fromdate": "2025-03-01", "todate": "2025-03-31"},
        headers=headers,
    ) as resp:
        items = ET.fromstring(await resp.text()).findall("item")
    assert len(items) == len(
        sim.charges_between(
            2928, datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC)
        )
    )
    async with session.get(
        f"{sim.url}/api/subscriber/get/xml/?id=1", headers=headers
    ) as resp:
        assert resp.status == 404
        assert ET.fromstring(await resp.text()).findtext("error") == "not_found"
    assert await ok(session, sim, "/api/tariscope/version/json", token) == {
        "version": sim.version
    }


async def test_unknown_paths(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    for path in ("/", "/api/tariffs/plans", "/api/subscriber/create", "/api"):
        status, body, _ = await call(session, sim, path, None)
        assert (status, body["error"]) == (404, "not_found"), path
    assert sim.requests_by_action["GET /api/tariffs/plans"] == 1


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        (Fault.SERVER_ERROR, 500, lambda t: "Internal Server Error" in t),
        (Fault.RATE_LIMIT, 429, lambda t: "429" in t),
        (Fault.MALFORMED, 200, lambda t: t.startswith("<!DOCTYPE html>")),
        (Fault.AUTH_REVOKED, 401, lambda t: json.loads(t)["error"] == "unauthorized"),
    ],
)
async def test_error_faults(
    session: aiohttp.ClientSession,
    sim: TariscopeSimulator,
    fault: Fault,
    status: int,
    check: Any,
) -> None:
    token = await login(session, sim)
    sim.inject(fault, count=1, actions=["subscriber.get"])
    got, body, _ = await call(session, sim, "/api/subscriber/get/?id=2921", token)
    assert got == status
    assert check(body if isinstance(body, str) else json.dumps(body))
    # Only the next matching request was faulted.
    await ok(session, sim, "/api/subscriber/get/?id=2921", token)


async def test_body_and_latency_faults(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> None:
    token = await login(session, sim)
    sim.inject(Fault.TRUNCATED, count=1)
    status, body, _ = await call(session, sim, "/api/tariscope/summary", token)
    assert status == 200
    assert isinstance(body, str)
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        json.loads(body)
    sim.inject(Fault.LATENCY, count=1, latency=0.1)
    started = time.monotonic()
    await ok(session, sim, "/api/tariscope/version", token)
    assert time.monotonic() - started >= 0.1
    sim.inject(Fault.RATE_LIMIT, count=1, retry_after=30)
    _, _, headers = await call(session, sim, "/api/tariscope/version", token)
    assert headers["Retry-After"] == "30"


# --------------------------------------------------------- construction


async def test_state_cli_and_banner(session: aiohttp.ClientSession) -> None:
    options = argparse.Namespace(
        host="127.0.0.1",
        port=0,
        seed=5,
        extensions=4,
        dids=5,
        multi_tenant=False,
        tenants=2,
        api_key="cli-password",
    )
    sim = TariscopeSimulator.from_cli(options)
    assert (sim.username, sim.password) == ("api", "cli-password")
    assert len(sim.subscribers) == 4
    default = TariscopeSimulator.from_cli(argparse.Namespace(seed=1))
    assert default.password == "sim-tariscope-password"
    assert len(default.subscribers) == 10
    async with sim:
        banner = "\n".join(sim.banner())
        assert str(sim.url) in banner
        assert "api" in banner
        assert "cli-password" in banner
        token = await login(session, sim)
        await ok(session, sim, "/api/subscriber/get/?id=2921", token)
        async with session.get(f"{sim.url}/_sim/state") as resp:
            state = await resp.json()
        assert state["vendor"] == "tariscope"
        assert state["subscribers"] == 4
        assert state["tokens_issued"] == 1
        assert state["valid_tokens"] == 1
        assert state["sql_calls"] == 0
        assert state["requests_by_action"] == {"api.auth": 1, "subscriber.get": 1}


def test_seed_is_reproducible() -> None:
    def snapshot(sim: TariscopeSimulator) -> list[object]:
        return [
            (s.fullname, s.email, s.opening_debt, [c.amount for c in s.charges])
            for s in sim.subscribers.values()
        ]

    first = TariscopeSimulator(seed=7, clock=FakeClock())
    second = TariscopeSimulator(seed=7, clock=FakeClock())
    other = TariscopeSimulator(seed=8, clock=FakeClock())
    assert snapshot(first) == snapshot(second)
    assert snapshot(first) != snapshot(other)
    assert first.serial == second.serial


def test_constructor_and_mutator_validation() -> None:
    with pytest.raises(ValueError, match="token_lifetime"):
        TariscopeSimulator(token_lifetime=timedelta(0))
    with pytest.raises(ValueError, match="user"):
        TariscopeSimulator(users={})
    sim = TariscopeSimulator(subscribers=1, clock=FakeClock())
    with pytest.raises(KeyError):
        sim.add_subscriber(department_id=42)
    with pytest.raises(KeyError):
        sim.add_subscriber(node_id=42)
    with pytest.raises(KeyError):
        sim.add_charge(1, 5)
    with pytest.raises(KeyError):
        sim.subscriber(1)
    with pytest.raises(ValueError, match="malformed"):
        sim.decode_token("x.y")
    naive = TariscopeSimulator(subscribers=0, clock=lambda: datetime(2025, 1, 1, 8))
    assert naive.now() == datetime(2025, 1, 1, 8, tzinfo=UTC)
    charge = naive.add_subscriber("A B")
    assert charge.email == "a.b@example.com"
    assert naive.add_subscriber("A B").email.startswith("a.b.")
    assert naive.add_charge(charge.id, 1).when == naive.now()

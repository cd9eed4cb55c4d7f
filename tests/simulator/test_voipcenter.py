"""The VoipCenter simulator, over real loopback HTTP.

The client side here (hashing, signing, parameter order) is written again from the
vendor document's recipe with hashlib/hmac, so it checks the simulator instead of
reusing its code.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Sequence
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from simulator import Fault
from simulator.voipcenter import (
    VoipcenterSimulator,
    expected_signature,
    password_hash,
)

pytestmark = pytest.mark.slow

NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
TODAY = "20250615"
YESTERDAY = "20250614"
JSON_TYPE = "text/json; charset=utf-8"
SIPACC_KEYS = {
    "SIPusername", "logname", "naam", "voornaam", "DIDout", "userAgent", "SIPping",
}  # fmt: skip
OK_BLOCK = {"status": "1", "error_number": "", "error_message": ""}

# Test vectors, computed once by hand from the document's recipe:
#   pwd  = sha256_hex(md5_hex("password"))
#   pass = hmac_sha256_hex("privatekey", "apiID<..>knummer<..>pwd<..>...f<..>ts<..>")
VECTOR_PWD = "3f2cd8e57b096fe7e4a78a5627e34ca3f885ad65a56e61c287cf4211bbc5949f"
VECTOR_GET_PASS = "cefaa6b228b5398df226b04da20e1e3b4f7bb20d66bf72b3228e40ad354c664a"
VECTOR_CALL_PASS = "710b0c68eefe0d4a575d11d0faf4a3ca728e181fbc4653a231e4e8b8ba96d66f"
VECTOR_UPDATE_PASS = "82160563529b6eb707afdd224f76c0e40730c2ef7c216c1555e1de090fad5371"


class FakeClock:
    """A settable clock for the ts window and the attempts limit."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def hand_pwd(password: str) -> str:
    md5 = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
    return hashlib.sha256(md5.encode()).hexdigest()


def hand_sign(params: Sequence[tuple[str, str]], key: str, *, get: bool) -> str:
    skip = {"pass", "filter"} if get else {"pass"}
    message = "".join(k + v for k, v in params if k not in skip)
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def client_params(
    sim: VoipcenterSimulator,
    endpoint: str,
    extra: Sequence[tuple[str, str]],
    *,
    ts: float | None = None,
    fmt: str = "json",
    filter_: str | None = None,
    pwd: str | None = None,
    key: str | None = None,
) -> list[tuple[str, str]]:
    """Parameters in the document's URL order (filter after id, pass before ts)."""
    head = [
        ("apiID", sim.api_id),
        ("knummer", sim.customer_number),
        ("pwd", pwd if pwd is not None else hand_pwd(sim.password)),
        *extra,
    ]
    if filter_ is not None:
        head.append(("filter", filter_))
    stamp = ("ts", str(int(sim.clock() if ts is None else ts)))
    signed = [*head, ("f", fmt), stamp]
    signature = hand_sign(signed, key or sim.api_key, get=endpoint == "get.php")
    return [*head, ("f", fmt), ("pass", signature), stamp]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sim(clock: FakeClock) -> AsyncIterator[VoipcenterSimulator]:
    async with VoipcenterSimulator(clock=clock, seed=3) as simulator:
        yield simulator


async def send(
    session: aiohttp.ClientSession,
    sim: VoipcenterSimulator,
    endpoint: str,
    params: Sequence[tuple[str, str]],
    *,
    method: str = "GET",
) -> tuple[int, str, str]:
    """Status, content type and body text; the order of ``params`` is kept."""
    encoded = urlencode(list(params))
    url = f"{sim.url}/api/{endpoint}"
    if method == "GET":
        ctx = session.get(f"{url}?{encoded}")
    else:
        ctx = session.post(
            url,
            data=encoded,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    async with ctx as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def call_api(
    session: aiohttp.ClientSession,
    sim: VoipcenterSimulator,
    endpoint: str,
    extra: Sequence[tuple[str, str]],
    *,
    method: str = "GET",
    **kwargs: Any,
) -> Any:
    params = client_params(sim, endpoint, extra, **kwargs)
    status, content_type, text = await send(
        session, sim, endpoint, params, method=method
    )
    assert status == 200
    assert content_type == JSON_TYPE
    return json.loads(text)


async def get(
    session: aiohttp.ClientSession,
    sim: VoipcenterSimulator,
    menu: str,
    item_id: str = "0",
    **kwargs: Any,
) -> Any:
    return await call_api(
        session, sim, "get.php", [("m", menu), ("id", item_id)], **kwargs
    )


async def update(
    session: aiohttp.ClientSession,
    sim: VoipcenterSimulator,
    menu: str,
    item_id: str,
    p: str,
) -> Any:
    return await call_api(
        session, sim, "update.php", [("m", menu), ("id", item_id), ("p", p)]
    )


def head_code(answer: Any) -> str:
    assert answer["head"]["status"] == "0"
    assert answer["body"] == answer["head"]
    return str(answer["head"]["error_number"])


def body_code(answer: Any) -> str:
    assert answer["head"] == OK_BLOCK
    assert answer["body"]["status"] == "0"
    return str(answer["body"]["error_number"])


# ---------------------------------------------------------------- signing


def test_signing_vectors() -> None:
    assert hand_pwd("password") == VECTOR_PWD
    assert password_hash("password") == VECTOR_PWD
    get_params = [
        ("apiID", "pi990000tst"),
        ("knummer", "123456"),
        ("pwd", VECTOR_PWD),
        ("m", "sipacc"),
        ("id", "0"),
        ("filter", "bureau"),
        ("f", "json"),
        ("ts", "1400229417"),
    ]
    assert expected_signature(get_params, "privatekey") == VECTOR_GET_PASS
    assert hand_sign(get_params, "privatekey", get=True) == VECTOR_GET_PASS
    # filter is not signed for get.php; pass is never signed.
    without_filter = [p for p in get_params if p[0] != "filter"]
    assert expected_signature(without_filter, "privatekey") == VECTOR_GET_PASS
    assert (
        expected_signature([*get_params, ("pass", "x")], "privatekey")
        == VECTOR_GET_PASS
    )
    # The order matters.
    swapped = [get_params[1], get_params[0], *get_params[2:]]
    assert expected_signature(swapped, "privatekey") != VECTOR_GET_PASS
    call_params = [
        ("apiID", "pi990000tst"),
        ("knummer", "123456"),
        ("pwd", VECTOR_PWD),
        ("sipacc", "sipaccount1"),
        ("telnr", "021234567"),
        ("f", "json"),
        ("ts", "1400229417"),
    ]
    assert (
        expected_signature(call_params, "privatekey", endpoint="call.php")
        == VECTOR_CALL_PASS
    )
    update_params = [
        ("apiID", "pi990000tst"),
        ("knummer", "123456"),
        ("pwd", VECTOR_PWD),
        ("m", "indicator"),
        ("id", "100"),
        ("p", "1"),
        ("f", "json"),
        ("ts", "1400229417"),
    ]
    assert (
        expected_signature(update_params, "privatekey", endpoint="update.php")
        == VECTOR_UPDATE_PASS
    )


async def test_server_accepts_hand_signed_vector(
    session: aiohttp.ClientSession,
) -> None:
    clock = FakeClock(1400229417.0)
    async with VoipcenterSimulator(
        api_id="pi990000tst",
        api_key="privatekey",
        customer_number="123456",
        password="password",
        clock=clock,
    ) as sim:
        assert sim.pwd == VECTOR_PWD
        params = [
            ("apiID", "pi990000tst"),
            ("knummer", "123456"),
            ("pwd", VECTOR_PWD),
            ("m", "sipacc"),
            ("id", "0"),
            ("filter", "bureau"),
            ("f", "json"),
            ("pass", VECTOR_GET_PASS),
            ("ts", "1400229417"),
        ]
        _, content_type, text = await send(session, sim, "get.php", params)
        assert content_type == JSON_TYPE
        answer = json.loads(text)
        assert "head" not in answer
        assert all(v["logname"].startswith("Bureau") for v in answer.values())
        signed = sim.signed_params("get.php", [("m", "sipacc"), ("id", "0")])
        assert dict(signed)["pass"] == VECTOR_GET_PASS


# ------------------------------------------------------------------ reads


async def test_sipacc_list_detail_and_filter(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    listing = await get(session, sim, "sipacc")
    assert len(listing) == 5
    assert set(listing) == {f"id_{i}" for i in sim.sip_accounts}
    for key, fields in listing.items():
        assert set(fields) == SIPACC_KEYS
        assert all(isinstance(v, str) for v in fields.values())
        account = sim.sip_accounts[key.removeprefix("id_")]
        assert fields["SIPusername"] == account.username
        assert fields["DIDout"] in {d.number for d in sim.dids.values()}
    offline = sim.sip_account("sipaccount4")
    assert not offline.online
    assert listing[f"id_{offline.id}"]["SIPping"] == "UNREACHABLE"
    assert listing[f"id_{offline.id}"]["userAgent"] == ""
    online = sim.sip_account("sipaccount1")
    assert listing[f"id_{online.id}"]["SIPping"].startswith("OK (")

    filtered = await get(session, sim, "sipacc", filter_="bureau")
    bureau = [a for a in sim.sip_accounts.values() if "bureau" in a.logname.lower()]
    assert bureau
    assert set(filtered) == {f"id_{a.id}" for a in bureau}
    assert await get(session, sim, "sipacc", filter_="nobody-here") == []

    detail = await get(session, sim, "sipacc", online.id)
    assert detail == {"id": online.id, **listing[f"id_{online.id}"]}
    # filter is only for id=0: ignored on a detail request.
    assert await get(session, sim, "sipacc", online.id, filter_="zzz") == detail


async def test_post_form_and_query_agree(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    by_get = await get(session, sim, "indicator")
    by_post = await call_api(
        session, sim, "get.php", [("m", "indicator"), ("id", "0")], method="POST"
    )
    assert by_post == by_get
    assert by_get == {f"id_{i.id}": i.naam for i in sim.indicators.values()}


async def test_unknown_id_and_bad_values(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    assert body_code(await get(session, sim, "did", "999999")) == "2"
    assert head_code(await get(session, sim, "did", "abc")) == "17"
    assert head_code(await get(session, sim, "nonsense")) == "17"
    assert head_code(await get(session, sim, "calls", filter_="2025-06-15")) == "17"


async def test_other_menus(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    menus = {
        "routes": sim.routes,
        "backuproutes": sim.backup_routes,
        "feestdagen": sim.holidays,
        "vakanties": sim.vacations,
        "kantooruren": sim.office_hours,
        "hdtemplate": sim.hot_desk_templates,
    }
    for menu, items in menus.items():
        listing = await get(session, sim, menu)
        assert listing == {f"id_{i.id}": i.naam for i in items.values()}, menu
        first = next(iter(items.values()))
        detail = await get(session, sim, menu, first.id)
        assert detail["id"] == first.id
        assert detail["naam"] == first.naam
    hours = await get(session, sim, "kantooruren", next(iter(sim.office_hours)))
    assert hours["maandag"] == "08:30-17:30"
    assert hours["zondag"] == ""
    holidays = await get(session, sim, "feestdagen", next(iter(sim.holidays)))
    assert "20250101" in holidays["datums"].split(",")
    desks = await get(session, sim, "hddesk")
    assert desks == {f"id_{d.id}": d.naam for d in sim.hot_desks.values()}
    wskey = await call_api(
        session, sim, "get.php", [("m", "wskey"), ("id", "wsuser")], method="POST"
    )
    assert wskey["username"] == "wsuser"
    assert len(wskey["wskey"]) == 32


async def test_calls_today_and_by_date(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    assert sim.today() == TODAY
    today = await get(session, sim, "calls")
    assert today
    assert set(today) == {f"id_{c.id}" for c in sim.calls_on(TODAY)}
    assert all(v["datum"].startswith("2025-06-15 ") for v in today.values())
    yesterday = await get(session, sim, "calls", filter_=YESTERDAY)
    assert yesterday
    assert set(yesterday).isdisjoint(today)
    assert await get(session, sim, "calls", filter_="20200101") == []
    record = next(iter(today.values()))
    assert set(record) == {
        "id", "datum", "van", "naar", "duur", "richting", "sipaccount", "status",
    }  # fmt: skip
    assert await get(session, sim, "calls", record["id"]) == record


# ------------------------------------------------------------ auth checks


async def test_auth_error_codes(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator, clock: FakeClock
) -> None:
    base = [("m", "sipacc"), ("id", "0")]
    # Every tampered parameter breaks the hash.
    for name in ("pwd", "m", "id", "ts"):
        params = client_params(sim, "get.php", base)
        index = [p[0] for p in params].index(name)
        value = params[index][1]
        params[index] = (name, value + "1" if name != "ts" else str(int(value) - 1))
        _, _, text = await send(session, sim, "get.php", params)
        assert head_code(json.loads(text)) == "14", name
        sim.clear_lockout()
    # A filter can change without breaking the hash (it is not signed).
    params = client_params(sim, "get.php", base, filter_="bureau")
    params[5] = ("filter", "onthaal")
    _, _, text = await send(session, sim, "get.php", params)
    assert "head" not in json.loads(text)

    wrong_pwd = await get(session, sim, "sipacc", pwd=hand_pwd("wrong"))
    assert head_code(wrong_pwd) == "15"
    wrong_key = await get(session, sim, "sipacc", key="not-the-key")
    assert head_code(wrong_key) == "14"
    sim.clear_lockout()

    params = client_params(sim, "get.php", base)
    params[0] = ("apiID", "pi990000other")
    _, _, text = await send(session, sim, "get.php", params)
    assert head_code(json.loads(text)) == "16"
    params = client_params(sim, "get.php", base)
    params[1] = ("knummer", "654321")
    _, _, text = await send(session, sim, "get.php", params)
    assert head_code(json.loads(text)) == "16"

    missing = [p for p in client_params(sim, "get.php", base) if p[0] != "id"]
    _, _, text = await send(session, sim, "get.php", missing)
    assert head_code(json.loads(text)) == "10"
    assert head_code(await get(session, sim, "sipacc", fmt="csv")) == "12"
    params = client_params(sim, "get.php", base)
    params[-1] = ("ts", "soon")
    _, _, text = await send(session, sim, "get.php", params)
    assert head_code(json.loads(text)) == "17"


async def test_timestamp_window(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator, clock: FakeClock
) -> None:
    for skew in (-5, 0, 5):
        answer = await get(session, sim, "indicator", ts=NOW + skew)
        assert "head" not in answer, skew
    for skew in (-6, 6, -3600):
        answer = await get(session, sim, "indicator", ts=NOW + skew)
        assert head_code(answer) == "11", skew
    # The server's clock moves; an old timestamp no longer passes.
    params = client_params(sim, "get.php", [("m", "indicator"), ("id", "0")])
    clock.now += 10
    _, _, text = await send(session, sim, "get.php", params)
    assert head_code(json.loads(text)) == "11"
    assert sim.failed_attempts == []  # clock skew is not an auth failure


async def test_too_many_attempts(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator, clock: FakeClock
) -> None:
    for _ in range(sim.max_attempts):
        assert head_code(await get(session, sim, "did", key="bad")) == "14"
    assert sim.locked
    # Even a correct request is refused while locked.
    assert head_code(await get(session, sim, "did")) == "13"
    clock.now += sim.lockout_seconds - 1
    assert head_code(await get(session, sim, "did")) == "13"
    clock.now += 2
    assert "head" not in await get(session, sim, "did")
    assert sim.locked_until is None
    assert sim.failed_attempts == []

    # Failures spread wider than the window never lock.
    for _ in range(sim.max_attempts - 1):
        assert head_code(await get(session, sim, "did", key="bad")) == "14"
    clock.now += sim.attempt_window + 1
    assert head_code(await get(session, sim, "did", key="bad")) == "14"
    assert "head" not in await get(session, sim, "did")

    sim.lock_out(30)
    assert head_code(await get(session, sim, "did")) == "13"
    sim.clear_lockout()
    assert "head" not in await get(session, sim, "did")


async def test_credential_changes_revoke(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    old = client_params(sim, "get.php", [("m", "did"), ("id", "0")])
    sim.change_password("new-password")
    assert sim.password == "new-password"
    _, _, text = await send(session, sim, "get.php", old)
    assert head_code(json.loads(text)) == "15"
    assert "head" not in await get(session, sim, "did")
    sim.change_api_key("new-key")
    _, _, text = await send(session, sim, "get.php", old)
    assert head_code(json.loads(text)) == "14"
    assert sim.api_key == "new-key"
    assert "head" not in await get(session, sim, "did")


# ----------------------------------------------------------------- writes


async def test_did_update_shows_in_reads(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    listing = await get(session, sim, "did")
    assert listing == {f"id_{d.id}": d.number for d in sim.dids.values()}
    did = next(iter(sim.dids.values()))
    route = list(sim.routes)[2]
    backup = list(sim.backup_routes)[1]
    holiday = next(iter(sim.holidays))
    vacation = list(sim.vacations)[1]
    hours = list(sim.office_hours)[1]
    p = f"f{holiday}|v{vacation}|k{hours}|r{route}|b{backup}"
    assert await update(session, sim, "did", did.id, p) == {
        "head": OK_BLOCK,
        "body": OK_BLOCK,
    }
    detail = await get(session, sim, "did", did.id)
    assert detail == {
        "id": did.id,
        "nummer": did.number,
        "route": route,
        "backuproute": backup,
        "feestdagen": holiday,
        "vakanties": vacation,
        "kantooruren": hours,
    }
    assert sim.did(did.number).route == route

    # The "r=140|b=150" spelling; 0 clears a backup route.
    first_route = next(iter(sim.routes))
    answer = await update(session, sim, "did", did.id, f"r={first_route}|b=0")
    assert answer["body"] == OK_BLOCK
    detail = await get(session, sim, "did", did.id)
    assert (detail["route"], detail["backuproute"]) == (first_route, "0")
    assert detail["kantooruren"] == hours

    # Invalid values change nothing.
    for bad in ("r999", "r0", "x1", "r", "b150|q1", f"r{first_route}|f777"):
        answer = await update(session, sim, "did", did.id, bad)
        assert head_code(answer) == "17", bad
    assert await get(session, sim, "did", did.id) == detail
    assert head_code(await update(session, sim, "did", "999999", "r140")) == "17"
    assert head_code(await update(session, sim, "routes", "140", "1")) == "17"

    digits = did.number[3:7]
    filtered = await get(session, sim, "did", filter_=digits)
    assert f"id_{did.id}" in filtered
    assert all(digits in number for number in filtered.values())


async def test_indicator_toggle(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    ids = list(sim.indicators)
    assert len(ids) == 3
    first, second = ids[0], ids[1]
    assert (await get(session, sim, "indicator", first))["actief"] == "1"
    assert (await get(session, sim, "indicator", second))["actief"] == "0"
    answer = await update(session, sim, "indicator", second, "1")
    assert answer == {"head": OK_BLOCK, "body": OK_BLOCK}
    assert sim.indicator_state(second)
    detail = await get(session, sim, "indicator", second)
    assert detail == {
        "id": second,
        "naam": sim.indicators[second].naam,
        "actief": "1",
    }
    await update(session, sim, "indicator", first, "0")
    assert not sim.indicator_state(first)
    assert (await get(session, sim, "indicator", first))["actief"] == "0"
    sim.set_indicator(first, True)
    assert (await get(session, sim, "indicator", first))["actief"] == "1"
    assert head_code(await update(session, sim, "indicator", first, "2")) == "17"
    assert head_code(await update(session, sim, "indicator", "999", "1")) == "17"
    assert sim.indicator_state(first)


async def test_hot_desk_update(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    desk = next(iter(sim.hot_desks.values()))
    account = list(sim.sip_accounts)[2]
    template = list(sim.hot_desk_templates)[2]
    await update(session, sim, "hddesk", desk.id, f"s{account}|t{template}")
    assert await get(session, sim, "hddesk", desk.id) == {
        "id": desk.id,
        "naam": desk.naam,
        "sipaccount": account,
        "template": template,
    }
    await update(session, sim, "hddesk", desk.id, "s=0")
    assert sim.hot_desk(desk.id).sipaccount == "0"
    assert sim.hot_desk(desk.id).template == template
    assert head_code(await update(session, sim, "hddesk", desk.id, "s1")) == "17"
    assert head_code(await update(session, sim, "hddesk", desk.id, "t999")) == "17"
    assert sim.hot_desk(desk.id).template == template


# ------------------------------------------------------------------ calls


async def test_click_to_call(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    before = len(sim.calls_on(TODAY))
    answer = await call_api(
        session, sim, "call.php", [("sipacc", "sipaccount1"), ("telnr", "021234567")]
    )
    assert answer == {"head": OK_BLOCK, "body": OK_BLOCK}
    assert [(c.sipacc, c.telnr, c.at) for c in sim.calls_placed] == [
        ("sipaccount1", "021234567", NOW)
    ]
    today = await get(session, sim, "calls")
    assert len(today) == before + 1
    placed = [v for v in today.values() if v["naar"] == "021234567"]
    assert placed
    assert placed[0]["richting"] == "uit"
    assert placed[0]["sipaccount"] == "sipaccount1"

    async def code(sipacc: str, telnr: str) -> Any:
        return await call_api(
            session, sim, "call.php", [("sipacc", sipacc), ("telnr", telnr)]
        )

    assert body_code(await code("nobody", "021234567")) == "20"
    assert body_code(await code("sipaccount4", "021234567")) == "21"
    sim.set_online("sipaccount4", True)
    assert (await code("sipaccount4", "3293456789"))["body"] == OK_BLOCK
    assert head_code(await code("sipaccount1", "+3293456789")) == "17"
    assert len(sim.calls_placed) == 2


async def test_backend_down(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    sim.backend_down = True
    assert body_code(await get(session, sim, "sipacc")) == "1"
    answer = await call_api(
        session, sim, "call.php", [("sipacc", "sipaccount1"), ("telnr", "021234567")]
    )
    assert body_code(answer) == "1"
    assert sim.calls_placed == []
    sim.backend_down = False
    assert "head" not in await get(session, sim, "sipacc")


# ------------------------------------------------------- mutators, formats


async def test_mutators_show_in_reads(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    did = sim.add_did("093456789", route=list(sim.routes)[1])
    account = sim.add_sip_account(
        username="receptie", logname="Receptie", did_out="093456789", online=False
    )
    indicator = sim.add_indicator("Storing", active=True)
    desk = sim.add_hot_desk("Flexplek X", sipaccount=account.id)
    call = sim.add_call(van="0470000000", naar="093456789", sipaccount="receptie")
    assert (await get(session, sim, "did"))[f"id_{did.id}"] == "093456789"
    assert sim.did("093456789") is did
    sip = (await get(session, sim, "sipacc"))[f"id_{account.id}"]
    assert sip["logname"] == "Receptie"
    assert sip["SIPping"] == "UNREACHABLE"
    assert (await get(session, sim, "indicator", indicator.id))["actief"] == "1"
    assert (await get(session, sim, "hddesk", desk.id))["sipaccount"] == account.id
    assert (await get(session, sim, "calls"))[f"id_{call.id}"]["van"] == "0470000000"
    with pytest.raises(KeyError):
        sim.did("000")
    with pytest.raises(KeyError):
        sim.sip_account("nobody")


async def test_xml_and_php_formats(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    indicator = next(iter(sim.indicators.values()))
    params = client_params(
        sim, "get.php", [("m", "indicator"), ("id", indicator.id)], fmt="xml"
    )
    _, content_type, text = await send(session, sim, "get.php", params)
    assert content_type.startswith("text/xml")
    assert f"<naam>{indicator.naam}</naam>" in text
    assert "<actief>1</actief>" in text
    params = client_params(
        sim, "get.php", [("m", "indicator"), ("id", indicator.id)], fmt="php"
    )
    _, _, text = await send(session, sim, "get.php", params)
    assert text.startswith("a:3:{")
    assert 's:6:"actief";s:1:"1";' in text


# ------------------------------------------------------ framework hooks


async def test_faults_and_counters(
    session: aiohttp.ClientSession, sim: VoipcenterSimulator
) -> None:
    sim.inject(Fault.AUTH_REVOKED, count=1)
    assert head_code(await get(session, sim, "sipacc")) == "15"
    sim.inject(Fault.TRUNCATED, count=1, actions=["get:did"])
    params = client_params(sim, "get.php", [("m", "did"), ("id", "0")])
    _, _, text = await send(session, sim, "get.php", params)
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    sim.inject(Fault.SERVER_ERROR, count=1, actions=["call"])
    params = client_params(
        sim, "call.php", [("sipacc", "sipaccount1"), ("telnr", "021234567")]
    )
    status, _, _ = await send(session, sim, "call.php", params)
    assert status == 500
    assert sim.calls_placed == []
    sim.inject(Fault.MALFORMED, count=1)
    params = client_params(sim, "update.php", [("m", "indicator"), ("id", "100")])
    status, _, text = await send(session, sim, "update.php", params, method="POST")
    assert status == 200
    assert text.startswith("<!DOCTYPE html>")
    assert sim.requests_by_action["get:sipacc"] == 1
    assert sim.requests_by_action["get:did"] == 1
    assert sim.requests_by_action["call"] == 1
    assert sim.requests_by_action["update:indicator"] == 1
    async with session.get(f"{sim.url}/_sim/state") as resp:
        state = await resp.json()
    assert state["vendor"] == "voipcenter"
    assert state["sip_accounts"] == 5
    assert state["request_count"] == 4
    async with session.get(f"{sim.url}/api/other.php") as resp:
        assert resp.status == 404


async def test_from_cli_and_banner() -> None:
    options = argparse.Namespace(
        vendor="voipcenter",
        host="127.0.0.1",
        port=0,
        seed=4,
        extensions=7,
        dids=2,
        multi_tenant=False,
        tenants=2,
        api_key="cli-key",
    )
    sim = VoipcenterSimulator.from_cli(options)
    assert len(sim.sip_accounts) == 7
    assert len(sim.dids) == 2
    assert sim.api_key == "cli-key"
    assert sim.seed == 4
    default = VoipcenterSimulator.from_cli(argparse.Namespace(seed=1))
    assert len(default.sip_accounts) == 5
    assert default.api_key
    async with sim:
        lines = "\n".join(sim.banner())
        assert f"{sim.url}/api/" in lines
        for secret in (sim.api_id, sim.api_key, sim.customer_number, sim.password):
            assert secret in lines
    # Same seed, same data.
    again = VoipcenterSimulator.from_cli(options)
    assert [a.as_json() for a in again.sip_accounts.values()] == [
        a.as_json() for a in sim.sip_accounts.values()
    ]
    assert abs(VoipcenterSimulator().clock() - time.time()) < 5

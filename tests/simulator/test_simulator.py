"""The PBXware simulator and the shared simulator framework, over plain HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import json
import time
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from simulator import VENDORS, Fault, PbxwareSimulator, SimulatorBase, __main__ as cli
from simulator.core import ActiveFault
from simulator.pbxware import DEST_TYPES, Extension

pytestmark = pytest.mark.slow

EXT_LIST_KEYS = {
    "name", "email", "protocol", "ext", "location", "ua_id", "ua_name",
    "ua_fullname", "status", "macaddress", "sn", "linenum", "user_location",
    "department",
}  # fmt: skip
DID_KEYS = {
    "number", "number2", "server", "trunk", "type", "ext", "status", "e164",
    "e164_2", "sms_enabled",
}  # fmt: skip


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def sim() -> AsyncIterator[PbxwareSimulator]:
    async with PbxwareSimulator(extensions=10, seed=1) as simulator:
        yield simulator


@pytest.fixture
async def mt_sim() -> AsyncIterator[PbxwareSimulator]:
    async with PbxwareSimulator(extensions=4, multi_tenant=True, seed=2) as simulator:
        yield simulator


async def raw(
    session: aiohttp.ClientSession,
    sim: SimulatorBase,
    action: str | None,
    *,
    method: str = "GET",
    path: str = "/index.php",
    apikey: str | None = None,
    **params: str,
) -> tuple[int, str, str]:
    """Status, content type and body text of one API request."""
    query = dict(params)
    if action is not None:
        query["action"] = action
    key = apikey if apikey is not None else getattr(sim, "api_key", "")
    if key:
        query["apikey"] = key
    kwargs: dict[str, Any] = {"params": query} if method == "GET" else {"data": query}
    async with session.request(method, f"{sim.url}{path}", **kwargs) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def api(
    session: aiohttp.ClientSession, sim: PbxwareSimulator, action: str, **params: str
) -> Any:
    status, content_type, text = await raw(session, sim, action, **params)
    assert status == 200
    assert content_type == "text/html; charset=UTF-8"
    return json.loads(text)


def url_of(sim: SimulatorBase) -> str | None:
    """The URL, read through a call so that mypy does not narrow it."""
    return sim.url


# ------------------------------------------------------------------ shapes


async def test_dashboard_shapes(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    tenant = sim.tenant()
    exts = list(tenant.extensions.values())
    online = await api(session, sim, "pbxware.dashboard.ext_online")
    assert online == {
        "type": "Extensions Online",
        "count": str(sum(e.registered for e in exts)),
    }
    assert 0.6 <= int(online["count"]) / len(exts) <= 0.8
    cpu = await api(session, sim, "pbxware.dashboard.cpu")
    memory = await api(session, sim, "pbxware.dashboard.memory")
    disk = await api(session, sim, "pbxware.dashboard.disk_usage")
    assert cpu == {"inuse": f"{sim.cpu}%"}
    assert memory == {"inuse": str(sim.memory)}
    assert disk == {"inuse": f"{sim.disk} %"}

    calls = await api(session, sim, "pbxware.dashboard.calls")
    assert set(calls) == {"now", "last hour", "today", "answared calls"}
    assert all(isinstance(v, int) for v in calls.values())
    assert calls["now"] == len(tenant.calls) > 0
    assert calls["today"] >= calls["last hour"] >= calls["now"]

    regs = (await api(session, sim, "pbxware.dashboard.sip_registrations"))[
        "SIP Registrations"
    ]
    enabled = [e for e in exts if e.enabled]
    assert regs["success"] + regs["lagged"] == sum(e.registered for e in enabled)
    assert regs["failed"] == sum(not e.registered for e in enabled)
    assert regs["lagged"] == 1

    licensing = await api(session, sim, "pbxware.dashboard.licensing")
    assert set(licensing) == {"ext", "ivr", "queue", "conference"}
    assert licensing["ext"] == {"inuse": 10, "max": 50}

    services = await api(session, sim, "pbxware.dashboard.services")
    assert set(services.values()) == {"running"}
    sim.tenant().services["asterisk"] = "stopped"
    services = await api(session, sim, "pbxware.dashboard.services")
    assert services["asterisk"] == "stopped"


async def test_license_and_tenant_list(
    session: aiohttp.ClientSession, sim: PbxwareSimulator, mt_sim: PbxwareSimulator
) -> None:
    info = await api(session, sim, "pbxware.license.info")
    assert info["Edition"] == "Business"
    assert info["Version"].startswith("7.2 (build")
    assert info["Channels"] == "512"
    assert all(isinstance(v, str) for v in info.values())
    assert await api(session, sim, "pbxware.tenant.list") == []

    info = await api(session, mt_sim, "pbxware.license.info")
    assert info["Edition"] == "Multi-Tenant"
    tenants = await api(session, mt_sim, "pbxware.tenant.list")
    assert list(tenants) == ["2", "3"]
    for tenant in tenants.values():
        assert isinstance(tenant["name"], str)
        assert isinstance(tenant["tenantcode"], str)
        assert isinstance(tenant["package"], str)
        for key in ("package_id", "ext_length", "country_id", "country_code"):
            assert isinstance(tenant[key], int)


async def test_extension_and_monitor_lists(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    tenant = sim.tenant()
    exts = await api(session, sim, "pbxware.ext.list", server="1")
    assert list(exts) == list(tenant.extensions)
    for item in exts.values():
        assert set(item) == EXT_LIST_KEYS
        assert all(isinstance(v, str) for v in item.values())
    assert {i["status"] for i in exts.values()} == {"enabled", "disabled"}
    assert len({i["email"] for i in exts.values()}) == len(exts)

    monitor = await api(session, sim, "pbxware.monitor.list")
    statuses = set()
    falsy: set[str] = set()
    for ext_id, item in monitor.items():
        ext = tenant.extensions[ext_id]
        assert set(item) == {"name", "ext", "ip", "status", "ua", "dnd", "on_call"}
        if ext.registered:
            assert item["status"].startswith(("OK (", "LAGGED (")), item
            assert item["status"].endswith(" ms)")
            assert item["ip"]
            assert item["ua"]
        else:
            assert item["status"] in ("UNKNOWN", "UNREACHABLE")
            assert item["ip"] == ""
        assert item["dnd"] is True if ext.dnd else item["dnd"] in ("", False)
        assert item["on_call"] is True if ext.on_call else not item["on_call"]
        statuses.add(item["status"].split(" ")[0])
        falsy.update(repr(item[k]) for k in ("dnd", "on_call") if item[k] is not True)
    assert statuses == {"OK", "LAGGED", "UNKNOWN", "UNREACHABLE"}
    assert falsy == {"''", "False"}
    assert any(e.dnd for e in tenant.extensions.values())

    calls = await api(session, sim, "pbxware.monitor.live_calls")
    on_call = {e.ext for e in tenant.extensions.values() if e.on_call}
    assert {c["from"] for c in calls.values()} == on_call
    for call in calls.values():
        assert isinstance(call["to"], str)
        assert isinstance(call["timestamp"], int)
        assert call["timestamp"] <= time.time()


async def test_empty_tenant(session: aiohttp.ClientSession) -> None:
    async with PbxwareSimulator(extensions=0, dids=0) as sim:
        for action in ("pbxware.ext.list", "pbxware.monitor.list", "pbxware.did.list"):
            assert await api(session, sim, action) == []
        status, content_type, text = await raw(
            session, sim, "pbxware.monitor.live_calls"
        )
        assert (status, text) == (200, "Live Calls: 0")
        assert content_type.startswith("text/html")
        online = await api(session, sim, "pbxware.dashboard.ext_online")
        assert online["count"] == "0"


async def test_extensions_and_calls_change(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    new = sim.add_extension(name="Test User", ext="555", registered=True, dnd=True)
    assert isinstance(new, Extension)
    assert new.email == "test.user@example.com"
    again = sim.add_extension(name="Test User")
    assert again.email.startswith("test.user.")
    monitor = await api(session, sim, "pbxware.monitor.list")
    assert monitor[new.id]["ext"] == "555"
    assert monitor[new.id]["dnd"] is True

    call = sim.start_call(new.id, "0201234567")
    assert (await api(session, sim, "pbxware.monitor.list"))[new.id]["on_call"] is True
    calls = await api(session, sim, "pbxware.monitor.live_calls")
    assert calls[call.id] == {
        "from": "555",
        "to": "0201234567",
        "timestamp": call.timestamp,
    }
    sim.end_call(call.id)
    assert not new.on_call
    sim.start_call(new.id, "0201234567")
    sim.remove_extension(new.id)
    sim.remove_extension(again.id)
    exts = await api(session, sim, "pbxware.ext.list")
    assert new.id not in exts
    calls = await api(session, sim, "pbxware.monitor.live_calls")
    assert all(c["from"] != "555" for c in calls.values())
    with pytest.raises(KeyError):
        sim.remove_extension(new.id)

    tenant = sim.tenant()
    for call_id in list(tenant.calls):
        sim.end_call(call_id)
    assert not any(e.on_call for e in tenant.extensions.values())
    _, _, text = await raw(session, sim, "pbxware.monitor.live_calls")
    assert text == "Live Calls: 0"


# --------------------------------------------------------------------- DND


async def test_dnd_get_set(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext = next(e for e in sim.tenant().extensions.values() if not e.dnd)
    assert await api(session, sim, "pbxware.ext.es.dnd.get", id=ext.id) == {
        "state": "no"
    }
    answer = await api(session, sim, "pbxware.ext.es.dnd.set", id=ext.id, state="yes")
    assert answer["state"] == "yes"
    assert isinstance(answer["success"], str)
    assert ext.dnd
    assert (await api(session, sim, "pbxware.ext.es.dnd.get", id=ext.id))[
        "state"
    ] == "yes"
    monitor = await api(session, sim, "pbxware.monitor.list")
    assert monitor[ext.id]["dnd"] is True

    status, _, text = await raw(
        session, sim, "pbxware.ext.es.dnd.set", method="POST", id=ext.id, state="no"
    )
    assert status == 200
    assert json.loads(text)["state"] == "no"
    monitor = await api(session, sim, "pbxware.monitor.list")
    assert monitor[ext.id]["dnd"] in ("", False)

    for params in (
        {"id": ext.id, "state": "maybe"},
        {"id": ext.id},
        {"id": "9999", "state": "yes"},
        {"id": "abc", "state": "yes"},
        {"state": "yes"},
    ):
        answer = await api(session, sim, "pbxware.ext.es.dnd.set", **params)
        assert set(answer) == {"error"}, params
    assert "error" in await api(session, sim, "pbxware.ext.es.dnd.get", id="9999")


# --------------------------------------------------------------------- DIDs


async def test_did_list_and_edit(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    dids = await api(session, sim, "pbxware.did.list")
    assert list(dids) == ["1", "2", "3", "4", "5"]
    for item in dids.values():
        assert set(item) == DID_KEYS
        assert item["server"] == "1"
        assert item["status"] in ("enabled", "disabled")
        assert item["number2"] is None or isinstance(item["number2"], str)
        assert item["sms_enabled"] in (None, "1", "0")
        assert item["type"] in DEST_TYPES.values()
    assert {i["status"] for i in dids.values()} == {"enabled", "disabled"}

    first = dids["1"]["ext"]
    filtered = await api(session, sim, "pbxware.did.list", ext=f"{first},999")
    assert filtered
    assert all(item["ext"] == first for item in filtered.values())
    assert await api(session, sim, "pbxware.did.list", ext="424242") == []
    assert "error" in await api(session, sim, "pbxware.did.list", ext="12a")

    answer = await api(
        session,
        sim,
        "pbxware.did.edit",
        id="2",
        dest_type="4",
        destination="801",
        disabled="1",
        did2="31201234599",
        codec="alawulaw",
    )
    assert answer == {"success": "DID ID: 2.", "id": "2"}
    edited = (await api(session, sim, "pbxware.did.list"))["2"]
    assert (edited["type"], edited["ext"], edited["status"]) == (
        "Queues",
        "801",
        "disabled",
    )
    assert edited["number2"] == "31201234599"
    assert sim.tenant().dids["2"].dest_type == 4
    await api(session, sim, "pbxware.did.edit", id="2", disabled="0", did2="")
    edited = (await api(session, sim, "pbxware.did.list"))["2"]
    assert edited["status"] == "enabled"
    assert edited["number2"] is None

    for params in (
        {"id": "2", "dest_type": "10"},
        {"id": "2", "destination": "12ab"},
        {"id": "2", "disabled": "yes"},
        {"id": "2", "codec": "mp3"},
        {"id": "77", "destination": "100"},
        {"id": "x"},
        {},
    ):
        answer = await api(session, sim, "pbxware.did.edit", **params)
        assert set(answer) == {"error"}, params
    assert sim.tenant().dids["2"].destination == "801"


# ------------------------------------------------------ auth and transport


async def test_auth_and_routing(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    for apikey in ("wrong-key-123", ""):
        status, _, text = await raw(
            session, sim, "pbxware.ext.list", apikey=apikey or "x"
        )
        assert (status, json.loads(text)) == (200, {"error": "Invalid API key."})
    status, _, text = await raw(session, sim, "pbxware.ext.list", path="/", apikey="")
    assert json.loads(text) == {"error": "Invalid API key."}

    for action in ("pbxware.nothing.here", None):
        status, _, text = await raw(session, sim, action)
        assert status == 200
        assert set(json.loads(text)) == {"error"}

    status, _, text = await raw(
        session, sim, "pbxware.dashboard.cpu", method="POST", path="/", apiformat="php"
    )
    assert json.loads(text) == {"inuse": f"{sim.cpu}%"}

    # Form fields override the query string, like PHP's $_REQUEST.
    async with session.post(
        f"{sim.url}/index.php",
        params={"apikey": "wrong-key-123", "action": "pbxware.dashboard.cpu"},
        data={"apikey": sim.api_key, "action": "pbxware.dashboard.memory"},
    ) as resp:
        assert json.loads(await resp.text()) == {"inuse": str(sim.memory)}
    assert sim.requests_by_action["pbxware.dashboard.memory"] == 1

    async with session.get(f"{sim.url}/elsewhere") as resp:
        assert resp.status == 404


async def test_json_is_php_style(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.tenant().extensions["1"].name = "Zoë / Sales"
    _, _, text = await raw(session, sim, "pbxware.ext.list")
    assert '"Zo\\u00eb \\/ Sales"' in text
    assert ", " not in text.split('"name"')[0]
    assert json.loads(text)["1"]["name"] == "Zoë / Sales"


async def test_multi_tenant_server_rules(
    session: aiohttp.ClientSession, mt_sim: PbxwareSimulator
) -> None:
    scoped = (
        "pbxware.ext.list",
        "pbxware.monitor.list",
        "pbxware.monitor.live_calls",
        "pbxware.did.list",
        "pbxware.did.edit",
        "pbxware.ext.es.dnd.get",
        "pbxware.ext.es.dnd.set",
    )
    for action in scoped:
        for server in (None, "1", "42"):
            params = {} if server is None else {"server": server}
            answer = await api(session, mt_sim, action, id="1", state="yes", **params)
            assert set(answer) == {"error"}, (action, server)

    second, third = mt_sim.tenant("2"), mt_sim.tenant("3")
    assert mt_sim.tenant() is second
    assert set(second.extensions).isdisjoint(third.extensions)
    exts = await api(session, mt_sim, "pbxware.ext.list", server="3")
    assert list(exts) == list(third.extensions)
    assert all(e["email"].endswith("@globex.example.com") for e in exts.values())
    other_id = next(iter(second.extensions))
    answer = await api(
        session, mt_sim, "pbxware.ext.es.dnd.get", server="3", id=other_id
    )
    assert "error" in answer
    dids = await api(session, mt_sim, "pbxware.did.list", server="3")
    assert {d["server"] for d in dids.values()} == {"3"}
    did_id = next(iter(dids))
    assert "error" in await api(
        session, mt_sim, "pbxware.did.edit", server="2", id=did_id
    )

    total = await api(session, mt_sim, "pbxware.dashboard.ext_online")
    master = await api(session, mt_sim, "pbxware.dashboard.ext_online", server="1")
    parts = [
        int(
            (await api(session, mt_sim, "pbxware.dashboard.ext_online", server=s))[
                "count"
            ]
        )
        for s in ("2", "3")
    ]
    assert int(total["count"]) == int(master["count"]) == sum(parts)
    licensing = await api(session, mt_sim, "pbxware.dashboard.licensing")
    assert licensing["ext"]["inuse"] == 8
    calls = await api(session, mt_sim, "pbxware.dashboard.calls", server="3")
    assert calls["now"] == len(third.calls)
    assert "error" in await api(session, mt_sim, "pbxware.dashboard.calls", server="9")

    new = mt_sim.add_extension("3", name="Third Tenant")
    assert new.id in (await api(session, mt_sim, "pbxware.ext.list", server="3"))
    assert mt_sim.describe()["multi_tenant"] is True
    assert any("server=3" in line for line in mt_sim.banner())


async def test_many_tenants_are_named() -> None:
    sim = PbxwareSimulator(extensions=1, dids=0, multi_tenant=True, tenants=6)
    assert list(sim.tenants) == ["2", "3", "4", "5", "6", "7"]
    assert len({t.name for t in sim.tenants.values()}) == 6
    assert len({t.tenantcode for t in sim.tenants.values()}) == 6


async def test_seed_is_reproducible() -> None:
    first, second = PbxwareSimulator(seed=7), PbxwareSimulator(seed=7)
    other = PbxwareSimulator(seed=8)

    def snapshot(sim: PbxwareSimulator) -> list[Any]:
        return [
            (e.name, e.registered, e.dnd, e.on_call, e.ip)
            for e in sim.tenant().extensions.values()
        ]

    assert snapshot(first) == snapshot(second)
    assert snapshot(first) != snapshot(other)


# ------------------------------------------------------------------- faults


async def test_latency_fault(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.inject(Fault.LATENCY, latency=0.15, count=1)
    started = time.monotonic()
    assert await api(session, sim, "pbxware.dashboard.cpu")
    assert time.monotonic() - started >= 0.15
    assert sim.active_faults == []


async def test_late_answer_is_read_before_the_pause(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    """The answer holds DND as it was when the request came, not when it
    leaves: a write during the pause is not in it.
    """
    ext = next(iter(sim.tenant().extensions.values()))
    ext.dnd = False
    sim.inject(Fault.LATE_ANSWER, latency=0.2, count=1)
    answer = asyncio.ensure_future(
        api(session, sim, "pbxware.ext.es.dnd.get", id=ext.id)
    )
    await asyncio.sleep(0.1)  # answered by now, and held for 0.2 s
    assert sim.in_flight == 1
    ext.dnd = True
    assert await answer == {"state": "no"}


async def test_in_flight_gauge(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.inject(Fault.LATENCY, latency=0.1)
    await asyncio.gather(
        *(api(session, sim, "pbxware.dashboard.cpu") for _ in range(3))
    )
    assert sim.max_in_flight == 3
    assert sim.in_flight == 0
    assert sim.state()["max_in_flight"] == 3
    sim.reset_counters()
    await api(session, sim, "pbxware.dashboard.cpu")
    await api(session, sim, "pbxware.dashboard.cpu")
    assert sim.max_in_flight == 1


async def test_timeout_fault(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.inject(Fault.TIMEOUT)
    with pytest.raises(asyncio.TimeoutError):
        await session.get(
            f"{sim.url}/index.php",
            params={"apikey": sim.api_key, "action": "pbxware.dashboard.cpu"},
            timeout=aiohttp.ClientTimeout(total=0.2),
        )
    started = time.monotonic()
    await sim.stop()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        (Fault.SERVER_ERROR, 500, lambda t: "500 Internal Server Error" in t),
        (
            Fault.AUTH_REVOKED,
            200,
            lambda t: json.loads(t) == {"error": "Invalid API key."},
        ),
        (Fault.MALFORMED, 200, lambda t: t.startswith("<!DOCTYPE html>")),
        (Fault.PHP_WARNING_ONLY, 200, lambda t: "<b>Notice</b>" in t and "{" not in t),
    ],
)
async def test_error_faults(
    session: aiohttp.ClientSession,
    sim: PbxwareSimulator,
    fault: Fault,
    status: int,
    check: Any,
) -> None:
    sim.inject(fault, count=1)
    got_status, _, text = await raw(session, sim, "pbxware.ext.list")
    assert got_status == status
    assert check(text)
    assert set(await api(session, sim, "pbxware.dashboard.cpu")) == {"inuse"}


async def test_rate_limit_fault(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.inject(Fault.RATE_LIMIT, count=1, retry_after=30)
    sim.inject(Fault.RATE_LIMIT, count=1)
    url = f"{sim.url}/index.php?apikey={sim.api_key}&action=pbxware.dashboard.cpu"
    async with session.get(url) as resp:
        assert resp.status == 429
        assert "Retry-After" not in resp.headers
    async with session.get(url) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "30"
    async with session.get(url) as resp:
        assert resp.status == 200


async def test_body_faults(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    _, _, normal = await raw(session, sim, "pbxware.ext.list")
    sim.inject(Fault.TRUNCATED, count=1)
    _, _, text = await raw(session, sim, "pbxware.ext.list")
    assert text == normal[: len(normal.encode()) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)

    sim.inject(Fault.PHP_WARNING, count=1)
    _, content_type, text = await raw(session, sim, "pbxware.ext.list")
    assert text.startswith("<br />\n<b>Warning</b>:  Undefined index")
    assert "on line <b>42</b><br />\n" in text
    assert text.endswith(normal)
    assert content_type == "text/html; charset=UTF-8"

    # A truncated write is still a write.
    ext_id = next(iter(sim.tenant().extensions))
    sim.inject(Fault.TRUNCATED, count=1)
    await raw(session, sim, "pbxware.ext.es.dnd.set", id=ext_id, state="yes")
    assert sim.tenant().extensions[ext_id].dnd


async def test_fault_scoping_counts_and_counters(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.inject(Fault.SERVER_ERROR, count=2, actions=["pbxware.monitor.list"])
    assert (await raw(session, sim, "pbxware.ext.list"))[0] == 200
    assert (await raw(session, sim, "pbxware.monitor.list"))[0] == 500
    assert (await raw(session, sim, None))[0] == 200
    assert (await raw(session, sim, "pbxware.monitor.list"))[0] == 500
    assert (await raw(session, sim, "pbxware.monitor.list"))[0] == 200

    # The newest matching fault wins; an unlimited one stays until cleared.
    sim.inject(Fault.MALFORMED)
    sim.inject(Fault.SERVER_ERROR, count=1)
    assert (await raw(session, sim, "pbxware.ext.list"))[0] == 500
    for _ in range(2):
        assert (await raw(session, sim, "pbxware.ext.list"))[2].startswith("<!DOCTYPE")
    sim.clear_faults()
    assert (await raw(session, sim, "pbxware.ext.list"))[2].startswith("{")

    assert sim.request_count == 9
    assert sim.requests_by_action["pbxware.monitor.list"] == 3
    assert sim.requests_by_action["pbxware.ext.list"] == 5
    sim.reset_counters()
    assert sim.request_count == 0
    assert not sim.requests_by_action

    with pytest.raises(ValueError, match="count"):
        sim.inject(Fault.LATENCY, count=0)
    with pytest.raises(ValueError, match="latency"):
        sim.inject(Fault.LATENCY, latency=-1)


async def test_control_endpoints(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    await api(session, sim, "pbxware.dashboard.cpu")
    async with session.post(
        f"{sim.url}/_sim/fault",
        json={
            "fault": "rate_limit",
            "count": 1,
            "retry_after": 5,
            "actions": ["pbxware.ext.list"],
        },
    ) as resp:
        assert resp.status == 200
        state = await resp.json()
    assert state["faults"] == [
        {
            "fault": "rate_limit",
            "remaining": 1,
            "latency": 0.5,
            "retry_after": 5,
            "actions": ["pbxware.ext.list"],
        }
    ]
    assert (await raw(session, sim, "pbxware.ext.list"))[0] == 429

    async with session.post(f"{sim.url}/_sim/fault", json={"fault": "malformed"}):
        pass
    async with session.get(f"{sim.url}/_sim/state") as resp:
        state = await resp.json()
    assert state["vendor"] == "pbxware"
    assert state["request_count"] == 2
    assert state["requests_by_action"] == {
        "pbxware.dashboard.cpu": 1,
        "pbxware.ext.list": 1,
    }
    assert [f["fault"] for f in state["faults"]] == ["malformed"]
    assert state["tenants"]["1"]["extensions"] == 10

    async with session.post(f"{sim.url}/_sim/clear") as resp:
        assert (await resp.json())["faults"] == []
    async with session.post(f"{sim.url}/_sim/reset_counters") as resp:
        assert (await resp.json())["request_count"] == 0

    for body in (
        {"fault": "nope"},
        {"count": 1},
        ["latency"],
        {"fault": "latency", "count": "2"},
        {"fault": "latency", "latency": "slow"},
        {"fault": "latency", "retry_after": 1.5},
        {"fault": "latency", "actions": "pbxware.ext.list"},
        {"fault": "latency", "count": 0},
    ):
        async with session.post(f"{sim.url}/_sim/fault", json=body) as resp:
            assert resp.status == 400, body
            assert "error" in await resp.json()
    async with session.post(f"{sim.url}/_sim/fault", data="not json") as resp:
        assert resp.status == 400
    assert sim.request_count == 0
    assert sim.active_faults == []


# ---------------------------------------------------------------- framework


async def test_base_class_defaults(session: aiohttp.ClientSession) -> None:
    base = SimulatorBase(seed=3)
    async with base:
        assert base.url is not None
        assert base.banner() == [f"base simulator listening on {base.url}"]
        with pytest.raises(RuntimeError):
            await base.start()
        async with session.get(f"{base.url}/anything") as resp:
            assert resp.status == 404
        base.inject(Fault.AUTH_REVOKED, count=1)
        async with session.get(f"{base.url}/anything") as resp:
            assert resp.status == 401
        base.inject(Fault.TRUNCATED, count=1)
        async with session.get(f"{base.url}/anything") as resp:
            assert resp.status == 404
        assert base.requests_by_action == {"GET /anything": 3}
        port = int(base.url.rsplit(":", 1)[1])
        with pytest.raises(OSError, match=r"(?i)in use"):
            await SimulatorBase().start(port=port)
    assert url_of(base) is None

    assert SimulatorBase.from_cli(cli.parse_args(["pbxware", "--seed", "9"])).seed == 9
    assert set(base.state()) == {
        "vendor",
        "request_count",
        "requests_by_action",
        "max_in_flight",
        "faults",
    }

    streamed = web.StreamResponse()
    assert base._rewrite(Fault.TRUNCATED, streamed) is streamed
    assert ActiveFault(Fault.LATENCY, actions=frozenset({"a"})).matches(None) is False


def test_cli_parsing() -> None:
    assert set(VENDORS) == {
        "pbxware",
        "voipcloud",
        "voipcenter",
        "tariscope",
        "tim4biz",
    }
    options = cli.parse_args(
        [
            "pbxware",
            "--port",
            "8099",
            "--extensions",
            "12",
            "--multi-tenant",
            "--api-key",
            "my-secret-key-1",
            "--seed",
            "5",
        ]
    )
    assert (options.vendor, options.port, options.host) == (
        "pbxware",
        8099,
        "127.0.0.1",
    )
    sim = cli.create_simulator(options)
    assert isinstance(sim, PbxwareSimulator)
    assert sim.api_key == "my-secret-key-1"
    assert sim.multi_tenant
    assert sim.seed == 5
    assert len(sim.tenant("2").extensions) == 12

    defaults = cli.create_simulator(cli.parse_args(["pbxware"]))
    assert isinstance(defaults, PbxwareSimulator)
    assert defaults.api_key == "sim-pbxware-0123456789"
    assert not defaults.multi_tenant
    with pytest.raises(SystemExit):
        cli.parse_args(["nosuchvendor"])


async def test_cli_serve(capsys: pytest.CaptureFixture[str]) -> None:
    sim = PbxwareSimulator(extensions=2)
    stop = asyncio.Event()
    stop.set()
    await cli.serve(sim, "127.0.0.1", 0, stop)
    out = capsys.readouterr().out
    assert "pbxware simulator listening on http://127.0.0.1:" in out
    assert "API key: sim-pbxware-0123456789" in out
    assert url_of(sim) is None


def test_cli_main(monkeypatch: pytest.MonkeyPatch) -> None:
    async def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "serve", interrupted)
    assert cli.main(["pbxware", "--port", "0"]) == 0


async def test_stop_waits_for_then_cancels_requests_in_flight(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(SimulatorBase, "stop_grace", 0.05)
    sim = SimulatorBase()
    waking = asyncio.create_task(sim._pause(30))
    stuck = asyncio.create_task(asyncio.sleep(30))
    sim._inflight.update({waking, stuck})
    await sim.stop()
    assert waking.done()
    assert not waking.cancelled()
    assert stuck.cancelled()


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_every_vendor_builds_from_the_command_line(vendor: str) -> None:
    """The shared options make a simulator of every vendor, as scripts/develop
    starts them.
    """
    simulator = cli.create_simulator(cli.parse_args([vendor, "--extensions", "3"]))
    assert simulator.vendor == vendor


def test_scale_options_size_every_vendor() -> None:
    """The benchmark's sizes reach each simulator from the command line."""
    scale = ["--extensions", "40", "--queues", "4", "--ring-groups", "3"]
    scale += ["--indicators", "6", "--hot-desks", "5", "--departments", "7"]
    scale += ["--nodes", "3", "--rate-limit", "500", "--frozen-clock"]
    voipcloud = cli.create_simulator(cli.parse_args(["voipcloud", *scale]))
    assert (len(voipcloud.users), len(voipcloud.queues)) == (40, 4)  # type: ignore[attr-defined]
    assert len(voipcloud.ring_groups) == 3  # type: ignore[attr-defined]
    assert voipcloud.rate_limit == 500  # type: ignore[attr-defined]
    first = voipcloud.now()  # type: ignore[attr-defined]
    time.sleep(0.01)
    assert voipcloud.now() == first  # type: ignore[attr-defined]
    voipcenter = cli.create_simulator(cli.parse_args(["voipcenter", *scale]))
    assert len(voipcenter.indicators) == 6  # type: ignore[attr-defined]
    assert len(voipcenter.hot_desks) == 5  # type: ignore[attr-defined]
    tariscope = cli.create_simulator(cli.parse_args(["tariscope", *scale]))
    assert len(tariscope.departments) == 7  # type: ignore[attr-defined]
    assert len(tariscope.nodes) == 3  # type: ignore[attr-defined]
    assert len(tariscope.subscribers) == 40  # type: ignore[attr-defined]
    tim4biz = cli.create_simulator(cli.parse_args(["tim4biz", *scale]))
    assert (tim4biz.hourly_limit, tim4biz.daily_limit) == (500, 5000)  # type: ignore[attr-defined]


def test_a_large_voipcloud_office_gets_distinct_user_names() -> None:
    """More users than first and last names combine: every name still unique."""
    sim = cli.create_simulator(cli.parse_args(["voipcloud", "--extensions", "3000"]))
    names = [user.name for user in sim.users]  # type: ignore[attr-defined]
    assert len(set(names)) == 3000
    numbers = [user.number for user in sim.users]  # type: ignore[attr-defined]
    assert len(set(numbers)) == 3000

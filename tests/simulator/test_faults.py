"""The faults of the reliability matrix, in every simulator, over plain HTTP.

Each simulator is asked for one of its ordinary reads; the faults change that
answer (or refuse it) the way ``simulator.core.Fault`` documents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import time
from typing import Any

import aiohttp
import pytest

from simulator import (
    Fault,
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)
from simulator.core import (
    DRIP_CHUNKS,
    HUGE_BODY_BYTES,
    loose_types,
    malformed_json,
    missing_keys,
    swapped_types,
    wrong_shapes,
)

from .test_voipcenter import client_params

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Read:
    """One ordinary read of a simulator, as a plain HTTP request."""

    method: str
    path: str
    kwargs: dict[str, Any]


async def _tariscope_read(
    session: aiohttp.ClientSession, sim: TariscopeSimulator
) -> Read:
    async with session.post(
        f"{sim.url}/api/auth",
        json={"username": sim.username, "password": sim.password},
    ) as resp:
        token = (await resp.json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    department = next(iter(sim.subscribers.values())).department_id
    return Read(
        "GET",
        "/api/subscriber/list/department",
        {"headers": headers, "params": {"id": str(department)}},
    )


def _voipcenter_read(sim: VoipcenterSimulator, fmt: str = "json") -> Read:
    """Today's calls (the fast poll): ids and durations that loose types send
    as numbers, where the SIP accounts hold no number or id-like text to change.
    """
    params = client_params(
        sim, "get.php", [("m", "calls"), ("id", "0")], fmt=fmt, filter_=sim.today()
    )
    return Read("GET", "/api/get.php", {"params": params})


NOON = datetime(2026, 11, 25, 20, tzinfo=UTC)
"""A fixed clock, so that two answers to one read are the same."""

SIMULATORS: dict[str, Callable[[], SimulatorBase]] = {
    "pbxware": lambda: PbxwareSimulator(extensions=3, seed=1),
    "voipcloud": lambda: VoipcloudSimulator(clock=lambda: NOON, generate=False, seed=5),
    "voipcenter": lambda: VoipcenterSimulator(clock=NOON.timestamp, seed=9),
    "tariscope": lambda: TariscopeSimulator(subscribers=2, seed=8),
    "tim4biz": lambda: Tim4bizSimulator(extensions=2, seed=6),
}


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture(params=list(SIMULATORS))
async def vendor_sim(
    request: pytest.FixtureRequest,
) -> AsyncIterator[SimulatorBase]:
    async with SIMULATORS[request.param]() as sim:
        yield sim


async def _read_of(session: aiohttp.ClientSession, sim: SimulatorBase) -> Read:
    if isinstance(sim, PbxwareSimulator):
        params = {"apikey": sim.api_key, "action": "pbxware.ext.list", "server": "1"}
        return Read("GET", "/index.php", {"params": params})
    if isinstance(sim, VoipcloudSimulator):
        path = "/api/integration/v1/get-system-status"
        return Read("GET", path, {"headers": {"token": sim.token}})
    if isinstance(sim, VoipcenterSimulator):
        return _voipcenter_read(sim)
    if isinstance(sim, TariscopeSimulator):
        return await _tariscope_read(session, sim)
    assert isinstance(sim, Tim4bizSimulator)
    authorization = aiohttp.encode_basic_auth(sim.username, sim.password)
    return Read(
        "GET",
        "/api/ExtensionTotal",
        {
            "headers": {"Authorization": authorization},
            "params": {"from": "2025-02-01T00:00:00", "to": "2025-02-02T00:00:00"},
        },
    )


async def _send(
    session: aiohttp.ClientSession, sim: SimulatorBase, read: Read
) -> tuple[int, dict[str, str], bytes]:
    async with session.request(
        read.method, f"{sim.url}{read.path}", **read.kwargs
    ) as r:
        return r.status, dict(r.headers), await r.read()


async def test_json_rewriting_faults(
    session: aiohttp.ClientSession, vendor_sim: SimulatorBase
) -> None:
    read = await _read_of(session, vendor_sim)
    status, _, normal = await _send(session, vendor_sim, read)
    assert status == 200
    decoded = json.loads(normal)
    for fault, rewrite in (
        (Fault.LOOSE_TYPES, loose_types),
        (Fault.SWAPPED_TYPES, swapped_types),
        (Fault.WRONG_SHAPES, wrong_shapes),
        (Fault.MISSING_KEYS, missing_keys),
    ):
        vendor_sim.inject(fault, count=1)
        status, _, body = await _send(session, vendor_sim, read)
        assert status == 200
        assert json.loads(body) == rewrite(decoded)
        # Every rewrite changes the read, loose types included: a vendor
        # whose answer it left alone would make a matrix cell test nothing.
        assert json.loads(body) != decoded, fault

    vendor_sim.inject(Fault.MALFORMED_JSON, count=1)
    _, _, body = await _send(session, vendor_sim, read)
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert body.decode() == malformed_json(normal.decode())

    vendor_sim.inject(Fault.EMPTY, count=1)
    status, headers, body = await _send(session, vendor_sim, read)
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == "0"

    # Faults counted down: the next answer is the normal one again.
    assert (await _send(session, vendor_sim, read))[2] == normal


async def test_stream_faults(
    session: aiohttp.ClientSession, vendor_sim: SimulatorBase
) -> None:
    read = await _read_of(session, vendor_sim)
    _, _, normal = await _send(session, vendor_sim, read)

    vendor_sim.inject(Fault.HUGE, count=1)
    status, headers, body = await _send(session, vendor_sim, read)
    assert status == 200
    assert "Content-Length" not in headers
    assert headers["Transfer-Encoding"] == "chunked"
    assert len(body) == HUGE_BODY_BYTES
    assert json.loads(body) == json.loads(normal)

    vendor_sim.inject(Fault.SLOW_DRIP, count=1, latency=0.02)
    started = time.monotonic()
    status, _, body = await _send(session, vendor_sim, read)
    assert time.monotonic() - started >= 0.02 * (DRIP_CHUNKS - 1)
    assert (status, body) == (200, normal)


async def test_a_client_that_hangs_up_ends_the_stream(
    session: aiohttp.ClientSession,
) -> None:
    async with PbxwareSimulator(extensions=2, seed=1) as sim:
        read = await _read_of(session, sim)
        sim.inject(Fault.HUGE)
        for _ in range(2):
            async with session.get(f"{sim.url}{read.path}", **read.kwargs) as r:
                assert len(await r.content.read(1024)) > 0
        sim.clear_faults()
        assert (await _send(session, sim, read))[0] == 200


async def test_slow_drip_longer_than_a_timeout(
    session: aiohttp.ClientSession,
) -> None:
    async with PbxwareSimulator(extensions=2, seed=1) as sim:
        read = await _read_of(session, sim)
        sim.inject(Fault.SLOW_DRIP, latency=0.1)
        with pytest.raises(TimeoutError):
            await _send(
                session,
                sim,
                Read(
                    read.method,
                    read.path,
                    {**read.kwargs, "timeout": aiohttp.ClientTimeout(total=0.3)},
                ),
            )


@pytest.mark.parametrize(
    ("vendor", "status", "says"),
    [
        ("pbxware", 200, "does not have permission"),
        ("voipcloud", 403, "This action is unauthorized."),
        ("voipcenter", 200, "API user not allowed"),
        ("tariscope", 403, "has no right to the method 'subscriber.list.department'"),
        ("tim4biz", 403, "ExtensionTotal requires a TIM4biz call accounting licence"),
    ],
)
async def test_forbidden_is_the_vendors_own(
    session: aiohttp.ClientSession, vendor: str, status: int, says: str
) -> None:
    async with SIMULATORS[vendor]() as sim:
        read = await _read_of(session, sim)
        sim.inject(Fault.FORBIDDEN, count=1)
        got, _, body = await _send(session, sim, read)
        assert got == status
        assert says in body.decode()
        assert (await _send(session, sim, read))[0] == 200


@pytest.mark.parametrize(
    ("vendor", "body", "headers"),
    [
        ("pbxware", "429 Too Many Requests", {"Retry-After": "120"}),
        ("voipcloud", '"code": 429', {"Retry-After": "120"}),
        (
            "tim4biz",
            "1000 calls per 60 minutes",
            {"TIM4biz-Rate-Limit-Remaining": "0", "TIM4biz-Rate-Limit-Limit": "1000"},
        ),
    ],
)
async def test_rate_limits_with_and_without_headers(
    session: aiohttp.ClientSession,
    vendor: str,
    body: str,
    headers: dict[str, str],
) -> None:
    async with SIMULATORS[vendor]() as sim:
        read = await _read_of(session, sim)
        sim.inject(Fault.RATE_LIMIT, count=1)
        status, bare, text = await _send(session, sim, read)
        assert status == 429
        assert body in text.decode()
        assert "Retry-After" not in bare
        assert "TIM4biz-Rate-Limit-Remaining" not in bare

        sim.inject(Fault.RATE_LIMIT_HEADERS, count=1, retry_after=120)
        status, sent, text = await _send(session, sim, read)
        assert status == 429
        assert body in text.decode()
        assert {key: sent.get(key) for key in headers} == headers
        if vendor == "tim4biz":  # TIM4biz documents no Retry-After
            assert "Retry-After" not in sent


async def test_bad_gateway(session: aiohttp.ClientSession) -> None:
    async with PbxwareSimulator(extensions=2, seed=1) as sim:
        read = await _read_of(session, sim)
        sim.inject(Fault.BAD_GATEWAY, count=1)
        status, headers, body = await _send(session, sim, read)
        assert status == 502
        assert headers["Content-Type"].startswith("text/html")
        assert b"<h1>502 Bad Gateway</h1>" in body


async def test_refused_connections_keep_the_state(
    session: aiohttp.ClientSession,
) -> None:
    async with PbxwareSimulator(extensions=2, seed=1) as sim:
        read = await _read_of(session, sim)
        url = sim.url
        _, _, normal = await _send(session, sim, read)  # a kept-alive connection
        await sim.refuse_connections()
        assert sim.refusing_connections
        with pytest.raises(aiohttp.ClientConnectionError):
            await _send(session, sim, read)
        await sim.refuse_connections()  # twice is harmless
        await sim.accept_connections()
        await sim.accept_connections()
        assert not sim.refusing_connections
        assert sim.url == url
        assert (await _send(session, sim, read))[2] == normal
    # Stopped: neither refusing nor accepting.
    assert not sim.refusing_connections
    await sim.accept_connections()
    assert sim.url is None


def test_rewriters() -> None:
    body = {"data": [{"id": 7, "name": "Ann", "on": True, "x": None}], "n": 1.5}
    assert swapped_types(body) == {
        "data": [{"id": "7", "name": 4, "on": True, "x": None}],
        "n": "1.5",
    }
    # No text becomes the number it spells: a refused "0" cannot read as "1".
    assert swapped_types(["0", "1", "2", "10"]) == [2, 2, 3, 3]
    # Loose types: the same values as PHP sends them; leading zeros and
    # other texts stay text.
    ids = {"id": "101", "ext": 102, "pin": "0042", "name": "7 Ann", "n": 1.5}
    assert loose_types(ids) == {
        "id": 101,
        "ext": "102",
        "pin": "0042",
        "name": "7 Ann",
        "n": "1.5",
    }
    assert loose_types({"zero": "0", "huge": "1" * 16}) == {"zero": 0, "huge": "1" * 16}
    assert wrong_shapes(body) == {"data": {"0": [7, "Ann", True, None]}, "n": 1.5}
    assert wrong_shapes([{"a": 1}]) == [[1]]
    assert missing_keys(body) == {"data": [{"name": "Ann", "x": None}], "n": 1.5}
    # A flat answer is the data: changed at the top.
    flat = {"id": 7, "name": "Ann", "balance": 1.5}
    assert wrong_shapes(flat) == [7, "Ann", 1.5]
    assert missing_keys(flat) == {"name": "Ann"}
    assert malformed_json('{"a": [1]}\n') == '{"a": [1],,}'
    assert malformed_json("plain text").startswith("{")


async def test_rewriting_leaves_bodies_that_are_not_json(
    session: aiohttp.ClientSession,
) -> None:
    """VoipCenter's XML format has no JSON to rewrite: it is sent as it is."""
    async with VoipcenterSimulator(seed=9) as sim:
        read = _voipcenter_read(sim, fmt="xml")
        _, _, normal = await _send(session, sim, read)
        sim.inject(Fault.SWAPPED_TYPES, count=1)
        assert (await _send(session, sim, read))[2] == normal

"""The PBXware client against the simulator, over real HTTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.pbx_hub.client import (
    Capability,
    ClicksToCall,
    DestinationType,
    PbxAnswerLostError,
    PbxAuthError,
    PbxClient,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
    PbxUnsupportedError,
    ReadContext,
    Topic,
    create_client,
)
from simulator import Fault, PbxwareSimulator

pytestmark = pytest.mark.slow


def _client(
    sim: PbxwareSimulator, session: aiohttp.ClientSession, **settings: str
) -> PbxClient:
    return create_client(
        "pbxware",
        session,
        {"url": sim.url, "api_key": sim.api_key, **settings},
        request_timeout=0.5,
    )


async def test_identify_single_tenant(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(pbxware_sim, session)
    info = await client.async_identify()
    assert info.unique_id == "127.0.0.1"
    assert info.manufacturer == "Bicom Systems"
    assert info.model is not None
    assert info.model.startswith("PBXware")
    assert info.sw_version
    assert info.configuration_url == f"{pbxware_sim.url}/"
    assert await client.async_get_tenants() == {}


@pytest.mark.parametrize("multi_tenant", [True])
async def test_identify_tenant(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    tenants = await _client(pbxware_sim, session).async_get_tenants()
    assert set(tenants) == set(pbxware_sim.tenants)
    tenant_id = next(iter(tenants))
    client = _client(pbxware_sim, session, tenant=tenant_id)
    info = await client.async_identify()
    assert info.unique_id == f"127.0.0.1_{tenant_id}"
    assert info.name == pbxware_sim.tenants[tenant_id].name
    extensions = await client.async_get_extensions()
    assert set(extensions) == set(pbxware_sim.tenant(tenant_id).extensions)
    with pytest.raises(PbxInvalidInputError):
        await _client(pbxware_sim, session, tenant="999").async_identify()


async def test_reads_match_simulator_state(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(pbxware_sim, session)
    tenant = pbxware_sim.tenant()
    extensions = await client.async_get_extensions()
    assert set(extensions) == set(tenant.extensions)
    for ext_id, seeded in tenant.extensions.items():
        got = extensions[ext_id]
        assert (got.number, got.name) == (seeded.ext, seeded.name)
        assert got.registered is seeded.registered
        assert got.dnd is seeded.dnd
        assert got.on_call is seeded.on_call

    status = await client.async_get_status()
    assert status.extensions_online == sum(
        e.registered for e in tenant.extensions.values()
    )
    assert status.cpu_percent is not None
    assert 0 <= status.cpu_percent <= 100
    assert status.active_calls == len(tenant.calls)
    assert status.services_not_running == []

    calls = await client.async_get_live_calls()
    assert set(calls) == set(tenant.calls)
    dids = await client.async_get_dids()
    assert {d.number for d in dids.values()} == {d.number for d in tenant.dids.values()}


async def test_no_live_calls(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    pbxware_sim.tenant().calls.clear()
    assert await _client(pbxware_sim, session).async_get_live_calls() == {}


async def test_stopped_service_is_reported(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    services = pbxware_sim.tenant().services
    name = next(iter(services))
    services[name] = "stopped"
    status = await _client(pbxware_sim, session).async_get_status()
    assert status.services_not_running == [name]


async def test_set_dnd_is_stateful(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(pbxware_sim, session)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    assert await client.async_set_dnd(ext.id, True) is True
    assert (await client.async_get_extensions())[ext.id].dnd is True
    assert await client.async_set_dnd(ext.id, False) is False
    assert (await client.async_get_extensions())[ext.id].dnd is False
    with pytest.raises(PbxInvalidInputError):
        await client.async_set_dnd("99999", True)


@pytest.mark.parametrize(
    ("fault", "latency"), [(Fault.TIMEOUT, 0.5), (Fault.SLOW_DRIP, 0.2)]
)
async def test_a_dnd_whose_answer_is_late_may_be_done(
    pbxware_sim: PbxwareSimulator,
    session: aiohttp.ClientSession,
    fault: Fault,
    latency: float,
) -> None:
    """A write that went out and got no answer in time is told apart from one
    that never reached the PBX: behind a slow drip the PBX did switch DND.
    """
    client = _client(pbxware_sim, session)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    pbxware_sim.inject(fault, latency=latency, actions=["pbxware.ext.es.dnd.set"])
    with pytest.raises(PbxAnswerLostError, match=r"No answer from 127\.0\.0\.1"):
        await client.async_set_dnd(ext.id, True)
    assert ext.dnd is (fault is Fault.SLOW_DRIP)


async def test_a_dnd_on_a_pbx_gone_down_was_not_sent(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    """Kept-alive connections closed and the port refusing: nothing reached
    the PBX, a plain ``PbxConnectionError``.
    """
    client = _client(pbxware_sim, session)
    ext = next(e for e in pbxware_sim.tenant().extensions.values() if not e.dnd)
    await client.async_get_extensions()  # a kept-alive connection
    await pbxware_sim.refuse_connections()
    with pytest.raises(PbxConnectionError, match="Cannot reach") as raised:
        await client.async_set_dnd(ext.id, True)
    assert type(raised.value) is PbxConnectionError
    assert not ext.dnd


async def test_set_did_route_is_stateful(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(pbxware_sim, session)
    did_id = next(iter(pbxware_sim.tenant().dids))
    await client.async_set_did_route(did_id, DestinationType.QUEUE, "801")
    did = (await client.async_get_dids())[did_id]
    assert (did.destination_type, did.destination) == (DestinationType.QUEUE, "801")
    with pytest.raises(PbxInvalidInputError):
        await client.async_set_did_route("99999", DestinationType.IVR, "1")
    with pytest.raises(PbxInvalidInputError):
        await client.async_set_did_route(did_id, DestinationType.IVR, "12a")
    with pytest.raises(PbxInvalidInputError):
        await client.async_set_did_route(did_id, DestinationType.OTHER, "1")


async def test_unsupported_capability(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    """An action the vendor lacks is no method of its client; a topic it does
    not read is refused.
    """
    client = _client(pbxware_sim, session)
    assert Capability.CLICK_TO_CALL not in client.capabilities
    assert not isinstance(client, ClicksToCall)
    assert not hasattr(client, "async_get_indicators")
    context = ReadContext.at(datetime.now(UTC))
    with pytest.raises(PbxUnsupportedError, match="pbxware does not read indicators"):
        await client.async_read(Topic.INDICATORS, context)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.TIMEOUT, PbxConnectionError),
        (Fault.SERVER_ERROR, PbxConnectionError),
        (Fault.AUTH_REVOKED, PbxAuthError),
        (Fault.RATE_LIMIT, PbxRateLimitError),
        (Fault.MALFORMED, PbxResponseError),
        (Fault.TRUNCATED, PbxResponseError),
        (Fault.PHP_WARNING_ONLY, PbxResponseError),
    ],
)
async def test_faults_map_to_errors_without_secrets(
    pbxware_sim: PbxwareSimulator,
    session: aiohttp.ClientSession,
    fault: Fault,
    error: type[PbxError],
) -> None:
    client = _client(pbxware_sim, session)
    pbxware_sim.inject(fault, count=1, retry_after=30)
    with pytest.raises(error) as raised:
        await client.async_identify()
    assert pbxware_sim.api_key not in str(raised.value)
    assert "apikey" not in str(raised.value)


async def test_php_warning_before_json_is_read(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    pbxware_sim.inject(Fault.PHP_WARNING)
    info = await _client(pbxware_sim, session).async_identify()
    assert info.unique_id == "127.0.0.1"


async def test_429_pauses_every_request(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(pbxware_sim, session)
    pbxware_sim.inject(Fault.RATE_LIMIT, count=1, retry_after=120)
    with pytest.raises(PbxRateLimitError) as first:
        await client.async_get_dids()
    assert first.value.retry_after == 120
    sent = pbxware_sim.request_count
    with pytest.raises(PbxRateLimitError) as second:
        await client.async_get_dids()
    assert second.value.retry_after is not None
    assert 0 < second.value.retry_after <= 120
    assert pbxware_sim.request_count == sent  # nothing reached the PBX


async def test_429_without_retry_after_backs_off_from_a_minute(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    client = _client(pbxware_sim, session)
    pbxware_sim.inject(Fault.RATE_LIMIT, count=1, retry_after=None)
    with pytest.raises(PbxRateLimitError) as raised:
        await client.async_get_dids()
    assert raised.value.retry_after == 60


async def test_wrong_key(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(PbxAuthError) as raised:
        await _client(
            pbxware_sim, session, api_key="wrong-key-1234567"
        ).async_identify()
    assert "wrong-key-1234567" not in str(raised.value)


async def test_unreachable(session: aiohttp.ClientSession) -> None:
    client = create_client(
        "pbxware", session, {"url": "http://127.0.0.1:9", "api_key": "k" * 12}
    )
    with pytest.raises(PbxConnectionError, match=r"Cannot reach 127\.0\.0\.1"):
        await client.async_identify()


@pytest.mark.parametrize("multi_tenant", [True])
async def test_read_error_is_a_response_error(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    """A PBXware error on a read that is not about the key: not an auth problem."""
    with pytest.raises(PbxResponseError, match="PBXware: "):
        await _client(pbxware_sim, session, tenant="999").async_get_dids()


async def test_tenant_list_refused_means_single_tenant(
    session: aiohttp.ClientSession,
) -> None:
    """A PBXware that refuses tenant.list (not about the key) has no tenants."""

    async def handler(request: web.Request) -> web.Response:
        if request.query["action"] == "pbxware.tenant.list":
            return web.json_response({"error": "Tenant mode is not enabled."})
        return web.json_response({"error": "Invalid API key."})

    app = web.Application()
    app.router.add_get("/index.php", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        client = create_client(
            "pbxware",
            session,
            {"url": str(server.make_url("/")), "api_key": "k" * 12},
        )
        assert await client.async_get_tenants() == {}
        with pytest.raises(PbxAuthError):
            await client.async_identify()
    finally:
        await server.close()


async def test_a_key_without_the_permission_is_no_auth_error(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    """The key is good but may not do this: the refused action is named, and
    no auth error asks for a new key that would not help. Identification
    goes on: the refusal proves the key.
    """
    client = _client(pbxware_sim, session)
    pbxware_sim.inject(Fault.FORBIDDEN)
    assert (await client.async_identify()).unique_id == "127.0.0.1"
    with pytest.raises(PbxPermissionError) as dids:
        await client.async_get_dids()
    assert dids.value.permission == "pbxware.did.list"
    assert pbxware_sim.api_key not in str(dids.value)


@pytest.mark.parametrize("multi_tenant", [False, True])
async def test_identify_goes_on_without_the_licence(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession, multi_tenant: bool
) -> None:
    """A key that may do everything but ``license.info`` is a good key: the
    PBX is identified without its edition and version, and the rest reads.
    """
    tenant_id = next(iter(pbxware_sim.tenants)) if multi_tenant else None
    settings = {"tenant": tenant_id} if tenant_id else {}
    client = _client(pbxware_sim, session, **settings)
    pbxware_sim.inject(Fault.FORBIDDEN, actions=["pbxware.license.info"])
    info = await client.async_identify()
    assert pbxware_sim.requests_by_action["pbxware.license.info"] == 1
    assert (info.model, info.sw_version) == (None, None)
    if tenant_id:
        assert info.unique_id == f"127.0.0.1_{tenant_id}"
        assert info.name == pbxware_sim.tenants[tenant_id].name
    else:
        assert (info.unique_id, info.name) == ("127.0.0.1", "PBXware 127.0.0.1")
    assert set(await client.async_get_dids()) == set(pbxware_sim.tenant(tenant_id).dids)
    # Only a refusal for a permission: a key refused as invalid is not good.
    pbxware_sim.inject(Fault.AUTH_REVOKED, actions=["pbxware.license.info"])
    with pytest.raises(PbxAuthError):
        await client.async_identify()


async def test_a_bare_403_names_the_refused_action(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
) -> None:
    """A proxy's 403 says nothing of PBXware's rights; the action it refused
    is still the one to allow, and names the repair's right.
    """
    url, answers = scripted
    client = create_client("pbxware", session, {"url": url, "api_key": "k" * 12})
    answers.append(web.Response(status=403, text="<h1>403 Forbidden</h1>"))
    with pytest.raises(PbxPermissionError) as raised:
        await client.async_get_dids()
    assert raised.value.permission == "pbxware.did.list"


@pytest.mark.parametrize(
    ("write", "error", "expected"),
    [
        (False, "Invalid API key.", PbxAuthError),
        (
            False,
            "API key does not have permission for this action.",
            PbxPermissionError,
        ),
        (False, "Access denied: invalid API key", PbxAuthError),
        # Refused without naming a permission or licence: the key (reauth).
        (False, "Access denied.", PbxAuthError),
        (False, "Action not allowed for this key", PbxAuthError),
        (False, "Access denied: no permission for did.list", PbxPermissionError),
        (False, "Not allowed: the licence lacks this feature", PbxPermissionError),
        (False, "Feature is not licensed", PbxPermissionError),
        (False, "Server not found", PbxResponseError),
        (True, "Invalid API key.", PbxAuthError),
        (True, "API key does not have permission for this action.", PbxPermissionError),
        # A write's "not allowed" is about what it asks for.
        (True, "Not allowed to forward to this number", PbxInvalidInputError),
        # The server's own failure, as HTTP 500: a read is tried again later,
        # a write may have been done (issue 18, item 9).
        (False, "Internal server error", PbxConnectionError),
        (True, "Internal server error", PbxAnswerLostError),
    ],
)
async def test_error_texts(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
    write: bool,
    error: str,
    expected: type[PbxError],
) -> None:
    url, answers = scripted
    client = create_client("pbxware", session, {"url": url, "api_key": "k" * 12})
    answers.append(web.json_response({"error": error}))
    call = client.async_set_dnd("12", True) if write else client.async_get_dids()
    with pytest.raises(PbxError) as raised:
        await call
    assert type(raised.value) is expected
    if isinstance(raised.value, PbxPermissionError):
        action = "ext.es.dnd.set" if write else "did.list"
        assert raised.value.permission == f"pbxware.{action}"


async def test_tenant_list_refused_for_a_permission_is_no_single_tenant(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
) -> None:
    """ "No tenants" would hide the refusal: the key must be allowed tenant.list."""
    url, answers = scripted
    client = create_client("pbxware", session, {"url": url, "api_key": "k" * 12})
    answers.append(
        web.json_response(
            {"error": "API key does not have permission for this action."}
        )
    )
    with pytest.raises(PbxPermissionError) as raised:
        await client.async_get_tenants()
    assert raised.value.permission == "pbxware.tenant.list"


async def test_tenant_list_refused_bare_is_no_single_tenant_either(
    scripted: tuple[str, list[web.Response]],
    session: aiohttp.ClientSession,
) -> None:
    """A bare "Access denied." refuses the key: reauth, not "no tenants"."""
    url, answers = scripted
    client = create_client("pbxware", session, {"url": url, "api_key": "k" * 12})
    answers.append(web.json_response({"error": "Access denied."}))
    with pytest.raises(PbxAuthError):
        await client.async_get_tenants()

"""Hostile action input, for every vendor: a value either is refused before
any request (``PbxInvalidInputError``, nothing sent) or reaches the simulator
as one literal parameter value, every other parameter as the client meant it.

The simulators record what they received, parsed as a server parses it; for
VoipCenter they also check the HMAC signature on their own, so a value that
broke the signing would come back as an authentication error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import aiohttp
import pytest

from custom_components.pbx_hub.client import (
    AccountSelection,
    DestinationType,
    PbxAuthError,
    PbxClient,
    PbxError,
    PbxInvalidInputError,
    create_client,
)
from simulator import (
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)
from simulator.core import RecordedRequest
from simulator.voipcenter import expected_signature
from tests.vendor_sims import DONE, SETTINGS

pytestmark = pytest.mark.slow

HOSTILE: dict[str, str] = {
    "ampersand": "123&action=pbxware.ext.delete",
    "percent-encoded": "123%26action%3Dpbxware.ext.delete",
    "fragment": "123#action=pbxware.ext.delete",
    "question mark": "123?apikey=other",
    "semicolon": "123;id=5",
    "equals": "id=5",
    "crlf": "123\r\nX-Injected: 1",
    "newline": "123\n",
    "nul": "123\x00",
    "rtl mark": "\u202e321",
    "full-width digits": "\uff11\uff12\uff13",
    "superscript digits": "\u00b9\u00b2\u00b3",
    "emoji": "12\U0001f4de3",
    "overlong": "1" * 10_000,
}
CASES = sorted(HOSTILE)

type Action = Callable[[PbxClient, str], Awaitable[Any]]


async def attempt(
    sim: SimulatorBase, client: PbxClient, action: Action, value: str
) -> RecordedRequest | None:
    """Run ``action`` with ``value``: ``None`` when it was refused before any
    request, else what the simulator received. Never an authentication error
    (a broken signature or header) nor an error that is not the client's.
    """
    sim.reset_counters()
    try:
        await action(client, value)
    except PbxInvalidInputError:
        if sim.request_count == 0:
            return None
    except PbxAuthError as err:
        pytest.fail(f"the PBX refused the request's credentials: {err}")
    except PbxError:
        pass
    assert sim.request_count == 1
    assert sim.last_request is not None
    return sim.last_request


def assert_literal(
    received: RecordedRequest, name: str, value: str, others: dict[str, str]
) -> None:
    """``name`` arrived once, as ``value``; the other parameters are exactly
    ``others`` (values of ``None`` in ``others``: present, any value).
    """
    params = received.params
    assert [v for k, v in params if k == name] == [value]
    rest = {k: v for k, v in params if k != name}
    assert len(rest) == len(params) - 1, "a parameter was repeated"
    assert set(rest) == set(others)
    for key, expected in others.items():
        if expected is not None:
            assert rest[key] == expected, key


async def _client(
    vendor: str, sim: SimulatorBase, session: aiohttp.ClientSession
) -> PbxClient:
    """A client of ``vendor`` on ``sim``, signed in (its first request is
    behind it, so a value that got through would be the next one).
    """
    client = create_client(vendor, session, SETTINGS[vendor](sim))
    await client.async_identify()
    return client


REFUSED: dict[str, dict[str, Action]] = {
    "pbxware": {
        "set_dnd extension": lambda c, v: c.async_set_dnd(v, True),
        "set_did_route did": lambda c, v: c.async_set_did_route(
            v, DestinationType.EXTENSION, "100"
        ),
        "set_did_route destination": lambda c, v: c.async_set_did_route(
            "1", DestinationType.EXTERNAL, v
        ),
    },
    "voipcloud": {
        "click_to_call user_number": lambda c, v: c.async_click_to_call(
            v, "0298765432"
        ),
        "click_to_call number_to_call": lambda c, v: c.async_click_to_call("1001", v),
    },
    "voipcenter": {
        "set_indicator": lambda c, v: c.async_set_indicator(v, True),
        "set_did_routing did": lambda c, v: c.async_set_did_routing(v, route="1"),
        "set_did_routing route": lambda c, v: c.async_set_did_routing("1", route=v),
        "set_did_routing backup route": lambda c, v: c.async_set_did_routing(
            "1", backup_route=v
        ),
        "set_hot_desk desk": lambda c, v: c.async_set_hot_desk(v, template="1"),
        "set_hot_desk template": lambda c, v: c.async_set_hot_desk("1", template=v),
        "set_hot_desk sip account": lambda c, v: c.async_set_hot_desk(
            "1", sip_account=v
        ),
        "click_to_call number": lambda c, v: c.async_click_to_call("sipaccount1", v),
    },
    # Without an ``@`` a subscriber is an id, a number; charges take the id only.
    "tariscope": {
        "get_subscriber id": lambda c, v: c.async_get_subscriber(v),
        "get_charges id": lambda c, v: c.async_get_charges(
            v, date(2026, 1, 1), date(2026, 1, 31)
        ),
    },
    "tim4biz": {"send_sms recipient": lambda c, v: c.async_send_sms(v, "Hello")},
}
"""Per vendor, the actions that take ids and numbers: the client checks them,
so every hostile value is refused before a request is sent.
"""


@pytest.mark.parametrize(
    ("vendor", "action"),
    [(vendor, action) for vendor, actions in REFUSED.items() for action in actions],
)
@pytest.mark.parametrize("case", CASES)
async def test_ids_and_numbers_are_refused_before_sending(
    vendor_sim: SimulatorBase,
    session: aiohttp.ClientSession,
    vendor: str,
    action: str,
    case: str,
) -> None:
    client = await _client(vendor, vendor_sim, session)
    done = DONE[vendor](vendor_sim)
    received = await attempt(vendor_sim, client, REFUSED[vendor][action], HOSTILE[case])
    assert received is None
    assert DONE[vendor](vendor_sim) == done


# ------------------------------------------------------------------ PBXware


async def test_pbxware_write_sends_only_its_parameters(
    pbxware_sim: PbxwareSimulator, session: aiohttp.ClientSession
) -> None:
    """What a valid write looks like to the PBX, for the checks above."""
    pbxware = pbxware_sim
    client = await _client("pbxware", pbxware, session)
    received = await attempt(
        pbxware, client, REFUSED["pbxware"]["set_dnd extension"], "1"
    )
    assert received is not None
    assert received.query == ()
    assert_literal(
        received,
        "id",
        "1",
        {
            "apikey": pbxware.api_key,
            "action": "pbxware.ext.es.dnd.set",
            "state": "yes",
        },
    )


# ---------------------------------------------------------------- VoIPcloud


async def test_voipcloud_special_characters_a_number_may_hold(
    voipcloud_sim: VoipcloudSimulator, session: aiohttp.ClientSession
) -> None:
    """``*`` and ``#`` are dialled (feature codes): sent as they are, as one
    value.
    """
    voipcloud = voipcloud_sim
    client = await _client("voipcloud", voipcloud, session)
    received = await attempt(
        voipcloud,
        client,
        lambda c, v: c.async_click_to_call("1001", v),
        "*31#0298765432",
    )
    assert received is not None
    assert_literal(
        received, "number_to_call", "*31#0298765432", {"user_number": "1001"}
    )
    assert dict(received.headers)["token"] == voipcloud.token


# --------------------------------------------------------------- VoipCenter


SIGNED = ("apiID", "knummer", "pwd", "f", "ts", "pass")


PRINTABLE = {
    "ampersand",
    "percent-encoded",
    "fragment",
    "question mark",
    "semicolon",
    "equals",
}
"""Hostile values a SIP user name may hold (printable ASCII): they are sent."""


@pytest.mark.parametrize("case", CASES)
async def test_voipcenter_sip_account_is_sent_literally_and_signed(
    voipcenter_sim: VoipcenterSimulator, session: aiohttp.ClientSession, case: str
) -> None:
    """A SIP account name is free text up to 64 printable characters: one
    that looks like more parameters arrives as one value, under a signature
    the simulator accepts; no call is placed for another account.
    """
    voipcenter = voipcenter_sim
    client = await _client("voipcenter", voipcenter, session)
    value = HOSTILE[case]
    received = await attempt(
        voipcenter,
        client,
        lambda c, v: c.async_click_to_call(v, "021234567"),
        value,
    )
    if case not in PRINTABLE:
        assert received is None
        return
    assert received is not None
    assert_literal(
        received,
        "sipacc",
        value,
        {"telnr": "021234567", **dict.fromkeys(SIGNED)},
    )
    assert [name for name, _ in received.params] == [
        "apiID", "knummer", "pwd", "sipacc", "telnr", "f", "ts", "pass",
    ]  # fmt: skip
    # The signature, recomputed from what arrived by the simulator's recipe.
    unsigned = [(name, v) for name, v in received.params if name != "pass"]
    assert dict(received.params)["pass"] == expected_signature(
        unsigned, voipcenter.api_key, endpoint="call.php"
    )
    assert voipcenter.calls_placed == []


# ---------------------------------------------------------------- Tariscope


@pytest.mark.parametrize("case", CASES)
async def test_tariscope_subscriber_e_mails(
    tariscope_sim: TariscopeSimulator, session: aiohttp.ClientSession, case: str
) -> None:
    """An e-mail address is free text within RFC 5321's lengths, without
    spaces or control characters: sent as one ``email`` value, or refused.
    """
    client = await _client("tariscope", tariscope_sim, session)
    value = f"ann@{HOSTILE[case]}.example"
    received = await attempt(
        tariscope_sim, client, lambda c, v: c.async_get_subscriber(v), value
    )
    if case in {"crlf", "newline", "nul", "overlong"}:
        assert received is None
        return
    assert received is not None
    assert_literal(received, "email", value, {})
    assert dict(received.headers)["Authorization"].startswith("Bearer ")


@pytest.mark.parametrize("kind", ["departments", "nodes"])
@pytest.mark.parametrize("case", CASES)
async def test_tariscope_departments_and_nodes(
    tariscope_sim: TariscopeSimulator,
    session: aiohttp.ClientSession,
    kind: str,
    case: str,
) -> None:
    """Department and node names come from the options as free text: sent
    as one ``id`` value; a value too long for any request line is refused
    before it is sent.
    """
    client = await _client("tariscope", tariscope_sim, session)
    value = HOSTILE[case]
    received = await attempt(
        tariscope_sim,
        client,
        lambda c, v: c.async_get_accounts(
            AccountSelection(**{kind: (v,)}), date(2026, 5, 1)
        ),
        value,
    )
    if case == "overlong":
        assert received is None
        return
    assert received is not None
    assert_literal(received, "id", value, {})


# ------------------------------------------------------------------ TIM4biz


@pytest.mark.parametrize("case", CASES)
async def test_tim4biz_sms_text_is_one_json_value(
    tim4biz_sim: Tim4bizSimulator, session: aiohttp.ClientSession, case: str
) -> None:
    """Any text is a message (JSON carries it whole), up to 918 characters."""
    tim4biz = tim4biz_sim
    client = await _client("tim4biz", tim4biz, session)
    message = f"Hi {HOSTILE[case]} bye"
    received = await attempt(
        tim4biz,
        client,
        lambda c, v: c.async_send_sms("+32470123456", v),
        message,
    )
    if case == "overlong":
        assert received is None
        assert tim4biz.sent_sms == []
        return
    assert received is not None
    assert received.json == {"recipient": "+32470123456", "message": message}
    assert received.query == ()
    [sent] = tim4biz.sent_sms
    assert (sent.recipient, sent.message) == ("+32470123456", message)


# ------------------------------------------------- credentials in headers


@pytest.mark.parametrize("token", ["tok\r\nX-Injected: 1", "tok\nen", "tok\x00en"])
async def test_a_token_that_would_break_its_header_is_refused(
    voipcloud_sim: VoipcloudSimulator, session: aiohttp.ClientSession, token: str
) -> None:
    """An auth error (so Home Assistant asks for the token again), nothing sent."""
    client = create_client(
        "voipcloud", session, {"url": voipcloud_sim.url, "token": token}
    )
    with pytest.raises(PbxAuthError):
        await client.async_identify()
    assert voipcloud_sim.request_count == 0


async def test_a_colon_in_a_tim4biz_user_name_is_refused(
    tim4biz_sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    """Basic authentication cannot carry it (aiohttp raises ValueError)."""
    tim4biz = tim4biz_sim
    client = create_client(
        "tim4biz",
        session,
        {"url": f"{tim4biz.url}/api/", "username": "ann:admin", "password": "x"},
    )
    with pytest.raises(PbxAuthError):
        await client.async_identify()
    assert tim4biz.request_count == 0


async def test_a_line_break_in_a_tim4biz_password_stays_inside_basic_auth(
    tim4biz_sim: Tim4bizSimulator, session: aiohttp.ClientSession
) -> None:
    """Base64 carries any password; the PBX just refuses a wrong one."""
    tim4biz = tim4biz_sim
    client = create_client(
        "tim4biz",
        session,
        {
            "url": f"{tim4biz.url}/api/",
            "username": tim4biz.username,
            "password": f"{tim4biz.password}\r\nX-Injected: 1",
        },
    )
    with pytest.raises(PbxAuthError):
        await client.async_identify()
    assert tim4biz.request_count == 1
    assert tim4biz.last_request is not None
    assert "X-Injected" not in dict(tim4biz.last_request.headers)

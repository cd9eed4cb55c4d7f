"""Hostile action input through Home Assistant, for every vendor with an
action: refused with a translated ``ServiceValidationError`` before any request
reaches the PBX, or, where the field is free text, received by the simulator as
one literal value.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from .conftest import setup_entry

# The client tests' values, with control characters inside the value: Home
# Assistant's schemas strip the whitespace around one.
HOSTILE: dict[str, str] = {
    "ampersand": "123&action=pbxware.ext.delete",
    "percent-encoded": "123%26action%3Dx",
    "fragment": "123#action=x",
    "question mark": "123?apikey=other",
    "crlf": "12\r\nX-Injected: 1",
    "newline": "12\n34",
    "nul": "12\x0034",
    "rtl mark": "\u202e321",
    "full-width digits": "\uff11\uff12\uff13",
    "emoji": "12\U0001f4de3",
    "overlong": "1" * 10_000,
}
CASES = sorted(HOSTILE)


async def refused(
    hass: HomeAssistant,
    sim: SimulatorBase,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """The action fails before any request, with the translation ``key``; the
    overlong value with ``text_too_long``, as the action's input check finds
    it first.
    """
    sim.reset_counters()
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN,
            service,
            data,
            blocking=True,
            return_response=service == "get_charges",
        )
    overlong = HOSTILE["overlong"] in data.values()
    assert raised.value.translation_key == ("text_too_long" if overlong else key)
    assert sim.request_count == 0


def _entry(vendor: str, **data: Any) -> MockConfigEntry:
    return MockConfigEntry(domain=DOMAIN, title=vendor, data={"vendor": vendor, **data})


# ------------------------------------------------------------------ PBXware


@pytest.mark.parametrize("case", CASES)
async def test_pbxware_did_route(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    case: str,
) -> None:
    await setup_entry(hass, pbxware_entry)
    did = next(iter(pbxware_sim.tenant().dids.values()))
    call = {
        "config_entry_id": pbxware_entry.entry_id,
        "destination_type": "external",
    }
    value = HOSTILE[case]
    await refused(
        hass,
        pbxware_sim,
        "set_did_route",
        {**call, "did": did.number, "destination": value},
        "invalid_input",
    )
    await refused(
        hass,
        pbxware_sim,
        "set_did_route",
        {**call, "did": value, "destination": "100"},
        "did_not_found",
    )


# ---------------------------------------------------------------- VoIPcloud


@pytest.fixture
async def voipcloud() -> AsyncIterator[VoipcloudSimulator]:
    async with VoipcloudSimulator(generate=False, seed=1) as sim:
        yield sim


@pytest.mark.parametrize("case", CASES)
async def test_voipcloud_click_to_call(
    hass: HomeAssistant, voipcloud: VoipcloudSimulator, case: str
) -> None:
    entry = _entry("voipcloud", url=voipcloud.url, token=voipcloud.token)
    await setup_entry(hass, entry)
    value = HOSTILE[case]
    call = {"config_entry_id": entry.entry_id}
    await refused(
        hass,
        voipcloud,
        "click_to_call",
        {**call, "user_number": "1001", "number": value},
        "invalid_number",
    )
    await refused(
        hass,
        voipcloud,
        "click_to_call",
        {**call, "user_number": value, "number": "0298765432"},
        "invalid_input",
    )
    assert voipcloud.calls_to_number == []


@pytest.mark.parametrize("token", ["tok\r\nX-Injected: 1", "tok\x00en"])
async def test_a_token_that_would_break_its_header(
    hass: HomeAssistant, voipcloud: VoipcloudSimulator, token: str
) -> None:
    """The config flow says the credentials are invalid; nothing is sent."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voipcloud"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": voipcloud.url, "token": token}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert voipcloud.request_count == 0


# --------------------------------------------------------------- VoipCenter


@pytest.fixture
async def voipcenter() -> AsyncIterator[VoipcenterSimulator]:
    async with VoipcenterSimulator(seed=1) as sim:
        yield sim


@pytest.mark.parametrize("case", CASES)
async def test_voipcenter_click_to_call(
    hass: HomeAssistant, voipcenter: VoipcenterSimulator, case: str
) -> None:
    """The number is refused; a SIP account name that is printable text is
    sent, as one value, and the PBX knows no such account.
    """
    entry = _entry(
        "voipcenter",
        url=f"{voipcenter.url}/api/",
        api_id=voipcenter.api_id,
        api_key=voipcenter.api_key,
        customer_number=voipcenter.customer_number,
        password=voipcenter.password,
    )
    await setup_entry(hass, entry)
    value = HOSTILE[case]
    call = {"config_entry_id": entry.entry_id}
    await refused(
        hass,
        voipcenter,
        "click_to_call",
        {**call, "user_number": "sipaccount1", "number": value},
        "invalid_number",
    )
    data = {**call, "user_number": value, "number": "021234567"}
    if case in {"ampersand", "percent-encoded", "fragment", "question mark"}:
        voipcenter.reset_counters()
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "click_to_call", data, blocking=True)
        assert raised.value.translation_key == "call_failed"
        assert voipcenter.last_request is not None
        assert dict(voipcenter.last_request.params)["sipacc"] == value
        assert voipcenter.calls_placed == []
    else:
        await refused(hass, voipcenter, "click_to_call", data, "invalid_input")

    # Route plans and hot desks are chosen by name or id from the last poll.
    did = next(iter(voipcenter.dids.values()))
    desk = next(iter(voipcenter.hot_desks.values()))
    for service, fields in (
        ("set_did_route", {"did": did.number, "route": value}),
        ("set_did_route", {"did": did.number, "backup_route": value}),
        ("set_hot_desk", {"hot_desk": desk.naam, "template": value}),
        ("set_hot_desk", {"hot_desk": desk.naam, "sip_account": value}),
        ("set_hot_desk", {"hot_desk": value, "template": "x"}),
    ):
        await refused(hass, voipcenter, service, {**call, **fields}, "unknown_name")


# ---------------------------------------------------------------- Tariscope


@pytest.mark.parametrize("case", CASES)
async def test_tariscope_get_charges(hass: HomeAssistant, case: str) -> None:
    async with TariscopeSimulator(subscribers=2, seed=1) as sim:
        entry = _entry(
            "tariscope", url=sim.url, username=sim.username, password=sim.password
        )
        await setup_entry(hass, entry)
        await refused(
            hass,
            sim,
            "get_charges",
            {
                "config_entry_id": entry.entry_id,
                "subscriber": HOSTILE[case],
                "start": "2026-01-01",
                "end": "2026-01-31",
            },
            "invalid_input",
        )
        await hass.config_entries.async_unload(entry.entry_id)


# ------------------------------------------------------------------ TIM4biz


@pytest.mark.parametrize("case", CASES)
async def test_tim4biz_send_sms(hass: HomeAssistant, case: str) -> None:
    async with Tim4bizSimulator(extensions=2, seed=1) as sim:
        entry = _entry(
            "tim4biz",
            url=f"{sim.url}/api/",
            username=sim.username,
            password=sim.password,
        )
        await setup_entry(hass, entry)
        await refused(
            hass,
            sim,
            "send_sms",
            {
                "config_entry_id": entry.entry_id,
                "recipient": HOSTILE[case],
                "message": "Hello",
            },
            "invalid_sms_recipient",
        )
        assert sim.sent_sms == []
        await hass.config_entries.async_unload(entry.entry_id)


async def test_tim4biz_sms_too_long(hass: HomeAssistant) -> None:
    async with Tim4bizSimulator(extensions=2, seed=1) as sim:
        entry = _entry(
            "tim4biz",
            url=f"{sim.url}/api/",
            username=sim.username,
            password=sim.password,
        )
        await setup_entry(hass, entry)
        await refused(
            hass,
            sim,
            "send_sms",
            {
                "config_entry_id": entry.entry_id,
                "recipient": "+32470123456",
                "message": "x" * 10_000,
            },
            "invalid_sms_length",
        )
        await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.parametrize("url", ["http://[", "https://pbx.example:99999/"])
async def test_a_server_address_that_is_no_url(hass: HomeAssistant, url: str) -> None:
    """The config flow says so (yarl's ValueError once made it "unknown")."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pbxware"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "api_key": "k" * 12, "verify_ssl": True}
    )
    assert result["errors"] == {"base": "invalid_url"}

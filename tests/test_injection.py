"""Hostile action input through Home Assistant, for every vendor with an
action: refused with a translated ``ServiceValidationError`` before any request
reaches the PBX, or, where the field is free text, received by the simulator as
one literal value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest

from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    SimulatorBase,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from .conftest import setup_entry
from .vendor_sims import DONE
from .vendors import ENTRIES, tim4biz_entry, voipcenter_entry

pytestmark = pytest.mark.slow

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


@dataclass(frozen=True)
class Field:
    """An action field that gets the hostile value, the rest of the action's
    data around it (``sim`` to pick what exists), and the translation key of
    the refusal.
    """

    service: str
    data: Callable[[Any, str], dict[str, Any]]
    key: str


FIELDS: dict[str, tuple[Field, ...]] = {
    "pbxware": (
        Field(
            "set_did_route",
            lambda sim, value: {
                "did": next(iter(sim.tenant().dids.values())).number,
                "destination_type": "external",
                "destination": value,
            },
            "invalid_input",
        ),
        Field(
            "set_did_route",
            lambda sim, value: {
                "did": value,
                "destination_type": "external",
                "destination": "100",
            },
            "did_not_found",
        ),
    ),
    "voipcloud": (
        Field(
            "click_to_call",
            lambda sim, value: {"user_number": "1001", "number": value},
            "invalid_number",
        ),
        Field(
            "click_to_call",
            lambda sim, value: {"user_number": value, "number": "0298765432"},
            "invalid_input",
        ),
    ),
    # Route plans and hot desks are chosen by name or id from the last poll.
    "voipcenter": (
        Field(
            "click_to_call",
            lambda sim, value: {"user_number": "sipaccount1", "number": value},
            "invalid_number",
        ),
        Field(
            "set_did_route_plan",
            lambda sim, value: {"did": _did(sim), "route": value},
            "unknown_name",
        ),
        Field(
            "set_did_route_plan",
            lambda sim, value: {"did": _did(sim), "backup_route": value},
            "unknown_name",
        ),
        Field(
            "set_hot_desk",
            lambda sim, value: {"hot_desk": _desk(sim), "template": value},
            "unknown_name",
        ),
        Field(
            "set_hot_desk",
            lambda sim, value: {"hot_desk": _desk(sim), "sip_account": value},
            "unknown_name",
        ),
        Field(
            "set_hot_desk",
            lambda sim, value: {"hot_desk": value, "template": "x"},
            "unknown_name",
        ),
    ),
    "tariscope": (
        Field(
            "get_charges",
            lambda sim, value: {
                "subscriber": value,
                "start": "2026-01-01",
                "end": "2026-01-31",
            },
            "invalid_input",
        ),
    ),
    "tim4biz": (
        Field(
            "send_sms",
            lambda sim, value: {"recipient": value, "message": "Hello"},
            "invalid_sms_recipient",
        ),
    ),
}
"""Per vendor, the action fields that refuse every hostile value."""


def _did(sim: VoipcenterSimulator) -> str:
    return next(iter(sim.dids.values())).number


def _desk(sim: VoipcenterSimulator) -> str:
    return next(iter(sim.hot_desks.values())).naam


@pytest.mark.parametrize("vendor", sorted(FIELDS))
@pytest.mark.parametrize("case", CASES)
async def test_a_hostile_value_is_refused_before_any_request(
    hass: HomeAssistant, vendor_sim: SimulatorBase, vendor: str, case: str
) -> None:
    sim = vendor_sim
    entry = ENTRIES[vendor](sim)
    await setup_entry(hass, entry)
    done = DONE[vendor](sim)
    for field in FIELDS[vendor]:
        data = {"config_entry_id": entry.entry_id, **field.data(sim, HOSTILE[case])}
        await refused(hass, sim, field.service, data, field.key)
    assert DONE[vendor](sim) == done


@pytest.mark.parametrize("token", ["tok\r\nX-Injected: 1", "tok\x00en"])
async def test_a_token_that_would_break_its_header(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator, token: str
) -> None:
    """The config flow says the credentials are invalid; nothing is sent."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "voipcloud"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": voipcloud_sim.url, "token": token}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert voipcloud_sim.request_count == 0


@pytest.mark.parametrize("case", CASES)
async def test_voipcenter_sip_account(
    hass: HomeAssistant, voipcenter_sim: VoipcenterSimulator, case: str
) -> None:
    """A SIP account name that is printable text is sent, as one value, and
    the PBX knows no such account; any other is refused.
    """
    sim = voipcenter_sim
    entry = voipcenter_entry(sim)
    await setup_entry(hass, entry)
    value = HOSTILE[case]
    data = {
        "config_entry_id": entry.entry_id,
        "user_number": value,
        "number": "021234567",
    }
    if case in {"ampersand", "percent-encoded", "fragment", "question mark"}:
        sim.reset_counters()
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(DOMAIN, "click_to_call", data, blocking=True)
        assert raised.value.translation_key == "call_failed"
        assert sim.last_request is not None
        assert dict(sim.last_request.params)["sipacc"] == value
        assert sim.calls_placed == []
    else:
        await refused(hass, sim, "click_to_call", data, "invalid_input")


async def test_tim4biz_sms_too_long(
    hass: HomeAssistant, tim4biz_sim: Tim4bizSimulator
) -> None:
    entry = tim4biz_entry(tim4biz_sim)
    await setup_entry(hass, entry)
    await refused(
        hass,
        tim4biz_sim,
        "send_sms",
        {
            "config_entry_id": entry.entry_id,
            "recipient": "+32470123456",
            "message": "x" * 10_000,
        },
        "invalid_sms_length",
    )


@pytest.mark.parametrize("url", ["http://[", "https://pbx.example:99999/"])
async def test_a_server_address_that_is_no_url(hass: HomeAssistant, url: str) -> None:
    """The config flow says so, on the address field, before sending
    anything (yarl's ValueError once made it "unknown").
    """
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pbxware"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": url, "api_key": "k" * 12, "verify_ssl": True}
    )
    assert result["errors"] == {"url": "invalid_url"}

"""Odd server addresses through Home Assistant: the config flow refuses them
before sending anything (user, reauth and reconfigure steps), an entry saved
with one loads or fails as ``tests/addresses.py`` says, and plain http to
another machine is accepted only after a warning, then kept under a repair
issue.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import (
    PbxConnectionError,
    PbxInfo,
    Tenant,
)
from custom_components.pbx_hub.client.pbxware import PbxwareClient
from custom_components.pbx_hub.const import CONF_VENDOR, DOMAIN
from custom_components.pbx_hub.repairs import PLAIN_HTTP, issue_id
from simulator import PbxwareSimulator, SimulatorBase

from .addresses import ODD_ADDRESSES, PASSWORD, VENDOR_NAMES, OddAddress, Saved
from .conftest import setup_entry
from .vendor_sims import SETTINGS

pytestmark = pytest.mark.slow  # servers on loopback

VENDORS = sorted(VENDOR_NAMES)
ELSEWHERE = "http://pbx.example.com"
"""A plain-http address on another machine; never connected to: the tests
that use it stand in for the PBX's answers.
"""


def _form(vendor: str, sim: Any) -> dict[str, Any]:
    """The vendor step's answers that reach ``sim``."""
    form = SETTINGS[vendor](sim)
    form.pop(CONF_VENDOR)
    if vendor == "voipcenter":
        form.pop("password_hash")
        form["password"] = sim.password
    return form


async def _vendor_step(hass: HomeAssistant, vendor: str) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": vendor}
    )
    assert result["step_id"] == vendor
    return str(result["flow_id"])


def _label(address: OddAddress) -> str:
    return address.label.split(" (")[0]


@pytest.mark.parametrize("address", ODD_ADDRESSES, ids=_label)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_the_form_refuses_an_odd_address(
    hass: HomeAssistant, vendor: str, vendor_sim: SimulatorBase, address: OddAddress
) -> None:
    """On the address field, and nothing is sent (a ``file:`` address was
    once "broke off after sending", a user name and password were sent as
    Basic auth or failed as "unknown").
    """
    form = _form(vendor, vendor_sim)
    form["url"] = address.make(form["url"])
    flow_id = await _vendor_step(hass, vendor)
    result = await hass.config_entries.flow.async_configure(flow_id, form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"url": address.outcome(vendor)[0]}
    assert vendor_sim.request_count == 0
    assert not hass.config_entries.async_entries(DOMAIN)


@pytest.mark.parametrize("address", ODD_ADDRESSES, ids=_label)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_an_entry_saved_with_an_odd_address(
    hass: HomeAssistant, vendor: str, vendor_sim: SimulatorBase, address: OddAddress
) -> None:
    """Refused before sending (no device, so no configuration URL shows a
    password), or loaded with requests to the address's own path (a query
    once moved PBXware's key to ``/``).
    """
    settings = SETTINGS[vendor](vendor_sim)
    settings["url"] = address.make(settings["url"])
    entry = MockConfigEntry(domain=DOMAIN, title=vendor, data=settings)
    await setup_entry(hass, entry)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    if address.outcome(vendor)[1] is Saved.REFUSED:
        assert entry.state is ConfigEntryState.SETUP_ERROR
        assert vendor_sim.request_count == 0
        assert not devices
        return
    assert entry.state is ConfigEntryState.LOADED
    assert all(PASSWORD not in str(device.configuration_url) for device in devices)
    if vendor == "pbxware":
        assert {request.path for request in vendor_sim.recent_requests} == {
            "/index.php"
        }


async def test_reauth_refuses_a_saved_user_name_and_password(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """Reauthentication asks only the secrets: the address it cannot change
    is refused on the form, with nothing sent.
    """
    settings = SETTINGS["pbxware"](pbxware_sim)
    settings["url"] = ODD_ADDRESSES[0].make(settings["url"])
    entry = MockConfigEntry(domain=DOMAIN, title="PBXware", data=settings)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": pbxware_sim.api_key}
    )
    assert result["errors"] == {"base": "url_credentials"}
    assert pbxware_sim.request_count == 0


async def test_reconfigure_refuses_a_user_name_and_password(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    sent = pbxware_sim.request_count
    result = await pbxware_entry.start_reconfigure_flow(hass)
    assert pbxware_sim.url is not None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"url": ODD_ADDRESSES[0].make(pbxware_sim.url), "verify_ssl": True},
    )
    assert result["errors"] == {"url": "url_credentials"}
    assert pbxware_sim.request_count == sent
    assert pbxware_entry.data["url"] == pbxware_sim.url


@pytest.fixture
def pbx_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PBXware that answers from another machine: the client's reads stand
    in for it, so nothing leaves this one.
    """

    async def identify(client: PbxwareClient) -> PbxInfo:
        return PbxInfo(
            unique_id="pbx.example.com",
            name="PBXware pbx.example.com",
            manufacturer="Bicom Systems",
        )

    async def tenants(client: PbxwareClient) -> dict[str, Tenant]:
        return {}

    monkeypatch.setattr(PbxwareClient, "async_identify", identify)
    monkeypatch.setattr(PbxwareClient, "async_get_tenants", tenants)


@pytest.mark.usefixtures("pbx_elsewhere")
@pytest.mark.parametrize(
    ("url", "warned"),
    [
        (ELSEWHERE, True),
        ("https://pbx.example.com", False),
        ("http://localhost:8080", False),
    ],
)
async def test_plain_http_to_another_machine_is_confirmed_first(
    hass: HomeAssistant, url: str, warned: bool
) -> None:
    """https, or this machine's loopback, need no confirmation."""
    flow_id = await _vendor_step(hass, "pbxware")
    with patch("custom_components.pbx_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {"url": url, "api_key": "k" * 12, "verify_ssl": True}
        )
        if warned:
            assert result["type"] is FlowResultType.FORM
            assert result["step_id"] == "plain_http"
            assert result["description_placeholders"] == {
                "url": r"http\:\/\/pbx\.example\.com"
            }
            assert not hass.config_entries.async_entries(DOMAIN)
            result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["url"] == url


@pytest.mark.usefixtures("pbx_elsewhere")
async def test_reconfiguring_to_plain_http_is_confirmed_first(
    hass: HomeAssistant,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="PBXware pbx.example.com",
        unique_id="pbx.example.com",
        data={
            CONF_VENDOR: "pbxware",
            "url": "https://pbx.example.com",
            "api_key": "k" * 12,
            "verify_ssl": True,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    with patch("custom_components.pbx_hub.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"url": ELSEWHERE, "verify_ssl": True}
        )
        assert result["step_id"] == "plain_http"
        assert entry.data["url"] == "https://pbx.example.com"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["url"] == ELSEWHERE


async def test_a_repair_issue_while_credentials_go_in_clear(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Raised at setup (even one that cannot reach the PBX), gone once the
    address is https.
    """

    async def unreachable(client: PbxwareClient) -> PbxInfo:
        raise PbxConnectionError("Cannot reach pbx.example.com")

    monkeypatch.setattr(PbxwareClient, "async_identify", unreachable)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Head office",
        data={
            CONF_VENDOR: "pbxware",
            "url": ELSEWHERE,
            "api_key": "k" * 12,
            "verify_ssl": True,
        },
    )
    await setup_entry(hass, entry)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(PLAIN_HTTP, entry))
    assert issue is not None
    assert issue.translation_key == PLAIN_HTTP
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "title": "Head office",
        "title_plain": "Head office",
    }

    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "url": "https://pbx.example.com"}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(PLAIN_HTTP, entry)) is (
        None
    )


async def test_no_repair_issue_for_this_machine(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    """The simulator's http://127.0.0.1 crosses no network."""
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, issue_id(PLAIN_HTTP, pbxware_entry))
        is None
    )

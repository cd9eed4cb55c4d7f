"""The config flow of every vendor against its mocked client: each client error
shows its own form error and the user can try again; duplicates abort;
reauthentication and reconfiguration keep the entry's identity.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from unittest.mock import MagicMock

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import (
    VENDORS,
    PbxAuthError,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
)
from custom_components.pbx_hub.const import CONF_VENDOR, DOMAIN

from .conftest import NOW, form, identity

pytestmark = pytest.mark.freeze_time(NOW)


async def _vendor_form(hass: HomeAssistant, vendor: str) -> str:
    """Open the flow and pick ``vendor`` from the menu; the flow's id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": vendor}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == vendor
    assert result["errors"] == {}
    return str(result["flow_id"])


def _secrets(vendor: str, new: str) -> dict[str, str]:
    """Every secret field of ``vendor``'s form, each given a new value."""
    return {
        field.key: f"{new}-{field.key}"
        for field in VENDORS[vendor].fields
        if field.secret
    }


async def test_user_flow(
    hass: HomeAssistant, vendor: str, mock_client: MagicMock
) -> None:
    """The entry keeps what the vendor stores of the form, under the PBX's
    identity, and loads.
    """
    flow_id = await _vendor_form(hass, vendor)
    result = await hass.config_entries.flow.async_configure(flow_id, form(vendor))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    info = identity(vendor)
    assert result["title"] == info.name
    assert result["result"].unique_id == info.unique_id
    stored = VENDORS[vendor].stored(form(vendor))
    assert result["data"] == {CONF_VENDOR: vendor, **stored}
    assert mock_client.settings == stored
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert hass.config_entries.async_entries(DOMAIN) == [result["result"]]


@pytest.mark.parametrize(
    ("error", "key", "placeholders"),
    [
        (PbxAuthError("Invalid API key"), "invalid_auth", {}),
        (
            PbxNotWhitelistedError("203.0.113.7 is not whitelisted"),
            "ip_not_whitelisted",
            {},
        ),
        (
            PbxPermissionError("Forbidden", permission="extensions.read"),
            "missing_permission",
            {"permission": "extensions.read"},
        ),
        (PbxPermissionError("Forbidden"), "missing_permission_unnamed", {}),
        (PbxClockSkewError("Timestamp out of range"), "clock_skew", {}),
        (PbxRateLimitError("Too many requests", retry_after=60), "rate_limited", {}),
        (PbxConnectionError("Timed out"), "cannot_connect", {}),
        (PbxInvalidInputError("Not an API address", reason="url"), "invalid_url", {}),
        (PbxInvalidInputError("Tenant 7 does not exist"), "invalid_response", {}),
        (PbxResponseError("Unexpected body"), "invalid_response", {}),
        (PbxError("Unexpected error"), "invalid_response", {}),
        (RuntimeError("Bug"), "unknown", {}),
    ],
)
async def test_user_flow_error_then_recover(
    hass: HomeAssistant,
    vendor: str,
    mock_client: MagicMock,
    error: Exception,
    key: str,
    placeholders: dict[str, str],
) -> None:
    flow_id = await _vendor_form(hass, vendor)
    mock_client.async_identify.side_effect = error
    result = await hass.config_entries.flow.async_configure(flow_id, form(vendor))
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == vendor
    assert result["errors"] == {"base": key}
    assert result["description_placeholders"] == placeholders
    assert not hass.config_entries.async_entries(DOMAIN)

    mock_client.async_identify.side_effect = None
    result = await hass.config_entries.flow.async_configure(flow_id, form(vendor))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.usefixtures("mock_client")
async def test_user_flow_already_configured(
    hass: HomeAssistant, vendor: str, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    flow_id = await _vendor_form(hass, vendor)
    result = await hass.config_entries.flow.async_configure(flow_id, form(vendor))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth_stores_the_new_secrets(
    hass: HomeAssistant,
    vendor: str,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Only the secrets are asked; a refused one is told so and not stored."""
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert set(result["data_schema"].schema) == set(_secrets(vendor, "new"))
    mock_client.async_identify.side_effect = PbxAuthError("Invalid credentials")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _secrets(vendor, "refused")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert result["description_placeholders"]["title"] == mock_config_entry.title

    mock_client.async_identify.side_effect = None
    before = dict(mock_config_entry.data)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _secrets(vendor, "new")
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data == {
        **before,
        **VENDORS[vendor].stored(_secrets(vendor, "new")),
    }
    await hass.async_block_till_done()  # the reload the flow started


async def test_reauth_for_another_pbx(
    hass: HomeAssistant,
    vendor: str,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Credentials of another PBX are refused where the vendor names its PBX
    whatever the credentials; where the identity follows the key, a new key
    keeps the entry's identity.
    """
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reauth_flow(hass)
    mock_client.async_identify.return_value = replace(
        identity(vendor), unique_id="another-pbx"
    )
    before = dict(mock_config_entry.data)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _secrets(vendor, "other")
    )
    assert result["type"] is FlowResultType.ABORT
    if VENDORS[vendor].stable_identity:
        assert result["reason"] == "wrong_pbx"
        assert mock_config_entry.data == before
    else:
        assert result["reason"] == "reauth_successful"
        assert mock_config_entry.data != before
    assert mock_config_entry.unique_id == identity(vendor).unique_id
    await hass.async_block_till_done()  # the reload the flow started


@pytest.mark.parametrize(
    ("error", "key"),
    [
        (PbxConnectionError("Timed out"), "cannot_connect"),
        (PbxAuthError("Invalid credentials"), "invalid_auth"),
    ],
)
async def test_reconfigure_changes_the_address(
    hass: HomeAssistant,
    vendor: str,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    error: Exception,
    key: str,
) -> None:
    """Only the settings that are no secret are asked; a failing address is
    told so and not stored.
    """
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    plain = {
        key: value
        for key, value in form(vendor).items()
        if key not in _secrets(vendor, "x")
    }
    assert {str(field) for field in result["data_schema"].schema} == set(plain)
    changed: dict[str, Any] = {**plain, "url": "https://pbx2.example.com/"}
    mock_client.async_identify.side_effect = error
    result = await hass.config_entries.flow.async_configure(result["flow_id"], changed)
    assert result["errors"] == {"base": key}
    assert mock_config_entry.data["url"] == form(vendor)["url"]

    mock_client.async_identify.side_effect = None
    result = await hass.config_entries.flow.async_configure(result["flow_id"], changed)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data["url"] == "https://pbx2.example.com/"
    await hass.async_block_till_done()  # the reload the flow started

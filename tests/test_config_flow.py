"""Config flow: vendor menu, vendor form, tenant choice, reauth, reconfigure, options."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import PbxPermissionError
from custom_components.pbx_hub.client.pbxware import PbxwareClient
from custom_components.pbx_hub.const import (
    CONF_CALL_STATES,
    CONF_FAST_INTERVAL,
    CONF_SLOW_INTERVAL,
    CONF_VENDOR,
    DOMAIN,
)
from simulator import Fault, PbxwareSimulator

from .conftest import find_device, save_options, setup_entry
from .vendor_sims import pbxware_settings
from .vendors import pbxware_tenant_entry

pytestmark = [pytest.mark.slow, pytest.mark.minimum_ha]


def _form_input(sim: PbxwareSimulator, **overrides: object) -> dict[str, object]:
    data = pbxware_settings(sim, **overrides)
    data.pop(CONF_VENDOR)
    return data


async def _start_pbxware_form(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert "pbxware" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pbxware"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "pbxware"
    return result["flow_id"]


async def test_single_tenant_happy_path(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    flow_id = await _start_pbxware_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "PBXware 127.0.0.1"
    assert result["result"].unique_id == "127.0.0.1"
    assert result["data"] == pbxware_settings(pbxware_sim)


@pytest.mark.parametrize("multi_tenant", [True])
async def test_multi_tenant_picks_tenant(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    flow_id = await _start_pbxware_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "tenant"
    tenant_id, tenant = next(iter(pbxware_sim.tenants.items()))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tenant": tenant_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"127.0.0.1_{tenant_id}"
    assert result["title"] == tenant.name
    assert result["data"]["tenant"] == tenant_id


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault.AUTH_REVOKED, "invalid_auth"),
        (Fault.FORBIDDEN, "missing_permission"),
        (Fault.SERVER_ERROR, "cannot_connect"),
        (Fault.RATE_LIMIT, "rate_limited"),
        (Fault.MALFORMED, "invalid_response"),
        (Fault.TRUNCATED, "invalid_response"),
    ],
)
async def test_errors_then_recover(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    freezer: FrozenDateTimeFactory,
    fault: Fault,
    error: str,
) -> None:
    flow_id = await _start_pbxware_form(hass)
    pbxware_sim.inject(fault, count=1)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    # A 429 pauses the PBX's shared budget; the user tries again after it.
    freezer.tick(timedelta(minutes=2))
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_wrong_key_and_unreachable(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    flow_id = await _start_pbxware_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim, api_key="not-the-key-0000")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim, url="http://127.0.0.1:9")
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_a_key_without_a_permission_is_told_so(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """Not "invalid auth": the key is right, and the form names what it may
    not do (the first action asked, tenant.list).
    """
    flow_id = await _start_pbxware_form(hass)
    pbxware_sim.inject(Fault.FORBIDDEN)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "missing_permission"}
    assert result["description_placeholders"] == {"permission": "pbxware.tenant.list"}


@pytest.mark.parametrize("multi_tenant", [True])
async def test_reauth_with_a_key_without_a_permission(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """A tenant's entry checks its tenant with tenant.list: a new key
    refused that is told so, and not stored.
    """
    entry = pbxware_tenant_entry(pbxware_sim)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    pbxware_sim.api_key = "rotated-key-0987654321"
    pbxware_sim.inject(Fault.FORBIDDEN, actions=["pbxware.tenant.list"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "rotated-key-0987654321"}
    )
    assert result["step_id"] == "reauth_confirm"
    assert result["errors"] == {"base": "missing_permission"}
    placeholders = result["description_placeholders"]
    assert placeholders["title"] == entry.title
    assert placeholders["permission"] == "pbxware.tenant.list"
    assert entry.data["api_key"] != "rotated-key-0987654321"
    pbxware_sim.clear_faults()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "rotated-key-0987654321"}
    )
    assert result["reason"] == "reauth_successful"


async def test_a_key_refused_only_the_licence_info_is_accepted(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """``license.info`` tells only the edition and version: a key that may
    not read it but may read the rest adds the PBX.
    """
    flow_id = await _start_pbxware_form(hass)
    pbxware_sim.inject(Fault.FORBIDDEN, actions=["pbxware.license.info"])
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "127.0.0.1"
    await hass.async_block_till_done()
    assert result["result"].state is config_entries.ConfigEntryState.LOADED
    assert pbxware_sim.requests_by_action["pbxware.license.info"] >= 1


async def test_a_refusal_that_names_no_right_is_told_so(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """A bare 403 names no right: the form says the PBX refused this
    request, not its raw message as if it were a right's name.
    """
    flow_id = await _start_pbxware_form(hass)
    with patch.object(
        PbxwareClient,
        "async_get_tenants",
        side_effect=PbxPermissionError("127.0.0.1 refused the request (HTTP 403)"),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form_input(pbxware_sim)
        )
    assert result["errors"] == {"base": "missing_permission_unnamed"}
    assert "permission" not in result["description_placeholders"]


async def test_unexpected_error_is_logged(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = await _start_pbxware_form(hass)
    with patch(
        "custom_components.pbx_hub.client.pbxware.PbxwareClient.async_identify",
        side_effect=RuntimeError("boom"),
    ):
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form_input(pbxware_sim)
        )
    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error" in caplog.text


@pytest.mark.parametrize("multi_tenant", [True])
async def test_tenant_step_error(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    flow_id = await _start_pbxware_form(hass)
    await hass.config_entries.flow.async_configure(flow_id, _form_input(pbxware_sim))
    pbxware_sim.inject(Fault.SERVER_ERROR, count=1)
    tenant_id = next(iter(pbxware_sim.tenants))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"tenant": tenant_id}
    )
    assert result["step_id"] == "tenant"
    assert result["errors"] == {"base": "cannot_connect"}


async def test_already_configured(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    pbxware_entry.add_to_hass(hass)
    flow_id = await _start_pbxware_form(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, _form_input(pbxware_sim)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reauth(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    pbxware_entry.add_to_hass(hass)
    result = await pbxware_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "wrong-key-123456"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    pbxware_sim.api_key = "rotated-key-0987654321"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"api_key": "rotated-key-0987654321"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert pbxware_entry.data["api_key"] == "rotated-key-0987654321"


async def test_reconfigure(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    pbxware_entry.add_to_hass(hass)
    result = await pbxware_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": "http://127.0.0.1:9", "verify_ssl": True}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    new_url = f"{pbxware_sim.url}/"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": new_url, "verify_ssl": False}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert pbxware_entry.data["url"] == new_url
    assert pbxware_entry.data["verify_ssl"] is False


@pytest.mark.usefixtures("disable_mock_zeroconf_resolver")
async def test_reconfigure_to_other_pbx_aborts(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    pbxware_entry.add_to_hass(hass)
    result = await pbxware_entry.start_reconfigure_flow(hass)
    other = str(pbxware_sim.url).replace("127.0.0.1", "localhost")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"url": other, "verify_ssl": True}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_pbx"


async def test_options_bounded_by_budget(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    pbxware_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(pbxware_entry.entry_id)
    assert result["step_id"] == "init"
    # PBXware: 13 requests per fast poll (with its call records), 80 % of
    # 1800 per hour.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FAST_INTERVAL: 10, CONF_SLOW_INTERVAL: 900}
    )
    assert result["errors"] == {CONF_FAST_INTERVAL: "over_budget"}
    assert result["description_placeholders"]["minimum"] == "34"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_FAST_INTERVAL: 40, CONF_SLOW_INTERVAL: 900}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert pbxware_entry.options == {
        CONF_FAST_INTERVAL: 40,
        CONF_SLOW_INTERVAL: 900,
        CONF_CALL_STATES: True,
    }


async def test_single_tenant_of_multi_tenant_is_taken(hass: HomeAssistant) -> None:
    async with PbxwareSimulator(multi_tenant=True, tenants=1, extensions=2) as sim:
        flow_id = await _start_pbxware_form(hass)
        result = await hass.config_entries.flow.async_configure(
            flow_id, _form_input(sim)
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        tenant_id = next(iter(sim.tenants))
        assert result["data"]["tenant"] == tenant_id
        assert result["result"].unique_id == f"127.0.0.1_{tenant_id}"


async def test_options_exclude_extensions(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    await setup_entry(hass, pbxware_entry)
    ext = next(iter(pbxware_sim.tenant().extensions.values()))
    identifier = (DOMAIN, f"127.0.0.1_ext_{ext.id}")
    registry = dr.async_get(hass)
    assert find_device(registry, identifier) is not None

    result = await hass.config_entries.options.async_init(pbxware_entry.entry_id)
    options = result["data_schema"].schema["excluded_extensions"].config["options"]
    assert {option["value"] for option in options} == set(
        pbxware_sim.tenant().extensions
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_FAST_INTERVAL: 60,
            CONF_SLOW_INTERVAL: 900,
            "excluded_extensions": [ext.id],
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert find_device(registry, identifier) is None
    assert not [e for e in hass.states.async_entity_ids() if f"_{ext.ext}_" in e]

    await save_options(hass, pbxware_entry, excluded_extensions=[])
    assert find_device(registry, identifier) is not None

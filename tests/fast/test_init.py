"""Setting up, unloading and reauthenticating every vendor's entry against its
mocked client.
"""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import (
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
from custom_components.pbx_hub.client.poll_issues import CLOCK_SKEW
from custom_components.pbx_hub.const import DOMAIN, MAX_INTERVAL
from custom_components.pbx_hub.repairs import SETUP_REFUSED, issue_id
from tests.conftest import setup_entry

from .conftest import NOW
from .models import load_models

pytestmark = pytest.mark.freeze_time(NOW)


def _reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[object]:
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


def _getters(client: MagicMock, vendor: str) -> list[AsyncMock]:
    """The client's reads that answer from fixtures: what the polls await."""
    return [
        getattr(client, f"async_{name}")
        for name in load_models(vendor)
        if name.startswith("get_")
    ]


async def _poll_everything(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Past the longest interval: every coordinator polls."""
    freezer.tick(MAX_INTERVAL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_load_and_unload(
    hass: HomeAssistant, mock_client: MagicMock, mock_config_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, mock_config_entry)
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert mock_config_entry.runtime_data.client is mock_client
    mock_client.async_identify.assert_awaited_once_with()
    assert hass.states.async_entity_ids()

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED
    assert all(state.state == STATE_UNAVAILABLE for state in hass.states.async_all())


@pytest.mark.parametrize(
    ("error", "state", "reauth", "issue"),
    [
        (PbxAuthError("Invalid API key"), ConfigEntryState.SETUP_ERROR, True, None),
        # New credentials would not help: the PBX needs changing.
        (
            PbxNotWhitelistedError("203.0.113.7 is not whitelisted"),
            ConfigEntryState.SETUP_RETRY,
            False,
            None,
        ),
        (
            PbxPermissionError("Forbidden", permission="extensions.read"),
            ConfigEntryState.SETUP_RETRY,
            False,
            SETUP_REFUSED,
        ),
        (
            PbxClockSkewError("Timestamp out of range"),
            ConfigEntryState.SETUP_RETRY,
            False,
            CLOCK_SKEW,
        ),
        (PbxConnectionError("Timed out"), ConfigEntryState.SETUP_RETRY, False, None),
        (
            PbxRateLimitError("Too many requests", retry_after=60),
            ConfigEntryState.SETUP_RETRY,
            False,
            None,
        ),
        (
            PbxResponseError("Unexpected body"),
            ConfigEntryState.SETUP_RETRY,
            False,
            None,
        ),
        # A tenant that no longer exists does not come back by retrying.
        (
            PbxInvalidInputError("Tenant 7 does not exist"),
            ConfigEntryState.SETUP_ERROR,
            False,
            None,
        ),
    ],
)
async def test_setup_error(
    hass: HomeAssistant,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    error: PbxError,
    state: ConfigEntryState,
    reauth: bool,
    issue: str | None,
) -> None:
    mock_client.async_identify.side_effect = error
    await setup_entry(hass, mock_config_entry)
    assert mock_config_entry.state is state
    assert bool(_reauth_flows(hass, mock_config_entry)) is reauth
    issues = {
        issue_id for domain, issue_id in ir.async_get(hass).issues if domain == DOMAIN
    }
    assert issues == (set() if issue is None else {issue_id(issue, mock_config_entry)})


async def test_auth_error_while_polling_starts_reauth(
    hass: HomeAssistant,
    vendor: str,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await setup_entry(hass, mock_config_entry)
    assert not _reauth_flows(hass, mock_config_entry)
    for getter in _getters(mock_client, vendor):
        getter.side_effect = PbxAuthError("Token expired")
    await _poll_everything(hass, freezer)
    assert len(_reauth_flows(hass, mock_config_entry)) == 1


async def test_entities_unavailable_while_polls_fail_then_recover(
    hass: HomeAssistant,
    vendor: str,
    mock_client: MagicMock,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """What the polls read goes unavailable while they fail (the entry stays
    loaded); what the PBX told at setup, such as its serial number, stays.
    """
    await setup_entry(hass, mock_config_entry)
    # Not those that wait for something to show (a call-back button of an
    # extension nobody called yet).
    shown = [
        entry.entity_id
        for entry in er.async_entries_for_config_entry(
            entity_registry, mock_config_entry.entry_id
        )
        if entry.disabled_by is None
        and hass.states.get(entry.entity_id).state != STATE_UNAVAILABLE
    ]

    def unavailable() -> set[str]:
        return {
            entity_id
            for entity_id in shown
            if hass.states.get(entity_id).state == STATE_UNAVAILABLE
        }

    assert shown
    assert not unavailable()

    getters = _getters(mock_client, vendor)
    for getter in getters:
        getter.side_effect = PbxConnectionError("Timed out")
    await _poll_everything(hass, freezer)
    assert unavailable()
    assert mock_config_entry.state is ConfigEntryState.LOADED

    for getter in getters:
        getter.side_effect = None
    await _poll_everything(hass, freezer)
    assert not unavailable()

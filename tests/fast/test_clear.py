"""Choosing "none" (no backup route, nobody at a desk) reaches the client as
``CLEAR``, never as a vendor's wire value: the select and the actions alike.
"""

from __future__ import annotations

from unittest.mock import MagicMock

from homeassistant.components.select import (
    DOMAIN as SELECT_DOMAIN,
    SERVICE_SELECT_OPTION,
)
from homeassistant.const import ATTR_ENTITY_ID, ATTR_OPTION
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import CLEAR
from custom_components.pbx_hub.const import DOMAIN
from tests.conftest import setup_entry

from .conftest import NOW

pytestmark = [
    pytest.mark.freeze_time(NOW),
    pytest.mark.parametrize("vendor", ["voipcenter"]),
]
BACKUP_ROUTE = "select.039542205_backup_route"
HOT_DESK = "select.voipcenter_123456_hot_desk_flexplek_1"


async def _select_none(hass: HomeAssistant, entity_id: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: "none"},
        blocking=True,
    )


async def test_selecting_none_clears(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    await setup_entry(hass, mock_config_entry)
    assert hass.states.get(BACKUP_ROUTE).state != "none"
    await _select_none(hass, BACKUP_ROUTE)
    assert mock_client.async_set_did_routing.await_args.kwargs == {
        "backup_route": CLEAR
    }
    assert hass.states.get(BACKUP_ROUTE).state == "none"

    assert hass.states.get(HOT_DESK).state != "none"
    await _select_none(hass, HOT_DESK)
    assert mock_client.async_set_hot_desk.await_args.kwargs == {"sip_account": CLEAR}
    assert hass.states.get(HOT_DESK).state == "none"


async def test_the_actions_clear_with_none(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_client: MagicMock
) -> None:
    await setup_entry(hass, mock_config_entry)
    entry_id = mock_config_entry.entry_id
    plan = await hass.services.async_call(
        DOMAIN,
        "set_did_route_plan",
        {"config_entry_id": entry_id, "did": "039542205", "backup_route": "none"},
        blocking=True,
        return_response=True,
    )
    assert mock_client.async_set_did_routing.await_args.kwargs["backup_route"] is CLEAR
    assert plan is not None
    assert plan["backup_route"] is None
    desk = await hass.services.async_call(
        DOMAIN,
        "set_hot_desk",
        {"config_entry_id": entry_id, "hot_desk": "Flexplek 1", "sip_account": "none"},
        blocking=True,
        return_response=True,
    )
    assert mock_client.async_set_hot_desk.await_args.kwargs["sip_account"] is CLEAR
    assert desk is not None
    assert desk["sip_account"] is None

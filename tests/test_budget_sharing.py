"""Polls and actions share a vendor's request budget: a script's actions
cannot take polling's share, and new credentials spend from the account's
budget rather than a fresh one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.pbx_hub.client import Topic
from custom_components.pbx_hub.clients import BUDGETS
from custom_components.pbx_hub.const import DOMAIN
from simulator import Tim4bizSimulator, VoipcloudSimulator

from .conftest import click_to_call, setup_entry
from .vendors import tim4biz_entry, voipcloud_entry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.freeze_time("2026-11-25T12:00:00-08:00"),
]
LOOP_LIMIT = 150
"""More click-to-calls than VoIPcloud's whole window of 100 requests."""


async def test_a_click_to_call_loop_leaves_polling_its_share(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A script calling click-to-call in a tight loop: the calls stop at
    what polling leaves (20 of 100), each refused one fails at once with a
    rate limit error naming the wait and sends nothing, and polling goes on.
    """
    sim = voipcloud_sim
    entry = voipcloud_entry(sim)
    await setup_entry(hass, entry)
    fast = entry.runtime_data.coordinators[Topic.STATUS]
    refused: HomeAssistantError | None = None
    for index in range(LOOP_LIMIT):
        sent = sim.request_count
        if refused := await click_to_call(hass, entry, "1001", f"0298765{index:03d}"):
            break
    assert refused is not None
    assert refused.translation_key == "rate_limited"
    assert refused.translation_placeholders is not None
    assert int(refused.translation_placeholders["retry_after"]) > 0
    assert sim.request_count == sent  # refused before sending
    assert len(sim.calls_to_number) == 20
    for _ in range(3):
        freezer.tick(fast.update_interval or timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert fast.last_update_success
    assert sim.requests_in_window() < sim.rate_limit


def _new_voipcloud_key(sim: Any) -> dict[str, str]:
    sim.token = "a-brand-new-token-987654"
    return {"token": sim.token}


def _new_tim4biz_password(sim: Any) -> dict[str, str]:
    sim.set_credentials(password="a brand new password")
    return {"password": sim.password}


@pytest.mark.parametrize(
    ("vendor", "entry_of", "new_secret"),
    [
        ("voipcloud", voipcloud_entry, _new_voipcloud_key),
        ("tim4biz", tim4biz_entry, _new_tim4biz_password),
    ],
)
async def test_new_credentials_spend_from_the_accounts_budget(
    hass: HomeAssistant,
    vendor_sim: VoipcloudSimulator | Tim4bizSimulator,
    vendor: str,
    entry_of: Any,
    new_secret: Any,
) -> None:
    """The key or password was replaced at the PBX: setup is refused, and
    reauthentication with the new one is the same account. The vendor goes
    on counting its requests, and so does the one budget: the refused setup,
    the flow's check and the new setup's requests.
    """
    entry: MockConfigEntry = entry_of(vendor_sim)
    answer = new_secret(vendor_sim)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    [budget] = hass.data[BUDGETS].values()
    assert budget.used == 1  # the refused identify
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], answer)
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert entry.state is ConfigEntryState.LOADED
    assert list(hass.data[BUDGETS].values()) == [budget]
    assert entry.runtime_data.client.http.budget is budget
    # The flow's identify, then setup's identify and first polls.
    assert budget.used > 3

"""An entry removed while one of its actions or polls waits for the PBX's
answer: the answer, a refusal, must leave nothing behind (no repair issue, no
reauth flow, no task exception).
"""

from __future__ import annotations

from collections.abc import Callable
import gc
import logging
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import Topic
from custom_components.pbx_hub.const import DOMAIN
from simulator import Fault, Tim4bizSimulator

from .conftest import setup_entry, wait_until_held
from .vendors import tim4biz_entry

pytestmark = pytest.mark.slow  # servers on loopback

ANSWER_DELAY = 1.0
"""Seconds the simulator holds the SMS: the entry is removed meanwhile."""


def _refuse_licences(sim: Tim4bizSimulator) -> None:
    sim.revoke_licence("messaging")
    sim.revoke_licence("call_accounting")


def _refuse_credentials(sim: Tim4bizSimulator) -> None:
    sim.set_credentials(password="changed elsewhere")


def _left_behind(
    hass: HomeAssistant, entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> tuple[list[str], list[Any], list[str]]:
    """Repair issues, flows and errors logged once everything has settled."""
    gc.collect()  # "Task exception was never retrieved" is logged on collection
    issues = [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN or entry.entry_id in issue_id
    ]
    errors = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
    ]
    return issues, hass.config_entries.flow.async_progress(), errors


REFUSALS = [
    pytest.param(_refuse_licences, "missing_permission", id="403"),
    pytest.param(_refuse_credentials, "auth_failed", id="401"),
]


@pytest.mark.parametrize(("refuse", "key"), REFUSALS)
async def test_an_entry_removed_while_its_action_waits_leaves_nothing(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    caplog: pytest.LogCaptureFixture,
    refuse: Callable[[Tim4bizSimulator], None],
    key: str,
) -> None:
    """The SMS is held by the simulator, the entry removed, and then the PBX
    refuses it: the user still hears why, but no repair issue is raised for
    an entry that is gone and no reauthentication starts for it.
    """
    sim = tim4biz_sim
    entry = tim4biz_entry(sim)
    await setup_entry(hass, entry)
    sim.inject(Fault.LATENCY, count=1, latency=ANSWER_DELAY, actions={"SetSMS"})
    action = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "send_sms",
            {
                "config_entry_id": entry.entry_id,
                "recipient": "+3247012345",
                "message": "x",
            },
            blocking=True,
        )
    )
    await wait_until_held(hass, sim)
    refuse(sim)  # checked by the simulator once the delay is over
    assert await hass.config_entries.async_remove(entry.entry_id)
    assert sim.in_flight  # removed before the answer came
    with pytest.raises(HomeAssistantError) as raised:
        await action
    assert raised.value.translation_key == key
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _left_behind(hass, entry, caplog) == ([], [], [])


@pytest.mark.parametrize(
    "refuse",
    [
        pytest.param(_refuse_licences, id="403"),
        pytest.param(_refuse_credentials, id="401"),
    ],
)
async def test_an_entry_removed_while_its_poll_waits_leaves_nothing(
    hass: HomeAssistant,
    tim4biz_sim: Tim4bizSimulator,
    caplog: pytest.LogCaptureFixture,
    refuse: Callable[[Tim4bizSimulator], None],
) -> None:
    """The same for a poll: its refusal, answered after the removal, raises
    no repair issue and starts no reauthentication for the removed entry.
    """
    sim = tim4biz_sim
    entry = tim4biz_entry(sim)
    await setup_entry(hass, entry)
    slow = entry.runtime_data.coordinators[Topic.USAGE]
    sim.inject(Fault.LATENCY, count=2, latency=ANSWER_DELAY)  # today, the month
    poll = hass.async_create_task(slow.async_refresh())
    await wait_until_held(hass, sim)
    refuse(sim)
    assert await hass.config_entries.async_remove(entry.entry_id)
    assert sim.in_flight
    await poll
    await hass.async_block_till_done(wait_background_tasks=True)
    issues, flows, errors = _left_behind(hass, entry, caplog)
    assert (issues, flows) == ([], [])
    # The coordinator logs the failure it saw, but nothing fails unseen.
    assert not [error for error in errors if "never retrieved" in error]

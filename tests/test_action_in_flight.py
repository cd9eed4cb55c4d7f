"""An entry removed while one of its actions waits for the PBX's answer: the
answer, a refusal, must leave nothing behind (no repair issue, no reauth flow,
no task exception).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import gc
import logging
import time

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.pbx_hub.const import DOMAIN
from simulator import Fault, Tim4bizSimulator

from .conftest import setup_entry
from .vendors import tim4biz_entry

ANSWER_DELAY = 1.0
"""Seconds the simulator holds the SMS: the entry is removed meanwhile."""


async def _wait_until_held(hass: HomeAssistant, sim: Tim4bizSimulator) -> None:
    for _ in range(500):
        if sim.in_flight:
            return
        await hass.async_add_executor_job(time.sleep, 0.002)
    raise AssertionError("the SMS never reached the simulator")


def _refuse_sms_licence(sim: Tim4bizSimulator) -> None:
    sim.revoke_licence("messaging")


def _refuse_credentials(sim: Tim4bizSimulator) -> None:
    sim.set_credentials(password="changed elsewhere")


@pytest.mark.parametrize(
    ("refuse", "key"),
    [
        pytest.param(_refuse_sms_licence, "missing_permission", id="403"),
        pytest.param(_refuse_credentials, "auth_failed", id="401"),
    ],
)
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
    await _wait_until_held(hass, sim)
    refuse(sim)  # checked by the simulator once the delay is over
    assert await hass.config_entries.async_remove(entry.entry_id)
    assert sim.in_flight  # removed before the answer came
    with pytest.raises(HomeAssistantError) as raised:
        await action
    assert raised.value.translation_key == key
    await hass.async_block_till_done(wait_background_tasks=True)
    gc.collect()  # "Task exception was never retrieved" is logged on collection
    await asyncio.sleep(0)
    left = [
        issue_id
        for (domain, issue_id) in ir.async_get(hass).issues
        if domain == DOMAIN or entry.entry_id in issue_id
    ]
    assert left == []
    assert hass.config_entries.flow.async_progress() == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []

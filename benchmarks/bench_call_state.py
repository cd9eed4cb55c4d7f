"""Latency from a call starting in the simulator (``POST /_sim/calls``) to the
call-state sensor showing ``ringing`` in Home Assistant, per vendor at the
default options: pushed on VoipCenter, polled on PBXware and VoIPcloud (within
the call states' interval, wherever in it the call starts).

Run with pytest in Home Assistant's test harness (``scripts/bench`` does); it
prints one line per vendor and appends them to ``PBX_BENCH_CALL_RESULTS`` when set.
Polling waits for real intervals: about a minute in all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import json
import os
from pathlib import Path
import time
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import Topic
from simulator import (
    PbxwareSimulator,
    SimulatorBase,
    VoipcenterSimulator,
    VoipcloudSimulator,
)
from tests.vendors import pbxware_entry, voipcenter_entry, voipcloud_entry

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """The simulators listen on loopback ports."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """PBX Hub is a custom integration."""


def _voipcenter_push_entry(sim: VoipcenterSimulator) -> MockConfigEntry:
    entry = voipcenter_entry(sim)
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data={**entry.data, "ws_username": "wsuser", "push_url": str(sim.push_url)},
    )


CASES: dict[
    str, tuple[Callable[[], SimulatorBase], Callable[[Any], MockConfigEntry]]
] = {
    "pbxware": (lambda: PbxwareSimulator(extensions=4, seed=3), pbxware_entry),
    "voipcloud": (lambda: VoipcloudSimulator(generate=False, seed=5), voipcloud_entry),
    "voipcenter": (lambda: VoipcenterSimulator(seed=4), _voipcenter_push_entry),
}


async def _until(check: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            raise AssertionError("timed out")
        await asyncio.sleep(0.002)
    return time.monotonic() - started


def _callee(sim: SimulatorBase) -> str:
    if isinstance(sim, PbxwareSimulator):
        return next(e.ext for e in sim.tenant().extensions.values() if not e.on_call)
    if isinstance(sim, VoipcloudSimulator):
        return sim.users[0].number
    return "sipaccount1"


@pytest.mark.parametrize("vendor", list(CASES))
async def test_call_state_latency(hass: HomeAssistant, vendor: str) -> None:
    make_sim, make_entry = CASES[vendor]
    async with make_sim() as sim:
        entry = make_entry(sim)
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        runtime = entry.runtime_data
        interval = runtime.coordinators[Topic.CALL_STATES].update_interval
        if runtime.push is not None:
            await _until(
                lambda: runtime.push is not None and runtime.push.connected, 10
            )
            assert isinstance(sim, VoipcenterSimulator)
            await _until(lambda: "wsuser" in sim.push.registered.values(), 10)
        callee = _callee(sim)
        registry = er.async_get(hass)

        def ringing() -> bool:
            for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
                if entity.unique_id.endswith(f"_ext_{_key(sim, callee)}_call_state"):
                    state = hass.states.get(entity.entity_id)
                    return state is not None and state.state == "ringing"
            return False

        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.post(
                f"{sim.url}/_sim/calls",
                json={"from": "0470123456", "to": callee, "ring_seconds": None},
            ) as response:
                assert response.status < 300, await response.text()
        limit = 2.0 if interval is None else interval.total_seconds() + 5
        latency = time.monotonic() - started + await _until(ringing, limit)
        result = {
            "vendor": vendor,
            "source": "push" if interval is None else "poll",
            "interval_s": None if interval is None else interval.total_seconds(),
            "latency_s": round(latency, 3),
        }
        print(json.dumps(result))
        if path := os.environ.get("PBX_BENCH_CALL_RESULTS"):
            with Path(path).open("a") as results:  # noqa: ASYNC230
                results.write(json.dumps(result) + "\n")
        if interval is None:
            assert latency < 1.0, latency
        else:
            assert latency <= interval.total_seconds() + 1.0, latency
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()


def _key(sim: SimulatorBase, callee: str) -> str:
    """The extension's key in the call states: PBXware keys by extension id."""
    if isinstance(sim, PbxwareSimulator):
        return next(
            key for key, e in sim.tenant().extensions.items() if e.ext == callee
        )
    return callee

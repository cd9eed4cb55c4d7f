"""Record the fast tier's fixtures: what each vendor's client reads from its
simulator, as JSON.

    scripts/run .venv/bin/python -m tests.fast.record_models [vendor ...]

Each simulator is seeded as the slow tier's fixtures seed it (tests/conftest.py)
and runs on ``RECORDED_AT``'s clock where it has one. The real client reads every
topic its vendor has; each answer goes to
``tests/fixtures/<vendor>/models/<method>.json`` (``async_`` left off), which
``tests/fast/models.py`` loads back into the same models, and what a user
enters in the vendor's form to ``tests/fixtures/<vendor>/form.json``. The
simulator's loopback address is written as ``SERVER``. Re-record when a model
changes; the fast tier's snapshots follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
from pathlib import Path
import sys
from typing import Any
from unittest.mock import patch
from zoneinfo import ZoneInfo

import aiohttp
from mashumaro.codecs.basic import encode

from custom_components.pbx_hub.client import (
    VENDORS,
    AccountSelection,
    PbxClient,
    create_client,
)
from simulator import (
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)
from tests.vendor_sims import SETTINGS

from .models import (
    FIXTURES,
    FOLLOWED_SUBSCRIBERS,
    RECORDED_AT,
    answering,
    model_type,
)

TIME_ZONE = ZoneInfo("US/Pacific")
"""Home Assistant's time zone in tests: "today" starts at its midnight."""
SERVER = "pbx.example.com"


def _at(hours: float) -> datetime:
    return RECORDED_AT - timedelta(hours=hours)


_MIDNIGHT = datetime.combine(
    RECORDED_AT.astimezone(TIME_ZONE).date(), datetime.min.time(), TIME_ZONE
)
ARGUMENTS: dict[str, tuple[Any, ...]] = {
    # Since its EVENT_LOOKBACK before midnight, as the integration asks.
    "get_calls": (_MIDNIGHT - timedelta(hours=6),),
    "get_extension_usage": (_MIDNIGHT, RECORDED_AT),
    "get_accounts": (AccountSelection(ids=FOLLOWED_SUBSCRIBERS), _MIDNIGHT.date()),
}
"""What the getters that take arguments are asked: today, as of ``RECORDED_AT``."""


@dataclass(frozen=True, kw_only=True)
class Recording:
    """A vendor's simulator and what its client is asked."""

    simulator: Callable[[], SimulatorBase]
    reads: tuple[str, ...]
    """Fixture names, in the order they are read (a property after the
    requests whose answers set it).
    """


def _voipcloud() -> VoipcloudSimulator:
    """A morning of queue, ring-group and user calls, as test_voipcloud has."""
    sim = VoipcloudSimulator(clock=lambda: RECORDED_AT, generate=False, seed=5)
    sim.add_queue_call("Sales", start=_at(3), wait=25, talk=200)
    sim.add_queue_call("Sales", status="abandoned", start=_at(2), wait=70)
    sim.add_ringgroup_call("Reception", start=_at(1), wait=8, talk=30)
    sim.add_user_call(
        "1002", answered=False, start=_at(0.5), wait=20, caller_name="Ann"
    )
    return sim


def _pbxware() -> PbxwareSimulator:
    """Its live calls start before ``RECORDED_AT`` (it seeds them from the
    real clock).
    """
    with patch("time.time", return_value=RECORDED_AT.timestamp()):
        return PbxwareSimulator(extensions=4, seed=1)


RECORDINGS: dict[str, Recording] = {
    "pbxware": Recording(
        simulator=_pbxware,
        reads=(
            "identify",
            "get_tenants",
            "get_status",
            "get_extensions",
            "get_live_calls",
            "get_call_states",
            "get_dids",
        ),
    ),
    "voipcloud": Recording(
        simulator=_voipcloud,
        reads=("identify", "get_status", "get_calls", "get_call_states"),
    ),
    "voipcenter": Recording(
        # Its clock signs requests: the real one.
        simulator=lambda: VoipcenterSimulator(seed=9),
        reads=(
            "identify",
            "get_status",
            "get_extensions",
            "get_indicators",
            "get_did_routing",
            "get_hot_desks",
        ),
    ),
    "tariscope": Recording(
        simulator=lambda: TariscopeSimulator(
            subscribers=6, clock=lambda: RECORDED_AT, seed=8
        ),
        reads=("identify", "get_accounts"),
    ),
    "tim4biz": Recording(
        simulator=lambda: Tim4bizSimulator(
            extensions=3, clock=lambda: RECORDED_AT, seed=6
        ),
        reads=("identify", "get_extension_usage", "rate_limit_status"),
    ),
}


async def _read(client: PbxClient, name: str) -> Any:
    """What the client answers for the fixture ``name``."""
    attribute, _ = answering(type(client), name)
    if attribute == name:  # a property
        return getattr(client, name)
    return await getattr(client, attribute)(*ARGUMENTS.get(name, ()))


def _form(vendor: str, sim: SimulatorBase) -> dict[str, Any]:
    """What a user enters in the vendor's step to reach ``sim``."""
    settings = SETTINGS[vendor](sim)
    if isinstance(sim, VoipcenterSimulator):
        settings["password"] = sim.password  # the entry keeps only its hash
    return {
        field.key: settings[field.key]
        for field in VENDORS[vendor].fields
        if field.key in settings
    }


def _write(path: Path, value: Any, sim: SimulatorBase) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    text = text.replace(sim.url, f"https://{SERVER}").replace("127.0.0.1", SERVER)
    path.write_text(text)


async def record(vendor: str) -> None:
    """Start ``vendor``'s simulator, read every topic, write the fixtures."""
    recording = RECORDINGS[vendor]
    sim = recording.simulator()
    await sim.start()
    folder = FIXTURES / vendor / "models"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        form = _form(vendor, sim)
        _write(FIXTURES / vendor / "form.json", form, sim)
        async with aiohttp.ClientSession() as session:
            client = create_client(vendor, session, VENDORS[vendor].stored(form))
            for name in recording.reads:
                value = encode(
                    await _read(client, name), model_type(type(client), name)
                )
                _write(folder / f"{name}.json", value, sim)
    finally:
        await sim.stop()


def main(vendors: list[str]) -> None:
    """Record ``vendors``, or every vendor."""
    for vendor in vendors or list(VENDORS):
        asyncio.run(record(vendor))
        print(f"recorded {vendor}")


if __name__ == "__main__":
    main(sys.argv[1:])

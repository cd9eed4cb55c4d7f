"""Fake vendor PBX servers for tests, benchmarks and the demo.

Each simulator is an independent re-implementation of a vendor's server written from
the vendor's documentation. Start one in-process::

    async with PbxwareSimulator(extensions=10) as sim:
        ...  # sim.url, sim.api_key

or from the command line: ``python -m simulator pbxware --port 8099``.
"""

from __future__ import annotations

from .core import Fault, SimulatorBase
from .pbxware import PbxwareSimulator
from .tariscope import TariscopeSimulator
from .tim4biz import Tim4bizSimulator
from .voipcenter import VoipcenterSimulator
from .voipcloud import VoipcloudSimulator

VENDORS: dict[str, type[SimulatorBase]] = {
    simulator.vendor: simulator
    for simulator in (
        PbxwareSimulator,
        VoipcloudSimulator,
        VoipcenterSimulator,
        TariscopeSimulator,
        Tim4bizSimulator,
    )
}

__all__ = [
    "VENDORS",
    "Fault",
    "PbxwareSimulator",
    "SimulatorBase",
    "TariscopeSimulator",
    "Tim4bizSimulator",
    "VoipcenterSimulator",
    "VoipcloudSimulator",
]

"""Command line: ``python -m simulator <vendor> --port N [options]``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import sys

from . import VENDORS
from .core import SimulatorBase


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; vendor options a vendor does not use are ignored."""
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Serve a stateful fake PBX vendor API on loopback.",
    )
    parser.add_argument("vendor", choices=sorted(VENDORS), help="which vendor API")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8099, help="port (0: any free)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the fake data")
    parser.add_argument(
        "--extensions", type=int, default=10, help="extensions per tenant"
    )
    parser.add_argument("--dids", type=int, default=5, help="DIDs per tenant")
    parser.add_argument(
        "--multi-tenant", action="store_true", help="run in tenant mode"
    )
    parser.add_argument(
        "--tenants", type=int, default=2, help="tenants in multi-tenant mode"
    )
    parser.add_argument("--api-key", default=None, help="API key to accept")
    scale = parser.add_argument_group(
        "scale (for benchmarks; vendors that lack an item ignore it)"
    )
    scale.add_argument("--queues", type=int, default=2, help="VoIPcloud queues")
    scale.add_argument(
        "--ring-groups", type=int, default=1, help="VoIPcloud ring groups"
    )
    scale.add_argument(
        "--indicators", type=int, default=3, help="VoipCenter function indicators"
    )
    scale.add_argument("--hot-desks", type=int, default=2, help="VoipCenter hot desks")
    scale.add_argument(
        "--departments", type=int, default=3, help="Tariscope departments"
    )
    scale.add_argument("--nodes", type=int, default=2, help="Tariscope nodes")
    scale.add_argument(
        "--calls-per-hour",
        type=float,
        default=30.0,
        help="VoIPcloud calls generated per business hour",
    )
    scale.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="VoIPcloud requests per 15 minutes; TIM4biz per hour (ten times per day)",
    )
    scale.add_argument(
        "--frozen-clock",
        action="store_true",
        help="VoIPcloud, Tariscope, TIM4biz: the clock stands still at start, "
        "so no call arrives and nothing changes between polls; PBXware, "
        "VoipCenter: the calls' clock does (their request signing keeps real time); "
        "POST /_sim/clock moves it",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse command-line arguments."""
    return build_parser().parse_args(argv)


def create_simulator(options: argparse.Namespace) -> SimulatorBase:
    """The simulator the options ask for."""
    return VENDORS[options.vendor].from_cli(options)


async def serve(
    simulator: SimulatorBase,
    host: str,
    port: int,
    stop: asyncio.Event | None = None,
) -> None:
    """Start, print the banner, serve until ``stop`` is set (or forever)."""
    await simulator.start(host, port)
    try:
        print("\n".join(simulator.banner()), flush=True)
        await (stop or asyncio.Event()).wait()
    finally:
        await simulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until interrupted."""
    options = parse_args(argv)
    simulator = create_simulator(options)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(simulator, options.host, options.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())

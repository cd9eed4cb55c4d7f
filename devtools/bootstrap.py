"""Make a running Home Assistant ready to use: onboarding with the dev user,
one PBX Hub entry per simulator through PBX Hub's own config flow, and the
PBX Hub dashboard (the default one).

``python -m devtools.bootstrap --ha URL --vendor pbxware --vendor ...``; run by
scripts/develop once Home Assistant and the simulators are started. Running it
again logs in instead of onboarding and adds no entry twice.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
import os
import sys

import aiohttp

from .dashboard import build_dashboard, entry_info
from .homeassistant import BootstrapError, HomeAssistantApi, Json
from .vendors import (
    DEFAULT_CALL_NUMBER,
    DEV_NAME,
    DEV_PASSWORD,
    DEV_USERNAME,
    DEV_VENDORS,
    DevVendor,
)

DOMAIN = "pbx_hub"
DASHBOARD_URL_PATH = "pbx-hub"
"""The dev dashboard's own panel, http://127.0.0.1:8123/pbx-hub."""
DASHBOARD = {
    "url_path": DASHBOARD_URL_PATH,
    "title": "PBX Hub",
    "icon": "mdi:phone-voip",
    "show_in_sidebar": True,
    "require_admin": False,
}
STARTUP_SECONDS = 300
"""How long Home Assistant may take to answer (a first start installs packages)."""


@dataclass(frozen=True, kw_only=True)
class Simulated:
    """A running simulator: which vendor, at which address."""

    spec: DevVendor
    url: str


async def add_simulator(api: HomeAssistantApi, simulated: Simulated) -> str:
    """Add the simulator's PBX through the config flow; returns what happened."""
    result = await api.add_entry(
        DOMAIN, simulated.spec.vendor, simulated.spec.form(simulated.url)
    )
    if result["type"] == "create_entry":
        if simulated.spec.options:
            await api.set_options(
                result["result"]["entry_id"], dict(simulated.spec.options)
            )
        return f"added {result['title']}"
    if result["type"] == "abort" and result["reason"] == "already_configured":
        return "already configured"
    msg = f"{simulated.spec.vendor}: the config flow ended with {result}"
    raise BootstrapError(msg)


async def wait_for_entries_loaded(api: HomeAssistantApi) -> None:
    """Wait until every PBX Hub entry has finished setting up (bounded by the
    caller's ``asyncio.timeout``).
    """
    while True:
        states = {entry["state"] for entry in await api.entries(DOMAIN)}
        if not states & {"not_loaded", "setup_in_progress"}:
            return
        await asyncio.sleep(0.5)


async def ensure_dashboard(api: HomeAssistantApi) -> None:
    """Create the PBX Hub dashboard once, and make it everyone's default panel,
    as a user does under Settings > Dashboards.

    In Home Assistant 2026.10 the default panel is the generated "home"
    overview, and the legacy default dashboard (``url_path`` None) is not
    shown until a restart migrates it into a dashboard of its own.
    """
    dashboards = await api.ws("lovelace/dashboards/list")
    if not any(item["url_path"] == DASHBOARD_URL_PATH for item in dashboards):
        await api.ws("lovelace/dashboards/create", **DASHBOARD)
    core = (await api.ws("frontend/get_system_data", key="core"))["value"] or {}
    if core.get("default_panel") != DASHBOARD_URL_PATH:
        await api.ws(
            "frontend/set_system_data",
            key="core",
            value={**core, "default_panel": DASHBOARD_URL_PATH},
        )


async def save_dashboard(
    api: HomeAssistantApi, url_path: str = DASHBOARD_URL_PATH
) -> Json:
    """Build the dashboard from the registries and save it (the PBX Hub
    dashboard, created first when missing, by default).
    """
    infos = []
    for entry in await api.entries(DOMAIN):
        if entry["state"] != "loaded":
            # A PBX whose simulator is not running now (--vendor): no devices
            # to show, and no diagnostics to read.
            continue
        diagnostics = await api.get(
            f"/api/diagnostics/config_entry/{entry['entry_id']}"
        )
        vendor = diagnostics["data"]["entry"]["data"]["vendor"]
        spec = DEV_VENDORS.get(vendor)
        infos.append(
            entry_info(
                entry,
                diagnostics["data"],
                spec.call_number if spec else DEFAULT_CALL_NUMBER,
            )
        )
    config = build_dashboard(
        entries=infos,
        devices=await api.ws("config/device_registry/list"),
        entities=await api.ws("config/entity_registry/list"),
        states={state["entity_id"]: state for state in await api.get("/api/states")},
    )
    if url_path == DASHBOARD_URL_PATH:
        await ensure_dashboard(api)
    await api.ws("lovelace/config/save", config=config, url_path=url_path)
    return config


def _running(pid: int | None) -> bool:
    """Whether process ``pid`` (Home Assistant) still runs; no pid: assume so."""
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def bootstrap(
    base_url: str, simulators: Sequence[Simulated], hass_pid: int | None = None
) -> None:
    """Onboard (or log in), add every simulator, save the dashboard."""
    async with (
        aiohttp.ClientSession() as session,
        HomeAssistantApi(session, base_url) as api,
    ):
        async with asyncio.timeout(STARTUP_SECONDS):
            await api.wait_until_up(alive=lambda: _running(hass_pid))
        onboarded = await api.onboard_or_login(DEV_USERNAME, DEV_PASSWORD, DEV_NAME)
        print(
            f"devtools: {'onboarded' if onboarded else 'logged in'} as "
            f"{DEV_USERNAME!r}",
            flush=True,
        )
        for simulated in simulators:
            outcome = await add_simulator(api, simulated)
            print(f"devtools: {simulated.spec.vendor}: {outcome}", flush=True)
        async with asyncio.timeout(60):
            await wait_for_entries_loaded(api)
        await save_dashboard(api)
        print(f"devtools: dashboard saved: {base_url}/{DASHBOARD_URL_PATH}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line for scripts/develop."""
    parser = argparse.ArgumentParser(prog="python -m devtools.bootstrap")
    parser.add_argument("--ha", default="http://127.0.0.1:8123")
    parser.add_argument("--pid", type=int, help="Home Assistant's process id")
    parser.add_argument(
        "--vendor", action="append", choices=sorted(DEV_VENDORS), required=True
    )
    options = parser.parse_args(argv)
    simulators = [
        Simulated(
            spec=DEV_VENDORS[vendor],
            url=f"http://127.0.0.1:{DEV_VENDORS[vendor].port}",
        )
        for vendor in options.vendor
    ]
    try:
        asyncio.run(bootstrap(options.ha, simulators, options.pid))
    except BootstrapError as err:
        print(f"devtools: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

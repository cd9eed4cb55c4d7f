"""What a new user does in the browser: add PBX Hub through the config flow,
find the devices, switch DND, place a call from the dashboard.

The tests share one Home Assistant and run in order: the later ones use the
entry the first one adds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from devtools.bootstrap import Simulated, add_simulator, save_dashboard
from devtools.homeassistant import HomeAssistantApi
from devtools.vendors import DEV_VENDORS
from simulator import PbxwareSimulator, VoipcenterSimulator

from .conftest import run_api, screenshot

WAIT_SECONDS = 30


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a simulator-side condition (the simulator is not a web page
    Playwright can wait on): checked every 0.2 s, failing after 30 s.
    """
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_add_pbxware_through_the_config_flow(
    page: Page, home_assistant: str, pbxware_sim: PbxwareSimulator
) -> None:
    page.goto(f"{home_assistant}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.get_by_role("textbox", name="Search for a brand name").fill("PBX Hub")
    page.get_by_text("PBX Hub", exact=True).click()
    # The menu: pick the vendor.
    page.get_by_text("Bicom PBXware", exact=True).click()
    form = DEV_VENDORS["pbxware"].form(pbxware_sim.url)
    page.get_by_label("URL").fill(str(form["url"]))
    page.get_by_label("API key").fill(str(form["api_key"]))
    screenshot(page, "config-flow")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Created configuration for PBXware")).to_be_visible()
    page.get_by_role("button", name="Finish").click()
    assert pbxware_sim.request_count > 0

"""Voice: a request typed into Home Assistant's Assist dialog reaches the PBX
through PBX Hub's intent and the example sentences (linked in by ``prepare``).

Runs after test_ui.py, which adds the PBXware entry.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from devtools.bootstrap import DASHBOARD_URL_PATH
from simulator import PbxwareSimulator

from .conftest import screenshot

WAIT_SECONDS = 30


def test_dnd_by_voice_in_the_assist_dialog(
    page: Page, home_assistant: str, pbxware_sim: PbxwareSimulator
) -> None:
    tenant = next(iter(pbxware_sim.tenants.values()))
    extension = next(ext for ext in tenant.extensions.values() if not ext.dnd)
    page.goto(f"{home_assistant}/{DASHBOARD_URL_PATH}/pbxware-127-0-0-1")
    expect(page.locator("hui-entities-card").first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Assist\b")).click()
    request = page.get_by_role("textbox", name=re.compile("request", re.IGNORECASE))
    request.fill(f"turn do not disturb on for {extension.name}")
    request.press("Enter")
    expect(
        page.get_by_text(f"Do not disturb is on for {extension.name}")
    ).to_be_visible(timeout=WAIT_SECONDS * 1000)
    deadline = time.monotonic() + WAIT_SECONDS
    while not extension.dnd:
        assert time.monotonic() < deadline, "DND never reached the simulator"
        time.sleep(0.1)
    screenshot(page, "assist-dialog")

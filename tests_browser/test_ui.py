"""What a new user does in the browser: add PBX Hub through the config flow,
find the devices, switch DND, place a call from the dashboard.

The tests share one Home Assistant and run in order: the later ones use the
entry the first one adds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
import re
import time
from urllib.parse import urlparse

from playwright.sync_api import Page, expect

from devtools.bootstrap import (
    DASHBOARD_URL_PATH,
    Simulated,
    add_simulator,
    save_dashboard,
    wait_for_entries_loaded,
)
from devtools.homeassistant import HomeAssistantApi
from devtools.vendors import DEV_VENDORS
from simulator import PbxwareSimulator, VoipcenterSimulator

from .conftest import run_api, screenshot

WAIT_SECONDS = 30
BRAND = Path(__file__).parent.parent / "custom_components" / "pbx_hub" / "brand"
LOCAL_BRAND_IMAGE = re.compile(
    r"/api/brands/integration/pbx_hub/(?P<name>(dark_)?(icon|logo)(@2x)?\.png)"
)


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
    # The brand search has a placeholder but no label in the 2026 frontend.
    page.get_by_placeholder("Search for a brand name").fill("PBX Hub")
    page.get_by_role("button", name="PBX Hub", exact=True).click()
    # The menu: pick the vendor.
    page.get_by_text("Bicom PBXware", exact=True).click()
    assert pbxware_sim.url is not None
    form = DEV_VENDORS["pbxware"].form(pbxware_sim.url)
    # Required fields are named "URL*" and "API key*".
    page.get_by_role("textbox", name="URL").fill(str(form["url"]))
    page.get_by_role("textbox", name="API key").fill(str(form["api_key"]))
    screenshot(page, "config-flow")
    page.get_by_role("button", name="Submit").click()
    # The entry is created: the dialog now offers to name the new devices and
    # give them areas, the PBX's own first. (Its fields are slotted into the
    # dialog, not inside its element: found from the page.)
    device_names = page.get_by_role("textbox", name="Device name")
    expect(device_names.first).to_have_value(re.compile(r"^PBXware "))
    page.get_by_role("button", name="Skip and finish").click()
    expect(device_names).to_have_count(0)
    assert pbxware_sim.request_count > 0


def test_devices_and_dnd_switch(
    page: Page, home_assistant: str, pbxware_sim: PbxwareSimulator
) -> None:
    tenant = next(iter(pbxware_sim.tenants.values()))
    extension = next(ext for ext in tenant.extensions.values() if not ext.dnd)
    device_name = f"{extension.name} ({extension.ext})"
    page.goto(f"{home_assistant}/config/integrations/integration/pbx_hub")
    page.get_by_role("link", name=re.compile(r"^\d+ devices$")).click()
    page.get_by_text(device_name, exact=True).click()
    # The extension's device page: its registration, and the DND switch (beside
    # call forwarding's).
    expect(page.get_by_text("Registered", exact=True)).to_be_visible()
    dnd = page.get_by_label(re.compile(r"^Toggle .* Do not disturb")).get_by_label(
        "", exact=True
    )
    expect(dnd).not_to_be_checked()
    screenshot(page, "device-page")
    # The 2026 frontend's switch draws its thumb over its (checkbox) input: a
    # click at the switch's centre lands on the thumb, which toggles it, as a
    # user's click does; Playwright would wait for the input itself to be hit.
    dnd.click(force=True)
    wait_until(lambda: extension.dnd, f"DND on {device_name} in the simulator")
    expect(dnd).to_be_checked()


def test_integration_pages_show_the_brand_images(
    page: Page, home_assistant: str
) -> None:
    """Home Assistant serves PBX Hub's own images (``brand/``) at its local
    brands URL, and the integration cards and page load them: the browser
    reaches nothing but 127.0.0.1, so the brands CDN cannot stand in.
    """
    for url in (
        "config/integrations/dashboard",
        "config/integrations/integration/pbx_hub",
    ):
        page.goto(f"{home_assistant}/{url}")
        image = page.locator('img[src*="/api/brands/integration/pbx_hub/"]').first
        expect(image).to_be_visible()
        src = image.get_attribute("src")
        assert src is not None
        match = LOCAL_BRAND_IMAGE.fullmatch(urlparse(src).path)
        assert match, src
        page.wait_for_function(
            "image => image.complete && image.naturalWidth > 0",
            arg=image.element_handle(),
        )
        # No dark icon is shipped: Home Assistant answers dark_icon with icon.
        served = BRAND / match["name"].replace("dark_icon", "icon")
        assert page.request.get(src).body() == served.read_bytes(), src


def test_add_integration_search_finds_pbx_hub_by_name_only(
    page: Page, home_assistant: str
) -> None:
    """What the README says: Home Assistant searches a custom integration's
    name and domain, so no vendor's name finds PBX Hub; "PBX" does.
    """
    page.goto(f"{home_assistant}/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    search = page.get_by_placeholder("Search for a brand name")
    pbx_hub = page.get_by_role("button", name="PBX Hub", exact=True)
    vendors = ("Bicom", "PBXware", "VoIPcloud", "VoipCenter", "Tariscope", "TIM4biz")
    for vendor in vendors:
        # From a list that shows PBX Hub, so that its going away is the
        # vendor's search answered, not a list not drawn yet.
        search.fill("PBX")
        expect(pbx_hub).to_be_visible()
        search.fill(vendor)
        expect(pbx_hub).to_have_count(0)


async def _add_voipcenter(api: HomeAssistantApi, sim: VoipcenterSimulator) -> None:
    """Add the VoipCenter simulator's account (once) and wait until it loads."""
    assert sim.url is not None
    await add_simulator(api, Simulated(spec=DEV_VENDORS["voipcenter"], url=sim.url))
    async with asyncio.timeout(WAIT_SECONDS):
        await wait_for_entries_loaded(api)


def test_click_to_call_from_the_dashboard(
    page: Page, home_assistant: str, voipcenter_sim: VoipcenterSimulator
) -> None:
    async def add_and_show(api: HomeAssistantApi) -> None:
        await _add_voipcenter(api, voipcenter_sim)
        await save_dashboard(api)

    run_api(home_assistant, add_and_show)
    account = next(a for a in voipcenter_sim.sip_accounts.values() if a.online)
    placed = len(voipcenter_sim.calls_placed)
    page.goto(f"{home_assistant}/{DASHBOARD_URL_PATH}/voipcenter-123456")
    # The device bears the person's name and outgoing number, not the login.
    card = page.locator("hui-entities-card").filter(
        has_text=f"{account.voornaam} {account.naam} ({account.did_out})"
    )
    expect(card.get_by_role("button", name="Call")).to_be_visible()
    screenshot(page, "dashboard-click-to-call")
    card.get_by_role("button", name="Call").click()
    wait_until(
        lambda: len(voipcenter_sim.calls_placed) > placed,
        f"a call placed from {account.username} in the simulator",
    )
    call = voipcenter_sim.calls_placed[-1]
    assert call.sipacc == account.username
    assert call.telnr.endswith("91234567")


GENERATED = {
    "url_path": "generated-overview",
    "title": "Overview",
    "icon": "mdi:view-dashboard",
    "show_in_sidebar": False,
    "require_admin": False,
}
"""A dashboard left to Home Assistant's own generator, as a new user's
"Overview" is (strategy ``original-states``)."""


def test_generated_overview_has_no_cross_function_toggle(
    page: Page, home_assistant: str, voipcenter_sim: VoipcenterSimulator
) -> None:
    """Home Assistant's generated dashboard makes a card per device, and one
    per domain for devices of a single entity, with a header toggle over
    several switches. VoipCenter's function indicators are routing settings
    it leaves out, so no toggle flips night mode, emergency routing and
    holidays together; each number's routes have a card of their own.
    """

    async def add_and_generate(api: HomeAssistantApi) -> None:
        await _add_voipcenter(api, voipcenter_sim)
        dashboards = await api.ws("lovelace/dashboards/list")
        if not any(item["url_path"] == GENERATED["url_path"] for item in dashboards):
            await api.ws("lovelace/dashboards/create", **GENERATED)
        await api.ws(
            "lovelace/config/save",
            url_path=GENERATED["url_path"],
            config={"strategy": {"type": "original-states"}},
        )

    run_api(home_assistant, add_and_generate)
    page.goto(f"{home_assistant}/{GENERATED['url_path']}/0")
    did = next(iter(voipcenter_sim.dids.values()))
    cards = page.locator("hui-entities-card")
    expect(cards.filter(has_text=did.number).first).to_be_visible()
    names = [indicator.naam for indicator in voipcenter_sim.indicators.values()]
    assert len(names) > 1
    for name in names:
        # get_by_text reaches into the cards' shadow roots.
        expect(page.get_by_text(name, exact=True)).to_have_count(0)
    screenshot(page, "dashboard-generated")


def test_dashboard(page: Page, home_assistant: str) -> None:
    page.goto(f"{home_assistant}/{DASHBOARD_URL_PATH}/pbxware-127-0-0-1")
    expect(page.locator("hui-entities-card").first).to_be_visible()
    expect(page.get_by_text("Do not disturb").first).to_be_visible()
    screenshot(page, "dashboard")

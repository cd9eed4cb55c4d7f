"""A real Home Assistant (a subprocess on a free loopback port, temporary
configuration), simulators in a background thread the tests can inspect, and
Debian's Chromium driven by Playwright.

Run by scripts/test after the main suite, in its own pytest run without the
Home Assistant test plugin (it blocks sockets and replaces the event loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
import os
from pathlib import Path
import re
import shutil
import socket
import subprocess
import sys
import threading
from typing import Any

import aiohttp
from playwright.sync_api import (
    Browser,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)
import pytest

from devtools.config import ROOT, prepare, store_http_config
from devtools.homeassistant import HomeAssistantApi
from devtools.vendors import DEV_NAME, DEV_PASSWORD, DEV_USERNAME, DEV_VENDORS
from simulator import SimulatorBase
from simulator.__main__ import create_simulator, parse_args

CHROMIUM = os.environ.get("PBX_HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / ".browser-test"
"""Home Assistant's log and the last page shown, to read after a failure."""
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else ARTIFACTS / "screenshots"
)
"""The README's screenshots are refreshed only on request: live figures differ on
every run, and a test run should not leave the work tree changed."""
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
STARTUP_SECONDS = 180


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without Chromium (where .ci/run could not install it) every browser test
    is skipped, saying why.
    """
    if Path(CHROMIUM).exists():
        return
    reason = (
        f"browser tests skipped: no Chromium at {CHROMIUM} "
        "(Debian: apt-get install chromium; scripts/test installs it into the "
        "forky root, .ci/run on a host with its own python3.14)"
    )
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


expect.set_options(timeout=30_000)


class SimulatorLoop:
    """An event loop in a thread that serves simulators while tests run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run[T](self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the simulators' loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="session")
def simulator_loop() -> Iterator[SimulatorLoop]:
    loop = SimulatorLoop()
    yield loop
    loop.close()


def _start(loop: SimulatorLoop, vendor: str) -> Iterator[SimulatorBase]:
    """The vendor's simulator, built from the same command line scripts/develop
    uses, on a free port.
    """
    command = DEV_VENDORS[vendor].command(port=0)
    simulator = create_simulator(parse_args(command[3:]))
    loop.run(simulator.start("127.0.0.1", 0))
    yield simulator
    loop.run(simulator.stop())


@pytest.fixture(scope="session")
def pbxware_sim(simulator_loop: SimulatorLoop) -> Iterator[SimulatorBase]:
    yield from _start(simulator_loop, "pbxware")


@pytest.fixture(scope="session")
def voipcenter_sim(simulator_loop: SimulatorLoop) -> Iterator[SimulatorBase]:
    yield from _start(simulator_loop, "voipcenter")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_api[T](base_url: str, action: Callable[[HomeAssistantApi], Awaitable[T]]) -> T:
    """Log in as the dev user and run ``action(api)`` on a fresh loop."""

    async def main() -> T:
        async with (
            aiohttp.ClientSession() as session,
            HomeAssistantApi(session, base_url) as api,
        ):
            await api.login(DEV_USERNAME, DEV_PASSWORD)
            return await action(api)

    # In a thread of its own: Playwright's sync API keeps a loop running here.
    with ThreadPoolExecutor(1) as executor:
        return executor.submit(asyncio.run, main()).result()


@pytest.fixture(scope="session")
def home_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh Home Assistant with the dev configuration, onboarded with the
    dev user through the onboarding API.
    """
    config = tmp_path_factory.mktemp("ha-config")
    port = _free_port()
    yaml = (ROOT / "config" / "configuration.yaml").read_text(encoding="utf-8")
    yaml = yaml.replace("default: info", "default: warning")
    (config / "configuration.yaml").write_text(yaml, encoding="utf-8")
    # The address and port go to the http store, as the UI would save them: the
    # `http:` YAML is deprecated (2026.11).
    store_http_config(config, "127.0.0.1", port)
    prepare(config)
    log = (config / "hass-console.log").open("wb")
    hass = Path(sys.executable).with_name("hass")
    process = subprocess.Popen(
        [str(hass), "-c", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"

    async def onboard() -> None:
        async with (
            aiohttp.ClientSession() as session,
            HomeAssistantApi(session, base_url) as api,
        ):
            async with asyncio.timeout(STARTUP_SECONDS):
                await api.wait_until_up(alive=lambda: process.poll() is None)
            await api.onboard_or_login(DEV_USERNAME, DEV_PASSWORD, DEV_NAME)

    try:
        asyncio.run(onboard())
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(config / "hass-console.log", ARTIFACTS / "home-assistant.log")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, home_assistant: str) -> Iterator[Page]:
    """A new browser context, logged in as the dev user on the login page."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    # Loopback only: the frontend would fetch brand icons from the internet.
    context.route(
        re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), lambda route: route.abort()
    )
    page = context.new_page()
    page.goto(home_assistant)
    page.locator("input[name=username]").fill(DEV_USERNAME)
    page.locator("input[name=password]").fill(DEV_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The default panel: "home" (the generated overview) in 2026.10, "lovelace"
    # before, the PBX Hub dashboard once saved: any page but login's will do.
    page.wait_for_url(lambda url: "/auth/" not in url and "auth_callback" not in url)
    expect(page.locator("ha-sidebar")).to_be_visible()
    yield page
    # What the browser showed last, for a failure's report.
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "last-page.png")
    context.close()


def screenshot(page: Page, name: str) -> None:
    """Save a screenshot (docs/screenshots/NAME.png with UPDATE_SCREENSHOTS=1)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled")

"""Fixtures shared by every test: simulators on loopback and config entries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from datetime import timedelta
import json
import logging
from pathlib import Path
import time
from typing import Any
from unittest.mock import PropertyMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

# Import our package before Home Assistant puts its test config dir on sys.path,
# where pytest-homeassistant-custom-component keeps a `custom_components` of its own.
import custom_components.pbx_hub  # noqa: F401
from custom_components.pbx_hub import diagnostics
from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from . import vendor_sims, vendors
from .secret_guard import RecordKeeper, SecretGuard
from .vendors import SkewableClock

FIXTURES = Path(__file__).parent / "fixtures"
pbxware_settings = vendor_sims.pbxware_settings
"""Some test modules import it from here."""


def load_fixture_json(name: str) -> Any:
    """A recorded body from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load custom_components/pbx_hub."""
    return


GUARDED_LOGGERS = ("custom_components.pbx_hub", "homeassistant.config_entries")
"""Loggers read at DEBUG by the secret guard: the integration's and the one
that logs its setup errors.
"""


@pytest.fixture(autouse=True)
def secret_guard(
    request: pytest.FixtureRequest,
    hass: HomeAssistant,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SecretGuard]:
    """Fail the test if a configured secret shows in logs, errors raised to
    Home Assistant, diagnostics, snapshots, states or repair issues (see
    ``tests/secret_guard.py``).
    """
    guard = SecretGuard()
    guard.install(monkeypatch.setattr)
    dump = diagnostics.async_get_config_entry_diagnostics

    async def recorded_dump(*args: Any) -> dict[str, Any]:
        result = await dump(*args)
        guard.diagnostics.append(result)
        return result

    monkeypatch.setattr(
        diagnostics, "async_get_config_entry_diagnostics", recorded_dump
    )
    issue_token = TariscopeSimulator.issue_token

    def registered_token(sim: TariscopeSimulator, *args: Any, **kw: Any) -> str:
        token = issue_token(sim, *args, **kw)
        guard.register(token)
        return token

    monkeypatch.setattr(TariscopeSimulator, "issue_token", registered_token)
    root = logging.getLogger()
    root.addHandler(guard.log)
    levels = {name: logging.getLogger(name).level for name in GUARDED_LOGGERS}
    for name in GUARDED_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield guard
    finally:
        root.removeHandler(guard.log)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    if (marker := request.node.get_closest_marker("handles_secrets")) is None:
        snapshots = request.path.parent / "snapshots" / f"{request.path.stem}.ambr"
        if leaks := guard.findings(hass, snapshots):
            pytest.fail("A configured secret leaked:\n" + "\n".join(leaks))
    elif not marker.args:
        pytest.fail("handles_secrets needs a reason")


@pytest.fixture(autouse=True)
def no_deprecated_usage() -> Iterator[None]:
    """Fail the test in which PBX Hub uses an API Home Assistant reports as
    deprecated (``helpers.frame.report_usage``: "Detected that custom
    integration 'pbx_hub' ..."). Home Assistant reports each use once per run.
    """
    handler = RecordKeeper()
    reporter = logging.getLogger("homeassistant.helpers.frame")
    reporter.addHandler(handler)
    try:
        yield
    finally:
        reporter.removeHandler(handler)
    if reported := [
        record.getMessage()
        for record in handler.records
        if "integration 'pbx_hub'" in record.getMessage()
    ]:
        pytest.fail("Deprecated Home Assistant API used:\n" + "\n".join(reported))


@pytest.fixture(autouse=True)
def loopback_sockets(request: pytest.FixtureRequest) -> None:
    """Allow sockets to the slow tier (tests marked ``slow``), which the
    harness still lets connect to 127.0.0.1 only. The fast tier keeps them
    blocked: a test that reaches a server or simulator must be marked slow.
    """
    if request.node.get_closest_marker("slow") is not None:
        request.getfixturevalue("socket_enabled")


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable the entities that are disabled by default (as core's fixture does)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serialisers."""
    from pytest_homeassistant_custom_component.syrupy import (
        HomeAssistantSnapshotExtension,
    )

    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def sim_extensions() -> int:
    """How many extensions the simulator seeds; override per module."""
    return 4


@pytest.fixture
def multi_tenant() -> bool:
    """Whether the simulator runs in multi-tenant mode; override per module."""
    return False


@pytest.fixture
async def pbxware_sim(
    sim_extensions: int, multi_tenant: bool
) -> AsyncIterator[PbxwareSimulator]:
    """A PBXware simulator on an ephemeral loopback port."""
    sim = PbxwareSimulator(extensions=sim_extensions, multi_tenant=multi_tenant, seed=1)
    await sim.start()
    yield sim
    await sim.stop()


def find_device(
    registry: dr.DeviceRegistry, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """The device with ``identifier``, whichever entry owns it (Home Assistant's
    ``async_get_device`` is deprecated: identifiers are unique per entry only).
    """
    return next(
        (device for device in registry.devices if identifier in device.identifiers),
        None,
    )


def shown_tracebacks(records: list[logging.LogRecord]) -> list[logging.LogRecord]:
    """Records a user would see with a traceback: INFO and above. Home
    Assistant's coordinator adds the traceback of every failed poll at DEBUG
    ("Full error:"), which is its design, not an unexpected error.
    """
    return [
        record
        for record in records
        if record.levelno >= logging.INFO
        and (record.exc_info is not None or "Traceback" in record.getMessage())
    ]


async def save_options(
    hass: HomeAssistant, entry: MockConfigEntry, **changes: Any
) -> None:
    """Save ``changes`` over the entry's options through its options flow, as
    the Configure button does; the flow reloads the entry when they differ.
    """
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM, result
    fields = {str(key) for key in result["data_schema"].schema}
    answers = {
        key: value
        for key, value in {**entry.options, **changes}.items()
        if key in fields
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], answers
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    await hass.async_block_till_done(wait_background_tasks=True)


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add ``entry`` and set it up, waiting for its platforms."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def wait_until_held(hass: HomeAssistant, sim: SimulatorBase) -> None:
    """Real time for loopback I/O until the simulator holds a request."""
    for _ in range(500):
        if sim.in_flight:
            return
        await hass.async_add_executor_job(time.sleep, 0.002)
    raise AssertionError("no request reached the simulator")


async def click_to_call(
    hass: HomeAssistant, entry: MockConfigEntry, user_number: str, number: str
) -> HomeAssistantError | None:
    """Call ``number`` from ``user_number`` through the entry; the error the
    action raised, ``None`` when it succeeded.
    """
    try:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {
                "config_entry_id": entry.entry_id,
                "user_number": user_number,
                "number": number,
            },
            blocking=True,
        )
    except HomeAssistantError as err:
        return err
    return None


@pytest.fixture
def pbxware_entry(pbxware_sim: PbxwareSimulator) -> MockConfigEntry:
    """A single-tenant PBXware entry pointing at the simulator."""
    return vendors.pbxware_entry(pbxware_sim, entry_id="01JPBXHUBTESTENTRY0000000")


@pytest.fixture
async def voipcloud_sim() -> AsyncIterator[VoipcloudSimulator]:
    """A quiet VoIPcloud (calls only where a test adds them) on Home
    Assistant's clock, which a test may freeze.
    """
    sim = VoipcloudSimulator(clock=dt_util.utcnow, generate=False, seed=5)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
def vendor_sim(request: pytest.FixtureRequest, vendor: str) -> SimulatorBase:
    """The simulator fixture of the test's ``vendor`` parameter, started
    before the test runs (an async fixture cannot be asked for from inside
    an async test).
    """
    sim: SimulatorBase = request.getfixturevalue(f"{vendor}_sim")
    return sim


@pytest.fixture
def voipcenter_clock() -> SkewableClock:
    """The VoipCenter simulator's clock, which a test may set off."""
    return SkewableClock()


@pytest.fixture
async def voipcenter_sim(
    voipcenter_clock: SkewableClock,
) -> AsyncIterator[VoipcenterSimulator]:
    """A VoipCenter simulator on the real clock, plus ``voipcenter_clock``'s offset."""
    sim = VoipcenterSimulator(clock=voipcenter_clock, seed=9)
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def tariscope_sim() -> AsyncIterator[TariscopeSimulator]:
    """A Tariscope simulator of six subscribers on Home Assistant's clock,
    its tokens living an hour.
    """
    sim = TariscopeSimulator(
        subscribers=6, clock=dt_util.utcnow, token_lifetime=timedelta(hours=1), seed=8
    )
    await sim.start()
    yield sim
    await sim.stop()


@pytest.fixture
async def tim4biz_sim() -> AsyncIterator[Tim4bizSimulator]:
    """A TIM4biz simulator of three extensions on Home Assistant's clock."""
    sim = Tim4bizSimulator(extensions=3, clock=dt_util.utcnow, seed=6)
    await sim.start()
    yield sim
    await sim.stop()

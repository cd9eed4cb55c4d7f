"""Diagnostics are complete and carry no secret; logs carry no secret either."""

from __future__ import annotations

from dataclasses import replace
import html
import json
import logging

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from simulator import Fault, PbxwareSimulator

from .conftest import setup_entry, shown_tracebacks
from .vendors import pbxware_entry

pytestmark = pytest.mark.slow


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    # The simulator stamps live calls with the wall clock: pin them.
    tenant = pbxware_sim.tenant()
    tenant.calls = {
        f"call-{n}": replace(call, id=f"call-{n}", timestamp=1_700_000_000 + n)
        for n, call in enumerate(tenant.calls.values())
    }
    await setup_entry(hass, pbxware_entry)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, pbxware_entry
    )
    dumped = json.dumps(diagnostics)
    assert pbxware_sim.api_key not in dumped
    for extension in tenant.extensions.values():
        assert extension.name not in dumped
        assert extension.email not in dumped
    assert diagnostics == snapshot


def _is_socket_reset(record: logging.LogRecord) -> bool:
    """The event loop's debug mode logs, with a traceback, the reset a client
    causes when it stops reading a 10 MiB body: the simulator's socket, not an
    error of PBX Hub's. Which side sees it (a read or, when the simulator is
    still writing, a write; reset, broken pipe or aborted) depends on timing. Any other
    record of the event loop still counts.
    """
    return (
        record.name == "asyncio"
        and record.levelno == logging.DEBUG
        and any(
            f"Fatal {side} error on socket transport" in record.getMessage()
            for side in ("read", "write")
        )
        and record.exc_info is not None
        and isinstance(record.exc_info[1], ConnectionError)
    )


def test_only_the_socket_reset_is_ignored() -> None:
    def record(level: int, message: str, error: BaseException) -> logging.LogRecord:
        return logging.LogRecord(
            "asyncio", level, __file__, 1, message, None, (type(error), error, None)
        )

    reset = ConnectionResetError(104, "Connection reset by peer")
    fatal_read = "<_SelectorSocketTransport fd=9>: Fatal read error on socket transport"
    assert _is_socket_reset(record(logging.DEBUG, fatal_read, reset))
    fatal_write = (
        "<_SelectorSocketTransport fd=9>: Fatal write error on socket transport"
    )
    assert _is_socket_reset(record(logging.DEBUG, fatal_write, BrokenPipeError(32)))
    assert not _is_socket_reset(
        record(logging.DEBUG, "Fatal error on transport", reset)
    )
    assert not _is_socket_reset(
        record(logging.ERROR, "Task exception was never retrieved", reset)
    )
    assert not _is_socket_reset(record(logging.DEBUG, fatal_read, OSError("other")))
    assert not _is_socket_reset(record(logging.ERROR, fatal_read, reset))


async def test_no_secret_in_logs(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every fault the simulator injects ends in unavailable entities or a logged
    error, never a traceback, and no log line at debug level holds the API key."""
    caplog.set_level("DEBUG")
    await setup_entry(hass, pbxware_entry)
    runtime = pbxware_entry.runtime_data
    runtime.client.http.request_timeout = 0.3
    for fault in Fault:
        pbxware_sim.inject(fault, count=20, latency=0.05)
        await runtime.async_refresh()
        await hass.async_block_till_done()
        pbxware_sim.clear_faults()
        runtime.client.http.budget.resume()
    assert "Error fetching" in caplog.text
    logged = [r for r in caplog.records if not _is_socket_reset(r)]
    assert not shown_tracebacks(logged)
    assert pbxware_sim.api_key not in caplog.text


@pytest.mark.handles_secrets(
    "the simulated PBX echoes its key into a phone's user agent, which the"
    " registration sensor shows: only the diagnostics are checked here"
)
async def test_diagnostics_redact_a_key_the_pbx_echoes_transformed(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """Redaction by key cannot see a secret inside another value: every text
    of the dump goes through the client's redaction too, which finds it
    lower-cased or HTML-escaped.
    """
    key = "Sim-PBXware-Key/With&0123456789"
    sim = PbxwareSimulator(extensions=2, api_key=key, seed=1)
    await sim.start()
    try:
        first, second = sim.tenant().extensions.values()
        first.user_agent = f"Yealink {key.lower()}"
        second.user_agent = f"Yealink {html.escape(key)}"
        entry = pbxware_entry(sim)
        await setup_entry(hass, entry)
        dumped = json.dumps(
            await get_diagnostics_for_config_entry(hass, hass_client, entry)
        ).lower()
    finally:
        await sim.stop()
    assert "yealink **redacted**" in dumped
    assert key.lower() not in dumped
    assert html.escape(key).lower() not in dumped
    assert key.lower()[:12] not in dumped

"""A distinct secret planted in every secret setting of every vendor, through
the whole life of an entry: a config flow first refused (wrong secrets, which
the simulators may echo), then accepted, the entry's setup and polls, a
diagnostics dump, credentials revoked (polls fail, reauthentication starts),
and removal. The secret guard (``tests/secret_guard.py``) then finds none of
them in logs, errors raised to Home Assistant, diagnostics, states or repairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.pbx_hub import diagnostics
from custom_components.pbx_hub.client import VENDORS, Cadence
from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    Fault,
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from .secret_guard import SecretGuard

pytestmark = pytest.mark.slow


def planted(field: str) -> str:
    """A secret no other text contains, with characters that need quoting."""
    return f"PLANTED-{field}-s3cr3t+/=&0123456789"


@dataclass(frozen=True)
class Case:
    simulator: Callable[[], SimulatorBase]
    form: Callable[[Any], dict[str, Any]]


CASES: dict[str, Case] = {
    "pbxware": Case(
        lambda: PbxwareSimulator(extensions=2, api_key=planted("api_key")),
        lambda sim: {"url": sim.url, "api_key": planted("api_key"), "verify_ssl": True},
    ),
    "voipcloud": Case(
        lambda: VoipcloudSimulator(token=planted("token"), generate=False),
        lambda sim: {"url": sim.url, "token": planted("token")},
    ),
    "voipcenter": Case(
        lambda: VoipcenterSimulator(
            api_key=planted("api_key"), password=planted("password")
        ),
        lambda sim: {
            "url": f"{sim.url}/api/",
            "api_id": sim.api_id,
            "api_key": planted("api_key"),
            "customer_number": sim.customer_number,
            "password": planted("password"),
        },
    ),
    "tariscope": Case(
        lambda: TariscopeSimulator(
            subscribers=2, users={"apiuser": planted("password")}
        ),
        lambda sim: {
            "url": sim.url,
            "username": "apiuser",
            "password": planted("password"),
            "verify_ssl": True,
        },
    ),
    "tim4biz": Case(
        lambda: Tim4bizSimulator(
            extensions=2, username="apiuser", password=planted("password")
        ),
        lambda sim: {
            "url": f"{sim.url}/api/",
            "username": "apiuser",
            "password": planted("password"),
        },
    ),
}


def test_every_vendor_and_secret_field_is_planted() -> None:
    assert set(CASES) == set(VENDORS)
    for vendor, spec in VENDORS.items():
        form = CASES[vendor].form(
            type("Sim", (), {"url": "http://x", "api_id": "a", "customer_number": "1"})
        )
        secret_fields = {field.key for field in spec.fields if field.secret}
        assert {key for key, value in form.items() if value == planted(key)} == (
            secret_fields
        )


def _wrong(form: dict[str, Any], vendor: str) -> dict[str, Any]:
    secrets = {field.key for field in VENDORS[vendor].fields if field.secret}
    return {
        key: f"WRONG-{value}" if key in secrets else value
        for key, value in form.items()
    }


@pytest.mark.parametrize("vendor", sorted(CASES))
async def test_planted_secrets_leak_nowhere(
    hass: HomeAssistant, secret_guard: SecretGuard, vendor: str
) -> None:
    case = CASES[vendor]
    sim = case.simulator()
    await sim.start()
    try:
        form = case.form(sim)
        wrong = _wrong(form, vendor)
        # The secrets the user types are guarded, the wrong ones too.
        secrets = {field.key for field in VENDORS[vendor].fields if field.secret}
        secret_guard.register(*(wrong[key] for key in secrets))

        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": config_entries.SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": vendor}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], wrong
        )
        assert result["errors"] == {"base": "invalid_auth"}
        result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED

        dump = await diagnostics.async_get_config_entry_diagnostics(hass, entry)
        assert dump["entry"]["data"]
        assert secret_guard.findings(hass) == []

        await entry.runtime_data.async_refresh(Cadence.FAST)
        await entry.runtime_data.async_refresh(Cadence.SLOW)
        sim.inject(Fault.AUTH_REVOKED)
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_ERROR
        assert any(
            flow["context"]["source"] == config_entries.SOURCE_REAUTH
            for flow in hass.config_entries.flow.async_progress()
        )

        await hass.config_entries.async_remove(entry.entry_id)
        await hass.async_block_till_done()
        # Planted, and looked for: every secret the user typed is registered.
        assert {form[key] for key in secrets} <= secret_guard.secrets
        assert secret_guard.findings(hass) == []
    finally:
        await sim.stop()

"""Per vendor, a config entry with the settings that reach its simulator: one
copy for every test (the settings are in vendor_sims.py, without Home
Assistant, for the client tests too; the simulator fixtures are in conftest.py).
"""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.const import DOMAIN
from simulator import (
    PbxwareSimulator,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

from .vendor_sims import (
    pbxware_settings,
    tariscope_settings,
    tim4biz_settings,
    voipcenter_settings,
    voipcloud_settings,
)


def _entry(
    title: str,
    unique_id: str,
    data: dict[str, Any],
    entry_id: str | None,
    options: dict[str, Any],
) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        data=data,
        options=options,
        entry_id=entry_id,
    )


def pbxware_entry(
    sim: PbxwareSimulator, *, entry_id: str | None = None, **options: Any
) -> MockConfigEntry:
    """A single-tenant PBXware entry on ``sim``, with ``options``."""
    return _entry(
        "PBXware 127.0.0.1", "127.0.0.1", pbxware_settings(sim), entry_id, options
    )


def pbxware_tenant_entry(sim: PbxwareSimulator) -> MockConfigEntry:
    """An entry for the first tenant of a multi-tenant PBXware on ``sim``
    (its identification checks the tenant with ``tenant.list``).
    """
    tenant_id = next(iter(sim.tenants))
    return _entry(
        "Tenant",
        f"127.0.0.1_{tenant_id}",
        pbxware_settings(sim, tenant=tenant_id),
        None,
        {},
    )


def voipcloud_entry(
    sim: VoipcloudSimulator, *, entry_id: str | None = None, **options: Any
) -> MockConfigEntry:
    """A VoIPcloud entry on ``sim``, with ``options``."""
    return _entry(
        "VoIPcloud 127.0.0.1",
        "127.0.0.1_testaccount",
        voipcloud_settings(sim),
        entry_id,
        options,
    )


def voipcenter_entry(
    sim: VoipcenterSimulator, *, entry_id: str | None = None, **options: Any
) -> MockConfigEntry:
    """A VoipCenter entry on ``sim``, with ``options``."""
    return _entry(
        "VoipCenter 123456",
        f"voipcenter_{sim.customer_number}",
        voipcenter_settings(sim),
        entry_id,
        options,
    )


def tariscope_entry(
    sim: TariscopeSimulator, *, entry_id: str | None = None, **options: Any
) -> MockConfigEntry:
    """A Tariscope entry on ``sim``, with ``options``."""
    return _entry("Tariscope", sim.serial, tariscope_settings(sim), entry_id, options)


def tim4biz_entry(
    sim: Tim4bizSimulator, *, entry_id: str | None = None, **options: Any
) -> MockConfigEntry:
    """A TIM4biz entry on ``sim``, with ``options``."""
    return _entry(
        "TIM4biz",
        f"tim4biz_{sim.username.lower()}",
        tim4biz_settings(sim),
        entry_id,
        options,
    )


class SkewableClock:
    """VoipCenter's simulator clock: the real one, plus an offset a test can
    set (the simulator signs with time stamps and refuses skewed ones).
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


ENTRIES: dict[str, Callable[..., MockConfigEntry]] = {
    "pbxware": pbxware_entry,
    "voipcloud": voipcloud_entry,
    "voipcenter": voipcenter_entry,
    "tariscope": tariscope_entry,
    "tim4biz": tim4biz_entry,
}
"""Each vendor's entry builder, for tests that run every vendor."""

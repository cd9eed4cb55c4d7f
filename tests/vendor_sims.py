"""Per vendor, without Home Assistant (the client tests use it too): the
settings that reach its simulator, and what the simulator keeps of the actions
it carried out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from custom_components.pbx_hub.client.voipcenter import password_hash
from simulator import (
    PbxwareSimulator,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)

VENDOR_KEY = "vendor"
"""The entry data's key for the vendor (the integration's ``CONF_VENDOR``,
which cannot be imported without Home Assistant)."""


def pbxware_settings(sim: PbxwareSimulator, **overrides: Any) -> dict[str, Any]:
    """Config entry data that reaches ``sim``."""
    return {
        VENDOR_KEY: "pbxware",
        "url": sim.url,
        "api_key": sim.api_key,
        "verify_ssl": True,
        **overrides,
    }


def voipcloud_settings(sim: VoipcloudSimulator) -> dict[str, Any]:
    """Config entry data that reaches ``sim``."""
    return {VENDOR_KEY: "voipcloud", "url": sim.url, "token": sim.token}


def voipcenter_settings(sim: VoipcenterSimulator) -> dict[str, Any]:
    """Config entry data that reaches ``sim``: the password's hash, as the
    config flow keeps it.
    """
    return {
        VENDOR_KEY: "voipcenter",
        "url": f"{sim.url}/api/",
        "api_id": sim.api_id,
        "api_key": sim.api_key,
        "customer_number": sim.customer_number,
        "password_hash": password_hash(sim.password),
    }


def tariscope_settings(sim: TariscopeSimulator) -> dict[str, Any]:
    """Config entry data that reaches ``sim``."""
    return {
        VENDOR_KEY: "tariscope",
        "url": sim.url,
        "username": sim.username,
        "password": sim.password,
        "verify_ssl": True,
    }


def tim4biz_settings(sim: Tim4bizSimulator) -> dict[str, Any]:
    """Config entry data that reaches ``sim``."""
    return {
        VENDOR_KEY: "tim4biz",
        "url": f"{sim.url}/api/",
        "username": sim.username,
        "password": sim.password,
    }


SETTINGS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "pbxware": pbxware_settings,
    "voipcloud": voipcloud_settings,
    "voipcenter": voipcenter_settings,
    "tariscope": tariscope_settings,
    "tim4biz": tim4biz_settings,
}
"""Each vendor's settings, for tests that run every vendor."""


def _dnd_set(sim: PbxwareSimulator) -> list[tuple[str, ...]]:
    return sorted(
        (extension.id,)
        for tenant in sim.tenants.values()
        for extension in tenant.extensions.values()
        if extension.dnd
    )


def _calls_to_number(sim: VoipcloudSimulator) -> list[tuple[str, ...]]:
    return [(call.user_number, call.number_to_call) for call in sim.calls_to_number]


def _calls_placed(sim: VoipcenterSimulator) -> list[tuple[str, ...]]:
    return [(call.sipacc, call.telnr) for call in sim.calls_placed]


def _sent_sms(sim: Tim4bizSimulator) -> list[tuple[str, ...]]:
    return [(sms.recipient, sms.message) for sms in sim.sent_sms]


def _nothing_kept(sim: TariscopeSimulator) -> list[tuple[str, ...]]:
    """Tariscope's only action reads: the simulator keeps nothing of it."""
    return []


DONE: dict[str, Callable[[Any], list[tuple[str, ...]]]] = {
    "pbxware": _dnd_set,
    "voipcloud": _calls_to_number,
    "voipcenter": _calls_placed,
    "tariscope": _nothing_kept,
    "tim4biz": _sent_sms,
}
"""What each vendor's simulator keeps of the actions it carried out (DND set,
calls placed, messages sent): an action refused or failed adds nothing.
"""

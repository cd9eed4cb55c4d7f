"""Each vendor's declared capabilities say what its client implements: an
action group is an ``abilities`` interface it inherits, a topic a getter it
overrides. The base class carries no action that only says "unsupported".
"""

from __future__ import annotations

import inspect

import pytest

from custom_components.pbx_hub.client import (
    ABILITIES,
    VENDORS,
    Capability,
    PbxClient,
)

GETTERS = {
    Capability.STATUS: "async_get_status",
    Capability.EXTENSIONS: "async_get_extensions",
    Capability.LIVE_CALLS: "async_get_live_calls",
    Capability.DIDS: "async_get_dids",
    Capability.CALL_HISTORY: "async_get_calls",
    Capability.EXTENSION_USAGE: "async_get_extension_usage",
    Capability.INDICATORS: "async_get_indicators",
    Capability.DID_ROUTING: "async_get_did_routing",
    Capability.HOT_DESKS: "async_get_hot_desks",
    Capability.ACCOUNTS: "async_get_accounts",
    Capability.CALL_STATES: "async_get_call_states",
    Capability.CALL_FORWARDING: "async_get_call_forwarding",
}
"""The topics still read through a getter of the base class."""
BY_SETTING = {Capability.CALL_PUSH: "push_channel"}
"""Offered by an instance whose settings ask for it (VoipCenter's push user)."""


def test_every_capability_is_an_ability_or_a_getter() -> None:
    by_ability = {ability.capability for ability in ABILITIES}
    assert not by_ability & set(GETTERS)
    assert by_ability | set(GETTERS) | set(BY_SETTING) == set(Capability)


def test_the_base_class_has_no_action_methods() -> None:
    for ability in ABILITIES:
        for name in ability.__abstractmethods__:
            assert not hasattr(PbxClient, name), name


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_declared_capabilities_match_what_is_implemented(vendor: str) -> None:
    client_class = VENDORS[vendor].client_class
    assert not inspect.isabstract(client_class)
    implemented = {
        ability.capability for ability in ABILITIES if issubclass(client_class, ability)
    } | {
        capability
        for capability, getter in GETTERS.items()
        if getattr(client_class, getter) is not getattr(PbxClient, getter)
    }
    assert client_class.capabilities == implemented
    for capability, method in BY_SETTING.items():
        assert (capability in client_class.capabilities) is False
        assert hasattr(client_class, method) is (vendor == "voipcenter")

"""Each vendor's declared capabilities say what its client implements: an
action group is an ``abilities`` interface it inherits, a topic a ``readers``
interface. The base class carries no getter or action that only says
"unsupported".
"""

from __future__ import annotations

import inspect

import pytest

from custom_components.pbx_hub.client import (
    ABILITIES,
    TOPICS,
    VENDORS,
    Capability,
    PbxClient,
    RequestBudget,
)
from custom_components.pbx_hub.client.readers import READERS

READ_CAPABILITIES = {
    spec.capability for spec in TOPICS.values() if spec.capability is not None
}
BY_SETTING = {Capability.CALL_PUSH: "push_channel"}
"""Offered by an instance whose settings ask for it (VoipCenter's push user)."""


def test_every_capability_is_an_ability_or_a_topic() -> None:
    by_ability = {ability.capability for ability in ABILITIES}
    assert not by_ability & READ_CAPABILITIES
    assert by_ability | READ_CAPABILITIES | set(BY_SETTING) == set(Capability)


def test_the_base_class_has_no_getters_or_action_methods() -> None:
    interfaces = (*ABILITIES, *(reader.interface for reader in READERS.values()))
    for interface in interfaces:
        assert interface.__abstractmethods__
        for name in interface.__abstractmethods__:
            assert not hasattr(PbxClient, name), name


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_declared_capabilities_match_what_is_implemented(vendor: str) -> None:
    """The topics a client reads are its readers; their capabilities and its
    abilities' are exactly the capabilities it declares.
    """
    client_class = VENDORS[vendor].client_class
    assert not inspect.isabstract(client_class)
    topics = [
        topic
        for topic, reader in READERS.items()
        if issubclass(client_class, reader.interface)
    ]
    implemented = {
        ability.capability for ability in ABILITIES if issubclass(client_class, ability)
    } | {TOPICS[topic].capability for topic in topics} - {None}
    assert client_class.capabilities == implemented
    budget = RequestBudget(VENDORS[vendor].budget)
    client = client_class(None, {}, budget=budget)  # type: ignore[arg-type]
    assert list(client.topics) == topics
    for capability, method in BY_SETTING.items():
        assert (capability in client_class.capabilities) is False
        assert hasattr(client_class, method) is (vendor == "voipcenter")

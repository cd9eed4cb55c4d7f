"""The fast tier's client: an autospec of a vendor's client class that answers
with the models recorded in ``tests/fixtures/<vendor>/models/`` (see
``record_models.py``).

A fixture is named after what it answers: a method without ``async_``
(``get_extensions.json`` for ``async_get_extensions``) or a property
(``rate_limit_status.json``). It is decoded into the type the client class
annotates, so a fixture that no longer fits its model fails to load.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
import functools
import json
from pathlib import Path
from typing import Any, get_type_hints
from unittest.mock import MagicMock, create_autospec

from mashumaro.codecs.basic import BasicDecoder

from custom_components.pbx_hub.client import VENDORS, PbxClient, RequestBudget
from custom_components.pbx_hub.client.http import HttpHelper

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECORDED_AT = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)
"""Noon in the tests' time zone (US/Pacific): the fixtures' "now", at which the
fast tier freezes time.
"""
FOLLOWED_SUBSCRIBERS = ("2921", "2922")
"""The Tariscope subscribers whose accounts were recorded, which the fast
tier's entry follows.
"""


def answering(
    client_class: type[PbxClient], name: str
) -> tuple[str, Callable[..., Any]]:
    """The attribute a fixture named ``name`` sets, and the function whose
    return type it holds.
    """
    if isinstance(prop := getattr(client_class, name, None), property):
        assert prop.fget is not None
        return name, prop.fget
    method = f"async_{name}"
    return method, getattr(client_class, method)


def model_type(client_class: type[PbxClient], name: str) -> Any:
    """The type ``client_class`` annotates for the fixture ``name``."""
    return get_type_hints(answering(client_class, name)[1])["return"]


@functools.cache
def _decoder(model: Any) -> BasicDecoder[Any]:
    """Built once per type: mashumaro compiles each decoder."""
    return BasicDecoder(model)


def load_models(vendor: str) -> dict[str, Any]:
    """Every fixture of ``vendor``, as the models its client returns."""
    client_class = VENDORS[vendor].client_class
    return {
        path.stem: _decoder(model_type(client_class, path.stem)).decode(
            json.loads(path.read_text())
        )
        for path in sorted((FIXTURES / vendor / "models").glob("*.json"))
    }


def mock_client(vendor: str) -> MagicMock:
    """``vendor``'s client class, autospecced: a method the class lacks raises
    ``AttributeError`` and a call with wrong arguments ``TypeError``. Its
    getters and properties answer with the vendor's fixtures; its actions
    return mocks until a test says otherwise.
    """
    spec = VENDORS[vendor]
    client_class = spec.client_class
    client = create_autospec(client_class, instance=True)
    # The class's declarations, as declared (an autospec makes them mocks) ...
    client.vendor = client_class.vendor
    client.capabilities = client_class.capabilities
    client.read_costs = client_class.read_costs
    client.licence_kinds = client_class.licence_kinds
    # ... and what ``PbxClient.__init__`` sets, which the class does not show.
    client.settings = {}
    client.http = create_autospec(HttpHelper, instance=True)
    client.budget = client.http.budget = RequestBudget(spec.budget)
    # Topics are read as the real client reads them: through its readers.
    client.topics = PbxClient.topics.fget(client)  # type: ignore[attr-defined]
    client.poll_cost.side_effect = functools.partial(PbxClient.poll_cost, client)
    client.async_read.side_effect = functools.partial(PbxClient.async_read, client)
    # Number rules are the vendor's, checked before any request.
    client.normalize_number.side_effect = functools.partial(
        client_class.normalize_number, client
    )
    for name, value in load_models(vendor).items():
        attribute, _ = answering(client_class, name)
        if attribute == name:
            setattr(client, attribute, value)
        else:
            getattr(client, attribute).return_value = value
    return client

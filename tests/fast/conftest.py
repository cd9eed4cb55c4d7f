"""The fast tier: Home Assistant against each vendor's mocked client (see
``models.py``), with no server and no socket.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
import json
from typing import Any
from unittest.mock import MagicMock, patch

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import (
    DEFAULT_REQUEST_TIMEOUT,
    VENDORS,
    PbxClient,
    PbxInfo,
    RequestBudget,
)
from custom_components.pbx_hub.const import (
    CONF_CURRENCY,
    CONF_SMS_RECIPIENT,
    CONF_SUBSCRIBERS,
    CONF_VENDOR,
    DOMAIN,
)

from . import models

NOW = models.RECORDED_AT.isoformat()
"""For ``pytest.mark.freeze_time``: the instant the fixtures were recorded at."""
OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "tariscope": {
        CONF_SUBSCRIBERS: "\n".join(models.FOLLOWED_SUBSCRIBERS),
        CONF_CURRENCY: "UAH",
    },
    "tim4biz": {CONF_CURRENCY: "EUR", CONF_SMS_RECIPIENT: "+447700900456"},
}
"""The options of each vendor's entry, where it has some."""


def form(vendor: str) -> dict[str, Any]:
    """What a user enters in ``vendor``'s step of the config flow."""
    return json.loads((models.FIXTURES / vendor / "form.json").read_text())


def identity(vendor: str) -> PbxInfo:
    """Who ``vendor``'s mocked client says the PBX is."""
    info: PbxInfo = models.load_models(vendor)["identify"]
    return info


@pytest.fixture(params=list(VENDORS))
def vendor(request: pytest.FixtureRequest) -> str:
    """Each vendor in turn, unless the test names one."""
    return str(request.param)


@pytest.fixture
def mock_client(vendor: str) -> Iterator[MagicMock]:
    """``vendor``'s mocked client, which the integration builds wherever it
    builds a client (``clients.client_for_entry``: setup and the flows).
    """
    client = models.mock_client(vendor)

    def build(
        vendor_key: str,
        session: aiohttp.ClientSession,
        settings: Mapping[str, Any],
        *,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        budget: RequestBudget | None = None,
    ) -> PbxClient:
        assert vendor_key == vendor
        client.settings = dict(settings)
        if budget is not None:
            client.http.budget = budget
        return client  # type: ignore[no-any-return]

    with patch(
        "custom_components.pbx_hub.clients.create_client",
        autospec=True,
        side_effect=build,
    ):
        yield client


@pytest.fixture
def mock_config_entry(vendor: str) -> MockConfigEntry:
    """``vendor``'s entry, as the config flow makes it from ``form``."""
    info = identity(vendor)
    return MockConfigEntry(
        domain=DOMAIN,
        title=info.name,
        unique_id=info.unique_id,
        data={CONF_VENDOR: vendor, **VENDORS[vendor].stored(form(vendor))},
        options=dict(OPTIONS.get(vendor, {})),
        entry_id=f"01FASTTIER{vendor.upper():0<16}",
    )

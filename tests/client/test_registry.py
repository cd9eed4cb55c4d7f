"""The vendors are listed in one place, and a client takes its timeout from
``create_client``.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from custom_components.pbx_hub import client as client_package
from custom_components.pbx_hub.client import (
    VENDORS,
    PbxUnsupportedError,
    create_client,
)

CLIENT_DIR = Path(client_package.__file__).parent


def test_the_registry_lists_each_vendor_module_once() -> None:
    assert list(VENDORS) == [
        "pbxware",
        "tariscope",
        "tim4biz",
        "voipcenter",
        "voipcloud",
    ]
    for key, spec in VENDORS.items():
        assert spec.key == key
        assert spec.client_class.vendor == key
        assert (CLIENT_DIR / f"{key}.py").exists()


def test_no_vendor_registers_itself_on_import() -> None:
    sources = "".join(path.read_text() for path in CLIENT_DIR.glob("*.py"))
    assert "register_vendor" not in sources


async def test_create_client_takes_the_request_timeout() -> None:
    async with aiohttp.ClientSession() as session:
        client = create_client(
            "voipcloud", session, {"api_key": "k"}, request_timeout=0.25
        )
        assert client.http.request_timeout == 0.25
        with pytest.raises(PbxUnsupportedError):
            create_client("nonesuch", session, {})

"""Forms and repairs per vendor (issue 19): a user reads only what applies
to their vendor, in en and nl.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import VENDORS
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.repairs import MISSING_PERMISSION, create_entry_issue
from tests.conftest import setup_entry

from .conftest import NOW

pytestmark = pytest.mark.freeze_time(NOW)
TRANSLATIONS = Path(__file__).parents[2] / "custom_components/pbx_hub/translations"


def _texts(language: str) -> dict[str, Any]:
    texts: dict[str, Any] = json.loads((TRANSLATIONS / f"{language}.json").read_text())
    return texts


def _others(vendor: str) -> list[str]:
    """The names of the other vendors, as a text would write them."""
    names = {"pbxware": "PBXware", "voipcloud": "VoIPcloud", "voipcenter": "VoipCenter"}
    return [
        names.get(other, VENDORS[other].name) for other in VENDORS if other != vendor
    ]


@pytest.mark.usefixtures("mock_client")
@pytest.mark.parametrize("language", ["en", "nl"])
async def test_option_help_names_only_the_vendor(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, vendor: str, language: str
) -> None:
    """Each field's help, filled in as the form shows it, names no other
    vendor, and the slow interval names incoming numbers only where the
    vendor has them.
    """
    await setup_entry(hass, mock_config_entry)
    hass.config.language = language
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    placeholders = result["description_placeholders"]
    help_texts = _texts(language)["options"]["step"]["init"]["data_description"]
    shown = {
        str(key): help_texts[str(key)].format(**placeholders)
        for key in result["data_schema"].schema
        if str(key) in help_texts
    }
    for text in shown.values():
        assert "{" not in text
        for other in _others(vendor):
            assert other not in text
    has_dids = "dids" in {
        str(topic) for topic in mock_config_entry.runtime_data.client.topics
    }
    slow = shown.get("slow_interval", "")
    assert ("DID" in slow) is has_dids


@pytest.mark.usefixtures("mock_client")
async def test_a_permission_repair_gives_the_vendor_s_advice_only(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, vendor: str
) -> None:
    """The repair's text is the vendor's own, in en and nl alike."""
    await setup_entry(hass, mock_config_entry)
    create_entry_issue(
        hass,
        mock_config_entry,
        f"{MISSING_PERMISSION}_fast",
        translation_key=MISSING_PERMISSION,
        placeholders={"permission": "status"},
    )
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"{MISSING_PERMISSION}_fast_{mock_config_entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == f"{MISSING_PERMISSION}_{vendor}"
    for language in ("en", "nl"):
        text = _texts(language)["issues"][issue.translation_key]["description"]
        for other in _others(vendor):
            assert other not in text

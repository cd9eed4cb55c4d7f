"""Every translation key the code raises or shows exists; translations match."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

import pytest

COMPONENT = Path(__file__).parent.parent / "custom_components" / "pbx_hub"
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text())
SOURCE = "\n".join(
    p.read_text() for p in COMPONENT.glob("*.py") if p.name != "repairs.py"
)
REPAIRS_SOURCE = (COMPONENT / "repairs.py").read_text()


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _keys(value, path) if isinstance(value, dict) else {path}
    return out


def test_raised_exception_keys_are_translated() -> None:
    used = set(re.findall(r'translation_key="([a-z_]+)"', SOURCE))
    entity_keys = {key for platform in STRINGS["entity"].values() for key in platform}
    missing = {
        k for k in used if k not in STRINGS["exceptions"] and k not in entity_keys
    }
    assert not missing
    assert used & set(STRINGS["exceptions"])


def test_flow_errors_and_aborts_are_translated() -> None:
    errors = set(re.findall(r'errors\[[^\]]+\] = "([a-z_]+)"', SOURCE))
    aborts = set(re.findall(r'reason="([a-z_]+)"', SOURCE))
    options_errors = {
        "over_budget",
        "invalid_sms_recipient",
        "invalid_currency",
        "subscriber_not_found",
        "slow_over_budget",
    }
    assert errors - options_errors <= set(STRINGS["config"]["error"])
    assert options_errors <= set(STRINGS["options"]["error"])
    assert aborts | {"already_configured"} <= set(STRINGS["config"]["abort"])


def test_repair_flow_texts() -> None:
    fix_flow = STRINGS["issues"]["api_url_moved"]["fix_flow"]
    assert set(re.findall(r'reason="([a-z_]+)"', REPAIRS_SOURCE)) <= set(
        fix_flow["abort"]
    )
    assert set(re.findall(r'step_id="([a-z_]+)"', REPAIRS_SOURCE)) <= set(
        fix_flow["step"]
    )


@pytest.mark.parametrize("language", ["en", "nl"])
def test_translation_files_match_strings(language: str) -> None:
    translation = json.loads(
        (COMPONENT / "translations" / f"{language}.json").read_text()
    )
    assert _keys(translation) == _keys(STRINGS)
    if language == "en":
        assert translation == STRINGS


def test_every_entity_key_has_an_icon() -> None:
    icons = json.loads((COMPONENT / "icons.json").read_text())
    for platform, keys in STRINGS["entity"].items():
        assert set(keys) == set(icons["entity"][platform]), platform
    assert set(STRINGS["services"]) == set(icons["services"])

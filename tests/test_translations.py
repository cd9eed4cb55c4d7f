"""Every translation key the code raises or shows exists; translations match."""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.icon import async_get_icons
import probatio as vol
import pytest

from custom_components.pbx_hub.client import (
    PbxClockSkewError,
    PbxNotWhitelistedError,
    PbxRateLimitError,
    PbxTooManyItemsError,
)
from custom_components.pbx_hub.client.poll_issues import (
    POLL_ISSUES,
    RATE_LIMIT_ISSUE_AFTER,
    TOO_MANY_ITEMS,
    PollTroubles,
)
from custom_components.pbx_hub.const import DOMAIN

COMPONENT = Path(__file__).parent.parent / "custom_components" / "pbx_hub"
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text())
SOURCE = "\n".join(
    p.read_text()
    for p in [*COMPONENT.glob("*.py"), COMPONENT / "client" / "action_input.py"]
    if p.name != "repairs.py"
)
REPAIRS_SOURCE = (COMPONENT / "repairs.py").read_text()


def _keys(tree: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _keys(value, path) if isinstance(value, dict) else {path}
    return out


def test_raised_exception_keys_are_translated() -> None:
    used = set(
        re.findall(
            r'(?:translation_key=|invalid_input\(|Refusal\()\s*"([a-z_]+)"', SOURCE
        )
    )
    assert "text_too_long" in used, "keys raised through invalid_input"
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


TRANSLATIONS = sorted((COMPONENT / "translations").glob("*.json"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_poll_issues_are_translated_with_their_placeholders() -> None:
    """Each problem the client's poll counting calls for is an issue of
    strings.json, whose text names only the placeholders it is given (and the
    entry's title, which every issue gets).
    """
    troubles = PollTroubles()
    raised: dict[str, dict[str, str]] = {}
    for err in (
        PbxRateLimitError("slow down", from_pbx=True),
        PbxNotWhitelistedError("ip"),
        PbxClockSkewError("time stamp"),
        PbxTooManyItemsError("long", topic="extensions", maximum=500),
    ):
        for _ in range(RATE_LIMIT_ISSUE_AFTER):
            raised |= troubles.failed("extensions", err)
    assert set(raised) == {*POLL_ISSUES, TOO_MANY_ITEMS}
    for kind, placeholders in raised.items():
        issue = STRINGS["issues"][kind]
        named = set(PLACEHOLDER.findall(f"{issue['title']} {issue['description']}"))
        assert named <= {*placeholders, "title", "title_plain"}, kind


TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
"""hassfest's ``RE_TRANSLATION_KEY``: lowercase, no doubled or edge ``_``/``-``."""


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out |= _leaves(value, path) if isinstance(value, dict) else {path: value}
    return out


def test_every_language_is_checked() -> None:
    assert {p.stem for p in TRANSLATIONS} >= {"en", "nl"}


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: p.stem)
def test_translation_files_match_strings(path: Path) -> None:
    translation = json.loads(path.read_text())
    assert _keys(translation) == _keys(STRINGS)
    if path.stem == "en":
        assert translation == STRINGS


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda p: p.stem)
def test_translations_keep_the_placeholders(path: Path) -> None:
    """A placeholder missing or renamed in a translation shows as ``{number}``
    or drops a value; every string has the same placeholders as strings.json.
    """
    english = _leaves(STRINGS)
    translated = _leaves(json.loads(path.read_text()))
    differing = {
        key: (set(PLACEHOLDER.findall(text)), set(PLACEHOLDER.findall(value)))
        for key, text in english.items()
        if (value := translated.get(key)) is not None
        and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(value))
    }
    assert not differing


@pytest.mark.parametrize(
    "path", [COMPONENT / "strings.json", *TRANSLATIONS], ids=lambda p: p.stem
)
def test_strings_pass_hassfests_value_rules(path: Path) -> None:
    """hassfest's ``translation_value_validator`` and key rule: no HTML, no
    placeholder in single quotes, no leading or trailing spaces, no empty text;
    keys of entities, states, actions, exceptions and issues are translation
    keys.
    """
    tree = json.loads(path.read_text())
    for key, value in _leaves(tree).items():
        assert value.strip(), key
        assert value == value.strip(), key
        assert cv.string_with_no_html(value) == value, key
        assert not re.search(r"'\{\w+\}'", value), key
    keyed = [
        *(k for platform in tree["entity"].values() for k in platform),
        *(
            state
            for platform in tree["entity"].values()
            for item in platform.values()
            for state in item.get("state", {})
        ),
        *tree["services"],
        *tree["exceptions"],
        *tree["issues"],
        *tree["selector"],
    ]
    assert [k for k in keyed if not TRANSLATION_KEY.match(k)] == []


def _translation_key(value: str) -> str:
    if not TRANSLATION_KEY.match(value):
        raise vol.Invalid(f"invalid translation key {value!r}")
    return value


def _text(value: Any) -> str:
    """hassfest's ``translation_value_validator``."""
    text = cv.string_with_no_html(value)
    if re.search(r"'\{\w+\}'", text):
        raise vol.Invalid("a placeholder inside single quotes")
    if re.search(r"(.+\[%)|(%\].+)", text):
        raise vol.Invalid("a combined translation reference")
    if text != text.strip() or not text:
        raise vol.Invalid("leading or trailing spaces, or empty")
    return text


def _keyed(value_schema: Any, keys: Any = _translation_key) -> Any:
    return cv.schema_with_slug_keys(value_schema, slug_validator=keys)


def _data_description_in_data(flow: dict[str, Any]) -> dict[str, Any]:
    for step_id, step in flow["step"].items():
        for key in step.get("data_description", {}):
            if key not in step.get("data", {}):
                raise vol.Invalid(f"{step_id}: data_description {key} is not in data")
    return flow


FLOW_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Optional("flow_title"): _text,
            vol.Required("step"): {
                str: {
                    vol.Optional("title"): _text,
                    vol.Optional("description"): _text,
                    vol.Optional("data"): {str: _text},
                    vol.Optional("data_description"): {str: _text},
                    vol.Optional("menu_options"): {str: _text},
                    vol.Optional("submit"): _text,
                    vol.Optional("sections"): {
                        str: {
                            vol.Optional("data"): {str: _text},
                            vol.Optional("description"): _text,
                            vol.Optional("name"): _text,
                        }
                    },
                }
            },
            vol.Optional("error"): {str: _text},
            vol.Optional("abort"): {str: _text},
            vol.Optional("progress"): {str: _text},
            vol.Optional("create_entry"): {str: _text},
        }
    ),
    _data_description_in_data,
)
_STATES = _keyed(_text)
STRINGS_SCHEMA = vol.Schema(
    {
        vol.Optional("title"): _text,
        vol.Optional("config"): FLOW_SCHEMA,
        vol.Optional("options"): FLOW_SCHEMA,
        vol.Optional("selector"): _keyed(
            {"options": _keyed(_text)}, vol.Any("_", cv.slug)
        ),
        vol.Optional("issues"): {
            str: vol.All(
                cv.has_at_least_one_key("description", "fix_flow"),
                vol.Schema(
                    {
                        vol.Required("title"): _text,
                        vol.Exclusive("description", "fixable"): _text,
                        vol.Exclusive("fix_flow", "fixable"): FLOW_SCHEMA,
                    }
                ),
            )
        },
        vol.Optional("device"): _keyed({vol.Optional("name"): _text}),
        vol.Optional("entity"): _keyed(
            _keyed(
                {
                    vol.Optional("name"): _text,
                    vol.Optional("state"): _STATES,
                    vol.Optional("state_attributes"): _keyed(
                        {vol.Optional("name"): _text, vol.Optional("state"): _STATES}
                    ),
                }
            ),
            cv.slug,
        ),
        vol.Optional("exceptions"): _keyed({vol.Optional("message"): _text}, cv.slug),
        vol.Optional("services"): _keyed(
            {
                vol.Required("name"): _text,
                vol.Required("description"): _text,
                vol.Optional("fields"): _keyed(
                    {
                        vol.Required("name"): str,
                        vol.Required("description"): _text,
                        vol.Optional("example"): _text,
                    }
                ),
                vol.Optional("sections"): _keyed(
                    {vol.Required("name"): str, vol.Optional("description"): _text}
                ),
            }
        ),
        vol.Optional("common"): vol.Schema({cv.slug: _text}),
    }
)
"""hassfest's ``gen_strings_schema`` (translations.py), the parts an
integration like this one can use; unknown keys are an error there too.
"""


@pytest.mark.parametrize(
    "path", [COMPONENT / "strings.json", *TRANSLATIONS], ids=lambda p: p.stem
)
def test_strings_schema(path: Path) -> None:
    STRINGS_SCHEMA(json.loads(path.read_text()))


ICONS: dict[str, Any] = json.loads((COMPONENT / "icons.json").read_text())
ICON = vol.All(str, vol.Match(r"^mdi:[a-z0-9]+(-[a-z0-9]+)*$"))


def _not_same_as_default(value: dict[str, Any]) -> dict[str, Any]:
    for state, icon in value.get("state", {}).items():
        if icon == value["default"]:
            raise vol.Invalid(f"the icon of state {state} is the default icon")
    return value


ENTITY_ICON_SCHEMA = vol.All(
    vol.Schema(
        {
            vol.Required("default"): ICON,
            vol.Optional("state"): {str: ICON},
            vol.Optional("range"): {vol.Coerce(float): ICON},
            vol.Optional("state_attributes"): {
                str: {vol.Required("default"): ICON, vol.Optional("state"): {str: ICON}}
            },
        }
    ),
    _not_same_as_default,
)
ICONS_SCHEMA = vol.Schema(
    {
        vol.Required("entity"): {str: {str: ENTITY_ICON_SCHEMA}},
        vol.Required("services"): {
            str: {vol.Required("service"): ICON, vol.Optional("sections"): {str: ICON}}
        },
    }
)
"""hassfest's ``icons.py`` schema: ``mdi:`` icons, a default for every entity
key, no state icon that repeats the default.
"""

TWO_STATE_PLATFORMS = {"binary_sensor", "switch"}


def test_icons_json_schema() -> None:
    ICONS_SCHEMA(ICONS)


def test_every_entity_key_has_an_icon() -> None:
    """The rule (icon-translations): icons.json covers every entity translation
    key of every platform, no more and no fewer.
    """
    for platform, keys in STRINGS["entity"].items():
        assert set(ICONS["entity"].get(platform, {})) == set(keys), platform
    assert set(ICONS["entity"]) == set(STRINGS["entity"])


def test_two_state_entities_show_their_state_in_the_icon() -> None:
    """A translated icon replaces the one the frontend draws for a device class,
    so every switch and binary sensor icon needs a state icon to show whether
    it is on.
    """
    assert ICONS["entity"]["switch"]
    assert ICONS["entity"]["binary_sensor"]
    stateless = [
        f"{platform}.{key}"
        for platform in TWO_STATE_PLATFORMS
        for key, icon in ICONS["entity"].get(platform, {}).items()
        if "state" not in icon
    ]
    assert stateless == []


def test_every_action_has_an_icon() -> None:
    assert set(ICONS["services"]) == set(STRINGS["services"])


async def test_home_assistant_loads_the_icons(hass: HomeAssistant) -> None:
    entity = await async_get_icons(hass, "entity", integrations={DOMAIN})
    services = await async_get_icons(hass, "services", integrations={DOMAIN})
    assert entity[DOMAIN] == ICONS["entity"]
    assert services[DOMAIN] == ICONS["services"]

"""What Home Assistant's hassfest and the HACS action would check, as tests.

hassfest (``script/hassfest`` in Home Assistant's repository) is not part of the
``homeassistant`` wheel, so its rules for a custom integration are re-created
here from its source (``manifest.py``, ``services.py``): the manifest schema with
the ``version`` key custom integrations must have, keys sorted "domain, name,
then alphabetical", the domain matching the folder, the quality scale tier
backed by quality_scale.yaml, imported integrations declared as dependencies
(``dependencies.py``), and every services.yaml field with a selector Home
Assistant's own ``selector.validate_selector`` accepts. Where Home Assistant's own code can judge (the loader reading the
manifest and version, the service description loader), the tests use it.
HACS's rules are those of its ``utils/validate.py``: ``hacs.json`` with only its
known keys, and the manifest keys HACS needs.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
import re
from typing import Any
from urllib.parse import urlparse

from awesomeversion import (
    AwesomeVersion,
    AwesomeVersionException,
    AwesomeVersionStrategy,
)
from homeassistant.const import Platform, __version__ as HA_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
from homeassistant.loader import async_get_integration
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
import probatio as vol
import pytest

from custom_components.pbx_hub.const import DOMAIN

ROOT = Path(__file__).parent.parent
COMPONENT = ROOT / "custom_components" / DOMAIN
MANIFEST: dict[str, Any] = json.loads((COMPONENT / "manifest.json").read_text())
HACS: dict[str, Any] = json.loads((ROOT / "hacs.json").read_text())
SERVICES: dict[str, Any] = load_yaml_dict(str(COMPONENT / "services.yaml"))
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text())

"""The Home Assistant release PBX Hub is built and tested for (requirements_test.txt)."""


def _version(value: str) -> str:
    """hassfest's ``verify_version``: one of the strategies HA's loader accepts."""
    try:
        AwesomeVersion(
            value,
            ensure_strategy=[
                AwesomeVersionStrategy.CALVER,
                AwesomeVersionStrategy.SEMVER,
                AwesomeVersionStrategy.SIMPLEVER,
                AwesomeVersionStrategy.BUILDVER,
                AwesomeVersionStrategy.PEP440,
            ],
        )
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{value!r} is not a valid version") from err
    return value


def _https_url(value: str) -> str:
    if urlparse(value).scheme != "https":
        raise vol.Invalid("documentation url is not prefixed with https")
    return value


_URL = vol.All(vol.Url(), _https_url)
_CODEOWNER = vol.All(str, vol.Match(r"^@[\w-]+(/[\w-]+)?$"))

MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): vol.All(str, vol.Match(r"^[a-z0-9_]+$")),
        vol.Required("name"): vol.All(str, vol.Length(min=1)),
        vol.Required("codeowners"): vol.All([_CODEOWNER], vol.Length(min=1)),
        vol.Required("config_flow"): True,
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("documentation"): _URL,
        vol.Required("integration_type"): vol.In(
            ["device", "entity", "hardware", "helper", "hub", "service", "system"]
        ),
        vol.Required("iot_class"): vol.In(
            [
                "assumed_state",
                "calculated",
                "cloud_polling",
                "cloud_push",
                "local_polling",
                "local_push",
            ]
        ),
        vol.Required("issue_tracker"): _URL,
        vol.Optional("loggers"): [str],
        vol.Optional("quality_scale"): vol.In(
            ["bronze", "silver", "gold", "platinum", "internal", "legacy"]
        ),
        vol.Required("requirements"): [str],
        vol.Optional("single_config_entry"): bool,
        vol.Optional("import_executor"): bool,
        vol.Required("version"): vol.All(str, _version),
    }
)
"""hassfest's ``CUSTOM_INTEGRATION_MANIFEST_SCHEMA``, with what hassfest leaves
optional but PBX Hub promises (a config flow, an IoT class, a version) required.
"""

HACS_SCHEMA = vol.Schema(
    {
        vol.Required("name"): str,
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(
            vol.All(str, vol.Match(r"^[A-Z]{2}$")), [vol.Match(r"^[A-Z]{2}$")]
        ),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): str,
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): str,
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
    },
    extra=vol.PREVENT_EXTRA,
)
"""HACS's ``HACS_MANIFEST_JSON_SCHEMA``: unknown keys are an error."""

HACS_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): cv.url,
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): cv.url,
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)
"""HACS's ``INTEGRATION_MANIFEST_JSON_SCHEMA``."""

FIELD_SCHEMA = vol.Schema(
    {
        vol.Optional("example"): object,
        vol.Optional("default"): object,
        vol.Optional("required"): bool,
        vol.Optional("advanced"): bool,
        vol.Required("selector"): selector.validate_selector,
        vol.Optional("filter"): dict,
    }
)
"""hassfest's field schema for a core integration (name and description live in
strings.json), with the selector PBX Hub requires of every field.
"""
SERVICE_SCHEMA = vol.Schema(
    {
        vol.Optional("target"): vol.Any(selector.TargetSelector.CONFIG_SCHEMA, None),
        vol.Required("fields"): {str: FIELD_SCHEMA},
    }
)


def _manifest_key_order(key: str) -> str:
    return {"domain": ".domain", "name": ".name"}.get(key, key)


def test_manifest_schema() -> None:
    MANIFEST_SCHEMA(MANIFEST)
    HACS_MANIFEST_SCHEMA(MANIFEST)


def test_manifest_keys_sorted_as_hassfest_sorts_them() -> None:
    keys = list(MANIFEST)
    assert keys == sorted(keys, key=_manifest_key_order), (
        "manifest keys: domain, name, then alphabetical"
    )


def test_manifest_domain_is_the_folder_and_not_a_core_domain() -> None:
    import homeassistant.components

    assert MANIFEST["domain"] == COMPONENT.name == DOMAIN
    core = Path(homeassistant.components.__path__[0])
    assert not (core / DOMAIN).exists(), "domain collides with a core integration"


def test_manifest_quality_scale_matches_quality_scale_yaml() -> None:
    """hassfest's quality_scale check: a declared tier has every rule of it and
    of the tiers below done or exempt.
    """
    rules = load_yaml_dict(str(COMPONENT / "quality_scale.yaml"))["rules"]
    tiers = {
        "bronze": [
            "action-setup",
            "appropriate-polling",
            "brands",
            "common-modules",
            "config-flow-test-coverage",
            "config-flow",
            "dependency-transparency",
            "docs-actions",
            "docs-high-level-description",
            "docs-installation-instructions",
            "docs-removal-instructions",
            "entity-event-setup",
            "entity-unique-id",
            "has-entity-name",
            "runtime-data",
            "test-before-configure",
            "test-before-setup",
            "unique-config-entry",
        ],
        "silver": [
            "action-exceptions",
            "config-entry-unloading",
            "docs-configuration-parameters",
            "docs-installation-parameters",
            "entity-unavailable",
            "integration-owner",
            "log-when-unavailable",
            "parallel-updates",
            "reauthentication-flow",
            "test-coverage",
        ],
        "gold": [
            "devices",
            "diagnostics",
            "discovery",
            "discovery-update-info",
            "docs-data-update",
            "docs-examples",
            "docs-known-limitations",
            "docs-supported-devices",
            "docs-supported-functions",
            "docs-troubleshooting",
            "docs-use-cases",
            "dynamic-devices",
            "entity-category",
            "entity-device-class",
            "entity-disabled-by-default",
            "entity-translations",
            "exception-translations",
            "icon-translations",
            "reconfiguration-flow",
            "repair-issues",
            "stale-devices",
        ],
        "platinum": ["async-dependency", "inject-websession", "strict-typing"],
    }
    assert set(rules) == {rule for tier in tiers.values() for rule in tier}
    declared = MANIFEST["quality_scale"]
    assert declared in tiers
    names = list(tiers)
    required = [
        rule for tier in names[: names.index(declared) + 1] for rule in tiers[tier]
    ]
    for rule in required:
        entry = rules[rule]
        status = entry if isinstance(entry, str) else entry["status"]
        assert status in ("done", "exempt"), rule
        if status == "exempt":
            assert entry["comment"], f"{rule}: an exemption needs a reason"


async def test_home_assistant_loads_the_manifest(hass: HomeAssistant) -> None:
    """Home Assistant's loader blocks a custom integration without a valid
    version; this one loads with the manifest's version and flags.
    """
    integration = await async_get_integration(hass, DOMAIN)
    assert not integration.is_built_in
    assert integration.version == AwesomeVersion(MANIFEST["version"])
    assert integration.version.strategy is not AwesomeVersionStrategy.UNKNOWN
    assert integration.config_flow is True
    assert integration.integration_type == MANIFEST["integration_type"]
    assert integration.iot_class == MANIFEST["iot_class"]


def test_hacs_json() -> None:
    HACS_SCHEMA(HACS)
    assert HACS["name"] == MANIFEST["name"]


def _pinned_home_assistant(requirements: str) -> AwesomeVersion:
    pins = re.findall(
        r"^homeassistant==(\S+)$", (ROOT / requirements).read_text(), re.M
    )
    assert len(pins) == 1, requirements
    return AwesomeVersion(pins[0])


def test_hacs_minimum_home_assistant_is_the_tested_minimum() -> None:
    """hacs.json's minimum is the release the smoke subset runs on
    (requirements_minimum.txt); the suite runs on the newest pin, and the
    Home Assistant running it is the pinned one (in either venv).
    """
    minimum = AwesomeVersion(HACS["homeassistant"])
    assert minimum.strategy is AwesomeVersionStrategy.CALVER
    assert minimum == _pinned_home_assistant("requirements_minimum.txt")
    newest = _pinned_home_assistant("requirements_test.txt")
    assert newest > minimum
    assert AwesomeVersion(HA_VERSION) in (minimum, newest)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_services_yaml_schema(service: str) -> None:
    SERVICE_SCHEMA(SERVICES[service])


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_and_field_is_translated(service: str) -> None:
    """hassfest: a service without name/description in services.yaml needs them
    in strings.json; the same for each field, and for each select selector's
    options under ``selector.<translation_key>``.
    """
    text = STRINGS["services"][service]
    assert text["name"].strip()
    assert text["description"].strip()
    assert set(text["fields"]) == set(SERVICES[service]["fields"])
    for field, schema in SERVICES[service]["fields"].items():
        assert text["fields"][field]["name"].strip(), field
        assert text["fields"][field]["description"].strip(), field
        if (select := schema["selector"].get("select")) and (
            key := select.get("translation_key")
        ):
            options = STRINGS["selector"][key]["options"]
            assert {str(o) for o in select["options"]} <= set(options), field


def test_strings_describe_only_services_that_exist() -> None:
    assert set(STRINGS["services"]) == set(SERVICES)


async def test_service_descriptions_through_home_assistants_loader(
    hass: HomeAssistant,
) -> None:
    """What the UI shows comes from Home Assistant's own loaders: every
    registered action has fields with a selector (services.yaml), and a name
    and a description for it and each field (the translations, which the
    frontend reads since Home Assistant stopped merging them into the
    descriptions).
    """
    assert await async_setup_component(hass, DOMAIN, {})
    registered = set(hass.services.async_services_for_domain(DOMAIN))
    assert registered == set(SERVICES)
    descriptions = (await async_get_all_descriptions(hass))[DOMAIN]
    assert set(descriptions) == registered
    translations = await async_get_translations(hass, "en", "services", [DOMAIN])
    for service, description in descriptions.items():
        prefix = f"component.{DOMAIN}.services.{service}"
        assert translations[f"{prefix}.name"] == STRINGS["services"][service]["name"]
        assert (
            translations[f"{prefix}.description"]
            == (STRINGS["services"][service]["description"])
        )
        assert set(description["fields"]) == set(SERVICES[service]["fields"])
        for field, schema in description["fields"].items():
            assert translations[f"{prefix}.fields.{field}.name"], (service, field)
            assert translations[f"{prefix}.fields.{field}.description"], (
                service,
                field,
            )
            assert schema["selector"], (service, field)


ALLOWED_USED_COMPONENTS = {
    *(platform.value for platform in Platform),
    "alert",
    "automation",
    "conversation",
    "default_config",
    "device_automation",
    "frontend",
    "group",
    "homeassistant",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "media_source",
    "onboarding",
    "panel_custom",
    "persistent_notification",
    "person",
    "script",
    "shopping_list",
    "sun",
    "system_health",
    "system_log",
    "timer",
    "webhook",
    "websocket_api",
    "zone",
}
"""hassfest's ``dependencies.py``: integrations any integration may import."""


def _components_in(node: ast.AST) -> list[str]:
    """The integrations one import statement names, as hassfest's
    ``ImportCollector`` counts them: ``import homeassistant.components.x``,
    ``from homeassistant.components.x[.y] import ...`` and
    ``from homeassistant.components import x, y``.
    """
    if isinstance(node, ast.ImportFrom):
        if node.module == "homeassistant.components":
            return [alias.name for alias in node.names]
        modules = [node.module or ""]
    elif isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    else:
        return []
    return [
        parts[2]
        for parts in (module.split(".") for module in modules)
        if parts[:2] == ["homeassistant", "components"] and len(parts) > 2
    ]


def _imported_components() -> dict[str, set[str]]:
    """The Home Assistant integrations each module imports, by file name."""
    found: dict[str, set[str]] = {}
    for path in sorted(COMPONENT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if names := _components_in(node):
                found.setdefault(str(path.relative_to(COMPONENT)), set()).update(names)
    return found


@pytest.mark.parametrize(
    ("source", "components"),
    [
        ("from homeassistant.components import zeroconf, sun", ["zeroconf", "sun"]),
        ("from homeassistant.components.http.view import X", ["http"]),
        ("import homeassistant.components.sensor as s, os", ["sensor"]),
        ("from homeassistant.const import Platform", []),
        ("from . import helpers", []),
    ],
)
def test_import_scan_counts_what_hassfest_counts(
    source: str, components: list[str]
) -> None:
    (node,) = ast.parse(source).body
    assert _components_in(node) == components


def test_imported_integrations_are_dependencies() -> None:
    """hassfest: an imported integration is a platform this integration has
    (diagnostics.py, repairs.py ...), one always available, or a dependency.
    """
    imported = _imported_components()
    assert imported, "no import of an integration found: the scan is broken"
    allowed = (
        ALLOWED_USED_COMPONENTS
        | set(MANIFEST.get("dependencies", []))
        | set(MANIFEST.get("after_dependencies", []))
    )
    wrong = {
        (module, domain)
        for module, domains in imported.items()
        for domain in domains
        if domain not in allowed and not (COMPONENT / f"{domain}.py").is_file()
    }
    assert wrong == set()


def test_dependencies_exist_in_home_assistant() -> None:
    import homeassistant.components

    core = Path(homeassistant.components.__path__[0])
    dependencies = MANIFEST.get("dependencies", [])
    after = MANIFEST.get("after_dependencies", [])
    assert not set(dependencies) & set(after)
    assert [d for d in [*dependencies, *after] if not (core / d).is_dir()] == []


def test_config_schema_with_async_setup(caplog: pytest.LogCaptureFixture) -> None:
    """hassfest's ``config_schema.py``: an integration with ``async_setup`` has
    a CONFIG_SCHEMA; set up by config entries only, it refuses YAML loudly.
    """
    import custom_components.pbx_hub as integration

    assert hasattr(integration, "async_setup")
    integration.CONFIG_SCHEMA({DOMAIN: {"url": "https://pbx.example.com"}})
    assert f"The {DOMAIN} integration does not support YAML setup" in caplog.text


def test_hacs_repository_layout() -> None:
    """HACS installs the one folder under custom_components/, and shows the
    README (``render_readme``) as the integration's information page.
    """
    assert not HACS.get("content_in_root", False)
    folders = [p.name for p in (ROOT / "custom_components").iterdir() if p.is_dir()]
    assert [f for f in folders if f != "__pycache__"] == [DOMAIN]
    assert HACS.get("render_readme") is True
    assert (ROOT / "README.md").read_text().startswith(f"# {MANIFEST['name']}\n")

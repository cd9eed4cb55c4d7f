"""The user documentation cannot fall behind the code: the actions reference
(docs/actions.md) has a heading and a table row per field of every action in
services.yaml, and every YAML example in it passes the action's own schema and
input check; the README's vendor x feature table is the clients' capabilities;
the README stays short, in the order users read it, and gives the commands
CONTRIBUTING.md and .ci/run give.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration_descriptions
from homeassistant.util.yaml import load_yaml_dict, parse_yaml
import probatio as vol
import pytest

from custom_components.pbx_hub import services
from custom_components.pbx_hub.client import VENDORS, Capability
from custom_components.pbx_hub.const import DOMAIN

ROOT = Path(__file__).parent.parent
SERVICES: dict[str, Any] = load_yaml_dict(
    str(ROOT / "custom_components" / DOMAIN / "services.yaml")
)
README = (ROOT / "README.md").read_text()
MANIFEST: dict[str, Any] = json.loads(
    (ROOT / "custom_components" / DOMAIN / "manifest.json").read_text()
)
ACTIONS = (ROOT / "docs" / "actions.md").read_text()
SCHEMAS: dict[str, vol.Schema | vol.All] = {
    services.SERVICE_SET_DID_ROUTE: services.SET_DID_ROUTE_SCHEMA,
    services.SERVICE_SET_DID_ROUTE_PLAN: services.SET_DID_ROUTE_PLAN_SCHEMA,
    services.SERVICE_CLICK_TO_CALL: services.CLICK_TO_CALL_SCHEMA,
    services.SERVICE_SEND_SMS: services.SEND_SMS_SCHEMA,
    services.SERVICE_GET_CHARGES: services.GET_CHARGES_SCHEMA,
    "set_hot_desk": services.SET_HOT_DESK_SCHEMA,
    services.SERVICE_START_RECORDING: services.RECORDING_SCHEMA,
    services.SERVICE_STOP_RECORDING: services.RECORDING_SCHEMA,
}


def _section(service: str) -> str:
    """The text under ``### `pbx_hub.<service>` `` up to the next heading."""
    match = re.search(
        rf"^### `{DOMAIN}\.{service}`\n(?P<body>.*?)(?=^#{{2,3}} |\Z)",
        ACTIONS,
        re.DOTALL | re.MULTILINE,
    )
    assert match, f"docs/actions.md has no heading for {service}"
    return match["body"]


def test_every_action_has_a_schema_to_check_examples_against() -> None:
    assert set(SCHEMAS) == set(SERVICES)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_action_and_field_is_documented(service: str) -> None:
    body = _section(service)
    rows = {
        match[1]
        for match in re.finditer(r"^\| `(\w+)` \| (yes|no|one of|with) ", body, re.M)
    }
    assert rows == set(SERVICES[service]["fields"])
    assert "```yaml\n" in body, f"{service} has no YAML example"


def test_actions_section_documents_no_unknown_action() -> None:
    documented = set(re.findall(rf"^### `{DOMAIN}\.(\w+)`", ACTIONS, re.M))
    assert documented == set(SERVICES)


def _examples() -> list[Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", ACTIONS, re.DOTALL)
    return [parse_yaml(block) for block in blocks]


def test_action_examples_pass_the_actions_schemas() -> None:
    examples = _examples()
    assert {e["action"] for e in examples} == {f"{DOMAIN}.{s}" for s in SERVICES}
    for example in examples:
        service = example["action"].removeprefix(f"{DOMAIN}.")
        # The schema checks types; the handler's first check does the rest.
        services.check_input(SCHEMAS[service](example["data"]))
        assert set(example["data"]) <= set(SERVICES[service]["fields"])


# ---------------------------------------------------------------- the README

README_MAX_BYTES = 12_500
"""About 12 KB: what a user reads on the repository's page before installing."""
README_SECTIONS = [
    "What it is",
    "Vendors and features",
    "Installation",
    "What you need on the PBX",
    "Entities",
    "Actions",
    "Examples",
    "Troubleshooting",
    "Removal",
    "More",
]
FEATURE_ROWS: dict[str, frozenset[Capability]] = {
    "PBX status": frozenset({Capability.STATUS}),
    "Extensions and their registration": frozenset({Capability.EXTENSIONS}),
    "Calls in progress": frozenset({Capability.LIVE_CALLS}),
    "Call statistics; incoming, missed and abandoned-call events": frozenset(
        {Capability.CALL_HISTORY}
    ),
    "Call accounting per extension (calls, talk time, cost)": frozenset(
        {Capability.EXTENSION_USAGE}
    ),
    "Subscriber balances and itemised charges": frozenset(
        {Capability.ACCOUNTS, Capability.CHARGES}
    ),
    "Do not disturb": frozenset({Capability.SET_DND}),
    "Route incoming numbers (DIDs)": frozenset(
        {Capability.DIDS, Capability.SET_DID_ROUTE}
    ),
    "Route incoming numbers by route plan": frozenset(
        {Capability.DID_ROUTING, Capability.SET_DID_ROUTE_PLAN}
    ),
    "Function indicators (night mode, ...)": frozenset(
        {Capability.INDICATORS, Capability.SET_INDICATOR}
    ),
    "Hot desks": frozenset({Capability.HOT_DESKS, Capability.SET_HOT_DESK}),
    "Click-to-call": frozenset({Capability.CLICK_TO_CALL}),
    "SMS": frozenset({Capability.SEND_SMS}),
    "Tenants of a multi-tenant PBX": frozenset({Capability.TENANTS}),
    "Call state per extension (ringing, in call)": frozenset({Capability.CALL_STATES}),
    "Call forwarding": frozenset(
        {Capability.CALL_FORWARDING, Capability.SET_CALL_FORWARDING}
    ),
    "Call recording on request": frozenset({Capability.RECORDING}),
    "Push call notifications": frozenset({Capability.CALL_PUSH}),
}
"""Each row of the README's vendor x feature table and what it stands for."""
ACTION_CAPABILITY: dict[str, Capability] = {
    services.SERVICE_SET_DID_ROUTE: Capability.SET_DID_ROUTE,
    services.SERVICE_SET_DID_ROUTE_PLAN: Capability.SET_DID_ROUTE_PLAN,
    services.SERVICE_CLICK_TO_CALL: Capability.CLICK_TO_CALL,
    services.SERVICE_SEND_SMS: Capability.SEND_SMS,
    services.SERVICE_GET_CHARGES: Capability.CHARGES,
    "set_hot_desk": Capability.SET_HOT_DESK,
    services.SERVICE_START_RECORDING: Capability.RECORDING,
    services.SERVICE_STOP_RECORDING: Capability.RECORDING,
}


def _table(text: str, marker: str) -> list[list[str]]:
    """The cells of the markdown table after ``<!-- marker``, header first."""
    block = text[text.index(f"<!-- {marker}") :].split("\n\n", 1)[0]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [
        [cell.strip() for cell in row.strip("|").split("|")]
        for row in rows
        if not set(row) <= set("|-: ")
    ]


def test_readme_is_short_and_in_the_order_users_read_it() -> None:
    assert len(README.encode()) <= README_MAX_BYTES
    assert re.findall(r"^## (.+)$", README, re.M) == README_SECTIONS
    what_it_is = README[
        README.index("\n## What it is\n") : README.index("\n## Vendors")
    ]
    local_images = [
        source
        for pair in re.findall(r'<img src="([^"]+)"|!\[[^]]*\]\(([^)]+)\)', README)
        for source in pair
        if source and not source.startswith("https://")
    ]
    assert len(local_images) == 1, "one screenshot"
    assert local_images[0] in what_it_is
    assert (ROOT / local_images[0]).is_file()


def test_readme_feature_table_is_what_each_client_offers() -> None:
    """A cell is ticked exactly where the vendor's client has every capability
    of the row, and every capability has its row.
    """
    header, *rows = _table(README, "vendor-features")
    names = {spec.name: spec for spec in VENDORS.values()}
    assert set(header[1:]) == set(names)
    runs, *features = rows
    assert runs[0] == "Runs"
    assert {row[0] for row in features} == set(FEATURE_ROWS)
    assert set().union(*FEATURE_ROWS.values()) == set(Capability)
    for row in features:
        for name, cell in zip(header[1:], row[1:], strict=True):
            client_class = names[name].client_class
            # The push channel is offered once the settings name its user.
            pushes = (
                {Capability.CALL_PUSH}
                if hasattr(client_class, "push_channel")
                else set()
            )
            offered = FEATURE_ROWS[row[0]] <= client_class.capabilities | pushes
            assert (cell == "✓") == offered, (row[0], name, cell)


def test_readme_says_which_vendors_are_cloud_services() -> None:
    """A vendor whose client knows the service's address is a cloud service;
    the others run on the customer's server, which is why the manifest says
    ``local_polling`` (Home Assistant would show "Requires Internet" for every
    PBX with ``cloud_polling``).
    """
    header, runs, *_ = _table(README, "vendor-features")
    names = {spec.name: spec for spec in VENDORS.values()}
    for name, cell in zip(header[1:], runs[1:], strict=True):
        hosted = names[name].client_class.default_url is not None
        assert cell == ("cloud" if hosted else "on premises"), name
    assert MANIFEST["iot_class"] == "local_polling"


def test_readme_lists_every_action_with_its_vendors() -> None:
    assert set(ACTION_CAPABILITY) == set(SERVICES)
    section = README[README.index("\n## Actions\n") : README.index("\n## Examples\n")]
    listed = {
        match[1]: set(match[2].split(", "))
        for match in re.finditer(
            rf"^\| `{DOMAIN}\.(\w+)` \| [^|]+ \| ([^|]+?) \|$", section, re.M
        )
    }
    offered = {
        service: {
            spec.name.removeprefix("Bicom ")
            for spec in VENDORS.values()
            if capability in spec.client_class.capabilities
        }
        for service, capability in ACTION_CAPABILITY.items()
    }
    assert listed == offered


def test_readme_installs_from_the_manifests_repository() -> None:
    """The HACS link and URL name the repository the manifest points to, and
    the minimum version is hacs.json's.
    """
    hacs = json.loads((ROOT / "hacs.json").read_text())
    owner, repository = (
        MANIFEST["issue_tracker"].removeprefix("https://github.com/").split("/")[:2]
    )
    assert MANIFEST["documentation"].startswith(
        f"https://github.com/{owner}/{repository}"
    )
    assert (
        "https://my.home-assistant.io/redirect/hacs_repository/"
        f"?owner={owner}&repository={repository}&category=integration"
    ) in README
    assert f"`https://github.com/{owner}/{repository}`" in README
    assert f"**Home Assistant {hacs['homeassistant']} or later**" in README


def _commands(text: str) -> list[str]:
    """The commands of the first bash block: its lines up to their comments."""
    block = text[text.index("```bash\n") + 8 :].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines()]


def test_the_two_commands_and_what_ci_runs() -> None:
    """README and CONTRIBUTING.md open with the same two commands, and CI runs
    the test command they give.
    """
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    assert _commands(README) == ["scripts/develop", "scripts/test"]
    assert _commands(contributing) == _commands(README)
    assert contributing.index("```bash\n") < contributing.index("\n## ")
    assert README.index("```bash\n") < README.index("\n## ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\nexec {_commands(README)[1]}\n" in ci


async def test_add_integration_finds_pbx_hub_by_its_name_only(
    hass: HomeAssistant,
) -> None:
    """What the README's vendor table note says: the Add integration dialog
    searches a custom integration's name and domain only (its description has
    no brand ``integrations``, ``supported_by`` or ``iot_standards``, the other
    keys the frontend searches), so a vendor's name cannot find PBX Hub.
    """
    descriptions = await async_get_integration_descriptions(hass)
    described = descriptions["custom"]["integration"][DOMAIN]
    assert described["name"] == "PBX Hub"
    assert not {"integrations", "supported_by", "iot_standards"} & set(described)
    assert all(
        spec.name.lower() not in described["name"].lower() for spec in VENDORS.values()
    )
    assert "search for a vendor's name" in README
    assert "does not find it" in README

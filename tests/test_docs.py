"""The README's actions section cannot fall behind services.yaml: every action
has its heading and a table row per field, and every YAML example in it passes
the action's own schema and input check.
"""

from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from homeassistant.util.yaml import load_yaml_dict, parse_yaml
import probatio as vol
import pytest

from custom_components.pbx_hub import services
from custom_components.pbx_hub.const import DOMAIN

ROOT = Path(__file__).parent.parent
SERVICES: dict[str, Any] = load_yaml_dict(
    str(ROOT / "custom_components" / DOMAIN / "services.yaml")
)
README = (ROOT / "README.md").read_text()
ACTIONS = README[README.index("\n## Actions\n") : README.index("\n## Examples\n")]
SCHEMAS: dict[str, vol.Schema | vol.All] = {
    services.SERVICE_SET_DID_ROUTE: services.SET_DID_ROUTE_SCHEMA,
    services.SERVICE_SET_DID_ROUTE_PLAN: services.SET_DID_ROUTE_PLAN_SCHEMA,
    services.SERVICE_CLICK_TO_CALL: services.CLICK_TO_CALL_SCHEMA,
    services.SERVICE_SEND_SMS: services.SEND_SMS_SCHEMA,
    services.SERVICE_GET_CHARGES: services.GET_CHARGES_SCHEMA,
    "set_hot_desk": services.SET_HOT_DESK_SCHEMA,
}


def _section(service: str) -> str:
    """The text under ``### `pbx_hub.<service>` `` up to the next heading."""
    match = re.search(
        rf"^### `{DOMAIN}\.{service}`\n(?P<body>.*?)(?=^#{{2,3}} |\Z)",
        ACTIONS,
        re.DOTALL | re.MULTILINE,
    )
    assert match, f"the README's actions section has no heading for {service}"
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

"""The PBX names its tenant, and that name becomes the entry's title: one
line of a sane length, and plain text inside the markdown of repair texts.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client.poll_issues import RATE_LIMITED
from custom_components.pbx_hub.client.titles import (
    MAX_TITLE_LENGTH,
    entry_title,
    markdown_escape,
)
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.repairs import (
    ApiUrlRepairFlow,
    create_entry_issue,
    issue_id,
)
from simulator import PbxwareSimulator

from .vendor_sims import pbxware_settings

pytestmark = pytest.mark.slow  # servers on loopback

HOSTILE = (
    "[Pay here](https://evil.example) ![x](https://evil.example/x.png)\n"
    "# <img src=x onerror=alert(1)> **now**\x00\u202e\u200b" + "y" * 300
)
"""A tenant name with a link, an image, a heading, HTML, emphasis, a line
break, a NUL, a right-to-left override, a zero-width space and 300 more
characters."""
STRINGS: dict[str, Any] = json.loads(
    (
        Path(__file__).parent.parent / "custom_components/pbx_hub/strings.json"
    ).read_text()
)


@pytest.mark.parametrize("multi_tenant", [True])
async def test_the_tenant_name_becomes_a_sane_title(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    tenant_id, tenant = next(iter(pbxware_sim.tenants.items()))
    tenant.name = HOSTILE
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "pbxware"}
    )
    form = pbxware_settings(pbxware_sim)
    form.pop("vendor")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], form)
    assert result["step_id"] == "tenant"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"tenant": tenant_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    title = result["title"]
    assert title == entry_title(HOSTILE)
    assert len(title) == MAX_TITLE_LENGTH
    assert title.startswith("[Pay here](https://evil.example) ![x]")
    assert not any(char in title for char in "\n\x00\u202e\u200b")


async def test_repair_descriptions_show_the_title_as_text(
    hass: HomeAssistant,
) -> None:
    """``{title}`` (descriptions, markdown) is escaped, ``{title_plain}``
    (issue titles, plain text) is not; both are the sane title.
    """
    entry = MockConfigEntry(domain=DOMAIN, title=HOSTILE, data={"vendor": "pbxware"})
    entry.add_to_hass(hass)
    create_entry_issue(hass, entry, RATE_LIMITED)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id(RATE_LIMITED, entry))
    assert issue is not None
    placeholders = issue.translation_placeholders or {}
    assert placeholders["title_plain"] == entry_title(HOSTILE)
    assert placeholders["title"] == markdown_escape(entry_title(HOSTILE))
    assert placeholders["title"].startswith(r"\[Pay here\]\(https\:\/\/evil\.example\)")


async def test_the_fix_flow_shows_the_title_and_address_as_text(
    hass: HomeAssistant,
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, title=HOSTILE, data={"vendor": "tim4biz"})
    entry.add_to_hass(hass)
    flow = ApiUrlRepairFlow(entry.entry_id, "https://api2.tim4biz.com/api/")
    flow.hass = hass
    result = await flow.async_step_confirm()
    assert result["description_placeholders"] == {
        "title": markdown_escape(entry_title(HOSTILE)),
        "url": r"https\:\/\/api2\.tim4biz\.com\/api\/",
    }


def test_issue_titles_are_plain_and_descriptions_escaped() -> None:
    """Home Assistant shows an issue's title as text and renders its
    description as markdown: the title uses ``{title_plain}``, the
    description ``{title}``.
    """
    for key, issue in STRINGS["issues"].items():
        assert "{title}" not in issue["title"], key
        assert "{title_plain}" not in issue.get("description", ""), key


def test_every_repair_issue_gets_both_title_placeholders() -> None:
    """Issue titles name ``{title_plain}``: an issue created without it would
    show the placeholder's name. Every place that creates one passes both.
    """
    component = Path(__file__).parent.parent / "custom_components" / "pbx_hub"
    calls = [
        # The call's arguments: up to its closing bracket at the call's indent.
        re.search(r"\(\n(.*?)\n\s*\)\n", source[match.start() :], re.DOTALL)
        for path in component.glob("*.py")
        for source in [path.read_text()]
        for match in re.finditer(r"ir\.async_create_issue\(", source)
    ]
    assert calls
    for call in calls:
        assert call is not None
        assert "title_placeholders(" in call[1], call[1]

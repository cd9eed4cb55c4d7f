"""Repair flows: the fixable issues PBX Hub raises.

Only one is fixable here: a vendor that names a new API address (TIM4biz's
``TIM4biz-API-URL``). Confirming moves the entry to that address and reloads it.
The plain-http warning, which the user fixes by reconfiguring, is kept here too.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import (
    ConfirmRepairFlow,
    RepairsFlow,
    RepairsFlowResult,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .client import VENDORS, FieldKind
from .const import CONF_VENDOR, DOMAIN
from .coordinator import create_entry_issue, issue_id
from .titles import entry_title, markdown_escape

PLAIN_HTTP = "plain_http"
"""Raised while an entry sends its credentials unencrypted to another
machine (a plain ``http://`` address that is not this machine's loopback).
"""


@callback
def sync_plain_http_issue(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """A warning for as long as the entry's address is plain http to another
    machine: the API key, password or token can be read on the way. Kept
    possible for an on-premises PBX that serves no https; reconfiguring with
    an https address (which reloads the entry) or removing the entry clears
    it.
    """
    spec = VENDORS.get(str(entry.data.get(CONF_VENDOR)))
    if spec is not None and spec.client_class.sends_credentials_in_clear(entry.data):
        create_entry_issue(hass, entry, PLAIN_HTTP)
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id(PLAIN_HTTP, entry))


class ApiUrlRepairFlow(RepairsFlow):
    """Use the API address the vendor names."""

    def __init__(self, entry_id: str, url: str) -> None:
        """Remember the entry and the new address."""
        self._entry_id = entry_id
        self._url = url

    async def async_step_init(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Ask to confirm."""
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Move the entry to the new address once confirmed."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None:
            return self.async_abort(reason="entry_removed")
        if user_input is not None:
            url_field = next(
                field.key
                for field in VENDORS[entry.data[CONF_VENDOR]].fields
                if field.kind is FieldKind.URL
            )
            self.hass.config_entries.async_update_entry(
                entry, data={**entry.data, url_field: self._url}
            )
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
            return self.async_create_entry(data={})
        return self.async_show_form(
            step_id="confirm",
            # A markdown description: the PBX's name and address as text.
            description_placeholders={
                "title": markdown_escape(entry_title(entry.title)),
                "url": markdown_escape(self._url),
            },
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """The flow that fixes ``issue_id``."""
    if data and "url" in data and "entry_id" in data:
        return ApiUrlRepairFlow(str(data["entry_id"]), str(data["url"]))
    return ConfirmRepairFlow()

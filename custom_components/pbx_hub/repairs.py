"""Repair issues: their kinds, create and delete helpers, and the API address fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.components.repairs import (
    ConfirmRepairFlow,
    RepairsFlow,
    RepairsFlowResult,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .client import VENDORS, FieldKind, PbxError
from .client.error_keys import MISSING_PERMISSION, MISSING_PERMISSION_UNNAMED
from .client.poll_issues import POLL_ISSUES, TOO_MANY_ITEMS, PollTroubles
from .client.titles import entry_title, markdown_escape, title_placeholders
from .const import CONF_VENDOR, CONF_VERIFY_SSL, DOMAIN

SETUP_REFUSED = f"{MISSING_PERMISSION}_setup"
"""Raised while setup is refused for a missing licence or right; gone once loaded."""
VENDOR_WORDED = (MISSING_PERMISSION, MISSING_PERMISSION_UNNAMED)
"""Worded per vendor (``<key>_<vendor>``): each grants rights its own way."""
API_URL_MOVED = "api_url_moved"
"""Raised while the vendor names another API address; fixable."""
TLS_UNVERIFIED = "tls_unverified"
"""Raised while an entry does not verify the PBX's TLS certificate."""
PLAIN_HTTP = "plain_http"
"""Raised while an entry sends its credentials unencrypted to another machine."""
REPAIR_ISSUES = (
    *POLL_ISSUES,
    TLS_UNVERIFIED,
    PLAIN_HTTP,
    f"{MISSING_PERMISSION}_fast",
    f"{MISSING_PERMISSION}_slow",
    f"{TOO_MANY_ITEMS}_fast",
    f"{TOO_MANY_ITEMS}_slow",
    SETUP_REFUSED,
    API_URL_MOVED,
)


def issue_id(kind: str, entry: ConfigEntry) -> str:
    """The repair issue of ``kind`` for one entry."""
    return f"{kind}_{entry.entry_id}"


def is_removed(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Whether ``entry`` was removed while a request was out: then nothing is raised."""
    return hass.config_entries.async_get_entry(entry.entry_id) is not entry


def create_entry_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    *,
    is_fixable: bool = False,
    translation_key: str | None = None,
    placeholders: Mapping[str, str] | None = None,
) -> None:
    """Create or update the entry's warning of ``kind``; its creator deletes it."""
    if is_removed(hass, entry):
        return
    placeholders = placeholders or {}
    translation_key = translation_key or kind
    if translation_key in VENDOR_WORDED:
        translation_key = f"{translation_key}_{entry.data[CONF_VENDOR]}"
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry),
        is_fixable=is_fixable,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key,
        translation_placeholders={**title_placeholders(entry.title), **placeholders},
        data={"entry_id": entry.entry_id, **placeholders},
    )


def delete_entry_issue(hass: HomeAssistant, entry: ConfigEntry, kind: str) -> None:
    """Delete the entry's repair issue of ``kind``, if there is one."""
    ir.async_delete_issue(hass, DOMAIN, issue_id(kind, entry))


def delete_entry_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete every repair issue of the entry, those of its actions included."""
    for kind in REPAIR_ISSUES:
        delete_entry_issue(hass, entry, kind)
    suffix = f"_{entry.entry_id}"
    for domain, issue in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue.endswith(suffix):
            ir.async_delete_issue(hass, DOMAIN, issue)


@callback
def sync_address_issues(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Warn while any certificate is accepted, or credentials go in clear."""
    spec = VENDORS.get(str(entry.data.get(CONF_VENDOR)))
    in_clear = spec is not None and spec.client_class.sends_in_clear(entry.data)
    if entry.data.get(CONF_VERIFY_SSL, True) is False and not in_clear:
        create_entry_issue(hass, entry, TLS_UNVERIFIED)
    else:
        delete_entry_issue(hass, entry, TLS_UNVERIFIED)
    if spec is not None and spec.client_class.sends_credentials_in_clear(entry.data):
        create_entry_issue(hass, entry, PLAIN_HTTP)
    else:
        delete_entry_issue(hass, entry, PLAIN_HTTP)


def sync_api_url_issue(
    hass: HomeAssistant, entry: ConfigEntry, url: str | None
) -> None:
    """A fixable issue while the vendor names another API address ``url``."""
    if url is not None:
        create_entry_issue(
            hass, entry, API_URL_MOVED, is_fixable=True, placeholders={"url": url}
        )
    else:
        delete_entry_issue(hass, entry, API_URL_MOVED)


class PollIssues:
    """A cadence's issues: each until a good read; a missing right while refused."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, cadence: str) -> None:
        """No read has failed yet."""
        self._hass = hass
        self._entry = entry
        self._permission_kind = f"{MISSING_PERMISSION}_{cadence}"
        self._too_many_kind = f"{TOO_MANY_ITEMS}_{cadence}"
        self._troubles = PollTroubles()

    def failed(self, topic: str, err: PbxError) -> None:
        """Count a failed read, and raise the issues it calls for, if any."""
        for kind, placeholders in self._troubles.failed(topic, err).items():
            create_entry_issue(
                self._hass,
                self._entry,
                self._too_many_kind if kind == TOO_MANY_ITEMS else kind,
                translation_key=kind,
                placeholders=placeholders,
            )

    def succeeded(self, topic: str, refused: str | None) -> None:
        """Clear the read's issues; one names every right the cadence is ``refused``."""
        self._troubles.succeeded(topic, refused)
        for kind in POLL_ISSUES:
            delete_entry_issue(self._hass, self._entry, kind)
        if not self._troubles.too_many_items:
            delete_entry_issue(self._hass, self._entry, self._too_many_kind)
        if missing := self._troubles.missing_rights:
            create_entry_issue(
                self._hass,
                self._entry,
                self._permission_kind,
                translation_key=MISSING_PERMISSION,
                placeholders={"permission": ", ".join(missing)},
            )
        else:
            delete_entry_issue(self._hass, self._entry, self._permission_kind)


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

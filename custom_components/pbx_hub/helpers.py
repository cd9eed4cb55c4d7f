"""Turn client errors raised by user actions into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir

from .client import (
    PbxError,
    PbxInvalidInputError,
    PbxPermissionError,
    PbxUnsupportedError,
)
from .const import DOMAIN
from .coordinator import (
    MISSING_PERMISSION,
    PbxConfigEntry,
    error_translation,
    issue_id,
    needs_reauth,
)


async def run_action[T](entry: PbxConfigEntry, call: Awaitable[T]) -> T:
    """Await a client write; on failure raise a translated error.

    Input the PBX refuses is the user's to fix (``ServiceValidationError``); an auth
    error also starts reauthentication, and a missing licence or right raises a
    repair issue naming it, so the user sees why.
    """
    hass = entry.runtime_data.fast.hass
    # One repair issue per action refused for a missing licence or right; the
    # action's next success clears it.
    action = str(getattr(call, "__qualname__", "action")).rsplit(".", 1)[-1]
    refused = issue_id(f"{MISSING_PERMISSION}_{action}", entry)
    try:
        result = await call
    except PbxError as err:
        if needs_reauth(err):
            entry.async_start_reauth(hass)
        key, placeholders = error_translation(err)
        if isinstance(err, PbxPermissionError):
            ir.async_create_issue(
                hass,
                DOMAIN,
                refused,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=key,
                translation_placeholders={"title": entry.title, **placeholders},
            )
        error_class = (
            ServiceValidationError
            if isinstance(err, PbxInvalidInputError | PbxUnsupportedError)
            else HomeAssistantError
        )
        raise error_class(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, refused)
    return result

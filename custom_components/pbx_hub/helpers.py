"""Turn client errors raised by user actions into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .client import PbxError, PbxInvalidInputError, PbxUnsupportedError
from .const import DOMAIN
from .coordinator import PbxConfigEntry, error_translation, needs_reauth


async def run_action[T](entry: PbxConfigEntry, call: Awaitable[T]) -> T:
    """Await a client write; on failure raise a translated error.

    Input the PBX refuses is the user's to fix (``ServiceValidationError``); an auth
    error also starts reauthentication, so the user sees why.
    """
    try:
        return await call
    except PbxError as err:
        if needs_reauth(err):
            entry.async_start_reauth(entry.runtime_data.fast.hass)
        key, placeholders = error_translation(err)
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

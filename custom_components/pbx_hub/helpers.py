"""Turn client errors raised by user actions into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .client import (
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxRateLimitError,
    PbxUnsupportedError,
)
from .const import DOMAIN
from .coordinator import PbxConfigEntry


async def run_action[T](entry: PbxConfigEntry, call: Awaitable[T]) -> T:
    """Await a client write; on failure raise a translated error.

    An auth error also starts reauthentication, so the user sees why.
    """
    try:
        return await call
    except PbxAuthError as err:
        entry.async_start_reauth(entry.runtime_data.fast.hass)
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="auth_failed"
        ) from err
    except (PbxInvalidInputError, PbxUnsupportedError) as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_input",
            translation_placeholders={"error": str(err)},
        ) from err
    except PbxRateLimitError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="rate_limited",
            translation_placeholders={"retry_after": f"{err.retry_after or 0:.0f}"},
        ) from err
    except PbxConnectionError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": str(err)},
        ) from err
    except PbxError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="invalid_response",
            translation_placeholders={"error": str(err)},
        ) from err

"""The flows' forms, built from what a vendor declares, and their one error helper."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .client import (
    URL_REASONS,
    FieldKind,
    OptionKind,
    PbxAuthError,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    SettingField,
    VendorSpec,
)
from .const import LOGGER, MAX_INTERVAL, MIN_INTERVAL

_SELECTORS: dict[FieldKind, Callable[[], Any]] = {
    FieldKind.TEXT: TextSelector,
    FieldKind.URL: lambda: TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
    FieldKind.PASSWORD: lambda: TextSelector(
        TextSelectorConfig(type=TextSelectorType.PASSWORD)
    ),
    FieldKind.BOOLEAN: BooleanSelector,
}


def fields_schema(
    fields: tuple[SettingField, ...], values: Mapping[str, Any]
) -> vol.Schema:
    """A form for ``fields``, pre-filled with ``values`` except secrets."""
    schema: dict[vol.Marker, Any] = {}
    for field in fields:
        default = (
            field.default if field.secret else values.get(field.key, field.default)
        )
        marker = vol.Required if field.required else vol.Optional
        key = (
            marker(field.key) if default is None else marker(field.key, default=default)
        )
        schema[key] = _SELECTORS[field.kind]()
    return vol.Schema(schema)


async def attempt[T](
    call: Awaitable[T], errors: dict[str, str], placeholders: dict[str, str]
) -> T | None:
    """Await a client call; on failure note the form error and return ``None``."""
    try:
        return await call
    except PbxNotWhitelistedError:
        errors["base"] = "ip_not_whitelisted"
    except PbxPermissionError as err:
        # Good credentials that lack a right: "invalid auth" would send the
        # user looking for another key.
        if err.permission is None:  # a bare 403: no name to show
            errors["base"] = "missing_permission_unnamed"
        else:
            errors["base"] = "missing_permission"
            placeholders["permission"] = err.permission
    except PbxClockSkewError:
        errors["base"] = "clock_skew"
    except PbxAuthError:
        errors["base"] = "invalid_auth"
    except PbxRateLimitError:
        errors["base"] = "rate_limited"
    except PbxConnectionError:
        errors["base"] = "cannot_connect"
    except PbxInvalidInputError as err:
        errors["base"] = address_error(err.reason) or "invalid_response"
    except PbxError:
        errors["base"] = "invalid_response"
    except Exception:
        LOGGER.exception("Unexpected error while talking to the PBX")
        errors["base"] = "unknown"
    return None


def address_error(reason: str | None) -> str | None:
    """The form error for an address refused for ``reason``; else ``None``."""
    if reason not in URL_REASONS:
        return None
    return "invalid_url" if reason == "url" else reason


def check_address(
    spec: VendorSpec,
    settings: Mapping[str, Any],
    errors: dict[str, str],
    *,
    as_entered: bool,
) -> bool:
    """Whether the server address may be used, before anything is sent to it."""
    try:
        spec.client_class.server_address(settings, as_entered=as_entered)
    except PbxInvalidInputError as err:
        url_field = next(
            (field.key for field in spec.fields if field.kind is FieldKind.URL),
            "base",
        )
        errors[url_field if as_entered else "base"] = (
            address_error(err.reason) or "invalid_url"
        )
        return False
    return True


OPTION_SELECTORS: dict[OptionKind, Callable[[], Any]] = {
    OptionKind.PHONE: lambda: TextSelector(
        TextSelectorConfig(type=TextSelectorType.TEL)
    ),
    # One value a line, or separated by commas (see ``client.option_list``).
    OptionKind.LIST: lambda: TextSelector(TextSelectorConfig(multiline=True)),
    OptionKind.TEXT: TextSelector,
}


def seconds_selector() -> NumberSelector:
    """A scan interval, in seconds within the allowed range."""
    return NumberSelector(
        NumberSelectorConfig(
            min=MIN_INTERVAL.total_seconds(),
            max=MAX_INTERVAL.total_seconds(),
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )

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
    FieldKind,
    OptionKind,
    PbxError,
    PbxInvalidInputError,
    SettingField,
    VendorSpec,
)
from .client.error_keys import address_error, form_error
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
    except PbxError as err:
        errors["base"], details = form_error(err)
        placeholders.update(details)
    except Exception:
        LOGGER.exception("Unexpected error while talking to the PBX")
        errors["base"] = "unknown"
    return None


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

"""What the actions take: their schemas, and the checks that need no request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import probatio as vol

from .client import DestinationType, TimeFilter
from .const import DOMAIN
from .coordinator import PbxConfigEntry

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_DID = "did"
ATTR_DESTINATION_TYPE = "destination_type"
ATTR_DESTINATION = "destination"

ATTR_DEVICE_ID = "device_id"
ATTR_USER_NUMBER = "user_number"
ATTR_NUMBER = "number"

SERVICE_SET_DID_ROUTE = "set_did_route"
SERVICE_SET_DID_ROUTE_PLAN = "set_did_route_plan"
SERVICE_CLICK_TO_CALL = "click_to_call"
SERVICE_SEND_SMS = "send_sms"
SERVICE_GET_CHARGES = "get_charges"
SERVICE_SET_HOT_DESK = "set_hot_desk"
SERVICE_START_RECORDING = "start_recording"
SERVICE_STOP_RECORDING = "stop_recording"
ATTR_SUBSCRIBER = "subscriber"
ATTR_START = "start"
ATTR_END = "end"
MAX_CHARGES_PERIOD = timedelta(days=366)
ATTR_RECIPIENT = "recipient"
ATTR_MESSAGE = "message"
ROUTABLE = [kind.value for kind in DestinationType if kind is not DestinationType.OTHER]

_NAME = vol.All(cv.string, vol.Strip)
"""A name; schemas check types only, ``check_input`` the rest (translated)."""
ROUTE_PLAN_FIELDS = (
    "route",
    "backup_route",
    *(kind.value for kind in TimeFilter),
)
"""Routes and time filters by name or id; "none" clears all but the route."""
SET_DID_ROUTE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_DID): _NAME,
        # Required, but checked by the handler, whose error is translated.
        vol.Optional(ATTR_DESTINATION_TYPE): cv.string,
        vol.Optional(ATTR_DESTINATION): _NAME,
        # The old form of this action: accepted only to say where it went.
        **{vol.Optional(field): _NAME for field in ROUTE_PLAN_FIELDS},
    }
)
SET_DID_ROUTE_PLAN_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_DID): _NAME,
        **{vol.Optional(field): _NAME for field in ROUTE_PLAN_FIELDS},
    }
)
SET_HOT_DESK_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required("hot_desk"): _NAME,
        vol.Optional("sip_account"): _NAME,
        vol.Optional("template"): _NAME,
    }
)


CLICK_TO_CALL_SCHEMA = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_USER_NUMBER): _NAME,
        vol.Required(ATTR_NUMBER): _NAME,
    }
)

RECORDING_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})


SEND_SMS_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_RECIPIENT): cv.string,
        vol.Required(ATTR_MESSAGE): cv.string,
    }
)


GET_CHARGES_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SUBSCRIBER): _NAME,
        vol.Required(ATTR_START): vol.Any(date, cv.string),
        vol.Required(ATTR_END): vol.Any(date, cv.string),
    }
)

_NAME_FIELDS = (
    ATTR_DID,
    ATTR_DESTINATION,
    *ROUTE_PLAN_FIELDS,
    "hot_desk",
    "sip_account",
    "template",
)
TEXT_LIMITS: dict[str, int] = {
    **dict.fromkeys(_NAME_FIELDS, 128),
    ATTR_USER_NUMBER: 32,
    ATTR_NUMBER: 64,
    ATTR_SUBSCRIBER: 254,
    ATTR_RECIPIENT: 64,
}
"""The longest text per field; only the recipient (the vendor's rule) may be empty."""


def loaded_entry(hass: HomeAssistant, entry_id: str) -> PbxConfigEntry:
    """The loaded entry an action names, or a translated refusal."""
    entry: PbxConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise invalid_input("entry_not_found", entry_id=entry_id)
    if entry.state is not ConfigEntryState.LOADED:
        raise invalid_input("entry_not_loaded", title=entry.title)
    return entry


def invalid_input(key: str, **placeholders: str) -> ServiceValidationError:
    """The translated refusal of what an action or entity was given."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def check_input(data: Mapping[str, Any]) -> None:
    """The checks the schemas leave out, translated, before any request to the PBX."""
    for field, longest in TEXT_LIMITS.items():
        if (value := data.get(field)) is None:
            continue
        if not value and field != ATTR_RECIPIENT:
            raise invalid_input("text_empty", field=field)
        if len(value) > longest:
            raise invalid_input("text_too_long", field=field, max=str(longest))
    kind = data.get(ATTR_DESTINATION_TYPE)
    if kind is not None and kind not in ROUTABLE:
        raise invalid_input(
            "invalid_destination_type", destination_type=kind, types=", ".join(ROUTABLE)
        )
    if ATTR_DEVICE_ID in data and ATTR_CONFIG_ENTRY_ID in data:
        raise invalid_input("device_or_entry")
    if ATTR_DEVICE_ID not in data and ATTR_CONFIG_ENTRY_ID not in data:
        raise invalid_input("target_required")
    if ATTR_DEVICE_ID in data and ATTR_USER_NUMBER in data:
        raise invalid_input("device_or_user_number")
    for field in (ATTR_START, ATTR_END):
        if field in data:
            try:
                cv.date(data[field])
            except vol.Invalid:
                raise invalid_input(
                    "invalid_date", field=field, value=str(data[field])
                ) from None


def pick(names: Mapping[str, str], wanted: str, field: str) -> str:
    """The id of ``wanted``, given as an id or a name (any case)."""
    if wanted in names:
        return wanted
    for item_id, name in names.items():
        if name.casefold() == wanted.casefold():
            return item_id
    raise invalid_input("unknown_name", field=field, name=wanted)

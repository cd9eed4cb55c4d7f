"""What the actions take: their schemas, and the checks that need no request."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import probatio as vol

from .client.action_input import (
    ATTR_DESTINATION,
    ATTR_DESTINATION_TYPE,
    ATTR_DID,
    ATTR_END,
    ATTR_NUMBER,
    ATTR_RECIPIENT,
    ATTR_START,
    ATTR_SUBSCRIBER,
    ATTR_USER_NUMBER,
    ROUTE_PLAN_FIELDS,
    find_id,
    input_refusal,
)
from .const import DOMAIN
from .coordinator import PbxConfigEntry

SERVICE_SET_DID_ROUTE = "set_did_route"
SERVICE_SET_DID_ROUTE_PLAN = "set_did_route_plan"
SERVICE_CLICK_TO_CALL = "click_to_call"
SERVICE_SEND_SMS = "send_sms"
SERVICE_GET_CHARGES = "get_charges"
SERVICE_SET_HOT_DESK = "set_hot_desk"
SERVICE_START_RECORDING = "start_recording"
SERVICE_STOP_RECORDING = "stop_recording"
MAX_CHARGES_PERIOD = timedelta(days=366)
ATTR_MESSAGE = "message"

_NAME = vol.All(cv.string, vol.Strip)
"""A name; schemas check types only, ``check_input`` the rest (translated)."""
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
    if (refusal := input_refusal(data)) is not None:
        raise invalid_input(refusal.key, **refusal.placeholders)
    # An action targets a device or an entry, never both; a device is its own user.
    if ATTR_DEVICE_ID in data and ATTR_CONFIG_ENTRY_ID in data:
        raise invalid_input("device_or_entry")
    if ATTR_DEVICE_ID not in data and ATTR_CONFIG_ENTRY_ID not in data:
        raise invalid_input("target_required")
    if ATTR_DEVICE_ID in data and ATTR_USER_NUMBER in data:
        raise invalid_input("device_or_user_number")


def pick(names: Mapping[str, str], wanted: str, field: str) -> str:
    """The id of ``wanted``, given as an id or a name (any case)."""
    if (item_id := find_id(names, wanted)) is None:
        raise invalid_input("unknown_name", field=field, name=wanted)
    return item_id

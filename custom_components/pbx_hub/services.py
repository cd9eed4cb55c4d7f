"""Actions: click to call, SMS, charges and recording; routing in routing_actions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio as vol

from .client import (
    ClicksToCall,
    ListsCharges,
    PbxInvalidInputError,
    RecordsCalls,
    SendsSms,
    Topic,
)
from .client.action_input import (
    ATTR_END,
    ATTR_NUMBER,
    ATTR_RECIPIENT,
    ATTR_START,
    ATTR_SUBSCRIBER,
    ATTR_USER_NUMBER,
    sms_refusal,
)
from .client.action_results import charges_answer
from .const import DOMAIN
from .coordinator import PbxConfigEntry
from .entity import extension_device_identifier
from .event import announce_placed_call
from .helpers import not_supported, run_read, run_write
from .routing_actions import (
    async_set_did_route,
    async_set_did_route_plan,
    async_set_hot_desk,
)
from .service_schemas import (
    ATTR_MESSAGE,
    CLICK_TO_CALL_SCHEMA,
    GET_CHARGES_SCHEMA,
    MAX_CHARGES_PERIOD,
    RECORDING_SCHEMA,
    SEND_SMS_SCHEMA,
    SERVICE_CLICK_TO_CALL,
    SERVICE_GET_CHARGES,
    SERVICE_SEND_SMS,
    SERVICE_SET_DID_ROUTE,
    SERVICE_SET_DID_ROUTE_PLAN,
    SERVICE_SET_HOT_DESK,
    SERVICE_START_RECORDING,
    SERVICE_STOP_RECORDING,
    SET_DID_ROUTE_PLAN_SCHEMA,
    SET_DID_ROUTE_SCHEMA,
    SET_HOT_DESK_SCHEMA,
    check_input,
    invalid_input,
    loaded_entry,
)


def _extension_target(call: ServiceCall) -> tuple[PbxConfigEntry, str]:
    """The entry and extension targeted: an extension's device, or entry and number."""
    if (device_id := call.data.get(ATTR_DEVICE_ID)) is None:
        entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
        if (extension := call.data.get(ATTR_USER_NUMBER)) is None:
            raise invalid_input("extension_required")
        return entry, extension
    device = dr.async_get(call.hass).async_get(device_id)
    entry_id = device.config_entry_id if device is not None else None
    candidate = call.hass.config_entries.async_get_entry(entry_id) if entry_id else None
    if device is not None and candidate is not None and candidate.domain == DOMAIN:
        entry = loaded_entry(call.hass, candidate.entry_id)
        prefix = extension_device_identifier(entry.runtime_data.info, "")[1]
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier.startswith(prefix):
                return entry, identifier.removeprefix(prefix)
    raise invalid_input("not_an_extension", device_id=device_id)


async def _async_click_to_call(call: ServiceCall) -> None:
    entry, extension = _extension_target(call)
    if not isinstance(client := entry.runtime_data.client, ClicksToCall):
        raise not_supported(entry)
    # Checked before any request, so a typo costs no request of the budget.
    try:
        number = client.normalize_number(call.data[ATTR_NUMBER])
    except PbxInvalidInputError:
        raise invalid_input("invalid_number", number=call.data[ATTR_NUMBER]) from None
    await async_place_call(entry, client, extension, number)


async def async_place_call(
    entry: PbxConfigEntry, client: ClicksToCall, extension: str, number: str
) -> None:
    """Place a call to a normalised ``number``, then show it as a placed-call event."""
    await run_write(entry, client.async_click_to_call(extension, number))
    announce_placed_call(entry.runtime_data.hass, entry, extension, number)


async def _async_recording(call: ServiceCall) -> None:
    """Start or stop recording the targeted extension's call."""
    entry, extension_id = _extension_target(call)
    if not isinstance(client := entry.runtime_data.client, RecordsCalls):
        raise not_supported(entry)
    # The PBX records by extension number; the device names the id.
    extension = (entry.runtime_data.data(Topic.EXTENSIONS) or {}).get(extension_id)
    number = extension_id if extension is None else extension.number
    if call.service == SERVICE_START_RECORDING:
        await run_write(entry, client.async_start_recording(number))
    else:
        await run_write(entry, client.async_stop_recording(number))


async def async_send_sms(entry: PbxConfigEntry, recipient: str, message: str) -> None:
    """Check, then send an SMS; for the action and the notify entity alike."""
    if not isinstance(client := entry.runtime_data.client, SendsSms):
        raise not_supported(entry)
    try:
        number, text = client.check_sms(recipient, message)
    except PbxInvalidInputError as err:
        refusal = sms_refusal(err, recipient)
        raise invalid_input(refusal.key, **refusal.placeholders) from None
    await run_write(entry, client.async_send_sms(number, text))


async def _async_send_sms(call: ServiceCall) -> None:
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    await async_send_sms(entry, call.data[ATTR_RECIPIENT], call.data[ATTR_MESSAGE])


async def _async_get_charges(call: ServiceCall) -> ServiceResponse:
    start, end = cv.date(call.data[ATTR_START]), cv.date(call.data[ATTR_END])
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    if not isinstance(client := entry.runtime_data.client, ListsCharges):
        raise not_supported(entry)
    if end < start or end - start > MAX_CHARGES_PERIOD:
        raise invalid_input("invalid_period", start=str(start), end=str(end))
    subscriber = await run_read(
        entry, client.async_get_subscriber(call.data[ATTR_SUBSCRIBER])
    )
    charges = await run_read(entry, client.async_get_charges(subscriber.id, start, end))
    return charges_answer(subscriber, start, end, charges)


_Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]


def _checked(handler: _Handler) -> _Handler:
    async def run(call: ServiceCall) -> ServiceResponse:
        check_input(call.data)
        return await handler(call)

    return run


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions, each behind ``check_input``."""
    actions: tuple[tuple[str, _Handler, vol.Schema, SupportsResponse], ...] = (
        (
            SERVICE_SET_DID_ROUTE,
            async_set_did_route,
            SET_DID_ROUTE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_SET_DID_ROUTE_PLAN,
            async_set_did_route_plan,
            SET_DID_ROUTE_PLAN_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_CLICK_TO_CALL,
            _async_click_to_call,
            CLICK_TO_CALL_SCHEMA,
            SupportsResponse.NONE,
        ),
        (SERVICE_SEND_SMS, _async_send_sms, SEND_SMS_SCHEMA, SupportsResponse.NONE),
        *(
            (service, _async_recording, RECORDING_SCHEMA, SupportsResponse.NONE)
            for service in (SERVICE_START_RECORDING, SERVICE_STOP_RECORDING)
        ),
        (
            SERVICE_GET_CHARGES,
            _async_get_charges,
            GET_CHARGES_SCHEMA,
            SupportsResponse.ONLY,
        ),
        (
            SERVICE_SET_HOT_DESK,
            async_set_hot_desk,
            SET_HOT_DESK_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
    )
    for service, handler, schema, response in actions:
        hass.services.async_register(
            DOMAIN,
            service,
            _checked(handler),
            schema=schema,
            supports_response=response,
        )

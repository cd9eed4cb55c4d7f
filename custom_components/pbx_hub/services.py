"""Actions: routing numbers (``set_did_route``, ``set_did_route_plan``),
``click_to_call``, ``send_sms``, ``get_charges`` and ``set_hot_desk``.

Registered once in ``async_setup``; each call targets a loaded config entry, or
an extension's device, which names its entry.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio as vol

from .client import (
    Capability,
    DestinationType,
    Did,
    PbxInvalidInputError,
    TimeFilter,
    Topic,
)
from .const import DOMAIN
from .coordinator import PbxConfigEntry
from .entity import extension_device_identifier
from .helpers import run_read, run_write

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
ATTR_SUBSCRIBER = "subscriber"
ATTR_START = "start"
ATTR_END = "end"
MAX_CHARGES_PERIOD = timedelta(days=366)
ATTR_RECIPIENT = "recipient"
ATTR_MESSAGE = "message"
ROUTABLE = [kind.value for kind in DestinationType if kind is not DestinationType.OTHER]

_NAME = vol.All(cv.string, vol.Strip)
"""The schemas check types only: limits and choices are left to
``check_input``, whose errors are translated (voluptuous's are not).
"""
ROUTE_PLAN_FIELDS = (
    "route",
    "backup_route",
    *(kind.value for kind in TimeFilter),
)
"""Names or ids of the PBX's routes, backup routes and time filters; "none"
clears all but the route.
"""
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
"""The longest text each action field takes; all but the recipient (which the
vendor's SMS rule checks) must not be empty.
"""


def _loaded_entry(hass: HomeAssistant, entry_id: str) -> PbxConfigEntry:
    entry: PbxConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


def _find_did(entry: PbxConfigEntry, wanted: str) -> Did:
    """A DID by its id or else its number, from the last poll."""
    dids: dict[str, Did] = _last_read(entry, Topic.DIDS, "dids_unavailable")
    if (did := dids.get(wanted)) is not None:
        return did
    for did in dids.values():
        if did.number == wanted:
            return did
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="did_not_found",
        translation_placeholders={"did": wanted},
    )


def _last_read(entry: PbxConfigEntry, topic: Topic, unavailable: str) -> Any:
    """The topic's data as last read, or a translated error while not read."""
    coordinator = entry.runtime_data.coordinators.get(topic)
    if (
        coordinator is None
        or coordinator.data is None
        or not coordinator.last_update_success
    ):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=unavailable,
            translation_placeholders={"title": entry.title},
        )
    return coordinator.data


def _require(entry: PbxConfigEntry, capability: Capability) -> None:
    """Refuse an action the entry's vendor does not offer."""
    if capability not in entry.runtime_data.client.capabilities:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="action_not_supported",
            translation_placeholders={"title": entry.title},
        )


def _invalid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def check_input(data: Mapping[str, Any]) -> None:
    """What the schemas leave out, so that its errors are translated: text
    lengths, the destination type, the click-to-call target and the dates.
    Needs no PBX, so it runs before any request.
    """
    for field, longest in TEXT_LIMITS.items():
        if (value := data.get(field)) is None:
            continue
        if not value and field != ATTR_RECIPIENT:
            raise _invalid("text_empty", field=field)
        if len(value) > longest:
            raise _invalid("text_too_long", field=field, max=str(longest))
    kind = data.get(ATTR_DESTINATION_TYPE)
    if kind is not None and kind not in ROUTABLE:
        raise _invalid(
            "invalid_destination_type", destination_type=kind, types=", ".join(ROUTABLE)
        )
    if ATTR_DEVICE_ID in data and ATTR_CONFIG_ENTRY_ID in data:
        raise _invalid("device_or_entry")
    if ATTR_DEVICE_ID not in data and ATTR_CONFIG_ENTRY_ID not in data:
        raise _invalid("target_required")
    if ATTR_DEVICE_ID in data and ATTR_USER_NUMBER in data:
        raise _invalid("device_or_user_number")
    for field in (ATTR_START, ATTR_END):
        if field in data:
            try:
                cv.date(data[field])
            except vol.Invalid:
                raise _invalid(
                    "invalid_date", field=field, value=str(data[field])
                ) from None


def _pick(names: Mapping[str, str], wanted: str, field: str) -> str:
    """The id of ``wanted``, given as an id or a name (any case)."""
    if wanted in names:
        return wanted
    for item_id, name in names.items():
        if name.casefold() == wanted.casefold():
            return item_id
    raise _invalid("unknown_name", field=field, name=wanted)


async def _async_set_did_route_plan(call: ServiceCall) -> ServiceResponse:
    """Route a number by the PBX's route plans: route, backup route and time
    filters, by name or id.
    """
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    _require(entry, Capability.SET_DID_ROUTE_PLAN)
    routing = _last_read(entry, Topic.DID_ROUTING, "dids_unavailable")
    shown_by = entry.runtime_data.coordinators[Topic.DID_ROUTING]
    wanted = call.data[ATTR_DID]
    did = routing.dids.get(wanted) or next(
        (d for d in routing.dids.values() if d.number == wanted), None
    )
    if did is None:
        raise _invalid("did_not_found", did=wanted)
    if not any(field in call.data for field in ROUTE_PLAN_FIELDS):
        raise _invalid("nothing_to_change")

    def chosen(field: str, names: Mapping[str, str], clearable: bool) -> str | None:
        if (value := call.data.get(field)) is None:
            return None
        if clearable and value.casefold() == "none":
            return "0"
        return _pick(names, value, field)

    route = chosen("route", routing.routes, clearable=False)
    backup_route = chosen("backup_route", routing.backup_routes, clearable=True)
    filters = {
        kind: value
        for kind in TimeFilter
        if (value := chosen(kind.value, routing.time_filters.get(kind, {}), True))
        is not None
    }
    await run_write(
        entry,
        entry.runtime_data.client.async_set_did_routing(
            did.id, route=route, backup_route=backup_route, time_filters=filters
        ),
        shown_by=shown_by,
    )

    def kept(new: str | None, old: str | None) -> str | None:
        return old if new is None else (None if new == "0" else new)

    updated = replace(
        did,
        route=kept(route, did.route),
        backup_route=kept(backup_route, did.backup_route),
        time_filters={
            kind: kept(filters.get(kind), did.time_filters.get(kind))
            for kind in TimeFilter
        },
    )
    shown_by.async_patch(
        "dids",
        did.id,
        route=updated.route,
        backup_route=updated.backup_route,
        time_filters=updated.time_filters,
    )
    return {
        "did": updated.number,
        "route": routing.routes.get(updated.route or ""),
        "backup_route": routing.backup_routes.get(updated.backup_route or ""),
        **{
            kind.value: routing.time_filters.get(kind, {}).get(ref or "")
            for kind, ref in updated.time_filters.items()
        },
    }


async def _async_set_did_route(call: ServiceCall) -> ServiceResponse:
    """Route a number to a destination: an extension, a queue, voicemail, ..."""
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    runtime = entry.runtime_data
    if any(field in call.data for field in ROUTE_PLAN_FIELDS):
        raise _invalid("route_plan_moved")
    _require(entry, Capability.SET_DID_ROUTE)
    if ATTR_DESTINATION_TYPE not in call.data or ATTR_DESTINATION not in call.data:
        raise _invalid("destination_required")
    did = _find_did(entry, call.data[ATTR_DID])
    destination_type = DestinationType(call.data[ATTR_DESTINATION_TYPE])
    destination = call.data[ATTR_DESTINATION]
    shown_by = runtime.coordinators[Topic.DIDS]
    await run_write(
        entry,
        runtime.client.async_set_did_route(did.id, destination_type, destination),
        shown_by=shown_by,
    )
    shown_by.async_patch(
        "", did.id, destination_type=destination_type, destination=destination
    )
    return {
        "did": did.number,
        "destination_type": destination_type.value,
        "destination": destination,
    }


def _extension_target(call: ServiceCall) -> tuple[PbxConfigEntry, str]:
    """The entry and extension a click-to-call targets: an extension's device,
    or an entry plus the extension's number.
    """
    if (device_id := call.data.get(ATTR_DEVICE_ID)) is None:
        entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
        if (extension := call.data.get(ATTR_USER_NUMBER)) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="extension_required"
            )
        return entry, extension
    device = dr.async_get(call.hass).async_get(device_id)
    entry_id = device.config_entry_id if device is not None else None
    candidate = call.hass.config_entries.async_get_entry(entry_id) if entry_id else None
    if device is not None and candidate is not None and candidate.domain == DOMAIN:
        entry = _loaded_entry(call.hass, candidate.entry_id)
        prefix = extension_device_identifier(entry.runtime_data.info, "")[1]
        for domain, identifier in device.identifiers:
            if domain == DOMAIN and identifier.startswith(prefix):
                return entry, identifier.removeprefix(prefix)
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_an_extension",
        translation_placeholders={"device_id": device_id},
    )


async def _async_click_to_call(call: ServiceCall) -> None:
    entry, extension = _extension_target(call)
    client = entry.runtime_data.client
    _require(entry, Capability.CLICK_TO_CALL)
    # Checked before any request, so a typo costs no request of the budget.
    try:
        number = client.normalize_number(call.data[ATTR_NUMBER])
    except PbxInvalidInputError:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_number",
            translation_placeholders={"number": call.data[ATTR_NUMBER]},
        ) from None
    await run_write(entry, client.async_click_to_call(extension, number))


async def async_send_sms(entry: PbxConfigEntry, recipient: str, message: str) -> None:
    """Check, then send an SMS through the entry's PBX; shared by the action and
    the notify entity.
    """
    client = entry.runtime_data.client
    _require(entry, Capability.SEND_SMS)
    try:
        number, text = client.check_sms(recipient, message)
    except PbxInvalidInputError as err:
        # The vendor's rule, in the user's language where it is a known one.
        key, placeholders = {
            "sms_recipient": ("invalid_sms_recipient", {"recipient": recipient}),
            "sms_length": ("invalid_sms_length", {}),
        }.get(err.reason or "", ("invalid_sms", {"error": str(err)}))
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from None
    await run_write(entry, client.async_send_sms(number, text))


async def _async_send_sms(call: ServiceCall) -> None:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    await async_send_sms(entry, call.data[ATTR_RECIPIENT], call.data[ATTR_MESSAGE])


async def _async_get_charges(call: ServiceCall) -> ServiceResponse:
    start, end = cv.date(call.data[ATTR_START]), cv.date(call.data[ATTR_END])
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    client = entry.runtime_data.client
    _require(entry, Capability.CHARGES)
    if end < start or end - start > MAX_CHARGES_PERIOD:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="invalid_period",
            translation_placeholders={"start": str(start), "end": str(end)},
        )
    subscriber = await run_read(
        entry, client.async_get_subscriber(call.data[ATTR_SUBSCRIBER])
    )
    charges = await run_read(entry, client.async_get_charges(subscriber.id, start, end))
    return {
        "subscriber": {"id": subscriber.id, "name": subscriber.name},
        "start": start.isoformat(),
        "end": end.isoformat(),
        # Unknown when any amount is: a sum of the known ones would be wrong.
        "total": None
        if any(charge.amount is None for charge in charges)
        else round(sum(charge.amount or 0 for charge in charges), 2),
        "charges": [
            {
                "id": charge.id,
                "service": charge.service,
                "amount": charge.amount,
                "count": charge.count,
                "start": charge.start.isoformat() if charge.start else None,
                "end": charge.end.isoformat() if charge.end else None,
                "recorded": charge.recorded_at.isoformat()
                if charge.recorded_at
                else None,
            }
            for charge in charges
        ],
    }


async def _async_set_hot_desk(call: ServiceCall) -> ServiceResponse:
    entry = _loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    runtime = entry.runtime_data
    _require(entry, Capability.SET_HOT_DESK)
    desks = _last_read(entry, Topic.HOT_DESKS, "hot_desks_unavailable")
    shown_by = runtime.coordinators[Topic.HOT_DESKS]
    desk_id = _pick(
        {d.id: d.name for d in desks.desks.values()}, call.data["hot_desk"], "hot_desk"
    )
    if "sip_account" not in call.data and "template" not in call.data:
        raise _invalid("nothing_to_change")
    account = call.data.get("sip_account")
    if account is not None:
        extensions = runtime.data(Topic.EXTENSIONS) or {}
        account = (
            "0"
            if account.casefold() == "none"
            else _pick(
                {e.id: e.name for e in extensions.values()}, account, "sip_account"
            )
        )
    template = call.data.get("template")
    if template is not None:
        template = _pick(desks.templates, template, "template")
    await run_write(
        entry,
        runtime.client.async_set_hot_desk(
            desk_id, sip_account=account, template=template
        ),
        shown_by=shown_by,
    )
    desk = desks.desks[desk_id]
    updated = replace(
        desk,
        sip_account=desk.sip_account
        if account is None
        else (None if account == "0" else account),
        template=template or desk.template,
    )
    shown_by.async_patch(
        "desks",
        desk_id,
        sip_account=updated.sip_account,
        template=updated.template,
    )
    return {
        "hot_desk": updated.name,
        "sip_account": updated.sip_account,
        "template": desks.templates.get(updated.template or ""),
    }


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
            _async_set_did_route,
            SET_DID_ROUTE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_SET_DID_ROUTE_PLAN,
            _async_set_did_route_plan,
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
        (
            SERVICE_GET_CHARGES,
            _async_get_charges,
            GET_CHARGES_SCHEMA,
            SupportsResponse.ONLY,
        ),
        (
            SERVICE_SET_HOT_DESK,
            _async_set_hot_desk,
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

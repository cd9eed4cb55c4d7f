"""Routing and hot-desk actions: checked against the last poll, shown at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from homeassistant.core import ServiceCall, ServiceResponse
from homeassistant.exceptions import HomeAssistantError

from .client import (
    CLEAR,
    Clearable,
    DestinationType,
    Did,
    RoutesDidPlans,
    RoutesDids,
    SetsHotDesks,
    TimeFilter,
    Topic,
)
from .client.action_input import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DESTINATION,
    ATTR_DESTINATION_TYPE,
    ATTR_DID,
    ROUTE_PLAN_FIELDS,
)
from .const import DOMAIN
from .coordinator import PbxConfigEntry
from .helpers import not_supported, run_write
from .service_schemas import invalid_input, loaded_entry, pick


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


def _find_did(entry: PbxConfigEntry, wanted: str) -> Did:
    """A DID by its id or else its number, from the last poll."""
    dids: dict[str, Did] = _last_read(entry, Topic.DIDS, "dids_unavailable")
    if (did := dids.get(wanted)) is not None:
        return did
    for did in dids.values():
        if did.number == wanted:
            return did
    raise invalid_input("did_not_found", did=wanted)


async def async_set_did_route_plan(call: ServiceCall) -> ServiceResponse:
    """Route a number by the PBX's route plans: route, backup route, time filters."""
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    if not isinstance(client := entry.runtime_data.client, RoutesDidPlans):
        raise not_supported(entry)
    routing = _last_read(entry, Topic.DID_ROUTING, "dids_unavailable")
    slow = entry.runtime_data.coordinators[Topic.DID_ROUTING]
    wanted = call.data[ATTR_DID]
    did = routing.dids.get(wanted) or next(
        (d for d in routing.dids.values() if d.number == wanted), None
    )
    if did is None:
        raise invalid_input("did_not_found", did=wanted)
    if not any(field in call.data for field in ROUTE_PLAN_FIELDS):
        raise invalid_input("nothing_to_change")

    def chosen(field: str, names: Mapping[str, str]) -> Clearable | None:
        if (value := call.data.get(field)) is None:
            return None
        if value.casefold() == "none":
            return CLEAR
        return pick(names, value, field)

    route = call.data.get("route")
    if route is not None:
        route = pick(routing.routes, route, "route")
    backup_route = chosen("backup_route", routing.backup_routes)
    filters = {
        kind: value
        for kind in TimeFilter
        if (value := chosen(kind.value, routing.time_filters.get(kind, {}))) is not None
    }
    await run_write(
        entry,
        client.async_set_did_routing(
            did.id, route=route, backup_route=backup_route, time_filters=filters
        ),
        shown_by=slow,
    )

    def kept[T](new: Clearable | None, old: T, cleared: T) -> str | T:
        if new is None:
            return old
        return cleared if new is CLEAR else new

    updated = replace(
        did,
        # A cleared route or backup route is CLEAR ("none"); None is unknown.
        route=kept(route, did.route, CLEAR),
        backup_route=kept(backup_route, did.backup_route, CLEAR),
        time_filters={
            kind: kept(filters.get(kind), did.time_filters.get(kind), None)
            for kind in TimeFilter
        },
    )
    slow.async_patch(
        "dids",
        did.id,
        route=updated.route,
        backup_route=updated.backup_route,
        time_filters=updated.time_filters,
    )
    return {
        "did": updated.number,
        "route": _named(routing.routes, updated.route),
        "backup_route": _named(routing.backup_routes, updated.backup_route),
        **{
            kind.value: routing.time_filters.get(kind, {}).get(ref or "")
            for kind, ref in updated.time_filters.items()
        },
    }


async def async_set_did_route(call: ServiceCall) -> ServiceResponse:
    """Route a number to a destination: an extension, a queue, voicemail, ..."""
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    runtime = entry.runtime_data
    if any(field in call.data for field in ROUTE_PLAN_FIELDS):
        raise invalid_input("route_plan_moved")
    if not isinstance(client := entry.runtime_data.client, RoutesDids):
        raise not_supported(entry)
    if ATTR_DESTINATION_TYPE not in call.data or ATTR_DESTINATION not in call.data:
        raise invalid_input("destination_required")
    did = _find_did(entry, call.data[ATTR_DID])
    destination_type = DestinationType(call.data[ATTR_DESTINATION_TYPE])
    destination = call.data[ATTR_DESTINATION]
    await run_write(
        entry,
        client.async_set_did_route(did.id, destination_type, destination),
        shown_by=runtime.coordinators[Topic.DIDS],
    )
    runtime.coordinators[Topic.DIDS].async_patch(
        "", did.id, destination_type=destination_type, destination=destination
    )
    return {
        "did": did.number,
        "destination_type": destination_type.value,
        "destination": destination,
    }


async def async_set_hot_desk(call: ServiceCall) -> ServiceResponse:
    """Log a SIP account in at a hot desk (or out), or change its template."""
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    runtime = entry.runtime_data
    if not isinstance(client := entry.runtime_data.client, SetsHotDesks):
        raise not_supported(entry)
    desks = _last_read(entry, Topic.HOT_DESKS, "hot_desks_unavailable")
    slow = runtime.coordinators[Topic.HOT_DESKS]
    desk_id = pick(
        {d.id: d.name for d in desks.desks.values()}, call.data["hot_desk"], "hot_desk"
    )
    if "sip_account" not in call.data and "template" not in call.data:
        raise invalid_input("nothing_to_change")
    account: Clearable | None = None
    if (wanted := call.data.get("sip_account")) is not None:
        extensions = runtime.data(Topic.EXTENSIONS) or {}
        account = (
            CLEAR
            if wanted.casefold() == "none"
            else pick(
                {e.id: e.name for e in extensions.values()}, wanted, "sip_account"
            )
        )
    template = call.data.get("template")
    if template is not None:
        template = pick(desks.templates, template, "template")
    await run_write(
        entry,
        client.async_set_hot_desk(desk_id, sip_account=account, template=template),
        shown_by=slow,
    )
    desk = desks.desks[desk_id]
    updated = replace(
        desk,
        sip_account=desk.sip_account
        if account is None
        else (None if account is CLEAR else account),
        template=template or desk.template,
    )
    slow.async_patch(
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


def _named(names: Mapping[str, str], ref: Clearable | None) -> str | None:
    """The name of the route ``ref`` names; ``None`` for none or unknown."""
    return None if ref is None or ref is CLEAR else names.get(ref)

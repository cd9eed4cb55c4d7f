"""Routing and hot-desk actions: checked against the last poll, shown at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
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
    ATTR_DESTINATION,
    ATTR_DESTINATION_TYPE,
    ATTR_DID,
    ROUTE_PLAN_FIELDS,
    find_numbered,
)
from .client.action_results import (
    hot_desk_answer,
    rerouted,
    reseated,
    route_plan_answer,
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
    if (did := find_numbered(dids, wanted)) is None:
        raise invalid_input("did_not_found", did=wanted)
    return did


def _picked(call: ServiceCall, field: str, names: Mapping[str, str]) -> str | None:
    """The id of what the action names in ``field``, if it names one."""
    value = call.data.get(field)
    return None if value is None else pick(names, value, field)


def _chosen(
    call: ServiceCall, field: str, names: Mapping[str, str]
) -> Clearable | None:
    """As ``_picked``, but "none" (in any case) sets it to none."""
    value = call.data.get(field)
    if value is not None and value.casefold() == "none":
        return CLEAR
    return _picked(call, field, names)


async def async_set_did_route_plan(call: ServiceCall) -> ServiceResponse:
    """Route a number by the PBX's route plans: route, backup route, time filters."""
    entry = loaded_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    if not isinstance(client := entry.runtime_data.client, RoutesDidPlans):
        raise not_supported(entry)
    routing = _last_read(entry, Topic.DID_ROUTING, "dids_unavailable")
    slow = entry.runtime_data.coordinators[Topic.DID_ROUTING]
    if (did := find_numbered(routing.dids, call.data[ATTR_DID])) is None:
        raise invalid_input("did_not_found", did=call.data[ATTR_DID])
    if not any(field in call.data for field in ROUTE_PLAN_FIELDS):
        raise invalid_input("nothing_to_change")
    route = _picked(call, "route", routing.routes)
    backup_route = _chosen(call, "backup_route", routing.backup_routes)
    filters = {
        kind: value
        for kind in TimeFilter
        if (value := _chosen(call, kind.value, routing.time_filters.get(kind, {})))
        is not None
    }
    await run_write(
        entry,
        client.async_set_did_routing(
            did.id, route=route, backup_route=backup_route, time_filters=filters
        ),
        shown_by=slow,
    )
    updated = rerouted(
        did, route=route, backup_route=backup_route, time_filters=filters
    )
    slow.async_patch(
        "dids",
        did.id,
        route=updated.route,
        backup_route=updated.backup_route,
        time_filters=updated.time_filters,
    )
    return route_plan_answer(routing, updated)


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
    extensions = runtime.data(Topic.EXTENSIONS) or {}
    account = _chosen(call, "sip_account", {e.id: e.name for e in extensions.values()})
    template = _picked(call, "template", desks.templates)
    await run_write(
        entry,
        client.async_set_hot_desk(desk_id, sip_account=account, template=template),
        shown_by=slow,
    )
    updated = reseated(desks.desks[desk_id], sip_account=account, template=template)
    slow.async_patch(
        "desks",
        desk_id,
        sip_account=updated.sip_account,
        template=updated.template,
    )
    return hot_desk_answer(desks, updated)

"""Selects: routed numbers' routes and hot desks' SIP accounts, by the PBX's names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import (
    CLEAR,
    Capability,
    Clearable,
    DidRouting,
    HotDesk,
    RoutedDid,
    RoutesDidPlans,
    SetsHotDesks,
    Topic,
)
from .client.titles import name_and_number, unique_labels
from .coordinator import PbxConfigEntry
from .entity import PbxEntity, PbxEntityDescription, Place, child_place
from .helpers import not_supported, run_write
from .loader import add_entities_dynamically
from .service_schemas import invalid_input

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PbxSelectEntityDescription(PbxEntityDescription, SelectEntityDescription):
    """A select of one item of a topic."""


NONE = "none"
"""The option for "no backup route" or "nobody logged in"."""

ROUTE_PLAN_ITEMS: dict[str, Any] = {
    "topic": Topic.DID_ROUTING,
    "items_fn": lambda routing: routing.dids.keys(),
    "item_fn": lambda routing, key: routing.dids.get(key),
    # Each number is a device of its own, with its route and backup route.
    "place_fn": lambda runtime, key, routing: child_place(
        runtime, f"did_{key}", routing.dids[key].number, "Incoming number"
    ),
}
ROUTE = PbxSelectEntityDescription(
    key="route", translation_key="did_route_plan", **ROUTE_PLAN_ITEMS
)
BACKUP_ROUTE = PbxSelectEntityDescription(
    key="backup_route", translation_key="did_backup_route", **ROUTE_PLAN_ITEMS
)
HOT_DESK = PbxSelectEntityDescription(
    key="sip_account",
    translation_key="hot_desk",
    topic=Topic.HOT_DESKS,
    items_fn=lambda hot_desks: hot_desks.desks.keys(),
    item_fn=lambda hot_desks, key: hot_desks.desks.get(key),
    place_fn=lambda runtime, key, hot_desks: Place(
        f"desk_{key}", placeholders={"name": hot_desks.desks[key].name}
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the selects of routed numbers and hot desks as they appear."""
    capabilities = entry.runtime_data.client.capabilities
    if Capability.SET_DID_ROUTE_PLAN in capabilities:
        add_entities_dynamically(
            entry, async_add_entities, (ROUTE, BACKUP_ROUTE), DidRouteSelect
        )
    if Capability.SET_HOT_DESK in capabilities:
        add_entities_dynamically(entry, async_add_entities, (HOT_DESK,), HotDeskSelect)


class DidRouteSelect(PbxEntity, SelectEntity):
    """A routed number's route plan, or its backup route."""

    entity_description: PbxSelectEntityDescription

    @property
    def _backup(self) -> bool:
        return self.entity_description.key == BACKUP_ROUTE.key

    @property
    def _routing(self) -> DidRouting | None:
        routing: DidRouting | None = self.coordinator.data
        return routing

    @property
    def _did(self) -> RoutedDid | None:
        did: RoutedDid | None = self.item
        return did

    def _names(self) -> dict[str, str]:
        """Each route's label, by id."""
        routing = self._routing
        if routing is None:
            return {}
        return unique_labels(
            routing.backup_routes if self._backup else routing.routes, reserved=NONE
        )

    @property
    def options(self) -> list[str]:
        """The PBX's routes by name (and "none" for the backup route)."""
        names = list(self._names().values())
        return [NONE, *names] if self._backup else names

    @property
    def current_option(self) -> str | None:
        """The route the number follows now."""
        did = self._did
        if did is None:
            return None
        chosen = did.backup_route if self._backup else did.route
        if chosen == CLEAR:
            return NONE if self._backup else None
        return None if chosen is None else self._names().get(chosen)

    async def async_select_option(self, option: str) -> None:
        """Route the number by the chosen plan."""
        ids = {name: item for item, name in self._names().items()}
        chosen: Clearable
        if option == NONE and self._backup:
            chosen = CLEAR
        elif option in ids:
            chosen = ids[option]
        else:
            raise invalid_input("invalid_option", option=option)
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, RoutesDidPlans):
            raise not_supported(entry)
        if self._backup:
            write = client.async_set_did_routing(self.key, backup_route=chosen)
        elif chosen is not CLEAR:
            write = client.async_set_did_routing(self.key, route=chosen)
        await run_write(entry, write, shown_by=self.coordinator)
        field = "backup_route" if self._backup else "route"
        self.coordinator.async_patch("dids", self.key, **{field: chosen})


class HotDeskSelect(PbxEntity, SelectEntity):
    """Which SIP account (person) is logged in at a hot desk."""

    entity_description: PbxSelectEntityDescription

    def _accounts(self) -> dict[str, str]:
        """SIP accounts (username to the label shown), from the extensions."""
        runtime = self.coordinator.config_entry.runtime_data
        extensions = runtime.data(Topic.EXTENSIONS) or {}
        return unique_labels(
            {
                extension.id: name_and_number(extension.name, extension.shown_number)
                for extension in extensions.values()
            },
            reserved=NONE,
        )

    @property
    def options(self) -> list[str]:
        """Nobody, or any SIP account."""
        return [NONE, *self._accounts().values()]

    @property
    def current_option(self) -> str | None:
        """Who is logged in now."""
        desk: HotDesk | None = self.item
        if desk is None:
            return None
        if desk.sip_account is None:
            return NONE
        return self._accounts().get(desk.sip_account, desk.sip_account)

    async def async_select_option(self, option: str) -> None:
        """Log the chosen SIP account in at the desk (or log out)."""
        usernames = {name: username for username, name in self._accounts().items()}
        if option not in usernames and option != NONE:
            raise invalid_input("invalid_option", option=option)
        account = usernames.get(option)  # None: log out
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, SetsHotDesks):
            raise not_supported(entry)
        await run_write(
            entry,
            client.async_set_hot_desk(
                self.key, sip_account=CLEAR if account is None else account
            ),
            shown_by=self.coordinator,
        )
        self.coordinator.async_patch("desks", self.key, sip_account=account)

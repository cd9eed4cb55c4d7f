"""Selects: a routed number's route and backup route, a hot desk's SIP account.

Options are the PBX's names; choosing one writes its id. Each change shows at
once from the PBX's confirmation; the next slow poll reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import (
    CLEAR,
    Capability,
    Clearable,
    DidRouting,
    HotDesking,
    RoutedDid,
    RoutesDidPlans,
    SetsHotDesks,
)
from .const import DOMAIN
from .coordinator import PbxConfigEntry, PbxSlowCoordinator, SlowData
from .entity import PbxEntity, add_slow_entities_dynamically
from .helpers import not_supported, run_write

PARALLEL_UPDATES = 1

NONE = "none"
"""The option for "no backup route" or "nobody logged in"."""

ROUTE = SelectEntityDescription(key="route", translation_key="did_route_plan")
BACKUP_ROUTE = SelectEntityDescription(
    key="backup_route", translation_key="did_backup_route"
)
HOT_DESK = SelectEntityDescription(key="sip_account", translation_key="hot_desk")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the selects of routed numbers and hot desks as they appear."""
    capabilities = entry.runtime_data.client.capabilities
    slow = entry.runtime_data.slow
    if Capability.SET_DID_ROUTE_PLAN in capabilities:
        add_slow_entities_dynamically(
            entry,
            async_add_entities,
            lambda data: data.did_routing.dids if data.did_routing else None,
            lambda did_id, _: [
                DidRouteSelect(coordinator=slow, description=ROUTE, did_id=did_id),
                DidRouteSelect(
                    coordinator=slow, description=BACKUP_ROUTE, did_id=did_id
                ),
            ],
        )
    if Capability.SET_HOT_DESK in capabilities:
        add_slow_entities_dynamically(
            entry,
            async_add_entities,
            lambda data: data.hot_desks.desks if data.hot_desks else None,
            lambda desk_id, _: [HotDeskSelect(coordinator=slow, desk_id=desk_id)],
        )


def unique_labels(names: Mapping[str, str]) -> dict[str, str]:
    """A label per id: the name, with the id added where two share a name or a
    name is the reserved "none", so that choosing a label writes the right id.
    """
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    return {
        item_id: f"{name} ({item_id})"
        if seen[name.casefold()] > 1 or name.casefold() == NONE
        else name
        for item_id, name in names.items()
    }


def _invalid_option(option: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_option",
        translation_placeholders={"option": option},
    )


class DidRouteSelect(PbxEntity[PbxSlowCoordinator], SelectEntity):
    """A routed number's route plan, or its backup route."""

    def __init__(
        self,
        *,
        coordinator: PbxSlowCoordinator,
        description: SelectEntityDescription,
        did_id: str,
    ) -> None:
        """Named after the number."""
        super().__init__(
            coordinator=coordinator, description=description, object_id=f"did_{did_id}"
        )
        self.did_id = did_id
        self._backup = description.key == BACKUP_ROUTE.key
        routing = self._routing
        did = routing.dids.get(did_id) if routing else None
        self._attr_translation_placeholders = {"number": did.number if did else did_id}

    @property
    def _routing(self) -> DidRouting | None:
        data: SlowData | None = self.coordinator.data
        return None if data is None else data.did_routing

    @property
    def _did(self) -> RoutedDid | None:
        routing = self._routing
        return None if routing is None else routing.dids.get(self.did_id)

    def _names(self) -> dict[str, str]:
        """Each route's label, by id."""
        routing = self._routing
        if routing is None:
            return {}
        return unique_labels(routing.backup_routes if self._backup else routing.routes)

    @property
    def available(self) -> bool:
        """Unavailable while the routing cannot be read, or the number is gone."""
        return super().available and self._did is not None

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
            raise _invalid_option(option)
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, RoutesDidPlans):
            raise not_supported(entry)
        if self._backup:
            write = client.async_set_did_routing(self.did_id, backup_route=chosen)
        elif chosen is not CLEAR:
            write = client.async_set_did_routing(self.did_id, route=chosen)
        await run_write(entry, write, shown_by=self.coordinator)
        field = "backup_route" if self._backup else "route"
        self.coordinator.async_patch("did_routing.dids", self.did_id, **{field: chosen})


class HotDeskSelect(PbxEntity[PbxSlowCoordinator], SelectEntity):
    """Which SIP account (person) is logged in at a hot desk."""

    def __init__(self, *, coordinator: PbxSlowCoordinator, desk_id: str) -> None:
        """Named after the desk."""
        super().__init__(
            coordinator=coordinator, description=HOT_DESK, object_id=f"desk_{desk_id}"
        )
        self.desk_id = desk_id
        desks = self._desks
        desk = desks.desks.get(desk_id) if desks else None
        self._attr_translation_placeholders = {"name": desk.name if desk else desk_id}

    @property
    def _desks(self) -> HotDesking | None:
        data: SlowData | None = self.coordinator.data
        return None if data is None else data.hot_desks

    def _accounts(self) -> dict[str, str]:
        """SIP accounts (username to the label shown), from the fast poll."""
        fast = self.coordinator.config_entry.runtime_data.fast
        return unique_labels(
            {
                extension.id: f"{extension.name} ({extension.number})"
                if extension.name != extension.number
                else extension.number
                for extension in fast.data.extensions.values()
            }
        )

    @property
    def available(self) -> bool:
        """Unavailable while the desks cannot be read, or the desk is gone."""
        desks = self._desks
        return super().available and desks is not None and self.desk_id in desks.desks

    @property
    def options(self) -> list[str]:
        """Nobody, or any SIP account."""
        return [NONE, *self._accounts().values()]

    @property
    def current_option(self) -> str | None:
        """Who is logged in now."""
        desks = self._desks
        desk = desks.desks.get(self.desk_id) if desks else None
        if desk is None:
            return None
        if desk.sip_account is None:
            return NONE
        return self._accounts().get(desk.sip_account, desk.sip_account)

    async def async_select_option(self, option: str) -> None:
        """Log the chosen SIP account in at the desk (or log out)."""
        usernames = {name: username for username, name in self._accounts().items()}
        if option not in usernames and option != NONE:
            raise _invalid_option(option)
        account = usernames.get(option)  # None: log out
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, SetsHotDesks):
            raise not_supported(entry)
        await run_write(
            entry,
            client.async_set_hot_desk(
                self.desk_id, sip_account=CLEAR if account is None else account
            ),
            shown_by=self.coordinator,
        )
        self.coordinator.async_patch(
            "hot_desks.desks", self.desk_id, sip_account=account
        )

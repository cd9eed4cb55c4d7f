"""What a vendor can do besides reading: one small interface per action group.

A vendor's client class implements the interfaces it has (and lists their
capabilities); callers check with ``isinstance`` before offering an action, so
no client carries methods that only say "unsupported".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import ClassVar, Final, Literal

from .models import (
    Capability,
    Charge,
    DestinationType,
    Subscriber,
    Tenant,
    TimeFilter,
)


class Clear(Enum):
    """The one value of ``CLEAR``, typed apart from ids."""

    CLEAR = "clear"


CLEAR: Final = Clear.CLEAR
"""Empties a choice: no backup route or time filter, nobody at a hot desk.
Each vendor sends it as its own wire value."""
type Clearable = str | Literal[Clear.CLEAR]
"""An id, or ``CLEAR``."""


class Ability(ABC):
    """An interface a vendor's client may implement, and the capability it gives."""

    capability: ClassVar[Capability]


class ListsTenants(Ability):
    """A multi-tenant PBX whose credentials choose among tenants."""

    capability = Capability.TENANTS

    @abstractmethod
    async def async_get_tenants(self) -> dict[str, Tenant]:
        """Tenants the credentials can choose from; empty when single-tenant."""


class SetsDnd(Ability):
    """Do-not-disturb per extension."""

    capability = Capability.SET_DND

    @abstractmethod
    async def async_set_dnd(self, extension_id: str, enabled: bool) -> bool:
        """Switch do-not-disturb; return the state the PBX confirms."""


class RoutesDids(Ability):
    """Incoming numbers routed to a destination (extension, queue, ...)."""

    capability = Capability.SET_DID_ROUTE

    @abstractmethod
    async def async_set_did_route(
        self, did_id: str, destination_type: DestinationType, destination: str
    ) -> None:
        """Route an incoming number elsewhere."""


class RoutesDidPlans(Ability):
    """Incoming numbers routed by route plan, backup route and time filters."""

    capability = Capability.SET_DID_ROUTE_PLAN

    @abstractmethod
    async def async_set_did_routing(
        self,
        did_id: str,
        *,
        route: str | None = None,
        backup_route: Clearable | None = None,
        time_filters: Mapping[TimeFilter, Clearable] | None = None,
    ) -> None:
        """Change what is given, by id; ``CLEAR`` empties a backup route or filter."""


class SetsIndicators(Ability):
    """Function indicators switched on and off."""

    capability = Capability.SET_INDICATOR

    @abstractmethod
    async def async_set_indicator(self, indicator_id: str, active: bool) -> None:
        """Switch a function indicator on or off."""


class SetsHotDesks(Ability):
    """SIP accounts logged in at hot desks."""

    capability = Capability.SET_HOT_DESK

    @abstractmethod
    async def async_set_hot_desk(
        self,
        desk_id: str,
        *,
        sip_account: Clearable | None = None,
        template: str | None = None,
    ) -> None:
        """Log a SIP account in at a desk (``CLEAR``: log out), or change its
        template.
        """


class ClicksToCall(Ability):
    """Calls placed from an extension."""

    capability = Capability.CLICK_TO_CALL

    @abstractmethod
    async def async_click_to_call(self, extension: str, number: str) -> None:
        """Ring ``extension`` and connect it to ``number``."""


class SendsSms(Ability):
    """SMS sent through the PBX account."""

    capability = Capability.SEND_SMS

    @abstractmethod
    def check_sms(self, recipient: str, message: str) -> tuple[str, str]:
        """The recipient and message as the vendor takes them, or
        ``PbxInvalidInputError`` before any request is sent.
        """

    @abstractmethod
    async def async_send_sms(self, recipient: str, message: str) -> None:
        """Send an SMS; ``check_sms`` runs first."""


class ListsCharges(Ability):
    """The itemised charges of a billed subscriber."""

    capability = Capability.CHARGES

    @abstractmethod
    async def async_get_subscriber(self, wanted: str) -> Subscriber:
        """A billed subscriber by id or e-mail."""

    @abstractmethod
    async def async_get_charges(
        self, subscriber_id: str, start: date, end: date
    ) -> list[Charge]:
        """A subscriber's charges from ``start`` to ``end``, both included."""


ABILITIES: Final[tuple[type[Ability], ...]] = (
    ListsTenants,
    SetsDnd,
    RoutesDids,
    RoutesDidPlans,
    SetsIndicators,
    SetsHotDesks,
    ClicksToCall,
    SendsSms,
    ListsCharges,
)
"""Every action group, for checking that a client's capabilities say what it
implements."""

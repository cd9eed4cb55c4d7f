"""What a vendor reads: one small interface per topic, as ``abilities`` has one
per action group.

A vendor's client class implements the readers of the topics it reads, and
that is its whole declaration: ``PbxClient.topics`` lists them and
``PbxClient.async_read`` reads through ``READERS``, so no client carries
getters that only say "unsupported".
"""

# ``TopicReader.interface`` holds an abstract interface, never instantiated.
# mypy: disable-error-code="type-abstract"

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from .models import (
    AccountSelection,
    AccountSummary,
    CallForwarding,
    CallRecord,
    Did,
    DidRouting,
    Extension,
    ExtensionCallState,
    ExtensionUsage,
    FunctionIndicator,
    HotDesking,
    LiveCall,
    RateLimitStatus,
    SystemStatus,
)
from .topics import MonthAccounts, ReadContext, Topic, UsagePeriods


class Reader(ABC):  # noqa: B024 (the interfaces below add the abstract methods)
    """An interface a vendor's client may implement to read a topic (``READERS``)."""


class ReadsStatus(Reader):
    """Health and load of the PBX as a whole."""

    @abstractmethod
    async def async_get_status(self) -> SystemStatus:
        """Health and load of the PBX."""


class ReadsExtensions(Reader):
    """The extensions (users, SIP accounts) and their registration."""

    @abstractmethod
    async def async_get_extensions(self) -> dict[str, Extension]:
        """Every extension, keyed by its id."""


class ReadsLiveCalls(Reader):
    """Calls in progress."""

    @abstractmethod
    async def async_get_live_calls(self) -> dict[str, LiveCall]:
        """Calls in progress, keyed by call id."""


class ReadsCallStates(Reader):
    """Each extension's live call state."""

    @abstractmethod
    async def async_get_call_states(self) -> dict[str, ExtensionCallState]:
        """Each extension's live call state, by extension id."""


class ReadsCalls(Reader):
    """The call history of today (and a little before)."""

    @abstractmethod
    async def async_get_calls(self, since: datetime) -> list[CallRecord]:
        """Calls started at or after ``since``, such as the start of today.

        Clients may keep what they read before and ask the PBX only for what
        is new; each call is listed once, in its latest state.
        """


class ReadsDids(Reader):
    """Incoming numbers and where they are routed."""

    @abstractmethod
    async def async_get_dids(self) -> dict[str, Did]:
        """Incoming numbers and their routes, keyed by DID id."""


class ReadsUsage(Reader):
    """Call accounting per extension over a period."""

    @abstractmethod
    async def async_get_extension_usage(
        self, start: datetime, end: datetime
    ) -> dict[str, ExtensionUsage]:
        """Calls, talk time and cost per extension from ``start`` to ``end``."""


class ReadsAccounts(Reader):
    """Billing accounts of chosen subscribers."""

    @abstractmethod
    async def async_get_accounts(
        self, selection: AccountSelection, month: date
    ) -> dict[str, AccountSummary]:
        """The accounts of the selected subscribers over ``month``, by id."""


class ReadsIndicators(Reader):
    """Function indicators and their state."""

    @abstractmethod
    async def async_get_indicators(self) -> dict[str, FunctionIndicator]:
        """Function indicators and their state, by id."""


class ReadsDidRouting(Reader):
    """Incoming numbers routed by route plans."""

    @abstractmethod
    async def async_get_did_routing(self) -> DidRouting:
        """Incoming numbers with their routes, and the routes to choose from."""


class ReadsHotDesks(Reader):
    """Hot desks and the SIP accounts logged in at them."""

    @abstractmethod
    async def async_get_hot_desks(self) -> HotDesking:
        """Hot desks and their templates."""


class ReadsCallForwarding(Reader):
    """Whether each extension forwards its calls."""

    @abstractmethod
    async def async_get_call_forwarding(
        self, extension_ids: Iterable[str]
    ) -> dict[str, CallForwarding]:
        """Whether each of ``extension_ids`` forwards its calls, as far as
        this read could ask (one request per extension).
        """


class ReportsRateLimits(Reader):
    """The vendor's rate limits, as its answers report them (no request)."""

    @property
    @abstractmethod
    def rate_limit_status(self) -> RateLimitStatus | None:
        """The vendor's last word on its rate limits; ``None`` before any."""


async def _status(client: ReadsStatus, context: ReadContext) -> SystemStatus:
    return await client.async_get_status()


async def _extensions(
    client: ReadsExtensions, context: ReadContext
) -> dict[str, Extension]:
    return await client.async_get_extensions()


async def _live_calls(
    client: ReadsLiveCalls, context: ReadContext
) -> dict[str, LiveCall]:
    return await client.async_get_live_calls()


async def _call_states(
    client: ReadsCallStates, context: ReadContext
) -> dict[str, ExtensionCallState]:
    return await client.async_get_call_states()


async def _calls(client: ReadsCalls, context: ReadContext) -> list[CallRecord]:
    return await client.async_get_calls(context.calls_since)


async def _dids(client: ReadsDids, context: ReadContext) -> dict[str, Did]:
    return await client.async_get_dids()


async def _usage(client: ReadsUsage, context: ReadContext) -> UsagePeriods:
    """Since midnight and since the 1st; one request on the 1st, when both
    are the same.
    """
    midnight, first = context.midnight, context.month_start
    if first == midnight:
        today = month = await client.async_get_extension_usage(midnight, context.now)
    else:
        today, month = await asyncio.gather(
            client.async_get_extension_usage(midnight, context.now),
            client.async_get_extension_usage(first, context.now),
        )
    return UsagePeriods(
        today=today, month=month, today_since=midnight, month_since=first
    )


async def _accounts(client: ReadsAccounts, context: ReadContext) -> MonthAccounts:
    """No request while no subscriber is followed."""
    if context.accounts == AccountSelection():
        return MonthAccounts(accounts={}, since=None)
    accounts = await client.async_get_accounts(context.accounts, context.now.date())
    return MonthAccounts(accounts=accounts, since=context.month_start)


async def _indicators(
    client: ReadsIndicators, context: ReadContext
) -> dict[str, FunctionIndicator]:
    return await client.async_get_indicators()


async def _did_routing(client: ReadsDidRouting, context: ReadContext) -> DidRouting:
    return await client.async_get_did_routing()


async def _hot_desks(client: ReadsHotDesks, context: ReadContext) -> HotDesking:
    return await client.async_get_hot_desks()


async def _call_forwarding(
    client: ReadsCallForwarding, context: ReadContext
) -> dict[str, CallForwarding]:
    return await client.async_get_call_forwarding(context.extension_ids)


async def _rate_limit(
    client: ReportsRateLimits, context: ReadContext
) -> RateLimitStatus | None:
    return client.rate_limit_status


@dataclass(frozen=True)
class TopicReader[C: Reader, T]:
    """How ``topic`` is read from a client that implements ``interface``:
    ``read`` takes such a client (mypy checks it; the tests check that it
    returns the topic's model).
    """

    topic: Topic
    interface: type[C]
    read: Callable[[C, ReadContext], Awaitable[T]]


READERS: Final[Mapping[Topic, TopicReader[Any, Any]]] = {
    reader.topic: reader
    for reader in (
        TopicReader(Topic.STATUS, ReadsStatus, _status),
        TopicReader(Topic.EXTENSIONS, ReadsExtensions, _extensions),
        TopicReader(Topic.LIVE_CALLS, ReadsLiveCalls, _live_calls),
        TopicReader(Topic.CALL_STATES, ReadsCallStates, _call_states),
        TopicReader(Topic.CALLS, ReadsCalls, _calls),
        TopicReader(Topic.DIDS, ReadsDids, _dids),
        TopicReader(Topic.USAGE, ReadsUsage, _usage),
        TopicReader(Topic.ACCOUNTS, ReadsAccounts, _accounts),
        TopicReader(Topic.INDICATORS, ReadsIndicators, _indicators),
        TopicReader(Topic.DID_ROUTING, ReadsDidRouting, _did_routing),
        TopicReader(Topic.HOT_DESKS, ReadsHotDesks, _hot_desks),
        TopicReader(Topic.CALL_FORWARDING, ReadsCallForwarding, _call_forwarding),
        TopicReader(Topic.RATE_LIMIT, ReportsRateLimits, _rate_limit),
    )
}
"""Each topic's reader: the interface a client implements to read it, and how
a read's context becomes the interface's arguments.
"""

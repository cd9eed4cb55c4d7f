"""Topics: the kinds of data a client reads, each with its model and cadence.

A caller reads a topic with ``PbxClient.async_read(topic, context)`` and gets a
``ReadResult``: the data and what the read learned on the way (its cost, the
rights refused, the subscribers missing, the vendor's notices). That report is
kept per read in a context variable, so concurrent reads never mix theirs.
"""

from __future__ import annotations

from collections.abc import Iterator, KeysView, Mapping
import contextlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final, NamedTuple

from .models import (
    AccountSelection,
    AccountSummary,
    CallForwarding,
    CallRecord,
    Capability,
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


class Topic(StrEnum):
    """A kind of data one read returns; its value names it in repairs."""

    STATUS = "status"
    EXTENSIONS = "extensions"
    LIVE_CALLS = "live_calls"
    CALL_STATES = "call_states"
    CALLS = "call_history"
    DIDS = "dids"
    USAGE = "extension_usage"
    ACCOUNTS = "accounts"
    INDICATORS = "indicators"
    DID_ROUTING = "did_routing"
    HOT_DESKS = "hot_desks"
    CALL_FORWARDING = "call_forwarding"
    RATE_LIMIT = "rate_limit"


class Cadence(StrEnum):
    """How often a topic is read by default: the budget sizes both."""

    FAST = "fast"
    SLOW = "slow"
    LIVE = "live"
    """Call states: as often as the budget leaves room for beside the others."""


class Notice(StrEnum):
    """What a vendor asks of its callers in its answers."""

    API_URL = "api_url"
    """Use another API address (the notice's value)."""
    AUTHENTICATION = "authentication"
    """Sign in with another scheme (the notice's value)."""


class UsageOf(NamedTuple):
    """An extension's call accounting today and this month (``None``: no calls)."""

    today: ExtensionUsage | None
    month: ExtensionUsage | None


@dataclass(frozen=True, kw_only=True)
class UsagePeriods:
    """Call accounting per extension since midnight and since the 1st."""

    today: dict[str, ExtensionUsage]
    month: dict[str, ExtensionUsage]
    today_since: datetime
    month_since: datetime

    def extensions(self) -> KeysView[str]:
        """The extensions with calls this month or today."""
        return {**self.month, **self.today}.keys()

    def of(self, extension: str) -> UsageOf:
        """One extension's call accounting in both periods."""
        return UsageOf(self.today.get(extension), self.month.get(extension))


@dataclass(frozen=True, kw_only=True)
class MonthAccounts:
    """The followed subscribers' accounts over the month starting ``since``."""

    accounts: dict[str, AccountSummary]
    since: datetime | None


@dataclass(frozen=True, kw_only=True)
class TopicSpec:
    """A topic's model, default cadence and the capability that offers it."""

    model: Any
    cadence: Cadence
    capability: Capability | None
    """``None``: read without a request (what the vendor's answers reported)."""


TOPICS: Final[Mapping[Topic, TopicSpec]] = {
    Topic.STATUS: TopicSpec(
        model=SystemStatus, cadence=Cadence.FAST, capability=Capability.STATUS
    ),
    Topic.EXTENSIONS: TopicSpec(
        model=dict[str, Extension],
        cadence=Cadence.FAST,
        capability=Capability.EXTENSIONS,
    ),
    Topic.LIVE_CALLS: TopicSpec(
        model=dict[str, LiveCall],
        cadence=Cadence.FAST,
        capability=Capability.LIVE_CALLS,
    ),
    Topic.CALL_STATES: TopicSpec(
        model=dict[str, ExtensionCallState],
        cadence=Cadence.LIVE,
        capability=Capability.CALL_STATES,
    ),
    Topic.CALLS: TopicSpec(
        model=list[CallRecord],
        cadence=Cadence.FAST,
        capability=Capability.CALL_HISTORY,
    ),
    Topic.DIDS: TopicSpec(
        model=dict[str, Did], cadence=Cadence.SLOW, capability=Capability.DIDS
    ),
    Topic.USAGE: TopicSpec(
        model=UsagePeriods,
        cadence=Cadence.SLOW,
        capability=Capability.EXTENSION_USAGE,
    ),
    Topic.ACCOUNTS: TopicSpec(
        model=MonthAccounts, cadence=Cadence.SLOW, capability=Capability.ACCOUNTS
    ),
    Topic.INDICATORS: TopicSpec(
        model=dict[str, FunctionIndicator],
        cadence=Cadence.SLOW,
        capability=Capability.INDICATORS,
    ),
    Topic.DID_ROUTING: TopicSpec(
        model=DidRouting, cadence=Cadence.SLOW, capability=Capability.DID_ROUTING
    ),
    Topic.HOT_DESKS: TopicSpec(
        model=HotDesking, cadence=Cadence.SLOW, capability=Capability.HOT_DESKS
    ),
    Topic.CALL_FORWARDING: TopicSpec(
        model=dict[str, CallForwarding],
        cadence=Cadence.SLOW,
        capability=Capability.CALL_FORWARDING,
    ),
    Topic.RATE_LIMIT: TopicSpec(
        model=RateLimitStatus | None, cadence=Cadence.SLOW, capability=None
    ),
}


@dataclass(frozen=True, kw_only=True)
class ReadContext:
    """What the caller decides for a read: its clock and its choices."""

    now: datetime
    midnight: datetime
    """The start of "today", in the caller's time zone."""
    month_start: datetime
    calls_since: datetime
    """The oldest call start the calls topic lists."""
    accounts: AccountSelection = field(default_factory=AccountSelection)
    """The subscribers whose accounts the accounts topic reads."""
    extension_ids: tuple[str, ...] = ()
    """The extensions a per-extension topic (call forwarding) asks about:
    those the extension list showed, less those the caller leaves out.
    """

    @classmethod
    def at(
        cls,
        now: datetime,
        *,
        accounts: AccountSelection | None = None,
        lookback: timedelta = timedelta(hours=6),
    ) -> ReadContext:
        """The context of a read at ``now``, in ``now``'s time zone."""
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(
            now=now,
            midnight=midnight,
            month_start=midnight.replace(day=1),
            calls_since=midnight - lookback,
            accounts=accounts or AccountSelection(),
        )


@dataclass(frozen=True, kw_only=True)
class ReadResult[T]:
    """A topic's data and what its read learned on the way."""

    data: T
    cost: int
    """Requests such a read sends: as measured where it depends on the
    account, else as the vendor declares.
    """
    refused: frozenset[str] = frozenset()
    """Rights refused while the read still returned what it could."""
    missing: frozenset[str] = frozenset()
    """Subscribers asked for that the PBX no longer knows."""
    notices: Mapping[Notice, str] = field(default_factory=dict)


@dataclass
class ReadReport:
    """What the read under way learned so far (see ``current_report``)."""

    cost: int | None = None
    refused: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    notices: dict[Notice, str] = field(default_factory=dict)


_REPORT: ContextVar[ReadReport | None] = ContextVar("pbx_read_report", default=None)


def current_report() -> ReadReport:
    """The report of the read under way; a throwaway one outside a read."""
    return _REPORT.get() or ReadReport()


@contextlib.contextmanager
def reporting() -> Iterator[ReadReport]:
    """A fresh report for one read, seen only by that read's context."""
    report = ReadReport()
    token = _REPORT.set(report)
    try:
        yield report
    finally:
        _REPORT.reset(token)

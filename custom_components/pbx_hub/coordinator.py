"""Coordinators: fast data (status, extensions, live calls) and slow data (DIDs).

Two cadences so that cheap, fast-changing data is fresh while slow data costs
little; each fails on its own, so a failing DID list does not make the extension
entities unavailable and the reverse.
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .calls import EVENT_LOOKBACK, CallActivity, CallTracker
from .client import (
    AccountSelection,
    AccountSummary,
    Capability,
    Did,
    DidRouting,
    Extension,
    ExtensionUsage,
    FunctionIndicator,
    HotDesking,
    LiveCall,
    PbxClient,
    PbxError,
    PbxInfo,
    PbxPermissionError,
    RateLimitStatus,
    SystemStatus,
    account_selection,
)
from .client.budget import reported_poll_interval
from .const import CONF_VENDOR, DOMAIN, LOGGER, MAX_INTERVAL
from .helpers import (
    FAST_TOPICS,
    SLOW_TOPICS,
    error_translation,
    fast_interval,
    needs_reauth,
    poll_cost,
    slow_interval,
)
from .repairs import PollIssues, is_removed, sync_api_url_issue


@dataclass(frozen=True, kw_only=True)
class FastData:
    """What the fast coordinator polls; ``None`` where the vendor has no such data."""

    status: SystemStatus | None
    extensions: dict[str, Extension]
    live_calls: dict[str, LiveCall] | None
    calls: CallActivity | None = None


@dataclass(frozen=True, kw_only=True)
class SlowData:
    """What the slow coordinator polls."""

    dids: dict[str, Did]
    usage_today: dict[str, ExtensionUsage] | None = None
    usage_month: dict[str, ExtensionUsage] | None = None
    """Call accounting per extension, since midnight and since the 1st."""
    usage_since: tuple[datetime, datetime] | None = None
    """The midnight and the 1st the usage was counted from."""
    rate_limit: RateLimitStatus | None = None
    """The vendor's count of requests left, as of this poll."""
    accounts: dict[str, AccountSummary] | None = None
    """This month's accounts of the subscribers chosen in the options."""
    accounts_since: datetime | None = None
    """The start of the month the accounts were read for."""
    indicators: dict[str, FunctionIndicator] | None = None
    did_routing: DidRouting | None = None
    hot_desks: HotDesking | None = None


@dataclass(kw_only=True)
class PbxRuntimeData:
    """Everything a loaded entry owns."""

    client: PbxClient
    info: PbxInfo
    pbx_device_id: str
    """The PBX's device, which every other device of the entry is linked under."""
    fast: PbxFastCoordinator
    slow: PbxSlowCoordinator


type PbxConfigEntry = ConfigEntry[PbxRuntimeData]


def _patched(
    holder: Any, path: list[str], item_id: str, changes: dict[str, Any]
) -> Any:
    """``holder`` with ``changes`` made to the item at ``path``; ``None`` where
    the item, or anything on the way to it, is missing.
    """
    if holder is None:
        return None
    name, *rest = path
    value = getattr(holder, name)
    if rest:
        value = _patched(value, rest, item_id, changes)
    elif value is not None and (item := value.get(item_id)) is not None:
        value = {**value, item_id: replace(item, **changes)}
    else:
        value = None
    return None if value is None else replace(holder, **{name: value})


class PbxCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator bound to one entry's client."""

    config_entry: PbxConfigEntry
    cadence: ClassVar[str]
    topics: ClassVar[tuple[Capability, ...]]

    def __init__(
        self, hass: HomeAssistant, entry: PbxConfigEntry, client: PbxClient
    ) -> None:
        """Poll at the interval the entry's options give this cadence."""
        self.client = client
        self._issues = PollIssues(hass, entry, self.cadence)
        self._refused: dict[Capability, str] = {}
        """Topics refused for a missing licence or right, and what is missing."""
        self._writes = 0
        """Actions' results shown so far (see ``async_patch``)."""
        self._poll_listeners: list[Callable[[DataT], None]] = []
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.data[CONF_VENDOR]} {entry.title} {self.cadence}",
            update_interval=self.interval(entry, client),
            # A poll that reads what the last one read tells no entity: the
            # data are frozen dataclasses, equal when nothing changed.
            always_update=False,
        )

    @staticmethod
    @abstractmethod
    def interval(entry: ConfigEntry, client: PbxClient) -> timedelta:
        """How often this cadence polls."""

    @abstractmethod
    async def _async_poll(self) -> DataT:
        """Read this cadence's topics from the PBX."""

    def async_add_poll_listener(
        self, listener: Callable[[DataT], None]
    ) -> CALLBACK_TYPE:
        """Hand ``listener`` the data after every successful poll, unchanged or not."""
        self._poll_listeners.append(listener)
        return lambda: self._poll_listeners.remove(listener)

    @callback
    def async_patch(self, path: str, item_id: str, **changes: Any) -> None:
        """Show a confirmed write at once: ``changes`` to one item at a dotted ``path``."""
        if (data := _patched(self.data, path.split("."), item_id, changes)) is None:
            return
        self._writes += 1
        self.async_set_updated_data(data)

    async def _async_update_data(self) -> DataT:
        """Poll, keeping the data instead where a write was shown meanwhile."""
        writes = self._writes
        data = await self._async_poll()
        if self._writes != writes and self.data is not None:
            return self.data
        return data

    @callback
    def _async_refresh_finished(self) -> None:
        """Hand the poll listeners the data, logging (not raising) their errors."""
        super()._async_refresh_finished()
        if not self.last_update_success:
            return
        for listener in list(self._poll_listeners):
            try:
                listener(self.data)
            except Exception:
                LOGGER.exception("Error in a poll listener of %s", self.name)

    async def _guard[T](self, call: Awaitable[T]) -> T:
        """Await a poll; map client errors to reauth or ``UpdateFailed``, and sync
        the poll's repair issues (rate limited, not whitelisted, clock skew).
        """
        try:
            result = await call
        except PbxError as err:
            self._slow_down_to_the_vendors_count()
            self._issues.failed(err)
            key, placeholders = error_translation(err)
            reauth = needs_reauth(err) and not is_removed(self.hass, self.config_entry)
            error_class = ConfigEntryAuthFailed if reauth else UpdateFailed
            raise error_class(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err
        self._slow_down_to_the_vendors_count()
        self._issues.succeeded(self._refused.values())
        return result

    def _slow_down_to_the_vendors_count(self) -> None:
        """Poll less often as the vendor reports fewer requests left."""
        cost = poll_cost(self.client, self.topics)
        if not cost:
            return
        self.update_interval = reported_poll_interval(
            self.client.http.budget,
            cost,
            self.interval(self.config_entry, self.client),
            MAX_INTERVAL,
        )

    async def _fetch_if_supported[T](
        self, capability: Capability, getter: Callable[[], Coroutine[Any, Any, T]]
    ) -> T | None:
        """``None`` where the vendor lacks the topic, or the account lacks the
        licence or right for it (noted for the repair issue): the other topics
        of the poll go on.
        """
        if capability not in self.client.capabilities:
            return None
        self.client.refused_rights = set()
        try:
            result = await getter()
        except PbxPermissionError as err:
            # Unnamed (a bare 403): the topic at least tells what to grant.
            self._refused[capability] = err.permission or capability.value
            return None
        if self.client.refused_rights:  # partly refused: the rest still counts
            self._refused[capability] = ", ".join(sorted(self.client.refused_rights))
        else:
            self._refused.pop(capability, None)
        return result


class PbxFastCoordinator(PbxCoordinator[FastData]):
    """Status, extensions and live calls: requests per poll do not grow with
    the number of extensions.
    """

    cadence = "fast"
    topics = FAST_TOPICS

    @staticmethod
    def interval(entry: ConfigEntry, client: PbxClient) -> timedelta:
        """The user's choice, or a default within the budget."""
        return fast_interval(entry, client)

    def __init__(
        self, hass: HomeAssistant, entry: PbxConfigEntry, client: PbxClient
    ) -> None:
        """Track today's calls where the vendor lists them."""
        super().__init__(hass, entry, client)
        self.call_tracker = (
            CallTracker(hass, entry.entry_id)
            if Capability.CALL_HISTORY in client.capabilities
            else None
        )

    async def _async_setup(self) -> None:
        """Recall the queues, users and call events of earlier runs."""
        if self.call_tracker is not None:
            await self.call_tracker.async_load()

    async def _async_poll(self) -> FastData:
        # "Today" is Home Assistant's: the counts reset at its midnight. Taken
        # once, so a poll that runs across midnight counts one day.
        midnight = dt_util.start_of_local_day()
        status, extensions, live_calls, calls = await self._guard(
            asyncio.gather(
                self._fetch_if_supported(
                    Capability.STATUS, self.client.async_get_status
                ),
                self._fetch_if_supported(
                    Capability.EXTENSIONS, self.client.async_get_extensions
                ),
                self._fetch_if_supported(
                    Capability.LIVE_CALLS, self.client.async_get_live_calls
                ),
                self._fetch_if_supported(
                    Capability.CALL_HISTORY,
                    lambda: self.client.async_get_calls(midnight - EVENT_LOOKBACK),
                ),
            )
        )
        activity = None
        if calls is not None and self.call_tracker is not None:
            activity = self.call_tracker.update(calls, midnight)
        return FastData(
            status=status,
            extensions=extensions or {},
            live_calls=live_calls,
            calls=activity,
        )


class PbxSlowCoordinator(PbxCoordinator[SlowData]):
    """DIDs and other data that changes rarely."""

    cadence = "slow"
    topics = SLOW_TOPICS
    _warned_scheme = False
    _accounts_since: datetime | None = None
    _warned_missing: frozenset[str] = frozenset()
    """The deleted subscribers already logged (see ``_accounts``)."""

    @staticmethod
    def interval(entry: ConfigEntry, client: PbxClient) -> timedelta:
        """The user's choice, or 15 minutes; longer where the budget needs it."""
        return slow_interval(entry, client)

    async def _async_poll(self) -> SlowData:
        (
            dids,
            usage,
            accounts,
            indicators,
            did_routing,
            hot_desks,
        ) = await self._guard(
            asyncio.gather(
                self._fetch_if_supported(Capability.DIDS, self.client.async_get_dids),
                self._fetch_if_supported(Capability.EXTENSION_USAGE, self._usage),
                self._fetch_if_supported(Capability.ACCOUNTS, self._accounts),
                self._fetch_if_supported(
                    Capability.INDICATORS, self.client.async_get_indicators
                ),
                self._fetch_if_supported(
                    Capability.DID_ROUTING, self.client.async_get_did_routing
                ),
                self._fetch_if_supported(
                    Capability.HOT_DESKS, self.client.async_get_hot_desks
                ),
            )
        )
        self._sync_api_url_issue()
        today, month, since = usage or (None, None, None)
        return SlowData(
            dids=dids or {},
            usage_today=today,
            usage_month=month,
            usage_since=since,
            rate_limit=self.client.rate_limit_status,
            accounts=accounts,
            accounts_since=self._accounts_since,
            indicators=indicators,
            did_routing=did_routing,
            hot_desks=hot_desks,
        )

    async def _accounts(self) -> dict[str, AccountSummary]:
        """The chosen subscribers' accounts this month; none chosen, none asked."""
        selection = account_selection(self.config_entry.options)
        if selection == AccountSelection():
            return {}
        now = dt_util.now()
        # The month asked for, taken once: its start is the sensors' last_reset.
        self._accounts_since = dt_util.start_of_local_day(now.replace(day=1))
        accounts = await self.client.async_get_accounts(selection, now.date())
        self._warn_missing(frozenset(self.client.missing_subscribers))
        return accounts

    def _warn_missing(self, missing: frozenset[str]) -> None:
        """Log each subscriber the PBX no longer knows once, while it stays
        gone: its entities are unavailable, and no repair can bring it back
        (the options can stop following it).
        """
        for subscriber in sorted(missing - self._warned_missing):
            LOGGER.warning(
                "%s: subscriber %s, followed in the options, no longer exists;"
                " its figures are left out until it is back or removed from"
                " the options",
                self.config_entry.title,
                subscriber,
            )
        self._warned_missing = missing

    async def _usage(
        self,
    ) -> tuple[
        dict[str, ExtensionUsage],
        dict[str, ExtensionUsage],
        tuple[datetime, datetime],
    ]:
        """Since midnight and since the 1st, in Home Assistant's time zone, and
        those two moments (the sensors' ``last_reset``); one request on the 1st,
        when both are the same.
        """
        now = dt_util.now()
        midnight = dt_util.start_of_local_day(now)
        first_of_month = dt_util.start_of_local_day(now.replace(day=1))
        since = (midnight, first_of_month)
        if first_of_month == midnight:
            today = await self.client.async_get_extension_usage(midnight, now)
            return today, today, since
        today, month = await asyncio.gather(
            self.client.async_get_extension_usage(midnight, now),
            self.client.async_get_extension_usage(first_of_month, now),
        )
        return today, month, since

    def _sync_api_url_issue(self) -> None:
        """A fixable repair while the vendor names another API address; a
        warning, once, when it recommends another way to sign in.
        """
        scheme = self.client.notices.get("authentication")
        if scheme is not None and not self._warned_scheme:
            self._warned_scheme = True
            LOGGER.warning(
                "%s recommends %s authentication; PBX Hub signs in with Basic",
                self.config_entry.title,
                scheme,
            )
        sync_api_url_issue(
            self.hass, self.config_entry, self.client.notices.get("api_url")
        )

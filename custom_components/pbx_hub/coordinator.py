"""Coordinators: fast data (status, extensions, live calls) and slow data (DIDs).

Two cadences so that cheap, fast-changing data is fresh while slow data costs
little; each fails on its own, so a failing DID list does not make the extension
entities unavailable and the reverse.
"""

from __future__ import annotations

from abc import abstractmethod
import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import math
import re
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .calls import EVENT_LOOKBACK, CallActivity, CallTracker
from .client import (
    POLLING_SHARE,
    VENDORS,
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
    PbxAnswerLostError,
    PbxAuthError,
    PbxCallFailedError,
    PbxClient,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInfo,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxRequestCapError,
    PbxResponseError,
    PbxTooManyItemsError,
    PbxUnsupportedError,
    RateLimitStatus,
    RequestBudget,
    SystemStatus,
    create_client,
)
from .client.convert import is_id
from .const import (
    CONF_DEPARTMENTS,
    CONF_FAST_INTERVAL,
    CONF_NODES,
    CONF_SLOW_INTERVAL,
    CONF_SUBSCRIBERS,
    CONF_VENDOR,
    CONF_VERIFY_SSL,
    DEFAULT_FAST_INTERVAL,
    DEFAULT_SLOW_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_INTERVAL,
)

FAST_TOPICS = (
    Capability.STATUS,
    Capability.EXTENSIONS,
    Capability.LIVE_CALLS,
    Capability.CALL_HISTORY,
)
SLOW_TOPICS = (
    Capability.DIDS,
    Capability.EXTENSION_USAGE,
    Capability.ACCOUNTS,
    Capability.INDICATORS,
    Capability.DID_ROUTING,
    Capability.HOT_DESKS,
)


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


BUDGETS: HassKey[dict[str, RequestBudget]] = HassKey(f"{DOMAIN}_budgets")
"""Request budgets by vendor and PBX, shared by every client of one PBX (its
tenants, config flows) and kept across reloads, so no restart resets the count.
"""


def client_for_entry(hass: HomeAssistant, data: Mapping[str, Any]) -> PbxClient:
    """Build a client from config entry data, on Home Assistant's shared session."""
    vendor = str(data[CONF_VENDOR])
    settings = {key: value for key, value in data.items() if key != CONF_VENDOR}
    session = async_get_clientsession(
        hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))
    )
    budget: RequestBudget | None = None
    if (spec := VENDORS.get(vendor)) is not None:
        key = f"{vendor}:{spec.client_class.budget_scope(settings)}"
        budgets = hass.data.setdefault(BUDGETS, {})
        budget = budgets.setdefault(key, RequestBudget(spec.budget))
    return create_client(vendor, session, settings, budget=budget)


RATE_LIMIT_ISSUE_AFTER = 3
"""Polls in a row refused with 429 before the user is told to poll less often."""


RATE_LIMITED = "rate_limited"
NOT_WHITELISTED = "not_whitelisted"
CLOCK_SKEW = "clock_skew"
POLL_ISSUES = (RATE_LIMITED, NOT_WHITELISTED, CLOCK_SKEW)
"""Repair issues a failing poll raises and the next good one clears."""
MISSING_PERMISSION = "missing_permission"
"""Raised per cadence while a topic is refused for a missing licence or right;
the cadence's other topics go on.
"""
MISSING_PERMISSION_UNNAMED = f"{MISSING_PERMISSION}_unnamed"
"""The text for a refusal that names no licence or right (a bare 403, from
a proxy say): its error message would read as a right's name.
"""
SETUP_REFUSED = f"{MISSING_PERMISSION}_setup"
"""Raised while setup is refused for a missing licence or right (setup
retries); gone once the entry loads.
"""
API_URL_MOVED = "api_url_moved"
"""Raised while the vendor names another API address; fixable."""
TLS_UNVERIFIED = "tls_unverified"
"""Raised while an entry does not verify the PBX's TLS certificate."""
TOO_MANY_ITEMS = "too_many_items"
"""Raised per cadence while the PBX lists more items than a topic takes
(its poll is refused whole); gone with the cadence's next good poll.
"""
REPAIR_ISSUES = (
    *POLL_ISSUES,
    TLS_UNVERIFIED,
    f"{TOO_MANY_ITEMS}_fast",
    f"{TOO_MANY_ITEMS}_slow",
    f"{MISSING_PERMISSION}_fast",
    f"{MISSING_PERMISSION}_slow",
    SETUP_REFUSED,
    API_URL_MOVED,
)


def issue_id(kind: str, entry: ConfigEntry) -> str:
    """The repair issue of ``kind`` for one entry."""
    return f"{kind}_{entry.entry_id}"


def create_entry_issue(
    hass: HomeAssistant,
    entry: ConfigEntry,
    kind: str,
    *,
    is_fixable: bool = False,
    translation_key: str | None = None,
    placeholders: Mapping[str, str] | None = None,
) -> None:
    """Create (or update) the entry's repair issue of ``kind``: a warning
    that stays until whoever created it deletes it (setup or a poll).
    ``data`` names the entry so that a fix flow can find it.
    """
    placeholders = placeholders or {}
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id(kind, entry),
        is_fixable=is_fixable,
        severity=ir.IssueSeverity.WARNING,
        translation_key=translation_key or kind,
        translation_placeholders={"title": entry.title, **placeholders},
        data={"entry_id": entry.entry_id, **placeholders},
    )


_LIST_SEPARATOR = re.compile(r"[,\n]")


def option_list(text: Any) -> tuple[str, ...]:
    """The values of a list option, separated by commas or line breaks: a
    department or node name may hold spaces ("Sales Team"). Options saved
    when spaces separated values too ("1 2") still read as before: a part
    whose every word is an id or an e-mail address is split at its spaces.
    """
    values: list[str] = []
    for part in _LIST_SEPARATOR.split(str(text or "")):
        words = part.split()
        if all(is_id(word) or "@" in word for word in words):
            values.extend(words)
        else:
            values.append(part.strip())
    return tuple(dict.fromkeys(values))


def account_selection(options: Mapping[str, Any]) -> AccountSelection:
    """The subscribers the options follow: ids or e-mails, departments, nodes."""
    return AccountSelection(
        ids=option_list(options.get(CONF_SUBSCRIBERS)),
        departments=option_list(options.get(CONF_DEPARTMENTS)),
        nodes=option_list(options.get(CONF_NODES)),
    )


def needs_reauth(err: PbxError) -> bool:
    """Whether new credentials are the fix; an IP missing from the whitelist
    is fixed on the PBX, and polling recovers by itself once it is.
    """
    return isinstance(err, PbxAuthError) and not isinstance(err, PbxNotWhitelistedError)


def poll_cost(client: PbxClient, topics: tuple[Capability, ...]) -> int:
    """Requests one poll of ``topics`` sends with this client: as last
    measured where that depends on the account, else as the vendor declares.
    """
    return sum(
        client.measured_cost.get(topic, client.poll_cost.get(topic, 1))
        for topic in topics
        if topic in client.capabilities
    )


def min_fast_interval(client: PbxClient, slow_interval: timedelta) -> float:
    """Shortest fast interval, in seconds, that keeps polling within the budget."""
    spec = VENDORS[client.vendor].budget
    slow_rate = poll_cost(client, SLOW_TOPICS) / slow_interval.total_seconds()
    return spec.min_poll_interval(poll_cost(client, FAST_TOPICS), slow_rate)


def interval_option(entry: ConfigEntry, key: str, default: timedelta) -> timedelta:
    """A scan interval from the entry's options, in seconds."""
    return timedelta(seconds=entry.options.get(key, default.total_seconds()))


def default_fast_interval(client: PbxClient, slow_interval: timedelta) -> timedelta:
    """The default fast interval, lengthened where the vendor's budget needs it."""
    minimum = min_fast_interval(client, slow_interval)
    if not math.isfinite(minimum):  # the slow polls alone fill the budget
        return MAX_INTERVAL
    return max(DEFAULT_FAST_INTERVAL, timedelta(seconds=math.ceil(minimum)))


SLOW_SHARE = 0.5
"""Share of the polling budget the slow topics may take. Where per-item slow
topics of a large account (a DID, summary or desk each) need more, the slow
cadence stretches, rather than the fast one.
"""


def slow_interval(entry: ConfigEntry, client: PbxClient) -> timedelta:
    """The slow scan interval the user chose, or else the default, made
    longer where the slow topics' requests would take more than their share.
    """
    chosen = interval_option(entry, CONF_SLOW_INTERVAL, DEFAULT_SLOW_INTERVAL)
    spec = VENDORS[client.vendor].budget
    share = SLOW_SHARE * POLLING_SHARE * spec.limit / spec.window
    needed = min(poll_cost(client, SLOW_TOPICS) / share, MAX_INTERVAL.total_seconds())
    return max(chosen, timedelta(seconds=math.ceil(needed)))


def fast_interval(entry: ConfigEntry, client: PbxClient) -> timedelta:
    """The fast scan interval the user chose, or else the default."""
    slow = slow_interval(entry, client)
    return interval_option(
        entry, CONF_FAST_INTERVAL, default_fast_interval(client, slow)
    )


WRITE_UNCONFIRMED = "write_unconfirmed"


def may_have_been_done(err: PbxError) -> bool:
    """Whether a write that failed with ``err`` may have been carried out all
    the same: it was sent, and only its answer was lost or could not be read.
    """
    if isinstance(err, PbxRefusedError):
        return False  # the PBX said no
    return isinstance(err, PbxAnswerLostError | PbxResponseError)


def error_translation(
    err: PbxError, *, write: bool = False
) -> tuple[str, dict[str, str]]:
    """The translation key and placeholders that explain a client error. For
    a ``write`` whose answer was lost, the user is told it may have happened:
    "cannot connect" would invite a retry that calls or switches twice.
    """
    if write and may_have_been_done(err):
        return WRITE_UNCONFIRMED, {"error": str(err)}
    if isinstance(err, PbxNotWhitelistedError):
        return "not_whitelisted", {}
    if isinstance(err, PbxClockSkewError):
        return CLOCK_SKEW, {}
    if isinstance(err, PbxCallFailedError):
        return "call_failed", {"error": str(err)}
    if isinstance(err, PbxAuthError):
        return "auth_failed", {}
    if isinstance(err, PbxPermissionError):
        if err.permission is None:
            return MISSING_PERMISSION_UNNAMED, {}
        return MISSING_PERMISSION, {"permission": err.permission}
    if isinstance(err, PbxRateLimitError):
        return "rate_limited", {"retry_after": f"{err.retry_after or 0:.0f}"}
    if isinstance(err, PbxConnectionError):
        return "cannot_connect", {"error": str(err)}
    if isinstance(err, PbxInvalidInputError | PbxUnsupportedError):
        return "invalid_input", {"error": str(err)}
    if isinstance(err, PbxTooManyItemsError):
        return TOO_MANY_ITEMS, {"topic": err.topic, "maximum": str(err.maximum)}
    if isinstance(err, PbxRequestCapError):
        return "request_cap", {"maximum": str(err.maximum)}
    return "invalid_response", {"error": str(err)}


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
        self._polls_refused = 0
        """Polls in a row that the PBX answered with 429."""
        self._skewed_polls = 0
        """Polls in a row refused for the time stamp (clock skew)."""
        self._refused: dict[Capability, str] = {}
        """Topics refused for a missing licence or right, and what is missing."""
        self._writes = 0
        """Actions' results shown so far (see ``async_set_updated_data``)."""
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
        """Hand ``listener`` the data after each successful poll (what the
        entities then show), also when it equals the last: the usual
        listeners do not hear of those (``always_update`` is off), but
        whoever counts polls must.
        """
        self._poll_listeners.append(listener)
        return lambda: self._poll_listeners.remove(listener)

    def async_set_updated_data(self, data: DataT) -> None:
        """Show an action's result (the PBX confirmed it) at once."""
        self._writes += 1
        super().async_set_updated_data(data)

    async def _async_update_data(self) -> DataT:
        """Poll; but when an action's result was shown while the poll was
        reading, keep that: the poll may have read the PBX before the write,
        and showing it would flip the entity back until the next poll, which
        reads both.
        """
        writes = self._writes
        data = await self._async_poll()
        if self._writes != writes and self.data is not None:
            return self.data
        return data

    @callback
    def _async_refresh_finished(self) -> None:
        """Hand the poll listeners what the entities now show, once the poll
        has become ``data`` (not what a write made it drop). A listener's
        error is logged: it must not turn a good poll into a failed one.
        """
        super()._async_refresh_finished()
        if not self.last_update_success:
            return
        for listener in list(self._poll_listeners):
            try:
                listener(self.data)
            except Exception:
                LOGGER.exception("Error in a poll listener of %s", self.name)

    async def _guard[T](self, call: Awaitable[T]) -> T:
        """Await a poll and turn client errors into what a coordinator raises:
        refused credentials start reauth, everything else makes entities
        unavailable until a poll succeeds.

        Two failures only the user can fix get a repair issue, which the next
        successful poll removes: a PBX that answers 429 to several polls in a
        row (poll less often), and one that does not whitelist Home Assistant's
        IP address (polling goes on, so fixing the whitelist is enough).
        """
        try:
            result = await call
        except PbxError as err:
            self._slow_down_to_the_vendors_count()
            if isinstance(err, PbxRateLimitError) and err.from_pbx:
                self._polls_refused += 1
            if self._polls_refused >= RATE_LIMIT_ISSUE_AFTER:
                create_entry_issue(self.hass, self.config_entry, RATE_LIMITED)
            if isinstance(err, PbxNotWhitelistedError):
                create_entry_issue(self.hass, self.config_entry, NOT_WHITELISTED)
            if isinstance(err, PbxClockSkewError):
                # Twice in a row: one slow answer can push a time stamp out.
                self._skewed_polls += 1
                if self._skewed_polls >= 2:
                    create_entry_issue(self.hass, self.config_entry, CLOCK_SKEW)
            key, placeholders = error_translation(err)
            if isinstance(err, PbxTooManyItemsError):
                create_entry_issue(
                    self.hass,
                    self.config_entry,
                    f"{TOO_MANY_ITEMS}_{self.cadence}",
                    translation_key=TOO_MANY_ITEMS,
                    placeholders=placeholders,
                )
            error_class = ConfigEntryAuthFailed if needs_reauth(err) else UpdateFailed
            raise error_class(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err
        self._slow_down_to_the_vendors_count()
        self._polls_refused = 0
        self._skewed_polls = 0
        for kind in (*POLL_ISSUES, f"{TOO_MANY_ITEMS}_{self.cadence}"):
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(kind, self.config_entry))
        self._sync_permission_issue()
        return result

    def _sync_permission_issue(self) -> None:
        """One repair issue per cadence naming every licence or right that a
        topic of it was refused for; none once all are granted.
        """
        kind = f"{MISSING_PERMISSION}_{self.cadence}"
        if self._refused:
            create_entry_issue(
                self.hass,
                self.config_entry,
                kind,
                translation_key=MISSING_PERMISSION,
                placeholders={
                    "permission": ", ".join(sorted(set(self._refused.values())))
                },
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id(kind, self.config_entry))

    def _slow_down_to_the_vendors_count(self) -> None:
        """Poll less often as the vendor reports fewer requests left (whoever
        spends them), down to none until its window passes; never more often
        than the user chose.
        """
        cost = poll_cost(self.client, self.topics)
        if not cost:
            return
        needed = min(
            self.client.http.budget.min_interval(cost), MAX_INTERVAL.total_seconds()
        )
        self.update_interval = max(
            self.interval(self.config_entry, self.client),
            timedelta(seconds=math.ceil(needed)),
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
        if (url := self.client.notices.get("api_url")) is not None:
            create_entry_issue(
                self.hass,
                self.config_entry,
                API_URL_MOVED,
                is_fixable=True,
                placeholders={"url": url},
            )
        else:
            ir.async_delete_issue(
                self.hass, DOMAIN, issue_id(API_URL_MOVED, self.config_entry)
            )

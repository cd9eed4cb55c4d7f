"""The base every vendor client shares, and what a vendor declares.

A vendor module subclasses ``PbxClient`` and declares its settings once as
``SettingField``s in its ``SPEC`` (a ``VendorSpec``); the config flow builds its
form from that declaration and ``create_client`` builds the client from the answers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
import functools
import hashlib
import re
from typing import Any, ClassVar, Concatenate, Final

import aiohttp
from yarl import URL

from .address import base_url, is_loopback
from .budget import BudgetSpec, RequestBudget
from .exceptions import (
    PbxInvalidInputError,
    PbxTooManyItemsError,
    PbxUnsupportedError,
)
from .http import HttpHelper
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
    PbxInfo,
    RateLimitStatus,
    SystemStatus,
)
from .options import OptionField, OptionsCheck
from .stepwise import reading
from .topics import (
    TOPICS,
    MonthAccounts,
    ReadContext,
    ReadResult,
    Topic,
    UsagePeriods,
    reporting,
)

DEFAULT_REQUEST_TIMEOUT = 10.0
URL_KEY = "url"
"""The setting that holds the server address, in every vendor's settings."""
_NUMBER_SEPARATORS = re.compile(r"[ .\-()/]")
_DIALLABLE = re.compile(r"\+?[0-9*#]{2,20}")


def _userinfo(address: Any) -> tuple[str, ...]:
    """The password and ``user:password`` of an address that holds them
    (refused before sending, but redacted should they show all the same).
    """
    try:
        url = URL(str(address or ""))
    except ValueError:
        return ()
    if not url.password:
        return ()
    return (url.password, f"{url.user or ''}:{url.password}")


def dialled_number(number: str) -> str:
    """A phone number as a PBX dials it, or ``PbxInvalidInputError``.

    Spaces, dots, dashes, slashes and brackets are dropped (not other
    whitespace: a newline is no separator); what is left must be an
    optional ``+`` and 2 to 20 digits, ``*`` or ``#``.
    """
    # "+44 (0)20 ..." : the trunk 0 is not dialled after a country code.
    if number.lstrip().startswith("+"):
        number = number.replace("(0)", "")
    compact = _NUMBER_SEPARATORS.sub("", number)
    if not _DIALLABLE.fullmatch(compact):
        raise PbxInvalidInputError(
            "A phone number is 2 to 20 digits, * or #, optionally after a +"
        )
    return compact


class FieldKind(StrEnum):
    """How a setting is entered, so the config flow picks the right selector."""

    TEXT = "text"
    URL = "url"
    PASSWORD = "password"  # noqa: S105  (a field kind, not a password)
    BOOLEAN = "boolean"


@dataclass(frozen=True, kw_only=True)
class SettingField:
    """One setting a vendor needs; ``secret`` ones are redacted everywhere."""

    key: str
    kind: FieldKind = FieldKind.TEXT
    required: bool = True
    default: str | bool | None = None

    @property
    def secret(self) -> bool:
        """Passwords, keys and tokens are secrets."""
        return self.kind is FieldKind.PASSWORD


class PbxClient(ABC):
    """A PBX account: identify it, read its data, act on it.

    Getters a vendor does not override raise ``PbxUnsupportedError``; its
    actions are the ``abilities`` interfaces it implements. ``capabilities``
    lists both.
    """

    vendor: ClassVar[str]
    capabilities: frozenset[Capability] = frozenset()
    pending_capabilities: ClassVar[frozenset[Capability]] = frozenset()
    """What the client can read but Home Assistant does not take yet: the
    existing integration would act on them at once (a PBXware call history
    would poll before its topic is wired). The getters work; wiring a topic
    moves it into ``capabilities`` (see docs/calls-client.md).
    """
    read_costs: ClassVar[Mapping[Capability, int]] = {}
    """Requests one read of each topic sends (1 where not listed), for sizing
    polling to the budget.
    """
    extra_topics: ClassVar[frozenset[Topic]] = frozenset()
    """Topics no capability offers that the vendor reads (its rate limits)."""
    licence_kinds: ClassVar[Mapping[str, str]] = {}
    """The licence kinds ``SystemStatus.licenses`` reports, each with the
    translation key of its sensor.
    """
    info_facts: ClassVar[Mapping[str, str]] = {}
    """The ``PbxInfo.details`` worth a diagnostic sensor, each with its
    translation key.
    """
    max_items: ClassVar[Mapping[Capability, int]] = {}
    """The most items each topic the vendor reads takes (the README lists
    them): a PBX that lists more is refused whole (``PbxTooManyItemsError``),
    before they take memory, time and thousands of entities.
    """
    default_url: ClassVar[str | None] = None
    """The server address when the settings give none (a cloud vendor's)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: Mapping[str, Any],
        *,
        budget: RequestBudget,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        secret_keys: Iterable[str] = (),
    ) -> None:
        """Keep the settings; every request goes through one ``HttpHelper``."""
        self.settings = dict(settings)
        secret_keys = tuple(secret_keys)
        self.http = HttpHelper(
            session,
            budget=budget,
            request_timeout=request_timeout,
            secrets=lambda: (
                *(str(self.settings.get(key) or "") for key in secret_keys),
                *_userinfo(self.settings.get(URL_KEY)),
            ),
        )

    @classmethod
    def budget_scope(
        cls, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """What one request budget covers: the account the vendor counts
        requests for, whatever its credentials, so that new ones (a reauth, a
        new key) go on spending from the same budget. ``identity`` is the
        unique id the account was first identified by, where the caller has
        one (a config entry's). By default that, else the settings as a whole;
        a vendor whose settings name the account, or whose limit is per
        server, overrides this.
        """
        if identity:
            return identity
        account = repr(sorted((key, str(value)) for key, value in settings.items()))
        return hashlib.sha256(account.encode()).hexdigest()[:16]

    @classmethod
    def server_address(
        cls, settings: Mapping[str, Any], *, as_entered: bool = False
    ) -> URL:
        """The server the settings name, as requests are built on it, or
        ``PbxInvalidInputError`` with one of ``address.URL_REASONS``. With
        ``as_entered`` (a form's answer) the address must be as it is meant,
        not only usable: a query or fragment is refused, not dropped.
        """
        text = str(settings.get(URL_KEY) or cls.default_url or "")
        return base_url(text, as_entered=as_entered)

    @classmethod
    def sends_in_clear(cls, settings: Mapping[str, Any]) -> bool:
        """Whether the settings' server address is plain ``http://``: no
        certificate is involved, and credentials travel unencrypted.
        """
        try:
            return cls.server_address(settings).scheme == "http"
        except PbxInvalidInputError:
            return False

    @classmethod
    def sends_credentials_in_clear(cls, settings: Mapping[str, Any]) -> bool:
        """Whether the credentials cross a network unencrypted: plain
        ``http://`` to another machine (not to this one's loopback address).
        """
        return cls.sends_in_clear(settings) and not is_loopback(
            cls.server_address(settings)
        )

    def _at_most[T](self, capability: Capability, items: T) -> T:
        """``items`` (rows as the PBX sent them: a list or an object of rows,
        or what was read of them) if they are no more than ``capability``'s
        ``max_items``; else ``PbxTooManyItemsError``. Anything without a
        length passes, for the parser to judge.
        """
        maximum = self.max_items[capability]
        if isinstance(items, list | dict | set | tuple) and len(items) > maximum:
            raise PbxTooManyItemsError(
                f"{self.vendor} listed {len(items)} {capability}: more than "
                f"the {maximum} the client takes",
                topic=capability.value,
                maximum=maximum,
            )
        return items

    @property
    def budget(self) -> RequestBudget:
        """The request budget this client spends from (shared per account)."""
        return self.http.budget

    @property
    def topics(self) -> tuple[Topic, ...]:
        """The topics this client reads, in declaration order."""
        return tuple(
            topic
            for topic, spec in TOPICS.items()
            if (spec.capability in self.capabilities)
            or (spec.capability is None and topic in self.extra_topics)
        )

    def poll_cost(self, topic: Topic) -> int:
        """Requests one read of ``topic`` sends, as the vendor declares it."""
        capability = TOPICS[topic].capability
        return 0 if capability is None else self.read_costs.get(capability, 1)

    async def async_read(self, topic: Topic, context: ReadContext) -> ReadResult[Any]:
        """Read one topic: its data and what the read learned on the way."""
        if topic not in self.topics:
            raise PbxUnsupportedError(f"{self.vendor} does not read {topic}")
        with reporting() as report:
            data = await _read_topic(self, topic, context)
        return ReadResult(
            data=data,
            cost=self.poll_cost(topic) if report.cost is None else report.cost,
            refused=frozenset(report.refused),
            missing=frozenset(report.missing),
            notices=dict(report.notices),
        )

    def _unsupported(self, capability: Capability) -> PbxUnsupportedError:
        return PbxUnsupportedError(f"{self.vendor} does not support {capability}")

    @abstractmethod
    async def async_identify(self) -> PbxInfo:
        """Validate the credentials and say which PBX this is."""

    async def async_get_status(self) -> SystemStatus:
        """Health and load of the PBX."""
        raise self._unsupported(Capability.STATUS)

    async def async_get_extensions(self) -> dict[str, Extension]:
        """Every extension, keyed by its id."""
        raise self._unsupported(Capability.EXTENSIONS)

    async def async_get_live_calls(self) -> dict[str, LiveCall]:
        """Calls in progress, keyed by call id."""
        raise self._unsupported(Capability.LIVE_CALLS)

    async def async_get_dids(self) -> dict[str, Did]:
        """Incoming numbers and their routes, keyed by DID id."""
        raise self._unsupported(Capability.DIDS)

    async def async_get_calls(self, since: datetime) -> list[CallRecord]:
        """Calls started at or after ``since``, such as the start of today.

        Clients may keep what they read before and ask the PBX only for what
        is new; each call is listed once, in its latest state.
        """
        raise self._unsupported(Capability.CALL_HISTORY)

    def normalize_number(self, number: str) -> str:
        """A phone number as the PBX dials it, or ``PbxInvalidInputError``
        (see ``dialled_number``); vendors with stricter rules override this.
        """
        return dialled_number(number)

    async def async_get_extension_usage(
        self, start: datetime, end: datetime
    ) -> dict[str, ExtensionUsage]:
        """Calls, talk time and cost per extension from ``start`` to ``end``."""
        raise self._unsupported(Capability.EXTENSION_USAGE)

    async def async_get_indicators(self) -> dict[str, FunctionIndicator]:
        """Function indicators and their state, by id."""
        raise self._unsupported(Capability.INDICATORS)

    async def async_get_did_routing(self) -> DidRouting:
        """Incoming numbers with their routes, and the routes to choose from."""
        raise self._unsupported(Capability.DID_ROUTING)

    async def async_get_hot_desks(self) -> HotDesking:
        """Hot desks and their templates."""
        raise self._unsupported(Capability.HOT_DESKS)

    async def async_get_call_states(self) -> dict[str, ExtensionCallState]:
        """Each extension's live call state, by extension id."""
        raise self._unsupported(Capability.CALL_STATES)

    async def async_get_call_forwarding(
        self, extension_ids: Iterable[str]
    ) -> dict[str, CallForwarding]:
        """Whether each of ``extension_ids`` forwards its calls, as far as
        this read could ask (one request per extension).
        """
        raise self._unsupported(Capability.CALL_FORWARDING)

    async def async_get_accounts(
        self, selection: AccountSelection, month: date
    ) -> dict[str, AccountSummary]:
        """The accounts of the selected subscribers over ``month``, by id."""
        raise self._unsupported(Capability.ACCOUNTS)

    @property
    def rate_limit_status(self) -> RateLimitStatus | None:
        """The vendor's last word on its rate limits, where it reports them."""
        return None


_GETTERS: Final[Mapping[Topic, Callable[[PbxClient], Coroutine[Any, Any, Any]]]] = {
    Topic.STATUS: lambda client: client.async_get_status(),
    Topic.EXTENSIONS: lambda client: client.async_get_extensions(),
    Topic.LIVE_CALLS: lambda client: client.async_get_live_calls(),
    Topic.CALL_STATES: lambda client: client.async_get_call_states(),
    Topic.DIDS: lambda client: client.async_get_dids(),
    Topic.INDICATORS: lambda client: client.async_get_indicators(),
    Topic.DID_ROUTING: lambda client: client.async_get_did_routing(),
    Topic.HOT_DESKS: lambda client: client.async_get_hot_desks(),
}
"""The topics read by a getter without arguments."""


async def _read_topic(client: PbxClient, topic: Topic, context: ReadContext) -> Any:
    """The data of ``topic``, read with the client's public getters."""
    if (getter := _GETTERS.get(topic)) is not None:
        return await getter(client)
    match topic:
        case Topic.CALLS:
            return await client.async_get_calls(context.calls_since)
        case Topic.USAGE:
            return await _read_usage(client, context)
        case Topic.ACCOUNTS:
            if context.accounts == AccountSelection():
                return MonthAccounts(accounts={}, since=None)  # none followed
            accounts = await client.async_get_accounts(
                context.accounts, context.now.date()
            )
            return MonthAccounts(accounts=accounts, since=context.month_start)
        case Topic.RATE_LIMIT:
            return client.rate_limit_status
    raise PbxUnsupportedError(f"{client.vendor} does not read {topic}")


async def _read_usage(client: PbxClient, context: ReadContext) -> UsagePeriods:
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


def one_read[C: PbxClient, **P, R](
    capability: Capability,
) -> Callable[
    [Callable[Concatenate[C, P], Coroutine[Any, Any, R]]],
    Callable[Concatenate[C, P], Coroutine[Any, Any, R]],
]:
    """Make a getter one read of ``capability``: all it sends counts against
    ``RequestBudget.per_read`` (see ``READ_SHARE``), and no list it decodes
    stepwise may grow past the topic's ``max_items`` (see ``stepwise``).
    """

    def decorate(
        getter: Callable[Concatenate[C, P], Coroutine[Any, Any, R]],
    ) -> Callable[Concatenate[C, P], Coroutine[Any, Any, R]]:
        @functools.wraps(getter)
        async def read(client: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
            with (
                client.http.budget.read(),
                reading(capability.value, client.max_items[capability]),
            ):
                return await getter(client, *args, **kwargs)

        return read

    return decorate


@dataclass(frozen=True, kw_only=True)
class VendorSpec:
    """What the integration needs to know about a vendor before it has a client."""

    key: str
    name: str
    client_class: type[PbxClient]
    fields: tuple[SettingField, ...]
    budget: BudgetSpec
    tenant_field: str | None = None
    """Setting that holds the chosen tenant, for vendors with ``TENANTS``."""
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    """Turns the form's answers into what the config entry keeps (a password
    into its hash, say); ``None`` keeps them as entered.
    """
    stored_secrets: tuple[str, ...] = ()
    """Settings that ``prepare`` adds and that are as secret as the fields."""
    options: tuple[OptionField, ...] = ()
    """Options beyond the scan intervals, in the options flow's form."""
    check_options: OptionsCheck | None = None
    """Checks the chosen options against the PBX before they are saved."""
    stable_identity: bool = True
    """Whether ``async_identify`` names the same PBX whatever the credentials.
    Where the API names no account, the identity derives from the key, and
    reauthentication with a new key must not be refused as another PBX.
    """

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """Settings that must never be shown."""
        return (*(f.key for f in self.fields if f.secret), *self.stored_secrets)

    def budget_key(
        self, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """The key under which clients of one account share a budget (see
        ``PbxClient.budget_scope``).
        """
        return f"{self.key}:{self.client_class.budget_scope(settings, identity)}"

    def stored(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """What a config entry keeps of ``settings``."""
        return self.prepare(settings) if self.prepare else dict(settings)

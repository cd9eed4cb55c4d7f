"""The base every vendor client shares, and what a vendor declares.

A vendor module subclasses ``PbxClient`` and declares its settings once as
``SettingField``s in its ``SPEC`` (a ``VendorSpec``); the config flow builds its
form from that declaration and ``create_client`` builds the client from the answers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import functools
import hashlib
import re
from typing import Any, ClassVar, Concatenate, Literal, overload

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
    CallForwarding,
    CallRecord,
    Capability,
    Did,
    DidRouting,
    Extension,
    ExtensionCallState,
    FunctionIndicator,
    HotDesking,
    LiveCall,
    PbxInfo,
    RateLimitStatus,
    SystemStatus,
)
from .options import OptionField, OptionsCheck
from .readers import READERS
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

    The topics a vendor reads are the ``readers`` interfaces it implements, its
    actions the ``abilities`` interfaces; ``capabilities`` lists both.
    """

    vendor: ClassVar[str]
    capabilities: frozenset[Capability] = frozenset()
    read_costs: ClassVar[Mapping[Capability, int]] = {}
    """Requests one read of each topic sends (1 where not listed), for sizing
    polling to the budget.
    """
    licence_kinds: ClassVar[Mapping[str, str]] = {}
    """The licence kinds ``SystemStatus.licenses`` reports, each with the
    translation key of its sensor.
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
        """The topics this client reads (the readers it implements), in
        declaration order.
        """
        return tuple(
            topic for topic in TOPICS if isinstance(self, READERS[topic].interface)
        )

    def poll_cost(self, topic: Topic) -> int:
        """Requests one read of ``topic`` sends, as the vendor declares it."""
        capability = TOPICS[topic].capability
        return 0 if capability is None else self.read_costs.get(capability, 1)

    # Each topic's read returns its model (``TOPICS``; tests/client/test_readers).
    @overload
    async def async_read(
        self, topic: Literal[Topic.STATUS], context: ReadContext
    ) -> ReadResult[SystemStatus]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.EXTENSIONS], context: ReadContext
    ) -> ReadResult[dict[str, Extension]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.LIVE_CALLS], context: ReadContext
    ) -> ReadResult[dict[str, LiveCall]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.CALL_STATES], context: ReadContext
    ) -> ReadResult[dict[str, ExtensionCallState]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.CALLS], context: ReadContext
    ) -> ReadResult[list[CallRecord]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.DIDS], context: ReadContext
    ) -> ReadResult[dict[str, Did]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.USAGE], context: ReadContext
    ) -> ReadResult[UsagePeriods]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.ACCOUNTS], context: ReadContext
    ) -> ReadResult[MonthAccounts]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.INDICATORS], context: ReadContext
    ) -> ReadResult[dict[str, FunctionIndicator]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.DID_ROUTING], context: ReadContext
    ) -> ReadResult[DidRouting]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.HOT_DESKS], context: ReadContext
    ) -> ReadResult[HotDesking]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.CALL_FORWARDING], context: ReadContext
    ) -> ReadResult[dict[str, CallForwarding]]: ...
    @overload
    async def async_read(
        self, topic: Literal[Topic.RATE_LIMIT], context: ReadContext
    ) -> ReadResult[RateLimitStatus | None]: ...
    @overload
    async def async_read(
        self, topic: Topic, context: ReadContext
    ) -> ReadResult[Any]: ...

    async def async_read(self, topic: Topic, context: ReadContext) -> ReadResult[Any]:
        """Read one topic: its data (typed per topic) and what the read
        learned on the way; ``PbxUnsupportedError`` for a topic the vendor
        has no reader of.
        """
        reader = READERS[topic]
        if not isinstance(self, reader.interface):
            raise PbxUnsupportedError(f"{self.vendor} does not read {topic}")
        with reporting() as report:
            data = await reader.read(self, context)
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

    def normalize_number(self, number: str) -> str:
        """A phone number as the PBX dials it, or ``PbxInvalidInputError``
        (see ``dialled_number``); vendors with stricter rules override this.
        """
        return dialled_number(number)


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

"""Vendor-neutral data returned by every PBX client.

A field a vendor cannot provide is ``None``; the integration hides what is ``None``
rather than inventing values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final, Literal

from .convert import percent


class Capability(StrEnum):
    """What a client can do; the integration only offers what is listed."""

    STATUS = "status"
    EXTENSIONS = "extensions"
    LIVE_CALLS = "live_calls"
    DIDS = "dids"
    TENANTS = "tenants"
    CALL_HISTORY = "call_history"
    """Today's calls, from which queue, ring-group and user statistics follow."""
    EXTENSION_USAGE = "extension_usage"
    """Call accounting: calls, talk time and cost per extension over a period."""
    SEND_SMS = "send_sms"
    INDICATORS = "indicators"
    """Function indicators (switchable flags that calls are routed by)."""
    SET_INDICATOR = "set_indicator"
    DID_ROUTING = "did_routing"
    """Incoming numbers routed by route plans, with time filters."""
    SET_DID_ROUTE_PLAN = "set_did_route_plan"
    """Route incoming numbers by route plan, backup route and time filters."""
    HOT_DESKS = "hot_desks"
    SET_HOT_DESK = "set_hot_desk"
    ACCOUNTS = "accounts"
    """Billing accounts of chosen subscribers: balance, charges and payments."""
    CHARGES = "charges"
    """The itemised charges of one subscriber over a period."""
    SET_DND = "set_dnd"
    SET_DID_ROUTE = "set_did_route"
    """Route incoming numbers to a destination (extension, queue, voicemail, ...)."""
    CLICK_TO_CALL = "click_to_call"
    CALL_STATES = "call_states"
    """Per extension: idle, ringing or in a call, with whom and since when."""
    CALL_FORWARDING = "call_forwarding"
    """Whether each extension forwards its calls (read one extension at a time)."""
    SET_CALL_FORWARDING = "set_call_forwarding"
    RECORDING = "recording"
    """Start and stop recording an extension's call in progress."""
    CALL_PUSH = "call_push"
    """Call notifications pushed by the PBX as they happen (no polling)."""


class DestinationType(StrEnum):
    """Where an incoming number (DID) can be routed, in vendor-neutral terms."""

    EXTENSION = "extension"
    RING_GROUP = "ring_group"
    IVR = "ivr"
    QUEUE = "queue"
    EXTERNAL = "external"
    VOICEMAIL = "voicemail"
    CONFERENCE = "conference"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class PbxFact:
    """Something the PBX told when identified: a database version, say."""

    key: str
    value: str
    translation_key: str | None = None
    """Its diagnostic sensor's; ``None``: shown in diagnostics only."""


@dataclass(frozen=True, kw_only=True)
class PbxInfo:
    """Who the PBX is: answered by ``async_identify``."""

    unique_id: str
    name: str
    manufacturer: str
    model: str | None = None
    sw_version: str | None = None
    configuration_url: str | None = None
    serial_number: str | None = None
    facts: tuple[PbxFact, ...] = ()
    """Further facts the vendor reports (versions, counts)."""

    @property
    def sensor_facts(self) -> tuple[PbxFact, ...]:
        """The facts worth a diagnostic sensor: the serial number, then the
        vendor's that have a translation key.
        """
        serial = () if self.serial_number is None else (_serial(self.serial_number),)
        return (*serial, *(fact for fact in self.facts if fact.translation_key))


def _serial(number: str) -> PbxFact:
    return PbxFact(key="serial_number", value=number, translation_key="serial_number")


@dataclass(frozen=True, kw_only=True)
class Tenant:
    """One tenant (account) of a multi-tenant PBX."""

    id: str
    name: str
    code: str | None = None


@dataclass(frozen=True, kw_only=True)
class LicenseUsage:
    """How many of a licensed resource are in use, out of how many."""

    in_use: int | None
    maximum: int | None

    @property
    def percent(self) -> float | None:
        """The share in use, to one decimal; unknown without a maximum above
        zero (see ``convert.percent``).
        """
        return percent(self.in_use, self.maximum)


@dataclass(frozen=True, kw_only=True)
class SystemStatus:
    """Health and load of the PBX as a whole."""

    cpu_percent: float | None = None
    memory_percent: float | None = None
    disk_percent: float | None = None
    extensions_online: int | None = None
    active_calls: int | None = None
    calls_last_hour: int | None = None
    calls_today: int | None = None
    answered_calls_today: int | None = None
    sip_registrations_ok: int | None = None
    sip_registrations_failed: int | None = None
    sip_registrations_lagged: int | None = None
    licenses: dict[str, LicenseUsage] = field(default_factory=dict)
    services: dict[str, bool] | None = None
    """Service name to whether it runs; ``None`` when the vendor does not tell."""
    state: str | None = None
    """The vendor's one-word verdict on the system (``operational``, ...)."""
    message: str | None = None
    """What the vendor says about that state, such as a notice of an outage."""

    @property
    def services_not_running(self) -> list[str] | None:
        """Names of the services that do not run, sorted; ``None`` when unknown."""
        if self.services is None:
            return None
        return sorted(name for name, running in self.services.items() if not running)


@dataclass(frozen=True, kw_only=True)
class Extension:
    """One extension (a user's phone line)."""

    id: str
    number: str
    name: str
    email: str | None = None
    enabled: bool | None = None
    registered: bool | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    model: str | None = None
    dnd: bool | None = None
    on_call: bool | None = None
    direct_number: str | None = None
    """The phone number the person is known by where ``number`` is an account
    login rather than a number (VoipCenter: the account's outgoing DID).
    """

    @property
    def shown_number(self) -> str:
        """The number a person reads beside the name."""
        return self.direct_number or self.number


@dataclass(frozen=True, kw_only=True)
class LiveCall:
    """A call in progress."""

    id: str
    caller: str
    callee: str
    started_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Did:
    """An incoming number (DID) and where it is routed."""

    id: str
    number: str
    destination_type: DestinationType | None
    """``None`` where the PBX did not say (unknown, not "other")."""
    destination: str
    enabled: bool | None = None
    trunk: str | None = None


class CallScope(StrEnum):
    """What a call record was listed under."""

    USER = "user"
    QUEUE = "queue"
    RING_GROUP = "ring_group"


class CallOutcome(StrEnum):
    """How a call ended, in vendor-neutral terms."""

    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    MISSED = "missed"
    """An inbound call to a user that nobody answered."""
    UNANSWERED = "unanswered"
    """An outbound call the other side did not answer."""
    ABANDONED = "abandoned"
    """The caller hung up while waiting in a queue or ring group."""
    TIMED_OUT = "timed_out"
    """The queue or ring group gave up on the caller."""
    UNKNOWN = "unknown"
    """A call that ended in a way the PBX's record does not say."""


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One call as a user, queue or ring group saw it."""

    id: str
    scope: CallScope
    group: str | None
    """The queue or ring group's name; ``None`` for user calls."""
    user_number: str | None
    user_name: str | None
    inbound: bool | None
    caller: str | None
    caller_name: str | None
    callee: str | None
    started_at: datetime
    answered_at: datetime | None
    finished_at: datetime | None
    talk_seconds: int
    outcome: CallOutcome

    @property
    def key(self) -> str:
        """Unique across scopes: one call shows in a queue's and a user's list."""
        return f"{self.scope}:{self.id}"

    @property
    def direction(self) -> CallDirection | None:
        """Inbound or outbound as the user saw it; ``None`` where unknown."""
        if self.inbound is None:
            return None
        return CallDirection.INBOUND if self.inbound else CallDirection.OUTBOUND

    @property
    def wait_seconds(self) -> int | None:
        """How long the caller waited before someone answered."""
        if self.answered_at is None:
            return None
        return max(int((self.answered_at - self.started_at).total_seconds()), 0)


@dataclass(frozen=True, kw_only=True)
class ExtensionUsage:
    """What one extension's calls amounted to over a period."""

    extension: str
    name: str | None = None
    calls: int | None = None
    talk_seconds: int | None = None
    cost: float | None = None


@dataclass(frozen=True, kw_only=True)
class RateLimitStatus:
    """What the vendor last said about its rate limits; ``None`` where it did
    not say.
    """

    hourly_limit: int | None = None
    hourly_remaining: int | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None


@dataclass(frozen=True, kw_only=True)
class AccountSelection:
    """Which subscribers' accounts to follow: by id (or e-mail), and every
    member of the named departments (groups) and nodes.
    """

    ids: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Subscriber:
    """A person or company billed for calls."""

    id: str
    name: str
    email: str | None = None


@dataclass(frozen=True, kw_only=True)
class AccountSummary:
    """A subscriber's account over one period (the current month)."""

    subscriber: Subscriber
    start_debt: float | None = None
    end_debt: float | None = None
    """The balance: what the subscriber owes at the end of the period."""
    charges: float | None = None
    payments: float | None = None


@dataclass(frozen=True, kw_only=True)
class Charge:
    """One itemised charge."""

    id: str
    recorded_at: datetime | None
    start: datetime | None
    end: datetime | None
    service: str | None
    amount: float | None
    count: int | None


@dataclass(frozen=True, kw_only=True)
class FunctionIndicator:
    """A flag the PBX routes calls by (a day/night switch, for instance)."""

    id: str
    name: str
    active: bool | None


class TimeFilter(StrEnum):
    """The time filters a routed number can have."""

    HOLIDAYS = "holidays"
    VACATIONS = "vacations"
    OFFICE_HOURS = "office_hours"


class Clear(Enum):
    """The one value of ``CLEAR``, typed apart from ids."""

    CLEAR = "clear"


CLEAR: Final = Clear.CLEAR
"""A choice set to none: no backup route or time filter, nobody at a hot
desk. What the setters take to empty one and what a read gives for one that
is empty (``None`` is unknown: the PBX's answer did not say). Each vendor
sends and reads it as its own wire value."""
type Clearable = Literal[Clear.CLEAR] | str
"""An id, or ``CLEAR``."""


@dataclass(frozen=True, kw_only=True)
class RoutedDid:
    """An incoming number with its route plan, backup route and time filters,
    each an id of ``DidRouting``'s tables. A route or backup route is
    ``CLEAR`` when set to none and ``None`` when unknown; a time filter is
    ``None`` when not set.
    """

    id: str
    number: str
    route: Clearable | None
    backup_route: Clearable | None
    time_filters: dict[TimeFilter, str | None] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DidRouting:
    """Incoming numbers and the names of what they can be routed by."""

    dids: dict[str, RoutedDid]
    routes: dict[str, str]
    backup_routes: dict[str, str]
    time_filters: dict[TimeFilter, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class HotDesk:
    """A desk phone that SIP accounts (people) log in to."""

    id: str
    name: str
    sip_account: str | None
    """The id of the logged-in SIP account; ``None``: nobody."""
    template: str | None


@dataclass(frozen=True, kw_only=True)
class HotDesking:
    """Hot desks, and the templates they can use."""

    desks: dict[str, HotDesk]
    templates: dict[str, str]


class CallState(StrEnum):
    """What an extension's phone is doing."""

    IDLE = "idle"
    RINGING = "ringing"
    """A call is offered and not answered yet (where the vendor can tell)."""
    IN_CALL = "in_call"


class CallDirection(StrEnum):
    """Which way a call goes, seen from the extension."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


@dataclass(frozen=True, kw_only=True)
class ExtensionCallState:
    """One extension's live call state; a field the PBX did not tell is ``None``."""

    extension: str
    """The extension's id, as ``async_get_extensions`` keys it (VoIPcloud,
    which has no extension list, its user number).
    """
    state: CallState | None
    other_number: str | None = None
    other_name: str | None = None
    direction: CallDirection | None = None
    since: datetime | None = None
    call_id: str | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        """The other party, the direction and since when; ``None`` where not told."""
        return {
            "other_number": self.other_number,
            "other_name": self.other_name,
            "direction": None if self.direction is None else self.direction.value,
            "since": self.since and self.since.isoformat(),
        }


@dataclass(frozen=True, kw_only=True)
class CallForwarding:
    """Whether an extension forwards its calls."""

    extension: str
    enabled: bool | None
    """``None`` where the PBX's answer cannot be read as on or off."""
    state: str | None = None
    """The PBX's own word for it (PBXware: ``yes``, ``no`` or ``pin``)."""


@dataclass(frozen=True, kw_only=True)
class PushCredentials:
    """What a push channel registers with; the key is a secret."""

    username: str
    key: str = field(repr=False)


class PushState(StrEnum):
    """Where a push channel is."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    """Connected and registered: notifications flow."""
    DISCONNECTED = "disconnected"
    """Lost, or refused; the channel tries again after a backoff."""
    STOPPED = "stopped"


@dataclass(frozen=True, kw_only=True)
class CallNotification:
    """One call notification pushed by the PBX. Its fields are not
    published: ``raw`` keeps the payload whole, and the fields read from it
    are ``None`` where no plausible key was there.
    """

    received_at: datetime
    raw: Any
    call_id: str | None = None
    caller: str | None = None
    caller_name: str | None = None
    callee: str | None = None
    extension: str | None = None
    """The SIP account (extension) the call is for, where the payload says."""
    state: CallState | None = None
    direction: CallDirection | None = None

    @property
    def attributes(self) -> dict[str, Any]:
        """What its event carries: the history's attributes, and the raw payload."""
        return {
            "call_id": self.call_id,
            "caller": self.caller_name or self.caller,
            "caller_name": self.caller_name,
            "number": self.caller,
            "called": self.callee,
            "time": self.received_at.isoformat(),
            "raw": self.raw,
        }

"""Fake VoIPcloud integration API, written from the vendor's API article.

``GET|POST /api/integration/v1/<endpoint>`` (``/v2/`` is accepted too) with the API
key in the ``token`` HTTP header. Every answer is JSON in the envelope
``{"status": "success"|"error", "message": str, "code": int, "data": ...}`` and the
HTTP status equals ``code`` (200, 400, 401, 404, 405, 429). Call lists are sorted
newest first. Calls are generated lazily from a seeded random stream, driven by a
clock the caller controls, so a test can move time and watch calls start, connect
and finish.

Assumptions (the documents are silent on these):

- Auth: a missing ``token`` header -> 401 ``"Token not provided"``; a wrong one ->
  401 ``"Invalid token"``; the retired ``api_key`` (or ``token``) query parameter
  alone -> 401 ``"The api_key parameter is no longer supported; send the API key
  in the token header"``. The token is checked before the IP whitelist; a
  non-whitelisted client (``request.remote``) gets 401 ``"IP address 127.0.0.1 is
  not whitelisted"``. Whitelist entries are addresses or CIDR networks; ``None``
  allows everyone. Error envelopes carry ``"data": null``.
- Rate limit: a sliding window of ``rate_limit`` requests per ``rate_window`` on
  the simulator clock, per account. Only requests that pass auth and the whitelist
  count; refused (429) requests do not use up a slot. The 429 answer is the
  envelope with ``"message": "Too Many Requests"`` and a ``Retry-After`` header
  giving whole seconds (at least 1) until the oldest counted request leaves the
  window. Requests faulted by the core middleware never reach the limiter.
- Paths outside ``/api/integration/v1|v2/`` and unknown endpoints -> 404
  ``"Not found"`` (unknown endpoints only after auth). A wrong method (e.g. GET
  call-to-number) -> 405 ``"Method not allowed"``.
- List parameters: ``limit`` 1..10000 (default 100), ``offset`` >= 0, ``from_date``
  / ``to_date`` ``Y-m-d`` in the account time zone, both inclusive whole days,
  applied to ``call_start_at``; ``sort_by`` must be ``newest_first`` if given;
  ``unique_call_id`` filters to one call; empty values mean "not given". A bad
  value -> 400 with a message naming the parameter. Name filters (``users_names``,
  ``queues_names``, ``ringgroups_names``) are comma lists matched exactly after
  trimming; unknown names simply match nothing.
- Call life cycle: a call is listed once ``call_start_at <= now``. Until the
  caller is connected ``connected_at``/``call_answered_at`` are null; until it
  ends ``call_finished_at`` is null and both durations are 0. ``call_duration``
  is ring/wait time plus talk time, ``conversation_duration`` the talk time.
  While undecided a user row's ``type`` is ``user_inbound_ringing`` /
  ``user_outbound_ringing`` and a queue/ring-group row's ``status`` is
  ``waiting`` (values outside the documented sets; a real server cannot know the
  outcome yet).
- User rows: ``is_inbound`` is 0/1; ``from_number`` equals ``caller_id`` and
  ``to_number`` equals ``dest_number``. Inbound: ``caller_id`` is the outside
  caller, ``dest_number`` the number dialled (the user's DID, or the queue/ring
  group DID). Outbound: ``caller_id``/``caller_name`` are the company number and
  name, ``dest_number`` the number dialled. An unknown caller name is null.
- Queue/ring-group rows: ``dest_number`` equals ``inbound_number`` (the DID
  dialled); ``user_name``, ``user_number`` and ``answered_by_user_name`` are null
  until an agent answers. ``timedout`` means the queue/group gave up.
- An answered queue or ring-group call also yields a user row for the agent with
  the SAME ``unique_call_id``; that agent leg starts ``AGENT_RING_SECONDS`` (5 s,
  at most the wait) before the answer. Unanswered group calls yield no user rows.
- ``unique_call_id`` is a numeric string: the start's Unix time followed by two
  digits (like ``"160455961758"``), bumped until unused.
- call-to-number: fields from the query, form (urlencoded or multipart) or a JSON
  object; ``user`` is an alias of ``user_number``; ``caller_id`` and
  ``user_name`` are optional and recorded. Missing fields or a number that is not
  3-20 digits (optional leading ``+``) -> 400; an unknown user -> 404 ``"User not
  found"``. Success: ``data: {call_id, user, number_to_call, status:
  "initiated"}`` and a ``user_outbound_*`` row for the user starting now; whether
  the far end answers is seeded random (80 %). Only accepted requests are
  recorded in ``calls_to_number``.
- get-system-status: ``data: {"status": "operational"|..., "message": str,
  "components": [{"name", "status"}], "updated_at": ISO}``; components are Voice,
  SMS, Portal and API.
- Calls of the shared model (:mod:`simulator.calls`, driven over ``/_sim/calls``;
  the extensions are user numbers, the groups queue and ring-group names) are
  listed with the generated ones, from their state, and share the clock: the
  model's clock is this simulator's, so ``/_sim/clock`` moves generation too.
  The document has no "in progress" list: a call in progress is a row of
  today's list whose ``call_finished_at`` is null (while ringing also
  ``connected_at``), as above. A user's inbound row dials the user's DID; an
  internal call gives the caller an outbound row and the callee an inbound row
  with the same ``unique_call_id``. A group call gives its agent (the
  extension that answered; none when the answer named nobody) a user row from
  ``AGENT_RING_SECONDS`` before the answer; a group call hung up while waiting
  is ``abandoned``, one nobody answered in time ``timedout``.
- Generation: a Poisson process with a dedicated seeded stream, so the calls
  depend only on the seed and the clock readings (not on how often it runs).
  ``calls_per_hour`` is the weekday 08:00-18:00 (local) rate when
  ``business_hours`` is on, with a tenth of it outside; flat otherwise. The
  stream starts ``history`` before the first clock reading. Mix: queue 40 %,
  ring group 20 %, direct inbound 20 %, outbound 20 % (kinds with nothing to
  use are skipped).
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import ipaddress
import json
import math
import re
from typing import ClassVar, Literal, Self
from zoneinfo import ZoneInfo

from aiohttp import web

from .calls import Call, CallBook, CallState, SimClock
from .core import ControlError, SeededRandom, SimulatorBase, cli_clock

DEFAULT_TOKEN = "sim-voipcloud-token-0123456789"  # noqa: S105 (a fake key)
API_PATH = re.compile(r"^/api/integration/v[12]/(?P<endpoint>[A-Za-z0-9_-]+)/?$")
ENDPOINT_METHODS: dict[str, str] = {
    "get-user-calls": "GET",
    "get-queue-calls": "GET",
    "get-ringgroup-calls": "GET",
    "call-to-number": "POST",
    "get-system-status": "GET",
}
MAX_LIMIT = 10000
EVERY_ROW = slice(None)
NAME_TRIES = 50
"""Random names tried for a new user before one gets its number appended."""
DEFAULT_LIMIT = 100
AGENT_RING_SECONDS = 5
PHONE_NUMBER = re.compile(r"^\+?\d{3,20}$")
DATE_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
GROUP_STATUSES = ("answered", "abandoned", "timedout")

MSG_OK = "Success"
MSG_MISSING_KEY = "Token not provided"
MSG_BAD_KEY = "Invalid token"
MSG_RETIRED_PARAM = (
    "The api_key parameter is no longer supported; send the API key in the token header"
)
MSG_IP = "IP address {ip} is not whitelisted"
MSG_RATE = "Too Many Requests"
MSG_FORBIDDEN = "This action is unauthorized."
"""ASSUMED: the documents list no 403; this is the envelope a refused right
would most plausibly come in.
"""
MSG_NOT_FOUND = "Not found"

FIRST_NAMES = (
    "Olivia", "Jack", "Charlotte", "William", "Amelia", "Noah", "Isla", "Oliver",
    "Mia", "Thomas", "Grace", "Lucas", "Chloe", "Henry", "Ruby", "James", "Zoe",
    "Ethan", "Sophie", "Liam",
)  # fmt: skip
LAST_NAMES = (
    "Nguyen", "Williams", "Brown", "Wilson", "Taylor", "Johnson", "White",
    "Martin", "Anderson", "Thompson", "Walker", "Harris", "Lee", "Ryan", "Kelly",
    "King", "Campbell", "Clarke", "Mitchell", "Young",
)  # fmt: skip
QUEUE_NAMES = ("Sales", "Support", "Accounts", "Service", "Bookings", "Dispatch")
RING_GROUP_NAMES = ("Reception", "Warehouse", "Management", "After Hours")
COMPONENTS = ("Voice", "SMS", "Portal", "API")


def iso(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as the vendor shows it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


class ApiError(Exception):
    """A request answered with an error envelope."""

    def __init__(
        self, code: int, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class User:
    """A PBX user (extension) that can take and place calls."""

    name: str
    number: str
    did: str
    """The user's direct inbound number."""


@dataclass(frozen=True)
class Group:
    """A queue or ring group and the DID that reaches it."""

    name: str
    did: str


@dataclass
class UserCall:
    """One call leg of a user, as get-user-calls reports it."""

    id: str
    seq: int
    user: User
    inbound: bool
    answered: bool
    start: datetime
    wait: int
    """Seconds from start until connected (answered) or given up (missed)."""
    talk: int
    caller_id: str
    caller_name: str | None
    dest_number: str

    @property
    def end(self) -> datetime:
        """When the leg finishes."""
        return self.start + timedelta(seconds=self.wait + self.talk)

    def row(self, now: datetime) -> dict[str, object]:
        """The get-user-calls row at ``now``."""
        connected = self.answered and now >= self.start + timedelta(seconds=self.wait)
        finished = now >= self.end
        direction = "inbound" if self.inbound else "outbound"
        outcome = "answered" if connected else "missed" if finished else "ringing"
        return {
            "unique_call_id": self.id,
            "type": f"user_{direction}_{outcome}",
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "dest_number": self.dest_number,
            "user_name": self.user.name,
            "user_number": self.user.number,
            "call_start_at": iso(self.start),
            "connected_at": (
                iso(self.start + timedelta(seconds=self.wait)) if connected else None
            ),
            "call_duration": self.wait + self.talk if finished else 0,
            "conversation_duration": self.talk if finished else 0,
            "from_number": self.caller_id,
            "to_number": self.dest_number,
            "is_inbound": int(self.inbound),
            "call_finished_at": iso(self.end) if finished else None,
        }


@dataclass
class GroupCall:
    """One call to a queue or ring group."""

    id: str
    seq: int
    kind: Literal["queue", "ringgroup"]
    group: Group
    status: str
    """Final outcome: answered, abandoned or timedout."""
    start: datetime
    wait: int
    talk: int
    callerid: str
    caller_name: str | None
    agent: User | None

    @property
    def end(self) -> datetime:
        """When the call finishes."""
        return self.start + timedelta(seconds=self.wait + self.talk)

    def row(self, now: datetime) -> dict[str, object]:
        """The get-queue-calls / get-ringgroup-calls row at ``now``."""
        answered_at = self.start + timedelta(seconds=self.wait)
        connected = self.status == "answered" and now >= answered_at
        finished = now >= self.end
        return _group_row(
            call_id=self.id,
            kind=self.kind,
            group=self.group,
            callerid=self.callerid,
            caller_name=self.caller_name,
            agent=self.agent if connected else None,
            start=self.start,
            answered_at=answered_at if connected else None,
            finished_at=self.end if finished else None,
            durations=(self.wait + self.talk, self.talk) if finished else (0, 0),
            status=self.status if connected or finished else "waiting",
        )


def _group_row(
    *,
    call_id: str,
    kind: Literal["queue", "ringgroup"],
    group: Group,
    callerid: str,
    caller_name: str | None,
    agent: User | None,
    start: datetime,
    answered_at: datetime | None,
    finished_at: datetime | None,
    durations: tuple[int, int],
    status: str,
) -> dict[str, object]:
    """A get-queue-calls / get-ringgroup-calls row; ``durations`` are the call
    and conversation seconds (0 until finished).
    """
    name_key = "queue_name" if kind == "queue" else "ring_group_name"
    return {
        "unique_call_id": call_id,
        name_key: group.name,
        "callerid": callerid,
        "caller_name": caller_name,
        "dest_number": group.did,
        "inbound_number": group.did,
        "user_name": agent.name if agent else None,
        "user_number": agent.number if agent else None,
        "answered_by_user_name": agent.name if agent else None,
        "call_start_at": iso(start),
        "connected_at": iso(answered_at) if answered_at else None,
        "call_answered_at": iso(answered_at) if answered_at else None,
        "call_finished_at": iso(finished_at) if finished_at else None,
        "call_duration": durations[0],
        "conversation_duration": durations[1],
        "status": status,
    }


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@dataclass
class ModelUserLeg:
    """A user's leg of a model call, listed like :class:`UserCall`."""

    call: Call
    seq: int
    user: User
    inbound: bool
    start: datetime
    caller_id: str
    caller_name: str | None
    dest_number: str

    @property
    def id(self) -> str:
        """The model call's ID."""
        return self.call.id

    def row(self, now: datetime) -> dict[str, object]:
        """The get-user-calls row at ``now``."""
        moment = now.timestamp()
        state = self.call.state(moment)
        connected = state in (CallState.IN_CALL, CallState.ENDED)
        finished = state in (CallState.ENDED, CallState.MISSED)
        direction = "inbound" if self.inbound else "outbound"
        outcome = "answered" if connected else "missed" if finished else "ringing"
        connected_at = _moment(self.call.answered_at) if connected else None
        finished_at = _moment(self.call.ended_at) if finished else None
        total = int((finished_at - self.start).total_seconds()) if finished_at else 0
        return {
            "unique_call_id": self.call.id,
            "type": f"user_{direction}_{outcome}",
            "caller_id": self.caller_id,
            "caller_name": self.caller_name,
            "dest_number": self.dest_number,
            "user_name": self.user.name,
            "user_number": self.user.number,
            "call_start_at": iso(self.start),
            "connected_at": iso(connected_at) if connected_at else None,
            "call_duration": max(0, total),
            "conversation_duration": self.call.talk_seconds(moment) if finished else 0,
            "from_number": self.caller_id,
            "to_number": self.dest_number,
            "is_inbound": int(self.inbound),
            "call_finished_at": iso(finished_at) if finished_at else None,
        }


@dataclass
class ModelGroupCall:
    """A model call through a queue or ring group, listed like :class:`GroupCall`."""

    call: Call
    seq: int
    kind: Literal["queue", "ringgroup"]
    group: Group
    agent: User | None

    @property
    def id(self) -> str:
        """The model call's ID."""
        return self.call.id

    @property
    def start(self) -> datetime:
        """When the caller reached the group."""
        return datetime.fromtimestamp(self.call.started_at, UTC)

    def row(self, now: datetime) -> dict[str, object]:
        """The get-queue-calls / get-ringgroup-calls row at ``now``."""
        moment = now.timestamp()
        state = self.call.state(moment)
        connected = state in (CallState.IN_CALL, CallState.ENDED)
        finished = state in (CallState.ENDED, CallState.MISSED)
        if connected:
            status = "answered"
        elif finished:
            status = (
                "abandoned" if self.call.missed_reason == "abandoned" else "timedout"
            )
        else:
            status = "waiting"
        return _group_row(
            call_id=self.call.id,
            kind=self.kind,
            group=self.group,
            callerid=self.call.caller,
            caller_name=self.call.caller_name,
            agent=self.agent if connected else None,
            start=self.start,
            answered_at=_moment(self.call.answered_at) if connected else None,
            finished_at=_moment(self.call.ended_at) if finished else None,
            durations=(
                (self.call.total_seconds(moment), self.call.talk_seconds(moment))
                if finished
                else (0, 0)
            ),
            status=status,
        )


type ListedUserCall = UserCall | ModelUserLeg
type ListedGroupCall = GroupCall | ModelGroupCall
MODEL_SEQ_BASE = 1 << 40
"""Model calls sort after generated ones that start in the same instant."""


@dataclass(frozen=True)
class ClickToCall:
    """One accepted call-to-number request."""

    user_number: str
    number_to_call: str
    call_id: str
    at: datetime
    fields: dict[str, str] = field(default_factory=dict)
    """Every field the request sent (query and body)."""


@dataclass
class SystemStatus:
    """What get-system-status reports."""

    status: str = "operational"
    message: str = "All systems operational"
    components: dict[str, str] = field(
        default_factory=lambda: dict.fromkeys(COMPONENTS, "operational")
    )
    updated_at: datetime | None = None

    def as_json(self, now: datetime) -> dict[str, object]:
        """The ``data`` object of get-system-status."""
        return {
            "status": self.status,
            "message": self.message,
            "components": [
                {"name": name, "status": status}
                for name, status in self.components.items()
            ],
            "updated_at": iso(self.updated_at or now),
        }


type Params = dict[str, str]


class VoipcloudSimulator(SimulatorBase):
    """A stateful VoIPcloud integration API with a test-controlled clock.

    Constructor (all keyword): ``token``, ``whitelist`` (addresses/CIDRs or None),
    ``users`` / ``queues`` / ``ring_groups`` (seeded directory sizes), ``clock``
    (returns aware datetimes; default real UTC time), ``timezone`` (for date
    filters and business hours), ``generate``, ``calls_per_hour``,
    ``business_hours``, ``history`` (how far before the first clock reading
    generation starts), ``rate_limit``, ``rate_window``, ``company_number``,
    ``company_name``, ``seed``.

    Credentials: ``token`` and ``whitelist`` (read/write properties).
    Directory: ``users`` (list of :class:`User`), ``queues``, ``ring_groups``
    (lists of :class:`Group`), ``user(number_or_name)``, ``add_user``,
    ``add_queue``, ``add_ring_group``.
    Calls: ``user_calls``, ``queue_calls``, ``ringgroup_calls`` (all stored legs,
    future ones included), ``user_rows()``, ``queue_rows()``,
    ``ringgroup_rows()`` (what the API would list now, newest first),
    ``add_user_call``, ``add_queue_call``, ``add_ringgroup_call`` (return the
    unique_call_id), ``catch_up()`` (generate up to the clock; returns how many
    calls were added), ``now()``.
    Other: ``calls_to_number`` (accepted click-to-call requests),
    ``requests_in_window()``, ``reset_rate_limit()``, ``system_status``,
    ``set_system_status(...)``.
    """

    vendor: ClassVar[str] = "voipcloud"

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        whitelist: Iterable[str] | None = None,
        users: int = 5,
        queues: int = 2,
        ring_groups: int = 1,
        clock: Callable[[], datetime] | None = None,
        timezone: str = "Australia/Sydney",
        generate: bool = True,
        calls_per_hour: float = 30.0,
        business_hours: bool = True,
        history: timedelta = timedelta(hours=24),
        rate_limit: int = 100,
        rate_window: timedelta = timedelta(minutes=15),
        company_number: str = "61300123456",
        company_name: str = "Example Pty Ltd",
        seed: int = 1,
    ) -> None:
        super().__init__(seed=seed)
        if rate_limit < 1 or rate_window <= timedelta(0):
            msg = "rate_limit and rate_window must be positive"
            raise ValueError(msg)
        if calls_per_hour < 0:
            msg = "calls_per_hour must not be negative"
            raise ValueError(msg)
        self._token = token
        self._whitelist: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None
        self.whitelist = (
            None
            if whitelist is None
            else [whitelist]
            if isinstance(whitelist, str)
            else list(whitelist)
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        self.call_book = CallBook(
            SimClock(lambda: self._clock().timestamp()),
            lambda started: self._new_id(datetime.fromtimestamp(started, UTC)),
        )
        self.timezone = ZoneInfo(timezone)
        self.generate = generate
        self.calls_per_hour = calls_per_hour
        self.business_hours = business_hours
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.company_number = company_number
        self.company_name = company_name
        self.users: list[User] = []
        self.queues: list[Group] = []
        self.ring_groups: list[Group] = []
        self.user_calls: list[UserCall] = []
        self.queue_calls: list[GroupCall] = []
        self.ringgroup_calls: list[GroupCall] = []
        self.calls_to_number: list[ClickToCall] = []
        self.system_status = SystemStatus()
        self._ids: set[str] = set()
        self._user_names: set[str] = set()
        self._top_number = 1000
        """The highest user number yet; the next user gets the one after."""
        self._seq = 0
        self._hits: deque[datetime] = deque()
        self._gen_random = SeededRandom(seed * 1_000_003 + 17)
        for _ in range(users):
            self.add_user()
        for _ in range(queues):
            self.add_queue()
        for _ in range(ring_groups):
            self.add_ring_group()
        self.generated_until = self.now() - history
        self._next_arrival = self.generated_until + self._gap()

    @classmethod
    def from_cli(cls, options: argparse.Namespace) -> Self:
        """Build from ``python -m simulator voipcloud ...`` options."""
        return cls(
            token=getattr(options, "api_key", None) or DEFAULT_TOKEN,
            users=getattr(options, "extensions", 5),
            queues=getattr(options, "queues", 2),
            ring_groups=getattr(options, "ring_groups", 1),
            seed=getattr(options, "seed", 1),
            calls_per_hour=getattr(options, "calls_per_hour", 30.0),
            rate_limit=getattr(options, "rate_limit", None) or 100,
            clock=cli_clock(options),
        )

    # ------------------------------------------------------------ credentials

    @property
    def token(self) -> str:
        """The API key accepted in the ``token`` header."""
        return self._token

    @token.setter
    def token(self, value: str) -> None:
        self._token = value

    @property
    def whitelist(self) -> list[str] | None:
        """Allowed client networks; None allows every address."""
        if self._whitelist is None:
            return None
        return [str(network) for network in self._whitelist]

    @whitelist.setter
    def whitelist(self, value: list[str] | None) -> None:
        self._whitelist = (
            None
            if value is None
            else [ipaddress.ip_network(entry, strict=False) for entry in value]
        )

    def _allowed(self, remote: str | None) -> bool:
        if self._whitelist is None:
            return True
        try:
            address = ipaddress.ip_address(remote or "")
        except ValueError:
            return False
        return any(address in network for network in self._whitelist)

    # ---------------------------------------------------------------- clock

    def now(self) -> datetime:
        """The simulator clock, in UTC: the call model's clock, which follows
        ``clock`` until a test freezes or moves it.
        """
        return datetime.fromtimestamp(self.book.clock(), UTC)

    # ------------------------------------------------------------ directory

    def add_user(self, name: str | None = None, number: str | None = None) -> User:
        """Add a user; the first seeded one is John Smith on 1001."""
        if number is None:
            number = str(self._top_number + 1)
        if name is None:
            name = "John Smith"
            for _ in range(NAME_TRIES):
                if name not in self._user_names:
                    break
                name = (
                    f"{self.random.choice(FIRST_NAMES)} "
                    f"{self.random.choice(LAST_NAMES)}"
                )
            else:  # a large office outgrows the names: number the next one
                name = f"{name} {number}"
        user = User(name=name, number=number, did=f"6129000{number:0>4}")
        self.users.append(user)
        self._user_names.add(name)
        if number.isdigit():
            self._top_number = max(self._top_number, int(number))
        return user

    def add_queue(self, name: str | None = None) -> Group:
        """Add a queue (Sales, Support, ... when no name is given)."""
        return self._add_group(self.queues, QUEUE_NAMES, "Queue", "6129000", name)

    def add_ring_group(self, name: str | None = None) -> Group:
        """Add a ring group (Reception, ... when no name is given)."""
        return self._add_group(
            self.ring_groups, RING_GROUP_NAMES, "Ring Group", "6129001", name
        )

    @staticmethod
    def _add_group(
        groups: list[Group],
        names: tuple[str, ...],
        label: str,
        prefix: str,
        name: str | None,
    ) -> Group:
        index = len(groups)
        if name is None:
            name = names[index] if index < len(names) else f"{label} {index + 1}"
        group = Group(name=name, did=f"{prefix}{500 + index:04d}")
        groups.append(group)
        return group

    def user(self, key: str) -> User:
        """A user by number or name (KeyError when unknown)."""
        for user in self.users:
            if key in (user.number, user.name):
                return user
        raise KeyError(key)

    @staticmethod
    def _group(groups: list[Group], name: str) -> Group:
        for group in groups:
            if group.name == name:
                return group
        raise KeyError(name)

    # ---------------------------------------------------------------- calls

    def _new_id(self, start: datetime) -> str:
        candidate = int(start.timestamp()) * 100
        while str(candidate) in self._ids:
            candidate += 1
        self._ids.add(str(candidate))
        return str(candidate)

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add_user_call(
        self,
        user_number: str,
        *,
        inbound: bool = True,
        answered: bool = True,
        start: datetime | None = None,
        wait: int = 5,
        talk: int = 60,
        caller: str = "61412345678",
        caller_name: str | None = None,
        dest_number: str | None = None,
        call_id: str | None = None,
    ) -> str:
        """Record a user's own call and return its unique_call_id.

        ``caller`` is the outside party: the caller of an inbound call, the
        number dialled by an outbound one. ``talk`` is ignored when not answered.
        """
        user = self.user(user_number)
        moment = (start or self.now()).astimezone(UTC)
        if inbound:
            caller_id, name, dest = caller, caller_name, dest_number or user.did
        else:
            caller_id = self.company_number
            name = caller_name or self.company_name
            dest = dest_number or caller
        call = UserCall(
            id=call_id or self._new_id(moment),
            seq=self._next_seq(),
            user=user,
            inbound=inbound,
            answered=answered,
            start=moment,
            wait=max(0, wait),
            talk=max(0, talk) if answered else 0,
            caller_id=caller_id,
            caller_name=name,
            dest_number=dest,
        )
        self.user_calls.append(call)
        return call.id

    def add_queue_call(
        self,
        queue_name: str,
        *,
        status: str = "answered",
        start: datetime | None = None,
        wait: int = 20,
        talk: int = 120,
        caller: str = "61412345678",
        caller_name: str | None = None,
        answered_by: str | None = None,
    ) -> str:
        """Record a queue call (and the agent's user row when answered)."""
        group = self._group(self.queues, queue_name)
        return self._add_group_call(
            "queue", group, status, start, wait, talk, caller, caller_name, answered_by
        )

    def add_ringgroup_call(
        self,
        ring_group_name: str,
        *,
        status: str = "answered",
        start: datetime | None = None,
        wait: int = 10,
        talk: int = 120,
        caller: str = "61412345678",
        caller_name: str | None = None,
        answered_by: str | None = None,
    ) -> str:
        """Record a ring-group call (and the agent's user row when answered)."""
        group = self._group(self.ring_groups, ring_group_name)
        return self._add_group_call(
            "ringgroup",
            group,
            status,
            start,
            wait,
            talk,
            caller,
            caller_name,
            answered_by,
        )

    def _add_group_call(
        self,
        kind: Literal["queue", "ringgroup"],
        group: Group,
        status: str,
        start: datetime | None,
        wait: int,
        talk: int,
        caller: str,
        caller_name: str | None,
        answered_by: str | None,
    ) -> str:
        """Store a group call; ``answered_by`` is a user name or number."""
        if status not in GROUP_STATUSES:
            msg = f"status must be one of {', '.join(GROUP_STATUSES)}"
            raise ValueError(msg)
        answered = status == "answered"
        if answered_by is not None and not answered:
            msg = "only an answered call has an agent"
            raise ValueError(msg)
        agent: User | None = None
        if answered:
            if not self.users:
                msg = "an answered call needs a user to answer it"
                raise ValueError(msg)
            agent = self.user(answered_by) if answered_by else self.users[0]
        moment = (start or self.now()).astimezone(UTC)
        wait, talk = max(0, wait), max(0, talk) if answered else 0
        call = GroupCall(
            id=self._new_id(moment),
            seq=self._next_seq(),
            kind=kind,
            group=group,
            status=status,
            start=moment,
            wait=wait,
            talk=talk,
            callerid=caller,
            caller_name=caller_name,
            agent=agent,
        )
        (self.queue_calls if kind == "queue" else self.ringgroup_calls).append(call)
        if agent is not None:
            ring = min(wait, AGENT_RING_SECONDS)
            self.add_user_call(
                agent.number,
                inbound=True,
                answered=True,
                start=moment + timedelta(seconds=wait - ring),
                wait=ring,
                talk=talk,
                caller=caller,
                caller_name=caller_name,
                dest_number=group.did,
                call_id=call.id,
            )
        return call.id

    def local_extensions(self, scope: str | None) -> set[str]:
        """The user numbers: what a control-started call rings or comes from."""
        return {user.number for user in self.users}

    def group_number(self, group: str, scope: str | None) -> str:
        """The DID of queue or ring group ``group``."""
        for candidate in (*self.queues, *self.ring_groups):
            if candidate.name == group:
                return candidate.did
        msg = f"no queue or ring group {group!r}"
        raise ControlError(msg)

    def _model_user_legs(self) -> list[ModelUserLeg]:
        """Every user leg of the model's calls (future ones included)."""
        legs: list[ModelUserLeg] = []
        for index, call in enumerate(self.book):
            for user, inbound, start in self._legs_of(call):
                if inbound:
                    caller_id, caller_name = call.caller, call.caller_name
                    dest = (
                        self.group_number(call.group, None) if call.group else user.did
                    )
                else:
                    caller_id, caller_name = self.company_number, self.company_name
                    dest = call.callee
                legs.append(
                    ModelUserLeg(
                        call=call,
                        seq=MODEL_SEQ_BASE + index,
                        user=user,
                        inbound=inbound,
                        start=start,
                        caller_id=caller_id,
                        caller_name=caller_name,
                        dest_number=dest,
                    )
                )
        return legs

    def _legs_of(self, call: Call) -> list[tuple[User, bool, datetime]]:
        """The users in a model call: (user, inbound, when their leg starts).
        A group call's agent rings from ``AGENT_RING_SECONDS`` before the answer.
        """
        start = datetime.fromtimestamp(call.started_at, UTC)
        if call.group is not None:
            agent = self._known_user(call.callee_extension)
            if agent is None or call.answered_at is None:
                return []
            ring = min(AGENT_RING_SECONDS, call.answered_at - call.started_at)
            return [(agent, True, datetime.fromtimestamp(call.answered_at - ring, UTC))]
        legs: list[tuple[User, bool, datetime]] = []
        if (caller := self._known_user(call.caller_extension)) is not None:
            legs.append((caller, False, start))
        if (callee := self._known_user(call.callee_extension)) is not None:
            legs.append((callee, True, start))
        return legs

    def _model_group_calls(
        self, kind: Literal["queue", "ringgroup"]
    ) -> list[ModelGroupCall]:
        """The model's calls through a queue (or a ring group)."""
        groups = {
            g.name: g for g in (self.queues if kind == "queue" else self.ring_groups)
        }
        return [
            ModelGroupCall(
                call=call,
                seq=MODEL_SEQ_BASE + index,
                kind=kind,
                group=groups[call.group],
                agent=self._known_user(call.callee_extension),
            )
            for index, call in enumerate(self.book)
            if call.group in groups
        ]

    def _known_user(self, number: str | None) -> User | None:
        return next((u for u in self.users if u.number == number), None)

    def listed_user_calls(self) -> list[ListedUserCall]:
        """Generated user calls and the model's user legs."""
        return [*self.user_calls, *self._model_user_legs()]

    def listed_group_calls(
        self, kind: Literal["queue", "ringgroup"]
    ) -> list[ListedGroupCall]:
        """Generated and model calls of queues (or ring groups)."""
        generated = self.queue_calls if kind == "queue" else self.ringgroup_calls
        return [*generated, *self._model_group_calls(kind)]

    def _visible(
        self,
        calls: Iterable[ListedUserCall | ListedGroupCall],
        now: datetime,
        page: slice = EVERY_ROW,
    ) -> list[dict[str, object]]:
        """Rows newest first; only the ``page`` asked for is rendered."""
        shown = sorted(
            (call for call in calls if call.start <= now),
            key=lambda call: (call.start, call.seq),
            reverse=True,
        )
        return [call.row(now) for call in shown[page]]

    def user_rows(self) -> list[dict[str, object]]:
        """Every get-user-calls row visible now, newest first."""
        self.catch_up()
        return self._visible(self.listed_user_calls(), self.now())

    def queue_rows(self) -> list[dict[str, object]]:
        """Every get-queue-calls row visible now, newest first."""
        self.catch_up()
        return self._visible(self.listed_group_calls("queue"), self.now())

    def ringgroup_rows(self) -> list[dict[str, object]]:
        """Every get-ringgroup-calls row visible now, newest first."""
        self.catch_up()
        return self._visible(self.listed_group_calls("ringgroup"), self.now())

    # ----------------------------------------------------------- generation

    def _gap(self) -> timedelta:
        """Time to the next candidate arrival (an infinite gap at rate 0)."""
        if self.calls_per_hour <= 0:
            return timedelta(days=36500)
        return timedelta(
            seconds=self._gen_random.expovariate(self.calls_per_hour / 3600)
        )

    def _weight(self, moment: datetime) -> float:
        if not self.business_hours:
            return 1.0
        local = moment.astimezone(self.timezone)
        busy = local.weekday() < 5 and 8 <= local.hour < 18
        return 1.0 if busy else 0.1

    def catch_up(self) -> int:
        """Generate the calls that started since the last run; how many were."""
        now = self.now()
        added = 0
        if self.generate:
            while self._next_arrival <= now:
                moment = self._next_arrival
                if self._gen_random.random() < self._weight(moment):
                    added += self._random_call(moment)
                self._next_arrival = moment + self._gap()
        self.generated_until = max(self.generated_until, now)
        return added

    def _outside_number(self) -> str:
        rng = self._gen_random
        prefix = rng.choice(("614", "614", "612", "613", "617", "618"))
        return prefix + "".join(str(rng.randint(0, 9)) for _ in range(8))

    def _outside_name(self) -> str | None:
        rng = self._gen_random
        if rng.random() < 0.5:
            return None
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    @staticmethod
    def _talk(rng: SeededRandom) -> int:
        """A talk time in seconds: log-normal around 2.5 minutes."""
        return int(min(3600, max(10, rng.lognormvariate(5.0, 0.8))))

    def _random_call(self, start: datetime) -> int:
        """Create one random call starting at ``start``; 1 if one was made."""
        rng = self._gen_random
        kinds: list[str] = []
        weights: list[int] = []
        for kind, weight, usable in (
            ("queue", 40, self.queues and self.users),
            ("ringgroup", 20, self.ring_groups and self.users),
            ("inbound", 20, self.users),
            ("outbound", 20, self.users),
        ):
            if usable:
                kinds.append(kind)
                weights.append(weight)
        if not kinds:
            return 0
        kind = rng.choices(kinds, weights)[0]
        caller, name = self._outside_number(), self._outside_name()
        if kind in ("queue", "ringgroup"):
            status = rng.choices(GROUP_STATUSES, (75, 18, 7))[0]
            timeout = 180 if kind == "queue" else 60
            wait = {
                "answered": rng.randint(3, 90 if kind == "queue" else 25),
                "abandoned": rng.randint(5, timeout - 1),
                "timedout": timeout,
            }[status]
            groups = self.queues if kind == "queue" else self.ring_groups
            group = rng.choice(groups)
            agent = rng.choice(self.users).number if status == "answered" else None
            self._add_group_call(
                "queue" if kind == "queue" else "ringgroup",
                group,
                status,
                start,
                wait,
                self._talk(rng),
                caller,
                name,
                agent,
            )
            return 1
        user = rng.choice(self.users)
        inbound = kind == "inbound"
        answered = rng.random() < (0.7 if inbound else 0.65)
        self.add_user_call(
            user.number,
            inbound=inbound,
            answered=answered,
            start=start,
            wait=rng.randint(3, 20) if answered else rng.randint(10, 40),
            talk=self._talk(rng),
            caller=caller,
            caller_name=name if inbound else None,
        )
        return 1

    # ---------------------------------------------------------- rate limit

    def _prune(self, now: datetime) -> None:
        while self._hits and self._hits[0] <= now - self.rate_window:
            self._hits.popleft()

    def requests_in_window(self) -> int:
        """Counted requests still inside the rate-limit window."""
        self._prune(self.now())
        return len(self._hits)

    def reset_rate_limit(self) -> None:
        """Forget every counted request."""
        self._hits.clear()

    def _take_slot(self, now: datetime) -> None:
        self._prune(now)
        if len(self._hits) >= self.rate_limit:
            free_at = self._hits[0] + self.rate_window
            retry = max(1, math.ceil((free_at - now).total_seconds()))
            raise ApiError(429, MSG_RATE, {"Retry-After": str(retry)})
        self._hits.append(now)

    # -------------------------------------------------------- system status

    def set_system_status(
        self,
        status: str = "operational",
        message: str | None = None,
        components: Mapping[str, str] | None = None,
    ) -> None:
        """Change what get-system-status reports (stamped with the clock)."""
        self.system_status.status = status
        self.system_status.message = message or (
            "All systems operational"
            if status == "operational"
            else f"Service status: {status}"
        )
        if components is not None:
            self.system_status.components = dict(components)
        self.system_status.updated_at = self.now()

    # ------------------------------------------------------------------ HTTP

    async def action_name(self, request: web.Request) -> str | None:
        """The endpoint name, the same for v1 and v2."""
        match = API_PATH.match(request.path)
        if match is None:
            return f"{request.method} {request.path}"
        return match["endpoint"]

    @staticmethod
    def _envelope(
        code: int,
        message: str,
        data: object = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        body = {
            "status": "success" if code == 200 else "error",
            "message": message,
            "code": code,
            "data": data,
        }
        return web.json_response(body, status=code, headers=headers)

    def auth_revoked_response(self) -> web.Response:
        """A revoked key reads as a wrong token."""
        return self._envelope(401, MSG_BAD_KEY)

    def forbidden_response(self, action: str | None) -> web.Response:
        """A 403 in the API's envelope."""
        return self._envelope(403, MSG_FORBIDDEN)

    def rate_limit_response(self) -> web.Response:
        """The 429 envelope the rate limiter sends, without its header."""
        return self._envelope(429, MSG_RATE)

    def _authenticate(self, request: web.Request) -> None:
        supplied = request.headers.get("token", "")
        if not supplied:
            retired = "api_key" in request.query or "token" in request.query
            raise ApiError(401, MSG_RETIRED_PARAM if retired else MSG_MISSING_KEY)
        if supplied != self._token:
            raise ApiError(401, MSG_BAD_KEY)
        if not self._allowed(request.remote):
            raise ApiError(401, MSG_IP.format(ip=request.remote or "unknown"))

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request, turning ApiError into an error envelope."""
        self.catch_up()
        try:
            data = await self._answer(request)
        except ApiError as err:
            return self._envelope(err.code, err.message, headers=err.headers)
        return self._envelope(200, MSG_OK, data)

    async def _answer(self, request: web.Request) -> object:
        """Route, authenticate, rate-limit, then run the endpoint."""
        match = API_PATH.match(request.path)
        if match is None:
            raise ApiError(404, MSG_NOT_FOUND)
        self._authenticate(request)
        now = self.now()
        self._take_slot(now)
        endpoint = match["endpoint"]
        method = ENDPOINT_METHODS.get(endpoint)
        if method is None:
            raise ApiError(404, MSG_NOT_FOUND)
        if request.method != method:
            raise ApiError(405, "Method not allowed")
        return await self._dispatch(endpoint, request, now)

    async def _dispatch(
        self, endpoint: str, request: web.Request, now: datetime
    ) -> object:
        if endpoint == "call-to-number":
            return self._call_to_number(await self._body(request), now)
        if endpoint == "get-system-status":
            return self.system_status.as_json(now)
        return self._list(endpoint, dict(request.query), now)

    @staticmethod
    async def _body(request: web.Request) -> Params:
        """Query string, overridden by a JSON object or form body."""
        params: Params = dict(request.query)
        if request.content_type == "application/json":
            try:
                payload = json.loads(await request.text() or "{}")
            except ValueError:
                raise ApiError(400, "Malformed JSON body") from None
            if not isinstance(payload, dict):
                raise ApiError(400, "The JSON body must be an object")
            params.update(
                {
                    str(key): str(value)
                    for key, value in payload.items()
                    if isinstance(value, str | int) and not isinstance(value, bool)
                }
            )
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    # ------------------------------------------------------------ endpoints

    def _call_to_number(self, params: Params, now: datetime) -> object:
        user_number = params.get("user_number") or params.get("user") or ""
        number = params.get("number_to_call", "")
        if not user_number:
            raise ApiError(400, "The user_number field is required")
        if not number:
            raise ApiError(400, "The number_to_call field is required")
        if not PHONE_NUMBER.match(number):
            raise ApiError(400, "The number_to_call format is invalid")
        user = next((u for u in self.users if u.number == user_number), None)
        if user is None:
            raise ApiError(404, "User not found")
        answered = self.random.random() < 0.8
        call_id = self.add_user_call(
            user.number,
            inbound=False,
            answered=answered,
            start=now,
            wait=self.random.randint(4, 15),
            talk=self._talk(self.random) if answered else 0,
            caller=number,
            caller_name=params.get("user_name") or None,
        )
        self.calls_to_number.append(
            ClickToCall(
                user_number=user.number,
                number_to_call=number,
                call_id=call_id,
                at=now,
                fields=dict(params),
            )
        )
        return {
            "call_id": call_id,
            "user": user.number,
            "number_to_call": number,
            "status": "initiated",
        }

    def _int_param(
        self, params: Params, name: str, default: int, low: int, high: int
    ) -> int:
        raw = params.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"The {name} must be an integer") from None
        if not low <= value <= high:
            raise ApiError(400, f"The {name} must be between {low} and {high}")
        return value

    def _day_start(self, params: Params, name: str) -> datetime | None:
        raw = params.get(name, "").strip()
        if not raw:
            return None
        message = f"The {name} does not match the format Y-m-d"
        if not DATE_FORMAT.match(raw):
            raise ApiError(400, message)
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ApiError(400, message) from None
        return datetime(day.year, day.month, day.day, tzinfo=self.timezone)

    def _list(self, endpoint: str, params: Params, now: datetime) -> object:
        limit = self._int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = self._int_param(params, "offset", 0, 0, 2**31 - 1)
        sort_by = params.get("sort_by", "").strip()
        if sort_by and sort_by != "newest_first":
            raise ApiError(400, "The selected sort_by is invalid")
        since = self._day_start(params, "from_date")
        until = self._day_start(params, "to_date")
        calls: list[ListedUserCall] | list[ListedGroupCall]
        if endpoint == "get-user-calls":
            calls, names_key = self.listed_user_calls(), "users_names"
        elif endpoint == "get-queue-calls":
            calls, names_key = self.listed_group_calls("queue"), "queues_names"
        else:
            calls, names_key = self.listed_group_calls("ringgroup"), "ringgroups_names"
        names = {n.strip() for n in params.get(names_key, "").split(",") if n.strip()}
        wanted_id = params.get("unique_call_id", "").strip()
        selected = [
            call
            for call in calls
            if (since is None or call.start >= since)
            and (until is None or call.start < until + timedelta(days=1))
            and (not wanted_id or call.id == wanted_id)
            and (
                not names
                or (
                    call.user.name
                    if isinstance(call, UserCall | ModelUserLeg)
                    else call.group.name
                )
                in names
            )
        ]
        return self._visible(selected, now, slice(offset, offset + limit))

    # ------------------------------------------------------------- reporting

    def banner(self) -> list[str]:
        """URL, token and directory, for the command line."""
        return [
            *super().banner(),
            f"API base: {self.url}/api/integration/v1/",
            f"Token (HTTP header 'token'): {self._token}",
            f"Whitelist: {', '.join(self.whitelist) if self.whitelist else 'any IP'}",
            "Users: " + ", ".join(f"{u.name} ({u.number})" for u in self.users),
            "Queues: " + ", ".join(g.name for g in self.queues),
            "Ring groups: " + ", ".join(g.name for g in self.ring_groups),
            f"Rate limit: {self.rate_limit} requests per {self.rate_window}",
        ]

    def describe(self) -> dict[str, object]:
        """Directory, call counts and rate-limit use for ``GET /_sim/state``."""
        return {
            "now": iso(self.now()),
            "users": [{"name": u.name, "number": u.number} for u in self.users],
            "queues": [g.name for g in self.queues],
            "ring_groups": [g.name for g in self.ring_groups],
            "user_calls": len(self.user_calls),
            "queue_calls": len(self.queue_calls),
            "ringgroup_calls": len(self.ringgroup_calls),
            "calls_to_number": len(self.calls_to_number),
            "requests_in_window": self.requests_in_window(),
            "rate_limit": self.rate_limit,
            "system_status": self.system_status.status,
        }

"""Fake Tariscope 4.6 API server, written from the vendor's API guide.

Tariscope is a call-accounting system (an ASP.NET web application, default port
8085). An API user logs in with ``POST /api/auth`` and JSON ``{"username",
"password"}`` and gets ``{"token": "<JWT>"}``: HS256, valid 6 h, bound to the IP
address the login came from. Every other method needs ``Authorization: Bearer
<token>``, and each API user is granted methods one by one ("Method Rights").
JSON is the default format; a ``/xml`` (or ``/json``) path segment before the query
string picks the format (``/api/auth/xml``, ``/api/subscriber/get/xml/?id=1234``).

Paths (``SEEN`` = given by the vendor guide or the research notes). Every path is
matched case-insensitively, with or without a trailing slash:

==========================  ====  ==========================================  =======
method (right name)         HTTP  path and parameters                         source
==========================  ====  ==========================================  =======
api.auth                    POST  /api/auth  JSON {"username","password"}     SEEN
subscriber.get              GET   /api/subscriber/get/?id= | ?email=          SEEN
subscriber.list.department  GET   /api/subscriber/list/department/?id=        assumed
subscriber.list.node        GET   /api/subscriber/list/node/?id=              assumed
accounts.summary            GET   /api/accounts.summary/?id=&year=&month=&day SEEN
accounts.charges            GET   /api/accounts/charges/?id=&fromdate=&todate SEEN
accounts.payments           GET   /api/accounts/payments/?id=&fromdate=&...   assumed
accounts.payment            POST  /api/accounts/payment/ (id, paymentday,     assumed
                                  payment, paymenttype 0-3, bank)
tariscope.version           GET   /api/tariscope/version/                     assumed
tariscope.database          GET   /api/tariscope/database/                    assumed
tariscope.build             GET   /api/tariscope/build/                       assumed
tariscope.serial            GET   /api/tariscope/serial/                      assumed
tariscope.edition           GET   /api/tariscope/edition/                     assumed
tariscope.summary           GET   /api/tariscope/summary/                     assumed
sql                         any   /api/sql/  (always refused, calls counted)  assumed
==========================  ====  ==========================================  =======

Status codes and bodies (all errors are ``{"error": code, "message": text}``):

* 200: the result. Objects for single items, JSON arrays for lists (``[]`` when
  empty). Content type ``application/json; charset=utf-8``.
* 400 ``bad_request``: missing or malformed parameter; the body also has
  ``"parameter"``. Bad JSON body on ``/api/auth`` is 400 as well.
* 401 ``invalid_credentials`` from ``/api/auth`` for a wrong username or password.
* 401 ``unauthorized`` from every other method for a missing, malformed, badly
  signed, revoked or expired token, a token of a deleted user, or a token used from
  another IP than it was issued to. The response carries ``WWW-Authenticate:
  Bearer error="invalid_token", error_description="..."`` (ASP.NET JwtBearer style).
* 403 ``forbidden`` with ``"method": "<name>"`` when the user has no right to the
  method, and always for ``sql``.
* 404 ``not_found`` for an unknown path, subscriber, department or node.
* 405 ``method_not_allowed`` for the wrong HTTP method on a known path.

Assumptions (the documents are silent on these):

* JWT payload: ``sub`` (username), ``jti``, ``ip`` (bound client IP), ``iss``
  ("Tariscope"), ``iat`` and ``exp`` (Unix seconds). ``include_exp=False`` leaves
  ``exp`` out; the server still expires the token ``token_lifetime`` after ``iat``.
  The server also keeps a registry of issued tokens so that tests can revoke them.
* Checks run in this order: path (404), HTTP method (405), token (401), right
  (403), parameters (400), lookup (404).
* ``subscriber.get`` answers exactly the documented fields. ``id`` wins over
  ``email`` when both are given; ``email`` matches case-insensitively.
  ``contractdate`` and ``birthday`` are .NET style ``YYYY-MM-DDT00:00:00``;
  ``ispublic`` is a boolean, ``abonenttype``/``gender``/``deliverytype`` integers,
  ``privilegediscount`` a number, ``accountId`` an integer; the rest are strings.
* ``subscriber.list.department`` / ``subscriber.list.node`` take the group or node
  ID in ``id`` and answer an array of objects shaped like ``subscriber.get``.
  There is no method to list departments or nodes; IDs start at 1.
* Money: JSON numbers with exactly two decimals (``12.50``, .NET ``decimal``), in
  the system currency, which the API never names (seeded values are UAH-sized).
  Debt is positive when the subscriber owes money.
* ``accounts.summary``: ``id`` is required. No ``year``/``month``: the current month
  (per the clock). ``year`` and ``month`` go together; with ``day`` the period runs
  from the 1st of the month up to and including that day. ``start_debt`` is the
  debt at the start of the period, ``end_debt = start_debt + charge - payment``,
  ``date`` is the first day of the period. Amounts of a future period are zero.
* ``accounts.charges``: ``id``, ``fromdate`` and ``todate`` are required; dates are
  ISO (``YYYY-MM-DD``, a date-only ``todate`` includes that whole day, or a full
  ISO date-time). Each charge: ``id``, ``recdate`` (when recorded), ``fromdate`` /
  ``todate`` (the service interval: call start and start + duration),
  ``servicename``, ``charge``, ``numberofservices``. The dialled number of a call
  charge is kept by the simulator but is not in the documented fields.
* ``accounts.payments``: only ``id`` is required; ``fromdate``/``todate``/
  ``paymentid`` filter. ``accounts.payment`` takes its parameters from the query
  string, a form body or a JSON object body and answers the new payment in the
  ``accounts.payments`` shape. ``paymentday`` defaults to now.
* The ``tariscope.*`` methods answer one-key objects (``{"version": "4.6.x"}``,
  ``{"database": ...}``, ``{"build": "YYYY-MM-DD"}``, ``{"serial": ...}``,
  ``{"edition": ...}``); ``tariscope.summary`` combines them with counts.
* XML: root ``<response>``, one child element per key, list items as ``<item>``.
* Seeded data: subscriber IDs from 2921 (so the guide's example 2928 exists),
  round-robin over departments (default 3) and nodes (default 2), an opening debt,
  then for the three previous months and the current one up to the clock: a
  150.00 "Subscription fee" on the 1st, 3-7 call charges (Local / Long-distance /
  Mobile / International calls, priced per started minute) and, from the second
  month on, one payment of about 90 % of the debt.
* All times are UTC and shown without an offset. subscriber.update/create/dnadd,
  tariffs.*, services.list and claims are not simulated (404).
* Simulated IP change: after :meth:`TariscopeSimulator.simulate_ip_change` every
  client address is seen as a fresh address in 10.0.0.0/8, so tokens issued before
  are bound to an address the client no longer has.
"""

from __future__ import annotations

import argparse
import base64
import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from typing import ClassVar, Self
from xml.etree import ElementTree as ET

from aiohttp import web

from .core import SimulatorBase, cli_clock

DEFAULT_USERNAME = "api"
DEFAULT_PASSWORD = "sim-tariscope-password"  # noqa: S105 - a documented test password
DEFAULT_LIFETIME = timedelta(hours=6)
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
XML_CONTENT_TYPE = "application/xml; charset=utf-8"
CENT = Decimal("0.01")
HISTORY_MONTHS = 3
"""Seeded account history: this many whole months before the current one."""

METHODS = (
    "subscriber.get",
    "subscriber.list.department",
    "subscriber.list.node",
    "accounts.summary",
    "accounts.charges",
    "accounts.payments",
    "accounts.payment",
    "tariscope.version",
    "tariscope.database",
    "tariscope.build",
    "tariscope.serial",
    "tariscope.edition",
    "tariscope.summary",
    "sql",
)
"""Every simulated method that needs a right (``api.auth`` needs none)."""

FIRST_NAMES = (
    "Olena", "Andrii", "Iryna", "Taras", "Natalia", "Dmytro", "Oksana", "Serhii",
    "Maria", "Oleksandr", "Yulia", "Bohdan", "Kateryna", "Ivan", "Sofia", "Petro",
)  # fmt: skip
LAST_NAMES = (
    "Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk",
    "Oliinyk", "Lysenko", "Marchenko", "Savchenko", "Rudenko", "Moroz",
)  # fmt: skip
DEPARTMENT_NAMES = ("Sales", "Support", "Finance", "Logistics", "Management", "IT")
NODE_NAMES = ("Head office PBX", "Branch PBX", "Warehouse PBX", "Call centre PBX")
STREETS = ("Khreshchatyk", "Sumska", "Shevchenka", "Franka", "Soborna")
# servicename, price per minute
CALL_SERVICES = (
    ("Local calls", Decimal("0.40")),
    ("Long-distance calls", Decimal("1.20")),
    ("Mobile calls", Decimal("1.80")),
    ("International calls", Decimal("6.50")),
)
MONTHLY_FEE = ("Subscription fee", Decimal("150.00"))

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
POSITIVE_INT = re.compile(r"^[1-9]\d{0,9}$")


class ApiError(Exception):
    """A request the API refuses with ``{"error": code, "message": text}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        extra: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        """The JSON error body."""
        return {"error": self.code, "message": self.message, **self.extra}


def bad_request(parameter: str, message: str | None = None) -> ApiError:
    """400 for a missing or malformed parameter."""
    return ApiError(
        400,
        "bad_request",
        message or f"Invalid or missing parameter '{parameter}'",
        extra={"parameter": parameter},
    )


def not_found(message: str) -> ApiError:
    """404 for an unknown path or object."""
    return ApiError(404, "not_found", message)


def unauthorized(description: str) -> ApiError:
    """401 for a request whose token is missing or not valid."""
    challenge = (
        f'Bearer error="invalid_token", error_description="{description}"'
        if description != "No token"
        else "Bearer"
    )
    return ApiError(
        401,
        "unauthorized",
        f"Unauthorized: {description}",
        headers={"WWW-Authenticate": challenge},
    )


def money(value: Decimal | float | str) -> Decimal:
    """A money amount rounded to cents."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def dotnet_time(when: datetime | date) -> str:
    """A time as .NET serialises a ``DateTime``: ISO, seconds, no offset."""
    if isinstance(when, datetime):
        return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    return f"{when.isoformat()}T00:00:00"


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Inverse of :func:`b64url` (ValueError when malformed)."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        msg = "not base64url"
        raise ValueError(msg)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_json(data: object) -> str:
    """JSON with every :class:`Decimal` written with two decimals (``12.50``)."""
    numbers: list[str] = []

    def mark(value: object) -> object:
        if isinstance(value, Decimal):
            numbers.append(f"{value:.2f}")
            return f"\x00{len(numbers) - 1}\x00"
        if isinstance(value, dict):
            return {key: mark(item) for key, item in value.items()}
        if isinstance(value, list):
            return [mark(item) for item in value]
        return value

    text = json.dumps(mark(data), ensure_ascii=False)
    return re.sub(r'"\\u0000(\d+)\\u0000"', lambda m: numbers[int(m[1])], text)


def encode_xml(data: object) -> str:
    """The XML form of a result: ``<response>``, a child per key, ``<item>`` rows."""

    def fill(element: ET.Element, value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                fill(ET.SubElement(element, str(key)), item)
        elif isinstance(value, list):
            for item in value:
                fill(ET.SubElement(element, "item"), item)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        elif isinstance(value, Decimal):
            element.text = f"{value:.2f}"
        elif value is not None:
            element.text = str(value)

    root = ET.Element("response")
    fill(root, data)
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(
        root, encoding="unicode"
    )


@dataclass
class Charge:
    """One charge on a subscriber's account (a call or a periodic fee)."""

    id: int
    when: datetime
    amount: Decimal
    description: str
    number: str = ""
    """Dialled number of a call charge (not in the documented API fields)."""
    duration: int = 0
    """Seconds; the service interval is ``when`` .. ``when + duration``."""
    count: int = 1
    """``numberofservices``."""

    def as_json(self) -> dict[str, object]:
        """The entry of accounts.charges."""
        return {
            "id": self.id,
            "recdate": dotnet_time(self.when),
            "fromdate": dotnet_time(self.when),
            "todate": dotnet_time(self.when + timedelta(seconds=self.duration)),
            "servicename": self.description,
            "charge": self.amount,
            "numberofservices": self.count,
        }


@dataclass
class Payment:
    """One payment into a subscriber's account."""

    id: int
    subscriber_id: int
    when: datetime
    amount: Decimal
    payment_type: int = 0
    """0-3, as accounts.payment's ``paymenttype``."""
    bank: str = ""

    def as_json(self) -> dict[str, object]:
        """The entry of accounts.payments."""
        return {
            "subscriberid": self.subscriber_id,
            "paymentid": self.id,
            "paymentday": dotnet_time(self.when),
            "payment": self.amount,
        }


@dataclass(frozen=True)
class AccountSummary:
    """What accounts.summary reports for one period."""

    start: datetime
    end: datetime
    start_debt: Decimal
    charge: Decimal
    payment: Decimal

    @property
    def end_debt(self) -> Decimal:
        """Debt at the end of the period."""
        return self.start_debt + self.charge - self.payment

    def as_json(self) -> dict[str, object]:
        """The accounts.summary object."""
        return {
            "start_debt": self.start_debt,
            "end_debt": self.end_debt,
            "charge": self.charge,
            "payment": self.payment,
            "date": dotnet_time(self.start),
        }


@dataclass
class Department:
    """A subscriber group."""

    id: int
    name: str


@dataclass
class Node:
    """A communication node (a PBX whose calls Tariscope rates)."""

    id: int
    name: str


@dataclass
class Subscriber:
    """A subscriber, the account it owns and its account history."""

    id: int
    fullname: str
    email: str
    department_id: int
    node_id: int
    account_id: int
    dn: str = ""
    """Telephone number on the node (not in the documented fields)."""
    opening_debt: Decimal = Decimal("0.00")
    """Debt before the first charge and payment the simulator knows of."""
    charges: list[Charge] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    profile: dict[str, object] = field(default_factory=dict)
    """The other documented subscriber.get fields (street, House, taxcode ...)."""

    def as_json(self) -> dict[str, object]:
        """The subscriber.get object, fields in the documented order."""
        data: dict[str, object] = {
            "id": self.id,
            "fullname": self.fullname,
            "street": "",
            "House": "",
            "Flat": "",
            "email": self.email,
            "description": "",
            "authcode": "",
            "ispublic": True,
            "abonenttype": 0,
            "code": "",
            "zipcode": "",
            "personalcode": "",
            "contractid": "",
            "information": "",
            "privilegeinfo": "",
            "area": "",
            "contractdate": None,
            "building": "",
            "floornumber": "",
            "accountId": self.account_id,
            "gender": 0,
            "birthday": None,
            "bankaccount": "",
            "bankmfo": "",
            "taxcode": "",
            "deliverytype": 0,
            "privilegediscount": Decimal("0.00"),
        }
        for key, value in self.profile.items():
            if key in data and key not in ("id", "fullname", "email", "accountId"):
                data[key] = value
        return data

    def debt_at(self, when: datetime) -> Decimal:
        """Debt just before ``when``."""
        charged = sum((c.amount for c in self.charges if c.when < when), Decimal(0))
        paid = sum((p.amount for p in self.payments if p.when < when), Decimal(0))
        return self.opening_debt + charged - paid


@dataclass
class IssuedToken:
    """Server-side record of a token handed out by api.auth."""

    jti: str
    username: str
    ip: str
    issued: datetime
    expires: datetime
    revoked: bool = False


@dataclass(frozen=True)
class Route:
    """A documented method: its right name, HTTP methods and handler."""

    name: str
    http: frozenset[str]
    handler: Callable[[Mapping[str, str]], object]


def month_start(year: int, month: int) -> datetime:
    """Midnight UTC on the 1st of a month."""
    return datetime(year, month, 1, tzinfo=UTC)


def add_months(start: datetime, months: int) -> datetime:
    """The 1st of the month ``months`` after (or before) ``start``'s month."""
    index = start.year * 12 + start.month - 1 + months
    return month_start(index // 12, index % 12 + 1)


class TariscopeSimulator(SimulatorBase):
    """A stateful Tariscope 4.6 API with JWT auth, IP binding and method rights.

    Constructor (keyword only)::

        TariscopeSimulator(subscribers=10, departments=3, nodes=2, users=None,
                           rights=None, clock=None, token_lifetime=6 h,
                           include_exp=True, edition="Enterprise", secret=None,
                           seed=1)

    ``users`` maps username to password (default ``{"api":
    "sim-tariscope-password"}``); ``rights`` maps a username to the method names it
    may call (a user not in it, or ``rights=None``, may call every method).
    ``clock`` returns an aware UTC ``datetime`` (default: now); tokens, "the current
    month" and ``paymentday`` defaults follow it, so tests move time by changing it.

    Attributes and properties: ``username``/``password`` (the first user),
    ``users``, ``rights``, ``subscribers`` (id -> :class:`Subscriber`),
    ``departments``, ``nodes``, ``tokens`` (jti -> :class:`IssuedToken`),
    ``tokens_issued``, ``sql_calls``, ``token_lifetime``, ``include_exp``,
    ``version``, ``database_version``, ``build``, ``serial``, ``edition``.

    Helpers: :meth:`now`, :meth:`subscriber`, :meth:`summary`,
    :meth:`charges_between`, :meth:`issue_token`, :meth:`decode_token`,
    :meth:`valid_tokens`, :meth:`apparent_ip`.

    Mutators: :meth:`add_subscriber`, :meth:`add_charge`, :meth:`add_payment`,
    :meth:`add_user`, :meth:`remove_user`, :meth:`set_rights`,
    :meth:`expire_all_tokens`, :meth:`simulate_ip_change`.
    """

    vendor: ClassVar[str] = "tariscope"

    def __init__(
        self,
        *,
        subscribers: int = 10,
        departments: int = 3,
        nodes: int = 2,
        users: Mapping[str, str] | None = None,
        rights: Mapping[str, Iterable[str]] | None = None,
        clock: Callable[[], datetime] | None = None,
        token_lifetime: timedelta = DEFAULT_LIFETIME,
        include_exp: bool = True,
        edition: str = "Enterprise",
        secret: bytes | None = None,
        seed: int = 1,
    ) -> None:
        super().__init__(seed=seed)
        if token_lifetime <= timedelta(0):
            msg = "token_lifetime must be positive"
            raise ValueError(msg)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.token_lifetime = token_lifetime
        self.include_exp = include_exp
        self.users: dict[str, str] = (
            {DEFAULT_USERNAME: DEFAULT_PASSWORD} if users is None else dict(users)
        )
        if not self.users:
            msg = "at least one user is needed"
            raise ValueError(msg)
        self.rights: dict[str, set[str]] = {
            name: set(methods) for name, methods in (rights or {}).items()
        }
        self._secret = secret or secrets.token_bytes(32)
        self.tokens: dict[str, IssuedToken] = {}
        self.tokens_issued = 0
        self.sql_calls = 0
        self._ip_generation = 0
        self._ip_aliases: dict[str, str] = {}
        self._next_alias = 1
        self.edition = edition
        self.version = "4.6.2.1150"
        self.database_version = "4.6.0.117"
        self.build = date(2024, 11, 18)
        self.serial = "TS-" + "-".join(
            f"{self.random.getrandbits(16):04X}" for _ in range(3)
        )
        self.departments: dict[int, Department] = {
            i: Department(i, DEPARTMENT_NAMES[(i - 1) % len(DEPARTMENT_NAMES)])
            for i in range(1, max(1, departments) + 1)
        }
        self.nodes: dict[int, Node] = {
            i: Node(i, NODE_NAMES[(i - 1) % len(NODE_NAMES)])
            for i in range(1, max(1, nodes) + 1)
        }
        self.subscribers: dict[int, Subscriber] = {}
        self._next_subscriber = 2921
        self._next_charge = 1
        self._next_payment = 1
        self._routes = self._route_table()
        for _ in range(subscribers):
            self._seed_history(self.add_subscriber())

    @classmethod
    def from_cli(cls, options: argparse.Namespace) -> Self:
        """Build from ``python -m simulator tariscope ...`` (``--api-key``: password)."""
        password = getattr(options, "api_key", None) or DEFAULT_PASSWORD
        return cls(
            subscribers=getattr(options, "extensions", 10),
            departments=getattr(options, "departments", 3),
            nodes=getattr(options, "nodes", 2),
            clock=cli_clock(options),
            users={DEFAULT_USERNAME: password},
            seed=getattr(options, "seed", 1),
        )

    # ---------------------------------------------------------- credentials

    @property
    def username(self) -> str:
        """The first API user's name."""
        return next(iter(self.users))

    @property
    def password(self) -> str:
        """The first API user's password."""
        return self.users[self.username]

    def now(self) -> datetime:
        """The simulator's clock, as an aware UTC datetime."""
        current = self._clock()
        if current.tzinfo is None:
            return current.replace(tzinfo=UTC)
        return current.astimezone(UTC)

    def add_user(
        self, username: str, password: str, rights: Iterable[str] | None = None
    ) -> None:
        """Create (or replace) an API user; ``rights=None`` grants every method."""
        self.users[username] = password
        self.set_rights(username, rights)

    def remove_user(self, username: str) -> None:
        """Delete an API user; its tokens stop working (KeyError when unknown)."""
        del self.users[username]
        self.rights.pop(username, None)

    def set_rights(self, username: str, rights: Iterable[str] | None) -> None:
        """Grant exactly ``rights`` to a user (``None``: every method)."""
        if rights is None:
            self.rights.pop(username, None)
        else:
            self.rights[username] = set(rights)

    def may_call(self, username: str, method: str) -> bool:
        """Whether a user has the right to a method."""
        allowed = self.rights.get(username)
        return allowed is None or method in allowed

    # --------------------------------------------------------------- tokens

    def apparent_ip(self, remote: str) -> str:
        """The address the server sees for a client connecting from ``remote``."""
        if self._ip_generation == 0:
            return remote
        if remote not in self._ip_aliases:
            address = ipaddress.IPv4Address(0x0A000000 + self._next_alias)
            self._next_alias += 1
            self._ip_aliases[remote] = str(address)
        return self._ip_aliases[remote]

    def simulate_ip_change(self) -> None:
        """Every client gets a new address: tokens issued before stop working."""
        self._ip_generation += 1
        self._ip_aliases.clear()

    def expire_all_tokens(self) -> None:
        """Revoke every token issued so far (as if all had reached ``exp``)."""
        for token in self.tokens.values():
            token.revoked = True

    def valid_tokens(self) -> list[IssuedToken]:
        """Tokens not revoked, not expired and whose user still exists."""
        now = self.now()
        return [
            t
            for t in self.tokens.values()
            if not t.revoked and t.expires > now and t.username in self.users
        ]

    def issue_token(
        self,
        username: str,
        ip: str = "127.0.0.1",
        *,
        lifetime: timedelta | None = None,
    ) -> str:
        """Sign a token as api.auth would, bound to ``ip`` (``ip`` is the apparent one).

        A negative ``lifetime`` gives an already-expired token.
        """
        issued = self.now()
        expires = issued + (self.token_lifetime if lifetime is None else lifetime)
        record = IssuedToken(
            jti=secrets.token_hex(8),
            username=username,
            ip=ip,
            issued=issued,
            expires=expires,
        )
        self.tokens[record.jti] = record
        self.tokens_issued += 1
        payload: dict[str, object] = {
            "sub": username,
            "jti": record.jti,
            "ip": ip,
            "iss": "Tariscope",
            "iat": int(issued.timestamp()),
        }
        if self.include_exp:
            payload["exp"] = int(expires.timestamp())
        return self._sign({"alg": "HS256", "typ": "JWT"}, payload)

    def _sign(self, header: Mapping[str, object], payload: Mapping[str, object]) -> str:
        signing_input = (
            b64url(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + b64url(json.dumps(payload, separators=(",", ":")).encode())
        )
        signature = hmac.new(
            self._secret, signing_input.encode(), hashlib.sha256
        ).digest()
        return f"{signing_input}.{b64url(signature)}"

    def decode_token(self, token: str) -> dict[str, object]:
        """The payload of a token this server signed (ValueError otherwise)."""
        parts = token.split(".")
        if len(parts) != 3:
            msg = "The token is malformed"
            raise ValueError(msg)
        try:
            header = json.loads(b64url_decode(parts[0]))
            payload = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError) as err:
            msg = "The token is malformed"
            raise ValueError(msg) from err
        if not isinstance(header, dict) or not isinstance(payload, dict):
            msg = "The token is malformed"
            raise ValueError(msg)  # noqa: TRY004 - callers catch ValueError
        expected = hmac.new(
            self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256
        ).digest()
        if header.get("alg") != "HS256" or not hmac.compare_digest(signature, expected):
            msg = "The signature is invalid"
            raise ValueError(msg)
        return payload

    def _authenticate(self, request: web.Request) -> str:
        """The username a request's bearer token belongs to (ApiError 401 if none)."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("No token")
        try:
            payload = self.decode_token(token.strip())
        except ValueError as err:
            raise unauthorized(str(err)) from err
        record = self.tokens.get(str(payload.get("jti")))
        if record is None or record.revoked:
            raise unauthorized("The token has been revoked")
        username = str(payload.get("sub"))
        if username not in self.users:
            raise unauthorized("The user no longer exists")
        if payload.get("ip") != self.apparent_ip(request.remote or ""):
            raise unauthorized("The token is bound to another IP address")
        exp = payload.get("exp")
        # Without ``exp`` the server still knows when the token runs out.
        expires = (
            datetime.fromtimestamp(exp, UTC) if isinstance(exp, int) else record.expires
        )
        if self.now() >= expires:
            raise unauthorized(f"The token expired at '{dotnet_time(expires)}'")
        return username

    # ---------------------------------------------------------- subscribers

    def subscriber(self, subscriber_id: int) -> Subscriber:
        """A subscriber by ID (KeyError when unknown)."""
        return self.subscribers[subscriber_id]

    def add_subscriber(
        self,
        fullname: str | None = None,
        *,
        email: str | None = None,
        department_id: int | None = None,
        node_id: int | None = None,
        opening_debt: Decimal | float | str = 0,
    ) -> Subscriber:
        """Create a subscriber with an empty account (seeded details if not given)."""
        rng = self.random
        subscriber_id = self._next_subscriber
        self._next_subscriber += 1
        name = fullname or f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        local = name.lower().replace(" ", ".")
        if any(s.email.startswith(local + "@") for s in self.subscribers.values()):
            local = f"{local}.{subscriber_id}"
        departments = sorted(self.departments)
        nodes = sorted(self.nodes)
        if department_id is not None and department_id not in self.departments:
            raise KeyError(department_id)
        if node_id is not None and node_id not in self.nodes:
            raise KeyError(node_id)
        index = len(self.subscribers)
        subscriber = Subscriber(
            id=subscriber_id,
            fullname=name,
            email=email or f"{local}@example.com",
            department_id=department_id or departments[index % len(departments)],
            node_id=node_id or nodes[index % len(nodes)],
            account_id=100000 + subscriber_id,
            dn=str(200 + index),
            opening_debt=money(opening_debt),
            profile={
                "street": rng.choice(STREETS) + " St.",
                "House": str(rng.randint(1, 120)),
                "Flat": str(rng.randint(1, 90)),
                "description": "Employee",
                "authcode": f"{rng.randint(0, 9999):04d}",
                "ispublic": rng.random() < 0.8,
                "abonenttype": 0,
                "zipcode": f"0{rng.randint(1000, 9999)}",
                "personalcode": str(rng.randint(1000, 9999)),
                "contractid": f"C-{subscriber_id}",
                "area": "Central",
                "contractdate": dotnet_time(date(2020 + index % 5, 1 + index % 12, 1)),
                "building": "A",
                "floornumber": str(rng.randint(1, 9)),
                "gender": rng.randint(0, 2),
                "birthday": dotnet_time(
                    date(rng.randint(1960, 2000), rng.randint(1, 12), 15)
                ),
                "taxcode": str(rng.randint(10**9, 10**10 - 1)),
                "deliverytype": 1,
            },
        )
        self.subscribers[subscriber_id] = subscriber
        return subscriber

    def remove_subscriber(self, subscriber_id: int) -> None:
        """Delete a subscriber, its account with it (KeyError when unknown):
        every method naming it answers 404 from now on.
        """
        del self.subscribers[subscriber_id]

    def add_charge(
        self,
        subscriber_id: int,
        amount: Decimal | float | str,
        when: datetime | None = None,
        *,
        description: str = "Local calls",
        number: str = "",
        duration: int = 0,
        count: int = 1,
    ) -> Charge:
        """Charge a subscriber (``when`` defaults to now); shows in later reads."""
        subscriber = self.subscribers[subscriber_id]
        charge = Charge(
            id=self._next_charge,
            when=self._aware(when),
            amount=money(amount),
            description=description,
            number=number,
            duration=duration,
            count=count,
        )
        self._next_charge += 1
        subscriber.charges.append(charge)
        subscriber.charges.sort(key=lambda c: (c.when, c.id))
        return charge

    def add_payment(
        self,
        subscriber_id: int,
        amount: Decimal | float | str,
        when: datetime | None = None,
        *,
        payment_type: int = 0,
        bank: str = "",
    ) -> Payment:
        """Record a payment (``when`` defaults to now); shows in later reads."""
        subscriber = self.subscribers[subscriber_id]
        payment = Payment(
            id=self._next_payment,
            subscriber_id=subscriber_id,
            when=self._aware(when),
            amount=money(amount),
            payment_type=payment_type,
            bank=bank,
        )
        self._next_payment += 1
        subscriber.payments.append(payment)
        subscriber.payments.sort(key=lambda p: (p.when, p.id))
        return payment

    def _aware(self, when: datetime | None) -> datetime:
        if when is None:
            return self.now()
        return when.replace(tzinfo=UTC) if when.tzinfo is None else when

    def summary(
        self, subscriber_id: int, year: int, month: int, day: int | None = None
    ) -> AccountSummary:
        """The account summary of a month, or of the 1st up to ``day`` inclusive."""
        subscriber = self.subscribers[subscriber_id]
        start = month_start(year, month)
        end = (
            add_months(start, 1)
            if day is None
            else start + timedelta(days=day)  # the 1st plus ``day`` days
        )
        return AccountSummary(
            start=start,
            end=end,
            start_debt=subscriber.debt_at(start),
            charge=sum(
                (c.amount for c in subscriber.charges if start <= c.when < end),
                Decimal("0.00"),
            ),
            payment=sum(
                (p.amount for p in subscriber.payments if start <= p.when < end),
                Decimal("0.00"),
            ),
        )

    def charges_between(
        self, subscriber_id: int, start: datetime, end: datetime
    ) -> list[Charge]:
        """A subscriber's charges recorded in ``[start, end)``."""
        return [
            c for c in self.subscribers[subscriber_id].charges if start <= c.when < end
        ]

    def _seed_history(self, subscriber: Subscriber) -> None:
        """Opening debt, then charges and a payment per month up to now."""
        rng = self.random
        now = self.now()
        subscriber.opening_debt = money(rng.randint(0, 30000) / 100)
        first = add_months(month_start(now.year, now.month), -HISTORY_MONTHS)
        for offset in range(HISTORY_MONTHS + 1):
            start = add_months(first, offset)
            days = calendar.monthrange(start.year, start.month)[1]
            if start < now:
                name, fee = MONTHLY_FEE
                self.add_charge(subscriber.id, fee, start, description=name)
            for _ in range(rng.randint(3, 7)):
                when = start + timedelta(seconds=rng.randint(0, days * 86400 - 1))
                if when >= now:
                    continue
                name, rate = rng.choice(CALL_SERVICES)
                duration = rng.randint(10, 900)
                minutes = -(-duration // 60)
                self.add_charge(
                    subscriber.id,
                    rate * minutes,
                    when,
                    description=name,
                    number="0" + "".join(str(rng.randint(0, 9)) for _ in range(9)),
                    duration=duration,
                    count=minutes,
                )
            paid_on = start + timedelta(days=rng.randint(4, 24), hours=10)
            if paid_on < now and offset > 0:
                due = subscriber.debt_at(start)
                self.add_payment(
                    subscriber.id,
                    max(Decimal("50.00"), money(due * Decimal("0.9"))),
                    paid_on,
                    payment_type=rng.randint(0, 3),
                    bank="PrivatBank",
                )

    # ------------------------------------------------------------ describe

    def banner(self) -> list[str]:
        """URL and credentials, for the command line."""
        return [
            *super().banner(),
            f"Username: {self.username}",
            f"Password: {self.password}",
            f"POST {self.url}/api/auth, then Authorization: Bearer <token>",
            f"Edition {self.edition}, {len(self.subscribers)} subscribers",
        ]

    def describe(self) -> dict[str, object]:
        """Users, tokens and sizes for ``GET /_sim/state``."""
        return {
            "users": sorted(self.users),
            "subscribers": len(self.subscribers),
            "departments": len(self.departments),
            "nodes": len(self.nodes),
            "tokens_issued": self.tokens_issued,
            "valid_tokens": len(self.valid_tokens()),
            "sql_calls": self.sql_calls,
            "ip_changes": self._ip_generation,
        }

    # ---------------------------------------------------------------- HTTP

    def _route_table(self) -> dict[str, Route]:
        get, post = frozenset({"GET"}), frozenset({"POST"})
        anything = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH"})
        routes = {
            "/api/auth": Route("api.auth", post, lambda _: None),
            "/api/subscriber/get": Route("subscriber.get", get, self._subscriber_get),
            "/api/subscriber/list/department": Route(
                "subscriber.list.department", get, self._list_department
            ),
            "/api/subscriber/list/node": Route(
                "subscriber.list.node", get, self._list_node
            ),
            "/api/accounts.summary": Route(
                "accounts.summary", get, self._accounts_summary
            ),
            "/api/accounts/charges": Route(
                "accounts.charges", get, self._accounts_charges
            ),
            "/api/accounts/payments": Route(
                "accounts.payments", get, self._accounts_payments
            ),
            "/api/accounts/payment": Route(
                "accounts.payment", post, self._accounts_payment
            ),
            "/api/sql": Route("sql", anything, self._sql),
        }
        info: dict[str, Callable[[Mapping[str, str]], object]] = {
            "version": lambda _: {"version": self.version},
            "database": lambda _: {"database": self.database_version},
            "build": lambda _: {"build": self.build.isoformat()},
            "serial": lambda _: {"serial": self.serial},
            "edition": lambda _: {"edition": self.edition},
            "summary": self._tariscope_summary,
        }
        for key, handler in info.items():
            routes[f"/api/tariscope/{key}"] = Route(f"tariscope.{key}", get, handler)
        return routes

    def _resolve(self, path: str) -> tuple[Route | None, bool]:
        """The route of a path and whether it asks for XML."""
        clean = path.lower().rstrip("/")
        xml = clean.endswith("/xml")
        if xml or clean.endswith("/json"):
            clean = clean.rsplit("/", 1)[0]
        return self._routes.get(clean), xml

    def register_routes(self, app: web.Application) -> None:
        """Everything goes to :meth:`handle`, which matches paths itself."""
        app.router.add_route("*", "/{tail:.*}", self.handle)

    async def action_name(self, request: web.Request) -> str | None:
        """The method name (``api.auth``, ``subscriber.get`` ...); counts sql calls."""
        route, _ = self._resolve(request.path)
        if route is None:
            return f"{request.method} {request.path}"
        if route.name == "sql":
            self.sql_calls += 1
        return route.name

    def auth_revoked_response(self) -> web.Response:
        """A 401 as for a token the server no longer accepts."""
        return self._error(unauthorized("The token has been revoked"), xml=False)

    def forbidden_response(self, action: str | None) -> web.Response:
        """The 403 of a user without the right to the method."""
        method = action or "unknown"
        return self._error(
            ApiError(
                403,
                "forbidden",
                f"User '{self.username}' has no right to the method '{method}'",
                extra={"method": method},
            ),
            xml=False,
        )

    def _reply(self, data: object, *, xml: bool, status: int = 200) -> web.Response:
        if xml:
            return web.Response(
                text=encode_xml(data),
                status=status,
                content_type="application/xml",
                charset="utf-8",
            )
        return web.Response(
            text=encode_json(data),
            status=status,
            content_type="application/json",
            charset="utf-8",
        )

    def _error(self, err: ApiError, *, xml: bool) -> web.Response:
        response = self._reply(err.body(), xml=xml, status=err.status)
        response.headers.update(err.headers)
        return response

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one request; refusals become error bodies."""
        _, xml = self._resolve(request.path)
        try:
            return self._reply(await self._dispatch(request), xml=xml)
        except ApiError as err:
            return self._error(err, xml=xml)

    async def _dispatch(self, request: web.Request) -> object:
        """Route, check HTTP method, token and right, then run the method."""
        route, _ = self._resolve(request.path)
        if route is None:
            raise not_found(f"No API method at {request.path}")
        if request.method not in route.http:
            raise ApiError(
                405,
                "method_not_allowed",
                f"{route.name} needs {'/'.join(sorted(route.http))}",
            )
        if route.name == "api.auth":
            return await self._login(request)
        username = self._authenticate(request)
        if not self.may_call(username, route.name):
            raise ApiError(
                403,
                "forbidden",
                f"User '{username}' has no right to the method '{route.name}'",
                extra={"method": route.name},
            )
        return route.handler(await self._params(request))

    async def _params(self, request: web.Request) -> dict[str, str]:
        """Query string, overridden by a form or JSON object body on POST."""
        params = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as err:
                raise bad_request("body", "The body is not valid JSON") from err
            if not isinstance(body, dict):
                raise bad_request("body", "The body must be a JSON object")
            params.update(
                {str(k): "" if v is None else str(v) for k, v in body.items()}
            )
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    async def _login(self, request: web.Request) -> dict[str, object]:
        try:
            body = await request.json()
        except ValueError as err:
            raise bad_request("body", "The body must be JSON") from err
        if not isinstance(body, dict):
            raise bad_request("body", "The body must be a JSON object")
        username, password = body.get("username"), body.get("password")
        for key, value in (("username", username), ("password", password)):
            if not isinstance(value, str) or not value:
                raise bad_request(key)
        stored = self.users.get(str(username))
        if stored is None or not hmac.compare_digest(
            stored.encode(), str(password).encode()
        ):
            raise ApiError(401, "invalid_credentials", "Invalid username or password")
        ip = self.apparent_ip(request.remote or "")
        return {"token": self.issue_token(str(username), ip)}

    # ------------------------------------------------------------- methods

    def _id(self, params: Mapping[str, str], key: str = "id") -> int:
        value = params.get(key, "").strip()
        if not POSITIVE_INT.match(value):
            raise bad_request(key)
        return int(value)

    def _subscriber_of(self, params: Mapping[str, str]) -> Subscriber:
        subscriber_id = self._id(params)
        if subscriber_id not in self.subscribers:
            raise not_found(f"Subscriber {subscriber_id} not found")
        return self.subscribers[subscriber_id]

    def _date(self, params: Mapping[str, str], key: str, *, end: bool) -> datetime:
        """A date parameter; a date-only end bound covers that whole day."""
        value = params.get(key, "").strip()
        try:
            parsed = self._aware(datetime.fromisoformat(value)).astimezone(UTC)
            if end and DATE_ONLY.match(value):
                parsed += timedelta(days=1)
        except (ValueError, OverflowError) as err:
            raise bad_request(key, f"Invalid date in parameter '{key}'") from err
        return parsed

    def _range(
        self, params: Mapping[str, str], *, required: bool
    ) -> tuple[datetime, datetime]:
        start = datetime.min.replace(tzinfo=UTC)
        end = datetime.max.replace(tzinfo=UTC)
        if required or params.get("fromdate"):
            start = self._date(params, "fromdate", end=False)
        if required or params.get("todate"):
            end = self._date(params, "todate", end=True)
        if start >= end:
            raise bad_request("todate", "'fromdate' must be before 'todate'")
        return start, end

    def _subscriber_get(self, params: Mapping[str, str]) -> object:
        if params.get("id"):
            return self._subscriber_of(params).as_json()
        email = params.get("email", "").strip().lower()
        if not email:
            raise bad_request("id", "One of the parameters 'id' or 'email' is required")
        if "@" not in email:
            raise bad_request("email")
        for subscriber in self.subscribers.values():
            if subscriber.email.lower() == email:
                return subscriber.as_json()
        raise not_found(f"Subscriber with email {email} not found")

    def _list_department(self, params: Mapping[str, str]) -> object:
        department_id = self._id(params)
        if department_id not in self.departments:
            raise not_found(f"Department {department_id} not found")
        return [
            s.as_json()
            for s in self.subscribers.values()
            if s.department_id == department_id
        ]

    def _list_node(self, params: Mapping[str, str]) -> object:
        node_id = self._id(params)
        if node_id not in self.nodes:
            raise not_found(f"Node {node_id} not found")
        return [s.as_json() for s in self.subscribers.values() if s.node_id == node_id]

    def _accounts_summary(self, params: Mapping[str, str]) -> object:
        subscriber = self._subscriber_of(params)
        now = self.now()
        has_year, has_month = bool(params.get("year")), bool(params.get("month"))
        if has_year != has_month:
            raise bad_request(
                "month" if has_year else "year", "'year' and 'month' go together"
            )
        year = self._int(params, "year", 2000, 2100) if has_year else now.year
        month = self._int(params, "month", 1, 12) if has_month else now.month
        day = None
        if params.get("day"):
            days = calendar.monthrange(year, month)[1]
            day = self._int(params, "day", 1, days)
        return self.summary(subscriber.id, year, month, day).as_json()

    @staticmethod
    def _int(params: Mapping[str, str], key: str, low: int, high: int) -> int:
        value = params.get(key, "").strip()
        if not value.isdigit() or not low <= int(value) <= high:
            raise bad_request(key)
        return int(value)

    def _accounts_charges(self, params: Mapping[str, str]) -> object:
        subscriber = self._subscriber_of(params)
        start, end = self._range(params, required=True)
        return [c.as_json() for c in self.charges_between(subscriber.id, start, end)]

    def _accounts_payments(self, params: Mapping[str, str]) -> object:
        subscriber = self._subscriber_of(params)
        start, end = self._range(params, required=False)
        wanted = self._id(params, "paymentid") if params.get("paymentid") else None
        return [
            p.as_json()
            for p in subscriber.payments
            if start <= p.when < end and wanted in (None, p.id)
        ]

    def _accounts_payment(self, params: Mapping[str, str]) -> object:
        subscriber = self._subscriber_of(params)
        try:
            amount = money(params.get("payment", "").strip())
        except InvalidOperation as err:
            raise bad_request("payment") from err
        if not amount.is_finite() or amount <= 0:
            raise bad_request("payment", "'payment' must be a positive amount")
        payment_type = (
            self._int(params, "paymenttype", 0, 3) if params.get("paymenttype") else 0
        )
        when = (
            self._date(params, "paymentday", end=False)
            if params.get("paymentday")
            else None
        )
        return self.add_payment(
            subscriber.id,
            amount,
            when,
            payment_type=payment_type,
            bank=params.get("bank", ""),
        ).as_json()

    def _sql(self, params: Mapping[str, str]) -> object:
        raise ApiError(
            403,
            "forbidden",
            "The sql method is disabled for API users on this server",
            extra={"method": "sql"},
        )

    def _tariscope_summary(self, params: Mapping[str, str]) -> object:
        return {
            "version": self.version,
            "database": self.database_version,
            "build": self.build.isoformat(),
            "serial": self.serial,
            "edition": self.edition,
            "subscribers": len(self.subscribers),
            "departments": len(self.departments),
            "nodes": len(self.nodes),
        }

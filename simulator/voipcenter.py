"""Fake VoipCenter (pbxonline.be) API server, written from the vendor's API document.

The API is three PHP scripts under ``/api/``: ``get.php`` (read the PBX
configuration), ``update.php`` (change a DID, a function indicator or a hot desk)
and ``call.php`` (click-to-call). Parameters come as a GET query string or a form
POST. Every request carries ``apiID``, ``knummer``, ``pwd`` (``sha256(md5(pw))``),
the endpoint's own parameters, ``f`` (php, json or xml), ``ts`` (unix seconds) and
``pass``: an HMAC-SHA256 (key: the private API key) over ``name + value`` of every
parameter in the order sent, ``pass`` left out and, for get.php, ``filter`` too.

Every answer is HTTP 200. Errors and the update/call results use the envelope
``{"head": {status, error_number, error_message}, "body": {...}}``; get.php
success is a flat object keyed ``id_<n>`` (or one item's detail object).

Error codes (from the document's table) and when this simulator sends them:

* head 10 Missing parameters: a required parameter is absent or empty.
* head 11 Timestamp mismatch: ``|ts - now| > 5`` seconds.
* head 12 Wrong format: ``f`` is not php, json or xml.
* head 13 Too many attempts: the account is locked after repeated auth failures.
* head 14 Incorrect hash: ``pass`` does not match (any tampered parameter).
* head 15 User password incorrect: ``pwd`` is not ``sha256(md5(password))``.
* head 16 API user not allowed: unknown ``apiID``, or it is not linked to
  ``knummer``.
* head 17 Param not correct: a value that cannot be right (unknown ``m``,
  non-numeric ``id``, bad ``p``, bad ``telnr``, non-numeric ``ts``, unknown id
  in update.php).
* body 1 Could not connect to server: the simulated backend is down
  (:attr:`VoipcenterSimulator.backend_down`).
* body 2 Incorrect ID: get.php for an id that does not exist.
* body 20 Call Auth failed: call.php with an unknown ``sipacc``.
* body 21 Call Leg failed: call.php for a SIP account whose phone is offline.

Assumptions (the document is silent):

* Check order: 13 (locked), 10, 12, 16, 11, 14, 15, then the endpoint's checks.
  Only 14, 15 and 16 count as failed attempts: ``max_attempts`` (5) failures
  within ``attempt_window`` (60 s) lock the API for ``lockout_seconds`` (60 s)
  from the last failure; while locked every request gets head 13 (and is not
  counted); the failure history is cleared when the lock ends.
* The ``ts`` window is symmetric: a timestamp up to 5 s ahead is accepted too.
* ``pass`` is compared case-insensitively; ``pwd`` must be lowercase hex.
* Head errors repeat the head in the body (status "0"); body errors have a
  successful head (status "1", empty error fields) and status "0" in the body.
* get.php ``id=0`` lists items as ``{"id_<n>": "<name>"}`` (``sipacc`` and
  ``calls`` as ``{"id_<n>": {fields}}``, ``did`` as ``{"id_<n>": "<number>"}``);
  ``id=<n>`` answers that item's detail object (not wrapped), always with ``id``.
  An empty list is ``[]`` (PHP's empty array).
* ``filter`` (id=0 only; ignored otherwise) is a case-insensitive substring of the
  name (sipacc: ``logname`` or a digit run in ``DIDout``; did: the number); for
  ``calls`` it must be ``yyyymmdd`` (else 17), and without it today's calls are
  listed. Dates are Belgian local time (Europe/Brussels): the document
  names no zone, and a Belgian provider's call history is read in its own.
* Detail fields: did ``{id, nummer, route, backuproute, feestdagen, vakanties,
  kantooruren}`` (ids as strings, "0" = none); indicator ``{id, naam, actief}``;
  hddesk ``{id, naam, sipaccount, template}`` (ids, "0" = none); routes,
  backuproutes, hdtemplate ``{id, naam}``; feestdagen ``{id, naam, datums}``
  (comma-separated yyyymmdd); vakanties ``{id, naam, van, tot}``; kantooruren
  ``{id, naam, maandag..zondag}`` ("08:30-17:30" or "" when closed); calls
  ``{id, datum, van, naar, duur, richting ("in"|"uit"), sipaccount, status}``.
* SIP account ``SIPping`` is ``"OK (<n> ms)"`` online and ``"UNREACHABLE"``
  offline (``userAgent`` then ""). ``SIPusername`` is ``sipaccount<n>``.
* update.php ``p`` accepts both spellings the document shows, ``r140|b150`` and
  ``r=140|b=150``. Values are ids of existing items; ``0`` clears f, v, k, b
  (and, for hot desks, logs the SIP account out); the route ``r`` must exist.
  Unknown letters, repeated junk or unknown ids give head 17 (the document says
  body 2 is for GET only). Indicator ``p`` is ``0`` or ``1``.
* get.php ignores ``p`` (the document's hot desk example says get.php, taken as
  a typo for update.php); ``p`` is still signed like any other parameter.
* ``m=wskey`` (research notes) answers ``{"username": id, "wskey": <token>}``
  for any ws username (GET or form POST); the wskey is derived from the API key,
  so rotating the key changes it. It opens the push channel
  (:mod:`simulator.voipcenter_push`, served on :attr:`VoipcenterSimulator.push_url`).
* Calls: the history seeded at start is fixed; every call after it comes from
  the shared call model (:mod:`simulator.calls`; the extensions are the SIP
  usernames) and is rendered from its state: ``status`` ``rinkelt`` while
  ringing, ``bezig`` while answered, ``beantwoord`` once ended, ``gemist`` when
  missed; ``duur`` the seconds talked; ``richting`` ``in``, ``uit`` or
  ``intern``; ``van``/``naar`` the numbers, a SIP account's side shown as its
  ``DIDout`` (its username when it has none); ``sipaccount`` the callee's
  account for inbound calls, the caller's otherwise.
* call.php ``telnr`` must be 3-15 digits (no ``+``). A successful call is
  appended to :attr:`VoipcenterSimulator.calls_placed` and starts an outbound
  model call from the SIP account (its phone rings first): answered after
  ``CLICK_ANSWER_SECONDS``, it lasts ``CLICK_TALK_SECONDS``.
* ``f=json`` answers are ``text/json; charset=utf-8`` (as are errors sent before
  the format is known); ``f=xml`` is ``text/xml`` under a ``<response>`` root and
  ``f=php`` is PHP ``serialize`` output as ``text/plain``.
* A revoked credential (core ``auth_revoked`` fault) is answered with head 15.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
import hashlib
import hmac
import json
import re
import ssl
import time
from typing import ClassVar, Self
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from aiohttp import web

from .calls import Call, CallBook, CallState, Direction, SimClock
from .core import CONTROL_PREFIX, SimulatorBase, read_json_object
from .voipcenter_push import PushServer

LOCAL_ZONE = ZoneInfo("Europe/Brussels")
"""The zone of the call history's dates (see the module docstring)."""


def local_text(timestamp: float, form: str) -> str:
    """``timestamp`` in Belgian local time, formatted with ``form``."""
    return datetime.fromtimestamp(timestamp, LOCAL_ZONE).strftime(form)


CLICK_ANSWER_SECONDS = 5.0
CLICK_TALK_SECONDS = 60.0
HISTORY_STATUS = {
    CallState.RINGING: "rinkelt",
    CallState.IN_CALL: "bezig",
    CallState.ENDED: "beantwoord",
    CallState.MISSED: "gemist",
}
HISTORY_DIRECTION = {
    Direction.INBOUND: "in",
    Direction.OUTBOUND: "uit",
    Direction.INTERNAL: "intern",
}
JSON_CONTENT_TYPE = "text/json; charset=utf-8"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
PHP_CONTENT_TYPE = "text/plain; charset=utf-8"
FORMATS = ("php", "json", "xml")
ENDPOINTS = ("get.php", "update.php", "call.php")
TS_WINDOW = 5.0

HEAD_ERRORS: dict[int, str] = {
    10: "Missing parameters",
    11: "Timestamp mismatch",
    12: "Wrong format",
    13: "Too many attempts",
    14: "Incorrect hash",
    15: "User password incorrect",
    16: "API user not allowed",
    17: "Param not correct",
}
BODY_ERRORS: dict[int, str] = {
    1: "Could not connect to server",
    2: "Incorrect ID",
    20: "Call Auth failed",
    21: "Call Leg failed",
    25: "Incorrect Login",
}
AUTH_FAILURES = frozenset({14, 15, 16})

UNSIGNED: dict[str, frozenset[str]] = {
    "get.php": frozenset({"pass", "filter"}),
    "update.php": frozenset({"pass"}),
    "call.php": frozenset({"pass"}),
}
"""Parameters each endpoint leaves out of the HMAC string."""
REQUIRED: dict[str, tuple[str, ...]] = {
    "get.php": ("apiID", "knummer", "pwd", "m", "id", "f", "ts", "pass"),
    "update.php": ("apiID", "knummer", "pwd", "m", "id", "p", "f", "ts", "pass"),
    "call.php": ("apiID", "knummer", "pwd", "sipacc", "telnr", "f", "ts", "pass"),
}
GET_MENUS = (
    "sipacc", "did", "feestdagen", "vakanties", "kantooruren", "routes",
    "backuproutes", "calls", "indicator", "hddesk", "hdtemplate", "wskey",
)  # fmt: skip
UPDATE_MENUS = ("did", "indicator", "hddesk")
DID_KEYS: dict[str, str] = {
    "f": "feestdagen",
    "v": "vakanties",
    "k": "kantooruren",
    "r": "route",
    "b": "backuproute",
}
"""update.php ``p`` letter for a DID -> the DID field (and get.php menu) it sets."""
HOT_DESK_KEYS: dict[str, str] = {"s": "sipaccount", "t": "template"}
P_PART = re.compile(r"^([a-z])=?(\d+)$")
DIGITS = re.compile(r"^\d+$")
TELNR = re.compile(r"^\d{3,15}$")
DATE_FILTER = re.compile(r"^\d{8}$")

FIRST_NAMES = (
    "Emma", "Lucas", "Olivia", "Arthur", "Louise", "Noah", "Mila", "Jules",
    "Elise", "Finn", "Nora", "Liam", "Marie", "Victor", "Lotte", "Wout",
)  # fmt: skip
LAST_NAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes",
    "Goossens", "Wouters", "De Smet", "Dubois", "Lambert", "Hermans", "Vermeulen",
)  # fmt: skip
ROOMS = (
    "Onthaal", "Bureau", "Boekhouding", "Magazijn", "Verkoop", "Directie",
    "Support", "Keuken",
)  # fmt: skip
USER_AGENTS = (
    "Yealink SIP-T46S 66.86.0.15",
    "Snom D785 10.1.141.13",
    "Gigaset N510 IP PRO/42.245.00.000.000",
    "Zoiper rv2.10.20.2",
)
ROUTE_NAMES = ("Naar onthaal", "Na de uren naar voicemail", "Wachtrij verkoop")
BACKUP_ROUTE_NAMES = ("Doorschakelen naar GSM", "Voicemail algemeen")
INDICATOR_NAMES = ("Nachtstand", "Vakantiemodus", "Noodrouting", "Lunchpauze")
TEMPLATE_NAMES = ("Standaard", "Verkoop", "Support")
WEEKDAYS = (
    "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag",
)  # fmt: skip

type Params = list[tuple[str, str]]
type Answer = object


def password_hash(password: str) -> str:
    """The ``pwd`` parameter: ``sha256_hex(md5_hex(password))``."""
    md5 = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
    return hashlib.sha256(md5.encode()).hexdigest()


def expected_signature(
    params: Sequence[tuple[str, str]], key: str, *, endpoint: str = "get.php"
) -> str:
    """The ``pass`` a request must carry, from the document's recipe.

    HMAC-SHA256 hex, keyed with the private API key, over ``name + value`` of every
    parameter in the order sent, leaving out ``pass`` (and ``filter`` for get.php).
    """
    unsigned = UNSIGNED.get(endpoint, frozenset({"pass"}))
    message = "".join(name + value for name, value in params if name not in unsigned)
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


class HeadError(Exception):
    """A request rejected with a head error code (10-17)."""

    def __init__(self, code: int) -> None:
        super().__init__(HEAD_ERRORS[code])
        self.code = code


class BodyError(Exception):
    """A request accepted but failed with a body error code (1, 2, 20, 21)."""

    def __init__(self, code: int) -> None:
        super().__init__(BODY_ERRORS[code])
        self.code = code


def status_block(code: int | None = None, message: str = "") -> dict[str, str]:
    """One ``head`` or ``body`` block: status "1" when no error code."""
    if code is None:
        return {"status": "1", "error_number": "", "error_message": ""}
    return {"status": "0", "error_number": str(code), "error_message": message}


def head_error(code: int) -> dict[str, object]:
    """The envelope of a head error (the body repeats the head)."""
    block = status_block(code, HEAD_ERRORS[code])
    return {"head": block, "body": dict(block)}


def body_error(code: int) -> dict[str, object]:
    """The envelope of a body error: the request itself was fine."""
    return {"head": status_block(), "body": status_block(code, BODY_ERRORS[code])}


def success() -> dict[str, object]:
    """The envelope update.php and call.php send when they did the work."""
    return {"head": status_block(), "body": status_block()}


def php_json(data: object) -> str:
    """Encode like PHP's json_encode: compact, ASCII only, ``/`` escaped."""
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/")


def php_serialize(data: object) -> str:
    """Encode like PHP's ``serialize`` (strings and nested arrays only)."""
    if isinstance(data, Mapping):
        items = "".join(
            php_serialize(str(k)) + php_serialize(v) for k, v in data.items()
        )
        return f"a:{len(data)}:{{{items}}}"
    if isinstance(data, list | tuple):
        items = "".join(f"i:{i};" + php_serialize(v) for i, v in enumerate(data))
        return f"a:{len(data)}:{{{items}}}"
    text = str(data)
    return f's:{len(text.encode())}:"{text}";'


def to_xml(data: object, tag: str = "response") -> str:
    """A plain XML rendering: one element per key, text for values."""
    if isinstance(data, Mapping):
        inner = "".join(to_xml(v, str(k)) for k, v in data.items())
    elif isinstance(data, list | tuple):
        inner = "".join(to_xml(v, "item") for v in data)
    else:
        inner = escape(str(data))
    xml = f"<{tag}>{inner}</{tag}>"
    if tag == "response":
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml
    return xml


@dataclass
class SipAccount:
    """One SIP account (a phone or softphone login)."""

    id: str
    username: str
    logname: str
    naam: str
    voornaam: str
    did_out: str
    user_agent: str
    online: bool = True
    latency_ms: int = 20

    def as_json(self) -> dict[str, str]:
        """The fields get.php returns for a SIP account."""
        return {
            "SIPusername": self.username,
            "logname": self.logname,
            "naam": self.naam,
            "voornaam": self.voornaam,
            "DIDout": self.did_out,
            "userAgent": self.user_agent if self.online else "",
            "SIPping": f"OK ({self.latency_ms} ms)" if self.online else "UNREACHABLE",
        }


@dataclass
class Did:
    """One DID (inbound number), its call plans and its time filters."""

    id: str
    number: str
    route: str
    backuproute: str = "0"
    feestdagen: str = "0"
    vakanties: str = "0"
    kantooruren: str = "0"

    def as_json(self) -> dict[str, str]:
        """The detail get.php returns for one DID."""
        return {
            "id": self.id,
            "nummer": self.number,
            "route": self.route,
            "backuproute": self.backuproute,
            "feestdagen": self.feestdagen,
            "vakanties": self.vakanties,
            "kantooruren": self.kantooruren,
        }


@dataclass
class NamedItem:
    """A route, backup route, time filter or hot desk template."""

    id: str
    naam: str
    details: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, str]:
        """The detail get.php returns for the item."""
        return {"id": self.id, "naam": self.naam, **self.details}


@dataclass
class Indicator:
    """A function indicator (a switch a call plan can test)."""

    id: str
    naam: str
    actief: bool = False

    def as_json(self) -> dict[str, str]:
        """The detail get.php returns for one indicator."""
        return {"id": self.id, "naam": self.naam, "actief": "1" if self.actief else "0"}


@dataclass
class HotDesk:
    """A hot desking desk: which SIP account is logged in, with which template."""

    id: str
    naam: str
    sipaccount: str = "0"
    template: str = "0"

    def as_json(self) -> dict[str, str]:
        """The detail get.php returns for one desk."""
        return {
            "id": self.id,
            "naam": self.naam,
            "sipaccount": self.sipaccount,
            "template": self.template,
        }


@dataclass
class CallRecord:
    """One call in the history."""

    id: str
    start: int
    van: str
    naar: str
    duur: int
    richting: str
    sipaccount: str
    status: str

    @property
    def date(self) -> str:
        """The local day of the call as ``yyyymmdd``."""
        return local_text(self.start, "%Y%m%d")

    def as_json(self) -> dict[str, str]:
        """The fields get.php returns for a call."""
        return {
            "id": self.id,
            "datum": local_text(self.start, "%Y-%m-%d %H:%M:%S"),
            "van": self.van,
            "naar": self.naar,
            "duur": str(self.duur),
            "richting": self.richting,
            "sipaccount": self.sipaccount,
            "status": self.status,
        }


@dataclass(frozen=True)
class PlacedCall:
    """A click-to-call request call.php accepted."""

    sipacc: str
    telnr: str
    at: float


class VoipcenterSimulator(SimulatorBase):
    """A stateful VoipCenter API (``/api/get.php``, ``update.php``, ``call.php``).

    Python API for tests:

    * ``VoipcenterSimulator(*, sip_accounts=5, dids=3, indicators=3, hot_desks=2,
      api_id=..., api_key=..., customer_number="123456", password=...,
      clock=None, max_attempts=5, attempt_window=60.0, lockout_seconds=60.0,
      seed=1)``; ``clock`` returns unix seconds (default ``time.time``).
    * Credentials: ``api_id``, ``api_key``, ``customer_number``, ``password``,
      ``pwd`` (the hashed password); ``change_password(new)`` and
      ``change_api_key(new)`` revoke the old ones.
    * State (dicts keyed by id, as strings): ``sip_accounts``, ``dids``,
      ``routes``, ``backup_routes``, ``holidays`` (feestdagen), ``vacations``
      (vakanties), ``office_hours`` (kantooruren), ``indicators``, ``hot_desks``,
      ``hot_desk_templates``, ``calls`` (history); list ``calls_placed``.
    * Look-ups: ``sip_account(username)``, ``did(number)``, ``indicator_state(id)``,
      ``hot_desk(id)``, ``calls_on(yyyymmdd)``.
    * Mutators: ``add_sip_account``, ``add_did``, ``add_indicator``,
      ``set_indicator``, ``add_hot_desk``, ``add_call``, ``set_online``;
      attribute ``backend_down`` (body error 1); ``failed_attempts``,
      ``locked_until``, ``lock_out(seconds)``, ``clear_lockout()``.
    * ``signed_params(endpoint, params, ts=None, fmt="json")``: a correctly
      signed parameter list, for tests that play the client.

    Action names (for counters and faults): ``get:<m>``, ``update:<m>``, ``call``.
    """

    vendor: ClassVar[str] = "voipcenter"
    php_script: ClassVar[str] = "/var/www/pbxonline/api/get.php"

    def __init__(
        self,
        *,
        sip_accounts: int = 5,
        dids: int = 3,
        indicators: int = 3,
        hot_desks: int = 2,
        api_id: str = "pi990000sim",
        api_key: str = "sim-voipcenter-0123456789abcdef",
        customer_number: str = "123456",
        password: str = "sim-voipcenter-password",  # noqa: S107
        clock: Callable[[], float] | None = None,
        max_attempts: int = 5,
        attempt_window: float = 60.0,
        lockout_seconds: float = 60.0,
        seed: int = 1,
    ) -> None:
        super().__init__(seed=seed)
        self._api_id = api_id
        self._api_key = api_key
        self._customer_number = customer_number
        self._password = password
        self.clock: Callable[[], float] = clock or time.time
        self.max_attempts = max_attempts
        self.attempt_window = attempt_window
        self.lockout_seconds = lockout_seconds
        self.failed_attempts: list[float] = []
        """Times of recent auth failures (head 14, 15, 16)."""
        self.locked_until: float | None = None
        self.backend_down = False
        """When true every authenticated request fails with body error 1."""
        self.sip_accounts: dict[str, SipAccount] = {}
        self.dids: dict[str, Did] = {}
        self.routes: dict[str, NamedItem] = {}
        self.backup_routes: dict[str, NamedItem] = {}
        self.holidays: dict[str, NamedItem] = {}
        self.vacations: dict[str, NamedItem] = {}
        self.office_hours: dict[str, NamedItem] = {}
        self.indicators: dict[str, Indicator] = {}
        self.hot_desks: dict[str, HotDesk] = {}
        self.hot_desk_templates: dict[str, NamedItem] = {}
        self.calls: dict[str, CallRecord] = {}
        self.calls_placed: list[PlacedCall] = []
        self._next_id: dict[str, int] = {
            "sipacc": 2351,
            "did": 540,
            "route": 140,
            "backuproute": 150,
            "feestdagen": 10,
            "vakanties": 20,
            "kantooruren": 30,
            "indicator": 100,
            "hddesk": 200,
            "hdtemplate": 50,
            "call": 9001,
        }
        self._seed(sip_accounts, dids, indicators, hot_desks)
        self.call_book = CallBook(SimClock(self._now), lambda _: self._new_id("call"))
        self.push = PushServer(self.book, self.wskey_valid, self._call_account)

    @classmethod
    def from_cli(cls, options: argparse.Namespace) -> Self:
        """Build from ``python -m simulator voipcenter ...`` options."""
        simulator = cls(
            sip_accounts=getattr(options, "extensions", 5),
            dids=getattr(options, "dids", 3),
            indicators=getattr(options, "indicators", 3),
            hot_desks=getattr(options, "hot_desks", 2),
            api_key=getattr(options, "api_key", None)
            or "sim-voipcenter-0123456789abcdef",
            seed=getattr(options, "seed", 1),
        )
        if getattr(options, "frozen_clock", False):
            simulator.book.clock.freeze()
        return simulator

    # -------------------------------------------------------- credentials

    @property
    def api_id(self) -> str:
        """The ``apiID`` of the API user."""
        return self._api_id

    @property
    def api_key(self) -> str:
        """The private key ``pass`` is signed with."""
        return self._api_key

    @property
    def customer_number(self) -> str:
        """The ``knummer`` (customer number)."""
        return self._customer_number

    @property
    def password(self) -> str:
        """The customer's plain-text password."""
        return self._password

    @property
    def pwd(self) -> str:
        """The ``pwd`` parameter the API expects."""
        return password_hash(self._password)

    def change_password(self, password: str) -> None:
        """Change the customer password; requests with the old ``pwd`` get 15."""
        self._password = password

    def change_api_key(self, api_key: str) -> None:
        """Rotate the private key; requests signed with the old one get 14."""
        self._api_key = api_key

    def signed_params(
        self,
        endpoint: str,
        params: Iterable[tuple[str, str]],
        *,
        ts: int | None = None,
        fmt: str = "json",
    ) -> Params:
        """A request's parameters in the documented order, signed with ``pass``."""
        ordered: Params = [
            ("apiID", self.api_id),
            ("knummer", self.customer_number),
            ("pwd", self.pwd),
            *params,
            ("f", fmt),
            ("ts", str(int(self.clock()) if ts is None else ts)),
        ]
        signature = expected_signature(ordered, self.api_key, endpoint=endpoint)
        return [*ordered, ("pass", signature)]

    # ------------------------------------------------------------ seeding

    def _new_id(self, kind: str) -> str:
        value = self._next_id[kind]
        self._next_id[kind] = value + 1
        return str(value)

    def _seed(self, sip_accounts: int, dids: int, indicators: int, desks: int) -> None:
        rng = self.random
        for name in ROUTE_NAMES:
            item = NamedItem(self._new_id("route"), name)
            self.routes[item.id] = item
        for name in BACKUP_ROUTE_NAMES:
            item = NamedItem(self._new_id("backuproute"), name)
            self.backup_routes[item.id] = item
        year = time.gmtime(self.clock()).tm_year
        holidays = NamedItem(
            self._new_id("feestdagen"),
            f"Belgische feestdagen {year}",
            {
                "datums": ",".join(
                    f"{year}{d}" for d in ("0101", "0501", "0721", "1225")
                )
            },
        )
        self.holidays[holidays.id] = holidays
        for name, start, end in (
            ("Zomersluiting", "0721", "0815"),
            ("Kerstverlof", "1224", "1231"),
        ):
            item = NamedItem(
                self._new_id("vakanties"),
                name,
                {"van": f"{year}{start}", "tot": f"{year}{end}"},
            )
            self.vacations[item.id] = item
        for name, hours in (
            ("Standaard kantooruren", ("08:30-17:30",) * 5 + ("", "")),
            ("Zaterdag open", ("09:00-18:00",) * 6 + ("",)),
        ):
            item = NamedItem(
                self._new_id("kantooruren"),
                name,
                dict(zip(WEEKDAYS, hours, strict=True)),
            )
            self.office_hours[item.id] = item
        for name in TEMPLATE_NAMES:
            item = NamedItem(self._new_id("hdtemplate"), name)
            self.hot_desk_templates[item.id] = item
        for index in range(dids):
            self.add_did(
                route=list(self.routes)[index % len(self.routes)],
                backuproute=next(iter(self.backup_routes)) if index % 2 == 0 else "0",
                feestdagen=next(iter(self.holidays)),
                vakanties=list(self.vacations)[index % 2] if index < 2 else "0",
                kantooruren=next(iter(self.office_hours)),
            )
        numbers = [d.number for d in self.dids.values()]
        for index in range(sip_accounts):
            account = self.add_sip_account(
                did_out=numbers[index % len(numbers)] if numbers else ""
            )
            account.logname = f"{ROOMS[index % len(ROOMS)]} {account.voornaam}"
            account.online = index % 4 != 3
        for index in range(indicators):
            name = INDICATOR_NAMES[index % len(INDICATOR_NAMES)]
            if index >= len(INDICATOR_NAMES):
                name = f"{name} {index // len(INDICATOR_NAMES) + 1}"
            self.add_indicator(name, active=index == 0)
        accounts = list(self.sip_accounts)
        templates = list(self.hot_desk_templates)
        for index in range(desks):
            self.add_hot_desk(
                f"Flexplek {index + 1}",
                sipaccount=accounts[index]
                if index < len(accounts) and index % 2 == 0
                else "0",
                template=templates[index % len(templates)],
            )
        self._seed_calls(rng.randint(4, 8))

    def _random_number(self) -> str:
        """A Belgian outside number, national format."""
        rng = self.random
        return "04" + "".join(str(rng.randint(0, 9)) for _ in range(8))

    def _seed_calls(self, count: int) -> None:
        rng = self.random
        now = int(self.clock())
        local_now = datetime.fromtimestamp(now, LOCAL_ZONE)
        midnight = int(
            local_now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        )
        accounts = list(self.sip_accounts.values())
        if not accounts:
            return
        for index in range(count + 2):
            account = accounts[index % len(accounts)]
            if index < count:
                start = max(midnight, now - rng.randint(60, 6 * 3600))
            else:
                start = midnight - rng.randint(3600, 20 * 3600)
            incoming = rng.random() < 0.6
            answered = rng.random() < 0.8
            outside = self._random_number()
            self.add_call(
                van=outside if incoming else account.did_out,
                naar=account.did_out if incoming else outside,
                sipaccount=account.username,
                richting="in" if incoming else "uit",
                status="beantwoord" if answered else "gemist",
                duur=rng.randint(15, 900) if answered else 0,
                start=start,
            )

    # ------------------------------------------------- state for tests

    def add_sip_account(
        self,
        *,
        username: str | None = None,
        logname: str | None = None,
        naam: str | None = None,
        voornaam: str | None = None,
        did_out: str = "",
        online: bool = True,
    ) -> SipAccount:
        """Create a SIP account (seeded details for what is not given)."""
        rng = self.random
        account_id = self._new_id("sipacc")
        first = voornaam or rng.choice(FIRST_NAMES)
        account = SipAccount(
            id=account_id,
            username=username or f"sipaccount{len(self.sip_accounts) + 1}",
            logname=logname or f"Bureau {first}",
            naam=naam or rng.choice(LAST_NAMES),
            voornaam=first,
            did_out=did_out,
            user_agent=rng.choice(USER_AGENTS),
            online=online,
            latency_ms=rng.randint(8, 60),
        )
        self.sip_accounts[account.id] = account
        return account

    def add_did(
        self,
        number: str | None = None,
        *,
        route: str | None = None,
        backuproute: str = "0",
        feestdagen: str = "0",
        vakanties: str = "0",
        kantooruren: str = "0",
    ) -> Did:
        """Create a DID routed to ``route`` (the first route when not given)."""
        if number is None:
            area = self.random.choice(("2", "3", "9"))
            number = (
                "0" + area + "".join(str(self.random.randint(0, 9)) for _ in range(7))
            )
        did = Did(
            id=self._new_id("did"),
            number=number,
            route=route if route is not None else next(iter(self.routes), "0"),
            backuproute=backuproute,
            feestdagen=feestdagen,
            vakanties=vakanties,
            kantooruren=kantooruren,
        )
        self.dids[did.id] = did
        return did

    def add_indicator(self, name: str, *, active: bool = False) -> Indicator:
        """Create a function indicator."""
        indicator = Indicator(self._new_id("indicator"), name, active)
        self.indicators[indicator.id] = indicator
        return indicator

    def add_hot_desk(
        self, name: str, *, sipaccount: str = "0", template: str = "0"
    ) -> HotDesk:
        """Create a hot desk (``sipaccount`` and ``template`` are ids, "0": none)."""
        desk = HotDesk(self._new_id("hddesk"), name, sipaccount, template)
        self.hot_desks[desk.id] = desk
        return desk

    def add_call(
        self,
        *,
        van: str,
        naar: str,
        sipaccount: str = "",
        richting: str = "in",
        status: str = "beantwoord",
        duur: int = 60,
        start: float | None = None,
    ) -> CallRecord:
        """Add a call to the history (``start`` defaults to now)."""
        record = CallRecord(
            id=self._new_id("call"),
            start=int(self.clock() if start is None else start),
            van=van,
            naar=naar,
            duur=duur,
            richting=richting,
            sipaccount=sipaccount,
            status=status,
        )
        self.calls[record.id] = record
        return record

    def _now(self) -> float:
        """``clock()``, looked up at each call: tests may swap the clock."""
        return self.clock()

    def wskey(self, username: str) -> str:
        """The push channel key get.php ``m=wskey`` gives ``username``."""
        return hmac.new(
            self.api_key.encode(), f"wskey{username}".encode(), hashlib.sha256
        ).hexdigest()[:32]

    def wskey_valid(self, username: str, wskey: str) -> bool:
        """Whether ``wskey`` is ``username``'s push key."""
        return hmac.compare_digest(self.wskey(username), wskey)

    @property
    def push_url(self) -> str | None:
        """Where the socket.io push server listens (``None`` until started)."""
        return self.push.url

    def local_extensions(self, scope: str | None) -> set[str]:
        """The SIP usernames: what a control-started call rings or comes from."""
        return {account.username for account in self.sip_accounts.values()}

    def _call_account(self, call: Call) -> str:
        """The SIP account a call belongs to: the callee's for an inbound call."""
        if call.direction is Direction.INBOUND:
            return call.callee_extension or ""
        return call.caller_extension or ""

    def _shown_number(self, number: str, extension: str | None) -> str:
        """A SIP account's side of a call as the history shows it: its DIDout."""
        if extension is None:
            return number
        try:
            return self.sip_account(extension).did_out or extension
        except KeyError:
            return number

    def _history_record(self, call: Call, state: CallState) -> CallRecord:
        now = self.book.clock()
        return CallRecord(
            id=call.id,
            start=int(call.started_at),
            van=self._shown_number(call.caller, call.caller_extension),
            naar=self._shown_number(call.callee, call.callee_extension),
            duur=call.talk_seconds(now),
            richting=HISTORY_DIRECTION[call.direction],
            sipaccount=self._call_account(call),
            status=HISTORY_STATUS[state],
        )

    def history(self) -> dict[str, CallRecord]:
        """The call history now: the seeded records and every model call."""
        return {
            **self.calls,
            **{
                call.id: self._history_record(call, state)
                for call, state in self.book.at()
            },
        }

    def sip_account(self, username: str) -> SipAccount:
        """The SIP account with ``SIPusername`` ``username`` (KeyError if none)."""
        for account in self.sip_accounts.values():
            if account.username == username:
                return account
        raise KeyError(username)

    def set_online(self, username: str, online: bool) -> None:
        """Register or unregister a SIP account's phone."""
        self.sip_account(username).online = online

    def did(self, number: str) -> Did:
        """The DID with phone number ``number`` (KeyError if none)."""
        for did in self.dids.values():
            if did.number == number:
                return did
        raise KeyError(number)

    def indicator_state(self, indicator_id: str) -> bool:
        """Whether a function indicator is active."""
        return self.indicators[str(indicator_id)].actief

    def set_indicator(self, indicator_id: str, active: bool) -> None:
        """Switch a function indicator on or off."""
        self.indicators[str(indicator_id)].actief = active

    def hot_desk(self, desk_id: str) -> HotDesk:
        """A hot desk by id."""
        return self.hot_desks[str(desk_id)]

    def calls_on(self, day: str) -> list[CallRecord]:
        """Calls of one local day (``yyyymmdd``), oldest first."""
        return sorted(
            (c for c in self.history().values() if c.date == day),
            key=lambda c: c.start,
        )

    def today(self) -> str:
        """The simulator's current local day as ``yyyymmdd``."""
        return local_text(self.clock(), "%Y%m%d")

    # --------------------------------------------------- attempts limit

    @property
    def locked(self) -> bool:
        """Whether the API answers every request with head 13 right now."""
        if self.locked_until is None:
            return False
        if self.clock() < self.locked_until:
            return True
        self.clear_lockout()
        return False

    def lock_out(self, seconds: float | None = None) -> None:
        """Lock the API now, as too many failed attempts would."""
        self.locked_until = self.clock() + (
            self.lockout_seconds if seconds is None else seconds
        )

    def clear_lockout(self) -> None:
        """End a lock and forget earlier failures."""
        self.locked_until = None
        self.failed_attempts.clear()

    def _record_failure(self) -> None:
        now = self.clock()
        self.failed_attempts = [
            t for t in self.failed_attempts if now - t < self.attempt_window
        ]
        self.failed_attempts.append(now)
        if len(self.failed_attempts) >= self.max_attempts:
            self.locked_until = now + self.lockout_seconds

    # ------------------------------------------------------------- HTTP

    def banner(self) -> list[str]:
        """URL and the four credentials, for the command line."""
        return [
            *super().banner(),
            f"Base URL: {self.url}/api/ (get.php, update.php, call.php)",
            f"apiID: {self.api_id}",
            f"API key: {self.api_key}",
            f"knummer: {self.customer_number}",
            f"password: {self.password}",
            f"Push channel (socket.io): {self.push_url}",
        ]

    def describe(self) -> dict[str, object]:
        """Sizes and switchable state for ``GET /_sim/state``."""
        return {
            "api_id": self.api_id,
            "customer_number": self.customer_number,
            "sip_accounts": len(self.sip_accounts),
            "dids": len(self.dids),
            "indicators": {i.id: i.actief for i in self.indicators.values()},
            "hot_desks": len(self.hot_desks),
            "calls": len(self.history()),
            "push_url": self.push_url,
            "calls_placed": len(self.calls_placed),
            "backend_down": self.backend_down,
            "locked_until": self.locked_until,
            "failed_attempts": len(self.failed_attempts),
        }

    def register_routes(self, app: web.Application) -> None:
        """GET and POST on ``/api/get.php``, ``/api/update.php``, ``/api/call.php``."""
        for endpoint in ENDPOINTS:
            app.router.add_get(f"/api/{endpoint}", self.handle)
            app.router.add_post(f"/api/{endpoint}", self.handle)
        app.router.add_get(CONTROL_PREFIX + "push", self._control_push)
        app.router.add_post(CONTROL_PREFIX + "push/drop", self._control_push_drop)
        app.router.add_post(CONTROL_PREFIX + "push/refuse", self._control_push_refuse)

    async def _control_push(self, request: web.Request) -> web.Response:
        return web.json_response(self.push.as_json())

    async def _control_push_drop(self, request: web.Request) -> web.Response:
        dropped = await self.push.drop_all()
        return web.json_response({"dropped": dropped, **self.push.as_json()})

    async def _control_push_refuse(self, request: web.Request) -> web.Response:
        try:
            refuse = (await read_json_object(request)).get("refuse")
        except ValueError:
            refuse = None
        if not isinstance(refuse, bool):
            return web.json_response(
                {"error": 'body must be {"refuse": true|false}'}, status=400
            )
        self.push.refusing = refuse
        return web.json_response(self.push.as_json())

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> str:
        """Serve the API, and the push channel on a port of its own."""
        url = await super().start(host, port, ssl_context=ssl_context)
        await self.push.start(host, ssl_context)
        return url

    async def stop(self) -> None:
        """Stop the push channel, then the API."""
        await self.push.stop()
        await super().stop()

    async def _params(self, request: web.Request) -> Params:
        """Query parameters, then form fields, in the order sent."""
        params: Params = list(request.query.items())
        if request.method == "POST" and request.body_exists:
            body = (await request.read()).decode(errors="replace")
            params.extend(parse_qsl(body, keep_blank_values=True))
        return params

    async def action_name(self, request: web.Request) -> str | None:
        """``get:<m>``, ``update:<m>`` or ``call``."""
        endpoint = request.path.rsplit("/", 1)[-1].removesuffix(".php")
        if endpoint == "call":
            return endpoint
        menu = dict(await self._params(request)).get("m", "")
        return f"{endpoint}:{menu}"

    def auth_revoked_response(self) -> web.Response:
        """A revoked credential: HTTP 200 with head 15 (password incorrect)."""
        return self._reply(head_error(15), "json")

    def forbidden_response(self, action: str | None) -> web.Response:
        """HTTP 200 with head 16 (API user not allowed)."""
        return self._reply(head_error(16), "json")

    def _reply(self, data: object, fmt: str) -> web.Response:
        if fmt == "xml":
            text, content_type = to_xml(data), XML_CONTENT_TYPE
        elif fmt == "php":
            text, content_type = php_serialize(data), PHP_CONTENT_TYPE
        else:
            text, content_type = php_json(data), JSON_CONTENT_TYPE
        return web.Response(body=text.encode(), headers={"Content-Type": content_type})

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, then run the endpoint; errors become the envelope."""
        endpoint = request.path.rsplit("/", 1)[-1]
        params = await self._params(request)
        values = dict(params)
        fmt = values.get("f", "json")
        if fmt not in FORMATS:
            fmt = "json"
        try:
            answer = self._dispatch(endpoint, params, values)
        except HeadError as err:
            if err.code in AUTH_FAILURES:
                self._record_failure()
            return self._reply(head_error(err.code), fmt)
        except BodyError as err:
            return self._reply(body_error(err.code), fmt)
        return self._reply(answer, fmt)

    def _dispatch(
        self, endpoint: str, params: Params, values: Mapping[str, str]
    ) -> Answer:
        """Authenticate, then run the endpoint (raises HeadError or BodyError)."""
        self._authenticate(endpoint, params, values)
        if self.backend_down:
            raise BodyError(1)
        if endpoint == "get.php":
            return self._get(values)
        if endpoint == "update.php":
            return self._update(values)
        return self._call(values)

    def _authenticate(
        self, endpoint: str, params: Params, values: Mapping[str, str]
    ) -> None:
        """The checks every endpoint shares, in the order the docstring lists."""
        if self.locked:
            raise HeadError(13)
        if any(not values.get(name) for name in REQUIRED[endpoint]):
            raise HeadError(10)
        if values["f"] not in FORMATS:
            raise HeadError(12)
        if values["apiID"] != self.api_id or values["knummer"] != self.customer_number:
            raise HeadError(16)
        try:
            ts = int(values["ts"])
        except ValueError:
            raise HeadError(17) from None
        if abs(ts - self.clock()) > TS_WINDOW:
            raise HeadError(11)
        signed = [(k, v) for k, v in params if k != "pass"]
        expected = expected_signature(signed, self.api_key, endpoint=endpoint)
        if not hmac.compare_digest(values["pass"].lower(), expected):
            raise HeadError(14)
        if not hmac.compare_digest(values["pwd"], self.pwd):
            raise HeadError(15)

    # ---------------------------------------------------------- get.php

    def _collection(self, menu: str) -> Mapping[str, object]:
        collections: dict[str, Mapping[str, object]] = {
            "sipacc": self.sip_accounts,
            "did": self.dids,
            "feestdagen": self.holidays,
            "vakanties": self.vacations,
            "kantooruren": self.office_hours,
            "routes": self.routes,
            "backuproutes": self.backup_routes,
            "calls": self.history(),
            "indicator": self.indicators,
            "hddesk": self.hot_desks,
            "hdtemplate": self.hot_desk_templates,
        }
        return collections[menu]

    def _get(self, values: Mapping[str, str]) -> Answer:
        menu, item_id = values["m"], values["id"]
        if menu not in GET_MENUS:
            raise HeadError(17)
        if menu == "wskey":
            return {"username": item_id, "wskey": self.wskey(item_id)}
        if not DIGITS.match(item_id):
            raise HeadError(17)
        items = self._collection(menu)
        if item_id != "0":
            item = items.get(str(int(item_id)))
            if item is None:
                raise BodyError(2)
            return self._detail(item)
        return self._listing(menu, values.get("filter", ""))

    @staticmethod
    def _detail(item: object) -> dict[str, str]:
        if isinstance(item, SipAccount):
            return {"id": item.id, **item.as_json()}
        assert isinstance(item, Did | NamedItem | Indicator | HotDesk | CallRecord)
        return item.as_json()

    def _listing(self, menu: str, needle: str) -> object:
        """``{"id_<n>": ...}`` for every item the filter keeps; ``[]`` when none."""
        low = needle.lower()
        listing: dict[str, object] = {}
        if menu == "sipacc":
            for account in self.sip_accounts.values():
                if low in account.logname.lower() or (
                    needle.isdigit() and needle in account.did_out
                ):
                    listing[f"id_{account.id}"] = account.as_json()
        elif menu == "did":
            for did in self.dids.values():
                if needle in did.number:
                    listing[f"id_{did.id}"] = did.number
        elif menu == "calls":
            if needle and not DATE_FILTER.match(needle):
                raise HeadError(17)
            for call in self.calls_on(needle or self.today()):
                listing[f"id_{call.id}"] = call.as_json()
        else:
            named: Mapping[str, object] = self._collection(menu)
            for item in named.values():
                assert isinstance(item, NamedItem | Indicator | HotDesk)
                if low in item.naam.lower():
                    listing[f"id_{item.id}"] = item.naam
        return listing or []

    # ------------------------------------------------------- update.php

    def _update(self, values: Mapping[str, str]) -> Answer:
        menu, item_id, p = values["m"], values["id"], values["p"]
        if menu not in UPDATE_MENUS or not DIGITS.match(item_id):
            raise HeadError(17)
        item_id = str(int(item_id))
        if menu == "indicator":
            indicator = self.indicators.get(item_id)
            if indicator is None or p not in ("0", "1"):
                raise HeadError(17)
            indicator.actief = p == "1"
        elif menu == "did":
            did = self.dids.get(item_id)
            if did is None:
                raise HeadError(17)
            changes = self._parse_p(p, DID_KEYS)
            for attribute, value in changes.items():
                self._check_reference(attribute, value)
            for attribute, value in changes.items():
                setattr(did, attribute, value)
        else:
            desk = self.hot_desks.get(item_id)
            if desk is None:
                raise HeadError(17)
            changes = self._parse_p(p, HOT_DESK_KEYS)
            for attribute, value in changes.items():
                self._check_reference(attribute, value)
            for attribute, value in changes.items():
                setattr(desk, attribute, value)
        return success()

    @staticmethod
    def _parse_p(p: str, keys: Mapping[str, str]) -> dict[str, str]:
        """``r140|b150`` or ``r=140|b=150`` -> {attribute: id}; 17 when malformed."""
        changes: dict[str, str] = {}
        for part in p.split("|"):
            match = P_PART.match(part.strip())
            if match is None or match.group(1) not in keys:
                raise HeadError(17)
            changes[keys[match.group(1)]] = str(int(match.group(2)))
        return changes

    def _check_reference(self, attribute: str, value: str) -> None:
        """A referenced id must exist; "0" (none) is allowed except for ``route``."""
        targets: dict[str, Mapping[str, object]] = {
            "route": self.routes,
            "backuproute": self.backup_routes,
            "feestdagen": self.holidays,
            "vakanties": self.vacations,
            "kantooruren": self.office_hours,
            "sipaccount": self.sip_accounts,
            "template": self.hot_desk_templates,
        }
        if value == "0" and attribute != "route":
            return
        if value not in targets[attribute]:
            raise HeadError(17)

    # --------------------------------------------------------- call.php

    def _call(self, values: Mapping[str, str]) -> Answer:
        sipacc, telnr = values["sipacc"], values["telnr"]
        if not TELNR.match(telnr):
            raise HeadError(17)
        try:
            account = self.sip_account(sipacc)
        except KeyError:
            raise BodyError(20) from None
        if not account.online:
            raise BodyError(21)
        self.calls_placed.append(PlacedCall(sipacc, telnr, self.clock()))
        self.book.start(
            caller=account.did_out or account.username,
            callee=telnr,
            caller_extension=account.username,
            answer_after=CLICK_ANSWER_SECONDS,
            talk=CLICK_TALK_SECONDS,
        )
        return success()

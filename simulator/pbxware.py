"""Fake Bicom PBXware API server, written from the vendor's API documentation.

The API is one PHP script: ``GET|POST /`` or ``/index.php`` with ``apikey``,
``action=pbxware.<object>.<method>`` and the action's parameters in the query string
or a form body. Every answer is HTTP 200; failures are ``{"error": "..."}``. Lists
are objects keyed by ID, and an empty list is ``[]``. Bodies are PHP
``json_encode`` output (compact, ``/`` escaped) sent as ``text/html``.

In multi-tenant mode the tenant-scoped actions need ``server`` set to a tenant ID;
ID 1 is the Master tenant and cannot be used. In single-tenant mode ``server`` is
optional and ignored; the one internal server has ID ``"1"``.

Calls come from the shared model (:mod:`simulator.calls`; a call's ``scope`` is
its tenant ID) besides the seeded calls in progress (``Tenant.calls``, started by
:meth:`PbxwareSimulator.start_call`, always answered). Assumptions where the
reference only names keys:

- ``monitor.live_calls`` lists every call that rings or is answered, keyed by
  its Asterisk-style ID ``"<start unix time>.<n>"``, with ``from``, ``to`` (the
  numbers) and ``timestamp`` (the start, unix seconds) and nothing else; no
  call at all is the text ``Live Calls: 0``. ``monitor.list``'s ``on_call`` is
  true only once a call is answered, so a call in live_calls whose extension is
  not ``on_call`` is ringing.
- ``cdr.download`` lists calls that are over, oldest first. ``start``/``end``
  (``mmm-dd-YYYY``) are required; ``starttime``/``endtime`` (``hh:mm:ss``)
  default to the whole days; the window applies to the call's start in
  ``timezone`` (default the PBX's zone, :attr:`PbxwareSimulator.timezone`, UTC).
  ``status`` is a bitmask of 8 Answered, 4 Unanswered, 2 Busy, 1 Failed (the
  values are powers of two); a missed call is ``Unanswered``. ``cdrtype`` 1
  keeps inbound calls, 2 outbound ones, 3 (the default) all, internal ones
  included. ``ext``/``extdst`` are comma lists of source/destination numbers;
  ``trunk`` with ``ext``, or ``trunkdst`` with ``extdst``, is an error; a trunk
  filter keeps calls that came from (``trunk``) or went to (``trunkdst``) an
  outside number. ``page`` starts at 1, ``limit`` is 1..1000 (default 16);
  ``records`` counts the rows of this page and ``next_page`` says whether a
  later page has rows; ``header`` is null and ``csv`` empty when there are none.
  Every CSV value is a string: ``Date/Time`` the start as unix seconds, ``Total
  Duration`` ringing plus talk, ``Rating Duration`` the talk time (seconds),
  ``Rating Cost`` two decimals, ``ID`` the call ID, ``Recording Path`` a path or
  ``""``, ``Recording Available`` ``Yes``/``No``, ``Location Type`` the
  extension's location (``Local``/``Remote``). Error texts are assumed.
- ``recording.start``/``stop`` take ``ext`` (an extension number); an extension
  in no answered call (or, for stop, not recording) gets the documented
  ``{"success": "No calls have been updated.", "affected_calls": 0}``.
- ``ext.es.callfwd.get``/``set`` keep one ``state`` (yes, no or pin) per
  extension, like DND.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
import json
import re
import time
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from .calls import ACTIVE_STATES, Call, CallBook, CallState, Direction, SimClock
from .core import HTML_CONTENT_TYPE, SeededRandom, SimulatorBase

MASTER_SERVER_ID = "1"
INVALID_API_KEY = "Invalid API key."
NO_PERMISSION = "API key does not have permission for this action."
"""ASSUMED: the documents say API keys carry permissions, not how a refusal reads."""

DEST_TYPES: dict[int, str] = {
    0: "Extension",
    1: "Multi User",
    2: "Ring Group",
    3: "IVR",
    4: "Queues",
    5: "External Number",
    6: "IVR Tree",
    7: "Voicemail",
    8: "Remote Access",
    9: "Conference",
}
"""``dest_type`` digit of did.add/did.edit -> the ``type`` name in did.list."""

SERVICES = ("asterisk", "mysql", "httpd", "ntpd", "fail2ban")
LAGGED_MS = 300
"""Qualify time above which Asterisk reports a peer as LAGGED."""

FIRST_NAMES = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Daan", "Sophie",
    "Milan", "Julia", "Sem", "Tess", "Finn", "Anna", "Levi", "Sara", "Adam",
    "Lotte", "Jesse", "Eva", "Thomas", "Nora", "David", "Lina", "Marko", "Ivana",
    "Amir", "Lejla", "Hannah",
)  # fmt: skip
LAST_NAMES = (
    "de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos",
    "Peters", "Hendriks", "Dekker", "Brouwer", "Kovac", "Hodzic", "Smith",
    "Brown", "Wilson", "Taylor", "Clarke", "Walker", "Wright", "Hughes", "Evans",
    "Young", "King",
)  # fmt: skip

# (ua_id, ua_name, ua_fullname, User-Agent of a registered phone, has hardware)
DEVICES = (
    ("50", "generic_sip", "Generic SIP", "Zoiper rv2.10.20.2", False),
    ("196", "yealink_t41s", "Yealink T41S", "Yealink SIP-T41S 66.86.0.15", True),
    ("318", "grandstream_grp2614", "Grandstream GRP2614",
     "Grandstream GRP2614 1.0.5.67", True),
    ("411", "glocom", "gloCOM", "gloCOM 7.3.0 (Windows)", False),
)  # fmt: skip

TENANT_PROFILES = (
    # name, tenantcode, package_id, package, country_id, country_code
    ("acme.pbx.example.com", "101", 1, "Business", 153, 31),
    ("globex.pbx.example.com", "102", 2, "Enterprise", 229, 44),
    ("initech.pbx.example.com", "103", 1, "Business", 28, 387),
    ("umbrella.pbx.example.com", "104", 3, "Call Center", 230, 1),
)

# did.edit parameters -> the vendor's validation regex.
DID_EDIT_RULES: dict[str, re.Pattern[str]] = {
    "name": re.compile(r".*", re.DOTALL),
    "trunk": re.compile(r"^\d+$"),
    "did": re.compile(r"^\d+$"),
    "dest_type": re.compile(r"^\d{1}$"),
    "destination": re.compile(r"^\d+$"),
    "disabled": re.compile(r"^(0|1)$"),
    "did2": re.compile(r"^\d*$"),
    "groupid": re.compile(r"^\d*$"),
    "e164": re.compile(r"^\d+$"),
    "e164_2": re.compile(r"^\d+$"),
    "callerid": re.compile(r"^[\+\w\s%]+(\s*<[\+\w%]+>)?$"),
    "splan": re.compile(r"^(0|-1|2147483647)$"),
    "billingext": re.compile(r"^\d{3}$"),
    "call_rating_ext": re.compile(r"^\d{3}$"),
    "greeting": re.compile(r"^greeting\-did\-([\w\-]+)$"),
    "stripn": re.compile(r"^\d+$"),
    "qprio": re.compile(r"^\d{1,2}$"),
    "codec": re.compile(
        r"^(ulaw|alaw|g722|opus|g723|g726|g726aal2|g729|gsm|ilbc|speex|speex16"
        r"|speex32|lpc10|h261|h263|h263p|h264)+$"
    ),
    "ringtone": re.compile(r"^.+$"),
    "recordcall": re.compile(r"^(1|0|2)$"),
    "state_text": re.compile(r"^.+$"),
    "city": re.compile(r"^.+$"),
    "areacode": re.compile(r"^.+$"),
    "sms_enabled": re.compile(r"^(1|0)$"),
    "preserve_callerid": re.compile(r"^(1|0)$"),
}
# did.edit parameters that change what did.list shows -> (Did attribute, converter).
DID_EDIT_FIELDS: dict[str, tuple[str, Callable[[str], object]]] = {
    "name": ("name", str),
    "trunk": ("trunk", str),
    "did": ("number", str),
    "did2": ("number2", lambda value: value or None),
    "dest_type": ("dest_type", int),
    "destination": ("destination", str),
    "disabled": ("enabled", lambda value: value == "0"),
    "e164": ("e164", str),
    "e164_2": ("e164_2", str),
    "sms_enabled": ("sms_enabled", str),
}
DIGITS = re.compile(r"^\d+$")
DID_EXT_FILTER = re.compile(r"^[\d,]+$")
ANSWERED_STATES = frozenset({CallState.IN_CALL, CallState.ENDED})
CDR_HEADER = (
    "Tenant", "From", "To", "Date/Time", "Total Duration", "Rating Duration",
    "Rating Cost", "Status", "ID", "Recording Path", "Recording Available",
    "Location Type",
)  # fmt: skip
CDR_DEFAULT_LIMIT = 16
CDR_MAX_LIMIT = 1000
CDR_ANSWERED, CDR_UNANSWERED, CDR_BUSY, CDR_FAILED = 8, 4, 2, 1
CDR_STATUS_NAMES = {CDR_ANSWERED: "Answered", CDR_UNANSWERED: "Unanswered"}
CDR_TYPE_INCOMING, CDR_TYPE_OUTGOING, CDR_TYPE_ALL = "1", "2", "3"
CDR_DATE = re.compile(r"^[A-Z][a-z]{2}-\d{2}-\d{4}$")
CDR_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}$")
CDR_FILTER = re.compile(r"^[\d,]+$")
RECORDING_DONE = "Call status updated successfully."
RECORDING_NONE = "No calls have been updated."
FORWARD_STATES = ("yes", "no", "pin")
COST_PER_MINUTE = 0.02
HISTORY_CALLS = 6
"""Finished calls seeded per tenant in the four hours before the start, so
cdr.download has rows."""


class ApiError(Exception):
    """A request the API answers with ``{"error": message}``."""


@dataclass(frozen=True)
class RawText:
    """A body the API sends as plain text instead of JSON."""

    text: str


@dataclass
class Extension:
    """One extension and what the monitor knows about its phone."""

    id: str
    ext: str
    name: str
    email: str
    registered: bool = False
    ip: str = ""
    user_agent: str = ""
    dnd: bool = False
    on_call: bool = False
    enabled: bool = True
    latency_ms: int = 20
    """Qualify time; above ``LAGGED_MS`` the peer shows as LAGGED."""
    unreachable: bool = False
    """Unregistered peer status: UNREACHABLE when true, else UNKNOWN."""
    unset_as: str | bool = ""
    """How monitor.list shows a dnd/on_call that is not set: ``''`` or ``false``."""
    protocol: str = "sip"
    location: str = "local"
    ua_id: str = "50"
    ua_name: str = "generic_sip"
    ua_fullname: str = "Generic SIP"
    macaddress: str = ""
    sn: str = ""
    linenum: str = "1"
    user_location: str = ""
    department: str = ""
    callfwd: str = "no"
    """Call forwarding state (ext.es.callfwd): yes, no or pin."""
    recording: bool = False
    """Whether the seeded call in progress is being recorded."""

    @property
    def lagged(self) -> bool:
        """Registered but answering qualify slowly."""
        return self.registered and self.latency_ms > LAGGED_MS

    @property
    def peer_status(self) -> str:
        """The Asterisk peer status shown by monitor.list."""
        if self.registered:
            word = "LAGGED" if self.lagged else "OK"
            return f"{word} ({self.latency_ms} ms)"
        return "UNREACHABLE" if self.unreachable else "UNKNOWN"

    def ext_list_item(self) -> dict[str, str]:
        """The entry of pbxware.ext.list (every value a string)."""
        return {
            "name": self.name,
            "email": self.email,
            "protocol": self.protocol,
            "ext": self.ext,
            "location": self.location,
            "ua_id": self.ua_id,
            "ua_name": self.ua_name,
            "ua_fullname": self.ua_fullname,
            "status": "enabled" if self.enabled else "disabled",
            "macaddress": self.macaddress,
            "sn": self.sn,
            "linenum": self.linenum,
            "user_location": self.user_location,
            "department": self.department,
        }

    def monitor_item(self) -> dict[str, object]:
        """The entry of pbxware.monitor.list."""
        return {
            "name": self.name,
            "ext": self.ext,
            "ip": self.ip if self.registered else "",
            "status": self.peer_status,
            "ua": self.user_agent if self.registered else "",
            "dnd": True if self.dnd else self.unset_as,
            "on_call": True if self.on_call else self.unset_as,
        }


Ext = Extension


@dataclass
class Did:
    """One DID (inbound number) and where it routes."""

    id: str
    number: str
    trunk: str
    dest_type: int
    destination: str
    enabled: bool = True
    number2: str | None = None
    e164: str = ""
    e164_2: str = ""
    sms_enabled: str | None = "0"
    name: str = ""

    @property
    def type_name(self) -> str:
        """The destination type as did.list names it."""
        return DEST_TYPES.get(self.dest_type, "Unknown")

    def list_item(self, server_id: str) -> dict[str, object]:
        """The entry of pbxware.did.list."""
        return {
            "number": self.number,
            "number2": self.number2,
            "server": server_id,
            "trunk": self.trunk,
            "type": self.type_name,
            "ext": self.destination,
            "status": "enabled" if self.enabled else "disabled",
            "e164": self.e164,
            "e164_2": self.e164_2,
            "sms_enabled": self.sms_enabled,
        }


@dataclass
class LiveCall:
    """A call in progress."""

    id: str
    source: str
    destination: str
    timestamp: int

    def as_json(self) -> dict[str, object]:
        """The entry of pbxware.monitor.live_calls."""
        return {
            "from": self.source,
            "to": self.destination,
            "timestamp": self.timestamp,
        }


@dataclass
class LicenseCounter:
    """Used and licensed count of one licensed feature."""

    inuse: int
    max: int


@dataclass
class Tenant:
    """One tenant (or, in single-tenant mode, the one internal server)."""

    id: str
    name: str
    tenantcode: str
    package_id: int
    package: str
    ext_length: int
    country_id: int
    country_code: int
    domain: str
    services: dict[str, str]
    """System-wide service states; the same dict for every tenant."""
    extensions: dict[str, Extension] = field(default_factory=dict)
    dids: dict[str, Did] = field(default_factory=dict)
    calls: dict[str, LiveCall] = field(default_factory=dict)
    licensing: dict[str, LicenseCounter] = field(default_factory=dict)
    """ivr, queue, conference; ``ext`` in use is always ``len(extensions)``."""
    ext_license_max: int = 100
    calls_last_hour: int = 0
    calls_today: int = 0
    answered_today: int = 0

    def by_number(self, number: str) -> Extension | None:
        """The extension with extension number ``number``."""
        return next((e for e in self.extensions.values() if e.ext == number), None)

    def license_counters(self) -> dict[str, LicenseCounter]:
        """Every licensing counter, ``ext`` first."""
        return {
            "ext": LicenseCounter(len(self.extensions), self.ext_license_max),
            **self.licensing,
        }


TenantState = Tenant

type Params = Mapping[str, str]
type Action = Callable[[Params], object]


def php_json(data: object) -> str:
    """Encode like PHP's json_encode: compact, ASCII only, ``/`` escaped."""
    return json.dumps(data, separators=(",", ":")).replace("/", "\\/")


class PbxwareSimulator(SimulatorBase):
    """A stateful Bicom PBXware API."""

    vendor = "pbxware"
    php_script = "/opt/pbxware/pw/www/api/index.php"

    def __init__(
        self,
        *,
        extensions: int = 10,
        multi_tenant: bool = False,
        tenants: int = 2,
        api_key: str = "sim-pbxware-0123456789",
        dids: int = 5,
        seed: int = 1,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` (unix seconds; default the wall clock) drives the calls."""
        super().__init__(seed=seed)
        self.api_key = api_key
        self.multi_tenant = multi_tenant
        self.services: dict[str, str] = dict.fromkeys(SERVICES, "running")
        self.cpu = self.random.randint(8, 45)
        self.memory = self.random.randint(30, 70)
        self.disk = self.random.randint(20, 80)
        self.version = "7.2 (build 2.1.13)"
        self.channels = "512"
        self.serial = "-".join(f"{self.random.getrandbits(16):04X}" for _ in range(4))
        self.tenants: dict[str, Tenant] = {}
        self._next_ext_id = 1
        self._next_did_id = 1
        self._next_call = 1
        self.timezone = "UTC"
        """The PBX's own zone: cdr.download's default ``timezone``."""
        self.call_book = CallBook(SimClock(clock), self._call_id)
        self._history_random = SeededRandom(seed * 7919 + 3)
        self._action_table = self._actions()
        count = max(1, tenants) if multi_tenant else 1
        for index in range(count):
            tenant = self._new_tenant(index)
            self.tenants[tenant.id] = tenant
            self._seed_tenant(tenant, extensions, dids)
        for tenant in self.tenants.values():
            self._seed_history(tenant)
        self._counted_from = self.book.clock()
        """Model calls from here on add to dashboard.calls (the seeded
        counters already stand for what came before)."""

    @classmethod
    def from_cli(cls, options: argparse.Namespace) -> Self:
        """Build from ``python -m simulator pbxware ...`` options."""
        simulator = cls(
            extensions=options.extensions,
            multi_tenant=options.multi_tenant,
            tenants=options.tenants,
            api_key=options.api_key or "sim-pbxware-0123456789",
            dids=options.dids,
            seed=options.seed,
        )
        if getattr(options, "frozen_clock", False):
            simulator.book.clock.freeze()
        return simulator

    # ------------------------------------------------------------ seeding

    def _new_tenant(self, index: int) -> Tenant:
        if not self.multi_tenant:
            return Tenant(
                id=MASTER_SERVER_ID,
                name="pbx.example.com",
                tenantcode="100",
                package_id=1,
                package="Business",
                ext_length=3,
                country_id=153,
                country_code=31,
                domain="example.com",
                services=self.services,
            )
        name, code, package_id, package, country_id, country_code = TENANT_PROFILES[
            index % len(TENANT_PROFILES)
        ]
        if index >= len(TENANT_PROFILES):
            name = f"tenant{index + 1}.pbx.example.com"
            code = f"{101 + index:03d}"
        return Tenant(
            id=str(index + 2),
            name=name,
            tenantcode=code,
            package_id=package_id,
            package=package,
            ext_length=3,
            country_id=country_id,
            country_code=country_code,
            domain=name.split(".", 1)[0] + ".example.com",
            services=self.services,
        )

    def _seed_tenant(self, tenant: Tenant, extensions: int, dids: int) -> None:
        rng = self.random
        tenant.ext_license_max = max(50, -(-extensions // 50) * 50)
        tenant.licensing = {
            "ivr": LicenseCounter(rng.randint(1, 4), 10),
            "queue": LicenseCounter(rng.randint(1, 5), 10),
            "conference": LicenseCounter(rng.randint(0, 3), 5),
        }
        exts = [self.add_extension(tenant.id) for _ in range(extensions)]
        for index, ext in enumerate(exts):
            ext.unset_as = "" if index % 3 else False
        registered = rng.sample(exts, round(len(exts) * 0.7))
        for ext in registered:
            ext.registered = True
        offline = [e for e in exts if not e.registered]
        for index, ext in enumerate(offline):
            ext.unreachable = index % 2 == 1
        if len(exts) >= 10 and offline:
            offline[-1].enabled = False
        for ext in rng.sample(exts, min(len(exts), max(1, len(exts) // 8))):
            ext.dnd = True
        callers = rng.sample(registered, min(len(registered), max(1, len(exts) // 5)))
        now = int(time.time())
        for ext in callers:
            self.start_call(
                ext.id,
                self._random_number(),
                server_id=tenant.id,
                started=now - rng.randint(5, 900),
            )
        idle = [e for e in registered if not e.on_call]
        if len(exts) >= 8 and idle:
            idle[0].latency_ms = rng.randint(350, 600)
        tenant.calls_last_hour = len(tenant.calls) + rng.randint(2, 12)
        tenant.calls_today = tenant.calls_last_hour + rng.randint(15, 80)
        tenant.answered_today = tenant.calls_today * 4 // 5
        self._seed_dids(tenant, dids)

    def _call_id(self, started: float) -> str:
        """An Asterisk-style unique ID: the start's unix time and a counter."""
        call_id = f"{int(started)}.{self._next_call}"
        self._next_call += 1
        return call_id

    def _seed_history(self, tenant: Tenant) -> None:
        """Finished calls before the start, answered and missed, in and out."""
        rng = self._history_random
        exts = [e.ext for e in tenant.extensions.values()]
        if not exts:
            return
        now = self.book.clock()
        for index in range(HISTORY_CALLS):
            ext = exts[index % len(exts)]
            outside = "0" + "".join(str(rng.randint(0, 9)) for _ in range(9))
            inbound = index % 3 != 2
            answered = index % 4 != 1
            self.book.start(
                caller=outside if inbound else ext,
                callee=ext if inbound else outside,
                caller_extension=None if inbound else ext,
                callee_extension=ext if inbound else None,
                scope=tenant.id,
                at=now - rng.randint(600, 4 * 3600),
                answer_after=rng.randint(3, 15) if answered else None,
                talk=rng.randint(20, 400),
                ring_seconds=rng.randint(15, 30),
            )

    def local_extensions(self, scope: str | None) -> set[str]:
        """The extension numbers of tenant ``scope`` (KeyError when unknown)."""
        return {e.ext for e in self.tenant(scope).extensions.values()}

    def call_scope(self, scope: str | None) -> str | None:
        """The tenant ID a control-started call belongs to (the first tenant
        when none is named; KeyError when unknown).
        """
        return self.tenant(scope).id

    def _tenant_calls(
        self, tenant: Tenant, calls: Iterable[tuple[Call, CallState]]
    ) -> list[tuple[Call, CallState]]:
        return [(c, s) for c, s in calls if (c.scope or tenant.id) == tenant.id]

    def _random_number(self) -> str:
        """An outside number (calls between extensions would put both on a call)."""
        return "0" + "".join(str(self.random.randint(0, 9)) for _ in range(9))

    def _seed_dids(self, tenant: Tenant, count: int) -> None:
        exts = list(tenant.extensions.values())
        routes = [(2, "600"), (3, "700"), (4, "800"), (5, "0612345678")]
        base = 31201234500 + 1000 * (int(tenant.id) - 1)
        for index in range(count):
            if exts and index % 2 == 0:
                dest_type, destination = 0, exts[(index // 2) % len(exts)].ext
            elif exts and index % 6 == 3:
                dest_type, destination = 7, exts[0].ext
            else:
                dest_type, destination = routes[(index // 2) % len(routes)]
            number = str(base + index)
            did = self.add_did(
                tenant.id,
                number=number,
                dest_type=dest_type,
                destination=destination,
                trunk=str(6099 + index % 2),
            )
            did.e164 = number
            if index == count - 1 and count > 2:
                did.enabled = False
            if index == 1:
                did.sms_enabled = "1"
            elif index == 2:
                did.sms_enabled = None
            elif index == 3:
                did.number2 = ""

    # ---------------------------------------------------- state for tests

    def tenant(self, server_id: str | None = None) -> Tenant:
        """A tenant by ID; the only (single-tenant) or first (multi) one for None."""
        if server_id is None or not self.multi_tenant:
            return next(iter(self.tenants.values()))
        return self.tenants[server_id]

    def add_extension(
        self,
        server_id: str | None = None,
        *,
        name: str | None = None,
        ext: str | None = None,
        email: str | None = None,
        registered: bool = False,
        dnd: bool = False,
        enabled: bool = True,
    ) -> Extension:
        """Create an extension (seeded details for what is not given)."""
        tenant = self.tenant(server_id)
        rng = self.random
        number = ext or str(
            max((int(e.ext) for e in tenant.extensions.values()), default=99) + 1
        )
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        full_name = name or f"{first} {last}"
        local = full_name.lower().replace(" ", ".")
        if any(e.email.startswith(local + "@") for e in tenant.extensions.values()):
            local = f"{local}.{number}"
        device = DEVICES[rng.randrange(len(DEVICES))]
        ua_id, ua_name, ua_fullname, user_agent, hardware = device
        remote = rng.random() < 0.2
        extension = Extension(
            id=str(self._next_ext_id),
            ext=number,
            name=full_name,
            email=email or f"{local}@{tenant.domain}",
            registered=registered,
            ip=(
                f"203.0.113.{rng.randint(2, 250)}"
                if remote
                else f"192.168.{int(tenant.id)}.{rng.randint(20, 250)}"
            ),
            user_agent=user_agent,
            dnd=dnd,
            enabled=enabled,
            latency_ms=rng.randint(4, 80),
            location="remote" if remote else "local",
            ua_id=ua_id,
            ua_name=ua_name,
            ua_fullname=ua_fullname,
            macaddress=("805EC0" + f"{rng.getrandbits(24):06X}" if hardware else ""),
            sn=f"{rng.getrandbits(32):08X}" if hardware else "",
            linenum="1",
            user_location="Remote office" if remote else "Head office",
            department=rng.choice(("", "1", "2", "1,3")),
        )
        self._next_ext_id += 1
        tenant.extensions[extension.id] = extension
        return extension

    def remove_extension(self, ext_id: str, server_id: str | None = None) -> None:
        """Delete an extension and end its calls (KeyError when unknown)."""
        tenant = self.tenant(server_id)
        extension = tenant.extensions.pop(ext_id)
        for call_id in [
            c.id for c in tenant.calls.values() if extension.ext == c.source
        ]:
            del tenant.calls[call_id]

    def add_did(
        self,
        server_id: str | None = None,
        *,
        number: str,
        dest_type: int = 0,
        destination: str = "100",
        trunk: str = "6099",
        enabled: bool = True,
    ) -> Did:
        """Create a DID."""
        tenant = self.tenant(server_id)
        did = Did(
            id=str(self._next_did_id),
            number=number,
            trunk=trunk,
            dest_type=dest_type,
            destination=destination,
            enabled=enabled,
            e164=number,
        )
        self._next_did_id += 1
        tenant.dids[did.id] = did
        return did

    def start_call(
        self,
        ext_id: str,
        to: str,
        server_id: str | None = None,
        *,
        started: int | None = None,
    ) -> LiveCall:
        """Put an extension on a call; it shows in live_calls and monitor.list."""
        tenant = self.tenant(server_id)
        extension = tenant.extensions[ext_id]
        timestamp = int(time.time()) if started is None else started
        call = LiveCall(
            id=f"{timestamp}.{self._next_call}",
            source=extension.ext,
            destination=to,
            timestamp=timestamp,
        )
        self._next_call += 1
        tenant.calls[call.id] = call
        extension.on_call = True
        tenant.calls_last_hour += 1
        tenant.calls_today += 1
        tenant.answered_today += 1
        return call

    def end_call(self, call_id: str, server_id: str | None = None) -> None:
        """Hang up a call (KeyError when unknown)."""
        tenant = self.tenant(server_id)
        call = tenant.calls.pop(call_id)
        extension = tenant.by_number(call.source)
        if extension is not None and not any(
            c.source == extension.ext for c in tenant.calls.values()
        ):
            extension.on_call = False

    def banner(self) -> list[str]:
        """URL, API key and tenants, for the command line."""
        lines = [*super().banner(), f"API key: {self.api_key}"]
        if self.multi_tenant:
            lines.extend(
                f"Tenant server={t.id}: {t.name} ({len(t.extensions)} extensions)"
                for t in self.tenants.values()
            )
        else:
            lines.append("Single-tenant mode (server parameter optional)")
        return lines

    def describe(self) -> dict[str, object]:
        """Tenants and sizes for ``GET /_sim/state``."""
        return {
            "multi_tenant": self.multi_tenant,
            "tenants": {
                t.id: {
                    "name": t.name,
                    "extensions": len(t.extensions),
                    "dids": len(t.dids),
                    "live_calls": len(t.calls)
                    + len(self._tenant_calls(t, self.book.active())),
                }
                for t in self.tenants.values()
            },
        }

    # ------------------------------------------------------------- HTTP

    def register_routes(self, app: web.Application) -> None:
        """GET and POST on ``/`` and ``/index.php``."""
        for path in ("/", "/index.php"):
            app.router.add_get(path, self.handle)
            app.router.add_post(path, self.handle)

    async def _params(self, request: web.Request) -> dict[str, str]:
        """Query string, overridden by form fields on POST (like PHP $_REQUEST)."""
        params = dict(request.query)
        if request.method == "POST":
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    async def action_name(self, request: web.Request) -> str | None:
        """The ``action`` parameter."""
        return (await self._params(request)).get("action")

    def auth_revoked_response(self) -> web.Response:
        """PBXware answers a bad key with HTTP 200 and an error object."""
        return self._reply({"error": INVALID_API_KEY})

    def forbidden_response(self, action: str | None) -> web.Response:
        """A key without the permission: HTTP 200 and an error object, as
        every PBXware error.
        """
        return self._reply({"error": NO_PERMISSION})

    def _reply(self, data: object) -> web.Response:
        text = data.text if isinstance(data, RawText) else php_json(data)
        return web.Response(
            body=text.encode(), headers={"Content-Type": HTML_CONTENT_TYPE}
        )

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, dispatch on ``action``, turn ApiError into an error body."""
        params = await self._params(request)
        if params.get("apikey") != self.api_key:
            return self._reply({"error": INVALID_API_KEY})
        action = self._action_table.get(params.get("action", ""))
        if action is None:
            return self._reply({"error": "Invalid or missing action."})
        try:
            return self._reply(action(params))
        except ApiError as err:
            return self._reply({"error": str(err)})

    def _actions(self) -> dict[str, Action]:
        return {
            "pbxware.tenant.list": self._tenant_list,
            "pbxware.license.info": self._license_info,
            "pbxware.dashboard.ext_online": self._ext_online,
            "pbxware.dashboard.cpu": lambda _: {"inuse": f"{self.cpu}%"},
            "pbxware.dashboard.memory": lambda _: {"inuse": f"{self.memory}"},
            "pbxware.dashboard.disk_usage": lambda _: {"inuse": f"{self.disk} %"},
            "pbxware.dashboard.calls": self._calls_overview,
            "pbxware.dashboard.sip_registrations": self._sip_registrations,
            "pbxware.dashboard.licensing": self._licensing,
            "pbxware.dashboard.services": lambda _: dict(self.services),
            "pbxware.ext.list": self._ext_list,
            "pbxware.monitor.list": self._monitor_list,
            "pbxware.monitor.live_calls": self._live_calls,
            "pbxware.ext.es.dnd.get": self._dnd_get,
            "pbxware.ext.es.dnd.set": self._dnd_set,
            "pbxware.did.list": self._did_list,
            "pbxware.did.edit": self._did_edit,
            "pbxware.cdr.download": self._cdr_download,
            "pbxware.ext.es.callfwd.get": self._callfwd_get,
            "pbxware.ext.es.callfwd.set": self._callfwd_set,
            "pbxware.recording.start": lambda p: self._recording(p, start=True),
            "pbxware.recording.stop": lambda p: self._recording(p, start=False),
        }

    # ------------------------------------------------------- scoping

    def _scoped(self, params: Params) -> Tenant:
        """The tenant a tenant-scoped action works on."""
        if not self.multi_tenant:
            return self.tenant()
        server = params.get("server", "")
        if not server:
            msg = "Server ID is required when PBXware is running in Tenant Mode."
            raise ApiError(msg)
        if server == MASTER_SERVER_ID:
            msg = "Server ID 1 is assigned to Master tenant and cannot be used."
            raise ApiError(msg)
        if server not in self.tenants:
            msg = "Invalid Server ID."
            raise ApiError(msg)
        return self.tenants[server]

    def _filtered(self, params: Params) -> list[Tenant]:
        """Tenants a dashboard filter covers: all without server or with Master."""
        server = params.get("server", "")
        if not self.multi_tenant or server in ("", MASTER_SERVER_ID):
            return list(self.tenants.values())
        return [self._scoped(params)]

    def _extension(self, params: Params) -> tuple[Tenant, Extension]:
        tenant = self._scoped(params)
        ext_id = params.get("id", "")
        if not DIGITS.match(ext_id):
            msg = "Invalid or missing Extension ID."
            raise ApiError(msg)
        if ext_id not in tenant.extensions:
            msg = f"Extension ID {ext_id} does not exist."
            raise ApiError(msg)
        return tenant, tenant.extensions[ext_id]

    @staticmethod
    def _keyed(items: Mapping[str, object]) -> object:
        """An object keyed by ID, or ``[]`` when empty (PHP's empty array)."""
        return dict(items) if items else []

    @staticmethod
    def _all_extensions(tenants: Iterable[Tenant]) -> list[Extension]:
        return [e for t in tenants for e in t.extensions.values()]

    # -------------------------------------------------------- actions

    def _tenant_list(self, params: Params) -> object:
        if not self.multi_tenant:
            return []
        return {
            t.id: {
                "name": t.name,
                "tenantcode": t.tenantcode,
                "package_id": t.package_id,
                "package": t.package,
                "ext_length": t.ext_length,
                "country_id": t.country_id,
                "country_code": t.country_code,
            }
            for t in self.tenants.values()
        }

    def _license_info(self, params: Params) -> object:
        return {
            "Edition": "Multi-Tenant" if self.multi_tenant else "Business",
            "Version": self.version,
            "Channels": self.channels,
            "Licensed to": "Example Telecom B.V.",
            "Serial": self.serial,
            "Tenants": str(len(self.tenants)) if self.multi_tenant else "0",
            "Support Expires": "2027-03-31",
        }

    def _ext_online(self, params: Params) -> object:
        online = sum(e.registered for e in self._all_extensions(self._filtered(params)))
        return {"type": "Extensions Online", "count": str(online)}

    def _calls_overview(self, params: Params) -> object:
        tenants = self._filtered(params)
        now = self.book.clock()
        midnight = (
            datetime.fromtimestamp(now, ZoneInfo(self.timezone))
            .replace(hour=0, minute=0, second=0, microsecond=0)
            .timestamp()
        )
        new = [
            (call, state)
            for tenant in tenants
            for call, state in self._tenant_calls(tenant, self.book.at(now))
            if call.started_at >= self._counted_from
        ]
        today = [(c, s) for c, s in new if c.started_at >= midnight]
        return {
            "now": sum(len(t.calls) for t in tenants)
            + sum(state in ACTIVE_STATES for _, state in new),
            "last hour": sum(t.calls_last_hour for t in tenants)
            + sum(call.started_at > now - 3600 for call, _ in new),
            "today": sum(t.calls_today for t in tenants) + len(today),
            "answared calls": sum(t.answered_today for t in tenants)
            + sum(state in ANSWERED_STATES for _, state in today),
        }

    def _sip_registrations(self, params: Params) -> object:
        exts = [e for e in self._all_extensions(self._filtered(params)) if e.enabled]
        lagged = sum(e.lagged for e in exts)
        return {
            "SIP Registrations": {
                "success": sum(e.registered for e in exts) - lagged,
                "failed": sum(not e.registered for e in exts),
                "lagged": lagged,
            }
        }

    def _licensing(self, params: Params) -> object:
        totals: dict[str, dict[str, int]] = {}
        for tenant in self._filtered(params):
            for key, counter in tenant.license_counters().items():
                total = totals.setdefault(key, {"inuse": 0, "max": 0})
                total["inuse"] += counter.inuse
                total["max"] += counter.max
        return totals

    def _ext_list(self, params: Params) -> object:
        tenant = self._scoped(params)
        return self._keyed({i: e.ext_list_item() for i, e in tenant.extensions.items()})

    def _monitor_list(self, params: Params) -> object:
        tenant = self._scoped(params)
        talking = {
            ext
            for call, state in self._tenant_calls(tenant, self.book.active())
            if state is CallState.IN_CALL
            for ext in call.extensions
        }
        items: dict[str, object] = {}
        for ext_id, extension in tenant.extensions.items():
            item = extension.monitor_item()
            if extension.ext in talking:
                item["on_call"] = True
            items[ext_id] = item
        return self._keyed(items)

    def _live_calls(self, params: Params) -> object:
        tenant = self._scoped(params)
        live: dict[str, object] = {i: c.as_json() for i, c in tenant.calls.items()}
        for call, _ in self._tenant_calls(tenant, self.book.active()):
            live[call.id] = {
                "from": call.caller,
                "to": call.callee,
                "timestamp": int(call.started_at),
            }
        return live or RawText("Live Calls: 0")

    # ------------------------------------------------------------- CDRs

    def _cdr_window(self, params: Params) -> tuple[float, float]:
        """The unix-time window ``start``..``end`` (both inclusive) names."""
        zone_name = params.get("timezone") or self.timezone
        try:
            zone = ZoneInfo(zone_name)
        except ZoneInfoNotFoundError, ValueError:
            msg = "Invalid value for 'timezone'."
            raise ApiError(msg) from None
        bounds: list[float] = []
        for day_key, time_key, default in (
            ("start", "starttime", "00:00:00"),
            ("end", "endtime", "23:59:59"),
        ):
            day = params.get(day_key, "")
            if not day:
                msg = f"Argument {day_key} is required. Format is: mmm-dd-YYYY."
                raise ApiError(msg)
            clock = params.get(time_key) or default
            if not CDR_DATE.match(day) or not CDR_TIME.match(clock):
                msg = f"Invalid value for '{day_key if CDR_DATE.match(day) else time_key}'."
                raise ApiError(msg)
            try:
                moment = datetime.strptime(f"{day} {clock}", "%b-%d-%Y %H:%M:%S")
            except ValueError:
                msg = f"Invalid value for '{day_key}'."
                raise ApiError(msg) from None
            bounds.append(moment.replace(tzinfo=zone).timestamp())
        return bounds[0], bounds[1] + 1

    @staticmethod
    def _cdr_int(params: Params, key: str, default: int, low: int, high: int) -> int:
        raw = params.get(key, "")
        if raw == "":
            return default
        if not DIGITS.match(raw) or not low <= int(raw) <= high:
            msg = f"Invalid value for '{key}'."
            raise ApiError(msg)
        return int(raw)

    @staticmethod
    def _cdr_numbers(params: Params, key: str) -> set[str] | None:
        raw = params.get(key, "")
        if not raw:
            return None
        if not CDR_FILTER.match(raw):
            msg = f"Invalid value for '{key}'."
            raise ApiError(msg)
        return {part for part in raw.split(",") if part}

    def _cdr_filter(self, params: Params) -> Callable[[Call, CallState], bool]:
        """What the filter parameters keep."""
        for source, destination in (("trunk", "ext"), ("trunkdst", "extdst")):
            if params.get(source) and params.get(destination):
                msg = f"You cannot supply {source} and {destination} at the same time!"
                raise ApiError(msg)
        statuses = self._cdr_int(params, "status", 15, 1, 15)
        cdrtype = params.get("cdrtype") or CDR_TYPE_ALL
        if cdrtype not in (CDR_TYPE_INCOMING, CDR_TYPE_OUTGOING, CDR_TYPE_ALL):
            msg = "Invalid value for 'cdrtype'."
            raise ApiError(msg)
        sources = self._cdr_numbers(params, "ext")
        destinations = self._cdr_numbers(params, "extdst")
        trunk_in = bool(params.get("trunk"))
        trunk_out = bool(params.get("trunkdst"))
        wanted_direction = {
            CDR_TYPE_INCOMING: Direction.INBOUND,
            CDR_TYPE_OUTGOING: Direction.OUTBOUND,
        }.get(cdrtype)

        def keep(call: Call, state: CallState) -> bool:
            status = CDR_ANSWERED if state is CallState.ENDED else CDR_UNANSWERED
            return (
                bool(statuses & status)
                and (wanted_direction is None or call.direction is wanted_direction)
                and (sources is None or call.caller in sources)
                and (destinations is None or call.callee in destinations)
                and (not trunk_in or call.caller_extension is None)
                and (not trunk_out or call.callee_extension is None)
            )

        return keep

    def _cdr_row(self, tenant: Tenant, call: Call, state: CallState) -> list[str]:
        now = self.book.clock()
        talk = call.talk_seconds(now)
        extension = next(
            (tenant.by_number(ext) for ext in call.extensions if tenant.by_number(ext)),
            None,
        )
        cost = (
            talk / 60 * COST_PER_MINUTE if call.direction is Direction.OUTBOUND else 0
        )
        answered = state is CallState.ENDED
        return [
            tenant.tenantcode,
            call.caller,
            call.callee,
            str(int(call.started_at)),
            str(call.total_seconds(now)),
            str(talk),
            f"{cost:.2f}",
            CDR_STATUS_NAMES[CDR_ANSWERED if answered else CDR_UNANSWERED],
            call.id,
            f"/home/servers/{tenant.id}/recordings/{call.id}.wav"
            if call.recorded
            else "",
            "Yes" if call.recorded else "No",
            (extension.location if extension else "local").capitalize(),
        ]

    def _cdr_download(self, params: Params) -> object:
        tenant = self._scoped(params)
        since, until = self._cdr_window(params)
        keep = self._cdr_filter(params)
        page = self._cdr_int(params, "page", 1, 1, 2**31 - 1)
        limit = self._cdr_int(params, "limit", CDR_DEFAULT_LIMIT, 1, CDR_MAX_LIMIT)
        rows = [
            (call, state)
            for call, state in self._tenant_calls(tenant, self.book.finished())
            if since <= call.started_at < until and keep(call, state)
        ]
        first = (page - 1) * limit
        shown = rows[first : first + limit]
        return {
            "success": "CDRs downloaded successfully.",
            "next_page": len(rows) > first + limit,
            "limit": limit,
            "records": len(shown),
            "header": list(CDR_HEADER) if shown else None,
            "csv": [self._cdr_row(tenant, call, state) for call, state in shown],
        }

    # ------------------------------------------- forwarding, recording

    def _callfwd_get(self, params: Params) -> object:
        _, extension = self._extension(params)
        return {"state": extension.callfwd}

    def _callfwd_set(self, params: Params) -> object:
        _, extension = self._extension(params)
        state = params.get("state", "")
        if state not in FORWARD_STATES:
            msg = "Argument state can have one of these: yes, no or pin."
            raise ApiError(msg)
        extension.callfwd = state
        return {
            "success": f"Call Forwarding updated for Extension ID {extension.id}.",
            "state": state,
        }

    def _recording(self, params: Params, *, start: bool) -> object:
        tenant = self._scoped(params)
        number = params.get("ext", "")
        if not DIGITS.match(number):
            msg = "Invalid or missing Extension number."
            raise ApiError(msg)
        extension = tenant.by_number(number)
        if extension is None:
            msg = f"Extension {number} does not exist."
            raise ApiError(msg)
        calls = [
            call
            for call, state in self._tenant_calls(tenant, self.book.active())
            if state is CallState.IN_CALL
            and number in call.extensions
            and call.recording is not start
        ]
        affected = 0
        if calls:
            calls[0].recording = start
            calls[0].recorded = calls[0].recorded or start
            affected = 1
        elif extension.on_call and extension.recording is not start:
            extension.recording = start
            affected = 1
        return {
            "success": RECORDING_DONE if affected else RECORDING_NONE,
            "affected_calls": affected,
        }

    def _dnd_get(self, params: Params) -> object:
        _, extension = self._extension(params)
        return {"state": "yes" if extension.dnd else "no"}

    def _dnd_set(self, params: Params) -> object:
        _, extension = self._extension(params)
        state = params.get("state", "")
        if state not in ("yes", "no"):
            msg = "Argument state can have one of these: yes or no."
            raise ApiError(msg)
        extension.dnd = state == "yes"
        return {
            "success": f"Do Not Disturb updated for Extension ID {extension.id}.",
            "state": state,
        }

    def _did_list(self, params: Params) -> object:
        tenant = self._scoped(params)
        wanted: set[str] | None = None
        if "ext" in params:
            if not DID_EXT_FILTER.match(params["ext"]):
                msg = "Invalid value for 'ext'."
                raise ApiError(msg)
            wanted = {part for part in params["ext"].split(",") if part}
        return self._keyed(
            {
                i: d.list_item(tenant.id)
                for i, d in tenant.dids.items()
                if wanted is None or d.destination in wanted
            }
        )

    def _did_edit(self, params: Params) -> object:
        tenant = self._scoped(params)
        did_id = params.get("id", "")
        if not DIGITS.match(did_id):
            msg = "Invalid or missing DID ID."
            raise ApiError(msg)
        if did_id not in tenant.dids:
            msg = f"DID ID {did_id} does not exist."
            raise ApiError(msg)
        changes = {k: v for k, v in params.items() if k in DID_EDIT_RULES}
        for key, value in changes.items():
            if not DID_EDIT_RULES[key].match(value):
                msg = f"Invalid value for '{key}'."
                raise ApiError(msg)
        self._apply_did_changes(tenant.dids[did_id], changes)
        return {"success": f"DID ID: {did_id}.", "id": did_id}

    @staticmethod
    def _apply_did_changes(did: Did, changes: Mapping[str, str]) -> None:
        for key, value in changes.items():
            target = DID_EDIT_FIELDS.get(key)
            if target is not None:
                attribute, convert = target
                setattr(did, attribute, convert(value))

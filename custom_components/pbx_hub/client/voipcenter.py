"""VoipCenter (pbxonline.be) client.

Transport (VoipCenter's API document, in Dutch, and two public clients that
agree): ``get.php``, ``update.php`` and ``call.php`` under
``https://pbxonline.be/api/``, each a GET whose parameters are, in this order,
``apiID``, ``knummer``, ``pwd`` (``sha256(md5(password))``), the endpoint's own
parameters, ``f=json`` and ``ts`` (Unix time, checked within 5 seconds), then
``pass``: HMAC-SHA256, keyed with the private API key, over the concatenation of
name and value of every parameter in the order sent, except ``pass`` and, for
``get.php``, ``filter``. Only the password's hash is kept, never the password.

Answers are sent as ``text/json``. Errors come in ``{"head": {status,
error_number, error_message}, "body": {...}}``; the head is checked first. Head
10 and 17 and body 2 are bad input, 11 a clock off by over 5 seconds, 13 too
many attempts, 14-16 refused credentials, body 1 a backend that is down, and
body 20 and 21 a call that could not be set up. ``get.php`` answers a flat
object keyed ``id_<n>`` for a list (``id=0``), one item's object for an id.

Assumptions (the document is silent):

- List values: names (``indicator``, ``routes``, ``backuproutes``,
  ``feestdagen``, ``vakanties``, ``kantooruren``, ``hddesk``, ``hdtemplate``),
  numbers (``did``) or objects (``sipacc``, ``calls``); an empty list is ``[]``.
- Item details use the document's Dutch names: a DID's ``route``,
  ``backuproute`` (or ``update.php``'s ``r`` and ``b``: either is read; with
  neither the route is unknown), ``feestdagen``, ``vakanties`` and
  ``kantooruren`` (ids, ``0`` or empty for none), an indicator's ``actief`` (``1``/``0``), a hot desk's
  ``sipaccount`` and ``template``; the numeric id of an item is the ``<n>`` of
  its ``id_<n>`` key.
- A SIP account is online when its ``SIPping`` starts with ``OK``. Its id (for
  click-to-call and hot desks) is its ``SIPusername`` (``sipaccount<n>``, a
  login nobody dials); the number its person is known by is its ``DIDout``,
  the number its calls go out with (the API lists no internal extension
  number); the person is ``voornaam naam``, else the ``logname``; hot desks name SIP
  accounts by their numeric id (the list key), which the client translates with
  the last SIP account list.
- ``update.php``'s ``p`` uses the ``r=140|b=150`` spelling.
- The call history (``m=calls``, ``filter=yyyymmdd``, Belgian days) lists
  objects whose fields are not published: the Dutch and English names in
  ``_CALL_KEYS`` are read (``datum``/``tijd`` or one date-time, ``van``,
  ``naar``, ``duur``, ``richting``, ``status``, ``sipaccount`` ...), times
  without an offset in Belgian time; a status word we do not know, without
  talk time, leaves how the call ended unknown.
- ``get.php m=wskey id=<push user>`` is signed like any ``get.php`` but sent as
  a form POST (research notes); the answer is ``{username, wskey}``, at the top
  or under ``body``. The push server is ``https://ws1.voipcenter.be:4123`` for
  VoipCenter's own API (see ``push``).
- No request limit is published; 13 ("too many attempts") counts failed logins.
- ``telnr`` is Belgian national (``0`` and 8 or 9 digits) or international
  without ``+`` (country code and number, 10 to 15 digits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
import hashlib
import hmac
import re
import time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import aiohttp
from yarl import URL

from .abilities import (
    ClicksToCall,
    RoutesDidPlans,
    SetsHotDesks,
    SetsIndicators,
)
from .actions import ActionsFirstLock, sent_for_action
from .address import join_path
from .base import (
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
    one_read,
)
from .budget import BudgetSpec
from .convert import (
    is_id,
    readable,
    to_bool,
    to_datetime,
    to_int,
    to_key,
    to_text,
    unique,
)
from .exceptions import (
    PbxAuthError,
    PbxCallFailedError,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxResponseError,
)
from .gather import gather_reads
from .livecalls import first_of, moment, party, to_seconds
from .models import (
    CLEAR,
    CallNotification,
    CallOutcome,
    CallRecord,
    CallScope,
    Capability,
    Clearable,
    DidRouting,
    Extension,
    FunctionIndicator,
    HotDesk,
    HotDesking,
    PbxInfo,
    PushCredentials,
    PushState,
    RoutedDid,
    SystemStatus,
    TimeFilter,
)
from .push import PushChannel
from .readers import (
    ReadsCalls,
    ReadsDidRouting,
    ReadsExtensions,
    ReadsHotDesks,
    ReadsIndicators,
    ReadsStatus,
)
from .rotation import DetailRotation
from .topics import current_report

CONF_URL = "url"
CONF_API_ID = "api_id"
CONF_API_KEY = "api_key"
CONF_CUSTOMER_NUMBER = "customer_number"
CONF_PASSWORD = "password"  # noqa: S105  (the setting's name)
CONF_PASSWORD_HASH = "password_hash"  # noqa: S105  (the setting's name)
CONF_WS_USERNAME = "ws_username"
"""The push channel's user name (optional): without it, no push channel."""
CONF_PUSH_URL = "push_url"
"""The push server, where it is not the one ``push_url`` derives."""
DEFAULT_URL = "https://pbxonline.be/api/"
DEFAULT_PUSH_URL = "https://ws1.voipcenter.be:4123"
BELGIUM = ZoneInfo("Europe/Brussels")

_ID_KEY = re.compile(r"id_(\d+)")
_BELGIAN = re.compile(r"0\d{8,9}")
_INTERNATIONAL = re.compile(r"[1-9]\d{9,14}")
_SIP_ACCOUNT = re.compile(r"[!-~]{1,64}")
"""A SIP user name: printable ASCII, no spaces or control characters (what
SIP allows unescaped in a user part, and more: the value is percent-encoded).
"""
_FILTER_MENUS: dict[TimeFilter, str] = {
    TimeFilter.HOLIDAYS: "feestdagen",
    TimeFilter.VACATIONS: "vakanties",
    TimeFilter.OFFICE_HOURS: "kantooruren",
}
_FILTER_LETTERS: dict[TimeFilter, str] = {
    TimeFilter.HOLIDAYS: "f",
    TimeFilter.VACATIONS: "v",
    TimeFilter.OFFICE_HOURS: "k",
}
_AUTH_CODES = {14, 15, 16}
"""Incorrect hash, user password incorrect, API user not allowed. 16 is a
refusal of the API user as a whole, checked with the credentials before any
menu (it names no right, and no menu has one to grant): the API id is unknown,
disabled or not linked to this customer number, which new credentials fix.
Like 14 and 15 it may count towards the lock-out (13), so it stops all
requests until reauthentication rather than being retried as a permission.
"""
_INPUT_CODES = {10, 12, 17}


def password_hash(password: str) -> str:
    """``sha256(md5(password))``, hex, as VoipCenter's ``pwd`` wants it."""
    md5 = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
    return hashlib.sha256(md5.encode()).hexdigest()


def signature(params: Sequence[tuple[str, str]], key: str, endpoint: str) -> str:
    """The ``pass`` of a request: HMAC-SHA256 over name+value in order, without
    ``pass`` and (for ``get.php``) ``filter``.
    """
    signed = "".join(
        name + value
        for name, value in params
        if name != "pass" and not (endpoint == "get.php" and name == "filter")
    )
    return hmac.new(key.encode(), signed.encode(), hashlib.sha256).hexdigest()


def _error(
    head: Mapping[str, Any], part: str, redact: Callable[[str], str]
) -> PbxError | None:
    code = to_int(head.get("error_number"))
    if not code:
        return None
    detail = redact(to_text(head.get("error_message")) or "")[:200]
    message = f"VoipCenter error {code}: {detail}"
    if part == "head":
        if code == 11:
            return PbxClockSkewError(message)
        if code == 13:
            return PbxRateLimitError(message, from_pbx=True)
        if code in _AUTH_CODES:
            return PbxAuthError(message)
        if code in _INPUT_CODES:
            return PbxInvalidInputError(message)
    else:
        if code == 1:
            return PbxConnectionError(message)
        if code == 2:
            return PbxInvalidInputError(message)
        if code in (20, 21):
            return PbxCallFailedError(message)
    return PbxRefusedError(message)


def check_envelope(
    body: Any, redact: Callable[[str], str] = str, *, write: bool = False
) -> Any:
    """Raise what an error envelope means; return the body otherwise. A write
    (update, call) succeeded only if the envelope's ``body`` is an object whose
    ``status`` says ``1`` (as the call.php fixture and the update.php check of
    both public clients have it): anything else is no confirmation.
    """
    if isinstance(body, Mapping) and ("head" in body or "body" in body):
        for part in ("head", "body"):
            section = body.get(part)
            if isinstance(section, Mapping) and (
                error := _error(section, part, redact)
            ):
                raise error
        if not write:
            return body
        outcome = body.get("body")
        status = to_key(outcome.get("status")) if isinstance(outcome, Mapping) else None
        if status is None:
            raise PbxResponseError("VoipCenter: a change was answered without a status")
        if status != "1":
            raise PbxResponseError("VoipCenter: the change was not confirmed")
    elif write:
        raise PbxResponseError("VoipCenter: a change was answered without a result")
    return body


def listing(body: Any) -> dict[str, Any]:
    """The items of an ``id=0`` answer, by numeric id."""
    if body in (None, [], ""):
        return {}
    if not isinstance(body, Mapping):
        raise PbxResponseError("VoipCenter: a list answer is not an object")
    items: dict[str, Any] = {}
    for key, value in body.items():
        if (match := _ID_KEY.fullmatch(str(key))) is not None:
            items[match.group(1)] = value
    return items


def names(body: Any) -> dict[str, str]:
    """Id to name from an ``id=0`` answer of names (or of objects with one)."""
    result: dict[str, str] = {}
    for item_id, value in listing(body).items():
        name = (
            value.get("naam") or value.get("name")
            if isinstance(value, Mapping)
            else value
        )
        result[item_id] = to_text(name) or item_id
    return result


def _ref(value: Any) -> str | None:
    """An id reference; ``0`` or empty is none."""
    text = to_key(value)
    return None if text in (None, "0") else text


def route_ref(row: Mapping[str, Any], *keys: str) -> Clearable | None:
    """A DID's route by either of its names (the detail's ``route``,
    ``update.php``'s ``r``): its id, ``CLEAR`` for none (``0`` or empty),
    and ``None`` (unknown) where the answer has neither key.
    """
    present = [key for key in keys if key in row]
    if not present:
        return None
    return _ref(row[present[0]]) or CLEAR


def parse_sip_accounts(body: Any) -> dict[str, Extension]:
    """SIP accounts as extensions, by ``SIPusername``.

    A row without its username (text, as PHP sends it) is skipped rather
    than keyed by another id: a new id would replace the extension's device. A
    list of rows none of which can be read is no answer (``PbxResponseError``),
    not "no extensions".
    """
    read = readable(
        list(listing(body).values()), _sip_account, "VoipCenter: SIP accounts"
    )
    return unique(((account.id, account) for account in read), "VoipCenter")


def _sip_account(row: Any) -> Extension | None:
    """One SIP account; ``None`` without its username (text)."""
    if not isinstance(row, Mapping):
        return None
    username = to_text(row.get("SIPusername"))
    if username is None:
        return None
    person = " ".join(
        part
        for part in (to_text(row.get("voornaam")), to_text(row.get("naam")))
        if part
    )
    ping = (to_text(row.get("SIPping")) or "").upper()
    return Extension(
        id=username,
        number=username,
        name=person or to_text(row.get("logname")) or username,
        registered=ping.startswith("OK") if ping else None,
        user_agent=to_text(row.get("userAgent")),
        direct_number=to_text(row.get("DIDout")),
    )


def parse_push_credentials(body: Any, username: str) -> PushCredentials:
    """``{username, wskey}``, at the top or under ``body``; the user name
    asked for where the answer gives none. No key is an answer not
    understood (never echoed: it may hold the key in another form).
    """
    for part in (body, body.get("body") if isinstance(body, Mapping) else None):
        if isinstance(part, Mapping) and (key := to_text(part.get("wskey"))):
            return PushCredentials(
                username=to_text(part.get("username")) or username, key=key
            )
    raise PbxResponseError("VoipCenter: the push key answer holds no wskey")


_CALL_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id", "callid", "call_id", "uniqueid", "unique_id"),
    "time": ("datumtijd", "datetime", "calldate", "start", "starttijd", "timestamp"),
    "date": ("datum", "date"),
    "clock": ("tijd", "uur", "time"),
    "caller": ("van", "from", "caller", "callerid", "src", "bron", "cli"),
    "caller_name": ("naam_van", "callername", "caller_name", "cidname", "naam"),
    "callee": ("naar", "to", "called", "dst", "bestemming", "destination", "did"),
    "user": ("sipaccount", "sipacc", "toestel", "extension", "user"),
    "duration": ("duur", "gespreksduur", "billsec", "duration"),
    "status": ("status", "disposition", "resultaat", "result"),
    "direction": ("richting", "direction", "type"),
}
_IN_PROGRESS_WORDS = ("rinkelt", "ringing", "bezig", "in progress", "gestart")
_ANSWERED_WORDS = ("answer", "beantwoord", "opgenomen", "ok")
_MISSED_WORDS = (
    "no answer",
    "noanswer",
    "missed",
    "gemist",
    "niet",
    "busy",
    "bezet",
    "failed",
    "mislukt",
    "unanswered",
)
_INBOUND_WORDS = ("in", "inbound", "incoming", "inkomend", "binnenkomend")
_OUTBOUND_WORDS = ("out", "uit", "outbound", "outgoing", "uitgaand")


_LOCAL_TIMES = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y %H:%M:%S",
    "%Y%m%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)
"""Date-time texts without an offset, read as Belgian local time."""


def _pick(row: Mapping[str, Any], name: str) -> Any:
    return first_of(row, _CALL_KEYS[name])


def _call_time(row: Mapping[str, Any]) -> datetime | None:
    """Unix seconds, or Belgian local date and time: in one field (the date
    field may hold both), or a date and a time field.
    """
    value = _pick(row, "time")
    if value is None and (day := to_text(_pick(row, "date"))):
        clock = to_text(_pick(row, "clock"))
        value = f"{day} {clock}" if clock and " " not in day else day
    return moment(value, _LOCAL_TIMES, BELGIUM) or to_datetime(value)


def _starts(value: Any, words: tuple[str, ...]) -> bool:
    text = (to_key(value) or "").strip().lower()
    return bool(text) and any(
        text == w or text.startswith(w + " ") or (len(w) > 3 and text.startswith(w))
        for w in words
    )


def parse_call(item_id: str, row: Any) -> CallRecord | None:
    """One row of the call history; ``None`` without a time. Its fields
    are not published: the names read are ``_CALL_KEYS``' (Dutch and
    English), and what none of them gives is unknown.
    """
    if not isinstance(row, Mapping) or (started_at := _call_time(row)) is None:
        return None
    caller, caller_name = party(_pick(row, "caller"))
    callee, _ = party(_pick(row, "callee"))
    direction = _pick(row, "direction")
    inbound = (
        True
        if _starts(direction, _INBOUND_WORDS)
        else False
        if _starts(direction, _OUTBOUND_WORDS)
        else None
    )
    talk = to_seconds(_pick(row, "duration"))
    status = _pick(row, "status")
    if _starts(status, _IN_PROGRESS_WORDS):
        outcome = CallOutcome.IN_PROGRESS
    elif _starts(status, _MISSED_WORDS):
        outcome = CallOutcome.UNANSWERED if inbound is False else CallOutcome.MISSED
        if inbound is None:
            outcome = CallOutcome.UNKNOWN
    elif _starts(status, _ANSWERED_WORDS) or (talk or 0) > 0:
        outcome = CallOutcome.ANSWERED
    else:
        outcome = CallOutcome.UNKNOWN
    user = to_key(_pick(row, "user"))
    return CallRecord(
        id=to_key(_pick(row, "id")) or item_id,
        scope=CallScope.USER,
        group=None,
        user_number=user
        or (callee if inbound else caller if inbound is False else None),
        user_name=None,
        inbound=inbound,
        caller=caller,
        caller_name=to_text(_pick(row, "caller_name")) or caller_name,
        callee=callee,
        started_at=started_at,
        answered_at=None,
        finished_at=None if talk is None else started_at + timedelta(seconds=talk),
        talk_seconds=talk if outcome is CallOutcome.ANSWERED and talk else 0,
        outcome=outcome,
    )


def parse_calls(body: Any) -> list[CallRecord]:
    """The call history of one day (an ``id=0`` list of call objects)."""
    return readable(
        list(listing(body).items()),
        lambda item: parse_call(*item),
        "VoipCenter: calls",
    )


def _wire(value: Clearable) -> str:
    """An id as sent; ``CLEAR`` as ``0``, the reference to nothing."""
    return "0" if value is CLEAR else value


class VoipcenterClient(
    PbxClient,
    ReadsStatus,
    ReadsExtensions,
    ReadsCalls,
    ReadsIndicators,
    ReadsDidRouting,
    ReadsHotDesks,
    SetsIndicators,
    RoutesDidPlans,
    SetsHotDesks,
    ClicksToCall,
):
    """One VoipCenter customer (``knummer``) through one API user."""

    vendor = "voipcenter"
    default_url = DEFAULT_URL
    capabilities = frozenset(
        {
            Capability.STATUS,
            Capability.EXTENSIONS,
            Capability.CLICK_TO_CALL,
            Capability.INDICATORS,
            Capability.SET_INDICATOR,
            Capability.DID_ROUTING,
            Capability.SET_DID_ROUTE_PLAN,
            Capability.HOT_DESKS,
            Capability.SET_HOT_DESK,
            Capability.CALL_HISTORY,
        }
    )
    read_costs: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 1,
        Capability.EXTENSIONS: 1,
        Capability.CALL_HISTORY: 1,  # today's list; one more per earlier day
        Capability.INDICATORS: 4,
        Capability.DID_ROUTING: 8,
        Capability.HOT_DESKS: 4,
    }
    """The slow topics read each item's detail; sized for a small office."""
    max_items: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 10000,  # calls today
        Capability.EXTENSIONS: 5000,
        Capability.INDICATORS: 1000,
        Capability.DID_ROUTING: 5000,  # DIDs, and each table of routes
        Capability.HOT_DESKS: 1000,
        Capability.CALL_HISTORY: 10000,  # calls per day
    }

    def __init__(
        self, session: aiohttp.ClientSession, *args: Any, **kwargs: Any
    ) -> None:
        """A stored hash is used as is; a plain password is hashed at once.
        With a push user name, the account has a push channel.
        """
        super().__init__(session, *args, **kwargs)
        self._session = session
        if to_text(self.settings.get(CONF_WS_USERNAME)):
            self.capabilities = self.capabilities | {Capability.CALL_PUSH}
        if (password := self.settings.pop(CONF_PASSWORD, None)) is not None:
            self.settings[CONF_PASSWORD_HASH] = password_hash(str(password))
        self._sip_ids: dict[str, str] = {}
        """Numeric id of each SIP account, by username, from the last list."""
        self._one_at_a_time = ActionsFirstLock()
        self._refused: PbxAuthError | None = None
        """Set once the credentials are refused: this client sends no more
        (reauthentication makes a new one).
        """
        self._details: dict[str, DetailRotation[Any]] = {
            menu: DetailRotation() for menu in ("indicator", "did", "hddesk")
        }
        """Each item's detail, read a share of the budget at a time."""
        self._days: dict[date, list[CallRecord]] = {}
        """Call history of the days before today (Belgium's), read once."""

    @property
    def _base(self) -> URL:
        return self.server_address(self.settings)

    async def _call(
        self, endpoint: str, params: Sequence[tuple[str, str]], *, form: bool = False
    ) -> Any:
        """One signed request at a time: VoipCenter locks an account after a
        few refused attempts, and a poll's burst with a revoked key must stop
        at the first refusal rather than spend them all. An action (a change,
        a call) goes before the poll reads still waiting: a click-to-call
        waits for the one read in flight, not for a whole slow poll.
        """
        action = sent_for_action(write=endpoint != "get.php")
        async with self._one_at_a_time.hold(action=action):
            if self._refused is not None:
                raise PbxAuthError(str(self._refused))
            try:
                return await self._send(endpoint, params, form=form)
            except PbxAuthError as err:
                self._refused = err
                raise

    async def _send(
        self, endpoint: str, params: Sequence[tuple[str, str]], *, form: bool = False
    ) -> Any:
        """One signed request: a GET, or with ``form`` a form POST (``m=wskey``)."""
        signed: list[tuple[str, str]] = [
            ("apiID", str(self.settings.get(CONF_API_ID) or "")),
            ("knummer", str(self.settings.get(CONF_CUSTOMER_NUMBER) or "")),
            ("pwd", str(self.settings.get(CONF_PASSWORD_HASH) or "")),
            *params,
            ("f", "json"),
            ("ts", str(int(time.time()))),
        ]
        signed.append(
            (
                "pass",
                signature(signed, str(self.settings.get(CONF_API_KEY) or ""), endpoint),
            )
        )
        write = endpoint != "get.php"
        url = str(join_path(self._base, endpoint))
        if form:
            response = await self.http.request("POST", url, data=dict(signed))
        else:
            response = await self.http.request("GET", url, params=signed, write=write)
        try:
            return check_envelope(
                await self.http.read_json(response.text),
                self.http.redact,
                write=write,
            )
        except PbxRateLimitError:
            # Head 13, too many attempts: wait before trying again. Only here:
            # a 429 paused already, and a refusal of the budget's own sent
            # nothing (pausing again would double the wait at every poll).
            self.http.budget.pause(None)
            raise

    async def _get(self, menu: str, item: str = "0", **extra: str) -> Any:
        return await self._call("get.php", [("m", menu), ("id", item), *extra.items()])

    async def _list(self, capability: Capability, menu: str, **extra: str) -> Any:
        """An ``id=0`` list of ``menu``, at most ``capability``'s maximum."""
        body = await self._get(menu, **extra)
        self._at_most(capability, listing(body))
        return body

    async def _read_details(self, menu: str, items: Iterable[str]) -> int:
        """Read the details of ``items`` that are due, within what this read
        may still send (see ``rotation``); return how many were asked.
        """
        return await self._details[menu].read(
            items,
            self.http.budget.read_left(),
            lambda item: self._get(menu, item),
        )

    async def async_identify(self) -> PbxInfo:
        """Check every credential with one SIP account list."""
        await self._get("sipacc")
        customer = str(self.settings.get(CONF_CUSTOMER_NUMBER) or "")
        return PbxInfo(
            unique_id=f"voipcenter_{customer}",
            name=f"VoipCenter {customer}",
            manufacturer="VoipCenter",
            model="PBXonline",
            configuration_url=str(self._base.with_path("/")),
        )

    @classmethod
    def budget_scope(
        cls, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """One budget per API user and customer, whatever the password form."""
        return f"{settings.get(CONF_API_ID)}_{settings.get(CONF_CUSTOMER_NUMBER)}"

    @one_read(Capability.STATUS)
    async def async_get_status(self) -> SystemStatus:
        """Today's calls (Belgium's day), counted from the call history."""
        today = datetime.now(BELGIUM).strftime("%Y%m%d")
        calls = listing(await self._list(Capability.STATUS, "calls", filter=today))
        return SystemStatus(calls_today=len(calls))

    @one_read(Capability.CALL_HISTORY)
    async def async_get_calls(self, since: datetime) -> list[CallRecord]:
        """The call history (``m=calls``, one day per request, filtered
        ``yyyymmdd`` in Belgium's days) from ``since``'s day to today's.
        Today is asked on every read; earlier days once.
        """
        first = since.astimezone(BELGIUM).date()
        today = datetime.now(BELGIUM).date()
        self._days = {day: calls for day, calls in self._days.items() if day >= first}
        calls: list[CallRecord] = []
        day = first
        while day <= today:
            if day not in self._days or day == today:
                body = await self._list(
                    Capability.CALL_HISTORY, "calls", filter=day.strftime("%Y%m%d")
                )
                read = parse_calls(body)
                if day < today:
                    self._days[day] = read
            else:
                read = self._days[day]
            calls.extend(call for call in read if call.started_at >= since)
            day += timedelta(days=1)
        return calls

    async def async_get_push_credentials(self) -> PushCredentials:
        """``get.php m=wskey id=<push user name>``, sent as a form POST:
        the user name and key the push channel registers with.
        """
        username = to_text(self.settings.get(CONF_WS_USERNAME))
        if username is None:
            raise self._unsupported(Capability.CALL_PUSH)
        body = await self._call(
            "get.php", [("m", "wskey"), ("id", username)], form=True
        )
        credentials = parse_push_credentials(body, username)
        self.http.session_secrets.add(credentials.key)
        return credentials

    @property
    def push_url(self) -> str:
        """The push server: ``push_url`` from the settings; else VoipCenter's
        own for its own API, and the API's origin (``/socket.io`` on the same
        host and port) for any other address, such as a test server's.
        """
        if url := to_text(self.settings.get(CONF_PUSH_URL)):
            return url
        api = self._base
        if api.host == URL(DEFAULT_URL).host:
            return DEFAULT_PUSH_URL
        return str(api.origin())

    def push_channel(
        self,
        on_notification: Callable[[CallNotification], None],
        on_state: Callable[[PushState], None] | None = None,
    ) -> PushChannel:
        """A push channel for this account (start it, stop it); new
        credentials are read before every connection.
        """
        if Capability.CALL_PUSH not in self.capabilities:
            raise self._unsupported(Capability.CALL_PUSH)
        return PushChannel(
            url=self.push_url,
            credentials=self.async_get_push_credentials,
            on_notification=on_notification,
            on_state=on_state,
            session=self._session,
        )

    @one_read(Capability.EXTENSIONS)
    async def async_get_extensions(self) -> dict[str, Extension]:
        """All SIP accounts in one list."""
        body = await self._list(Capability.EXTENSIONS, "sipacc")
        self._sip_ids = {
            to_text(row.get("SIPusername")) or item_id: item_id
            for item_id, row in listing(body).items()
            if isinstance(row, Mapping)
        }
        return parse_sip_accounts(body)

    @one_read(Capability.INDICATORS)
    async def async_get_indicators(self) -> dict[str, FunctionIndicator]:
        """The names, then each indicator's state (one request each, as many
        as this read may send; one not read yet is left out).
        """
        indicator_names = names(await self._list(Capability.INDICATORS, "indicator"))
        asked = await self._read_details("indicator", indicator_names)
        current_report().cost = 1 + asked
        details = self._details["indicator"]
        return {
            item: FunctionIndicator(
                id=item,
                name=indicator_names[item],
                active=to_bool(detail.get("actief"))
                if isinstance(detail := details.get(item), Mapping)
                else None,
            )
            for item in details.read_so_far(indicator_names)
        }

    async def async_set_indicator(self, indicator_id: str, active: bool) -> None:
        """``update.php m=indicator p=1|0``."""
        await self._update("indicator", indicator_id, "1" if active else "0")

    @one_read(Capability.DID_ROUTING)
    async def async_get_did_routing(self) -> DidRouting:
        """DIDs with each one's detail (as many as this read may send; a DID
        not read yet is left out), routes, backup routes, time filters.
        """
        numbers, routes, backup_routes, *filters = await gather_reads(
            self._list(Capability.DID_ROUTING, "did"),
            self._list(Capability.DID_ROUTING, "routes"),
            self._list(Capability.DID_ROUTING, "backuproutes"),
            *(
                self._list(Capability.DID_ROUTING, menu)
                for menu in _FILTER_MENUS.values()
            ),
        )
        did_numbers = {
            item: to_key(value) or item for item, value in listing(numbers).items()
        }
        # The list, routes, backup routes and three filters, then each DID.
        asked = await self._read_details("did", did_numbers)
        current_report().cost = 6 + asked
        details = self._details["did"]
        dids = {}
        for item in details.read_so_far(did_numbers):
            number = did_numbers[item]
            detail = details.get(item)
            row = detail if isinstance(detail, Mapping) else {}
            dids[item] = RoutedDid(
                id=item,
                number=to_key(row.get("nummer")) or number,
                route=route_ref(row, "route", "r"),
                backup_route=route_ref(row, "backuproute", "b"),
                time_filters={
                    kind: _ref(row.get(menu)) for kind, menu in _FILTER_MENUS.items()
                },
            )
        return DidRouting(
            dids=dids,
            routes=names(routes),
            backup_routes=names(backup_routes),
            time_filters={
                kind: names(body)
                for kind, body in zip(_FILTER_MENUS, filters, strict=True)
            },
        )

    async def async_set_did_routing(
        self,
        did_id: str,
        *,
        route: str | None = None,
        backup_route: Clearable | None = None,
        time_filters: Mapping[TimeFilter, Clearable] | None = None,
    ) -> None:
        """``update.php m=did`` with only the parts given; ``CLEAR`` is ``0``."""
        filters = {kind: _wire(value) for kind, value in (time_filters or {}).items()}
        backup = None if backup_route is None else _wire(backup_route)
        parts = [f"{_FILTER_LETTERS[kind]}={value}" for kind, value in filters.items()]
        if route is not None:
            parts.append(f"r={route}")
        if backup is not None:
            parts.append(f"b={backup}")
        if not parts:
            raise PbxInvalidInputError("Nothing to change")
        for value in (route, backup, *filters.values()):
            if value is not None and not is_id(value):
                raise PbxInvalidInputError(f"{value[:40]!r} is not an id")
        await self._update("did", did_id, "|".join(parts))

    @one_read(Capability.HOT_DESKS)
    async def async_get_hot_desks(self) -> HotDesking:
        """Desks with each one's detail (as many as this read may send; a
        desk not read yet is left out), and the templates. A desk names its
        SIP account by numeric id; the last SIP account list gives its username.
        """
        desks, templates = await gather_reads(
            self._list(Capability.HOT_DESKS, "hddesk"),
            self._list(Capability.HOT_DESKS, "hdtemplate"),
        )
        desk_names = names(desks)
        asked = await self._read_details("hddesk", desk_names)
        current_report().cost = 2 + asked
        details = self._details["hddesk"]
        usernames = {item: username for username, item in self._sip_ids.items()}
        result: dict[str, HotDesk] = {}
        for item in details.read_so_far(desk_names):
            name = desk_names[item]
            detail = details.get(item)
            row = detail if isinstance(detail, Mapping) else {}
            sip_account = _ref(row.get("sipaccount"))
            result[item] = HotDesk(
                id=item,
                name=name,
                sip_account=None
                if sip_account is None
                else usernames.get(sip_account, sip_account),
                template=_ref(row.get("template")),
            )
        return HotDesking(desks=result, templates=names(templates))

    async def async_set_hot_desk(
        self,
        desk_id: str,
        *,
        sip_account: Clearable | None = None,
        template: str | None = None,
    ) -> None:
        """``update.php m=hddesk p=s=<SIP account id>|t=<template id>``."""
        parts = []
        account = None
        if sip_account is not None:
            # By username (as everywhere else), or the numeric id; CLEAR: "0".
            account = _wire(sip_account)
            account = self._sip_ids.get(account, account)
            parts.append(f"s={account}")
        if template is not None:
            parts.append(f"t={template}")
        if not parts:
            raise PbxInvalidInputError("Nothing to change")
        for value in (account, template):
            if value is not None and not is_id(value):
                raise PbxInvalidInputError(f"{value[:40]!r} is not an id")
        await self._update("hddesk", desk_id, "|".join(parts))

    async def _update(self, menu: str, item: str, value: str) -> None:
        if not is_id(item):
            raise PbxInvalidInputError(f"{item[:40]!r} is not an id")
        await self._call("update.php", [("m", menu), ("id", item), ("p", value)])

    def normalize_number(self, number: str) -> str:
        """Belgian national (``0`` and 8 or 9 digits) or international (country
        code first, with or without ``+``, 10 to 15 digits), as VoipCenter dials.
        """
        compact = super().normalize_number(number).removeprefix("+")
        if not (_BELGIAN.fullmatch(compact) or _INTERNATIONAL.fullmatch(compact)):
            raise PbxInvalidInputError(
                "A number is Belgian (0 and 8 or 9 digits) or international "
                "(country code first)"
            )
        return compact

    async def async_click_to_call(self, extension: str, number: str) -> None:
        """``call.php``: the SIP account rings first, then ``number``."""
        if not _SIP_ACCOUNT.fullmatch(extension):
            raise PbxInvalidInputError(
                "A SIP account is 1 to 64 printable characters without spaces"
            )
        telnr = self.normalize_number(number)
        await self._call("call.php", [("sipacc", extension), ("telnr", telnr)])


def _prepare(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What the config entry keeps: the password's hash, never the password."""
    prepared = dict(settings)
    if (password := prepared.pop(CONF_PASSWORD, None)) is not None:
        prepared[CONF_PASSWORD_HASH] = password_hash(str(password))
    return prepared


SPEC = VendorSpec(
    key="voipcenter",
    name="VoipCenter",
    client_class=VoipcenterClient,
    fields=(
        SettingField(key=CONF_URL, kind=FieldKind.URL, default=DEFAULT_URL),
        SettingField(key=CONF_API_ID),
        SettingField(key=CONF_API_KEY, kind=FieldKind.PASSWORD),
        SettingField(key=CONF_CUSTOMER_NUMBER),
        SettingField(key=CONF_PASSWORD, kind=FieldKind.PASSWORD),
        SettingField(key=CONF_WS_USERNAME, required=False),
    ),
    budget=BudgetSpec(limit=1800, window=3600, backoff_start=60),
    prepare=_prepare,
    stored_secrets=(CONF_PASSWORD_HASH,),
)

"""VoIPcloud client (also sold white-labelled as VoIPline and Phone Cloud).

Transport: ``<url>/api/integration/v1/<endpoint>`` with the API key in the
``token`` header (the ``api_key`` query parameter was retired in January 2021,
so the key never appears in a URL). Answers come in the envelope
``{"status", "message", "code", "data"}``. The limit is 100 requests per 15
minutes per account.

Reading calls: ``get-user-calls``, ``get-queue-calls`` and ``get-ringgroup-calls``
list calls newest first, page by page (``limit``/``offset``) and filtered by date.
The client keeps what it has read and, on the next poll, reads only until the
first call it already has in its final state, so a quiet poll costs one request
per list.

Assumptions (no public sample exists for these):

- ``get-system-status`` answers ``data`` as an object with a status word under
  ``status`` or ``state`` (``operational``, ``degraded`` ...) and text under
  ``message`` or ``description``; a bare string is taken as the status word, and
  a list of components is read for the first one that is not operational.
- A refused token and a non-whitelisted IP both answer 401; a message that
  mentions the IP or the whitelist means the latter.
- A 403 (in the envelope, in a 200 envelope's ``code``, or a proxy's bare
  403) is not in the document's codes: the key was accepted but may not make
  this request, so it is ``PbxPermissionError`` naming the refused endpoint
  (the API names no right), not a refused key.
- ``code`` may be a number or a string; an envelope whose ``status`` is not
  ``success`` is an error even with HTTP 200. A ``code`` of 500 or more is
  read as that HTTP status would be: 500, 502 or 504 to a write (a call
  placed) may have followed the change.
- The ``from_date`` filter is the PBX's own day. The client asks from the day
  before the caller's ``since`` and keeps only calls that started at or after it,
  so no time zone difference loses a call.
- Timestamps without an offset are UTC.
- ``user_number`` identifies a user (extension) for ``call-to-number``; users
  appear only through their calls, as the API has no user list.
- In-progress calls are listed with ``call_finished_at`` null and are read again
  until they end. A user's call in progress without ``connected_at`` (or talk
  time) is ringing, with it in a call: the call states come from the user list.
- Queue rows name the caller ``callerid`` and user rows ``caller_id``; both are
  read, as are the document's ``from_number``/``to_number``/``is_inbound`` and
  the richer ``type`` (``user_inbound_missed`` ...) seen in the wild.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
import hashlib
from typing import Any, ClassVar

from yarl import URL

from .abilities import ClicksToCall
from .base import (
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
    one_read,
)
from .budget import BudgetSpec
from .convert import readable, to_bool, to_datetime, to_int, to_key, to_text
from .exceptions import (
    PbxAuthError,
    PbxError,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxResponseError,
    PbxTooManyItemsError,
)
from .gather import gather_reads
from .http import server_error, url_host
from .livecalls import states_from_records
from .models import (
    CallOutcome,
    CallRecord,
    CallScope,
    Capability,
    ExtensionCallState,
    PbxInfo,
    SystemStatus,
)
from .readers import ReadsCalls, ReadsCallStates, ReadsStatus

CONF_URL = "url"
CONF_TOKEN = "token"  # noqa: S105  (the setting's name, not a token)
DEFAULT_URL = "https://au.voipcloud.online"

API_PATH = "/api/integration/v1/"
PAGE_SIZE = 500
"""Rows per page: the API allows up to 10000; 500 keeps a busy day's first
read to a few requests without large bodies on quiet polls.
"""

_LISTS: dict[CallScope, str] = {
    CallScope.USER: "get-user-calls",
    CallScope.QUEUE: "get-queue-calls",
    CallScope.RING_GROUP: "get-ringgroup-calls",
}
_GROUP_NAME_KEYS: dict[CallScope, tuple[str, ...]] = {
    CallScope.USER: (),
    CallScope.QUEUE: ("queue_name",),
    CallScope.RING_GROUP: ("ring_group_name", "ringgroup_name"),
}
_GROUP_OUTCOMES = {
    "answered": CallOutcome.ANSWERED,
    "abandoned": CallOutcome.ABANDONED,
    "timedout": CallOutcome.TIMED_OUT,
    "timed_out": CallOutcome.TIMED_OUT,
}
_OK_STATES = {"ok", "operational", "online", "up", "normal", "healthy", "success"}
_WHITELIST_WORDS = ("whitelist", "white list", "ip address", " ip ")


def _first(row: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` that ``row`` has with a value."""
    for key in keys:
        if row.get(key) not in (None, ""):
            return row[key]
    return None


def parse_call(scope: CallScope, row: Any) -> CallRecord | None:
    """One list row as a ``CallRecord``; ``None`` for a row without an id or a
    start time, which cannot be counted once and only once.
    """
    if not isinstance(row, Mapping):
        return None
    call_id = to_key(row.get("unique_call_id"))
    started_at = to_datetime(row.get("call_start_at"))
    if call_id is None or started_at is None:
        return None
    answered_at = to_datetime(_first(row, "connected_at", "call_answered_at"))
    finished_at = to_datetime(row.get("call_finished_at"))
    call_type = (to_text(row.get("type")) or "").lower()
    if scope is CallScope.USER:
        inbound = to_bool(row.get("is_inbound"))
        if inbound is None and call_type:
            inbound = "inbound" in call_type
        talk = to_int(row.get("conversation_duration")) or 0
        outcome = _user_outcome(call_type, inbound, answered_at or talk, finished_at)
        user_name = to_text(row.get("user_name"))
    else:
        inbound = True
        status = (to_text(row.get("status")) or "").lower()
        outcome = _GROUP_OUTCOMES.get(status, CallOutcome.IN_PROGRESS)
        user_name = to_text(_first(row, "answered_by_user_name", "user_name"))
    return CallRecord(
        id=call_id,
        scope=scope,
        group=to_text(_first(row, *_GROUP_NAME_KEYS[scope])),
        user_number=to_key(row.get("user_number")),
        user_name=user_name,
        inbound=inbound,
        caller=to_key(_first(row, "caller_id", "callerid", "from_number")),
        caller_name=to_text(row.get("caller_name")),
        callee=to_key(_first(row, "dest_number", "to_number", "inbound_number")),
        started_at=started_at,
        answered_at=answered_at,
        finished_at=finished_at,
        talk_seconds=to_int(row.get("conversation_duration")) or 0,
        outcome=outcome,
    )


def _user_outcome(
    call_type: str,
    inbound: bool | None,
    answered: datetime | int | None,
    finished_at: datetime | None,
) -> CallOutcome:
    """A row shaped as the document says has no ``type`` and no
    ``connected_at``: talk time then tells an answered call.
    """
    if answered or call_type.endswith("answered"):
        return CallOutcome.ANSWERED
    if finished_at is None and "missed" not in call_type:
        return CallOutcome.IN_PROGRESS
    return CallOutcome.MISSED if inbound is not False else CallOutcome.UNANSWERED


def parse_status(data: Any) -> SystemStatus:
    """The NOC's verdict, read tolerantly (its shape is not published)."""
    state: str | None = None
    message: str | None = None
    if isinstance(data, str):
        state = to_text(data)
    elif isinstance(data, Mapping):
        state = to_text(_first(data, "status", "state", "overall_status"))
        message = to_text(_first(data, "message", "description", "details"))
        components = data.get("components")
        if state is None and isinstance(components, list):
            states = [
                to_text(_first(item, "status", "state"))
                for item in components
                if isinstance(item, Mapping)
            ]
            bad = [s for s in states if s and s.lower() not in _OK_STATES]
            state = bad[0] if bad else ("operational" if states else None)
    elif data is not None and not isinstance(data, list):
        raise PbxResponseError("VoIPcloud: system status is not an object")
    return SystemStatus(
        state=state.lower().replace(" ", "_") if state else None, message=message
    )


def is_envelope(body: Any) -> bool:
    """Whether ``body`` has the API's envelope shape."""
    return isinstance(body, Mapping) and ("data" in body or "status" in body)


def unwrap(
    body: Any,
    redact: Callable[[str], str] = str,
    endpoint: str | None = None,
    *,
    write: bool = False,
) -> Any:
    """``data`` of a successful envelope; an error envelope raises, its message
    passed through ``redact``.
    """
    if not is_envelope(body):
        raise PbxResponseError("VoIPcloud: answer is not an API envelope")
    status = (to_text(body.get("status")) or "success").lower()
    code = to_int(body.get("code"))
    if status not in {"success", "ok"} or (code is not None and code >= 400):
        message = redact(to_text(body.get("message")) or status)
        raise _envelope_error(code or 0, message, endpoint, write=write)
    return body.get("data")


def _envelope_error(
    code: int, message: str, endpoint: str | None = None, *, write: bool = False
) -> PbxError:
    """The error an envelope's code means; ``endpoint`` names what a 403
    refused. A server's error reads as its HTTP status would
    (``server_error``): to a ``write``, 500, 502 and 504 may follow the change.
    """
    text = f"VoIPcloud: {message}"
    if code >= 500:
        return server_error(code, f"{text} (code {code})", write=write)
    lowered = f" {message.lower()} "
    # The document answers a missing whitelist entry with 401; a 403 that
    # names it is read the same way (fixed in the portal, not with a new key).
    if code in (401, 403) and any(word in lowered for word in _WHITELIST_WORDS):
        return PbxNotWhitelistedError(
            f"{text} (add Home Assistant's public IP address to the API "
            "whitelist in the VoIPcloud portal)"
        )
    if code == 401:
        return PbxAuthError(f"{text} (check the API key)")
    if code == 403:
        return PbxPermissionError(text, permission=endpoint)
    if code == 429:
        return PbxRateLimitError(text, from_pbx=True)
    if code in (400, 404):
        return PbxInvalidInputError(text)
    return PbxRefusedError(text)


MAX_CALL_LENGTH = timedelta(hours=6)
"""A call listed without an end while calls this much younger exist is taken
as ended: a row that never gets ``call_finished_at`` must not make every poll
read the whole day again. Measured against the PBX's own timestamps, so the
client needs no clock of its own.
"""


_DECIDED = (
    CallOutcome.MISSED,
    CallOutcome.UNANSWERED,
    CallOutcome.ABANDONED,
    CallOutcome.TIMED_OUT,
)


def _settled(call: CallRecord, newest: datetime) -> bool:
    """Whether a call's row can no longer change: it has an end, an outcome
    that nothing follows, or talk time (filled in when the call ends).
    """
    return (
        call.finished_at is not None
        or call.outcome in _DECIDED
        or call.talk_seconds > 0
        or call.started_at < newest - MAX_CALL_LENGTH
    )


@dataclass
class _ListCursor:
    """What the client remembers of one call list between polls."""

    calls: dict[str, CallRecord]
    """Calls read so far, by id."""
    since: datetime | None = None
    """Where the calls read so far begin: a read from earlier than that
    starts over, as nothing before it was read.
    """
    resume_at: int | None = None
    """The offset an earlier read stopped at before the end of the list (its
    share of requests spent, or a request failed): the next read, once caught
    up at the top, goes on from there. Rows only move down as calls arrive,
    so going on from it may read a row twice, never skip one.
    """


@dataclass
class _ListRead:
    """Where one read of a call list is."""

    resume_at: int | None
    """Where to go on once caught up at the top (see ``_ListCursor``)."""
    offset: int = 0
    resuming: bool = False
    """Past the top: a call read before does not end this read."""
    seen: set[str] = field(default_factory=set)
    """Calls this read has seen, by id."""
    taken: list[CallRecord] = field(default_factory=list)
    """The calls of the last page that are new or changed."""

    def take(
        self,
        page: list[CallRecord | None],
        since: datetime,
        before: Mapping[str, CallRecord],
        unfinished: set[str],
        newest: datetime,
    ) -> tuple[bool, bool]:
        """Note a page's calls in ``taken``, and say whether it ends the
        list (a call before ``since``, a short page, or one with nothing this
        read has not seen) and whether it caught up with what earlier reads
        had (a call that had ended, once no unfinished call is left).
        """
        calls = [call for call in page if call is not None]
        new = {call.id for call in calls} - self.seen
        self.seen |= new
        self.taken = []
        for call in calls:
            if call.started_at < since:
                # Newest first: everything from here on is older still.
                return True, False
            previous = before.get(call.id)
            if (
                not self.resuming
                and previous is not None
                and not unfinished
                and _settled(previous, newest)
            ):
                return len(page) < PAGE_SIZE, True
            unfinished.discard(call.id)
            self.taken.append(call)
        self.offset += PAGE_SIZE
        return len(page) < PAGE_SIZE or not new, False

    def go_on(self) -> bool:
        """Caught up at the top: go on where an earlier read stopped, if one
        did (past what this read has read); else the read is done.
        """
        if self.resume_at is None:
            return False
        self.offset = max(self.resume_at, self.offset + PAGE_SIZE)
        self.resume_at = None
        self.resuming = True
        return True


def _account(settings: Mapping[str, Any]) -> str:
    """The identity of the account the settings' key opens: the host and a
    hash of the key, as the API names no account.
    """
    host = url_host(str(settings.get(CONF_URL) or DEFAULT_URL))
    token = str(settings.get(CONF_TOKEN) or "")
    return f"{host}_{hashlib.sha256(token.encode()).hexdigest()[:12]}"


class VoipcloudClient(
    PbxClient, ReadsStatus, ReadsCalls, ReadsCallStates, ClicksToCall
):
    """One VoIPcloud account, identified by its API key."""

    vendor = "voipcloud"
    default_url = DEFAULT_URL
    capabilities = frozenset(
        {
            Capability.STATUS,
            Capability.CALL_HISTORY,
            Capability.CLICK_TO_CALL,
            Capability.CALL_STATES,
        }
    )
    read_costs: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 1,
        Capability.CALL_HISTORY: len(_LISTS),
        Capability.CALL_STATES: 1,  # the user list, when nothing changed
    }
    max_items: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 1000,  # components
        Capability.CALL_HISTORY: 20000,  # calls of the day, per list
        Capability.CALL_STATES: 20000,  # the user list's calls of the day
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Start with nothing read."""
        super().__init__(*args, **kwargs)
        self._lists = {scope: _ListCursor(calls={}) for scope in _LISTS}
        self._reading = {scope: asyncio.Lock() for scope in _LISTS}
        """One read of a list at a time: the call history and the call
        states both read the user list, and each goes on from the other.
        """

    @property
    def _base(self) -> URL:
        return self.server_address(self.settings)

    def _explain(
        self, status: int, text: str, endpoint: str | None = None
    ) -> PbxError | None:
        """Read the codes the API documents, and a 403 (a proxy's bare one too:
        it names the endpoint refused); leave other 4xx answers (a 405) to the
        status code.
        """
        try:
            body = self.http.decode_json(text)
        except PbxResponseError:
            body = None
        if status not in (400, 401, 403, 404) and not is_envelope(body):
            return None
        message = (
            to_text(body.get("message")) if isinstance(body, Mapping) else None
        ) or f"HTTP {status}"
        return _envelope_error(status, self.http.redact(message), endpoint)

    async def _request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        response = await self.http.request(
            method,
            str(self._base.with_path(API_PATH + endpoint)),
            params=params,
            data=data,
            headers={"token": str(self.settings.get(CONF_TOKEN) or "")},
            explain_error=partial(self._explain, endpoint=endpoint),
            write=method != "GET",
        )
        try:
            return unwrap(
                await self.http.read_json(response.text),
                self.http.redact,
                endpoint,
                write=method != "GET",
            )
        except PbxRateLimitError as err:
            # A 429 inside a 200 answer pauses like a real one.
            paused = self.http.budget.pause(None)
            raise PbxRateLimitError(
                str(err), retry_after=paused, from_pbx=True
            ) from None

    async def async_identify(self) -> PbxInfo:
        """Check the key and the whitelist with ``get-system-status``.

        The API names no account, so the identity is the host and a hash of the
        key the entry was created with.
        """
        await self._request("GET", "get-system-status")
        host = (self._base.host or "").lower()
        return PbxInfo(
            unique_id=_account(self.settings),
            name=f"VoIPcloud {host}",
            manufacturer="VoIPcloud",
            model="Cloud PBX",
            configuration_url=str(self._base.with_path("/")),
        )

    @classmethod
    def budget_scope(
        cls, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """The account: its 100 requests per 15 minutes are the account's,
        whatever key spends them. The API names no account and a new key
        opens the same one, so it is the ``identity`` the account was first
        identified by; before there is one (a new entry), the identity this
        key gives.
        """
        return identity or _account(settings)

    @one_read(Capability.STATUS)
    async def async_get_status(self) -> SystemStatus:
        """The system status the VoIPcloud NOC reports."""
        data = await self._request("GET", "get-system-status")
        if isinstance(data, Mapping):
            self._at_most(Capability.STATUS, data.get("components"))
        return parse_status(data)

    @one_read(Capability.CALL_HISTORY)
    async def async_get_calls(self, since: datetime) -> list[CallRecord]:
        """Today's calls of every user, queue and ring group: one request per
        list when nothing changed.
        """
        results = await gather_reads(
            *(self._read_new(scope, since) for scope in _LISTS)
        )
        return [call for calls in results for call in calls]

    async def _read_new(self, scope: CallScope, since: datetime) -> list[CallRecord]:
        """``_read_list``, one read of a list at a time."""
        async with self._reading[scope]:
            return await self._read_list(scope, since)

    async def _read_list(self, scope: CallScope, since: datetime) -> list[CallRecord]:
        """Read ``scope``'s list newest first until the first call that had
        already ended when last read, once every call that had not ended has
        been read again; then on from where an earlier read stopped short
        (``_ListCursor.resume_at``), to the end of the list.

        A read stops at the end of the list, at a page that brings no call
        this read has not seen (a server that ignores ``offset`` sends its
        first page again and again), and when it has sent its share of
        requests (``one_read``): the calls read so far are kept, also when a
        request fails, and the next read goes on from there.
        """
        cursor = self._lists[scope]
        if cursor.since is None or since < cursor.since:
            cursor.calls = {}  # nothing before the earlier start was read
            cursor.resume_at = None
        cursor.since = since
        known = {
            call_id: call
            for call_id, call in cursor.calls.items()
            if call.started_at >= since
        }
        # Only what earlier polls read stops this one: rows shift between two
        # pages when a call arrives, and a row read on the previous page must
        # not look like the end of what is new.
        before = dict(known)
        newest = max((call.started_at for call in known.values()), default=since)
        unfinished = {
            call_id for call_id, call in known.items() if not _settled(call, newest)
        }
        read = _ListRead(resume_at=cursor.resume_at)
        try:
            while True:
                left = self.http.budget.read_left()
                if read.offset and left is not None and left <= 0:
                    cursor.resume_at = read.offset  # this read's share is spent
                    break
                calls = await self._page(scope, since, read.offset)
                end, caught_up = read.take(calls, since, before, unfinished, newest)
                for call in read.taken:
                    known[call.id] = call
                self._at_most(Capability.CALL_HISTORY, known)
                if end:  # a short page ends a list caught up or not
                    # Read to the end: a call still "in progress" that the PBX
                    # no longer lists would otherwise be looked for every poll.
                    for call_id in unfinished:
                        known.pop(call_id, None)
                    cursor.resume_at = None
                    break
                if caught_up and not read.go_on():
                    break
        except PbxTooManyItemsError:
            raise  # refused whole: nothing of it is kept
        except PbxError:
            if read.offset:
                cursor.resume_at = read.offset
            cursor.calls = known
            raise
        cursor.calls = known
        return list(known.values())

    @one_read(Capability.CALL_STATES)
    async def async_get_call_states(self) -> dict[str, ExtensionCallState]:
        """Each user's state from the user list's calls still in progress
        (ringing until connected): one request when nothing changed. Users
        appear only through their calls, so a user is listed once it had a
        call since the calls read begin (``async_get_calls``'s ``since``,
        else ``MAX_CALL_LENGTH`` ago).
        """
        cursor = self._lists[CallScope.USER]
        since = cursor.since or datetime.now(UTC) - MAX_CALL_LENGTH
        calls = await self._read_new(CallScope.USER, since)
        newest = max((call.started_at for call in calls), default=since)
        return states_from_records(
            (call for call in calls if not _settled(call, newest)),
            (call.user_number for call in calls if call.user_number),
        )

    async def _page(
        self, scope: CallScope, since: datetime, offset: int
    ) -> list[CallRecord | None]:
        """One page of ``scope``'s list from ``offset``: each row read, or
        ``None`` where it cannot be (a page of nothing readable raises).
        """
        page = await self._request(
            "GET",
            _LISTS[scope],
            params={
                "from_date": (since - timedelta(days=1)).date().isoformat(),
                "sort_by": "newest_first",
                "limit": str(PAGE_SIZE),
                "offset": str(offset),
            },
        )
        if not isinstance(page, list):
            if page not in (None, {}, ""):
                raise PbxResponseError(f"VoIPcloud: {_LISTS[scope]} is no list")
            page = []
        calls = [parse_call(scope, row) for row in page]
        readable(calls, lambda call: call, f"VoIPcloud {scope}")
        return calls

    async def async_click_to_call(self, extension: str, number: str) -> None:
        """Ring the user ``extension`` and, once answered, call ``number``."""
        await self._request(
            "POST",
            "call-to-number",
            data={
                "user_number": self.normalize_number(extension),
                "number_to_call": self.normalize_number(number),
            },
        )


SPEC = VendorSpec(
    key="voipcloud",
    name="VoIPcloud",
    client_class=VoipcloudClient,
    fields=(
        SettingField(key=CONF_URL, kind=FieldKind.URL, default=DEFAULT_URL),
        SettingField(key=CONF_TOKEN, kind=FieldKind.PASSWORD),
    ),
    budget=BudgetSpec(limit=100, window=15 * 60),
    stable_identity=False,
)

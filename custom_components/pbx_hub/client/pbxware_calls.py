"""PBXware's calls: live call states, call records (``cdr.download``), call
forwarding and recording answers. Parsers only; ``pbxware.py`` sends.

From Bicom's API reference (its Postman tests) and our research notes:

- ``monitor.list`` gives every extension's ``on_call`` (``''`` or a boolean);
  ``monitor.live_calls`` gives ``{call id: {from, to, timestamp}}`` (``from``
  and ``to`` text, ``timestamp`` a number), or the text ``Live Calls: 0``.
- ``cdr.download`` takes ``start``/``end`` (``Sep-27-2022``),
  ``starttime``/``endtime`` (``13:00:00``), ``page``, ``limit`` (up to 1000),
  ``status`` (8 answered, 4 unanswered, 2 busy, 1 failed), ``cdrtype`` (1
  incoming, 2 outgoing, 3 all) and ``timezone``; it answers ``{success,
  next_page, limit, records, header, csv}`` with ``header`` the column names
  (``null`` when there is nothing) and ``csv`` the rows.

Assumed, where the documents are silent, and read tolerantly:

- A party is a number, a caller id with a name (``"Ann" <101>``) or an
  Asterisk channel (``SIP/101-00000a1b``); the extension's number is what
  matches ``monitor.list``'s ``ext``.
- Neither call list says in so many words that a call rings. A live call
  row, or ``on_call``, whose ``status``/``state`` text speaks of ringing is
  ``ringing``; so is a live call of an extension whose ``on_call`` is not
  set (``''`` or false: in the call list, not in a call yet). A live call
  of an extension on a call, or whose ``on_call`` is unknown, is ``in_call``.
- ``Date/Time`` is Unix seconds (one client reads it so) or a date-time
  text in the ``timezone`` asked for (UTC); durations are seconds or
  ``h:mm:ss``. ``Status`` is the word (``Answered``, ``Unanswered``, ``No
  answer``, ``Busy``, ``Failed``) or the code the filter uses.
- Rows are read by the header's names, so a reordered or longer header
  still reads; rows without an ``ID`` or a time cannot be counted once and
  are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import re
from typing import Any

from .convert import to_bool, to_int, to_key, to_text
from .exceptions import PbxNoCallError, PbxResponseError
from .livecalls import moment, party, to_seconds
from .models import (
    CallDirection,
    CallForwarding,
    CallOutcome,
    CallRecord,
    CallScope,
    CallState,
    ExtensionCallState,
    LiveCall,
)

CDR_HEADER = (
    "Tenant",
    "From",
    "To",
    "Date/Time",
    "Total Duration",
    "Rating Duration",
    "Rating Cost",
    "Status",
    "ID",
    "Recording Path",
    "Recording Available",
    "Location Type",
)
"""The columns Bicom's test expects, in order: used where ``header`` is missing."""
CDR_INCOMING = "1"
CDR_OUTGOING = "2"
_RINGING = re.compile(r"ring", re.I)
_ANSWERED = {"answered", "8"}
_NOT_ANSWERED = {
    "unanswered",
    "no answer",
    "noanswer",
    "not answered",
    "busy",
    "failed",
    "4",
    "2",
    "1",
}
_NO_CALL = re.compile(r"no calls? (have been|has been|were|was)? ?updated", re.I)
_TEXT_TIMES = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%b-%d-%Y %H:%M:%S")


def cdr_date(moment: datetime) -> tuple[str, str]:
    """``cdr.download``'s date (``Sep-27-2022``) and time of ``moment`` in UTC."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%b-%d-%Y"), utc.strftime("%H:%M:%S")


def _outcome(status: Any, *, inbound: bool) -> CallOutcome:
    """The call's end from ``Status``; a word we do not know is unknown."""
    word = (to_key(status) or "").strip().lower()
    if word in _ANSWERED:
        return CallOutcome.ANSWERED
    if word in _NOT_ANSWERED:
        return CallOutcome.MISSED if inbound else CallOutcome.UNANSWERED
    return CallOutcome.UNKNOWN


def cdr_page(body: Any) -> tuple[list[dict[str, Any]], bool]:
    """The rows of one ``cdr.download`` page by column name, and whether a
    next page exists. A page that is no object, or whose ``csv`` is no list,
    is an answer not understood.
    """
    if isinstance(body, list) and not body:
        return [], False
    if not isinstance(body, Mapping):
        raise PbxResponseError("PBXware: cdr.download answered no object")
    csv = body.get("csv")
    if csv in (None, "", []):
        return [], False
    if not isinstance(csv, list):
        raise PbxResponseError("PBXware: cdr.download's csv is no list")
    header = body.get("header")
    names = (
        [to_text(name) or "" for name in header]
        if isinstance(header, list) and header
        else list(CDR_HEADER)
    )
    rows = [
        dict(zip(names, row, strict=False))
        for row in csv
        if isinstance(row, list | tuple)
    ]
    if csv and not rows:
        raise PbxResponseError("PBXware: no cdr.download row can be read")
    return rows, to_bool(body.get("next_page")) is True


def cdr_record(row: Mapping[str, Any], *, inbound: bool) -> CallRecord | None:
    """One CDR row as the extension's call record (``inbound``: read with
    ``cdrtype`` incoming); ``None`` without an id or a time.
    """
    call_id = to_key(row.get("ID"))
    started_at = moment(row.get("Date/Time"), _TEXT_TIMES, UTC)
    if call_id is None or started_at is None:
        return None
    caller, caller_name = party(row.get("From"))
    callee, _ = party(row.get("To"))
    total = to_seconds(row.get("Total Duration"))
    rated = to_seconds(row.get("Rating Duration"))
    outcome = _outcome(row.get("Status"), inbound=inbound)
    talk = rated if outcome is CallOutcome.ANSWERED else 0
    return CallRecord(
        id=call_id,
        scope=CallScope.USER,
        group=None,
        user_number=callee if inbound else caller,
        user_name=None,
        inbound=inbound,
        caller=caller,
        caller_name=caller_name,
        callee=callee,
        started_at=started_at,
        answered_at=None,
        finished_at=None if total is None else started_at + timedelta(seconds=total),
        talk_seconds=talk or 0,
        outcome=outcome,
    )


def _ringing(*values: Any) -> bool:
    return any(
        isinstance(value, str) and _RINGING.search(value) is not None
        for value in values
    )


def call_states(
    monitors: Mapping[str, Mapping[str, Any]],
    calls: Mapping[str, LiveCall],
    raw_calls: Mapping[str, Mapping[str, Any]],
) -> dict[str, ExtensionCallState]:
    """Each extension's call state, keyed by ``monitor.list``'s id: its live
    call (the one it is in that started first), else ``on_call``. An
    extension whose ``on_call`` is neither a flag nor ringing text is unknown.
    """
    by_number: dict[str, list[tuple[LiveCall, CallDirection]]] = {}
    for call in sorted(
        calls.values(),
        key=lambda c: c.started_at or datetime.max.replace(tzinfo=UTC),
    ):
        caller, _ = party(call.caller)
        callee, _ = party(call.callee)
        if caller:
            by_number.setdefault(caller, []).append((call, CallDirection.OUTBOUND))
        if callee and callee != caller:
            by_number.setdefault(callee, []).append((call, CallDirection.INBOUND))
    states: dict[str, ExtensionCallState] = {}
    for ext_id, monitor in monitors.items():
        number = to_key(monitor.get("ext")) or ext_id
        on_call = monitor.get("on_call")
        if found := by_number.get(number):
            call, direction = found[0]
            row = raw_calls.get(call.id, {})
            other = call.callee if direction is CallDirection.OUTBOUND else call.caller
            other_number, other_name = party(other)
            ringing = (
                _ringing(row.get("status"), row.get("state"), on_call)
                or to_bool(on_call) is False
            )
            states[ext_id] = ExtensionCallState(
                extension=ext_id,
                state=CallState.RINGING if ringing else CallState.IN_CALL,
                other_number=other_number,
                other_name=other_name,
                direction=direction,
                since=call.started_at,
                call_id=call.id,
            )
        elif _ringing(on_call):
            states[ext_id] = ExtensionCallState(
                extension=ext_id, state=CallState.RINGING
            )
        else:
            flag = to_bool(on_call)
            states[ext_id] = ExtensionCallState(
                extension=ext_id,
                state=None
                if flag is None
                else CallState.IN_CALL
                if flag
                else CallState.IDLE,
            )
    return states


def call_forwarding(extension: str, body: Any) -> CallForwarding:
    """``ext.es.callfwd.get``/``set``'s ``state``: ``yes`` and ``pin`` (on,
    behind a PIN) are on, ``no`` off; anything else is unknown.
    """
    state = to_text(body.get("state")) if isinstance(body, Mapping) else None
    word = (state or "").lower()
    enabled = True if word == "pin" else to_bool(state) if state else None
    return CallForwarding(extension=extension, enabled=enabled, state=state)


def recording_done(body: Any, extension: str) -> None:
    """Return if ``recording.*`` acted on a call; ``PbxNoCallError`` if the
    extension had none (``affected_calls`` 0, or "No calls have been
    updated."); ``PbxResponseError`` for an answer that says neither.
    """
    if not isinstance(body, Mapping):
        raise PbxResponseError("PBXware: recording answered no object")
    affected = to_int(body.get("affected_calls"))
    message = to_text(body.get("success")) or ""
    if affected == 0 or (affected is None and _NO_CALL.search(message)):
        raise PbxNoCallError(f"Extension {extension} has no call in progress")
    if affected is None and not message:
        raise PbxResponseError("PBXware: recording answered without a result")

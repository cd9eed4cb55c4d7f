"""Framework shared by every fake vendor server: HTTP plumbing, counters, faults.

A vendor simulator subclasses :class:`SimulatorBase`, registers its routes in
:meth:`SimulatorBase.register_routes` (by default one catch-all route to
:meth:`SimulatorBase.handle`), names the action of a request in
:meth:`SimulatorBase.action_name` and says how the vendor rejects a credential in
:meth:`SimulatorBase.auth_revoked_response`. Counting and fault injection happen in a
middleware, so vendor code never sees a faulted request it should not answer.

The control surface under ``/_sim/`` (state, fault, clear, reset_counters, and for
simulators with calls ``calls`` and ``clock``: see :mod:`simulator.calls` and
docs/calls-sim.md) is not counted and never faulted.

Faults that rewrite the normal answer (``loose_types``, ``wrong_shapes``,
``missing_keys``, ``malformed_json``) apply to JSON bodies; a body that is not JSON
(VoipCenter's XML format, say) is sent as it is. A refused connection is no
per-request fault: :meth:`SimulatorBase.refuse_connections` stops listening on the
port until :meth:`SimulatorBase.accept_connections`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import gzip
import json
import random
import re
import ssl
from typing import ClassVar, Self
from urllib.parse import parse_qsl

from aiohttp import web

from .calls import DEFAULT_RING_SECONDS, Call, CallBook, CallError

CONTROL_PREFIX = "/_sim/"
TIMEOUT_SECONDS = 60.0
HTML_CONTENT_TYPE = "text/html; charset=UTF-8"
RECORDED_REQUESTS = 100
"""How many of the last requests the simulator keeps for tests to inspect."""
HUGE_BODY_BYTES = 10 * 1024 * 1024
"""Size of the ``huge`` fault's body, and of ``huge_gzip``'s once inflated: 10 MiB."""
NESTING_DEPTH = 100_000
"""Lists ``deep_nesting`` wraps the answer in: past what Python's JSON
parser reads (it stops some 50 000 deep)."""
HOSTILE_CHARSETS = ("base64", "rot13", "hex", "idna", "punycode")
"""What ``hostile_charset`` names, in turn: codecs that are no text encoding
(``LookupError``), one that fails on ordinary bytes (``idna``) and one that
decodes in quadratic time (``punycode``)."""
DRIP_CHUNKS = 10
"""Pieces the ``slow_drip`` fault cuts a body into."""
DEFAULT_RETRY_AFTER = 60
"""Seconds ``rate_limit_headers`` asks the client to wait when not told."""
_STREAM_CHUNK = 64 * 1024
CLOSE_TURNS = 4
"""Event loop turns a closed connection takes to reach a client on the same
loop: the close, the FIN read, the client's transport closing."""

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Fault(StrEnum):
    """A misbehaviour the simulator can be told to show."""

    LATENCY = "latency"
    """Sleep ``latency`` seconds, then answer normally."""
    TIMEOUT = "timeout"
    """Sleep 60 s (longer than any client timeout) before answering."""
    SERVER_ERROR = "server_error"
    """HTTP 500 with an HTML body."""
    AUTH_REVOKED = "auth_revoked"
    """Answer as the vendor does for a bad credential."""
    RATE_LIMIT = "rate_limit"
    """HTTP 429, with ``Retry-After`` when ``retry_after`` is given."""
    MALFORMED = "malformed"
    """HTTP 200 with a body that is not JSON at all (an HTML page)."""
    TRUNCATED = "truncated"
    """HTTP 200 with the normal body cut in half."""
    PHP_WARNING = "php_warning"
    """HTTP 200, PHP warning text followed by the normal body."""
    PHP_WARNING_ONLY = "php_warning_only"
    """HTTP 200 with only PHP warning and notice text."""
    BAD_GATEWAY = "bad_gateway"
    """HTTP 502 with the HTML page of the proxy in front of the PBX."""
    FORBIDDEN = "forbidden"
    """Answer as the vendor does when the account lacks a right or licence."""
    RATE_LIMIT_HEADERS = "rate_limit_headers"
    """HTTP 429 with the vendor's own headers on when to try again
    (``retry_after`` seconds, default 60)."""
    MALFORMED_JSON = "malformed_json"
    """HTTP 200 with the normal JSON body made invalid (a comma before its end)."""
    EMPTY = "empty"
    """HTTP 200 with an empty body."""
    LOOSE_TYPES = "loose_types"
    """The normal JSON body with loose but valid types, as PHP APIs send them:
    every number as numeric text and every id-like text (digits, no leading
    zero) as a number, at every depth. A correct client reads the same values."""
    SWAPPED_TYPES = "swapped_types"
    """The normal JSON body with every number turned into a string and every
    string into a number (its length plus one, never the number it spells), at
    every depth: garbage a client must refuse or show as unknown, never as a
    value."""
    WRONG_SHAPES = "wrong_shapes"
    """The normal JSON body with every object below the top turned into a list
    of its values and every list into an object keyed ``"0"``, ``"1"`` ...
    (a flat object at the top: the top itself)."""
    MISSING_KEYS = "missing_keys"
    """The normal JSON body with every second key (the first, the third ...)
    dropped from every object below the top (a flat object: from the top)."""
    ROW_FLOOD = "row_flood"
    """The normal JSON body with every list of rows (a list of objects, or an
    object all of whose values are objects) grown to ``FLOOD_ROWS`` rows:
    empty objects under fresh keys, tiny rows no PBX would send so many of."""
    EXTREME_VALUES = "extreme_values"
    """The normal JSON body with valid but extreme values: every number that
    is not an id (see ``extreme_values``) sent as ``1e308``, every ISO 8601
    date-time as ``9999-12-31T23:59:59-14:00``."""
    IGNORE_OFFSET = "ignore_offset"
    """Answer as if the request named no ``offset`` (the documented default,
    0): a server that ignores it sends its first page for every page."""
    ENDLESS_PAGING = "endless_paging"
    """``ignore_offset``, and every page of a list answer (a request with a
    ``limit``) filled to ``limit`` rows by repeating its rows: every page is
    full and the same, so no page ever ends the list."""
    HUGE = "huge"
    """HTTP 200, 10 MiB: the normal body padded with whitespace (still valid
    JSON), sent chunked, without a Content-Length."""
    HUGE_GZIP = "huge_gzip"
    """The ``huge`` body compressed with gzip (``Content-Encoding: gzip``), some
    10 KB that inflate to 10 MiB, sent whatever the request asked for."""
    DEEP_NESTING = "deep_nesting"
    """The normal JSON body inside lists nested ``NESTING_DEPTH`` deep."""
    HOSTILE_CHARSET = "hostile_charset"
    """The normal body, its ``Content-Type`` naming a charset that is no text
    encoding: each of ``HOSTILE_CHARSETS`` in turn."""
    SLOW_DRIP = "slow_drip"
    """The normal body in ten pieces with ``latency`` seconds between them."""
    LATE_ANSWER = "late_answer"
    """Answer at once, but send it ``latency`` seconds later: an answer that
    is stale when it arrives (a write in between is not in it)."""


@dataclass
class ActiveFault:
    """One injected fault and how many more requests it applies to."""

    fault: Fault
    remaining: int | None = None
    latency: float = 0.5
    retry_after: int | None = None
    actions: frozenset[str] | None = None

    def matches(self, action: str | None) -> bool:
        """Whether this fault applies to a request for ``action``."""
        return self.actions is None or (action is not None and action in self.actions)

    def as_json(self) -> dict[str, object]:
        """The fault as the control surface reports it."""
        return {
            "fault": self.fault.value,
            "remaining": self.remaining,
            "latency": self.latency,
            "retry_after": self.retry_after,
            "actions": None if self.actions is None else sorted(self.actions),
        }


SERVER_ERROR_BODY = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    "<title>500 Internal Server Error</title>\n</head><body>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error "
    "or misconfiguration and was unable to complete your request.</p>\n"
    "</body></html>\n"
)
RATE_LIMIT_BODY = (
    "<html>\n<head><title>429 Too Many Requests</title></head>\n<body>\n"
    "<center><h1>429 Too Many Requests</h1></center>\n</body>\n</html>\n"
)
BAD_GATEWAY_BODY = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
FORBIDDEN_BODY = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n'
    "<title>403 Forbidden</title>\n</head><body>\n<h1>Forbidden</h1>\n"
    "<p>You don't have permission to access this resource.</p>\n</body></html>\n"
)
MALFORMED_JSON_BODY = '{"status": "success", "data": [{"id": 1,, }'
"""What ``malformed_json`` sends when the normal body is not JSON."""
MALFORMED_BODY = (
    "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    "<body><h1>Maintenance</h1><p>The system is being upgraded. "
    "Please try again later.</p></body></html>\n"
)


def php_warning(script: str, line: int = 42) -> str:
    """The text PHP prints for an ``Undefined index`` warning with display_errors on."""
    return (
        "<br />\n<b>Warning</b>:  Undefined index: server in "
        f"<b>{script}</b> on line <b>{line}</b><br />\n"
    )


def php_notice(script: str, line: int = 57) -> str:
    """The text PHP prints for an ``Undefined variable`` notice."""
    return (
        "<br />\n<b>Notice</b>:  Undefined variable: result in "
        f"<b>{script}</b> on line <b>{line}</b><br />\n"
    )


@dataclass(frozen=True, kw_only=True)
class RecordedRequest:
    """What one request carried, parsed as the server sees it: tests check
    that a hostile value arrived as one literal value and changed nothing else.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    """Query parameters in the order sent, repeated names kept."""
    form: tuple[tuple[str, str], ...]
    """Form fields of a urlencoded body, in order."""
    json: object
    """The decoded JSON body; ``None`` without one."""
    headers: tuple[tuple[str, str], ...]

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        """Query parameters, then form fields."""
        return self.query + self.form

    @classmethod
    async def read(cls, request: web.Request) -> RecordedRequest:
        """Parse ``request`` without consuming it (aiohttp caches the body)."""
        form: tuple[tuple[str, str], ...] = ()
        decoded: object = None
        if request.body_exists:
            text = (await request.read()).decode(errors="replace")
            if request.content_type == "application/x-www-form-urlencoded":
                form = tuple(parse_qsl(text, keep_blank_values=True))
            elif request.content_type == "application/json":
                with contextlib.suppress(ValueError):
                    decoded = json.loads(text)
        return cls(
            method=request.method,
            path=request.path,
            query=tuple(request.query.items()),
            form=form,
            json=decoded,
            headers=tuple(request.headers.items()),
        )


_ID_TEXT = re.compile(r"0|[1-9][0-9]{0,14}")
"""Digits a PHP API may send as a number (as ``JSON_NUMERIC_CHECK`` does): no
leading zero, which a number would lose, and exact as a float."""


def loose_types(value: object) -> object:
    """Numbers become numeric text and id-like texts numbers, at every depth;
    keys, booleans, nulls and other texts stay. The values are the same.
    """
    if isinstance(value, dict):
        return {key: loose_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [loose_types(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        return int(value)
    return value


def swapped_types(value: object) -> object:
    """Numbers become strings and strings numbers, at every depth; keys,
    booleans and nulls stay. A text's number is its length plus one, one more
    where that is the number it spells: a status ``"0"`` and ``"1"`` both
    become 2, so no garbled text can pass for its true value.
    """
    if isinstance(value, dict):
        return {key: swapped_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [swapped_types(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        number = len(value) + 1
        return number + 1 if value == str(number) else number
    return value


def _first_depth(body: object) -> int:
    """Where the shape faults start: below the top, so that an envelope stays
    readable, or at the top itself when it is a flat object (the data).
    """
    if isinstance(body, dict) and not any(
        isinstance(value, dict | list) for value in body.values()
    ):
        return 0
    return 1


def wrong_shapes(body: object) -> object:
    """Objects become lists of their values and lists become objects keyed by
    position (as PHP's ``json_encode`` may send an array), from
    ``_first_depth`` down.
    """
    return _wrong_shapes(body, 0, _first_depth(body))


def _wrong_shapes(value: object, depth: int, first: int) -> object:
    if isinstance(value, dict):
        items = {
            key: _wrong_shapes(item, depth + 1, first) for key, item in value.items()
        }
        return items if depth < first else list(items.values())
    if isinstance(value, list):
        listed = [_wrong_shapes(item, depth + 1, first) for item in value]
        if depth < first:
            return listed
        return {str(index): item for index, item in enumerate(listed)}
    return value


def missing_keys(body: object) -> object:
    """Every object loses its first, third, fifth ... key, from
    ``_first_depth`` down.
    """
    return _missing_keys(body, 0, _first_depth(body))


def _missing_keys(value: object, depth: int, first: int) -> object:
    if isinstance(value, dict):
        kept = list(value.items())
        if depth >= first:
            kept = kept[1::2]
        return {key: _missing_keys(item, depth + 1, first) for key, item in kept}
    if isinstance(value, list):
        return [_missing_keys(item, depth + 1, first) for item in value]
    return value


FLOOD_ROWS = 20_000
"""Rows ``row_flood`` grows every list of rows to: more than any PBX Hub
reads for one topic."""
_NUMBERED_KEY = re.compile(r"(.*?)(\d+)")


def row_flood(body: object) -> object:
    """Every list of objects, and every object all of whose values are
    objects, grows to ``FLOOD_ROWS`` members with empty objects; an object's
    new keys follow its first key's pattern (``101`` gives numbers,
    ``id_3`` more ``id_<n>``), so that a client reads them as rows. Empty
    ones stay empty: there is no row to follow.
    """
    if isinstance(body, list):
        items = [row_flood(item) for item in body]
        if items and all(isinstance(item, dict) for item in items):
            items += [{} for _ in range(FLOOD_ROWS - len(items))]
        return items
    if not isinstance(body, dict):
        return body
    flooded = {key: row_flood(value) for key, value in body.items()}
    if flooded and all(isinstance(value, dict) for value in flooded.values()):
        match = _NUMBERED_KEY.fullmatch(str(next(iter(flooded))))
        prefix = match.group(1) if match else f"{next(iter(flooded))}_"
        serial = 10**7
        while len(flooded) < FLOOD_ROWS:
            serial += 1
            flooded.setdefault(f"{prefix}{serial}", {})
    return flooded


EXTREME_NUMBER = 1e308
"""Valid JSON and a finite float, but no count, duration or amount."""
EXTREME_TIME = "9999-12-31T23:59:59-14:00"
"""A valid ISO 8601 date-time whose UTC is past year 9999."""
_DATE_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
)
_ID_KEYS = frozenset({"ext", "extension", "number", "nummer", "did"})


def _names_an_id(key: str) -> bool:
    """Whether a key names an id or a number dialled: its value must stay,
    or every row would become one row (or none).
    """
    lowered = key.lower()
    return lowered.endswith("id") or lowered in _ID_KEYS


def extreme_values(value: object, key: str = "") -> object:
    """Numbers (but under keys that name an id, see ``_names_an_id``)
    become ``EXTREME_NUMBER`` and date-time texts ``EXTREME_TIME``, at
    every depth; list items go by their list's key.
    """
    if isinstance(value, dict):
        return {name: extreme_values(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [extreme_values(item, key) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float) and not _names_an_id(key):
        return EXTREME_NUMBER
    if isinstance(value, str) and _DATE_TIME.fullmatch(value.strip()):
        return EXTREME_TIME
    return value


def filled_pages(body: object, limit: int) -> object:
    """The first list of objects at the top or one level below (an
    envelope's ``data``) repeated to ``limit`` rows.
    """
    if isinstance(body, list) and body and all(isinstance(i, dict) for i in body):
        return [body[index % len(body)] for index in range(limit)]
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, list) and value:
                return {**body, key: filled_pages(value, limit)}
    return body


def malformed_json(text: str) -> str:
    """``text`` with a comma before its closing bracket: no longer JSON, and no
    JSON can be found inside it either (every part runs to the broken end).
    """
    stripped = text.rstrip()
    if stripped[-1:] in ("}", "]"):
        return stripped[:-1] + ",," + stripped[-1]
    return MALFORMED_JSON_BODY


JSON_REWRITERS: dict[Fault, Callable[[object], object]] = {
    Fault.LOOSE_TYPES: loose_types,
    Fault.SWAPPED_TYPES: swapped_types,
    Fault.WRONG_SHAPES: wrong_shapes,
    Fault.MISSING_KEYS: missing_keys,
    Fault.ROW_FLOOD: row_flood,
    Fault.EXTREME_VALUES: extreme_values,
}
BODY_FAULTS = frozenset(
    {
        Fault.TRUNCATED,
        Fault.PHP_WARNING,
        Fault.MALFORMED_JSON,
        Fault.EMPTY,
        Fault.HUGE_GZIP,
        Fault.DEEP_NESTING,
        Fault.HOSTILE_CHARSET,
        *JSON_REWRITERS,
    }
)
"""Faults that change the body of the normal answer."""
STREAM_FAULTS = frozenset({Fault.HUGE, Fault.SLOW_DRIP})
"""Faults that send the normal answer in a stream of their own."""
PAGING_FAULTS = frozenset({Fault.IGNORE_OFFSET, Fault.ENDLESS_PAGING})
"""Faults that answer a request as usual, read without its ``offset``."""


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


class SeededRandom(random.Random):
    """Reproducible pseudo-random numbers for fake data (never for secrets)."""


def cli_clock(options: argparse.Namespace) -> Callable[[], datetime] | None:
    """A clock standing still at start where ``--frozen-clock`` asks for one
    (nothing then changes between polls); else ``None``, the real clock.
    """
    if not getattr(options, "frozen_clock", False):
        return None
    start = datetime.now(UTC)
    return lambda: start


class ControlError(ValueError):
    """A control request that cannot be understood."""


async def read_json_object(
    request: web.Request, *, empty_ok: bool = False
) -> dict[str, object]:
    """A control request's JSON object body (``{}`` for none when allowed)."""
    text = await request.text()
    if not text.strip() and empty_ok:
        return {}
    try:
        payload = json.loads(text)
    except ValueError:
        msg = "body must be a JSON object"
        raise ControlError(msg) from None
    if not isinstance(payload, dict):
        msg = "body must be a JSON object"
        raise ControlError(msg)
    return payload


def _text_field(
    payload: dict[str, object], name: str, *, required: bool = False
) -> str | None:
    value = payload.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        msg = f"{name} must be a non-empty string"
        raise ControlError(msg)
    return value


def _seconds_field(payload: dict[str, object], name: str) -> float | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        msg = f"{name} must be a number of seconds, not negative"
        raise ControlError(msg)
    return float(value)


class SimulatorBase:
    """A stateful fake vendor server with request counters and fault injection."""

    vendor: ClassVar[str] = "base"
    php_script: ClassVar[str] = "/var/www/html/index.php"
    """Script path quoted in the PHP warning faults."""
    stop_grace: ClassVar[float] = 1.0
    """Seconds :meth:`stop` waits for requests in flight before cancelling them."""

    def __init__(self, *, seed: int = 1) -> None:
        self.seed = seed
        self.random = SeededRandom(seed)
        self.request_count = 0
        self.requests_by_action: Counter[str] = Counter()
        self.recent_requests: deque[RecordedRequest] = deque(maxlen=RECORDED_REQUESTS)
        """The last requests served (control requests excluded), oldest first."""
        self.in_flight = 0
        """Vendor requests being answered now (a client that gave up on one
        does not end it: the server still works on it)."""
        self.max_in_flight = 0
        """Most vendor requests answered at one moment since the counters were
        reset: 1 for a client that sends one request at a time."""
        self._faults: list[ActiveFault] = []
        self._charsets_named = 0
        """Answers ``hostile_charset`` changed: which charset is next."""
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._address: tuple[str, int] = ("127.0.0.1", 0)
        self._ssl_context: ssl.SSLContext | None = None
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[object]] = set()
        self.url: str | None = None
        self.call_book: CallBook | None = None
        """The calls of a vendor that has them (see :mod:`simulator.calls`)."""

    # ------------------------------------------------------------------ hooks

    @classmethod
    def from_cli(cls, options: argparse.Namespace) -> Self:
        """Build the simulator from parsed command-line options."""
        return cls(seed=options.seed)

    def register_routes(self, app: web.Application) -> None:
        """Add the vendor's routes; by default every path goes to :meth:`handle`."""
        app.router.add_route("*", "/{tail:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one vendor API request."""
        raise web.HTTPNotFound

    async def action_name(self, request: web.Request) -> str | None:
        """The vendor action a request asks for (counted and matched by faults)."""
        return f"{request.method} {request.path}"

    def auth_revoked_response(self) -> web.Response:
        """How the vendor answers a request whose credential is no longer valid."""
        return web.json_response({"error": "unauthorized"}, status=401)

    def forbidden_response(self, action: str | None) -> web.Response:
        """How the vendor answers a valid credential that lacks the right or
        licence for ``action``; by default the web server's 403 page.
        """
        return self._text(FORBIDDEN_BODY, status=403)

    def rate_limit_response(self) -> web.Response:
        """How the vendor refuses a request over its rate limit, without any
        header on when to try again; by default the web server's 429 page.
        """
        return self._text(RATE_LIMIT_BODY, status=429)

    def retry_headers(self, retry_after: int) -> dict[str, str]:
        """The headers the vendor sends with a 429 to say when to try again."""
        return {"Retry-After": str(retry_after)}

    def banner(self) -> list[str]:
        """Lines printed when the simulator starts from the command line."""
        lines = [f"{self.vendor} simulator listening on {self.url}"]
        if self.call_book is not None:
            lines.append(
                f"Calls: {self.url}{CONTROL_PREFIX}calls and "
                f"{self.url}{CONTROL_PREFIX}clock (docs/calls-sim.md)"
            )
        return lines

    def describe(self) -> dict[str, object]:
        """Vendor-specific extras for ``GET /_sim/state``."""
        return {}

    def call_scope(self, scope: str | None) -> str | None:
        """The partition a control-started call belongs to; by default as given."""
        return scope

    def local_extensions(self, scope: str | None) -> set[str]:
        """The extension numbers a control-started call can ring or come from."""
        return set()

    def group_number(self, group: str, scope: str | None) -> str:
        """The number a caller dials to reach queue or ring group ``group``
        (ControlError when the vendor has no such group).
        """
        msg = f"no queue or ring group {group!r}"
        raise ControlError(msg)

    # ----------------------------------------------------------------- faults

    def inject(
        self,
        fault: Fault,
        *,
        count: int | None = None,
        latency: float = 0.5,
        retry_after: int | None = None,
        actions: Iterable[str] | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``count`` requests (``None``: until cleared).

        ``actions`` restricts the fault to requests for those action names. When
        several injected faults match a request, the most recent one wins.
        """
        if count is not None and count < 1:
            msg = "count must be at least 1"
            raise ValueError(msg)
        if latency < 0:
            msg = "latency must not be negative"
            raise ValueError(msg)
        self._faults.append(
            ActiveFault(
                fault=Fault(fault),
                remaining=count,
                latency=latency,
                retry_after=retry_after,
                actions=None if actions is None else frozenset(actions),
            )
        )

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        self._faults.clear()

    @property
    def active_faults(self) -> list[ActiveFault]:
        """The injected faults still in effect, oldest first."""
        return list(self._faults)

    def reset_counters(self) -> None:
        """Zero the request counters."""
        self.request_count = 0
        self.requests_by_action.clear()
        self.recent_requests.clear()
        self.max_in_flight = self.in_flight

    @property
    def last_request(self) -> RecordedRequest | None:
        """The last request served, parsed; ``None`` before any."""
        return self.recent_requests[-1] if self.recent_requests else None

    def _take_fault(self, action: str | None) -> ActiveFault | None:
        for fault in reversed(self._faults):
            if not fault.matches(action):
                continue
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake up at once when the simulator stops."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    def _text(self, text: str, status: int = 200) -> web.Response:
        return web.Response(
            body=text.encode(),
            status=status,
            headers={"Content-Type": HTML_CONTENT_TYPE},
        )

    async def _faulted(
        self, fault: ActiveFault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        kind = fault.fault
        if kind in (Fault.LATENCY, Fault.TIMEOUT):
            await self._pause(
                fault.latency if kind is Fault.LATENCY else TIMEOUT_SECONDS
            )
            return await handler(request)
        if kind is Fault.LATE_ANSWER:
            response = await handler(request)
            await self._pause(fault.latency)
            return response
        if kind in BODY_FAULTS:
            return self._rewrite(kind, await handler(request))
        if kind in STREAM_FAULTS:
            return await self._stream(fault, request, await handler(request))
        if kind in PAGING_FAULTS:
            return await self._paged(kind, request, handler)
        if kind is Fault.AUTH_REVOKED:
            return self.auth_revoked_response()
        if kind is Fault.FORBIDDEN:
            return self.forbidden_response(await self.action_name(request))
        if kind in (Fault.RATE_LIMIT, Fault.RATE_LIMIT_HEADERS):
            response = self.rate_limit_response()
            if kind is Fault.RATE_LIMIT_HEADERS:
                response.headers.update(
                    self.retry_headers(fault.retry_after or DEFAULT_RETRY_AFTER)
                )
            elif fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        bodies = {
            Fault.SERVER_ERROR: (SERVER_ERROR_BODY, 500),
            Fault.BAD_GATEWAY: (BAD_GATEWAY_BODY, 502),
            Fault.MALFORMED: (MALFORMED_BODY, 200),
            Fault.PHP_WARNING_ONLY: (
                php_warning(self.php_script) + php_notice(self.php_script),
                200,
            ),
        }
        text, status = bodies[kind]
        return self._text(text, status=status)

    @staticmethod
    def _body_of(response: web.StreamResponse) -> bytes | None:
        """The body of a plain response; ``None`` for a streamed one."""
        if isinstance(response, web.Response) and isinstance(
            response.body, bytes | bytearray
        ):
            return bytes(response.body)
        return None

    @staticmethod
    def _headers_of(response: web.StreamResponse) -> dict[str, str]:
        """The headers to copy to a rewritten body: all but its length."""
        return {
            key: value
            for key, value in response.headers.items()
            if key.lower() not in ("content-length", "transfer-encoding")
        }

    def _rewrite(self, kind: Fault, response: web.StreamResponse) -> web.StreamResponse:
        """Change the normal body as ``kind`` says (see :class:`Fault`)."""
        body = self._body_of(response)
        if body is None:
            return response
        headers = self._headers_of(response)
        if kind is Fault.TRUNCATED:
            body = body[: len(body) // 2]
        elif kind is Fault.PHP_WARNING:
            body = php_warning(self.php_script).encode() + body
        elif kind is Fault.EMPTY:
            body = b""
        elif kind is Fault.MALFORMED_JSON:
            body = malformed_json(body.decode(errors="replace")).encode()
        elif kind is Fault.HUGE_GZIP:
            body = gzip.compress(body + b" " * max(HUGE_BODY_BYTES - len(body), 0))
            headers["Content-Encoding"] = "gzip"
        elif kind is Fault.DEEP_NESTING:
            body = b"[" * NESTING_DEPTH + body + b"]" * NESTING_DEPTH
        elif kind is Fault.HOSTILE_CHARSET:
            charset = HOSTILE_CHARSETS[self._charsets_named % len(HOSTILE_CHARSETS)]
            self._charsets_named += 1
            media_type = response.content_type or "application/json"
            headers["Content-Type"] = f"{media_type}; charset={charset}"
        else:
            try:
                decoded = json.loads(body)
            except ValueError:
                return response
            body = json.dumps(JSON_REWRITERS[kind](decoded)).encode()
        return web.Response(body=body, status=response.status, headers=headers)

    async def _paged(
        self, kind: Fault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Answer ``request`` without its ``offset``; for ``endless_paging``
        a list answer (the request names a ``limit``) is then filled to
        ``limit`` rows.
        """
        if "offset" in request.query:
            request = request.clone(
                rel_url=request.rel_url.without_query_params("offset")
            )
        response = await handler(request)
        limit = request.query.get("limit", "")
        body = self._body_of(response)
        if kind is Fault.IGNORE_OFFSET or body is None or not limit.isdigit():
            return response
        try:
            decoded = json.loads(body)
        except ValueError:
            return response
        return web.Response(
            body=json.dumps(filled_pages(decoded, int(limit))).encode(),
            status=response.status,
            headers=self._headers_of(response),
        )

    async def _stream(
        self, fault: ActiveFault, request: web.Request, response: web.StreamResponse
    ) -> web.StreamResponse:
        """Send the normal body padded to 10 MiB (``huge``) or in pieces with
        pauses between them (``slow_drip``), chunked; a client that hangs up
        midway ends the stream.
        """
        body = self._body_of(response)
        if body is None:
            return response
        if fault.fault is Fault.HUGE:
            padding = b" " * max(HUGE_BODY_BYTES - len(body), 0)
            pieces = [body, *_chunks(padding, _STREAM_CHUNK)]
            pause = 0.0
        else:
            size = max(-(-len(body) // DRIP_CHUNKS), 1)
            pieces = list(_chunks(body, size))
            pause = fault.latency
        stream = web.StreamResponse(
            status=response.status, headers=self._headers_of(response)
        )
        stream.enable_chunked_encoding()
        try:
            await stream.prepare(request)
            for index, piece in enumerate(pieces):
                if index and pause:
                    await self._pause(pause)
                await stream.write(piece)
            await stream.write_eof()
        except ConnectionError:
            pass  # the client gave up: nothing left to send
        return stream

    # ------------------------------------------------------------------- HTTP

    def build_app(self) -> web.Application:
        """The aiohttp application: control routes, vendor routes, middleware."""

        @web.middleware
        async def middleware(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            if request.path.startswith(CONTROL_PREFIX):
                return await handler(request)
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                return await self._count_and_fault(request, handler)
            finally:
                self.in_flight -= 1
                if task is not None:
                    self._inflight.discard(task)

        app = web.Application(middlewares=[middleware])
        app.router.add_get(CONTROL_PREFIX + "state", self._control_state)
        app.router.add_post(CONTROL_PREFIX + "fault", self._control_fault)
        app.router.add_post(CONTROL_PREFIX + "clear", self._control_clear)
        app.router.add_post(
            CONTROL_PREFIX + "reset_counters", self._control_reset_counters
        )
        if self.call_book is not None:
            self._register_call_controls(app)
        self.register_routes(app)
        return app

    async def _count_and_fault(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        action = await self.action_name(request)
        self.request_count += 1
        if action is not None:
            self.requests_by_action[action] += 1
        fault = self._take_fault(action)
        try:
            if fault is None:
                return await handler(request)
            return await self._faulted(fault, request, handler)
        finally:
            # After the handler: reading the body first would leave it unread
            # for handlers that check ``can_read_body``.
            with contextlib.suppress(Exception):
                self.recent_requests.append(await RecordedRequest.read(request))

    def state(self) -> dict[str, object]:
        """What ``GET /_sim/state`` reports."""
        return {
            "vendor": self.vendor,
            "request_count": self.request_count,
            "requests_by_action": dict(self.requests_by_action),
            "max_in_flight": self.max_in_flight,
            "faults": [fault.as_json() for fault in self._faults],
            **self.describe(),
        }

    async def _control_state(self, request: web.Request) -> web.Response:
        return web.json_response(self.state())

    async def _control_fault(self, request: web.Request) -> web.Response:
        try:
            payload = await request.json()
            self._inject_from_json(payload)
        except (ValueError, TypeError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(self.state())

    def _inject_from_json(self, payload: object) -> None:
        if not isinstance(payload, dict):
            msg = "body must be a JSON object"
            raise ControlError(msg)
        count = payload.get("count")
        latency = payload.get("latency", 0.5)
        retry_after = payload.get("retry_after")
        actions = payload.get("actions")
        if count is not None and not isinstance(count, int):
            msg = "count must be an integer or null"
            raise ControlError(msg)
        if not isinstance(latency, int | float):
            msg = "latency must be a number"
            raise ControlError(msg)
        if retry_after is not None and not isinstance(retry_after, int):
            msg = "retry_after must be an integer or null"
            raise ControlError(msg)
        if actions is not None and (
            not isinstance(actions, list)
            or not all(isinstance(action, str) for action in actions)
        ):
            msg = "actions must be a list of strings or null"
            raise ControlError(msg)
        self.inject(
            Fault(str(payload.get("fault"))),
            count=count,
            latency=float(latency),
            retry_after=retry_after,
            actions=actions,
        )

    async def _control_clear(self, request: web.Request) -> web.Response:
        self.clear_faults()
        return web.json_response(self.state())

    async def _control_reset_counters(self, request: web.Request) -> web.Response:
        self.reset_counters()
        return web.json_response(self.state())

    # ------------------------------------------------------------- calls

    def _register_call_controls(self, app: web.Application) -> None:
        app.router.add_get(CONTROL_PREFIX + "calls", self._control_calls)
        app.router.add_post(CONTROL_PREFIX + "calls", self._control_start_call)
        app.router.add_post(
            CONTROL_PREFIX + "calls/{call_id}/{step}", self._control_call_step
        )
        app.router.add_get(CONTROL_PREFIX + "clock", self._control_clock)
        app.router.add_post(CONTROL_PREFIX + "clock", self._control_set_clock)

    @property
    def book(self) -> CallBook:
        """The call book (RuntimeError for a vendor without calls)."""
        if self.call_book is None:
            msg = f"the {self.vendor} simulator has no calls"
            raise RuntimeError(msg)
        return self.call_book

    def place_call(
        self,
        *,
        caller: str,
        callee: str | None = None,
        group: str | None = None,
        scope: str | None = None,
        caller_name: str | None = None,
        answer_after: float | None = None,
        talk: float | None = None,
        ring_seconds: float | None = DEFAULT_RING_SECONDS,
    ) -> Call:
        """Start a call from ``caller`` to ``callee`` (or to queue/ring group
        ``group``); a number that is one of the simulator's extensions makes
        that side an extension (ControlError for a call with no extension and
        no group).
        """
        scope = self.call_scope(scope)
        local = self.local_extensions(scope)
        if group is not None:
            group_did = self.group_number(group, scope)  # unknown: ControlError
            callee = callee or group_did
        if not callee:
            msg = "a call needs 'to' or 'group'"
            raise ControlError(msg)
        caller_extension = caller if caller in local else None
        callee_extension = callee if callee in local and group is None else None
        if caller_extension is None and callee_extension is None and group is None:
            msg = f"neither {caller!r} nor {callee!r} is an extension"
            raise ControlError(msg)
        return self.book.start(
            caller=caller,
            callee=callee,
            caller_name=caller_name,
            caller_extension=caller_extension,
            callee_extension=callee_extension,
            group=group,
            scope=scope,
            answer_after=answer_after,
            talk=talk,
            ring_seconds=ring_seconds,
        )

    def _calls_json(self) -> dict[str, object]:
        book = self.book
        now = book.clock()
        return {
            "now": now,
            "frozen": book.clock.frozen,
            "calls": [call.as_json(now) for call, _ in book.at(now)],
        }

    async def _control_calls(self, request: web.Request) -> web.Response:
        self.book.changes()
        return web.json_response(self._calls_json())

    async def _control_start_call(self, request: web.Request) -> web.Response:
        try:
            payload = await read_json_object(request)
            call = self.place_call(
                caller=_text_field(payload, "from", required=True) or "",
                callee=_text_field(payload, "to"),
                group=_text_field(payload, "group"),
                scope=_text_field(payload, "server"),
                caller_name=_text_field(payload, "caller_name"),
                answer_after=_seconds_field(payload, "answer_after"),
                talk=_seconds_field(payload, "talk"),
                ring_seconds=(
                    _seconds_field(payload, "ring_seconds")
                    if "ring_seconds" in payload
                    else DEFAULT_RING_SECONDS
                ),
            )
        except (ValueError, KeyError) as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(call.as_json(self.book.clock()))

    async def _control_call_step(self, request: web.Request) -> web.Response:
        book = self.book
        call_id, step = request.match_info["call_id"], request.match_info["step"]
        try:
            payload = await read_json_object(request, empty_ok=True)
            if step == "answer":
                call = book.answer(
                    call_id,
                    by=_text_field(payload, "by"),
                    talk=_seconds_field(payload, "talk"),
                )
            elif step == "end":
                call = book.end(call_id)
            elif step == "miss":
                call = book.miss(call_id)
            else:
                return web.json_response({"error": f"no step {step!r}"}, status=404)
        except CallError as err:
            status = 404 if call_id not in book.calls else 409
            return web.json_response({"error": str(err)}, status=status)
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        return web.json_response(call.as_json(book.clock()))

    def _clock_json(self) -> dict[str, object]:
        clock = self.book.clock
        return {"now": clock(), "frozen": clock.frozen}

    async def _control_clock(self, request: web.Request) -> web.Response:
        return web.json_response(self._clock_json())

    async def _control_set_clock(self, request: web.Request) -> web.Response:
        clock = self.book.clock
        try:
            payload = await read_json_object(request)
            if payload.get("freeze") is True:
                clock.freeze()
            if (advance := _seconds_field(payload, "advance")) is not None:
                clock.advance(advance)
            if (moment := _seconds_field(payload, "set")) is not None:
                clock.set(moment)
            if payload.get("resume") is True:
                clock.resume()
        except ValueError as err:
            return web.json_response({"error": str(err)}, status=400)
        self.book.changes()
        return web.json_response(self._clock_json())

    # -------------------------------------------------------------- lifecycle

    async def start(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> str:
        """Serve on ``host:port`` (0: an ephemeral port) and return the base URL;
        HTTPS with ``ssl_context`` (an on-premises PBX's self-signed certificate).
        """
        if self._runner is not None:
            msg = "simulator already started"
            raise RuntimeError(msg)
        self._stopping.clear()
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self._site = site
        bound_host, bound_port = runner.addresses[0][:2]
        self._address = (bound_host, bound_port)
        self._ssl_context = ssl_context
        scheme = "http" if ssl_context is None else "https"
        self.url = f"{scheme}://{bound_host}:{bound_port}"
        return self.url

    async def refuse_connections(self) -> None:
        """Stop listening, keeping the state and the port: a client's connect
        is refused (as for a PBX that is down) until :meth:`accept_connections`.
        """
        if self._site is not None:
            await self._site.stop()
            self._site = None
        # Kept-alive connections would still be served: close them too.
        server = self._runner.server if self._runner is not None else None
        for connection in server.connections if server is not None else ():
            connection.force_close()
        # A PBX that is down closed its connections before the next request
        # comes: let the closes happen, and clients on this event loop (a
        # test's) see them. A request sent into a connection as it closes is
        # reset unread, which no client can tell from a request the PBX read
        # and acted on before it reset the connection.
        for _ in range(CLOSE_TURNS):
            await asyncio.sleep(0)

    async def accept_connections(self) -> None:
        """Listen again on the port :meth:`refuse_connections` closed."""
        if self._runner is None or self._site is not None:
            return
        host, port = self._address
        site = web.TCPSite(self._runner, host, port, ssl_context=self._ssl_context)
        await site.start()
        self._site = site

    @property
    def refusing_connections(self) -> bool:
        """Whether the simulator is started but not listening."""
        return self._runner is not None and self._site is None

    async def stop(self) -> None:
        """Stop serving; requests held by latency or timeout faults end at once."""
        self._stopping.set()
        runner, self._runner = self._runner, None
        self._site = None
        if runner is not None:
            await runner.cleanup()
        if self._inflight:
            _, pending = await asyncio.wait(
                set(self._inflight), timeout=self.stop_grace
            )
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        self.url = None

    async def __aenter__(self) -> Self:
        """Start on an ephemeral loopback port."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop serving."""
        await self.stop()

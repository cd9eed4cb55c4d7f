"""Fake TIM4biz call-accounting API server, written from the vendor's support page.

The API lives under ``/api/<Method>`` (the product default is
``https://api.tim4biz.com/api/``) and uses HTTP Basic authentication with an
API-enabled username and password. Each method must be called with its own HTTP
verb; the wrong one is a 400. Per the vendor: 400 bad parameter, missing datetime
range, too long a period or wrong verb; 401 unauthorized; 403 not licenced; 404
value not found; 429 rate limit exceeded or a rate limit of zero.

Every response outside ``/_sim/`` (errors and injected faults included) carries
``TIM4biz-Rate-Limit-Limit``, ``TIM4biz-Rate-Limit-Remaining`` (per 60 minutes),
``TIM4biz-Rate-Limit-Limit-24-Hours``, ``TIM4biz-Rate-Limit-Remaining-24-Hours``,
``TIM4biz-API-URL`` and ``TIM4biz-Authentication``; except that a 429 never says
calls remain: an injected ``rate_limit`` fault while both budgets last (a 429
from something the budget did not cause) comes without the four rate-limit
headers, so it says nothing on when to try again.

Assumptions (the documents are silent on these):

- Bodies are JSON (``application/json; charset=utf-8``); every error body is the
  ASP.NET Web API shape ``{"Message": "..."}``; a 401 also sends
  ``WWW-Authenticate: Basic realm="TIM4biz API"``.
- Only Basic auth is accepted; a Bearer token (the older scheme) is a 401. A user
  whose API access is disabled (``api_access_enabled = False``) is a 401 too.
- Basic credentials are decoded as UTF-8 (RFC 7617's ``charset="UTF-8"``; the
  support page names no charset): a password with ``€`` or Cyrillic works.
- Method names and parameter names are matched case-insensitively (ASP.NET
  routing and model binding); an unknown method is a 404.
- Order of checks: auth (401), rate limit (429), method exists (404), HTTP verb
  (400), licence (403), parameters (400/404).
- Rate-limit windows are rolling (the last 60 minutes and the last 24 hours by the
  clock). Every authenticated request that is not refused with 429 uses one call
  of both budgets, whatever its status; 401s and 429s use none. Injected faults
  that never reach the handler (server_error, rate_limit, ...) use none either.
  No reset or ``Retry-After`` header is sent (none is documented). A limit of 0
  means every authenticated request is a 429. Defaults: 1000/hour, 10000/day.
- ``TIM4biz-API-URL`` is the configured ``api_url`` (default: the simulator's own
  URL + ``/api/``); ``TIM4biz-Authentication`` is always ``BASIC`` (the
  recommended scheme).
- Licences: ``call_accounting`` (ExtensionTotal) and ``messaging`` (SetSMS). The
  403 body names the licence: ``"Forbidden, not licenced: ExtensionTotal requires
  a TIM4biz call accounting licence."``.
- ``GET /api/ExtensionTotal?from=...&to=...``: ISO 8601 datetimes (naive means
  UTC; date-only means midnight), half-open ``[from, to)`` so adjacent ranges
  split exactly. ``to`` must be after ``from``; the maximum period is 31 days
  (inclusive, configurable). Optional ``extension`` filters to one extension
  (unknown -> 404). The answer is a JSON array, one object per extension sorted
  by number, including extensions with no calls: ``{"Extension": "201", "Name":
  "...", "Calls": 3, "Duration": 540, "Cost": 1.23}`` (Duration in seconds, Cost
  in currency units with 2 decimals).
- Seeded calls: per extension per day, derived from (seed, extension, date) only,
  so a period's totals never depend on how it is queried. Only seeded calls that
  have ended by the clock's "now" count; hand-added calls always count.
- Calls of the shared model (:mod:`simulator.calls`, driven over ``/_sim/calls``;
  the extensions are the extension numbers) count once over, like hand-added
  ones, for the extension charged: the caller's for outbound and internal
  calls, the callee's for inbound ones. A missed call counts with 0 seconds;
  ``Duration`` is the talk time; outbound calls cost ``MODEL_RATE_CENTS`` per
  started minute. The model's clock is this simulator's clock.
- ``POST /api/SetSMS`` takes ``recipient`` and ``message`` from the query string,
  a form body or a JSON object. ``recipient``: optional ``+`` then 6-15 digits
  (spaces, dashes, dots and parentheses are ignored). ``message``: not blank, at
  most 918 characters (six concatenated SMS parts). Answer:
  ``{"Id": 1, "Recipient": "+44...", "Status": "Queued"}``.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
import json
import math
import re
from typing import ClassVar, Self

from aiohttp import BasicAuth, web

from .calls import Call as ModelCall, CallBook, Direction, SimClock
from .core import CONTROL_PREFIX, Handler, SeededRandom, SimulatorBase, cli_clock

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
DEFAULT_USERNAME = "api.user@example.com"
DEFAULT_PASSWORD = "sim-tim4biz-0123456789"  # noqa: S105 - a fake test credential
AUTH_REALM = 'Basic realm="TIM4biz API"'
AUTH_HEADER_VALUE = "BASIC"

HEADER_LIMIT = "TIM4biz-Rate-Limit-Limit"
HEADER_REMAINING = "TIM4biz-Rate-Limit-Remaining"
HEADER_LIMIT_24H = "TIM4biz-Rate-Limit-Limit-24-Hours"
HEADER_REMAINING_24H = "TIM4biz-Rate-Limit-Remaining-24-Hours"
BUDGET_HEADERS = (
    HEADER_LIMIT,
    HEADER_REMAINING,
    HEADER_LIMIT_24H,
    HEADER_REMAINING_24H,
)
HEADER_API_URL = "TIM4biz-API-URL"
HEADER_AUTHENTICATION = "TIM4biz-Authentication"

LICENCE_CALL_ACCOUNTING = "call_accounting"
LICENCE_MESSAGING = "messaging"
LICENCE_NAMES: dict[str, str] = {
    LICENCE_CALL_ACCOUNTING: "call accounting",
    LICENCE_MESSAGING: "messaging",
}

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
MAX_PERIOD_DAYS = 31
MAX_SMS_LENGTH = 918
PHONE = re.compile(r"^\+?\d{6,15}$")
PHONE_NOISE = re.compile(r"[\s\-.()]")

UNAUTHORIZED = "Authorization has been denied for this request."

FIRST_NAMES = (
    "Emma", "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia",
    "Jacob", "Sophie", "Charlie", "Grace", "Thomas", "Lily", "Oscar", "Freya",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
    "Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White",
)  # fmt: skip


class ApiError(Exception):
    """A request the API refuses with ``status`` and ``{"Message": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Extension:
    """One extension the call accounting knows about."""

    number: str
    name: str


MODEL_RATE_CENTS = 5
"""What an outbound model call costs per started minute, in cents."""


@dataclass(frozen=True)
class Call:
    """One finished call charged to an extension."""

    extension: str
    start: datetime
    duration: int
    """Seconds."""
    cost_cents: int

    @property
    def cost(self) -> float:
        """Cost in currency units."""
        return self.cost_cents / 100


@dataclass(frozen=True)
class Totals:
    """What ExtensionTotal reports for one extension over one period."""

    extension: str
    name: str
    calls: int
    duration: int
    cost_cents: int

    def as_json(self) -> dict[str, object]:
        """The array element of the ExtensionTotal answer."""
        return {
            "Extension": self.extension,
            "Name": self.name,
            "Calls": self.calls,
            "Duration": self.duration,
            "Cost": round(self.cost_cents / 100, 2),
        }


@dataclass(frozen=True)
class SentSms:
    """One message accepted by SetSMS."""

    id: int
    recipient: str
    message: str
    sent_at: datetime


@dataclass(frozen=True)
class Method:
    """One API method: its canonical name, HTTP verb, licence and handler."""

    name: str
    verb: str
    licence: str
    handler: Callable[[Mapping[str, str]], object]


def _utc(value: datetime) -> datetime:
    """Naive datetimes are UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Tim4bizSimulator(SimulatorBase):
    """A stateful TIM4biz API with rate-limit counters and licences.

    Constructor (all keyword): ``extensions=10``, ``username``, ``password``,
    ``hourly_limit=1000``, ``daily_limit=10000``, ``licences=None`` (all:
    ``{"call_accounting", "messaging"}``), ``api_url=None`` (own URL + ``/api/``),
    ``clock=None`` (aware-UTC ``datetime`` factory; default now),
    ``max_period_days=31``, ``seeded_calls=True``, ``seed=1``.

    Credentials: :attr:`username`, :attr:`password`, :meth:`set_credentials`,
    :attr:`api_access_enabled`. Rate limits: :attr:`hourly_limit`,
    :attr:`daily_limit`, :meth:`set_limits`, :meth:`remaining_hourly`,
    :meth:`remaining_daily`, :meth:`consume`, :meth:`reset_usage`. Licences: the
    :attr:`licences` set, :meth:`grant_licence`, :meth:`revoke_licence`. Data:
    :attr:`extensions` (number -> :class:`Extension`), :meth:`add_extension`,
    :meth:`remove_extension`, :meth:`add_call`, :meth:`calls`,
    :meth:`extension_totals` (what ExtensionTotal answers), :attr:`sent_sms`.
    :attr:`api_url` is what ``TIM4biz-API-URL`` carries; :meth:`now` the clock.
    """

    vendor: ClassVar[str] = "tim4biz"

    def __init__(
        self,
        *,
        extensions: int = 10,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        hourly_limit: int = 1000,
        daily_limit: int = 10000,
        licences: set[str] | None = None,
        api_url: str | None = None,
        clock: Callable[[], datetime] | None = None,
        max_period_days: int = MAX_PERIOD_DAYS,
        seeded_calls: bool = True,
        seed: int = 1,
    ) -> None:
        super().__init__(seed=seed)
        self._username = username
        self._password = password
        self.api_access_enabled = True
        self.hourly_limit = 0
        self.daily_limit = 0
        self.set_limits(hourly=hourly_limit, daily=daily_limit)
        self.licences: set[str] = (
            set(LICENCE_NAMES) if licences is None else set(licences)
        )
        self._api_url = api_url
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._model_calls = 0
        self.call_book = CallBook(
            SimClock(lambda: _utc(self._clock()).timestamp()), self._model_call_id
        )
        self.max_period = timedelta(days=max_period_days)
        self.seeded_calls = seeded_calls
        self.extensions: dict[str, Extension] = {}
        self.manual_calls: list[Call] = []
        self.sent_sms: list[SentSms] = []
        self._usage: deque[datetime] = deque()
        self._day_cache: dict[tuple[str, date], list[Call]] = {}
        self._methods: dict[str, Method] = {
            method.name.lower(): method
            for method in (
                Method(
                    "ExtensionTotal",
                    "GET",
                    LICENCE_CALL_ACCOUNTING,
                    self._extension_total,
                ),
                Method("SetSMS", "POST", LICENCE_MESSAGING, self._set_sms),
            )
        }
        for index in range(extensions):
            name = f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}"
            self.add_extension(str(201 + index), name)

    @classmethod
    def from_cli(cls, options: argparse.Namespace) -> Self:
        """Build from ``python -m simulator tim4biz ...`` (``--api-key``: password)."""
        hourly = getattr(options, "rate_limit", None) or 1000
        return cls(
            extensions=getattr(options, "extensions", 10),
            hourly_limit=hourly,
            daily_limit=10 * hourly,
            clock=cli_clock(options),
            password=getattr(options, "api_key", None) or DEFAULT_PASSWORD,
            seed=getattr(options, "seed", 1),
        )

    # -------------------------------------------------------- credentials

    @property
    def username(self) -> str:
        """The API-enabled username Basic auth must present."""
        return self._username

    @property
    def password(self) -> str:
        """The password Basic auth must present."""
        return self._password

    def set_credentials(
        self, username: str | None = None, password: str | None = None
    ) -> None:
        """Change the accepted credentials (e.g. a password rotated elsewhere)."""
        if username is not None:
            self._username = username
        if password is not None:
            self._password = password

    @property
    def api_url(self) -> str:
        """What ``TIM4biz-API-URL`` announces."""
        if self._api_url is not None:
            return self._api_url
        return f"{self.url or 'http://127.0.0.1'}/api/"

    @api_url.setter
    def api_url(self, value: str | None) -> None:
        self._api_url = value

    def now(self) -> datetime:
        """The simulator's clock, in UTC: the call model's clock, which follows
        ``clock`` until a test freezes or moves it.
        """
        return datetime.fromtimestamp(self.book.clock(), UTC)

    def _model_call_id(self, started: float) -> str:
        self._model_calls += 1
        return f"T{int(started)}-{self._model_calls}"

    def local_extensions(self, scope: str | None) -> set[str]:
        """The extension numbers a control-started call can ring or come from."""
        return set(self.extensions)

    @staticmethod
    def _charged(call: ModelCall) -> str | None:
        """The extension a model call is charged to."""
        if call.direction is Direction.INBOUND:
            return call.callee_extension
        return call.caller_extension

    def _model_calls_of(
        self, number: str, start: datetime, end: datetime
    ) -> list[Call]:
        """The model's finished calls charged to ``number`` that started in
        ``[start, end)``, as accounting calls.
        """
        now = self.book.clock()
        found: list[Call] = []
        for call, _ in self.book.finished(now=now):
            began = datetime.fromtimestamp(call.started_at, UTC)
            if self._charged(call) != number or not start <= began < end:
                continue
            talk = call.talk_seconds(now)
            outbound = call.direction is not Direction.INBOUND
            cents = math.ceil(talk / 60) * MODEL_RATE_CENTS if outbound else 0
            found.append(Call(number, began, talk, cents))
        return found

    # --------------------------------------------------------- rate limit

    def set_limits(
        self, *, hourly: int | None = None, daily: int | None = None
    ) -> None:
        """Change the per-60-minute and/or per-24-hour limits (0: refuse all)."""
        for value in (hourly, daily):
            if value is not None and value < 0:
                msg = "limits must not be negative"
                raise ValueError(msg)
        if hourly is not None:
            self.hourly_limit = hourly
        if daily is not None:
            self.daily_limit = daily

    def _used_since(self, since: datetime) -> int:
        return sum(1 for when in self._usage if when > since)

    def used_hourly(self) -> int:
        """Calls used in the rolling last 60 minutes."""
        return self._used_since(self.now() - HOUR)

    def used_daily(self) -> int:
        """Calls used in the rolling last 24 hours."""
        return self._used_since(self.now() - DAY)

    def remaining_hourly(self) -> int:
        """Calls left before the 60-minute limit is hit."""
        return max(0, self.hourly_limit - self.used_hourly())

    def remaining_daily(self) -> int:
        """Calls left before the 24-hour limit is hit."""
        return max(0, self.daily_limit - self.used_daily())

    def consume(self, count: int = 1, at: datetime | None = None) -> None:
        """Use ``count`` calls of both budgets at ``at`` (default now), no HTTP."""
        when = self.now() if at is None else _utc(at)
        self._usage.extend([when] * count)
        self._usage = deque(sorted(self._usage))

    def reset_usage(self) -> None:
        """Forget every call used: both budgets are full again."""
        self._usage.clear()

    def _prune_usage(self) -> None:
        horizon = self.now() - DAY
        while self._usage and self._usage[0] <= horizon:
            self._usage.popleft()

    def _check_rate_limit(self) -> None:
        """Raise 429 when a budget is zero or used up, else use one call."""
        self._prune_usage()
        if self.hourly_limit == 0 or self.daily_limit == 0:
            raise ApiError(429, "Too Many Requests: you have a rate limit of zero.")
        if self.remaining_hourly() == 0:
            raise ApiError(
                429,
                "Too Many Requests: your rate limit of "
                f"{self.hourly_limit} calls per 60 minutes has been exceeded.",
            )
        if self.remaining_daily() == 0:
            raise ApiError(
                429,
                "Too Many Requests: your rate limit of "
                f"{self.daily_limit} calls per 24 hours has been exceeded.",
            )
        self._usage.append(self.now())

    def rate_limit_headers(self) -> dict[str, str]:
        """The headers every API response carries."""
        return {
            HEADER_LIMIT: str(self.hourly_limit),
            HEADER_REMAINING: str(self.remaining_hourly()),
            HEADER_LIMIT_24H: str(self.daily_limit),
            HEADER_REMAINING_24H: str(self.remaining_daily()),
            HEADER_API_URL: self.api_url,
            HEADER_AUTHENTICATION: AUTH_HEADER_VALUE,
        }

    # ----------------------------------------------------------- licences

    def grant_licence(self, licence: str) -> None:
        """Add a product licence."""
        self.licences.add(licence)

    def revoke_licence(self, licence: str) -> None:
        """Remove a product licence; its methods answer 403 from now on."""
        self.licences.discard(licence)

    # --------------------------------------------------------------- data

    def add_extension(self, number: str, name: str | None = None) -> Extension:
        """Add (or rename) an extension."""
        extension = Extension(number=number, name=name or f"Extension {number}")
        self.extensions[number] = extension
        return extension

    def remove_extension(self, number: str) -> None:
        """Remove an extension and its hand-added calls."""
        del self.extensions[number]
        self.manual_calls = [c for c in self.manual_calls if c.extension != number]

    def add_call(
        self, extension: str, when: datetime, duration: int, cost: float
    ) -> Call:
        """Record a finished call by hand (the extension is created if missing)."""
        if duration < 0 or cost < 0:
            msg = "duration and cost must not be negative"
            raise ValueError(msg)
        if extension not in self.extensions:
            self.add_extension(extension)
        call = Call(
            extension=extension,
            start=_utc(when),
            duration=duration,
            cost_cents=round(cost * 100),
        )
        self.manual_calls.append(call)
        return call

    def _seeded_day(self, extension: str, day: date) -> list[Call]:
        """The generated calls of one extension on one day (stable per seed)."""
        key = (extension, day)
        cached = self._day_cache.get(key)
        if cached is not None:
            return cached
        rng = SeededRandom(f"{self.seed}:{extension}:{day.isoformat()}")
        weekend = day.weekday() >= 5
        count = rng.randint(0, 2) if weekend else rng.randint(0, 8)
        midnight = datetime.combine(day, time(), tzinfo=UTC)
        calls: list[Call] = []
        for _ in range(count):
            start = midnight + timedelta(seconds=rng.randint(7 * 3600, 19 * 3600))
            duration = rng.randint(5, 1800)
            outgoing = rng.random() < 0.6
            rate = rng.randint(2, 12)
            cents = math.ceil(duration / 60) * rate if outgoing else 0
            calls.append(Call(extension, start, duration, cents))
        calls.sort(key=lambda call: call.start)
        self._day_cache[key] = calls
        return calls

    def calls(
        self, start: datetime, end: datetime, extension: str | None = None
    ) -> list[Call]:
        """Calls that started in ``[start, end)``, as ExtensionTotal counts them."""
        start, end = _utc(start), _utc(end)
        numbers = list(self.extensions) if extension is None else [extension]
        now = self.now()
        found: list[Call] = []
        for number in numbers:
            if self.seeded_calls and start < end:
                day = start.date()
                while day <= (end - timedelta(microseconds=1)).date():
                    found.extend(
                        call
                        for call in self._seeded_day(number, day)
                        if start <= call.start < end
                        and call.start + timedelta(seconds=call.duration) <= now
                    )
                    day += timedelta(days=1)
            found.extend(
                call
                for call in self.manual_calls
                if call.extension == number and start <= call.start < end
            )
            found.extend(self._model_calls_of(number, start, end))
        return found

    def extension_totals(
        self, start: datetime, end: datetime, extension: str | None = None
    ) -> list[Totals]:
        """Per-extension totals over ``[start, end)``, sorted by number."""
        numbers = sorted(
            self.extensions if extension is None else [extension],
            key=lambda n: (len(n), n),
        )
        result: list[Totals] = []
        for number in numbers:
            calls = self.calls(start, end, number)
            result.append(
                Totals(
                    extension=number,
                    name=self.extensions[number].name,
                    calls=len(calls),
                    duration=sum(c.duration for c in calls),
                    cost_cents=sum(c.cost_cents for c in calls),
                )
            )
        return result

    # ------------------------------------------------------------- hooks

    def banner(self) -> list[str]:
        """URL, credentials, limits and licences, for the command line."""
        return [
            *super().banner(),
            f"API base URL: {self.url}/api/",
            f"Username: {self.username}",
            f"Password: {self.password}",
            f"Rate limits: {self.hourly_limit}/60 min, {self.daily_limit}/24 h",
            f"Licences: {', '.join(sorted(self.licences)) or 'none'}",
        ]

    def describe(self) -> dict[str, object]:
        """Limits, usage, licences and data sizes for ``GET /_sim/state``."""
        return {
            "username": self.username,
            "hourly_limit": self.hourly_limit,
            "daily_limit": self.daily_limit,
            "remaining_hourly": self.remaining_hourly(),
            "remaining_daily": self.remaining_daily(),
            "licences": sorted(self.licences),
            "extensions": len(self.extensions),
            "manual_calls": len(self.manual_calls),
            "sent_sms": len(self.sent_sms),
        }

    def register_routes(self, app: web.Application) -> None:
        """One catch-all route, and an outermost middleware for the headers."""

        @web.middleware
        async def add_headers(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            """Put the TIM4biz headers on every response, faults included,
            but never a 429 that says calls remain: an injected bare 429 (one
            the budget did not cause) has no header on when to try again.
            """
            response = await handler(request)
            if request.path.startswith(CONTROL_PREFIX):
                return response
            headers = self.rate_limit_headers()
            if response.status == 429 and (
                self.remaining_hourly() and self.remaining_daily()
            ):
                for budget in BUDGET_HEADERS:
                    del headers[budget]
            for key, value in headers.items():
                response.headers.setdefault(key, value)
            return response

        # Outermost, so responses made by the core fault middleware get them too.
        app.middlewares.insert(0, add_headers)
        super().register_routes(app)

    def _method_of(self, request: web.Request) -> Method | None:
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or parts[0].lower() != "api":
            return None
        return self._methods.get(parts[1].lower())

    async def action_name(self, request: web.Request) -> str | None:
        """The canonical method name (``ExtensionTotal``), else the path."""
        method = self._method_of(request)
        return request.path if method is None else method.name

    def auth_revoked_response(self) -> web.Response:
        """A 401 with the ASP.NET message and a Basic challenge."""
        response = self._json({"Message": UNAUTHORIZED}, status=401)
        response.headers["WWW-Authenticate"] = AUTH_REALM
        return response

    def forbidden_response(self, action: str | None) -> web.Response:
        """The 403 of a method whose licence the customer lacks."""
        method = self._methods.get((action or "").lower())
        licence = (
            LICENCE_NAMES.get(method.licence, method.licence) if method else "product"
        )
        return self._json(
            {
                "Message": f"Forbidden, not licenced: {action} requires a TIM4biz "
                f"{licence} licence."
            },
            status=403,
        )

    def rate_limit_response(self) -> web.Response:
        """The 429 of a spent hourly budget (the headers come from the
        middleware, as on every answer).
        """
        return self._json(
            {
                "Message": "Too Many Requests: your rate limit of "
                f"{self.hourly_limit} calls per 60 minutes has been exceeded."
            },
            status=429,
        )

    def retry_headers(self, retry_after: int) -> dict[str, str]:
        """TIM4biz sends no Retry-After: its headers say none are left."""
        return {
            HEADER_LIMIT: str(self.hourly_limit),
            HEADER_REMAINING: "0",
            HEADER_LIMIT_24H: str(self.daily_limit),
            HEADER_REMAINING_24H: str(self.remaining_daily()),
        }

    @staticmethod
    def _json(data: object, status: int = 200) -> web.Response:
        return web.Response(
            body=json.dumps(data).encode(),
            status=status,
            headers={"Content-Type": JSON_CONTENT_TYPE},
        )

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        try:
            # RFC 7617's UTF-8: TIM4biz names no charset, and ASCII
            # credentials read the same either way.
            auth = BasicAuth.decode(header, encoding="utf-8")
        except ValueError:
            return False
        return (
            self.api_access_enabled
            and auth.login == self._username
            and auth.password == self._password
        )

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, then answer or turn an ApiError into its status."""
        if not self._authorized(request):
            return self.auth_revoked_response()
        try:
            return self._json(await self._dispatch(request))
        except ApiError as err:
            return self._json({"Message": err.message}, status=err.status)

    async def _dispatch(self, request: web.Request) -> object:
        """Rate limit, method, verb, licence, then the method itself."""
        self._check_rate_limit()
        method = self._method_of(request)
        if method is None:
            raise ApiError(404, f"Not found: no API method at '{request.path}'.")
        if request.method != method.verb:
            raise ApiError(
                400,
                f"Bad request: {method.name} must be requested with HTTP "
                f"{method.verb}, not {request.method}.",
            )
        if method.licence not in self.licences:
            raise ApiError(
                403,
                f"Forbidden, not licenced: {method.name} requires a TIM4biz "
                f"{LICENCE_NAMES.get(method.licence, method.licence)} licence.",
            )
        return method.handler(await self._params(request))

    async def _params(self, request: web.Request) -> dict[str, str]:
        """Query, then form or JSON body; keys lower-cased (ASP.NET binding)."""
        params = {key.lower(): value for key, value in request.query.items()}
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as err:
                raise ApiError(400, "Bad request: the body is not valid JSON.") from err
            if not isinstance(body, dict):
                raise ApiError(400, "Bad request: the body must be a JSON object.")
            params.update(
                {str(k).lower(): "" if v is None else str(v) for k, v in body.items()}
            )
        else:
            form = await request.post()
            params.update({k.lower(): v for k, v in form.items() if isinstance(v, str)})
        return params

    # ----------------------------------------------------------- methods

    @staticmethod
    def _datetime(params: Mapping[str, str], name: str) -> datetime:
        value = params.get(name, "").strip()
        if not value:
            raise ApiError(
                400,
                "Bad request: datetime range was not supplied "
                "('from' and 'to' are required).",
            )
        try:
            return _utc(datetime.fromisoformat(value))
        except ValueError as err:
            raise ApiError(
                400, f"Bad request: '{name}' is not a valid datetime: {value!r}."
            ) from err

    def _extension_total(self, params: Mapping[str, str]) -> object:
        start = self._datetime(params, "from")
        end = self._datetime(params, "to")
        if end <= start:
            raise ApiError(400, "Bad request: 'to' must be after 'from'.")
        if end - start > self.max_period:
            raise ApiError(
                400,
                "Bad request: too long a period was requested; the maximum is "
                f"{self.max_period.days} days.",
            )
        extension = params.get("extension") or None
        if extension is not None and extension not in self.extensions:
            raise ApiError(404, f"Not found: extension '{extension}' not found.")
        return [t.as_json() for t in self.extension_totals(start, end, extension)]

    def _set_sms(self, params: Mapping[str, str]) -> object:
        recipient = PHONE_NOISE.sub("", params.get("recipient", ""))
        message = params.get("message", "")
        if not PHONE.match(recipient):
            raise ApiError(
                400,
                "Bad request: 'recipient' must be a phone number "
                "(optional + and 6-15 digits).",
            )
        if not message.strip():
            raise ApiError(400, "Bad request: 'message' must not be empty.")
        if len(message) > MAX_SMS_LENGTH:
            raise ApiError(
                400,
                f"Bad request: 'message' is longer than {MAX_SMS_LENGTH} characters.",
            )
        sms = SentSms(
            id=len(self.sent_sms) + 1,
            recipient=recipient,
            message=message,
            sent_at=self.now(),
        )
        self.sent_sms.append(sms)
        return {"Id": sms.id, "Recipient": sms.recipient, "Status": "Queued"}

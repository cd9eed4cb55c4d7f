"""Framework shared by every fake vendor server: HTTP plumbing, counters, faults.

A vendor simulator subclasses :class:`SimulatorBase`, registers its routes in
:meth:`SimulatorBase.register_routes` (by default one catch-all route to
:meth:`SimulatorBase.handle`), names the action of a request in
:meth:`SimulatorBase.action_name` and says how the vendor rejects a credential in
:meth:`SimulatorBase.auth_revoked_response`. Counting and fault injection happen in a
middleware, so vendor code never sees a faulted request it should not answer.

The control surface under ``/_sim/`` (state, fault, clear, reset_counters) is not
counted and never faulted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass
from enum import StrEnum
import random
from typing import ClassVar, Self

from aiohttp import web

CONTROL_PREFIX = "/_sim/"
TIMEOUT_SECONDS = 60.0
HTML_CONTENT_TYPE = "text/html; charset=UTF-8"

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


class SeededRandom(random.Random):
    """Reproducible pseudo-random numbers for fake data (never for secrets)."""


class ControlError(ValueError):
    """A control request that cannot be understood."""


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
        self.in_flight = 0
        """Vendor requests being answered now (a client that gave up on one
        does not end it: the server still works on it)."""
        self.max_in_flight = 0
        """Most vendor requests answered at one moment since the counters were
        reset: 1 for a client that sends one request at a time."""
        self._faults: list[ActiveFault] = []
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[object]] = set()
        self.url: str | None = None

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

    def banner(self) -> list[str]:
        """Lines printed when the simulator starts from the command line."""
        return [f"{self.vendor} simulator listening on {self.url}"]

    def describe(self) -> dict[str, object]:
        """Vendor-specific extras for ``GET /_sim/state``."""
        return {}

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
        self.max_in_flight = self.in_flight

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
        if kind in (Fault.TRUNCATED, Fault.PHP_WARNING):
            return self._rewrite(kind, await handler(request))
        if kind is Fault.AUTH_REVOKED:
            return self.auth_revoked_response()
        if kind is Fault.RATE_LIMIT:
            response = self._text(RATE_LIMIT_BODY, status=429)
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response
        bodies = {
            Fault.SERVER_ERROR: (SERVER_ERROR_BODY, 500),
            Fault.MALFORMED: (MALFORMED_BODY, 200),
            Fault.PHP_WARNING_ONLY: (
                php_warning(self.php_script) + php_notice(self.php_script),
                200,
            ),
        }
        text, status = bodies[kind]
        return self._text(text, status=status)

    def _rewrite(self, kind: Fault, response: web.StreamResponse) -> web.StreamResponse:
        """Cut a normal body in half, or put a PHP warning in front of it."""
        if not isinstance(response, web.Response) or not isinstance(
            response.body, bytes | bytearray
        ):
            return response
        body = bytes(response.body)
        if kind is Fault.TRUNCATED:
            body = body[: len(body) // 2]
        else:
            body = php_warning(self.php_script).encode() + body
        headers = {
            key: value
            for key, value in response.headers.items()
            if key.lower() != "content-length"
        }
        return web.Response(body=body, status=response.status, headers=headers)

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
        if fault is None:
            return await handler(request)
        return await self._faulted(fault, request, handler)

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

    # -------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: an ephemeral port) and return the base URL."""
        if self._runner is not None:
            msg = "simulator already started"
            raise RuntimeError(msg)
        self._stopping.clear()
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self.url = f"http://{bound_host}:{bound_port}"
        return self.url

    async def stop(self) -> None:
        """Stop serving; requests held by latency or timeout faults end at once."""
        self._stopping.set()
        runner, self._runner = self._runner, None
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

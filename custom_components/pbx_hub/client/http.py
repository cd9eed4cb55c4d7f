"""The one HTTP helper every vendor client sends its requests through.

It owns what all vendors share: the request budget, the timeout, mapping transport
failures and status codes to the client's errors, tolerant JSON decoding, a cap on
the size of a body, and keeping secrets out of every error message.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
import contextlib
from dataclasses import dataclass
import errno
import json
import math
import re
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from .actions import sent_for_action
from .address import check_target, server_url
from .budget import RequestBudget
from .exceptions import (
    PbxAnswerLostError,
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxResponseError,
)
from .redaction import Redactor
from .stepwise import STEPWISE_FROM, decode_stepwise

type ErrorExplainer = Callable[[int, str], PbxError | None]
"""Reads a 4xx body; returns the error it means, or ``None`` for the default."""

_JSON_START = re.compile(r"[\[{]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_URL_LENGTH = 8000
"""Longer request lines are refused by common servers (8 KB limits): such a
request is refused before it is sent rather than failing on the PBX.
"""
MAX_BODY_BYTES = 4 * 1024 * 1024
"""Largest body read, 4 MiB. The largest answer a client asks for is PBXware's
extension list: 0.3 MB for 1000 extensions, so this leaves room for about
13 000; a bigger body is no answer to a request of this client, and reading it
whole would take memory without bound. Beyond it: ``PbxResponseError``.
"""
_READ_CHUNK = 64 * 1024
CONNECT_SHARE = 0.8
"""Share of the request timeout that connecting may take. Kept below the
whole, so that a connect that takes too long fails on its own, as a connect
timeout (nothing sent), rather than as the whole timeout (the request may
have gone out, or be going out). Most of the whole, so that a slow resolver
(mDNS ``.local`` names take up to 5 s in Home Assistant, slow DNS, a VPN)
still connects. aiohttp rounds a connect timeout of 5 s or more up to the
next second: 8 s of the default 10 s still ends first.
"""
_NOT_SENT: tuple[type[aiohttp.ClientError], ...] = (
    aiohttp.ClientConnectorError,  # refused, DNS, TLS, proxy
    aiohttp.ConnectionTimeoutError,
    aiohttp.ServerFingerprintMismatch,
    aiohttp.InvalidURL,
    # The transport closed while the request was still being written: the
    # server cannot act on half a request.
    aiohttp.ClientConnectionResetError,
)
"""aiohttp's errors that end a request before it is sent. Any other, once
connected (the server hung up, a read timed out, a broken or unparsable
answer), comes after the request went out: ``PbxAnswerLostError``, but for
a reset of a reused connection before the answer began (see ``_never_read``).
"""
_REDIRECT = range(300, 400)
MAY_HAVE_ACTED = frozenset({500, 502, 504})
"""Statuses that show a write reached the server, which may have carried it
out: a PHP error after the change was made, a proxy's timeout or broken
answer after it forwarded the request. 503 (unavailable) is left out: the
server says it did not take the request.
"""


def _never_read(
    err: TimeoutError | aiohttp.ClientError, *, answer_began: bool, reused: bool | None
) -> bool:
    """Whether ``err`` shows that the PBX never read the request: it was
    never sent (``_NOT_SENT``), or it went on a kept-alive connection that
    was reset (a reset or broken pipe) before any answer came. A server that
    closed a kept-alive connection, being stopped or idle, resets what
    arrives on it afterwards. On a new connection, a reset can come from a
    server that read the request, acted and then failed: so only a
    connection known to be ``reused`` counts. ``None`` (not known, reads on
    the caller's session) keeps the rule: whether a read was done does not
    matter.
    """
    if isinstance(err, _NOT_SENT):
        return True
    return (
        isinstance(err, aiohttp.ClientOSError)
        and not answer_began
        and reused is not False
        and err.errno in (errno.ECONNRESET, errno.EPIPE)
    )


@dataclass(frozen=True, kw_only=True)
class HttpResponse:
    """Status, headers and text of an answer that passed status mapping."""

    status: int
    headers: Mapping[str, str]
    text: str


def _unchanged(text: str) -> str:
    return text


def decode_json(text: str, redact: Callable[[str], str] = _unchanged) -> Any:
    """Decode a JSON body whatever its content type, tolerating a byte-order
    mark and PHP warning or notice text printed before the JSON.

    Raise ``PbxResponseError`` when no JSON can be found. Its preview of the
    body is ``redact``-ed before it is shortened and escaped: shortening
    first would leave the start of a secret, escaping first would hide one
    holding a backslash from ``redact``.
    """
    body = text.lstrip("\ufeff").strip()
    try:
        return json.loads(body)
    except ValueError:
        pass
    # PHP prints warnings ("<br />\n<b>Warning</b>: ...") before the JSON it was
    # about to send: try from each later JSON-looking start.
    for match in _JSON_START.finditer(body, 1):
        try:
            return json.loads(body[match.start() :])
        except ValueError:
            continue
    raise PbxResponseError(f"Answer is not JSON: {_preview(redact(body))!r}")


def url_host(text: str) -> str:
    """The lower-cased host of ``text``; empty when it is no valid URL."""
    try:
        return (URL(text).host or "").lower()
    except ValueError:
        return ""


def _preview(text: str, limit: int = 60) -> str:
    return text[:limit] + ("..." if len(text) > limit else "")


MAX_RETRY_AFTER = 86400.0
"""A longer ``Retry-After`` (``1e9``, ``inf``) is taken as a day: polling
resumes by itself rather than stay paused for good.
"""


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds, at most a day;
    ``None`` otherwise (``NaN`` included).
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _too_large(host: str) -> PbxResponseError:
    return PbxResponseError(
        f"{host} sent a body larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB"
    )


async def _read_text(response: aiohttp.ClientResponse, host: str) -> str:
    """The body as text, read at most ``MAX_BODY_BYTES`` far: a larger one
    raises ``PbxResponseError`` (a declared length, before any is read).
    """
    if (response.content_length or 0) > MAX_BODY_BYTES:
        raise _too_large(host)
    body = bytearray()
    async for chunk in response.content.iter_chunked(_READ_CHUNK):
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large(host)
    try:
        encoding = codecs.lookup(response.charset or "utf-8").name
    except LookupError:
        encoding = "utf-8"
    return body.decode(encoding, errors="replace")


class _ConnectionReuse:
    """Records whether a request's connection was a kept-alive one."""

    def __init__(self) -> None:
        self.reused: bool | None = None

    def trace_config(self) -> aiohttp.TraceConfig:
        """A trace that sets ``reused`` when aiohttp picks a connection."""
        config = aiohttp.TraceConfig()
        config.on_connection_reuseconn.append(self._on_reused)
        config.on_connection_create_end.append(self._on_created)
        return config

    async def _on_reused(self, *_: object) -> None:
        self.reused = True

    async def _on_created(self, *_: object) -> None:
        self.reused = False


@contextlib.asynccontextmanager
async def _sending_once(
    session: aiohttp.ClientSession, reuse: _ConnectionReuse
) -> AsyncIterator[aiohttp.ClientSession]:
    """A session for one write that aiohttp sends at most once.

    aiohttp sends a GET, PUT or DELETE a second time when the connection fails
    before the answer (``ClientOSError``, ``ServerDisconnectedError``), on any
    attempt. VoipCenter sends its writes (a call, a setting) as GET: a PBX that
    acted and then dropped the connection would get the write twice, and ring
    twice. The shared session (Home Assistant's) must keep that retry for
    everyone else, so each write gets a short-lived session on the same
    connector (pool, TLS settings), not owning it, with the retry off; closing
    it leaves the connector open. ``_retry_connection`` is aiohttp's private
    switch (its own test client turns it off the same way): a test sends a GET
    write to a server that drops it and checks that it arrives once.
    """
    # A closed session (or a stand-in that is not aiohttp's) is used as it
    # is: it says so itself, and has no retry to turn off.
    connector = (
        session.connector if isinstance(session, aiohttp.ClientSession) else None
    )
    if connector is None:
        yield session
        return
    async with aiohttp.ClientSession(
        connector=connector,
        connector_owner=False,
        headers=session.headers,
        skip_auto_headers=session.skip_auto_headers,
        cookie_jar=session.cookie_jar,
        json_serialize=session.json_serialize,
        trust_env=session.trust_env,
        trace_configs=[*session.trace_configs, reuse.trace_config()],
    ) as once:
        once._retry_connection = False
        yield once


class HttpHelper:
    """Sends requests for one client: budget, timeout, status mapping, redaction."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        budget: RequestBudget,
        request_timeout: float,
        secrets: Callable[[], Iterable[str]],
    ) -> None:
        """Keep the caller's session; ``secrets`` names what never to print."""
        self._session = session
        self.budget = budget
        self._timeout = request_timeout
        self._secrets = secrets
        self.session_secrets: set[str] = set()
        """Secrets a session adds (a login's token): redacted as settings are."""
        self._redactor = Redactor(())
        self._redacted: frozenset[str] = frozenset()

    def redact(self, message: str) -> str:
        """Replace every known secret in ``message``, in any form a PBX may
        echo it (see ``redaction``).
        """
        secrets = frozenset((*self._secrets(), *self.session_secrets))
        if secrets != self._redacted:
            self._redactor, self._redacted = Redactor(secrets), secrets
        return self._redactor(message)

    def decode_json(self, text: str) -> Any:
        """``decode_json`` whose error preview cannot show a secret the PBX
        echoed back.
        """
        return decode_json(text, self.redact)

    async def read_json(self, text: str) -> Any:
        """``decode_json``, but an answer of ``STEPWISE_FROM`` characters or
        more is decoded a piece at a time, giving the event loop its turns,
        and refused past ``MAX_MEMBERS`` rows in one list (see ``stepwise``).
        """
        if len(text) < STEPWISE_FROM:
            return self.decode_json(text)
        return await decode_stepwise(text, self.redact)

    def error_detail(self, status: int, text: str, *keys: str) -> str:
        """What an error body says under the first of ``keys`` (any case),
        redacted; ``HTTP <status>`` when it is not JSON or says nothing.
        """
        try:
            body = self.decode_json(text)
        except PbxResponseError:
            body = None
        if isinstance(body, Mapping):
            lowered = {str(key).lower(): value for key, value in body.items()}
            for key in keys:
                value = lowered.get(key)
                if value not in (None, "") and not isinstance(value, Mapping | list):
                    return self.redact(str(value).strip())
        return f"HTTP {status}"

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        explain_error: ErrorExplainer | None = None,
        on_headers: Callable[[Mapping[str, str]], None] | None = None,
        write: bool = False,
    ) -> HttpResponse:
        """Send one request and map failures to the client's errors.

        ``explain_error`` lets a vendor read the body of a 4xx answer (other than
        429) and say what it means; without it, or when it returns ``None``, the
        status code decides. Error messages name the host, never the URL: query
        strings carry keys. ``on_headers`` sees the headers of every answer,
        errors included, before any error is raised: rate-limit headers come
        with 4xx answers too. A ``write`` (a request that changes something on
        the PBX) is sent at most once (see ``_sending_once``), and an answer
        that shows it reached the PBX (``MAY_HAVE_ACTED``) or a reset on a new
        connection raises ``PbxAnswerLostError``: it may have been done. A
        write, or a request sent in ``for_action``, is an action's: the budget
        keeps polling's share from it. An address that is no web server's or
        holds a user name or password (see ``address.check_target``) is
        refused before anything is sent.
        """
        target = server_url(url)
        check_target(target)
        host = target.host or "the PBX"
        self._check_before_sending(url, params, headers)
        self.budget.acquire(action=sent_for_action(write=write))
        answer_began = False
        reuse = _ConnectionReuse()
        try:
            async with (
                asyncio.timeout(self._timeout),
                contextlib.AsyncExitStack() as stack,
            ):
                session = (
                    await stack.enter_async_context(_sending_once(self._session, reuse))
                    if write
                    else self._session
                )
                async with session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json_body,
                    headers=headers,
                    # A redirect could carry the key in its query to another host.
                    allow_redirects=False,
                    # Only the connect is bounded here (the whole is above):
                    # it tells a PBX never reached from an answer lost.
                    timeout=aiohttp.ClientTimeout(
                        total=None, connect=self._timeout * CONNECT_SHARE
                    ),
                ) as response:
                    answer_began = True
                    text = await _read_text(response, host)
                    status = response.status
                    # Case-insensitive, as HTTP header names are.
                    response_headers = CIMultiDict(response.headers)
        # "from None": aiohttp's errors quote the URL, and with it the query's keys.
        except (TimeoutError, aiohttp.ClientError) as err:
            raise self._transport_error(
                err, host, answer_began=answer_began, reused=reuse.reused
            ) from None
        if on_headers is not None:
            on_headers(response_headers)
        explained = (
            explain_error(status, text)
            if explain_error is not None and 400 <= status < 500 and status != 429
            else None
        )
        if explained is not None:
            self.budget.succeeded()
            raise explained
        self._raise_for_status(status, response_headers, host, write=write)
        return HttpResponse(status=status, headers=response_headers, text=text)

    def _transport_error(
        self,
        err: TimeoutError | aiohttp.ClientError,
        host: str,
        *,
        answer_began: bool,
        reused: bool | None,
    ) -> PbxConnectionError:
        """What a failure of the connection means: the PBX never got the
        request (``PbxConnectionError``), or it may have and the answer was
        lost (``PbxAnswerLostError``).
        """
        if _never_read(err, answer_began=answer_began, reused=reused):
            return PbxConnectionError(
                self.redact(f"Cannot reach {host}: {type(err).__name__}")
            )
        if isinstance(err, TimeoutError):
            return PbxAnswerLostError(
                f"No answer from {host} within {self._timeout:g} s"
            )
        return PbxAnswerLostError(
            self.redact(
                f"The answer from {host} broke off after the request was sent: "
                f"{type(err).__name__}"
            )
        )

    @staticmethod
    def _check_before_sending(
        url: str,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None,
        headers: Mapping[str, str] | None,
    ) -> None:
        """Refuse what cannot be sent as meant. Header values here are
        credentials (a token, Basic auth): a line break or control character
        in one would end the header (aiohttp refuses it with a ``ValueError``)
        or be refused by the server. Query values are percent-encoded, so they
        cannot add parameters, but a very long one makes a request line no
        server reads.
        """
        if any(_CONTROL.search(value) for value in (headers or {}).values()):
            raise PbxAuthError(
                "The credentials hold a line break or control character and "
                "cannot be sent"
            )
        if params and len(str(URL(url).extend_query(params))) > MAX_URL_LENGTH:
            raise PbxInvalidInputError(
                f"A request to {URL(url).host} would be over {MAX_URL_LENGTH} "
                "characters long: a value is too long"
            )

    def _raise_for_status(
        self, status: int, headers: Mapping[str, str], host: str, *, write: bool
    ) -> None:
        error: PbxError | None = None
        if status != 429:
            self.budget.succeeded()
        if status == 429:
            retry_after = self.budget.pause(
                parse_retry_after(headers.get("Retry-After"))
            )
            error = PbxRateLimitError(
                f"{host} answered 429: pausing {retry_after:.0f} s",
                retry_after=retry_after,
                from_pbx=True,
            )
        elif status == 401:
            error = PbxAuthError(f"{host} refused the credentials (HTTP 401)")
        elif status == 403:
            # Forbidden: the server knows who asks and refuses this request
            # (RFC 9110, 15.5.4); new credentials would not change that, so no
            # reauthentication. A vendor whose 403 does mean a bad credential
            # says so in its client's ``explain_error``.
            error = PbxPermissionError(
                f"{host} refused the request: the account lacks a right or "
                "licence for it (HTTP 403)"
            )
        elif write and status in MAY_HAVE_ACTED:
            error = PbxAnswerLostError(
                f"{host} answered HTTP {status} after the request reached it"
            )
        elif status >= 500:
            error = PbxConnectionError(f"{host} answered HTTP {status}")
        elif status >= 400:
            error = PbxRefusedError(f"{host} answered HTTP {status}")
        elif status in _REDIRECT:
            # Redirects are not followed (a key in the query could go to
            # another host): a redirect's body is no answer to read.
            error = PbxRefusedError(
                f"{host} answered HTTP {status} (redirect): check the URL"
            )
        if error is not None:
            raise error

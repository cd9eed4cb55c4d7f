"""The one HTTP helper every vendor client sends its requests through.

It owns what all vendors share: the request budget, the timeout, mapping transport
failures and status codes to the client's errors, tolerant JSON decoding, a cap on
the size of a body, and keeping secrets out of every error message.

One rule decides what a failed write tells (``docs/write-outcomes.md``): it was
refused, so nothing was done, only when an answer that could be read says so for
a reason on the caller's side (the request was never sent, a 4xx, 503
unavailable, a redirect elsewhere, the vendor's own refusal). Once the request
went out, anything else may follow a change and is ``PbxAnswerLostError``: no
answer, a broken or reset connection, an answer that cannot be read, a server's
own failure however it is told (HTTP 500, 502, 504, the same in a 200 body), and
a redirect to a result (302, 303). ``failure_for_status`` applies it to a
status, whether HTTP's or one a vendor puts in its body.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
import contextlib
from dataclasses import dataclass
import json
import math
import re
import sys
from typing import Any
import zlib

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

_PREAMBLE_TRIES = 64
"""Starts of JSON tried after PHP's warnings: far more than a page of them holds."""
_PREVIEW_WINDOW = 4096
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
MAX_BODIES_HELD = 2 * MAX_BODY_BYTES
"""Most memory that the bodies of one client's requests hold at once, 8 MiB:
the bytes of those being read, the text of those read. A poll sends its
requests together (PBXware's: eleven), and eleven bodies at the cap took
some 90 MB while read (bytes and text), and more the memory allocator kept.
A real PBX's poll stays below: PBXware's two largest lists, of 13 000
extensions, hold some 6 MB. The body that would pass it is refused, as one
over ``MAX_BODY_BYTES`` is.
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
connected (the server hung up or reset the connection, a read timed out, a
broken or unparsable answer), comes after the request went out:
``PbxAnswerLostError``. A reset is one too, on a kept-alive connection as on a
new one: a PBX may read a request, act on it and then reset the connection
(VoipCenter's ``call.php`` placed a call and did), and no client can tell that
from a server that had closed the connection unread just before.
"""
_REDIRECT = range(300, 400)
MAY_HAVE_ACTED = frozenset({500, 502, 504})
"""Statuses that show a write reached the server, which may have carried it
out: a PHP error after the change was made, a proxy's timeout or broken
answer after it forwarded the request. 503 (unavailable) is left out: the
server says it did not take the request.
"""
REDIRECT_TO_RESULT = frozenset({302, 303})
"""Redirects that a server sends after it handled a form: 303 See Other points
at the result of a request it processed, and 302 is what PHP's ``Location``
header and older servers send in its place. To a write they may follow a
change; 301, 307 and 308 say the request belongs elsewhere and was not handled.
"""


def failure_for_status(status: int, answered: str, *, write: bool) -> PbxError | None:
    """What a redirect or server error means, by the one rule for writes (see
    the module's docstring): ``status`` from HTTP or from a vendor's body,
    ``answered`` says who answered it how (``pbx.example answered HTTP 500``);
    ``None`` for another status.
    """
    if status >= 500:
        return server_error(status, answered, write=write)
    if status in _REDIRECT:
        if write and status in REDIRECT_TO_RESULT:
            return may_have_acted(answered, write=write)
        # Redirects are not followed (a key in the query could go to
        # another host): a redirect's body is no answer to read.
        return PbxRefusedError(f"{answered} (redirect): check the URL")
    return None


def server_error(status: int, answered: str, *, write: bool) -> PbxConnectionError:
    """A server error (``status`` 500 or more): one that shows the request
    reached the server (``MAY_HAVE_ACTED``) may have followed a change.
    """
    if status in MAY_HAVE_ACTED:
        return may_have_acted(answered, write=write)
    return PbxConnectionError(answered)


def may_have_acted(answered: str, *, write: bool) -> PbxConnectionError:
    """An answer that may follow a change, such as a server's own failure:
    to a write ``PbxAnswerLostError``; to a read, which changed nothing, a
    ``PbxConnectionError``, to try again later.
    """
    if write:
        return PbxAnswerLostError(
            f"{answered} after the request reached it: it may have been done"
        )
    return PbxConnectionError(answered)


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

    Raise ``PbxResponseError`` when no JSON can be found, or when it is nested
    deeper than Python can parse (``RecursionError``). Its preview of the body
    is ``redact``-ed before it is shortened and escaped: shortening first
    would leave the start of a secret, escaping first would hide one holding
    a backslash from ``redact``. Only the body's first ``_PREVIEW_WINDOW``
    characters are redacted: a secret that starts in the preview ends there.
    """
    body = text.lstrip("\ufeff").strip()
    try:
        return json.loads(body)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        pass
    # PHP prints warnings ("<br />\n<b>Warning</b>: ...") before the JSON it was
    # about to send: try from later JSON-looking starts, read in place. A few
    # warnings hold a few starts; a hostile body holds millions, and each try
    # may read far: the tries end after _PREAMBLE_TRIES, or once they have read
    # as much again as the body holds.
    decoder = json.JSONDecoder()
    read = 0
    for tries, start in enumerate(_json_starts(body)):
        if tries >= _PREAMBLE_TRIES or read > len(body):
            break
        try:
            value, end = decoder.raw_decode(body, start)
        except RecursionError:
            raise _too_deep() from None
        except ValueError as err:  # a JSONDecodeError, or too long a number
            read += getattr(err, "pos", start) - start
            continue
        if end == len(body):
            return value
        read += end - start
    preview = _preview(redact(body[:_PREVIEW_WINDOW]))
    raise PbxResponseError(f"Answer is not JSON: {preview!r}")


def _json_starts(body: str) -> Iterator[int]:
    """Where each ``{`` or ``[`` after the first character is, in order.
    ``str.find``: a regular expression takes 15 ms to look through 4 MiB
    that hold none, ``find`` a fortieth of that.
    """
    following = {mark: body.find(mark, 1) for mark in "{["}
    while found := [at for at in following.values() if at >= 0]:
        start = min(found)
        yield start
        following[body[start]] = body.find(body[start], start + 1)


def _too_deep() -> PbxResponseError:
    return PbxResponseError("Answer is JSON nested too deeply to read")


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


TEXT_CHARSETS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "ascii",
        "latin-1", "cp866", "iso-8859-2", "iso-8859-3", "iso-8859-4",
        "iso-8859-5", "iso-8859-6", "iso-8859-7", "iso-8859-8", "iso-8859-10",
        "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r",
        "koi8-u", "mac-roman", "mac-cyrillic", "cp874", "cp1250", "cp1251",
        "cp1252", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
        "gbk", "gb18030", "big5", "euc-jp", "iso-2022-jp", "shift-jis", "euc-kr",
    )
)  # fmt: skip
"""Charsets a body is read in when its ``Content-Type`` names one: those of
the WHATWG Encoding Standard (what browsers honour), plus Latin-1, ASCII and
UTF-16 with a byte-order mark. Python decodes them in C, in linear time. Any
other is read as UTF-8: an unknown name, a codec that is no text encoding
(``base64``, ``hex``, ``rot13``, ``zlib``: ``LookupError``), one that fails
on ordinary bytes (``idna``: ``UnicodeError``) or one that takes quadratic
time (``punycode``: minutes for 4 MiB).
"""


def _decoded(body: bytes, charset: str | None) -> str:
    """``body`` as text in ``charset`` where it is one of ``TEXT_CHARSETS``,
    else in UTF-8; bytes that do not decode become U+FFFD.
    """
    try:
        encoding = codecs.lookup(charset or "utf-8").name
    except LookupError, ValueError:  # unknown, or a NUL in the name
        encoding = "utf-8"
    if encoding not in TEXT_CHARSETS:
        encoding = "utf-8"
    return body.decode(encoding, errors="replace")


_UNREAD_ENCODINGS = frozenset({"br", "zstd", "compress", "x-compress"})
"""Compressions a PBX may send although not asked to, which are not read."""
ACCEPT_IDENTITY = {"Accept-Encoding": "identity"}
"""Sent with every request: answers are small, and a compressed one is a
body whose size is known only once it is inflated.
"""


class _Inflater:
    """Inflates a gzip or deflate body as it streams in, a piece of at most
    ``_READ_CHUNK`` bytes at a time: a small compressed body can inflate a
    thousandfold (1 MB of gzip to 1 GiB), and must not be inflated whole, nor
    even one chunk of it (64 KiB of gzip can hold 64 MiB).
    """

    def __init__(self, encoding: str, host: str) -> None:
        """Inflate ``encoding`` (``gzip`` or ``deflate``) from ``host``."""
        self._gzip = encoding in ("gzip", "x-gzip")
        self._host = host
        self._stream: Any = None
        self._ended = False
        """A deflate stream came to its end: what follows is not read."""

    def pieces(self, chunk: bytes) -> Iterator[bytes]:
        """What ``chunk`` inflates to, piece by piece; ``PbxResponseError``
        when it is no valid compressed data.
        """
        while chunk and not self._ended:
            if self._stream is None:
                self._stream = zlib.decompressobj(self._window_bits(chunk))
            try:
                piece = self._stream.decompress(chunk, _READ_CHUNK)
            except zlib.error:
                raise self._unreadable() from None
            chunk = self._stream.unconsumed_tail
            if self._stream.eof:
                # Gzip allows members one after another; the end of a
                # deflate stream ends the body.
                chunk = self._stream.unused_data
                self._ended = not self._gzip
                self._stream = None
            if piece:
                yield piece

    def finish(self) -> None:
        """At the body's end: a stream cut off before its end is no answer."""
        if self._stream is not None and not self._stream.eof:
            raise self._unreadable()

    def _window_bits(self, first: bytes) -> int:
        """Gzip's header; for deflate, zlib's header where the first byte
        names the deflate method (RFC 1950), else raw deflate, which some
        servers send under that name.
        """
        if self._gzip:
            return 16 + zlib.MAX_WBITS
        return zlib.MAX_WBITS if first[0] & 0x0F == 8 else -zlib.MAX_WBITS

    def _unreadable(self) -> PbxResponseError:
        return PbxResponseError(f"{self._host} sent a compressed body that is broken")


def _inflater(headers: Mapping[str, str], host: str) -> _Inflater | None:
    """What inflates a body sent with ``headers``: ``None`` when it is not
    compressed. The client asks for no compression (``ACCEPT_IDENTITY``) and
    reads gzip and deflate all the same; any other encoding, or more than
    one, is refused: the body cannot be read.
    """
    encoding = headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return _Inflater(encoding, host)
    # Named only where it is a known one: the PBX writes this header.
    named = repr(encoding) if encoding in _UNREAD_ENCODINGS else "an unknown encoding"
    raise PbxResponseError(f"{host} sent a body compressed as {named}, not read")


class _BodiesHeld:
    """The memory that the bodies of one client's requests hold at once, at
    most ``MAX_BODIES_HELD``.
    """

    def __init__(self) -> None:
        self.size = 0

    @contextlib.contextmanager
    def holding(self, host: str) -> Iterator[Callable[[int], None]]:
        """A ``take`` that counts a body's memory against the whole: more as
        its bytes come (refused where that would pass the whole), less when
        they give way to its text; all given back at the end.
        """
        taken = 0

        def take(size: int) -> None:
            nonlocal taken
            if size > 0 and self.size + size > MAX_BODIES_HELD:
                raise PbxResponseError(
                    f"{host}'s answers together are larger than "
                    f"{MAX_BODIES_HELD // (1024 * 1024)} MiB"
                )
            self.size += size
            taken += size

        try:
            yield take
        finally:
            self.size -= taken


async def _read_text(
    response: aiohttp.ClientResponse, host: str, take: Callable[[int], None]
) -> str:
    """The body as text, read at most ``MAX_BODY_BYTES`` far, as sent and as
    inflated: a larger one raises ``PbxResponseError`` (a declared length,
    before any is read). ``take`` counts the memory held, or refuses it.

    Kept in pieces until it is whole: one buffer grown to megabytes leaves
    the memory allocator holding more than the body.
    """
    if (response.content_length or 0) > MAX_BODY_BYTES:
        raise _too_large(host)
    pieces: list[bytes] = []
    try:
        await _read_into(pieces, response, host, take)
    except BaseException:
        # The error's traceback keeps this frame, and the body with it, for
        # as long as the error is kept (a coordinator keeps its last).
        pieces.clear()
        raise
    body = b"".join(pieces)
    pieces.clear()
    text = _decoded(body, response.charset)
    take(sys.getsizeof(text) - len(body))  # the bytes go once this returns
    return text


async def _read_into(
    pieces: list[bytes],
    response: aiohttp.ClientResponse,
    host: str,
    take: Callable[[int], None],
) -> None:
    """Read and inflate the body into ``pieces``; see ``_read_text``."""
    inflater = _inflater(response.headers, host)
    sent = read = 0
    async for chunk in response.content.iter_chunked(_READ_CHUNK):
        sent += len(chunk)
        if sent > MAX_BODY_BYTES:
            raise _too_large(host)
        for piece in [chunk] if inflater is None else inflater.pieces(chunk):
            read += len(piece)
            if read > MAX_BODY_BYTES:
                raise _too_large(host)
            take(len(piece))
            pieces.append(piece)
            if inflater is not None:
                # Other requests' turn: a chunk may inflate a thousandfold.
                await asyncio.sleep(0)
    if inflater is not None:
        inflater.finish()


@contextlib.asynccontextmanager
async def _sending_once(
    session: aiohttp.ClientSession,
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
        trace_configs=session.trace_configs,
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
        self.request_timeout = request_timeout
        """Seconds each request may take; the caller's choice (``create_client``)."""
        self._secrets = secrets
        self.session_secrets: set[str] = set()
        """Secrets a session adds (a login's token): redacted as settings are."""
        self._bodies = _BodiesHeld()
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
        the PBX) is sent at most once (see ``_sending_once``), and what may
        follow a change (see ``failure_for_status``, ``_NOT_SENT``) raises
        ``PbxAnswerLostError``: it may have been done. A write, or a request
        sent in ``for_action``, is an action's: the budget keeps polling's
        share from it. An address that is no web server's or holds a user name
        or password (see ``address.check_target``) is refused before anything
        is sent.
        """
        target = server_url(url)
        check_target(target)
        host = target.host or "the PBX"
        self._check_before_sending(url, params, headers)
        self.budget.acquire(action=sent_for_action(write=write))
        with self._bodies.holding(host) as take:
            status, response_headers, text = await self._exchange(
                method,
                url,
                host,
                take,
                params=params,
                data=data,
                json_body=json_body,
                headers={**ACCEPT_IDENTITY, **(headers or {})},
                write=write,
            )
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

    async def _exchange(
        self,
        method: str,
        url: str,
        host: str,
        take: Callable[[int], None],
        *,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None,
        data: Mapping[str, str] | None,
        json_body: Any,
        headers: Mapping[str, str],
        write: bool,
    ) -> tuple[int, CIMultiDict[str], str]:
        """Send the request and read the answer: its status, headers and text."""
        try:
            async with (
                asyncio.timeout(self.request_timeout),
                contextlib.AsyncExitStack() as stack,
            ):
                session = (
                    await stack.enter_async_context(_sending_once(self._session))
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
                    # Inflated by _read_text, within the cap.
                    auto_decompress=False,
                    # A redirect could carry the key in its query to another host.
                    allow_redirects=False,
                    # Only the connect is bounded here (the whole is above):
                    # it tells a PBX never reached from an answer lost.
                    timeout=aiohttp.ClientTimeout(
                        total=None, connect=self.request_timeout * CONNECT_SHARE
                    ),
                ) as response:
                    text = await _read_text(response, host, take)
                    # Case-insensitive, as HTTP header names are.
                    return response.status, CIMultiDict(response.headers), text
        # "from None": aiohttp's errors quote the URL, and with it the query's keys.
        except (TimeoutError, aiohttp.ClientError) as err:
            raise self._transport_error(err, host) from None

    def _transport_error(
        self, err: TimeoutError | aiohttp.ClientError, host: str
    ) -> PbxConnectionError:
        """What a failure of the connection means: the PBX never got the
        request (``PbxConnectionError``), or it may have and the answer was
        lost (``PbxAnswerLostError``).
        """
        if isinstance(err, _NOT_SENT):
            return PbxConnectionError(
                self.redact(f"Cannot reach {host}: {type(err).__name__}")
            )
        if isinstance(err, TimeoutError):
            return PbxAnswerLostError(
                f"No answer from {host} within {self.request_timeout:g} s"
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
        elif 400 <= status < 500:
            error = PbxRefusedError(f"{host} answered HTTP {status}")
        else:
            error = failure_for_status(
                status, f"{host} answered HTTP {status}", write=write
            )
        if error is not None:
            raise error

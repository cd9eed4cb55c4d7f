"""Decoding a large answer a piece at a time, with a bound on its rows.

``json.loads`` runs in C and keeps the event loop (and, from a thread, the
GIL) until it ends: 4 MiB of tiny rows takes 150-200 ms and a few hundred
MB. An answer of ``STEPWISE_FROM`` characters or more is decoded here
instead: a list or object of up to ``ROW_SLICE`` characters (a row) is
decoded by the C scanner at once, a larger one walked member by member in
Python, and the event loop gets its turn every ``YIELD_EVERY`` members or
``YIELD_CHARS`` characters. No list or object may hold more members than the
topic being read takes (``reading``), or ``MAX_MEMBERS`` outside a read:
past that, decoding stops at once, before the rest takes memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator, Iterator
import contextlib
from contextvars import ContextVar
import json
import re
from typing import Any

from .exceptions import PbxResponseError, PbxTooManyItemsError

STEPWISE_FROM = 64 * 1024
"""Smaller answers are decoded by ``json.loads`` at once (``HttpHelper.
read_json``): a few milliseconds, however they are made up.
"""
MAX_MEMBERS = 20_000
"""Most members of one list or object in any answer: the largest number of
items any topic takes (``PbxClient.max_items``).
"""
SLACK = 16
"""Members a list or object may hold beyond the maximum of items of the
topic being read (``reading``): an envelope's keys beside the rows. More is
more rows than the topic takes, refused as the topic would refuse them,
before their objects fill memory (and the garbage collector's work).
"""
MAX_DEPTH = 512
"""Deepest nesting read; no answer nests more than a few levels."""
ROW_SLICE = 4096
"""Characters a list or object may span to be decoded in C at once: a
few tens of microseconds.
"""
YIELD_EVERY = 1000
YIELD_CHARS = 64 * 1024
"""Members walked, or characters decoded, between two turns of the event
loop: a few milliseconds either way.
"""
PREAMBLE = 8 * 1024
"""How far into an answer its JSON may start, after the warning text PHP
prints before it (a few hundred characters).
"""
ROWS = "rows in one list"
"""The topic a ``PbxTooManyItemsError`` of the decoder names."""

_READING: ContextVar[tuple[str, int] | None] = ContextVar(
    "pbx_hub_reading", default=None
)
"""The topic being read in this task, and its maximum of items."""


@contextlib.contextmanager
def reading(topic: str, maximum: int) -> Iterator[None]:
    """Decode the answers of a read of ``topic`` with its ``maximum`` of items
    (plus ``SLACK``) as the bound on any list or object.
    """
    token = _READING.set((topic, maximum))
    try:
        yield
    finally:
        _READING.reset(token)


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON_START = re.compile(r"[\[{]")
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SCAN_STRING: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _skip(text: str, index: int) -> int:
    """The first index from ``index`` on that holds no whitespace."""
    match = _WHITESPACE.match(text, index)
    return index if match is None else match.end()


class _NotJsonError(Exception):
    """The text from this start is no JSON value."""


async def decode_stepwise(text: str, redact: Callable[[str], str] = str) -> Any:
    """The JSON of ``text``, decoded stepwise from its start or, after PHP's
    warning text, from a later ``[`` or ``{`` within ``PREAMBLE``.
    ``PbxResponseError`` when it is no JSON (its preview ``redact``-ed),
    ``PbxTooManyItemsError`` past ``MAX_MEMBERS``.
    """
    body = text.lstrip("\ufeff").strip()
    starts = [0, *(m.start() for m in _JSON_START.finditer(body, 1, PREAMBLE))]
    for start in starts:
        try:
            return await _decode(body, start)
        except _NotJsonError:
            continue
    preview = redact(body[:PREAMBLE])[:60]
    raise PbxResponseError(f"Answer is not JSON: {preview + '...'!r}")


async def _decode(text: str, start: int) -> Any:
    """Run ``_members`` to its end, giving the event loop a turn whenever it
    pauses.
    """
    steps = _members(text, start)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value
        await asyncio.sleep(0)


def _members(text: str, start: int) -> Generator[None, None, Any]:
    """The JSON value at ``start``, which must run to the end of ``text``;
    pauses (yields) every ``YIELD_EVERY`` members or ``YIELD_CHARS``
    characters.
    """
    walk = _Walk(text, start)
    members = 0
    pause_at = walk.index + YIELD_CHARS
    while True:
        value = walk.value()
        if value is _OPENED:
            continue
        # Put the value in its container; close every container that ends here.
        while walk.stack:
            walk.put(value)
            members += 1
            if members % YIELD_EVERY == 0 or walk.index >= pause_at:
                pause_at = walk.index + YIELD_CHARS
                yield
            if walk.next_member():
                break
            value = walk.close()
        else:
            walk.end()
            return value


_OPENED = object()
"""What ``_Walk.value`` returns for a list or object it opened to walk."""


class _Walk:
    """Where a walk through a text is, and the lists and objects open
    there (each object with the key its next value goes under): a stack,
    so that depth costs no recursion.
    """

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.index = _skip(text, start)
        self.stack: list[tuple[dict[str, Any] | list[Any], str | None]] = []
        read = _READING.get()
        self.topic, self.maximum = (ROWS, MAX_MEMBERS) if read is None else read
        self.bound = min(self.maximum + (0 if read is None else SLACK), MAX_MEMBERS)

    def value(self) -> Any:
        """The value at ``index`` decoded whole (a scalar, a row), or
        ``_OPENED`` for a list or object now open on the stack.
        """
        char = self.text[self.index : self.index + 1]
        if char not in ("{", "["):
            value, self.index = _scalar(self.text, self.index)
            return value
        value, self.index = _row(self.text, self.index)
        if value is not _UNREAD:
            return value
        if len(self.stack) >= MAX_DEPTH:
            raise PbxResponseError(f"Answer nests deeper than {MAX_DEPTH} levels")
        self.index = _skip(self.text, self.index + 1)
        if self.text[self.index : self.index + 1] == ("}" if char == "{" else "]"):
            self.index += 1
            return {} if char == "{" else []
        if char == "{":
            key, self.index = _key(self.text, self.index)
            self.stack.append(({}, key))
        else:
            self.stack.append(([], None))
        return _OPENED

    def put(self, value: Any) -> None:
        """Add ``value`` to the innermost container, within ``MAX_MEMBERS``."""
        container, key = self.stack[-1]
        if isinstance(container, list):
            container.append(value)
        else:
            container[str(key)] = value
        if len(container) > self.bound:
            self.stack.clear()  # the error's traceback must not keep the rows
            raise PbxTooManyItemsError(
                f"An answer holds more than {self.maximum} {self.topic}",
                topic=self.topic,
                maximum=self.maximum,
            )

    def next_member(self) -> bool:
        """Whether another member of the innermost container follows (a
        comma, and for an object its key); else it must end here.
        """
        self.index = _skip(self.text, self.index)
        if self.text[self.index : self.index + 1] != ",":
            return False
        self.index = _skip(self.text, self.index + 1)
        container, _ = self.stack[-1]
        if isinstance(container, dict):
            key, self.index = _key(self.text, self.index)
            self.stack[-1] = (container, key)
        return True

    def close(self) -> dict[str, Any] | list[Any]:
        """The innermost container, which must end at ``index``."""
        container, _ = self.stack.pop()
        if self.text[self.index : self.index + 1] != (
            "}" if isinstance(container, dict) else "]"
        ):
            raise _NotJsonError
        self.index += 1
        return container

    def end(self) -> None:
        """Nothing but whitespace may follow the value."""
        if _skip(self.text, self.index) != len(self.text):
            raise _NotJsonError


_UNREAD = object()
"""What ``_row`` returns for a list or object it leaves to be walked."""


def _row(text: str, index: int) -> tuple[Any, int]:
    """The list or object at ``index`` decoded in C, if it ends within
    ``ROW_SLICE`` characters; else ``_UNREAD`` (also when it is broken or
    nests too deep for C: walking it tells which).
    """
    try:
        value, end = _SCAN(text[index : index + ROW_SLICE], 0)
    except StopIteration, ValueError, RecursionError:
        return _UNREAD, index
    return value, index + end


def _scalar(text: str, index: int) -> tuple[Any, int]:
    """A string, number or literal at ``index``, decoded in C."""
    try:
        value, end = _SCAN(text, index)
    except StopIteration, ValueError:
        # No value here, a broken string, or an integer too long to convert.
        raise _NotJsonError from None
    return value, end


def _key(text: str, index: int) -> tuple[str, int]:
    """An object's key at ``index``, and where its value starts."""
    if text[index : index + 1] != '"':
        raise _NotJsonError
    try:
        key, index = _SCAN_STRING(text, index + 1, True)
    except ValueError:
        raise _NotJsonError from None
    index = _skip(text, index)
    if text[index : index + 1] != ":":
        raise _NotJsonError
    return key, _skip(text, index + 1)

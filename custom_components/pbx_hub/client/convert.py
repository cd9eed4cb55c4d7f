"""Conversions for vendor JSON, loose where vendors really are (numbers as
numeric text, ids as numbers or text, flags as ``"1"``/``"yes"``/``""``) and
strict everywhere else: a value of the wrong kind is ``None`` (unknown), never
a number or a name made up from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
import math
import re
from typing import Any

from .exceptions import PbxResponseError

_NUMBER = re.compile(r"\s*([-+]?\d+(?:\.\d+)?)\s*%?\s*")
"""A number as text, alone or as a percentage: ``"37"``, ``"37%"``,
``" 61 % "``, ``"-4.5"`` (PBXware's dashboard sends the percent forms)."""
_ID = re.compile(r"[0-9]{1,20}")
MAX_NUMBER = 2**53
"""Largest magnitude read as a number: beyond it a float no longer holds
every integer, and sums or percentages of such values overflow. No count,
duration, amount or percentage of a PBX comes near it; ``1e308`` is valid
JSON but no figure, so it is unknown.
"""
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
"""Date-times are read from ``EARLIEST`` up to (not including) ``LATEST``,
in UTC. Beyond them a PBX sends a placeholder (``0000-00-00``,
``9999-12-31``), not a moment; and near year 9999 an offset pushes the UTC
time past what Python and Home Assistant can hold or format.
"""
_TRUE = frozenset({"1", "yes", "true", "on", "enabled"})
_FALSE = frozenset({"", "0", "no", "false", "off", "disabled"})


def is_id(value: str) -> bool:
    """Whether ``value`` is a numeric id: 1 to 20 ASCII digits. Not
    ``str.isdigit``, which takes full-width and superscript digits too.
    """
    return _ID.fullmatch(value) is not None


def to_int(value: Any) -> int | None:
    """An integer from a number or a text like ``"7"`` or ``"37%"``."""
    number = to_float(value)
    return None if number is None else round(number)


def to_float(value: Any) -> float | None:
    """A number from a number or from text that is one number (see
    ``_NUMBER``): ``"3 calls"`` or ``"v2"`` is no number. ``None`` too for
    what no sensor can show (Infinity and NaN, which ``json.loads`` accepts,
    and integers too large for a float) and for magnitudes over
    ``MAX_NUMBER``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    elif isinstance(value, str):
        match = _NUMBER.fullmatch(value)
        if match is None:
            return None
        number = float(match.group(1))
    else:
        return None
    return number if math.isfinite(number) and abs(number) <= MAX_NUMBER else None


def percent(part: float | None, whole: float | None) -> float | None:
    """``part`` as a percentage of ``whole``, to one decimal; unknown when
    either is, or ``whole`` is not above zero, or ``part`` below it.
    """
    if part is None or whole is None or whole <= 0 or part < 0:
        return None
    share = 100 * part / whole
    return round(share, 1) if math.isfinite(share) else None


def to_bool(value: Any) -> bool | None:
    """``True``/``False`` from booleans, ``1``/``0``, ``"yes"``/``"no"``,
    ``"1"``/``"0"``; ``''`` is ``False`` (PBXware's "not set"). Any other
    number or text is unknown.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return value == 1
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def to_text(value: Any) -> str | None:
    """A stripped string; ``None`` for missing or empty values and for what
    is no text at all (a number where a name belongs is not a name).
    """
    if not isinstance(value, str):
        return None
    return value.strip() or None


def to_key(value: Any) -> str | None:
    """An id or a number such as an extension's, as text: PHP APIs send them
    as ``"101"`` or ``101``. Integers and any text that is not blank are
    taken (stripped, not checked: ids are e-mails, SIP user names, phone
    numbers written with spaces, version texts); booleans, fractions, other
    types and blank text give ``None``. Callers that need a numeric id check
    it with ``is_id``.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    return to_text(value)


def unique[K, T](items: Iterable[tuple[K | None, T]], what: str) -> dict[K, T]:
    """``items`` by key, skipping those without one. A key seen twice raises:
    one row would silently replace another (two devices read as one).
    """
    result: dict[K, T] = {}
    for key, item in items:
        if key is None:
            continue
        if key in result:
            raise PbxResponseError(f"{what}: two rows with the same id")
        result[key] = item
    return result


def readable[T, R](rows: list[T], read: Callable[[T], R | None], what: str) -> list[R]:
    """``read`` applied to each row, the unreadable (``None``) left out. A
    list of rows none of which is readable raises: read as "nothing there", it
    would empty every list (an empty list stays an empty list).
    """
    results = [result for row in rows if (result := read(row)) is not None]
    if rows and not results:
        raise PbxResponseError(f"{what}: no row can be read")
    return results


def to_datetime(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text (``Z`` or an offset); text without
    an offset is taken as UTC. Unknown outside ``EARLIEST`` to ``LATEST``.
    """
    text = to_text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return in_range(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))


def in_range(moment: datetime) -> datetime | None:
    """An aware ``moment`` if it lies from ``EARLIEST`` up to ``LATEST``,
    else ``None``; its UTC time may be past year 9999, which Python cannot
    compute (``OverflowError``), and that is out of range too.
    """
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment if EARLIEST <= utc < LATEST else None


def from_unix(value: Any) -> datetime | None:
    """An aware datetime from Unix seconds, within ``in_range``; ``None`` for
    what is no number and for a moment out of range (a time in milliseconds
    read as seconds falls some 50 000 years ahead; ``1e308``).
    """
    seconds = to_float(value)
    if seconds is None:
        return None
    try:
        return in_range(datetime.fromtimestamp(seconds, UTC))
    except OverflowError, ValueError, OSError:
        return None

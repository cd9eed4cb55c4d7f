"""Tolerant conversions for vendor JSON, where numbers may be strings, flags
may be ``"1"``/``"yes"``/``""`` and empty values may be missing or blank.
"""

from __future__ import annotations

from datetime import UTC, datetime
import math
import re
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ID = re.compile(r"[0-9]{1,20}")


def is_id(value: str) -> bool:
    """Whether ``value`` is a numeric id: 1 to 20 ASCII digits. Not
    ``str.isdigit``, which takes full-width and superscript digits too.
    """
    return _ID.fullmatch(value) is not None


def to_int(value: Any) -> int | None:
    """An integer from a number or a string like ``"7"`` or ``"37%"``."""
    number = to_float(value)
    return None if number is None else round(number)


def to_float(value: Any) -> float | None:
    """A number from a number or the first number in a string; ``None`` for
    what no sensor can show (Infinity and NaN, which ``json.loads`` accepts,
    and integers too large for a float).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return None
    else:
        match = _NUMBER.search(str(value))
        if match is None:
            return None
        number = float(match.group())
    return number if math.isfinite(number) else None


def to_bool(value: Any) -> bool | None:
    """``True``/``False`` from booleans, ``"yes"``/``"no"``, ``"1"``/``"0"``;
    ``''`` is ``False`` (PBXware's "not set").
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in {"1", "yes", "true", "on", "enabled"}:
        return True
    if text in {"", "0", "no", "false", "off", "disabled"}:
        return False
    return None


def to_text(value: Any) -> str | None:
    """A stripped string, ``None`` for missing or empty values."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def to_datetime(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 text (``Z`` or an offset); text without
    an offset is taken as UTC.
    """
    text = to_text(value)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)

"""What the actions take, checked before any request; a refusal is a key to translate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from .exceptions import PbxInvalidInputError
from .models import DestinationType, TimeFilter

ATTR_DID = "did"
ATTR_DESTINATION_TYPE = "destination_type"
ATTR_DESTINATION = "destination"
ATTR_USER_NUMBER = "user_number"
ATTR_NUMBER = "number"
ATTR_SUBSCRIBER = "subscriber"
ATTR_START = "start"
ATTR_END = "end"
ATTR_RECIPIENT = "recipient"
ROUTABLE = [kind.value for kind in DestinationType if kind is not DestinationType.OTHER]
ROUTE_PLAN_FIELDS = (
    "route",
    "backup_route",
    *(kind.value for kind in TimeFilter),
)
"""Routes and time filters by name or id; "none" clears all but the route."""
_NAME_FIELDS = (
    ATTR_DID,
    ATTR_DESTINATION,
    *ROUTE_PLAN_FIELDS,
    "hot_desk",
    "sip_account",
    "template",
)
TEXT_LIMITS: dict[str, int] = {
    **dict.fromkeys(_NAME_FIELDS, 128),
    ATTR_USER_NUMBER: 32,
    ATTR_NUMBER: 64,
    ATTR_SUBSCRIBER: 254,
    ATTR_RECIPIENT: 64,
}
"""The longest text per field; only the recipient (the vendor's rule) may be empty."""


@dataclass(frozen=True)
class Refusal:
    """Why an action's input is refused: a translation key and its placeholders."""

    key: str
    placeholders: Mapping[str, str] = field(default_factory=dict)


def as_date(value: object) -> date | None:
    """A date, or text as ``YYYY-MM-DD``; ``None`` for anything else."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None


def input_refusal(data: Mapping[str, Any]) -> Refusal | None:
    """The refusal of the texts, destination type and dates the schemas leave
    unchecked, or ``None``: all is well.
    """
    for name, longest in TEXT_LIMITS.items():
        if (value := data.get(name)) is None:
            continue
        if not value and name != ATTR_RECIPIENT:
            return Refusal("text_empty", {"field": name})
        if len(value) > longest:
            return Refusal("text_too_long", {"field": name, "max": str(longest)})
    kind = data.get(ATTR_DESTINATION_TYPE)
    if kind is not None and kind not in ROUTABLE:
        return Refusal(
            "invalid_destination_type",
            {"destination_type": kind, "types": ", ".join(ROUTABLE)},
        )
    for name in (ATTR_START, ATTR_END):
        if name in data and as_date(data[name]) is None:
            return Refusal("invalid_date", {"field": name, "value": str(data[name])})
    return None


def sms_refusal(err: PbxInvalidInputError, recipient: str) -> Refusal:
    """The vendor's SMS rule ``err`` names, keyed where it is a known one."""
    if err.reason == "sms_recipient":
        return Refusal("invalid_sms_recipient", {"recipient": recipient})
    if err.reason == "sms_length":
        return Refusal("invalid_sms_length")
    return Refusal("invalid_sms", {"error": str(err)})


def find_id(names: Mapping[str, str], wanted: str) -> str | None:
    """The id of ``wanted``, given as an id or a name (any case); else ``None``."""
    if wanted in names:
        return wanted
    for item_id, name in names.items():
        if name.casefold() == wanted.casefold():
            return item_id
    return None


class _Numbered(Protocol):
    @property
    def number(self) -> str:
        """The number users know it by."""
        ...


def find_numbered[N: _Numbered](items: Mapping[str, N], wanted: str) -> N | None:
    """An item (a DID) by its id or else its number; else ``None``."""
    if (item := items.get(wanted)) is not None:
        return item
    return next((item for item in items.values() if item.number == wanted), None)

"""Options a vendor offers beyond the scan intervals, declared like its settings.

The options flow builds its form from a vendor's ``OptionField``s and runs
their checks; a value a check refuses is the form error ``invalid_<key>``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
import re
from typing import TYPE_CHECKING, Any, Final, Literal

from .convert import is_id
from .exceptions import PbxInvalidInputError
from .models import AccountSelection, Extension

if TYPE_CHECKING:
    from .base import PbxClient

SMS_RECIPIENT: Final = "sms_recipient"
SUBSCRIBERS: Final = "subscribers"
DEPARTMENTS: Final = "departments"
NODES: Final = "nodes"
CURRENCY: Final = "currency"
EXCLUDED_EXTENSIONS: Final = "excluded_extensions"


class OptionKind(StrEnum):
    """How an option is entered, so the options flow picks the right selector."""

    PHONE = "phone"
    LIST = "list"
    """Values one a line, or separated by commas (see ``option_list``)."""
    TEXT = "text"


@dataclass(frozen=True, kw_only=True)
class OptionField:
    """One option of a vendor; empty means not set."""

    key: str
    kind: OptionKind = OptionKind.TEXT
    default: str | None = None
    """Shown in an empty form; ``None`` leaves the field empty."""
    check: Callable[[str], str] | None = None
    """The value as kept, or ``PbxInvalidInputError``."""


type OptionsCheck = Callable[
    ["PbxClient", Mapping[str, Any], date], Awaitable[dict[str, str]]
]
"""Checks chosen options against the PBX (on ``date``, the caller's today):
form errors by field (or ``base``), empty when all is well."""


def check_fields(
    fields: Iterable[OptionField], values: dict[str, Any]
) -> dict[str, str]:
    """Run each entered option's check: keep the value as checked in ``values``,
    or return the form error ``invalid_<key>`` for it.
    """
    errors: dict[str, str] = {}
    for field in fields:
        if field.check is None or not (value := values.get(field.key)):
            continue
        try:
            values[field.key] = field.check(value)
        except PbxInvalidInputError:
            errors[field.key] = f"invalid_{field.key}"
    return errors


def merged_options(
    saved: Mapping[str, Any], entered: Mapping[str, Any], fields: Iterable[OptionField]
) -> dict[str, Any]:
    """The options to save: ``entered`` over ``saved``, so what the form did not
    show is kept; a vendor option left empty is absent from ``entered``: cleared.
    """
    options = {**saved, **entered}
    for field in fields:
        if field.key not in entered:
            options.pop(field.key, None)
    return options


def currency_code(text: str) -> str:
    """A three-letter currency code, in capitals; blank is none."""
    code = text.strip().upper()
    if code and not (len(code) == 3 and code.isalpha()):
        raise PbxInvalidInputError("A currency is a three-letter code")
    return code


_LIST_SEPARATOR = re.compile(r"[,\n]")


def option_list(text: Any) -> tuple[str, ...]:
    """The values of a list option, separated by commas or line breaks: a
    department or node name may hold spaces ("Sales Team"). Options saved
    when spaces separated values too ("1 2") still read as before: a part
    whose every word is an id or an e-mail address is split at its spaces.
    """
    values: list[str] = []
    for part in _LIST_SEPARATOR.split(str(text or "")):
        words = part.split()
        if all(is_id(word) or "@" in word for word in words):
            values.extend(words)
        else:
            values.append(part.strip())
    return tuple(dict.fromkeys(values))


def account_selection(options: Mapping[str, Any]) -> AccountSelection:
    """The subscribers the options follow: ids or e-mails, departments, nodes."""
    return AccountSelection(
        ids=option_list(options.get(SUBSCRIBERS)),
        departments=option_list(options.get(DEPARTMENTS)),
        nodes=option_list(options.get(NODES)),
    )


def followed_extensions[T](
    listed: Mapping[str, T] | None, options: Mapping[str, Any]
) -> dict[str, T]:
    """The listed extensions, less those the options leave out."""
    excluded = set(options.get(EXCLUDED_EXTENSIONS, ()))
    return {key: item for key, item in (listed or {}).items() if key not in excluded}


def not_excluded(keys: Iterable[str], options: Mapping[str, Any]) -> list[str]:
    """The extension keys the options do not leave out."""
    excluded = set(options.get(EXCLUDED_EXTENSIONS, ()))
    return [key for key in keys if key not in excluded]


def on_followed_extensions(
    keys: Iterable[str],
    listed: Mapping[str, Extension] | None,
    options: Mapping[str, Any],
    by: Literal["id", "number"],
) -> list[str]:
    """The keys naming a followed extension by ``by``.

    Not a queue's number, nor an extension gone or left out.
    """
    followed = followed_extensions(listed, options)
    wanted = {key if by == "id" else e.number for key, e in followed.items()}
    return [key for key in keys if key in wanted]

"""Names the PBX chooses, made safe to show as titles and labels (design-repairs.md)."""

from __future__ import annotations

from collections.abc import Mapping
import re
import unicodedata

from .models import DestinationType, Did, Extension

MAX_TITLE_LENGTH = 100
"""Longer names are cut (with an ellipsis): a title is a label, not a text."""
# Unicode categories that show nothing or move text: controls, format
# characters (bidirectional overrides, zero-width spaces), private use,
# surrogates and unassigned code points.
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
# Every ASCII punctuation character: CommonMark lets each be escaped with a
# backslash, which then shows as itself.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _visible(char: str) -> str:
    """A space for any white space, nothing for an invisible character."""
    if char.isspace():
        return " "
    return "" if unicodedata.category(char) in _INVISIBLE else char


def entry_title(name: str) -> str:
    """``name`` on one visible, short line; empty when nothing visible is left."""
    title = " ".join("".join(map(_visible, name)).split())
    if len(title) > MAX_TITLE_LENGTH:
        title = title[: MAX_TITLE_LENGTH - 1].rstrip() + "…"
    return title


def markdown_escape(text: str) -> str:
    """``text`` as markdown that renders as itself: no link, image or HTML."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def title_placeholders(title: str) -> dict[str, str]:
    """A title escaped for a repair's description, and plain for its title."""
    plain = entry_title(title)
    return {"title": markdown_escape(plain), "title_plain": plain}


def name_and_number(name: str | None, number: str) -> str:
    """``name (number)``, or the number alone where there is no other name."""
    return f"{name} ({number})" if name and name != number else number


def did_route(
    did: Did, kind: str, extensions: Mapping[str, Extension] | None, disabled: str
) -> str:
    """Where the number rings, as read: "Extension Arthur Hermans (101)".

    ``kind`` is the destination type's word, ``disabled`` the word for off.
    """
    target = did.destination
    if did.destination_type is DestinationType.EXTENSION:
        numbered = (ext for ext in (extensions or {}).values() if ext.number == target)
        if (named := next(numbered, None)) is not None:
            target = name_and_number(named.name, target)
    text = f"{kind} {target}".strip()
    return f"{text} ({disabled})" if did.enabled is False else text


def unique_labels(names: Mapping[str, str], *, reserved: str) -> dict[str, str]:
    """A label per id: the name, with the id where names clash or equal ``reserved``."""
    seen: dict[str, int] = {}
    for name in names.values():
        seen[name.casefold()] = seen.get(name.casefold(), 0) + 1
    return {
        item_id: f"{name} ({item_id})"
        if seen[name.casefold()] > 1 or name.casefold() == reserved.casefold()
        else name
        for item_id, name in names.items()
    }

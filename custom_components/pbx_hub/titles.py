"""Names the PBX chooses, made safe to show.

The PBX names its tenant or account, and that name becomes the entry's title:
shown in lists, and inside repair texts that Home Assistant renders as
markdown. A name with control characters, a thousand characters or markdown
of its own (a link, an image) must not change what those texts say.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TITLE_LENGTH = 100
"""Longer names are cut (with an ellipsis): a title is a label, not a text."""
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})
"""Unicode categories that show nothing or move text: controls, format
characters (bidirectional overrides, zero-width spaces), private use,
surrogates and unassigned code points.
"""
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
"""Every ASCII punctuation character: CommonMark lets each be escaped with a
backslash, which then shows as itself.
"""


def _visible(char: str) -> str:
    """A space for any kind of white space or line break, nothing for a
    character that shows nothing, else the character.
    """
    if char.isspace():
        return " "
    return "" if unicodedata.category(char) in _INVISIBLE else char


def entry_title(name: str) -> str:
    """``name`` as a one-line title: invisible characters dropped, white
    space runs made one space, at most ``MAX_TITLE_LENGTH`` characters. Empty
    when nothing visible is left (the caller picks a fallback).
    """
    title = " ".join("".join(map(_visible, name)).split())
    if len(title) > MAX_TITLE_LENGTH:
        title = title[: MAX_TITLE_LENGTH - 1].rstrip() + "…"
    return title


def markdown_escape(text: str) -> str:
    """``text`` as markdown that renders as the text itself: no link, image,
    emphasis, heading or HTML of its own.
    """
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def title_placeholders(title: str) -> dict[str, str]:
    """An entry's title for a repair issue: ``title`` escaped for its
    description (markdown), ``title_plain`` for its title (plain text).
    """
    plain = entry_title(title)
    return {"title": markdown_escape(plain), "title_plain": plain}

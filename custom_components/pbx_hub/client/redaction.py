r"""Keeping secrets out of messages, in whatever form a PBX echoes them.

A PBX that quotes a key back may have escaped it for HTML (``&amp;``), JSON
or PHP (``\/``), percent-encoded it (``%2F`` or ``%2f``), changed its case or
cut it short. Each known secret is looked for in every such form, whatever
the case, and so is every ``PIECE_LENGTH`` characters of each form: a cut
echo shows only a piece.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
import html
import json
import re
from typing import cast
from urllib.parse import quote

from yarl import URL

REDACTED = "**REDACTED**"
PIECE_LENGTH = 12
"""Shown this many characters of a secret in a row, a message shows too
much; shorter runs occur in ordinary text. The tests' secret guard uses the
same length.
"""
MAX_MESSAGE = 8192
"""Longer text is cut to this many characters before it is redacted: no
message needs more, and the search for pieces costs time with the length.
"""


def written_forms(secret: str) -> set[str]:
    """``secret`` as written, and as JSON, PHP, a URL or HTML would carry it."""
    json_escaped = json.dumps(secret)[1:-1]
    forms = {
        secret,
        json_escaped,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        # PHP's json_encode escapes "/" too.
        json_escaped.replace("/", "\\/"),
        quote(secret, safe=""),
        URL.build(query={"k": secret}).raw_query_string.removeprefix("k="),
    }
    for form in list(forms):
        escaped = html.escape(form)  # "&" "<" ">" '"' as entities, "'" as &#x27;
        forms |= {
            escaped,
            escaped.replace("&#x27;", "&#39;"),
            escaped.replace("&#x27;", "&#039;"),
            escaped.replace("&#x27;", "&apos;"),
            html.escape(form, quote=False),
        }
    return {form for form in forms if form}


class Redactor:
    """Replaces the forms of a fixed set of secrets; built once per set."""

    def __init__(self, secrets: Iterable[str]) -> None:
        """Prepare the search for every form and piece of ``secrets``."""
        forms: set[str] = set()
        for secret in secrets:
            if secret:
                forms |= written_forms(secret)
        # Longest first, so that no form is left half replaced by a shorter one.
        ordered = sorted(forms, key=len, reverse=True)
        self._whole = (
            re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)
            if ordered
            else None
        )
        self._pieces = {
            form[start : start + PIECE_LENGTH].lower()
            for form in forms
            for start in range(len(form) - PIECE_LENGTH + 1)
        }

    def __call__(self, message: str) -> str:
        """``message`` with every form and piece of a secret replaced."""
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "..."
        if self._whole is None:
            return message
        message = self._whole.sub(REDACTED, message)
        return self._without_pieces(message) if self._pieces else message

    def _without_pieces(self, message: str) -> str:
        """Replace each run of text that is made of pieces of secrets."""
        hidden = [False] * len(message)
        for start in range(len(message) - PIECE_LENGTH + 1):
            if message[start : start + PIECE_LENGTH].lower() in self._pieces:
                hidden[start : start + PIECE_LENGTH] = [True] * PIECE_LENGTH
        if not any(hidden):
            return message
        parts: list[str] = []
        for index, char in enumerate(message):
            if not hidden[index]:
                parts.append(char)
            elif index == 0 or not hidden[index - 1]:
                parts.append(REDACTED)
        return "".join(parts)


def redact_texts[T](data: T, redact: Callable[[str], str]) -> T:
    """Every text in ``data``, keys too, redacted: a PBX may echo a secret
    anywhere. The same shape comes back (a mapping as a ``dict``).
    """
    redacted: object = data
    if isinstance(data, str):
        # Unchanged text stays the object it was (an enum member, say).
        if (text := redact(data)) != data:
            redacted = text
    elif isinstance(data, Mapping):
        redacted = {
            redact_texts(key, redact): redact_texts(value, redact)
            for key, value in data.items()
        }
    elif isinstance(data, tuple):
        redacted = tuple(redact_texts(value, redact) for value in data)
    elif isinstance(data, list):
        redacted = [redact_texts(value, redact) for value in data]
    return cast(T, redacted)

"""A secret a PBX echoes back is redacted in whatever form it comes: HTML-
or PHP-escaped, percent-encoded in lower case, lower-cased, or cut short.
"""

from __future__ import annotations

from collections.abc import Callable
import html
import json
from urllib.parse import quote

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    PbxAuthError,
    PbxResponseError,
    create_client,
)
from custom_components.pbx_hub.client.redaction import (
    MAX_MESSAGE,
    PIECE_LENGTH,
    REDACTED,
    Redactor,
)

pytestmark = pytest.mark.slow  # servers on loopback

KEY = "Key/With&Quote'<Tag>+0123456789AbCdEf"
"""An API key with every character the transforms change."""

ECHOES: dict[str, Callable[[str], str]] = {
    "as written": lambda key: key,
    "HTML-escaped": html.escape,
    "HTML-escaped with &#39;": lambda key: html.escape(key).replace("&#x27;", "&#39;"),
    "HTML-escaped with &#039;": lambda key: html.escape(key).replace(
        "&#x27;", "&#039;"
    ),
    "PHP JSON (\\/)": lambda key: json.dumps(key)[1:-1].replace("/", "\\/"),
    "percent-encoded, lower case (%2f)": lambda key: quote(key, safe="").lower(),
    "lower-cased": str.lower,
    "upper-cased": str.upper,
    "cut short": lambda key: key[:20] + "...",
    "its end only": lambda key: "..." + key[-14:],
    "HTML-escaped and cut short": lambda key: html.escape(key)[:24] + "...",
}


def _shows_the_key(text: str) -> bool:
    """Whether ``text`` shows ``PIECE_LENGTH`` characters in a row of the
    key or of one of its echoes, in any case.
    """
    lowered = text.lower()
    return any(
        form[start : start + PIECE_LENGTH].lower() in lowered
        for form in {echo(KEY) for echo in ECHOES.values()}
        for start in range(len(form) - PIECE_LENGTH + 1)
    )


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
def test_every_form_is_redacted(echo: Callable[[str], str]) -> None:
    message = f"Access denied for key {echo(KEY)} (see the log)"
    redacted = Redactor([KEY])(message)
    assert REDACTED in redacted
    assert not _shows_the_key(redacted)
    assert redacted.startswith("Access denied for key ")
    assert redacted.endswith(" (see the log)")


def test_ordinary_text_is_left_alone() -> None:
    message = "Access denied: invalid API key. Check Admin Settings."
    assert Redactor([KEY])(message) == message
    assert Redactor([])(message) == message


def test_a_long_message_is_cut_before_it_is_redacted() -> None:
    redacted = Redactor([KEY])(KEY.lower() * 100_000)
    assert len(redacted) <= MAX_MESSAGE + 3
    assert not _shows_the_key(redacted)


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES.keys())
async def test_a_pbx_that_echoes_the_key(
    session: aiohttp.ClientSession,
    scripted: tuple[str, list[web.Response]],
    echo: Callable[[str], str],
) -> None:
    """In a PBXware error (which becomes the error's message) and in a body
    that is no JSON (whose preview the error quotes).
    """
    url, answers = scripted
    client = create_client("pbxware", session, {"url": url, "api_key": KEY})
    answers.append(web.json_response({"error": f"Invalid API key {echo(KEY)}"}))
    with pytest.raises(PbxAuthError) as refused:
        await client.async_identify()
    assert not _shows_the_key(str(refused.value))

    answers.append(web.Response(text=f"<b>Warning</b>: key {echo(KEY)} unknown"))
    with pytest.raises(PbxResponseError) as unreadable:
        await client.async_identify()
    assert not _shows_the_key(str(unreadable.value))

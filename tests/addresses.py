"""Odd server addresses, what the config flow says of each and what an entry
saved with one (before the flow refused it) does. Asserted per vendor by
``tests/test_server_addresses.py`` and rendered into ``docs/reliability.md``
by ``tests/test_fault_matrix.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from yarl import URL

VENDOR_NAMES = {
    "pbxware": "PBXware",
    "voipcloud": "VoIPcloud",
    "voipcenter": "VoipCenter",
    "tariscope": "Tariscope",
    "tim4biz": "TIM4biz",
}
USER = "someone"
PASSWORD = "addr-s3cret-pass"


class Saved(StrEnum):
    """What an entry saved with the address does at setup."""

    REFUSED = "refused"
    DROPPED = "dropped"
    HTTP = "http"


@dataclass(frozen=True, kw_only=True)
class OddAddress:
    """One row: how to make the address from a working one, and outcomes."""

    label: str
    make: Callable[[str], str]
    form_error: str
    saved: Saved
    tariscope: tuple[str, Saved] | None = None
    """Tariscope's own outcome, where an address without a scheme differs."""

    def outcome(self, vendor: str) -> tuple[str, Saved]:
        """The form error and what a saved entry does, for ``vendor``."""
        if vendor == "tariscope" and self.tariscope is not None:
            return self.tariscope
        return self.form_error, self.saved


def _with_userinfo(url: str) -> str:
    return str(URL(url).with_user(USER).with_password(PASSWORD))


def _without_scheme(url: str) -> str:
    parsed = URL(url)
    return f"{parsed.host}:{parsed.port}{parsed.raw_path}"


ODD_ADDRESSES: tuple[OddAddress, ...] = (
    OddAddress(
        label="user name and password (`https://user:pass@host`)",
        make=_with_userinfo,
        form_error="url_credentials",
        saved=Saved.REFUSED,
    ),
    OddAddress(
        label="`file:` scheme",
        make=lambda _: "file:///etc/passwd",
        form_error="url_scheme",
        saved=Saved.REFUSED,
    ),
    OddAddress(
        label="`javascript:` scheme",
        make=lambda _: "javascript:alert(1)",
        form_error="url_scheme",
        saved=Saved.REFUSED,
        tariscope=("url_no_scheme", Saved.REFUSED),
    ),
    OddAddress(
        label="query (`?x=1`)",
        make=lambda url: f"{url}?x=1",
        form_error="url_query",
        saved=Saved.DROPPED,
    ),
    OddAddress(
        label="fragment (`#frag`)",
        make=lambda url: f"{url}#frag",
        form_error="url_query",
        saved=Saved.DROPPED,
    ),
    OddAddress(
        label="no scheme (`host:port`)",
        make=_without_scheme,
        form_error="url_scheme",
        saved=Saved.REFUSED,
        tariscope=("url_no_scheme", Saved.HTTP),
    ),
)


def render_addresses() -> list[str]:
    """The section of ``docs/reliability.md`` on odd server addresses."""
    lines = [
        "## Server addresses",
        "",
        "What the config flow says of an odd server address (the translation",
        "key of the error on the address field, shown before anything is",
        "sent), then what an entry saved with one by an earlier version does",
        "at setup: *refused*: setup fails with a translated error and nothing",
        "is sent, so a user name and password never reach the PBX as Basic",
        "auth nor a device's configuration URL; *dropped*: the entry loads,",
        "the query or fragment is dropped and requests go to the address's",
        "own path; *http*: the entry loads, the address read as `http://`.",
        "",
        "A plain `http://` address to another machine than Home Assistant's",
        "is accepted after a warning step, and a repair issue stays up for as",
        "long as the entry uses it (loopback addresses cross no network and",
        "are exempt).",
        "",
        "| address | " + " | ".join(VENDOR_NAMES.values()) + " |",
        "| --- |" + " --- |" * len(VENDOR_NAMES),
    ]
    for address in ODD_ADDRESSES:
        cells = []
        for vendor in VENDOR_NAMES:
            error, saved = address.outcome(vendor)
            cells.append(f"`{error}`, {saved.value}")
        lines.append(f"| {address.label} | " + " | ".join(cells) + " |")
    lines.append("")
    return lines

"""The secret guard: finds a configured secret wherever a user, a log reader or a
bug report could see it.

``tests/conftest.py`` runs one ``SecretGuard`` around every test. Secrets are
registered as tests configure them: every client built (its settings' secret
fields, what the config entry would store of them, a Basic auth header of its
user and password, and the tokens its sessions add), every config entry of the
integration, and every token the Tariscope simulator issues. A test may add
more with ``secret_guard.register``. After the test, the guard looks for each of
them in:

- every log record (message, arguments, exception and stack text), at DEBUG for
  the integration's own loggers;
- every ``HomeAssistantError`` created, its placeholders and the library errors
  it was raised from, and every library error that escaped to a test;
- every diagnostics dump the integration returned;
- the test module's snapshot file;
- entity states and attributes, and repair issues;
- the device registry's devices of the integration (names, configuration URLs).

It finds a secret as written, URL-, form-, JSON-, PHP- (``\\/``), HTML- and
``repr``-encoded, in any case (``%2f`` for ``%2F``, a lower-cased echo), and
any piece of ``PIECE_LENGTH`` characters of it (a preview cut short; of a JWT,
of its signature). A password in a URL setting (``https://user:pass@host``)
is a secret too.

A test that handles a secret on purpose (say, to prove it is redacted) and
cannot avoid leaving it in one of those places opts out with
``@pytest.mark.handles_secrets("why")``.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping
import contextlib
from dataclasses import dataclass, field
import html
import json
import logging
from pathlib import Path
import re
from types import TracebackType
from typing import Any
from urllib.parse import quote, quote_plus

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from yarl import URL

from custom_components.pbx_hub.client import VENDORS, PbxClient, PbxError
from custom_components.pbx_hub.const import CONF_VENDOR, DOMAIN

MIN_SECRET_LENGTH = 6
"""Shorter values ("abc", "bad") are words as much as secrets: a test that
configures one is not guarded, rather than failed for an unrelated word.
"""
PIECE_LENGTH = 12
"""A leak of this many characters of a secret is a leak (a preview cut short,
a URL truncated): shorter pieces of a secret occur in ordinary text.
"""
TESTS_DIR = Path(__file__).parent
SERVER_LOGGERS = ("aiohttp.access",)
"""The fake servers' own request logs: what a PBX logs of the requests it
receives is the PBX's business, not something PBX Hub shows anyone.
"""
_FORMATTER = logging.Formatter()


def _text(value: Any) -> str:
    """``value`` as text, whatever it is."""
    try:
        return value if isinstance(value, str) else repr(value)
    except Exception:
        return object.__repr__(value)


def _escaped_to_tests(err: BaseException) -> bool:
    """Whether ``err`` was raised up to test code (so a caller saw it), rather
    than caught and replaced inside the library.
    """
    tb: TracebackType | None = err.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).is_relative_to(TESTS_DIR):
            return True
        tb = tb.tb_next
    return False


def _causes(err: BaseException) -> Iterator[BaseException]:
    """``err`` and what it was raised from, as a traceback shows them."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )


def _forms(secret: str) -> set[str]:
    """``secret`` as it reads once a URL, a form, JSON, PHP, HTML or ``repr``
    encoded it, lower-cased: texts are looked at lower-cased too.
    """
    encoded = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        URL.build(query={"k": secret}).raw_query_string.removeprefix("k="),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        json.dumps(secret)[1:-1].replace("/", "\\/"),
        repr(secret)[1:-1],
    }
    for form in list(encoded):
        escaped = html.escape(form)
        encoded |= {escaped, escaped.replace("&#x27;", "&#39;")}
    return {form.lower() for form in encoded}


_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.(?P<signature>[\w-]*)", re.ASCII)


def _pieces(secret: str) -> Iterator[str]:
    """Every ``PIECE_LENGTH`` characters of ``secret``. Of a JWT, only of its
    signature: its header and claims are base64 of JSON that every token of
    the same issuer starts alike, so their pieces are in any other token too.
    """
    if jwt := _JWT.fullmatch(secret):
        secret = jwt["signature"]
    secret = secret.lower()
    for start in range(len(secret) - PIECE_LENGTH + 1):
        yield secret[start : start + PIECE_LENGTH]


def _secrets_in(
    text: str, forms: Mapping[str, str], pieces: Mapping[str, str]
) -> Iterator[str]:
    """The secrets ``text`` shows whole in one of their ``forms``, or of which
    it shows a piece (every ``PIECE_LENGTH`` window of ``text`` is looked up,
    so the cost grows with the text, not with the secrets); in any case.
    """
    text = text.lower()
    for form, secret in forms.items():
        if form in text:
            yield secret
    if pieces:
        for start in range(len(text) - PIECE_LENGTH + 1):
            if (secret := pieces.get(text[start : start + PIECE_LENGTH])) is not None:
                yield secret


class RecordKeeper(logging.Handler):
    """Keeps every record, whatever the test does to ``caplog``."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(SERVER_LOGGERS):
            self.records.append(record)


@dataclass
class SecretGuard:
    """Registered secrets, and what the test showed where secrets must not be."""

    secrets: set[str] = field(default_factory=set)
    clients: list[PbxClient] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    diagnostics: list[Any] = field(default_factory=list)
    log: RecordKeeper = field(default_factory=RecordKeeper)
    earlier_findings: list[str] = field(default_factory=list)
    """What :meth:`checkpoint` found; reported with the test's end."""

    def register(self, *values: Any) -> None:
        """Guard ``values`` (empty, short and non-text ones are ignored)."""
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH:
                self.secrets.add(value)

    def register_settings(self, vendor: str, settings: Mapping[str, Any]) -> None:
        """The secrets of a vendor's settings, as entered and as stored."""
        spec = VENDORS.get(vendor)
        if spec is None:
            return
        with contextlib.suppress(Exception):
            settings = {**settings, **spec.stored(settings)}
        self.register(*(settings.get(key) for key in spec.secret_keys))
        user, password = settings.get("username"), settings.get("password")
        if isinstance(user, str) and isinstance(password, str) and password:
            self._register_basic(user, password)
        for value in settings.values():
            self._register_userinfo(value)

    def _register_basic(self, user: str, password: str) -> None:
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.register(basic, f"Basic {basic}")

    def _register_userinfo(self, value: Any) -> None:
        """The password of a URL that holds one, with its user as Basic auth
        and as written (``user:pass``).
        """
        if not isinstance(value, str) or "@" not in value:
            return
        try:
            url = URL(value.strip())
        except ValueError:
            return
        if url.password:
            self.register(url.password, f"{url.user or ''}:{url.password}")
            self._register_basic(url.user or "", url.password)

    def register_hass(self, hass: HomeAssistant) -> None:
        """The secrets of every config entry of the integration."""
        for entry in hass.config_entries.async_entries(DOMAIN):
            self.register_settings(str(entry.data.get(CONF_VENDOR)), entry.data)

    def forget_findings(self) -> None:
        """Drop what was seen so far (a test that leaked on purpose)."""
        self.log.records.clear()
        self.errors.clear()
        self.diagnostics.clear()

    def checkpoint(self, hass: HomeAssistant | None = None) -> None:
        """Check what was seen so far, then let it go: a long test (a soak)
        need not keep every log record and error alive until its end, where
        the findings are reported all the same.
        """
        self.earlier_findings.extend(self.findings(hass))
        self.log.records.clear()
        self.errors.clear()
        self.diagnostics.clear()

    # ------------------------------------------------------------ what is seen

    def _log_texts(self) -> Iterator[tuple[str, str]]:
        for record in self.log.records:
            where = f"log {record.name}:{record.levelname}"
            with contextlib.suppress(Exception):
                yield where, record.getMessage()
            yield where, _text(record.msg)
            yield where, _text(record.args)
            if record.exc_info:
                yield where, _FORMATTER.formatException(record.exc_info)
            if record.exc_text:
                yield where, record.exc_text
            if record.stack_info:
                yield where, record.stack_info

    def _error_texts(self) -> Iterator[tuple[str, str]]:
        for err in self.errors:
            if isinstance(err, HomeAssistantError):
                chain: Iterable[BaseException] = _causes(err)
            elif _escaped_to_tests(err):
                chain = (err,)
            else:
                continue
            for link in chain:
                where = f"exception {type(link).__name__}"
                with contextlib.suppress(Exception):
                    yield where, str(link)
                yield where, _text(link.args)
                if isinstance(link, HomeAssistantError):
                    yield where, _text(link.translation_placeholders)

    def _hass_texts(self, hass: HomeAssistant) -> Iterator[tuple[str, str]]:
        for state in hass.states.async_all():
            where = f"state of {state.entity_id}"
            yield where, state.state
            yield where, _text(dict(state.attributes))
        for device in dr.async_get(hass).devices:
            if any(domain == DOMAIN for domain, _ in device.identifiers):
                yield (
                    f"device {device.name}",
                    _text((device.name, device.configuration_url, device.model)),
                )
        for (domain, issue_id), issue in ir.async_get(hass).issues.items():
            if domain == DOMAIN:
                yield (
                    f"repair issue {issue_id}",
                    _text((issue.translation_placeholders, issue.data)),
                )

    def findings(
        self,
        hass: HomeAssistant | None = None,
        snapshot_file: Path | None = None,
    ) -> list[str]:
        """Where a registered secret was seen: one line per place and secret."""
        for client in self.clients:
            self.register_settings(client.vendor, client.settings)
            self.register(*client.http.session_secrets)
        if hass is not None:
            self.register_hass(hass)
        texts: list[Iterable[tuple[str, str]]] = [
            self._log_texts(),
            self._error_texts(),
            (("diagnostics", _text(dump)) for dump in self.diagnostics),
        ]
        if hass is not None:
            texts.append(self._hass_texts(hass))
        if snapshot_file is not None and snapshot_file.is_file():
            texts.append(
                [(f"snapshot {snapshot_file.name}", snapshot_file.read_text())]
            )
        forms = {form: secret for secret in self.secrets for form in _forms(secret)}
        pieces = {piece: secret for secret in self.secrets for piece in _pieces(secret)}
        found: dict[str, None] = dict.fromkeys(self.earlier_findings)
        for texts_of_one_kind in texts:
            for where, text in texts_of_one_kind:
                for secret in _secrets_in(text, forms, pieces):
                    found[f"{where}: {secret[:3]}...{secret[-2:]}"] = None
        return list(found)

    # ----------------------------------------------------------------- hooks

    def install(self, patch: Callable[[Any, str, Any], None]) -> None:
        """Hook client and error construction; ``patch`` is monkeypatch.setattr."""
        guard = self
        client_init = PbxClient.__init__

        def register_client(
            client: PbxClient, session: Any, settings: Mapping[str, Any], **kw: Any
        ) -> None:
            guard.register_settings(client.vendor, settings)
            client_init(client, session, settings, **kw)
            guard.clients.append(client)

        patch(PbxClient, "__init__", register_client)

        ha_init = HomeAssistantError.__init__

        def record_ha_error(err: HomeAssistantError, *args: Any, **kw: Any) -> None:
            ha_init(err, *args, **kw)
            guard.errors.append(err)

        patch(HomeAssistantError, "__init__", record_ha_error)

        def record_pbx_error(err: PbxError, *args: Any) -> None:
            Exception.__init__(err, *args)
            guard.errors.append(err)

        patch(PbxError, "__init__", record_pbx_error)

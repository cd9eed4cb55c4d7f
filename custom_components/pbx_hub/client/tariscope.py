"""Tariscope 4.6 client (call accounting, SoftPI).

Transport: ``POST <url>/api/auth`` with ``{"username", "password"}`` answers
``{"token": "<JWT>"}``; every other call is a GET with ``Authorization: Bearer``.
The token lasts 6 hours and is bound to the caller's IP address, so a 401 can
mean an expired token or a new IP: the client signs in again once and retries.
Each API user is granted methods one by one ("Method Rights"); a refused method
is ``PbxPermissionError`` naming it, and the ``sql`` method is never called.

Paths are not uniform; each method's path is in ``PATHS``. Documented (Tariscope's
API guide and the research notes): ``subscriber.get`` at ``/api/subscriber/get/``,
``accounts.summary`` at ``/api/accounts.summary/`` (a dot in the path) and
``accounts.charges`` at ``/api/accounts/charges/``.

Assumptions (no public source):

- ``subscriber.list.department`` and ``subscriber.list.node`` live at
  ``/api/subscriber/list/department/`` and ``/api/subscriber/list/node/`` with
  ``id`` naming the group or node, and answer a list of ``subscriber.get``
  objects (or an object holding one).
- A server URL without a port means Tariscope's default port, 8085.
- ``tariscope.version``, ``database``, ``build``, ``serial``, ``edition`` and
  ``summary`` live at ``/api/tariscope/<name>/`` and answer an object holding
  the value under the method's name (a bare string is read too).
- The JWT's payload carries ``exp`` (and ``iat``), Unix seconds. The lifetime
  is ``exp - iat`` (the server's clock may differ from ours); without them a
  token is taken to last 6 hours. It is renewed 5 minutes before it expires.
- A server address without a scheme means ``http://`` (the guide's examples
  are all ``http://``). The config flow asks for the scheme.
- Money is a JSON number (or a numeric string) in the currency the Tariscope
  installation bills in, which the API does not name.
- Errors are 401 (credentials or token), 403 (method right), 404 (unknown
  subscriber) and 400 (bad parameter), with a JSON body whose ``message`` (or
  ``error``) explains.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
import json
import re
import time
from typing import Any, ClassVar

from yarl import URL

from .abilities import ListsCharges
from .address import URL_NO_SCHEME, base_url
from .base import (
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
    one_read,
)
from .budget import BudgetSpec
from .convert import (
    is_id,
    readable,
    to_datetime,
    to_float,
    to_int,
    to_key,
    to_text,
    unique,
)
from .exceptions import (
    PbxAuthError,
    PbxError,
    PbxInvalidInputError,
    PbxNotFoundError,
    PbxPermissionError,
    PbxResponseError,
)
from .gather import gather_reads
from .http import url_host
from .models import (
    AccountSelection,
    AccountSummary,
    Capability,
    Charge,
    PbxFact,
    PbxInfo,
    Subscriber,
)
from .options import (
    CURRENCY,
    DEPARTMENTS,
    NODES,
    SUBSCRIBERS,
    OptionField,
    OptionKind,
    account_selection,
    currency_code,
)
from .readers import ReadsAccounts
from .rotation import DetailRotation
from .topics import ReadContext, Topic, current_report

CONF_URL = "url"
CONF_USERNAME = "username"
CONF_PASSWORD = "password"  # noqa: S105  (the setting's name)
CONF_VERIFY_SSL = "verify_ssl"

PATHS: dict[str, str] = {
    "subscriber.get": "/api/subscriber/get/",
    "subscriber.list.department": "/api/subscriber/list/department/",
    "subscriber.list.node": "/api/subscriber/list/node/",
    "accounts.summary": "/api/accounts.summary/",
    "accounts.charges": "/api/accounts/charges/",
    **{
        f"tariscope.{name}": f"/api/tariscope/{name}/"
        for name in ("version", "database", "build", "serial", "edition", "summary")
    },
}
DEFAULT_PORT = 8085
_TOKEN = re.compile(r"[!-~]+")
"""A token is sent in a header: printable ASCII without spaces (a JWT is
base64url and dots).
"""
_EMAIL = re.compile(r"[^\s\x00-\x1f\x7f@]{1,64}@[^\s\x00-\x1f\x7f@]{1,189}")
"""An e-mail address as RFC 5321 bounds it (64 before the ``@``, 254 in all),
without spaces or control characters.
"""
TOKEN_LIFETIME = timedelta(hours=6)
RENEW_BEFORE = timedelta(minutes=5)


class _TokenRefusedError(PbxAuthError):
    """A 401 to a call made with a token: expired, or bound to another IP."""


def token_claims(token: str) -> Mapping[str, Any]:
    """The claims of a JWT (unverified: only the server checks them)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        return {}
    return claims if isinstance(claims, Mapping) else {}


def token_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT, in Unix seconds; ``None`` without one."""
    return to_float(token_claims(token).get("exp"))


def token_lifetime(token: str, now: float) -> float:
    """Seconds the token lasts from now, by this computer's clock.

    ``exp - iat`` where both are given, since the server's clock may differ
    from ours; else ``exp - now`` if still ahead; else 6 hours.
    """
    expires = token_expiry(token)
    issued = to_float(token_claims(token).get("iat"))
    if expires is not None and issued is not None and expires > issued:
        return expires - issued
    if expires is not None and expires > now:
        return expires - now
    return TOKEN_LIFETIME.total_seconds()


def _value(body: Any, name: str) -> str | None:
    """A system fact from ``{"<name>": value}``, a one-value object or a string."""
    if isinstance(body, Mapping):
        if name in body:
            return to_key(body[name])
        if len(body) == 1:
            return to_key(next(iter(body.values())))
        return None
    return to_key(body)


def _items(body: Any) -> list[Mapping[str, Any]]:
    """Rows from a list, or an object holding one under a usual key; a list
    none of whose rows is an object is no answer.
    """
    if isinstance(body, Mapping):
        for key in ("data", "items", "subscribers", "charges", "result"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
        else:
            return [body] if body else []
    if not isinstance(body, list):
        raise PbxResponseError("Tariscope: expected a list")
    rows = [row for row in body if isinstance(row, Mapping)]
    if body and not rows:
        raise PbxResponseError("Tariscope: no row of the list is an object")
    return rows


def parse_subscriber(row: Any) -> Subscriber | None:
    """A subscriber from ``subscriber.get``'s fields; ``None`` without an id,
    ``PbxResponseError`` for a row that is no object.
    """
    if not isinstance(row, Mapping):
        raise PbxResponseError("Tariscope: a subscriber is not an object")
    subscriber_id = to_key(row.get("id"))
    if subscriber_id is None:
        return None
    return Subscriber(
        id=subscriber_id,
        name=to_text(row.get("fullname")) or subscriber_id,
        email=to_text(row.get("email")),
    )


def parse_summary(subscriber: Subscriber, body: Any) -> AccountSummary:
    """``accounts.summary``: start and end debt, charge and payment."""
    if isinstance(body, list):
        body = body[0] if body else {}
    if not isinstance(body, Mapping):
        raise PbxResponseError("Tariscope: accounts.summary is not an object")
    return AccountSummary(
        subscriber=subscriber,
        start_debt=to_float(body.get("start_debt")),
        end_debt=to_float(body.get("end_debt")),
        charges=to_float(body.get("charge")),
        payments=to_float(body.get("payment")),
    )


def parse_charges(body: Any) -> list[Charge]:
    """``accounts.charges`` rows, in the order given."""
    return [
        Charge(
            id=to_key(row.get("id")) or str(index),
            recorded_at=to_datetime(row.get("recdate")),
            start=to_datetime(row.get("fromdate")),
            end=to_datetime(row.get("todate")),
            service=to_text(row.get("servicename")),
            amount=to_float(row.get("charge")),
            count=to_int(row.get("numberofservices")),
        )
        for index, row in enumerate(_items(body))
    ]


class PbxOtherSubscriberError(PbxResponseError):
    """``subscriber.get`` answered a subscriber other than the one asked for."""


def _same_subscriber(subscriber: Subscriber, wanted: str) -> bool:
    """Whether ``subscriber`` is the one asked for as ``wanted``: ids as
    numbers (``007`` is ``7``), e-mail addresses without regard to case (as
    Tariscope matches them).
    """
    if "@" in wanted:
        return (subscriber.email or "").casefold() == wanted.casefold()
    return is_id(subscriber.id) and int(subscriber.id) == int(wanted)


class TariscopeClient(PbxClient, ReadsAccounts, ListsCharges):
    """One Tariscope installation, through one API user."""

    vendor = "tariscope"
    capabilities = frozenset({Capability.ACCOUNTS, Capability.CHARGES})
    read_costs: ClassVar[Mapping[Capability, int]] = {Capability.ACCOUNTS: 3}
    """A few lists plus one summary per subscriber; sized for a handful."""
    max_items: ClassVar[Mapping[Capability, int]] = {
        Capability.ACCOUNTS: 5000,  # subscribers followed
        Capability.CHARGES: 10000,  # charges one get_charges returns
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Not signed in yet."""
        super().__init__(*args, **kwargs)
        self._token: str | None = None
        self._renew_at = 0.0
        self._login_lock = asyncio.Lock()
        self.logins = 0
        """How often the client signed in: once per token lifetime, ideally."""
        self._names: dict[str, Subscriber] = {}
        self._looked_up = 0
        self._summaries: DetailRotation[Any] = DetailRotation()
        """Each subscriber's summary of ``_summary_month`` (``None``: deleted),
        read a share of the budget at a time.
        """
        self._summary_month: date | None = None

    @classmethod
    def server_address(
        cls, settings: Mapping[str, Any], *, as_entered: bool = False
    ) -> URL:
        """The server; without a port in the URL, Tariscope's default 8085.
        A saved address without a scheme means ``http://``, as Tariscope's
        guide writes its addresses; a form's answer must name its scheme, so
        that plain http is never chosen without the user seeing it.
        """
        text = str(settings.get(CONF_URL) or "").strip()
        if "://" not in text:
            if as_entered:
                raise PbxInvalidInputError(
                    "The server address must start with https:// or http://",
                    reason=URL_NO_SCHEME,
                )
            text = f"http://{text}"
        url = base_url(text, as_entered=as_entered)
        return url if url.explicit_port is not None else url.with_port(DEFAULT_PORT)

    @property
    def _base(self) -> URL:
        return self.server_address(self.settings)

    def _explainer(self, method: str, *, with_token: bool) -> Any:
        def explain(status: int, text: str) -> PbxError | None:
            detail = self.http.error_detail(status, text, "message", "error")
            message = f"Tariscope {method}: {detail}"
            if status == 401:
                return (_TokenRefusedError if with_token else PbxAuthError)(message)
            if status == 403:
                return PbxPermissionError(message, permission=method)
            if status == 404:
                return PbxNotFoundError(message)
            if status == 400:
                return PbxInvalidInputError(message)
            return None

        return explain

    async def _login(self) -> None:
        self.logins += 1
        response = await self.http.request(
            "POST",
            str(self._base.with_path("/api/auth")),
            json_body={
                "username": str(self.settings.get(CONF_USERNAME) or ""),
                "password": str(self.settings.get(CONF_PASSWORD) or ""),
            },
            explain_error=self._explainer("api.auth", with_token=False),
        )
        body = await self.http.read_json(response.text)
        token = to_text(body.get("token")) if isinstance(body, Mapping) else None
        if token is None:
            raise PbxResponseError("Tariscope api.auth: no token in the answer")
        if not _TOKEN.fullmatch(token):
            # A line break or space would end the Authorization header: the
            # answer is broken, the credentials are not wrong (no reauth).
            raise PbxResponseError("Tariscope api.auth: the token is malformed")
        now = time.time()
        lifetime = token_lifetime(token, now)
        # Five minutes early, or a tenth of a short token's life.
        margin = min(RENEW_BEFORE.total_seconds(), lifetime / 10)
        self.http.session_secrets = {token}
        self._token = token
        self._renew_at = now + lifetime - margin

    async def _signed_in(self, stale: str | None = None) -> str:
        """A token that is not about to expire; a new one if ``stale`` is the
        current one (refused by the server).
        """
        async with self._login_lock:
            if (
                self._token is None
                or self._token == stale
                or time.time() >= self._renew_at
            ):
                await self._login()
            assert self._token is not None
            return self._token

    async def _get(self, method: str, params: Mapping[str, str] | None = None) -> Any:
        """Call ``method``; after a 401, sign in again once and retry."""
        token = await self._signed_in()
        try:
            return await self._get_with(method, token, params)
        except _TokenRefusedError:
            token = await self._signed_in(stale=token)
        try:
            return await self._get_with(method, token, params)
        except _TokenRefusedError as err:
            raise PbxAuthError(str(err)) from None

    async def _get_with(
        self, method: str, token: str, params: Mapping[str, str] | None
    ) -> Any:
        response = await self.http.request(
            "GET",
            str(self._base.with_path(PATHS[method])),
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            explain_error=self._explainer(method, with_token=True),
        )
        if not response.text.strip():
            return None
        return await self.http.read_json(response.text)

    async def async_identify(self) -> PbxInfo:
        """Sign in and read the system facts; the licence serial is the identity."""
        serial = _value(await self._get("tariscope.serial"), "serial")
        if serial is None:
            raise PbxResponseError("Tariscope: the serial number is empty")
        version, edition, database, build = await gather_reads(
            *(self._fact(name) for name in ("version", "edition", "database", "build"))
        )
        facts = tuple(
            PbxFact(key=key, value=value, translation_key=translation_key)
            for key, translation_key, value in (
                ("database", "database_version", database),
                ("build", "build", build),
            )
            if value is not None
        )
        return PbxInfo(
            unique_id=serial,
            name=f"Tariscope {self._base.host or ''}".strip(),
            manufacturer="SoftPI",
            model=f"Tariscope {edition}" if edition else "Tariscope",
            sw_version=version,
            configuration_url=str(self._base.with_path("/")),
            serial_number=serial,
            facts=(*facts, *await self._summary()),
        )

    async def _summary(self) -> tuple[PbxFact, ...]:
        """``tariscope.summary``'s figures, as ``summary_<key>`` facts for
        diagnostics.
        """
        try:
            body = await self._get("tariscope.summary")
        except PbxPermissionError:
            return ()
        if not isinstance(body, Mapping):
            return ()
        return tuple(
            PbxFact(key=f"summary_{key}", value=str(value))
            for key, value in body.items()
            if isinstance(value, int | float | str)
            and not isinstance(value, bool)
            and key != "serial"  # the identity, kept once, where it is redacted
        )

    async def _fact(self, name: str) -> str | None:
        """One ``tariscope.<name>`` fact; ``None`` where the right is missing."""
        try:
            return _value(await self._get(f"tariscope.{name}"), name)
        except PbxPermissionError:
            return None

    @one_read(Capability.ACCOUNTS)
    async def async_get_accounts(
        self, selection: AccountSelection, month: date
    ) -> dict[str, AccountSummary]:
        """The selected subscribers (ids or e-mails, departments, nodes) and
        their ``accounts.summary`` for ``month``, one request each, as many
        as this read may send: the others keep the summary read last (a
        subscriber whose summary was never read is left out).
        """
        subscribers = self._at_most(
            Capability.ACCOUNTS, await self._subscribers(selection)
        )
        if month != self._summary_month:  # last month's figures are not this one's
            self._summaries = DetailRotation()
            self._summary_month = month
        asked = await self._summaries.read(
            subscribers,
            self.http.budget.read_left(),
            lambda subscriber_id: self._account_summary(
                subscribers[subscriber_id], month
            ),
        )
        # The lists, the subscribers read by id, then one summary each.
        current_report().cost = (
            len(selection.departments) + len(selection.nodes) + self._looked_up
        ) + asked
        accounts: dict[str, AccountSummary] = {}
        for subscriber_id in self._summaries.read_so_far(subscribers):
            subscriber = subscribers[subscriber_id]
            if (body := self._summaries.get(subscriber_id)) is None:
                self._gone(subscriber, selection)
            else:
                accounts[subscriber.id] = parse_summary(subscriber, body)
        return accounts

    async def _account_summary(self, subscriber: Subscriber, month: date) -> Any:
        """``accounts.summary`` of one subscriber; ``None`` when Tariscope no
        longer knows it (deleted since it was listed or looked up).
        """
        try:
            return await self._get(
                "accounts.summary",
                {
                    "id": subscriber.id,
                    "year": str(month.year),
                    "month": str(month.month),
                },
            )
        except PbxNotFoundError:
            return None

    def _gone(self, subscriber: Subscriber, selection: AccountSelection) -> None:
        """A subscriber deleted since it was listed or looked up: named as
        the options name it (as the next poll's look-up will), and its
        looked-up names dropped, so the next poll asks again and notices it
        deleted, or back.
        """
        named = {
            wanted
            for wanted in selection.ids
            if (known := self._names.get(wanted)) and known.id == subscriber.id
        }
        current_report().missing.update(named or {subscriber.id})
        self._names = {
            name: known
            for name, known in self._names.items()
            if known.id != subscriber.id
        }

    async def _subscribers(self, selection: AccountSelection) -> dict[str, Subscriber]:
        """The selected subscribers. A list the user may not read is left out
        and named in the read's report (``refused``): the others still count.
        """
        lists = await gather_reads(
            *(
                self._list(kind, group)
                for kind, groups in (
                    ("department", selection.departments),
                    ("node", selection.nodes),
                )
                for group in groups
            )
        )
        found: dict[str, Subscriber] = {}
        for body in lists:
            # A subscriber may be in a department's list and a node's; in one
            # list twice, the list is not understood.
            rows = self._at_most(Capability.ACCOUNTS, _items(body))
            listed = readable(rows, parse_subscriber, "Tariscope")
            found |= unique(((s.id, s) for s in listed), "Tariscope")
        self._looked_up = 0
        for wanted in selection.ids:
            subscriber = found.get(wanted) or self._names.get(wanted)
            if subscriber is None:
                if self.http.budget.read_left() == 0:
                    continue  # looked up at a later read, with room to ask
                self._looked_up += 1
                try:
                    subscriber = await self.async_get_subscriber(wanted)
                except PbxOtherSubscriberError:
                    # That subscriber's figures only: the others still count.
                    continue
                except PbxNotFoundError:
                    # Deleted: its figures only, and the user is told.
                    current_report().missing.add(wanted)
                    continue
                # Under what the user wrote too (``007`` for ``7``): no
                # second look-up at the next poll.
                self._names[wanted] = subscriber
            found[subscriber.id] = subscriber
        self._names.update(found)
        self._names.update({s.email: s for s in found.values() if s.email})
        return found

    async def _list(self, kind: str, group: str) -> Any:
        try:
            return await self._get(f"subscriber.list.{kind}", {"id": group})
        except PbxPermissionError as err:
            current_report().refused.add(err.permission or f"subscriber.list.{kind}")
            return []

    async def async_get_subscriber(self, wanted: str) -> Subscriber:
        """``subscriber.get`` by id, or by e-mail when ``wanted`` has an ``@``."""
        key = "email" if "@" in wanted else "id"
        if not (is_id(wanted) or _EMAIL.fullmatch(wanted)):
            raise PbxInvalidInputError(
                f"{wanted[:40]!r} is neither an id nor an e-mail address"
            )
        # An id as Tariscope writes it: ``007`` is subscriber ``7``.
        asked = wanted if key == "email" else str(int(wanted))
        rows = _items(await self._get("subscriber.get", {key: asked}))
        if not rows:
            raise PbxNotFoundError(f"Tariscope has no subscriber {wanted}")
        subscriber = parse_subscriber(rows[0])
        if subscriber is None:  # a row, but garbled: not the user's mistake
            raise PbxResponseError("Tariscope: subscriber.get answered no id")
        if not _same_subscriber(subscriber, wanted):
            raise PbxOtherSubscriberError(
                "Tariscope: subscriber.get answered another subscriber"
            )
        return subscriber

    async def async_get_charges(
        self, subscriber_id: str, start: date, end: date
    ) -> list[Charge]:
        """``accounts.charges`` from the start of ``start`` to the end of ``end``."""
        if end < start:
            raise PbxInvalidInputError("The period ends before it starts")
        if not is_id(subscriber_id):
            raise PbxInvalidInputError("A Tariscope subscriber id is a number")
        body = await self._get(
            "accounts.charges",
            {
                "id": subscriber_id,
                "fromdate": start.isoformat(),
                "todate": end.isoformat(),
            },
        )
        self._at_most(Capability.CHARGES, _items(body))
        return parse_charges(body)

    @classmethod
    def budget_scope(
        cls, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """One budget per Tariscope server."""
        return url_host(str(settings.get(CONF_URL, "")))


async def _check_options(
    client: PbxClient, options: Mapping[str, Any], today: date
) -> dict[str, str]:
    """The followed subscribers must exist and be readable."""
    selection = account_selection(options)
    if selection == AccountSelection() or not isinstance(client, TariscopeClient):
        return {}
    now = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    try:
        read = await client.async_read(
            Topic.ACCOUNTS, ReadContext.at(now, accounts=selection)
        )
    except PbxPermissionError:
        return {"base": "missing_permission"}
    except PbxInvalidInputError:
        return {SUBSCRIBERS: "subscriber_not_found"}
    except PbxError:
        return {"base": "cannot_connect"}
    # A poll leaves a deleted subscriber out; the options must not choose one.
    return {SUBSCRIBERS: "subscriber_not_found"} if read.missing else {}


SPEC = VendorSpec(
    key="tariscope",
    name="Tariscope",
    client_class=TariscopeClient,
    fields=(
        SettingField(key=CONF_URL, kind=FieldKind.URL),
        SettingField(key=CONF_USERNAME),
        SettingField(key=CONF_PASSWORD, kind=FieldKind.PASSWORD),
        SettingField(
            key=CONF_VERIFY_SSL,
            kind=FieldKind.BOOLEAN,
            required=False,
            default=True,
        ),
    ),
    budget=BudgetSpec(limit=1800, window=3600, backoff_start=60),
    options=(
        OptionField(key=SUBSCRIBERS, kind=OptionKind.LIST),
        OptionField(key=DEPARTMENTS, kind=OptionKind.LIST),
        OptionField(key=NODES, kind=OptionKind.LIST),
        OptionField(key=CURRENCY, check=currency_code),
    ),
    check_options=_check_options,
)

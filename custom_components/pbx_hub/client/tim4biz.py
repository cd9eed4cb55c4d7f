"""TIM4biz call-accounting client.

Transport: ``<url><Method>`` (default ``https://api.tim4biz.com/api/``) with HTTP
Basic authentication (in UTF-8, RFC 7617); reads are GET and writes POST, and the
wrong verb is a 400.
Status codes (TIM4biz's support page): 400 bad parameter, missing range, too long
a period or wrong verb; 401 unauthorized; 403 not licensed; 404 value not found;
429 rate limit used up (or zero). Every answer carries ``TIM4biz-Rate-Limit-*``
headers for a 60-minute and a 24-hour window; they feed the request budget, so
polling slows down as the account's calls run out, whoever spends them.

Assumptions (TIM4biz publishes little beyond the above):

- ``ExtensionTotal`` takes ``from`` and ``to`` as ISO 8601 local date-times
  without an offset (the support page's example) and answers a JSON list (or an
  object holding one) with a row per extension. Keys are matched without regard
  to case: the extension under ``Extension``/``Ext``/``Number``, ``Name``,
  calls under ``Calls``/``Count``/``TotalCalls``, talk time under
  ``Duration``/``TalkTime`` in seconds or ``h:mm:ss``, and ``Cost``/``TotalCost``
  in the account's currency.
- A 400 whose message speaks of the period (``period``, ``too long``, ``range``)
  means the range is too long: the client halves it and adds the halves up.
- ``SetSMS`` is a POST with a JSON body ``{"recipient", "message"}``; a message
  may be up to 918 characters (six concatenated SMS parts) and a recipient is an
  optional ``+`` and 6 to 15 digits (E.164's longest).
- Error bodies are ``{"Message": "..."}``.
- TIM4biz does not publish its default limit. The client's own budget assumes
  60 requests per hour; the headers then slow polling further when fewer are
  left (they do not raise the budget: an account allowed more is polled at the
  same pace, which the default 15-minute interval keeps far below 60).
- Halves of a split range meet at the same instant (``to`` of one is ``from``
  of the next): the client takes ``to`` as exclusive, as the range is a period.
- ``ExtensionTotal`` needs the call accounting licence and ``SetSMS`` the
  messaging licence (the support page's examples say so); a 403 names the one
  the method needs.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Coroutine, Mapping, Sequence
import contextlib
from datetime import datetime, timedelta
import re
from typing import Any, ClassVar

from yarl import URL

from .abilities import SendsSms
from .address import join_path
from .base import (
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
    dialled_number,
    one_read,
)
from .budget import BudgetSpec
from .convert import readable, to_float, to_int, to_key, to_text, unique
from .exceptions import (
    PbxAuthError,
    PbxError,
    PbxInvalidInputError,
    PbxNotFoundError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
)
from .models import Capability, ExtensionUsage, PbxInfo, RateLimitStatus
from .options import (
    CURRENCY,
    SMS_RECIPIENT,
    OptionField,
    OptionKind,
    currency_code,
)
from .readers import ReadsUsage, ReportsRateLimits
from .topics import Notice, current_report

CONF_URL = "url"
CONF_USERNAME = "username"
CONF_PASSWORD = "password"  # noqa: S105  (the setting's name)
DEFAULT_URL = "https://api.tim4biz.com/api/"

HOUR = 3600.0
DAY = 86400.0
HEADER_LIMIT = "TIM4biz-Rate-Limit-Limit"
HEADER_REMAINING = "TIM4biz-Rate-Limit-Remaining"
HEADER_LIMIT_DAY = "TIM4biz-Rate-Limit-Limit-24-Hours"
HEADER_REMAINING_DAY = "TIM4biz-Rate-Limit-Remaining-24-Hours"
HEADER_API_URL = "TIM4biz-API-URL"
HEADER_AUTHENTICATION = "TIM4biz-Authentication"

LICENCES = {"ExtensionTotal": "call accounting", "SetSMS": "messaging"}
MAX_SPLITS = 6
"""How often a range may be halved: 2**6 parts are more than a year's days."""
MAX_SMS_LENGTH = 918
_SMS_RECIPIENT = re.compile(r"\+?\d{6,15}")
_PERIOD_WORDS = ("period", "too long")
"""Not "range": TIM4biz's own example of another 400 is "datetime range was not
supplied", which splitting cannot fix.
"""
MIN_SPLIT = timedelta(days=1)
_CLOCK = re.compile(r"(?:(\d+)\.)?(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.\d+)?")


def _basic_authorization(username: str, password: str) -> str:
    """RFC 7617 Basic credentials, in UTF-8 (aiohttp's ``BasicAuth`` is
    deprecated). A ":" in the user name cannot be sent: ``ValueError``.
    """
    if ":" in username:
        raise ValueError("A ':' cannot be sent in a Basic user name")
    credentials = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


class _PeriodTooLongError(PbxInvalidInputError):
    """A 400 about the length of the requested range."""


def _field(row: Mapping[str, Any], *names: str) -> Any:
    """The value of the first of ``names`` in ``row``, ignoring case."""
    lowered = {str(key).lower(): value for key, value in row.items()}
    for name in names:
        if (value := lowered.get(name)) not in (None, ""):
            return value
    return None


def _seconds(value: Any) -> int | None:
    """Seconds from a number or a .NET time span: ``h:mm:ss``, ``mm:ss``,
    ``d.hh:mm:ss`` (over a day) and fractions (``00:02:05.5000000``).
    """
    if isinstance(value, str) and (match := _CLOCK.fullmatch(value.strip())):
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    return to_int(value)


def _money(value: Any) -> float | None:
    """An amount; thousands separators (``1,234.56``) are dropped."""
    if isinstance(value, str) and "," in value and "." in value:
        value = value.replace(",", "")
    return to_float(value)


def usage_rows(body: Any) -> list[Any]:
    """The rows of an ``ExtensionTotal`` answer: the list itself or the one
    an object holds; ``None`` (a 204) is no rows, anything else an error.
    """
    rows = body
    if isinstance(body, Mapping):
        rows = _field(body, "data", "extensions", "items", "results", "value")
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise PbxResponseError("TIM4biz: ExtensionTotal holds no list")
    return rows


def parse_usage(body: Any) -> dict[str, ExtensionUsage]:
    """``ExtensionTotal`` rows by extension; rows without an extension are
    skipped; ``None`` (a 204) is no rows. An answer that holds no list, or
    whose rows none can be read, is an error: read as "no calls", it would zero
    every counter.
    """
    read = readable(usage_rows(body), _usage_row, "TIM4biz: ExtensionTotal")
    return unique(((row.extension, row) for row in read), "TIM4biz: ExtensionTotal")


def _usage_row(row: Any) -> ExtensionUsage | None:
    """One row of ``ExtensionTotal``; ``None`` without an extension."""
    if not isinstance(row, Mapping):
        return None
    extension = to_key(_field(row, "extension", "ext", "number", "extensionnumber"))
    if extension is None:
        return None
    return ExtensionUsage(
        extension=extension,
        name=to_text(_field(row, "name", "extensionname", "description")),
        calls=to_int(_field(row, "calls", "count", "totalcalls", "numberofcalls")),
        talk_seconds=_seconds(
            _field(row, "duration", "talktime", "totalduration", "seconds")
        ),
        cost=_money(_field(row, "cost", "totalcost", "charge", "amount")),
    )


def _add(first: int | float | None, second: int | float | None) -> Any:
    if first is None:
        return second
    if second is None:
        return first
    return first + second


def merge_usage(
    first: Mapping[str, ExtensionUsage], second: Mapping[str, ExtensionUsage]
) -> dict[str, ExtensionUsage]:
    """The usage of two adjacent periods, added up per extension."""
    merged = dict(first)
    for extension, usage in second.items():
        if (earlier := merged.get(extension)) is None:
            merged[extension] = usage
            continue
        merged[extension] = ExtensionUsage(
            extension=extension,
            name=earlier.name or usage.name,
            calls=_add(earlier.calls, usage.calls),
            talk_seconds=_add(earlier.talk_seconds, usage.talk_seconds),
            cost=None
            if earlier.cost is None and usage.cost is None
            else round(_add(earlier.cost, usage.cost), 4),
        )
    return merged


async def _together[T](
    first: Coroutine[Any, Any, T], second: Coroutine[Any, Any, T]
) -> tuple[T, T]:
    """Both results; when one fails the other stops at once (a TaskGroup),
    and the failure is raised as itself, not inside the ``ExceptionGroup`` a
    TaskGroup raises, which no caller catching ``PbxError`` would see. When
    both halves fail, the error that asks most of the user wins (see
    ``_most_telling``).
    """
    try:
        async with asyncio.TaskGroup() as group:
            one = group.create_task(first)
            two = group.create_task(second)
    except ExceptionGroup as failed:
        raise _most_telling(failed.exceptions) from None
    return one.result(), two.result()


def _most_telling(errors: Sequence[BaseException]) -> BaseException:
    """Wrong credentials first (reauthentication, which no retry fixes), then a
    rate limit (polling pauses), then whichever came first.
    """
    for kind in (PbxAuthError, PbxRateLimitError):
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


def _local_text(moment: datetime) -> str:
    """A date-time as TIM4biz takes it: local, to the second, without offset."""
    return moment.replace(tzinfo=None, microsecond=0).isoformat()


def sms_recipient(recipient: str) -> str:
    """A recipient of 6 to 15 digits after an optional ``+``, as dialled."""
    try:
        number = dialled_number(recipient)
    except PbxInvalidInputError as err:
        raise PbxInvalidInputError(str(err), reason="sms_recipient") from None
    if not _SMS_RECIPIENT.fullmatch(number):
        raise PbxInvalidInputError(
            "An SMS recipient is 6 to 15 digits, optionally after a +",
            reason="sms_recipient",
        )
    return number


class Tim4bizClient(PbxClient, ReadsUsage, ReportsRateLimits, SendsSms):
    """One TIM4biz company account, through an API-enabled user."""

    vendor = "tim4biz"
    default_url = DEFAULT_URL
    capabilities = frozenset({Capability.EXTENSION_USAGE, Capability.SEND_SMS})
    read_costs: ClassVar[Mapping[Capability, int]] = {Capability.EXTENSION_USAGE: 2}
    """Today and the month so far."""
    max_items: ClassVar[Mapping[Capability, int]] = {
        Capability.EXTENSION_USAGE: 5000,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing reported yet."""
        super().__init__(*args, **kwargs)
        self._rate_limit: RateLimitStatus | None = None
        self._longest: timedelta | None = None
        """The longest period TIM4biz may take, once it refused a longer one."""

    @property
    def _base(self) -> URL:
        return self.server_address(self.settings)

    @property
    def rate_limit_status(self) -> RateLimitStatus | None:
        """The limits and what is left, from the last answer's headers."""
        return self._rate_limit

    def _read_headers(self, headers: Mapping[str, str]) -> None:
        status = RateLimitStatus(
            hourly_limit=to_int(headers.get(HEADER_LIMIT)),
            hourly_remaining=to_int(headers.get(HEADER_REMAINING)),
            daily_limit=to_int(headers.get(HEADER_LIMIT_DAY)),
            daily_remaining=to_int(headers.get(HEADER_REMAINING_DAY)),
        )
        if status != RateLimitStatus():
            self._rate_limit = status
            self.http.budget.report(HOUR, status.hourly_remaining)
            self.http.budget.report(DAY, status.daily_remaining)
        # Noticed per read: another API address, another sign-in scheme.
        notices = current_report().notices
        api_url = to_text(headers.get(HEADER_API_URL))
        if api_url is not None and _usable_api_url(api_url):
            if _same_url(api_url, str(self._base)):
                notices.pop(Notice.API_URL, None)
            else:
                notices[Notice.API_URL] = api_url
        scheme = to_text(headers.get(HEADER_AUTHENTICATION))
        if scheme is not None and scheme.upper() != "BASIC":
            notices[Notice.AUTHENTICATION] = scheme
        else:
            notices.pop(Notice.AUTHENTICATION, None)

    def _explainer(self, method: str) -> Any:
        def explain(status: int, text: str) -> PbxError | None:
            detail = self.http.error_detail(status, text, "message", "error", "detail")
            message = f"TIM4biz {method}: {detail}"
            if status == 400:
                if any(word in message.lower() for word in _PERIOD_WORDS):
                    return _PeriodTooLongError(message)
                return PbxInvalidInputError(message)
            if status == 401:
                return PbxAuthError(message)
            if status == 403:
                return PbxPermissionError(message, permission=LICENCES.get(method))
            if status == 404:
                return PbxNotFoundError(message)
            return None

        return explain

    async def _call(
        self,
        http_method: str,
        method: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
    ) -> Any:
        try:
            # UTF-8 (RFC 7617): a password with "€" or Cyrillic cannot be
            # sent in Latin-1, aiohttp's default.
            authorization = _basic_authorization(
                str(self.settings.get(CONF_USERNAME) or ""),
                str(self.settings.get(CONF_PASSWORD) or ""),
            )
        except UnicodeEncodeError:
            # A lone surrogate, which no encoding can send.
            raise PbxAuthError(
                "A TIM4biz user name or password holds a character that cannot be sent"
            ) from None
        except ValueError:
            # Basic authentication cannot carry a ":" in the user name.
            raise PbxAuthError("A TIM4biz user name cannot hold ':'") from None
        response = await self.http.request(
            http_method,
            str(join_path(self._base, method)),
            params=params,
            json_body=json_body,
            headers={"Authorization": authorization},
            explain_error=self._explainer(method),
            on_headers=self._read_headers,
            write=http_method != "GET",
        )
        if not response.text.strip():
            # ASP.NET answers 204 for nothing; an empty 200 is a broken answer
            # (but for SetSMS, which returns nothing to read).
            if response.status == 204 or method == "SetSMS":
                return None
            raise PbxResponseError(f"TIM4biz: {method} answered an empty body")
        return await self.http.read_json(response.text)

    @classmethod
    def budget_scope(
        cls, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """The API user, as the identity is: the limit is the company's and
        the API names no company, but a user is one company's (two users of
        one company count apart here; the rate-limit headers count both).
        Neither its password nor the host (TIM4biz moves its API) changes
        the account.
        """
        return str(settings.get(CONF_USERNAME) or "").lower()

    async def async_identify(self) -> PbxInfo:
        """Check the user with one ``ExtensionTotal`` of the last minute; a
        missing licence (403) still proves the credentials.
        """
        now = datetime.now().astimezone()
        with contextlib.suppress(PbxPermissionError):
            await self._call(
                "GET",
                "ExtensionTotal",
                params={
                    "from": _local_text(now.replace(hour=0, minute=0, second=0)),
                    "to": _local_text(now),
                },
            )
        username = str(self.settings.get(CONF_USERNAME) or "").lower()
        return PbxInfo(
            # The user, not the host: TIM4biz moves its API between hosts.
            unique_id=f"tim4biz_{username}",
            name=f"TIM4biz {username}",
            manufacturer="TIM4biz",
            model="Call accounting",
            configuration_url="https://tim4biz.com/",
        )

    @one_read(Capability.EXTENSION_USAGE)
    async def async_get_extension_usage(
        self, start: datetime, end: datetime
    ) -> dict[str, ExtensionUsage]:
        """``ExtensionTotal`` from ``start`` to ``end``, split when TIM4biz
        says the period is too long, and from then on split up front into the
        length it took, so no later poll asks for a refused length again.
        """
        if self._longest is not None and end - start > self._longest:
            middle = start + self._longest
            return self._at_most(
                Capability.EXTENSION_USAGE,
                merge_usage(
                    *await _together(
                        self._usage(start, middle, MAX_SPLITS),
                        self.async_get_extension_usage(middle, end),
                    )
                ),
            )
        return await self._usage(start, end, MAX_SPLITS)

    async def _usage(
        self, start: datetime, end: datetime, splits_left: int
    ) -> dict[str, ExtensionUsage]:
        try:
            body = await self._call(
                "GET",
                "ExtensionTotal",
                params={"from": _local_text(start), "to": _local_text(end)},
            )
        except _PeriodTooLongError:
            if splits_left <= 0 or end - start <= MIN_SPLIT:
                raise
            middle = start + (end - start) / 2
            # Remember: later reads split before asking.
            self._longest = min(self._longest or middle - start, middle - start)
            return self._at_most(
                Capability.EXTENSION_USAGE,
                merge_usage(
                    *await _together(
                        self._usage(start, middle, splits_left - 1),
                        self._usage(middle, end, splits_left - 1),
                    )
                ),
            )
        self._at_most(Capability.EXTENSION_USAGE, usage_rows(body))
        return parse_usage(body)

    def check_sms(self, recipient: str, message: str) -> tuple[str, str]:
        """A recipient of 6 to 15 digits after an optional ``+``, and a message
        of 1 to 918 characters.
        """
        number = sms_recipient(recipient)
        text = message.strip()
        if not text or len(text) > MAX_SMS_LENGTH:
            raise PbxInvalidInputError(
                f"An SMS holds 1 to {MAX_SMS_LENGTH} characters", reason="sms_length"
            )
        return number, text

    async def async_send_sms(self, recipient: str, message: str) -> None:
        """``SetSMS``, after ``check_sms``."""
        number, text = self.check_sms(recipient, message)
        await self._call(
            "POST", "SetSMS", json_body={"recipient": number, "message": text}
        )


def _usable_api_url(url: str) -> bool:
    """Only an https address on TIM4biz's own domain, with no user name,
    password, query or fragment, may receive the credentials: a header is no
    reason to send them anywhere else.
    """
    try:
        parsed = URL(url.strip())
    except ValueError:
        # "http://[" or a port out of range: no address at all.
        return False
    host = (parsed.host or "").lower()
    return (
        parsed.is_absolute()
        and parsed.scheme == "https"
        and (host == "tim4biz.com" or host.endswith(".tim4biz.com"))
        and parsed.raw_user is None
        and parsed.raw_password is None
        and not parsed.raw_query_string
        and not parsed.raw_fragment
    )


def _same_url(first: str, second: str) -> bool:
    """Whether two API addresses are the same, whatever the trailing slash or
    the case of the host.
    """
    one, other = URL(first.strip()), URL(second.strip())
    return (
        one.scheme.lower(),
        (one.host or "").lower(),
        one.port,
        one.path.rstrip("/"),
    ) == (
        other.scheme.lower(),
        (other.host or "").lower(),
        other.port,
        other.path.rstrip("/"),
    )


SPEC = VendorSpec(
    key="tim4biz",
    name="TIM4biz",
    client_class=Tim4bizClient,
    fields=(
        SettingField(key=CONF_URL, kind=FieldKind.URL, default=DEFAULT_URL),
        SettingField(key=CONF_USERNAME),
        SettingField(key=CONF_PASSWORD, kind=FieldKind.PASSWORD),
    ),
    budget=BudgetSpec(limit=60, window=HOUR, backoff_start=60),
    options=(
        OptionField(key=SMS_RECIPIENT, kind=OptionKind.PHONE, check=sms_recipient),
        OptionField(key=CURRENCY, check=currency_code),
    ),
)

"""What client errors mean to users, what the options mean, how actions run."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .client import (
    EVENT_LOOKBACK,
    VENDORS,
    PbxAnswerLostError,
    PbxAuthError,
    PbxCallFailedError,
    PbxClient,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxNoCallError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxRequestCapError,
    PbxResponseError,
    PbxTooManyItemsError,
    PbxUnsupportedError,
    ReadContext,
    Topic,
    account_selection,
    for_action,
)
from .client.poll_issues import CLOCK_SKEW, TOO_MANY_ITEMS
from .client.poll_plan import PollPlan, cadence_costs, plan_polls
from .client.titles import title_placeholders
from .const import CONF_FAST_INTERVAL, CONF_SLOW_INTERVAL, DOMAIN
from .repairs import (
    MISSING_PERMISSION,
    MISSING_PERMISSION_UNNAMED,
    is_removed,
    issue_id,
)

WRITE_UNCONFIRMED = "write_unconfirmed"


def needs_reauth(err: PbxError) -> bool:
    """Whether new credentials are the fix (not for an IP missing from a whitelist)."""
    return isinstance(err, PbxAuthError) and not isinstance(err, PbxNotWhitelistedError)


def may_have_been_done(err: PbxError) -> bool:
    """Whether a write failing with ``err`` may have been carried out all the same."""
    if isinstance(err, PbxRefusedError):
        return False  # the PBX said no
    return isinstance(err, PbxAnswerLostError | PbxResponseError)


def error_translation(
    err: PbxError, *, write: bool = False
) -> tuple[str, dict[str, str]]:
    """The translation key and placeholders that explain a client error."""
    if write and may_have_been_done(err):
        return WRITE_UNCONFIRMED, {"error": str(err)}
    if isinstance(err, PbxNotWhitelistedError):
        return "not_whitelisted", {}
    if isinstance(err, PbxClockSkewError):
        return CLOCK_SKEW, {}
    if isinstance(err, PbxCallFailedError):
        return "call_failed", {"error": str(err)}
    if isinstance(err, PbxAuthError):
        return "auth_failed", {}
    if isinstance(err, PbxPermissionError):
        if err.permission is None:
            return MISSING_PERMISSION_UNNAMED, {}
        return MISSING_PERMISSION, {"permission": err.permission}
    if isinstance(err, PbxRateLimitError):
        return "rate_limited", {"retry_after": f"{err.retry_after or 0:.0f}"}
    if isinstance(err, PbxConnectionError):
        return "cannot_connect", {"error": str(err)}
    if isinstance(err, PbxInvalidInputError | PbxUnsupportedError):
        no_call = isinstance(err, PbxNoCallError)  # nothing to record
        return ("no_call", {}) if no_call else ("invalid_input", {"error": str(err)})
    if isinstance(err, PbxTooManyItemsError):
        return TOO_MANY_ITEMS, {"topic": err.topic, "maximum": str(err.maximum)}
    if isinstance(err, PbxRequestCapError):
        return "request_cap", {"maximum": str(err.maximum)}
    return "invalid_response", {"error": str(err)}


def read_context(options: Mapping[str, Any]) -> ReadContext:
    """Home Assistant's clock and the options' choices, for one read."""
    now = dt_util.now()
    midnight = dt_util.start_of_local_day(now)
    return ReadContext(
        now=now,
        midnight=midnight,
        month_start=dt_util.start_of_local_day(now.replace(day=1)),
        calls_since=midnight - EVENT_LOOKBACK,
        accounts=account_selection(options),
    )


def poll_plan(
    options: Mapping[str, Any],
    client: PbxClient,
    measured: Mapping[Topic, int] | None = None,
) -> PollPlan:
    """Each cadence's interval from the options, at the measured costs."""

    def chosen(key: str) -> timedelta | None:
        seconds = options.get(key)
        return None if seconds is None else timedelta(seconds=seconds)

    return plan_polls(
        VENDORS[client.vendor].budget,
        cadence_costs(client, measured),
        fast=chosen(CONF_FAST_INTERVAL),
        slow=chosen(CONF_SLOW_INTERVAL),
    )


def not_supported(entry: ConfigEntry[Any]) -> ServiceValidationError:
    """The translated refusal of an action the entry's vendor does not have."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="action_not_supported",
        translation_placeholders={"title": entry.title},
    )


async def run_write[T](
    entry: ConfigEntry[Any],
    call: Awaitable[T],
    *,
    shown_by: DataUpdateCoordinator[Any] | None = None,
) -> T:
    """Write; where a failed write may have been done, ``shown_by`` polls."""
    return await _run(entry, call, write=True, shown_by=shown_by)


async def run_read[T](entry: ConfigEntry[Any], call: Awaitable[T]) -> T:
    """Await a client call that only reads, for an action's answer."""
    return await _run(entry, call, write=False)


async def _run[T](
    entry: ConfigEntry[Any],
    call: Awaitable[T],
    *,
    write: bool,
    shown_by: DataUpdateCoordinator[Any] | None = None,
) -> T:
    """Await an action's call; raise its error translated, reauth or repair."""
    hass: HomeAssistant = entry.runtime_data.hass
    # One repair issue per action refused for a missing licence or right; the
    # action's next success clears it.
    action = str(getattr(call, "__qualname__", "action")).rsplit(".", 1)[-1]
    refused = issue_id(f"{MISSING_PERMISSION}_{action}", entry)
    try:
        with for_action():
            result = await call
    except PbxError as err:
        present = not is_removed(hass, entry)  # while the PBX answered
        if present and needs_reauth(err):
            entry.async_start_reauth(hass)
        key, placeholders = error_translation(err, write=write)
        if present and isinstance(err, PbxPermissionError):
            ir.async_create_issue(
                hass,
                DOMAIN,
                refused,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=key,
                translation_placeholders={
                    **title_placeholders(entry.title),
                    **placeholders,
                },
            )
        if present and write and shown_by is not None and may_have_been_done(err):
            # In the background (a poll: outside ``for_action``), so the user
            # hears of the doubt without waiting for a poll, which may be as
            # slow as the answer was.
            entry.async_create_task(
                hass, shown_by.async_request_refresh(), "refresh after write"
            )
        error_class = (
            ServiceValidationError
            if isinstance(err, PbxInvalidInputError | PbxUnsupportedError)
            else HomeAssistantError
        )
        raise error_class(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, refused)
    return result

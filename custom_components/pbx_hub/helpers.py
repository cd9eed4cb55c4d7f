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
    PbxClient,
    PbxError,
    PbxPermissionError,
    ReadContext,
    Topic,
    account_selection,
    for_action,
)
from .client.error_keys import (
    MISSING_PERMISSION,
    error_translation,
    is_bad_input,
    may_have_been_done,
    needs_reauth,
)
from .client.poll_plan import PollPlan, cadence_costs, plan_polls
from .client.titles import title_placeholders
from .const import CONF_FAST_INTERVAL, CONF_SLOW_INTERVAL, DOMAIN
from .repairs import is_removed, issue_id


def translated[E: HomeAssistantError](
    error_class: type[E], err: PbxError, *, write: bool = False
) -> E:
    """``err`` as ``error_class``, explained in the user's language."""
    key, placeholders = error_translation(err, write=write)
    return error_class(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


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
        if present and isinstance(err, PbxPermissionError):
            key, placeholders = error_translation(err, write=write)
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
            ServiceValidationError if is_bad_input(err) else HomeAssistantError
        )
        raise translated(error_class, err, write=write) from err
    ir.async_delete_issue(hass, DOMAIN, refused)
    return result

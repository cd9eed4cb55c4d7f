"""Turn client errors raised by user actions into translated Home Assistant errors."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir

from .client import (
    PbxError,
    PbxInvalidInputError,
    PbxPermissionError,
    PbxUnsupportedError,
)
from .const import DOMAIN
from .coordinator import (
    MISSING_PERMISSION,
    PbxConfigEntry,
    PbxCoordinator,
    error_translation,
    issue_id,
    may_have_been_done,
    needs_reauth,
)
from .titles import title_placeholders


async def run_write[T](
    entry: PbxConfigEntry,
    call: Awaitable[T],
    *,
    shown_by: PbxCoordinator[Any] | None = None,
) -> T:
    """Await a client call that changes something on the PBX; on failure
    raise a translated error.

    A write whose answer was lost or unreadable may have been carried out: it
    raises ``write_unconfirmed``, and ``shown_by``, the coordinator whose data
    would show the change, is asked to poll, so that what the entities show
    comes from the PBX rather than from a guess.
    """
    return await _run(entry, call, write=True, shown_by=shown_by)


async def run_read[T](entry: PbxConfigEntry, call: Awaitable[T]) -> T:
    """Await a client call that only reads (an action's answer); on failure
    raise a translated error, an unreadable answer being ``invalid_response``.
    """
    return await _run(entry, call, write=False)


async def _run[T](
    entry: PbxConfigEntry,
    call: Awaitable[T],
    *,
    write: bool,
    shown_by: PbxCoordinator[Any] | None = None,
) -> T:
    """Await ``call``; on failure raise a translated error.

    Input the PBX refuses is the user's to fix (``ServiceValidationError``); an auth
    error also starts reauthentication, and a missing licence or right raises a
    repair issue naming it, so the user sees why.
    """
    hass = entry.runtime_data.fast.hass
    # One repair issue per action refused for a missing licence or right; the
    # action's next success clears it.
    action = str(getattr(call, "__qualname__", "action")).rsplit(".", 1)[-1]
    refused = issue_id(f"{MISSING_PERMISSION}_{action}", entry)
    try:
        result = await call
    except PbxError as err:
        if needs_reauth(err):
            entry.async_start_reauth(hass)
        key, placeholders = error_translation(err, write=write)
        if isinstance(err, PbxPermissionError):
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
        if write and shown_by is not None and may_have_been_done(err):
            # In the background: the user hears of the doubt without waiting
            # for a poll, which may be as slow as the answer was.
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

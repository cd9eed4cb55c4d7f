"""What client errors mean to users: translation keys and what each error calls for."""

from __future__ import annotations

from .address import URL_REASONS
from .exceptions import (
    PbxAnswerLostError,
    PbxAuthError,
    PbxCallFailedError,
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
)
from .poll_issues import CLOCK_SKEW, TOO_MANY_ITEMS

MISSING_PERMISSION = "missing_permission"
"""Raised per cadence while a topic lacks a licence or right; the others go on."""
MISSING_PERMISSION_UNNAMED = f"{MISSING_PERMISSION}_unnamed"
"""Text for a refusal naming no right (a bare 403): its message is no right's name."""
WRITE_UNCONFIRMED = "write_unconfirmed"


def needs_reauth(err: PbxError) -> bool:
    """Whether new credentials are the fix (not for an IP missing from a whitelist)."""
    return isinstance(err, PbxAuthError) and not isinstance(err, PbxNotWhitelistedError)


def may_have_been_done(err: PbxError) -> bool:
    """Whether a write failing with ``err`` may have been carried out all the same."""
    if isinstance(err, PbxRefusedError):
        return False  # the PBX said no
    return isinstance(err, PbxAnswerLostError | PbxResponseError)


def is_bad_input(err: PbxError) -> bool:
    """Whether the caller's input (or choice of vendor) is at fault, not the PBX."""
    return isinstance(err, PbxInvalidInputError | PbxUnsupportedError)


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
    if is_bad_input(err):
        no_call = isinstance(err, PbxNoCallError)  # nothing to record
        return ("no_call", {}) if no_call else ("invalid_input", {"error": str(err)})
    if isinstance(err, PbxTooManyItemsError):
        return TOO_MANY_ITEMS, {"topic": err.topic, "maximum": str(err.maximum)}
    if isinstance(err, PbxRequestCapError):
        return "request_cap", {"maximum": str(err.maximum)}
    return "invalid_response", {"error": str(err)}


def address_error(reason: str | None) -> str | None:
    """The form error for an address refused for ``reason``; else ``None``."""
    if reason not in URL_REASONS:
        return None
    return "invalid_url" if reason == "url" else reason


def form_error(err: PbxError) -> tuple[str, dict[str, str]]:
    """The setup form's error key and placeholders for a client error."""
    if isinstance(err, PbxNotWhitelistedError):
        return "ip_not_whitelisted", {}
    if isinstance(err, PbxPermissionError):
        # Good credentials that lack a right: "invalid auth" would send the
        # user looking for another key.
        if err.permission is None:  # a bare 403: no name to show
            return MISSING_PERMISSION_UNNAMED, {}
        return MISSING_PERMISSION, {"permission": err.permission}
    if isinstance(err, PbxClockSkewError):
        return CLOCK_SKEW, {}
    if isinstance(err, PbxAuthError):
        return "invalid_auth", {}
    if isinstance(err, PbxRateLimitError):
        return "rate_limited", {}
    if isinstance(err, PbxConnectionError):
        return "cannot_connect", {}
    if isinstance(err, PbxInvalidInputError):
        return address_error(err.reason) or "invalid_response", {}
    return "invalid_response", {}

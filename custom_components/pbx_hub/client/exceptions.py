"""Errors raised by the PBX Hub client.

One root error so callers can catch everything the library raises; the subclasses
tell the caller what to do next (retry later, ask for new credentials, fix input).
Messages never contain credentials: the HTTP helper scrubs them before raising.
"""

from __future__ import annotations


class PbxError(Exception):
    """Root of every error the client raises."""


class PbxConnectionError(PbxError):
    """The PBX could not be reached: network error, timeout or a 5xx answer."""


class PbxAnswerLostError(PbxConnectionError):
    """The request went out, but its answer did not come in time or broke off,
    or (for a write) the server answered 500, 502 or 504 after it got it.

    Unlike a refused or failed connection, the PBX may have carried the request
    out: a caller must not take a write as undone (nor retry it blindly). A
    ``PbxConnectionError`` still, so code that only retries later needs nothing new.
    """


class PbxAuthError(PbxError):
    """Credentials were refused: wrong, expired or not whitelisted. New
    credentials are the fix (reauthentication); a missing right or licence is
    ``PbxPermissionError`` instead.
    """


class PbxNotWhitelistedError(PbxAuthError):
    """The credentials may be right, but the PBX does not accept requests from
    this IP address: it must be added to the PBX's whitelist.
    """


class PbxPermissionError(PbxError):
    """The credentials are good, but the account lacks a licence or a right for
    this call (an HTTP 403, or the vendor's own words for it); ``permission``
    names it where the vendor tells. Granting it on the PBX is the fix, not
    new credentials.
    """

    def __init__(self, message: str, *, permission: str | None = None) -> None:
        """Keep the name of the missing licence or right."""
        super().__init__(message)
        self.permission = permission


class PbxRateLimitError(PbxError):
    """The request budget is spent or the PBX answered 429; try again later."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, from_pbx: bool = False
    ) -> None:
        """Keep the seconds to wait, when known, and whether the PBX itself
        refused (a 429) rather than the client's own budget.
        """
        super().__init__(message)
        self.retry_after = retry_after
        self.from_pbx = from_pbx


class PbxResponseError(PbxError):
    """The PBX answered with a body the client cannot understand."""


class PbxRefusedError(PbxResponseError):
    """The PBX answered, readably, that the request failed, for a reason the
    client has no better error for (an unknown error code, an HTTP 4xx).
    Unlike an unreadable answer, it leaves no doubt that a write was not done.
    """


class PbxTooManyItemsError(PbxResponseError):
    """The PBX listed more items than the client takes for one topic (or
    more rows in one list than any answer holds): no PBX it serves has so
    many, and reading them would take memory and time without bound. The
    answer is refused whole, never read in part.
    """

    def __init__(self, message: str, *, topic: str, maximum: int) -> None:
        """Keep what was listed too much of, and the most the client takes."""
        super().__init__(message)
        self.topic = topic
        self.maximum = maximum


class PbxRequestCapError(PbxError):
    """One read of a topic would send more requests than its share of the
    request budget (``READ_SHARE``): it stops, and the next read goes on.
    """

    def __init__(self, message: str, *, maximum: int) -> None:
        """Keep the most requests one read may send."""
        super().__init__(message)
        self.maximum = maximum


class PbxInvalidInputError(PbxError):
    """The PBX rejected a parameter of a write (unknown id, bad destination ...)."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        """``reason`` names the rule broken (``sms_recipient``, ``sms_length``)
        where the caller may want to explain it in its own words.
        """
        super().__init__(message)
        self.reason = reason


class PbxNotFoundError(PbxInvalidInputError):
    """The PBX does not know a value the request names (an extension, a user)."""


class PbxClockSkewError(PbxError):
    """The PBX refused the request's timestamp: this computer's clock is off."""


class PbxCallFailedError(PbxError):
    """The PBX accepted a call request but could not set the call up."""


class PbxUnsupportedError(PbxError):
    """The vendor or this account does not offer the requested capability."""


class PbxNoCallError(PbxInvalidInputError):
    """The extension has no call in progress to act on (start or stop
    recording): nothing was done.
    """

"""Which translation explains a client error: a write whose answer was lost is
unconfirmed, one the PBX refused in words it could read is not."""

from __future__ import annotations

import pytest

from custom_components.pbx_hub.client import (
    PbxAnswerLostError,
    PbxAuthError,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxResponseError,
)
from custom_components.pbx_hub.client.error_keys import error_translation, form_error


@pytest.mark.parametrize(
    ("error", "read", "write"),
    [
        (PbxAnswerLostError("late"), "cannot_connect", "write_unconfirmed"),
        (PbxResponseError("garbled"), "invalid_response", "write_unconfirmed"),
        # Sent nothing, or answered "no" in words it could read: no doubt.
        (PbxConnectionError("refused"), "cannot_connect", "cannot_connect"),
        (PbxRefusedError("HTTP 404"), "invalid_response", "invalid_response"),
    ],
)
def test_only_a_write_whose_answer_was_lost_is_unconfirmed(
    error: PbxError, read: str, write: str
) -> None:
    assert error_translation(error) == (read, {"error": str(error)})
    assert error_translation(error, write=True) == (write, {"error": str(error)})


@pytest.mark.parametrize(
    ("error", "key", "placeholders"),
    [
        # A missing whitelist entry is no wrong key, though it is an auth error.
        (PbxNotWhitelistedError("not listed"), "ip_not_whitelisted", {}),
        (PbxAuthError("bad key"), "invalid_auth", {}),
        (
            PbxPermissionError("no", permission="cdr"),
            "missing_permission",
            {"permission": "cdr"},
        ),
        (PbxPermissionError("no"), "missing_permission_unnamed", {}),
        (PbxClockSkewError("skew"), "clock_skew", {}),
        (PbxRateLimitError("slow down"), "rate_limited", {}),
        (PbxAnswerLostError("late"), "cannot_connect", {}),
        (PbxInvalidInputError("bad", reason="url"), "invalid_url", {}),
        (PbxInvalidInputError("bad", reason="url_scheme"), "url_scheme", {}),
        # Input that is no address: the PBX's answer did not fit.
        (PbxInvalidInputError("bad"), "invalid_response", {}),
        (PbxResponseError("garbled"), "invalid_response", {}),
    ],
)
def test_form_error(error: PbxError, key: str, placeholders: dict[str, str]) -> None:
    assert form_error(error) == (key, placeholders)

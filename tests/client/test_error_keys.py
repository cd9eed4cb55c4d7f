"""Which translation explains a client error: a write whose answer was lost is
unconfirmed, one the PBX refused in words it could read is not."""

from __future__ import annotations

import pytest

from custom_components.pbx_hub.client import (
    PbxAnswerLostError,
    PbxConnectionError,
    PbxError,
    PbxRefusedError,
    PbxResponseError,
)
from custom_components.pbx_hub.client.error_keys import error_translation


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

"""Diagnostics redact every text of a nested answer, keys too: a PBX may echo
a secret anywhere, and text left alone stays the object it was.
"""

from __future__ import annotations

from enum import StrEnum

from custom_components.pbx_hub.client.redaction import REDACTED, Redactor, redact_texts

SECRET = "Sup3rSecretApiKey0123"


class _Kind(StrEnum):
    QUEUE = "queue"


def test_texts_at_any_depth_and_in_keys_are_redacted() -> None:
    data = {
        f"agent {SECRET}": [("x", f"said {SECRET}"), {"deep": [SECRET]}],
        "count": 3,
        "none": None,
    }
    assert redact_texts(data, Redactor([SECRET])) == {
        f"agent {REDACTED}": [("x", f"said {REDACTED}"), {"deep": [REDACTED]}],
        "count": 3,
        "none": None,
    }


def test_unchanged_text_stays_the_object_it_was() -> None:
    redacted = redact_texts({"kind": _Kind.QUEUE}, Redactor([SECRET]))
    assert type(redacted["kind"]) is _Kind
    assert type(redact_texts((1, [2]), Redactor([SECRET]))) is tuple

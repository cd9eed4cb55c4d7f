"""What the actions take is checked before any request: text limits, the
destination type and the dates; each refusal is a translation key with its
placeholders. Names are found by id or, in any case, by name. (The action's
target is Home Assistant's: tests/test_services.py.)
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from custom_components.pbx_hub.client import PbxInvalidInputError
from custom_components.pbx_hub.client.action_input import (
    Refusal,
    as_date,
    find_id,
    input_refusal,
    sms_refusal,
)

TYPES = "extension, ring_group, ivr, queue, external, voicemail, conference"


@pytest.mark.parametrize(
    ("data", "refusal"),
    [
        (
            {"did": "1" * 129},
            Refusal("text_too_long", {"field": "did", "max": "128"}),
        ),
        (
            {"user_number": "1" * 33},
            Refusal("text_too_long", {"field": "user_number", "max": "32"}),
        ),
        (
            {"subscriber": "x" * 255},
            Refusal("text_too_long", {"field": "subscriber", "max": "254"}),
        ),
        ({"destination": ""}, Refusal("text_empty", {"field": "destination"})),
        ({"holidays": ""}, Refusal("text_empty", {"field": "holidays"})),
        (
            {"destination_type": "moon"},
            Refusal(
                "invalid_destination_type",
                {"destination_type": "moon", "types": TYPES},
            ),
        ),
        (
            {"destination_type": "other"},
            Refusal(
                "invalid_destination_type",
                {"destination_type": "other", "types": TYPES},
            ),
        ),
        (
            {"start": "2026-13-01"},
            Refusal("invalid_date", {"field": "start", "value": "2026-13-01"}),
        ),
        (
            {"end": "yesterday"},
            Refusal("invalid_date", {"field": "end", "value": "yesterday"}),
        ),
        (
            {"end": 20261101},
            Refusal("invalid_date", {"field": "end", "value": "20261101"}),
        ),
    ],
)
def test_refused_input(data: dict[str, Any], refusal: Refusal) -> None:
    assert input_refusal(data) == refusal


@pytest.mark.parametrize(
    "data",
    [
        {"did": "1" * 128, "destination_type": "voicemail", "destination": "531"},
        {"recipient": ""},  # the vendor's rule, checked by the client
        {"start": "2026-11-01", "end": date(2026, 11, 25)},
        {"start": "2026-1-5"},  # as Home Assistant's date check takes it
    ],
)
def test_accepted_input(data: dict[str, Any]) -> None:
    assert input_refusal(data) is None


def test_as_date() -> None:
    assert as_date("2026-11-01") == date(2026, 11, 1)
    moment = datetime(2026, 11, 1, 12)  # a datetime is a date too
    assert as_date(moment) is moment
    assert as_date("01-11-2026") is None
    assert as_date(None) is None


def test_find_id_by_id_or_by_name_in_any_case() -> None:
    names = {"7": "Night", "8": "Day"}
    assert find_id(names, "8") == "8"
    assert find_id(names, "NIGHT") == "7"
    assert find_id(names, "Evening") is None


def test_an_sms_refusal_is_keyed_by_the_rule_it_breaks() -> None:
    def refused(reason: str | None) -> Refusal:
        return sms_refusal(PbxInvalidInputError("no", reason=reason), "+3212")

    assert refused("sms_recipient") == Refusal(
        "invalid_sms_recipient", {"recipient": "+3212"}
    )
    assert refused("sms_length") == Refusal("invalid_sms_length")
    assert refused(None) == Refusal("invalid_sms", {"error": "no"})

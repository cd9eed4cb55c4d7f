"""Which problems a cadence's failing reads call for: a 429 only after
``RATE_LIMIT_ISSUE_AFTER`` in a row from the PBX itself, a clock skew only
twice in a row, each counted per topic and forgotten at its good read.
"""

from __future__ import annotations

from custom_components.pbx_hub.client import (
    PbxClockSkewError,
    PbxConnectionError,
    PbxNotWhitelistedError,
    PbxRateLimitError,
    PbxTooManyItemsError,
)
from custom_components.pbx_hub.client.poll_issues import (
    CLOCK_SKEW,
    NOT_WHITELISTED,
    RATE_LIMIT_ISSUE_AFTER,
    RATE_LIMITED,
    TOO_MANY_ITEMS,
    PollTroubles,
)

_429 = PbxRateLimitError("slow down", from_pbx=True)


def test_a_429_is_a_problem_only_after_enough_in_a_row() -> None:
    troubles = PollTroubles()
    for _ in range(RATE_LIMIT_ISSUE_AFTER - 1):
        assert troubles.failed("extensions", _429) == {}
    assert troubles.failed("extensions", _429) == {RATE_LIMITED: {}}
    # Still one while the topic's reads fail another way.
    assert troubles.failed("extensions", PbxConnectionError("x")) == {RATE_LIMITED: {}}
    troubles.succeeded("extensions", None)
    assert troubles.failed("extensions", _429) == {}


def test_429s_are_counted_per_topic_and_only_from_the_pbx() -> None:
    troubles = PollTroubles()
    own_budget = PbxRateLimitError("budget spent")  # the client's own refusal
    for _ in range(RATE_LIMIT_ISSUE_AFTER):
        assert troubles.failed("extensions", own_budget) == {}
    for _ in range(RATE_LIMIT_ISSUE_AFTER - 1):
        troubles.failed("extensions", _429)
        assert troubles.failed("queues", _429) == {}


def test_a_clock_skew_is_a_problem_the_second_time_in_a_row() -> None:
    troubles = PollTroubles()
    skew = PbxClockSkewError("time stamp refused")
    assert troubles.failed("calls", skew) == {}
    troubles.succeeded("calls", None)
    assert troubles.failed("calls", skew) == {}
    assert troubles.failed("calls", skew) == {CLOCK_SKEW: {}}


def test_a_missing_whitelist_entry_is_a_problem_at_once() -> None:
    troubles = PollTroubles()
    assert troubles.failed("x", PbxNotWhitelistedError("ip")) == {NOT_WHITELISTED: {}}


def test_too_many_items_last_until_no_topic_has_too_many() -> None:
    troubles = PollTroubles()
    too_many = PbxTooManyItemsError("long", topic="extensions", maximum=500)
    assert troubles.failed("extensions", too_many) == {
        TOO_MANY_ITEMS: {"topic": "extensions", "maximum": "500"}
    }
    troubles.failed("trunks", too_many)
    troubles.succeeded("extensions", None)
    assert troubles.too_many_items
    troubles.succeeded("trunks", None)
    assert not troubles.too_many_items


def test_the_missing_rights_of_every_topic_are_named_once_each() -> None:
    troubles = PollTroubles()
    troubles.succeeded("queues", "Queues")
    troubles.succeeded("trunks", "CDR")
    troubles.succeeded("calls", "CDR")
    assert troubles.missing_rights == ["CDR", "Queues"]
    troubles.succeeded("queues", None)
    assert troubles.missing_rights == ["CDR"]

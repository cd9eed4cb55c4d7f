"""Which problems a cadence's failing reads call for: counted per topic."""

from __future__ import annotations

from .exceptions import (
    PbxClockSkewError,
    PbxError,
    PbxNotWhitelistedError,
    PbxRateLimitError,
    PbxTooManyItemsError,
)

RATE_LIMITED = "rate_limited"
NOT_WHITELISTED = "not_whitelisted"
CLOCK_SKEW = "clock_skew"
POLL_ISSUES = (RATE_LIMITED, NOT_WHITELISTED, CLOCK_SKEW)
"""Problems a failing read raises and the next good one clears."""
TOO_MANY_ITEMS = "too_many_items"
"""A topic's list is too long to take; cleared once no topic's is."""
RATE_LIMIT_ISSUE_AFTER = 3
"""Reads in a row refused with 429 before the user is told to poll less often."""
CLOCK_SKEW_ISSUE_AFTER = 2
"""Reads in a row refused for the time stamp: one slow answer can push it out."""


class PollTroubles:
    """A cadence's failed reads, per topic, until each topic's next good read."""

    def __init__(self) -> None:
        """No read has failed yet."""
        self._rate_limited: dict[str, int] = {}
        """Reads in a row, per topic, that the PBX answered with 429."""
        self._skewed: dict[str, int] = {}
        """Reads in a row, per topic, refused for the time stamp (clock skew)."""
        self._refused: dict[str, str] = {}
        """What each topic was refused for, while it is."""
        self._too_many: set[str] = set()
        """Topics whose PBX lists more items than they take."""

    def failed(self, topic: str, err: PbxError) -> dict[str, dict[str, str]]:
        """Count a failed read; the problems it calls for, with their placeholders."""
        problems: dict[str, dict[str, str]] = {}
        if isinstance(err, PbxRateLimitError) and err.from_pbx:
            self._rate_limited[topic] = self._rate_limited.get(topic, 0) + 1
        if self._rate_limited.get(topic, 0) >= RATE_LIMIT_ISSUE_AFTER:
            problems[RATE_LIMITED] = {}
        if isinstance(err, PbxNotWhitelistedError):
            problems[NOT_WHITELISTED] = {}
        if isinstance(err, PbxClockSkewError):
            self._skewed[topic] = self._skewed.get(topic, 0) + 1
            if self._skewed[topic] >= CLOCK_SKEW_ISSUE_AFTER:
                problems[CLOCK_SKEW] = {}
        if isinstance(err, PbxTooManyItemsError):
            self._too_many.add(topic)
            problems[TOO_MANY_ITEMS] = {
                "topic": err.topic,
                "maximum": str(err.maximum),
            }
        return problems

    def succeeded(self, topic: str, refused: str | None) -> None:
        """Forget the topic's failures; it is ``refused`` a right, or none."""
        self._rate_limited.pop(topic, None)
        self._skewed.pop(topic, None)
        self._too_many.discard(topic)
        if refused is None:
            self._refused.pop(topic, None)
        else:
            self._refused[topic] = refused

    @property
    def too_many_items(self) -> bool:
        """Whether any topic's list is still too long to take."""
        return bool(self._too_many)

    @property
    def missing_rights(self) -> list[str]:
        """Every right a topic of the cadence is refused for, each once, sorted."""
        return sorted(set(self._refused.values()))

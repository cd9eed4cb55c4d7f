"""Call accounting per extension: one item per extension with calls this month
or today, its two periods side by side (no calls in a period: ``None``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from custom_components.pbx_hub.client.models import ExtensionUsage
from custom_components.pbx_hub.client.topics import UsageOf, UsagePeriods

SINCE = datetime(2026, 12, 1, tzinfo=UTC)


def test_each_extension_with_calls_has_both_periods() -> None:
    month_101 = ExtensionUsage(extension="101", calls=9)
    month_102 = ExtensionUsage(extension="102", calls=4)
    today_101 = ExtensionUsage(extension="101", calls=2)
    today_103 = ExtensionUsage(extension="103", calls=1)
    periods = UsagePeriods(
        today={"101": today_101, "103": today_103},
        month={"101": month_101, "102": month_102},
        today_since=SINCE,
        month_since=SINCE,
    )
    # This month's first, then today's new ones (a call since midnight that
    # the month's figures do not count yet).
    assert list(periods.extensions()) == ["101", "102", "103"]
    assert periods.of("101") == UsageOf(today_101, month_101)
    assert periods.of("102") == UsageOf(None, month_102)
    assert periods.of("103") == UsageOf(today_103, None)
    assert periods.of("999") == UsageOf(None, None)

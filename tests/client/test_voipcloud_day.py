"""A simulated day of VoIPcloud polling stays within the budget (the figures
``scripts/bench`` reports come from the same function).
"""

from __future__ import annotations

import pytest

from benchmarks.voipcloud_day import simulate_day
from custom_components.pbx_hub.client import POLLING_SHARE

pytestmark = pytest.mark.slow


async def test_a_day_of_polling_uses_at_most_80_percent_and_meets_no_429() -> None:
    result = await simulate_day()
    assert result.polls == 24 * 60 * 60 / result.interval.total_seconds()
    assert result.requests >= result.polls * 4  # status and three call lists
    assert result.share_of_budget <= POLLING_SHARE
    assert result.refused_by_pbx == 0
    assert result.refused_by_budget == 0
    assert result.most_in_any_window <= POLLING_SHARE * result.window_limit
    assert result.calls_today_at_end > 0

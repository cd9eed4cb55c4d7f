"""Simulator tests need no Home Assistant instance."""

from __future__ import annotations

import pytest


@pytest.fixture
def auto_enable_custom_integrations() -> None:
    """Override the package-wide autouse fixture: no ``hass`` here."""
    return

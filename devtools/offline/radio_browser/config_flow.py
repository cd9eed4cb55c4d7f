"""Every flow ends at once, so no entry is made and nothing goes online."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult


class RadioBrowserOffFlow(ConfigFlow, domain="radio_browser"):
    """Refuse the onboarding's (and a user's) Radio Browser entry."""

    VERSION = 1

    async def async_step_onboarding(
        self, data: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Onboarding asks for an entry: none in development."""
        return self.async_abort(reason="offline_development")

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Neither from the UI."""
        return self.async_abort(reason="offline_development")

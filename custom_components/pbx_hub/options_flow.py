"""Options flow: scan intervals, excluded extensions, the vendor's own options."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import probatio as vol

from .client import (
    TOPICS,
    VENDORS,
    Cadence,
    Capability,
    PbxClient,
    Topic,
)
from .client.options import check_fields, merged_options
from .client.poll_plan import DEFAULTS
from .clients import client_for_entry
from .const import (
    CONF_CALL_STATES,
    CONF_EXCLUDED_EXTENSIONS,
    CONF_FAST_INTERVAL,
    CONF_SLOW_INTERVAL,
    DOMAIN,
)
from .flow_schemas import OPTION_SELECTORS, seconds_selector
from .helpers import poll_plan

CALL_STATE_SOURCES = frozenset({Capability.CALL_STATES, Capability.CALL_PUSH})
"""A vendor with either has call states, which the options can turn off."""
INTERVAL_KEYS = {Cadence.FAST: CONF_FAST_INTERVAL, Cadence.SLOW: CONF_SLOW_INTERVAL}


class PbxHubOptionsFlow(OptionsFlowWithReload):
    """Scan intervals within the budget, excluded extensions, vendor options."""

    def _interval_schema(
        self, client: PbxClient, user_input: dict[str, Any] | None
    ) -> dict[vol.Marker, Any]:
        options = self.config_entry.options
        plan = poll_plan(options, client)
        current = user_input or {
            CONF_FAST_INTERVAL: plan.intervals[Cadence.FAST].total_seconds(),
            CONF_SLOW_INTERVAL: float(
                options.get(CONF_SLOW_INTERVAL, DEFAULTS.slow.total_seconds())
            ),
        }
        return {
            vol.Required(key, default=current[key]): seconds_selector()
            for cadence, key in INTERVAL_KEYS.items()
            if plan.costs[cadence] > 0
        }

    async def _async_validate(
        self,
        client: PbxClient,
        user_input: dict[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> None:
        """Intervals within the budget, then the vendor's own options."""
        plan = poll_plan(user_input, client)
        if refused := plan.refused_interval(user_input.get(CONF_FAST_INTERVAL)):
            cadence, errors[INTERVAL_KEYS[cadence]], details = refused
            placeholders.update(details)
        spec = VENDORS[client.vendor]
        errors.update(check_fields(spec.options, user_input))
        if spec.check_options is not None:
            errors.update(
                await spec.check_options(client, user_input, dt_util.now().date())
            )

    def _known_extensions(self) -> list[SelectOptionDict]:
        """The extensions of the last poll; none while the entry is not loaded."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return []
        extensions = self.config_entry.runtime_data.data(Topic.EXTENSIONS) or {}
        return [
            SelectOptionDict(value=ext.id, label=f"{ext.shown_number} {ext.name}")
            for ext in sorted(extensions.values(), key=lambda ext: ext.number)
        ]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the intervals of the cadences the vendor polls, and its options."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        # The loaded entry's client knows what its polls really cost.
        client = (
            self.config_entry.runtime_data.client
            if self.config_entry.state is ConfigEntryState.LOADED
            else client_for_entry(
                self.hass,
                dict(self.config_entry.data),
                identity=self.config_entry.unique_id,
            )
        )
        if user_input is not None:
            await self._async_validate(client, user_input, errors, placeholders)
            if not errors:
                # The extension list is not shown while the entry is not loaded,
                # and saving must not drop the exclusions made before.
                return self.async_create_entry(
                    data=merged_options(
                        self.config_entry.options,
                        user_input,
                        VENDORS[client.vendor].options,
                    )
                )
        schema = self._interval_schema(client, user_input)
        shown = user_input or self.config_entry.options
        if client.capabilities & CALL_STATE_SOURCES:
            schema[
                vol.Required(
                    CONF_CALL_STATES, default=shown.get(CONF_CALL_STATES, True)
                )
            ] = BooleanSelector()
        for field in VENDORS[client.vendor].options:
            suggested = shown.get(field.key, field.default)
            schema[
                vol.Optional(field.key, description={"suggested_value": suggested})
            ] = OPTION_SELECTORS[field.kind]()
        if extensions := self._known_extensions():
            schema[
                vol.Optional(
                    CONF_EXCLUDED_EXTENSIONS,
                    default=[
                        extension_id
                        for extension_id in self.config_entry.options.get(
                            CONF_EXCLUDED_EXTENSIONS, []
                        )
                        if extension_id in {option["value"] for option in extensions}
                    ],
                )
            ] = SelectSelector(SelectSelectorConfig(options=extensions, multiple=True))
        return self.async_show_form(
            step_id="init",
            data_schema=vol.Schema(schema),
            errors=errors,
            description_placeholders={
                "minimum": "-",
                **await self._what_is_polled(client),
                **placeholders,
            },
        )

    async def _what_is_polled(self, client: PbxClient) -> dict[str, str]:
        """The vendor's name and what each interval polls, for the form's help."""
        words = await async_get_translations(
            self.hass, self.hass.config.language, "selector", {DOMAIN}
        )

        def topics(cadence: Cadence) -> str:
            return ", ".join(
                words.get(f"component.{DOMAIN}.selector.topic.options.{topic}", topic)
                for topic in client.topics
                if TOPICS[topic].cadence is cadence
            )

        return {
            "vendor": VENDORS[client.vendor].name,
            "fast_data": topics(Cadence.FAST),
            "slow_data": topics(Cadence.SLOW),
        }

"""Config flow: a vendor, its settings, then a tenant where there are several."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)
import probatio as vol

from .client import VENDORS, ListsTenants, PbxInfo, Tenant, VendorSpec
from .client.titles import entry_title, markdown_escape
from .clients import client_for_entry
from .const import CONF_VENDOR, DOMAIN
from .flow_schemas import attempt, check_address, fields_schema
from .options_flow import PbxHubOptionsFlow


class PbxHubConfigFlow(ConfigFlow, domain=DOMAIN):
    """Add a PBX account."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no vendor chosen."""
        self._vendor = ""
        self._settings: dict[str, Any] = {}
        self._tenants: dict[str, Tenant] = {}
        self._finish: Callable[[], ConfigFlowResult] | None = None
        """What the plain-http warning leads to once confirmed."""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> PbxHubOptionsFlow:
        """Scan intervals, bounded by the vendor's request budget."""
        return PbxHubOptionsFlow()

    @property
    def _spec(self) -> VendorSpec:
        return VENDORS[self._vendor]

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick the vendor."""
        return self.async_show_menu(step_id="user", menu_options=list(VENDORS))

    async def _async_step_vendor(
        self, vendor: str, user_input: dict[str, Any] | None
    ) -> ConfigFlowResult:
        """Ask the vendor's settings, then the tenant or finish."""
        self._vendor = vendor
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            self._settings = dict(user_input)
            if check_address(self._spec, self._settings, errors, as_entered=True) and (
                result := await self._async_validate_new(errors, placeholders)
            ):
                return result
        return self.async_show_form(
            step_id=vendor,
            data_schema=fields_schema(self._spec.fields, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_validate_new(
        self, errors: dict[str, str], placeholders: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Ask the tenant where there are several, else identify and finish."""
        tenants = await attempt(self._async_tenants(), errors, placeholders)
        if tenants is None:
            return None
        if len(tenants) > 1:
            self._tenants = tenants
            return await self.async_step_tenant()
        if tenants and self._spec.tenant_field:
            self._settings[self._spec.tenant_field] = next(iter(tenants))
        info = await attempt(self._async_identify(self._settings), errors, placeholders)
        return None if info is None else await self._async_create(info)

    async def _async_tenants(self) -> dict[str, Tenant]:
        client = client_for_entry(
            self.hass, {CONF_VENDOR: self._vendor, **self._settings}
        )
        if not isinstance(client, ListsTenants):
            return {}
        return await client.async_get_tenants()

    async def _async_identify(
        self, settings: Mapping[str, Any], identity: str | None = None
    ) -> PbxInfo:
        client = client_for_entry(
            self.hass, {CONF_VENDOR: self._vendor, **settings}, identity=identity
        )
        return await client.async_identify()

    async def async_step_tenant(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user pick one tenant of a multi-tenant PBX."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        field = self._spec.tenant_field or "tenant"
        if user_input is not None:
            settings = {**self._settings, field: user_input[field]}
            info = await attempt(self._async_identify(settings), errors, placeholders)
            if info is not None:
                self._settings = settings
                return await self._async_create(info)
        options = [
            SelectOptionDict(
                value=tenant.id, label=f"{entry_title(tenant.name)} ({tenant.id})"
            )
            for tenant in self._tenants.values()
        ]
        return self.async_show_form(
            step_id="tenant",
            data_schema=vol.Schema(
                {
                    vol.Required(field): SelectSelector(
                        SelectSelectorConfig(options=options)
                    )
                }
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_create(self, info: PbxInfo) -> ConfigFlowResult:
        await self.async_set_unique_id(info.unique_id)
        self._abort_if_unique_id_configured()
        return self._after_plain_http_warning(
            self._settings,
            partial(
                self.async_create_entry,
                # The PBX names it: one line, of a sane length.
                title=entry_title(info.name) or self._spec.name,
                data={CONF_VENDOR: self._vendor, **self._spec.stored(self._settings)},
            ),
        )

    def _after_plain_http_warning(
        self, settings: Mapping[str, Any], finish: Callable[[], ConfigFlowResult]
    ) -> ConfigFlowResult:
        """``finish`` at once, or after a warning where credentials go in clear."""
        client_class = self._spec.client_class
        if not client_class.sends_credentials_in_clear(settings):
            return finish()
        self._finish = finish
        return self.async_show_form(
            step_id="plain_http",
            description_placeholders={
                "url": markdown_escape(str(client_class.server_address(settings)))
            },
        )

    async def async_step_plain_http(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The user read that the address is plain http, and goes on."""
        if self._finish is None:  # not reached through a form: start over
            return await self.async_step_user()
        return self._finish()

    async def _async_step_update(
        self,
        entry: ConfigEntry,
        user_input: dict[str, Any] | None,
        placeholders: dict[str, str],
        *,
        secrets: bool,
    ) -> ConfigFlowResult:
        """Ask the entry's secrets, or its other settings; it must stay the same PBX."""
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = {**entry.data, **user_input}
            # A new address is checked as entered; a stored one as stored.
            if check_address(self._spec, settings, errors, as_entered=not secrets) and (
                info := await attempt(
                    self._async_identify(settings, entry.unique_id),
                    errors,
                    placeholders,
                )
            ):
                if self._spec.stable_identity:
                    await self.async_set_unique_id(info.unique_id)
                    self._abort_if_unique_id_mismatch(reason="wrong_pbx")
                # Otherwise the identity follows the key: a new key is no new PBX,
                # and the entry keeps the identity it was created with.
                finish = partial(
                    self.async_update_reload_and_abort,
                    entry,
                    data_updates=self._spec.stored(user_input),
                )
                if secrets:
                    return finish()
                return self._after_plain_http_warning(settings, finish)
        fields = tuple(field for field in self._spec.fields if field.secret is secrets)
        return self.async_show_form(
            step_id="reauth_confirm" if secrets else "reconfigure",
            # Secrets are never pre-filled.
            data_schema=fields_schema(fields, user_input or entry.data),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """The PBX refused the stored credentials."""
        self._vendor = str(entry_data[CONF_VENDOR])
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask only the secrets again."""
        entry = self._get_reauth_entry()
        placeholders = {"title": entry_title(entry.title)}
        return await self._async_step_update(
            entry, user_input, placeholders, secrets=True
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the settings that are not secrets, such as the PBX's address."""
        entry = self._get_reconfigure_entry()
        self._vendor = str(entry.data[CONF_VENDOR])
        return await self._async_step_update(entry, user_input, {}, secrets=False)


def _vendor_step(
    vendor: str,
) -> Callable[[PbxHubConfigFlow, dict[str, Any] | None], Awaitable[ConfigFlowResult]]:
    async def step(
        self: PbxHubConfigFlow, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        return await self._async_step_vendor(vendor, user_input)

    return step


# The vendor menu's options are step ids: one ``async_step_<vendor>`` per vendor.
for _vendor in VENDORS:
    setattr(PbxHubConfigFlow, f"async_step_{_vendor}", _vendor_step(_vendor))

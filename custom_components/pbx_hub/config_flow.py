"""Config flow: pick a vendor, enter its settings, pick a tenant where there are
several. Every form is built from the vendor's ``SettingField``s, so a new vendor
needs no flow code, only translations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from functools import partial
import math
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio as vol

from .client import (
    URL_REASONS,
    VENDORS,
    AccountSelection,
    Cadence,
    Capability,
    FieldKind,
    PbxAuthError,
    PbxClient,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInfo,
    PbxInvalidInputError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    SettingField,
    Tenant,
    Topic,
    VendorSpec,
)
from .clients import client_for_entry
from .const import (
    CONF_CURRENCY,
    CONF_DEPARTMENTS,
    CONF_EXCLUDED_EXTENSIONS,
    CONF_FAST_INTERVAL,
    CONF_NODES,
    CONF_SLOW_INTERVAL,
    CONF_SMS_RECIPIENT,
    CONF_SUBSCRIBERS,
    CONF_VENDOR,
    DEFAULT_SLOW_INTERVAL,
    DOMAIN,
    LOGGER,
    MAX_INTERVAL,
    MIN_INTERVAL,
)
from .helpers import (
    account_selection,
    fast_interval,
    interval_option,
    min_fast_interval,
    poll_cost,
    read_context,
)
from .titles import entry_title, markdown_escape

_SELECTORS: dict[FieldKind, Callable[[], Any]] = {
    FieldKind.TEXT: TextSelector,
    FieldKind.URL: lambda: TextSelector(TextSelectorConfig(type=TextSelectorType.URL)),
    FieldKind.PASSWORD: lambda: TextSelector(
        TextSelectorConfig(type=TextSelectorType.PASSWORD)
    ),
    FieldKind.BOOLEAN: BooleanSelector,
}


def _fields_schema(
    fields: tuple[SettingField, ...], values: Mapping[str, Any]
) -> vol.Schema:
    """A form for ``fields``, pre-filled with ``values`` except secrets."""
    schema: dict[vol.Marker, Any] = {}
    for field in fields:
        default = (
            field.default if field.secret else values.get(field.key, field.default)
        )
        marker = vol.Required if field.required else vol.Optional
        key = (
            marker(field.key) if default is None else marker(field.key, default=default)
        )
        schema[key] = _SELECTORS[field.kind]()
    return vol.Schema(schema)


async def _try[T](
    call: Awaitable[T], errors: dict[str, str], placeholders: dict[str, str]
) -> T | None:
    """Await a client call; on failure record the form error (and what its
    text names in ``placeholders``) and return ``None``.
    """
    try:
        return await call
    except PbxNotWhitelistedError:
        errors["base"] = "ip_not_whitelisted"
    except PbxPermissionError as err:
        # Good credentials that lack a right: "invalid auth" would send the
        # user looking for another key.
        if err.permission is None:  # a bare 403: no name to show
            errors["base"] = "missing_permission_unnamed"
        else:
            errors["base"] = "missing_permission"
            placeholders["permission"] = err.permission
    except PbxClockSkewError:
        errors["base"] = "clock_skew"
    except PbxAuthError:
        errors["base"] = "invalid_auth"
    except PbxRateLimitError:
        errors["base"] = "rate_limited"
    except PbxConnectionError:
        errors["base"] = "cannot_connect"
    except PbxInvalidInputError as err:
        errors["base"] = _address_error(err.reason) or "invalid_response"
    except PbxError:
        errors["base"] = "invalid_response"
    except Exception:
        LOGGER.exception("Unexpected error while talking to the PBX")
        errors["base"] = "unknown"
    return None


def _address_error(reason: str | None) -> str | None:
    """The form error for a server address the client refused for
    ``reason``; ``None`` when the refusal is not about the address.
    """
    if reason not in URL_REASONS:
        return None
    return "invalid_url" if reason == "url" else reason


def _check_address(
    spec: VendorSpec,
    settings: Mapping[str, Any],
    errors: dict[str, str],
    *,
    as_entered: bool,
) -> bool:
    """Whether the settings' server address may be used, before anything is
    sent to it. If not, the error goes on the form's URL field where the form
    shows one (``as_entered``), else on the form.
    """
    try:
        spec.client_class.server_address(settings, as_entered=as_entered)
    except PbxInvalidInputError as err:
        url_field = next(
            (field.key for field in spec.fields if field.kind is FieldKind.URL),
            "base",
        )
        errors[url_field if as_entered else "base"] = (
            _address_error(err.reason) or "invalid_url"
        )
        return False
    return True


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
            if _check_address(self._spec, self._settings, errors, as_entered=True) and (
                result := await self._async_validate_new(errors, placeholders)
            ):
                return result
        return self.async_show_form(
            step_id=vendor,
            data_schema=_fields_schema(self._spec.fields, user_input or {}),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def _async_validate_new(
        self, errors: dict[str, str], placeholders: dict[str, str]
    ) -> ConfigFlowResult | None:
        """Ask the tenant where there are several, else identify and finish."""
        tenants = await _try(self._async_tenants(), errors, placeholders)
        if tenants is None:
            return None
        if len(tenants) > 1:
            self._tenants = tenants
            return await self.async_step_tenant()
        if tenants and self._spec.tenant_field:
            self._settings[self._spec.tenant_field] = next(iter(tenants))
        info = await _try(self._async_identify(self._settings), errors, placeholders)
        return None if info is None else await self._async_create(info)

    async def _async_tenants(self) -> dict[str, Tenant]:
        client = client_for_entry(
            self.hass, {CONF_VENDOR: self._vendor, **self._settings}
        )
        if Capability.TENANTS not in client.capabilities:
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
            info = await _try(self._async_identify(settings), errors, placeholders)
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
        """``finish`` at once, or after the user confirmed a warning where
        the settings send credentials unencrypted to another machine.
        """
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

    async def _async_update_entry(
        self,
        entry: ConfigEntry,
        changes: dict[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
        *,
        new_address: bool = False,
    ) -> ConfigFlowResult | None:
        """Validate the entry with ``changes``; it must still be the same PBX.
        A ``new_address`` is checked as entered, and warned about if it is
        plain http.
        """
        settings = {**entry.data, **changes}
        if not _check_address(self._spec, settings, errors, as_entered=new_address):
            return None
        info = await _try(
            self._async_identify(settings, entry.unique_id), errors, placeholders
        )
        if info is None:
            return None
        if self._spec.stable_identity:
            await self.async_set_unique_id(info.unique_id)
            self._abort_if_unique_id_mismatch(reason="wrong_pbx")
        # Otherwise the identity follows the key: a new key is no new PBX, and
        # the entry keeps the identity it was created with.
        finish = partial(
            self.async_update_reload_and_abort,
            entry,
            data_updates=self._spec.stored(changes),
        )
        if new_address:
            return self._after_plain_http_warning(settings, finish)
        return finish()

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
        secrets = tuple(field for field in self._spec.fields if field.secret)
        errors: dict[str, str] = {}
        placeholders = {"title": entry_title(entry.title)}
        if user_input is not None and (
            result := await self._async_update_entry(
                entry, user_input, errors, placeholders
            )
        ):
            return result
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=_fields_schema(secrets, {}),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the settings that are not secrets, such as the PBX's address."""
        entry = self._get_reconfigure_entry()
        self._vendor = str(entry.data[CONF_VENDOR])
        plain = tuple(field for field in self._spec.fields if not field.secret)
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None and (
            result := await self._async_update_entry(
                entry, user_input, errors, placeholders, new_address=True
            )
        ):
            return result
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_fields_schema(plain, user_input or entry.data),
            errors=errors,
            description_placeholders=placeholders,
        )


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


def _seconds_selector() -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=MIN_INTERVAL.total_seconds(),
            max=MAX_INTERVAL.total_seconds(),
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )


_CLEARABLE = (
    CONF_SMS_RECIPIENT,
    CONF_SUBSCRIBERS,
    CONF_DEPARTMENTS,
    CONF_NODES,
    CONF_CURRENCY,
)
"""Optional text options: absent from the form's answer means emptied."""


def _vendor_options(client: PbxClient) -> dict[str, Any]:
    """The options a vendor's capabilities call for, with their selectors."""
    options: dict[str, Any] = {}
    if Capability.SEND_SMS in client.capabilities:
        options[CONF_SMS_RECIPIENT] = TextSelector(
            TextSelectorConfig(type=TextSelectorType.TEL)
        )
    if Capability.ACCOUNTS in client.capabilities:
        for key in (CONF_SUBSCRIBERS, CONF_DEPARTMENTS, CONF_NODES):
            # One value a line, or separated by commas (see ``option_list``).
            options[key] = TextSelector(TextSelectorConfig(multiline=True))
    if Capability.ACCOUNTS in client.capabilities or (
        Capability.EXTENSION_USAGE in client.capabilities
    ):
        options[CONF_CURRENCY] = TextSelector()
    return options


def _check_currency(user_input: dict[str, Any], errors: dict[str, str]) -> None:
    """A currency option is a three-letter code, kept in capitals."""
    currency = str(user_input.get(CONF_CURRENCY) or "").strip().upper()
    if currency and not (len(currency) == 3 and currency.isalpha()):
        errors[CONF_CURRENCY] = "invalid_currency"
    elif currency:
        user_input[CONF_CURRENCY] = currency


class PbxHubOptionsFlow(OptionsFlowWithReload):
    """Scan intervals (steady polling must stay within 80 % of the budget) and
    the extensions to leave out.
    """

    def _interval_schema(
        self, client: PbxClient, user_input: dict[str, Any] | None
    ) -> dict[vol.Marker, Any]:
        current = user_input or {
            CONF_FAST_INTERVAL: fast_interval(
                self.config_entry, client
            ).total_seconds(),
            CONF_SLOW_INTERVAL: interval_option(
                self.config_entry, CONF_SLOW_INTERVAL, DEFAULT_SLOW_INTERVAL
            ).total_seconds(),
        }
        schema: dict[vol.Marker, Any] = {}
        if poll_cost(client, Cadence.FAST) > 0:
            schema[
                vol.Required(CONF_FAST_INTERVAL, default=current[CONF_FAST_INTERVAL])
            ] = _seconds_selector()
        if poll_cost(client, Cadence.SLOW) > 0:
            schema[
                vol.Required(CONF_SLOW_INTERVAL, default=current[CONF_SLOW_INTERVAL])
            ] = _seconds_selector()
        return schema

    async def _async_validate(
        self,
        client: PbxClient,
        user_input: dict[str, Any],
        errors: dict[str, str],
        placeholders: dict[str, str],
    ) -> None:
        """Intervals within the budget, then the vendor's own options."""
        slow = timedelta(
            seconds=user_input.get(
                CONF_SLOW_INTERVAL, DEFAULT_SLOW_INTERVAL.total_seconds()
            )
        )
        minimum = min_fast_interval(client, slow)
        if not math.isfinite(minimum):
            # The slow polls alone would use the budget up.
            errors[CONF_SLOW_INTERVAL] = "slow_over_budget"
        elif (
            CONF_FAST_INTERVAL in user_input
            and user_input[CONF_FAST_INTERVAL] < minimum
        ):
            errors[CONF_FAST_INTERVAL] = "over_budget"
            placeholders["minimum"] = f"{minimum:.0f}"
        if recipient := user_input.get(CONF_SMS_RECIPIENT):
            try:
                user_input[CONF_SMS_RECIPIENT], _ = client.check_sms(recipient, "-")
            except PbxInvalidInputError:
                errors[CONF_SMS_RECIPIENT] = "invalid_sms_recipient"
        if CONF_CURRENCY in _vendor_options(client):
            _check_currency(user_input, errors)
        if Capability.ACCOUNTS in client.capabilities:
            await self._async_check_accounts(client, user_input, errors)

    async def _async_check_accounts(
        self, client: PbxClient, user_input: dict[str, Any], errors: dict[str, str]
    ) -> None:
        """The chosen subscribers must exist and be readable."""
        selection = account_selection(user_input)
        if selection == AccountSelection():
            return
        try:
            read = await client.async_read(Topic.ACCOUNTS, read_context(user_input))
        except PbxPermissionError:
            errors["base"] = "missing_permission"
        except PbxInvalidInputError:
            errors[CONF_SUBSCRIBERS] = "subscriber_not_found"
        except PbxError:
            errors["base"] = "cannot_connect"
        else:
            # A poll leaves a deleted subscriber out; the options must not
            # choose one.
            if read.missing:
                errors[CONF_SUBSCRIBERS] = "subscriber_not_found"

    def _known_extensions(self) -> list[SelectOptionDict]:
        """The extensions of the last poll; none while the entry is not loaded."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return []
        extensions = self.config_entry.runtime_data.data(Topic.EXTENSIONS) or {}
        return [
            SelectOptionDict(value=ext.id, label=f"{ext.number} {ext.name}")
            for ext in sorted(extensions.values(), key=lambda ext: ext.number)
        ]

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the scan intervals (the slow one only where the vendor has slow
        data to poll) and the vendor's own options.
        """
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
                # Merge: the extension list is not shown while the entry is not
                # loaded, and saving must not drop the exclusions made before.
                # Text fields left empty are absent: they are cleared.
                options = {**self.config_entry.options, **user_input}
                for key in _CLEARABLE:
                    if key not in user_input:
                        options.pop(key, None)
                return self.async_create_entry(data=options)
        schema = self._interval_schema(client, user_input)
        shown = user_input or self.config_entry.options
        for key, selector in _vendor_options(client).items():
            schema[
                vol.Optional(key, description={"suggested_value": shown.get(key)})
            ] = selector
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
            description_placeholders=placeholders or {"minimum": "-"},
        )

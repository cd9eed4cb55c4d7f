"""Build the clients of entries and flows on Home Assistant's shared session,
with one request budget per PBX account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .client import VENDORS, PbxClient, RequestBudget, create_client
from .const import CONF_VENDOR, CONF_VERIFY_SSL, DOMAIN

BUDGETS: HassKey[dict[str, RequestBudget]] = HassKey(f"{DOMAIN}_budgets")
"""Request budgets by vendor and PBX, shared by every client of one PBX (its
tenants, config flows) and kept across reloads, so no reload resets the count.
"""


def client_for_entry(
    hass: HomeAssistant, data: Mapping[str, Any], *, identity: str | None = None
) -> PbxClient:
    """Build a client from config entry data, on Home Assistant's shared
    session; ``identity`` is the entry's unique id, where there is an entry:
    the budget stays the account's whatever its credentials.
    """
    vendor = str(data[CONF_VENDOR])
    settings = {key: value for key, value in data.items() if key != CONF_VENDOR}
    session = async_get_clientsession(
        hass, verify_ssl=bool(data.get(CONF_VERIFY_SSL, True))
    )
    budget: RequestBudget | None = None
    if (spec := VENDORS.get(vendor)) is not None:
        budgets = hass.data.setdefault(BUDGETS, {})
        budget = budgets.setdefault(
            spec.budget_key(settings, identity), RequestBudget(spec.budget)
        )
    return create_client(vendor, session, settings, budget=budget)

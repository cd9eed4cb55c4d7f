"""The clients of entries and flows: shared session, one budget per PBX account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .client import VENDORS, PbxClient, RequestBudget, create_client
from .const import CONF_VENDOR, CONF_VERIFY_SSL, DOMAIN

BUDGETS: HassKey[dict[str, RequestBudget]] = HassKey(f"{DOMAIN}_budgets")
"""Request budgets per PBX account, shared by its clients, kept across reloads."""


def client_for_entry(
    hass: HomeAssistant, data: Mapping[str, Any], *, identity: str | None = None
) -> PbxClient:
    """A client of entry data; ``identity`` (the unique id) names its budget."""
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

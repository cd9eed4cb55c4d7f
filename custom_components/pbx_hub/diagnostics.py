"""Diagnostics: the entry, what the PBX answered and the budget, secrets redacted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .client import VENDORS, CallActivity, PbxInfo
from .client.redaction import redact_texts
from .const import CONF_VENDOR
from .coordinator import PbxConfigEntry

# Personal data beside the vendor's secrets: who, where, and how to reach them.
PERSONAL_DATA = {
    "email",
    "ip_address",
    "name",
    "caller",
    "caller_name",
    "user_name",
    "callee",
    "number",
    "destination",
    "trunk",
    "url",
    "unique_id",
    "serial_number",
    "username",
    "sms_recipient",
    "customer_number",
    "api_id",
    "configuration_url",
    "title",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: PbxConfigEntry
) -> dict[str, Any]:
    """Everything that helps a bug report, nothing that identifies or unlocks."""
    runtime = entry.runtime_data
    to_redact = PERSONAL_DATA | set(VENDORS[entry.data[CONF_VENDOR]].secret_keys)
    budget = runtime.client.budget
    redacted = async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "info": _info(runtime.info),
            "capabilities": sorted(runtime.client.capabilities),
            "budget": {
                "limit": budget.spec.limit,
                "window_seconds": budget.spec.window,
                "used": budget.used,
            },
            "topics": {
                topic.value: {
                    "last_update_success": coordinator.last_update_success,
                    "data": _topic_data(coordinator.data),
                }
                for topic, coordinator in runtime.coordinators.items()
            },
        },
        to_redact,
    )
    return {
        key: redact_texts(value, runtime.client.http.redact)
        for key, value in redacted.items()
    }


def _info(info: PbxInfo) -> dict[str, Any]:
    """The PBX's identity, its facts as a mapping so redaction by key reaches them."""
    return {
        **asdict(info),
        "facts": {fact.key: fact.value for fact in info.facts},
    }


def _topic_data(data: Any) -> Any:
    """A topic's data as plain values; of today's calls only the figures."""
    # Their users' and callers' names and numbers are keys, out of redaction's reach.
    if isinstance(data, CallActivity):
        return {
            "groups": [asdict(stats) for stats in data.summary.groups.values()],
            "users_seen": len(data.users),
            "users_with_calls_today": len(data.summary.users),
            "events_last_poll": len(data.events),
        }
    if isinstance(data, Mapping):
        return {key: _topic_data(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_topic_data(value) for value in data]
    if is_dataclass(data) and not isinstance(data, type):
        return asdict(data)
    return data

"""The dev dashboard: one view per PBX Hub entry, built from Home Assistant's
registries as a user would arrange it by hand: the PBX's health, its queues and
ring groups, and a card per extension (registration, DND, call figures) with a
click-to-call button where the PBX can place calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import re
from typing import Any

from .homeassistant import Json

DOMAIN = "pbx_hub"
CLICK_TO_CALL = "click_to_call"
# Device models of groups whose figures are queue statistics.
GROUP_MODELS = frozenset({"Queue", "Ring group"})
EXTENSION_MODEL = "Extension"
# Figures first, then what a user switches, then the longer route pickers.
DOMAIN_ORDER = {"sensor": 0, "binary_sensor": 1, "switch": 2, "event": 3, "select": 4}


@dataclass(frozen=True, kw_only=True)
class EntryInfo:
    """What the dashboard needs to know of one config entry."""

    entry_id: str
    title: str
    capabilities: frozenset[str]
    call_number: str
    """The number the click-to-call buttons dial."""


def _entity_rows(
    entities: Iterable[Json], device_name: str, states: Mapping[str, Json]
) -> list[Json]:
    """Enabled entities, the ones a user acts on or watches first, named
    without the device's name (the card's title says it).
    """
    shown = [entity for entity in entities if entity["disabled_by"] is None]
    shown.sort(
        key=lambda entity: (
            entity["entity_category"] is not None,
            DOMAIN_ORDER.get(entity["entity_id"].split(".")[0], len(DOMAIN_ORDER)),
            entity["entity_id"],
        )
    )
    rows: list[Json] = []
    for entity in shown:
        row: Json = {"entity": entity["entity_id"]}
        friendly = str(
            states.get(entity["entity_id"], {})
            .get("attributes", {})
            .get("friendly_name", "")
        )
        if (
            friendly.startswith(f"{device_name} ")
            and len(friendly) > len(device_name) + 1
        ):
            row["name"] = friendly[len(device_name) + 1 :]
        rows.append(row)
    return rows


def _call_button(device: Json, number: str) -> Json:
    return {
        "type": "button",
        "name": f"Call {number}",
        "icon": "mdi:phone-outgoing",
        "action_name": "Call",
        "tap_action": {
            "action": "perform-action",
            "perform_action": f"{DOMAIN}.{CLICK_TO_CALL}",
            "data": {"device_id": device["id"], "number": number},
            "confirmation": False,
        },
    }


def _card(title: str, rows: list[Any]) -> Json:
    return {
        "type": "entities",
        "title": title,
        "state_color": True,
        "show_header_toggle": False,
        "entities": rows,
    }


def _path(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "pbx"


def build_view(
    entry: EntryInfo,
    devices: list[Json],
    entities: list[Json],
    states: Mapping[str, Json],
) -> Json:
    """One entry's view: health first, then queue statistics, then extensions."""
    by_device: dict[str, list[Json]] = {}
    for entity in entities:
        if entity["config_entry_id"] == entry.entry_id and entity["device_id"]:
            by_device.setdefault(entity["device_id"], []).append(entity)
    own = sorted(
        (d for d in devices if entry.entry_id in d["config_entries"]),
        key=lambda device: device["name_by_user"] or device["name"] or "",
    )
    health = [d for d in own if d["via_device_id"] is None]
    groups = [d for d in own if d["via_device_id"] and d["model"] in GROUP_MODELS]
    others = [d for d in own if d["via_device_id"] and d["model"] not in GROUP_MODELS]
    cards: list[Json] = []
    for device in (*health, *groups, *others):
        name = device["name_by_user"] or device["name"]
        rows = _entity_rows(by_device.get(device["id"], []), name, states)
        if device["model"] == EXTENSION_MODEL and CLICK_TO_CALL in entry.capabilities:
            rows.append(_call_button(device, entry.call_number))
        if rows:
            cards.append(_card(name, rows))
    return {"title": entry.title, "path": _path(entry.title), "cards": cards}


def build_dashboard(
    *,
    entries: Iterable[EntryInfo],
    devices: list[Json],
    entities: list[Json],
    states: Mapping[str, Json],
) -> Json:
    """The whole dashboard, one view (tab) per entry in title order."""
    views = [
        build_view(entry, devices, entities, states)
        for entry in sorted(entries, key=lambda entry: entry.title)
    ]
    # First tab: every PBX's health card side by side.
    overview = {
        "title": "All PBXs",
        "path": "all",
        "cards": [view["cards"][0] for view in views if view["cards"]],
    }
    return {"title": "PBX Hub", "views": [overview, *views]}


def entry_info(
    entry: Json, diagnostics: Mapping[str, Any], call_number: str
) -> EntryInfo:
    """An entry and what its diagnostics say it can do."""
    return EntryInfo(
        entry_id=entry["entry_id"],
        title=entry["title"],
        capabilities=frozenset(diagnostics.get("capabilities", ())),
        call_number=call_number,
    )

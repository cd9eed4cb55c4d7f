"""Use every PBX Hub entity and action of a running ``scripts/develop`` Home
Assistant, then list what PBX Hub made Home Assistant log at WARNING or above:
its own errors, deprecated Home Assistant APIs ("Detected that custom integration
'pbx_hub' ...") and Python's deprecation warnings from its files.

    scripts/run .venv/bin/python -m devtools.exercise [--log config/home-assistant.log]

Exits 1 when there is any. An action refused for its input is expected here (not
every vendor has every action) and shows as the action's answer, not in the list.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date, timedelta
from pathlib import Path
import re
import sys

import aiohttp

from .homeassistant import HomeAssistantApi, Json
from .vendors import DEFAULT_CALL_NUMBER, DEV_PASSWORD, DEV_USERNAME

DOMAIN = "pbx_hub"
OURS = re.compile(
    r"^\S+ \S+ (WARNING|ERROR|CRITICAL) \(\S+\) "
    r"\[(custom_components\.pbx_hub[^\]]*|homeassistant\.helpers\.frame|py\.warnings)\] "
)
"""A log line at WARNING or above from PBX Hub's loggers, or one that Home
Assistant's usage reporter or Python's warnings wrote (kept when it names PBX Hub)."""


async def _call(
    api: HomeAssistantApi, service: str, data: Json, *, domain: str = DOMAIN
) -> None:
    status, body = await api.call_service(
        domain, service, data, response=service == "get_charges"
    )
    print(f"{domain}.{service} {data} -> {status} {body[:160]}")


async def _use_entities(api: HomeAssistantApi, registry: list[Json]) -> None:
    """Toggle every switch twice, choose another option of every select and go
    back, and send a message through every notify entity.
    """
    states = {state["entity_id"]: state for state in await api.get("/api/states")}
    for entity_id in sorted(
        entry["entity_id"]
        for entry in registry
        if entry["platform"] == DOMAIN and entry["disabled_by"] is None
    ):
        domain = entity_id.split(".")[0]
        state: Json = states.get(entity_id, {})
        if domain == "switch":
            for _ in range(2):
                await _call(api, "toggle", {"entity_id": entity_id}, domain="switch")
        elif domain == "select":
            options: list[str] = state.get("attributes", {}).get("options", [])
            current = state.get("state")
            for option in [*[o for o in options if o != current][:1], current]:
                if option in options:
                    await _call(
                        api,
                        "select_option",
                        {"entity_id": entity_id, "option": option},
                        domain="select",
                    )
        elif domain == "notify":
            await _call(
                api,
                "send_message",
                {"entity_id": entity_id, "message": "PBX Hub exercise"},
                domain="notify",
            )


async def _use_actions(
    api: HomeAssistantApi, entry: Json, devices: list[Json], entities: list[Json]
) -> None:
    """Every PBX Hub action once against ``entry``, in both of its forms where
    it has two.
    """
    entry_id = entry["entry_id"]
    devices = [
        device for device in devices if device.get("config_entry_id") == entry_id
    ]
    if extension := next((d for d in devices if d.get("model") == "Extension"), None):
        await _call(
            api,
            "click_to_call",
            {"device_id": extension["id"], "number": DEFAULT_CALL_NUMBER},
        )
    routed = [
        entity["entity_id"].rpartition("_")[2]
        for entity in entities
        if entity["config_entry_id"] == entry_id
        and entity.get("translation_key") == "did_route"
    ]
    today = date.today()
    for service, data in (
        ("send_sms", {"recipient": "+44 7700 900123", "message": "PBX Hub exercise"}),
        (
            "get_charges",
            {
                "subscriber": "2928",
                "start": str(today - timedelta(days=30)),
                "end": str(today),
            },
        ),
        ("set_hot_desk", {"hot_desk": "Flexplek 1", "sip_account": "sipaccount2"}),
        ("set_did_route_plan", {"did": "090743915", "route": "Naar onthaal"}),
        *(
            (
                "set_did_route",
                {"did": did, "destination_type": "extension", "destination": "100"},
            )
            for did in routed[:1]
        ),
    ):
        await _call(api, service, {"config_entry_id": entry_id, **data})


async def _use_entry_pages(api: HomeAssistantApi, entry: Json) -> None:
    """Reload the entry, open and close its options flow, download diagnostics."""
    entry_id = entry["entry_id"]
    await api.post(f"/api/config/config_entries/entry/{entry_id}/reload", {})
    flow = await api.post(
        "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    if flow.get("type") == "form":
        await api.delete(f"/api/config/config_entries/options/flow/{flow['flow_id']}")
    await api.get(f"/api/diagnostics/config_entry/{entry_id}")


def pbx_hub_warnings(log: str) -> list[str]:
    """The lines of ``log`` at WARNING or above that come from PBX Hub."""
    return [
        line
        for line in log.splitlines()
        if (match := OURS.match(line))
        and (match.group(2).startswith("custom_components") or DOMAIN in line)
    ]


async def _exercise(base_url: str, polls: float) -> None:
    async with (
        aiohttp.ClientSession() as session,
        HomeAssistantApi(session, base_url) as api,
    ):
        await api.login(DEV_USERNAME, DEV_PASSWORD)
        entries = await api.entries(DOMAIN)
        # The registries once: the actions and pages below add or remove nothing.
        entities = await api.ws("config/entity_registry/list")
        devices = await api.ws("config/device_registry/list")
        await _use_entities(api, entities)
        for entry in entries:
            await _use_actions(api, entry, devices, entities)
        for entry in entries:
            await _use_entry_pages(api, entry)
        # Let the polls after the writes and reloads run.
        await asyncio.sleep(polls)


def main(argv: list[str] | None = None) -> int:
    """Exercise the instance; 1 when PBX Hub logged a warning or an error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ha", default="http://127.0.0.1:8123")
    parser.add_argument("--log", type=Path, default=Path("config/home-assistant.log"))
    parser.add_argument(
        "--wait", type=float, default=70.0, help="seconds of polling afterwards"
    )
    args = parser.parse_args(argv)
    asyncio.run(_exercise(args.ha, args.wait))
    found = pbx_hub_warnings(args.log.read_text(errors="replace"))
    print(f"\n{len(found)} warning(s) or error(s) from PBX Hub in {args.log}")
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

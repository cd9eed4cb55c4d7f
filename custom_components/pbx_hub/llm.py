"""PBX Hub's intents as tools for LLM conversation agents (the Assist API)."""

from __future__ import annotations

from homeassistant.components.homeassistant import async_should_expose
from homeassistant.components.llm import LLMTools
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, intent
from homeassistant.helpers.llm import (
    LLM_API_ASSIST,
    IntentTool,
    LLMContext,
    Tool,
    ToolAnnotations,
)

from .const import DOMAIN
from .intent import (
    INTENT_MISSED_CALLS,
    INTENT_PLACE_CALL,
    INTENT_SET_DND,
    INTENT_WHO_IS_ON_THE_PHONE,
)

TOOLS: dict[str, tuple[str, ToolAnnotations]] = {
    INTENT_PLACE_CALL: (
        "Place a phone call",
        # Rings a real phone and may dial out: not idempotent, open world.
        ToolAnnotations(destructive=False, open_world=True),
    ),
    INTENT_WHO_IS_ON_THE_PHONE: (
        "Who is on the phone",
        ToolAnnotations(
            read_only=True, destructive=False, idempotent=True, open_world=False
        ),
    ),
    INTENT_MISSED_CALLS: (
        "Missed calls today",
        ToolAnnotations(
            read_only=True, destructive=False, idempotent=True, open_world=False
        ),
    ),
    INTENT_SET_DND: (
        "Set do-not-disturb",
        ToolAnnotations(destructive=False, idempotent=True, open_world=False),
    ),
}
"""Each intent offered to LLM agents: its title and what calling it does."""


@callback
def async_get_tools(
    hass: HomeAssistant, llm_context: LLMContext, api_id: str
) -> LLMTools | None:
    """The PBX tools, when the assistant is shown at least one PBX Hub entity."""
    if api_id != LLM_API_ASSIST or not llm_context.assistant:
        return None
    if not any(
        async_should_expose(hass, llm_context.assistant, entity_id)
        for entity_id in _pbx_entity_ids(hass)
    ):
        return None
    tools: list[Tool] = [
        IntentTool(
            f"{DOMAIN}__{handler.intent_type}",
            handler,
            title=TOOLS[handler.intent_type][0],
            integration=DOMAIN,
            annotations=TOOLS[handler.intent_type][1],
        )
        for handler in intent.async_get(hass)
        if handler.intent_type in TOOLS
    ]
    return LLMTools(tools=tools)


def _pbx_entity_ids(hass: HomeAssistant) -> list[str]:
    return [
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN
    ]

"""Voice: each intent through the built-in agent with the shipped custom
sentences (``conversation.process``), and as an LLM tool of the Assist API.
"""

from __future__ import annotations

from pathlib import Path
import shutil
from typing import Any
from unittest.mock import MagicMock

from homeassistant.components import conversation
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    intent,
    llm,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import VENDORS
from custom_components.pbx_hub.const import DOMAIN
from tests.conftest import setup_entry

from .conftest import NOW

pytestmark = pytest.mark.freeze_time(NOW)

SENTENCES = Path(__file__).parents[2] / "examples" / "custom_sentences"


def _install_sentences(config_dir: str) -> None:
    """Copy the shipped sentences where the README tells users to put them."""
    for language in ("en", "nl"):
        target = Path(config_dir, "custom_sentences", language)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(SENTENCES / language / "pbx_hub.yaml", target)


@pytest.fixture
async def voice(
    hass: HomeAssistant,
    vendor: str,
    mock_config_entry: MockConfigEntry,
    mock_client: MagicMock,
) -> MagicMock:
    """The entry set up, with the shipped sentences and the agents loaded."""
    await hass.async_add_executor_job(_install_sentences, hass.config.path())
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    assert await async_setup_component(hass, "intent", {})
    await setup_entry(hass, mock_config_entry)
    # The real number check, so a bad number is refused as it would be.
    client_class = VENDORS[vendor].client_class
    mock_client.normalize_number.side_effect = lambda number: (
        client_class.normalize_number(mock_client, number)
    )
    return mock_client


async def _say(hass: HomeAssistant, text: str, language: str = "en") -> Any:
    result = await conversation.async_converse(
        hass, text, None, Context(), language=language
    )
    return result.response


def _speech(response: Any) -> str:
    return str(response.speech["plain"]["speech"])


@pytest.mark.parametrize("vendor", ["pbxware"])
async def test_who_is_on_the_phone(hass: HomeAssistant, voice: MagicMock) -> None:
    response = await _say(hass, "who is on the phone")
    assert response.response_type is intent.IntentResponseType.QUERY_ANSWER
    assert _speech(response) == "On the phone: Sophie Young (102)"
    response = await _say(hass, "wie belt er nu", "nl")
    assert _speech(response) == "Aan de telefoon: Sophie Young (102)"


@pytest.mark.parametrize("vendor", ["pbxware"])
async def test_dnd_for_a_person(
    hass: HomeAssistant, voice: MagicMock, entity_registry: er.EntityRegistry
) -> None:
    voice.async_set_dnd.return_value = True
    response = await _say(hass, "turn do not disturb on for Levi")
    assert _speech(response) == "Do not disturb is on for Levi Wright (100)"
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert _speech(response) == "Do not disturb is on for Levi Wright (100)"
    voice.async_set_dnd.assert_awaited_once_with("1", True)

    voice.async_set_dnd.reset_mock()
    voice.async_set_dnd.return_value = False
    response = await _say(hass, "zet niet storen uit voor 103", "nl")
    assert _speech(response) == "Niet storen staat uit voor Eva Taylor (103)"
    voice.async_set_dnd.assert_awaited_once_with("4", False)


@pytest.mark.parametrize("vendor", ["pbxware"])
async def test_unknown_and_ambiguous_people_are_refused_in_the_speakers_language(
    hass: HomeAssistant, voice: MagicMock
) -> None:
    response = await _say(hass, "turn dnd on for Zelda")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert _speech(response) == 'No extension on the phone system is called "Zelda".'
    response = await _say(hass, "zet niet storen aan voor Zelda", "nl")
    assert _speech(response) == 'Geen toestel op de telefooncentrale heet "Zelda".'
    voice.async_set_dnd.assert_not_awaited()

    # Two people share a first name: neither is switched, both are named.
    registry = er.async_get(hass)
    devices = {entry.device_id for entry in registry.entities.values()}
    device_registry = dr.async_get(hass)
    eva = next(
        device
        for device_id in devices
        if device_id
        and (device := device_registry.async_get(device_id)) is not None
        and device.name == "Eva Taylor (103)"
    )
    device_registry.async_update_device(eva.id, name_by_user="Levi Taylor")
    response = await _say(hass, "turn dnd on for Levi")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert "Levi Wright (100)" in _speech(response)
    assert "Levi Taylor (103)" in _speech(response)
    voice.async_set_dnd.assert_not_awaited()


@pytest.mark.parametrize("vendor", ["voipcloud"])
async def test_place_a_call_to_a_number_and_to_a_colleague(
    hass: HomeAssistant, voice: MagicMock
) -> None:
    response = await _say(hass, "call 0412 345 678 from John Smith")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert _speech(response) == "Calling 0412 345 678 from John Smith (1001)"
    voice.async_click_to_call.assert_awaited_once_with("1001", "0412345678")

    voice.async_click_to_call.reset_mock()
    response = await _say(hass, "bel Liam voor John", "nl")
    assert _speech(response) == "John Smith (1001) belt Liam Anderson (1002)"
    voice.async_click_to_call.assert_awaited_once_with("1001", "1002")


@pytest.mark.parametrize("vendor", ["voipcloud"])
async def test_an_invalid_number_is_the_actions_translated_error(
    hass: HomeAssistant, voice: MagicMock
) -> None:
    response = await _say(hass, "call 12ab from John Smith")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert "12ab" in _speech(response)
    voice.async_click_to_call.assert_not_awaited()


@pytest.mark.parametrize("vendor", ["voipcloud"])
async def test_missed_calls_today(
    hass: HomeAssistant, voice: MagicMock, entity_registry: er.EntityRegistry
) -> None:
    missed = {
        entry.entity_id: hass.states.get(entry.entity_id)
        for entry in entity_registry.entities.values()
        if entry.platform == DOMAIN and entry.translation_key == "missed_calls"
    }
    counts = [int(state.state) for state in missed.values() if state is not None]
    assert sum(counts) > 0  # the fixture has missed calls today
    response = await _say(hass, "how many missed calls today")
    assert response.response_type is intent.IntentResponseType.QUERY_ANSWER
    assert _speech(response) == f"{sum(counts)} calls were missed today"


@pytest.mark.parametrize("vendor", ["tariscope"])
async def test_a_pbx_without_the_data_says_so(
    hass: HomeAssistant, voice: MagicMock
) -> None:
    response = await _say(hass, "who is on the phone")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert _speech(response) == ("None of the phone systems shows who is on the phone.")


@pytest.mark.parametrize("vendor", ["voipcloud"])
async def test_llm_tool_call_reaches_the_vendor(
    hass: HomeAssistant, voice: MagicMock, entity_registry: er.EntityRegistry
) -> None:
    entity_id = next(
        entry.entity_id
        for entry in entity_registry.entities.values()
        if entry.platform == DOMAIN
    )
    async_expose_entity(hass, conversation.DOMAIN, entity_id, True)
    llm_context = llm.LLMContext(
        platform="test",
        context=Context(),
        language="en",
        assistant=conversation.DOMAIN,
        device_id=None,
    )
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context)
    tools = {tool.name: tool for tool in api.tools}
    tool_name = f"{DOMAIN}__PbxHubPlaceCall"
    assert tool_name in tools
    assert "phone call" in (tools[tool_name].description or "")
    result = await api.async_call_tool(
        llm.ToolInput(
            tool_name=tool_name,
            tool_args={"caller": "1001", "number": "+61 412 345 678"},
        )
    )
    assert not result.error
    assert result.data["response_type"] == "action_done"
    assert result.data["speech_slots"]["number"] == "+61 412 345 678"
    voice.async_click_to_call.assert_awaited_once_with("1001", "+61412345678")


@pytest.mark.parametrize("vendor", ["voipcloud"])
async def test_no_tools_while_no_pbx_entity_is_exposed(
    hass: HomeAssistant, voice: MagicMock, entity_registry: er.EntityRegistry
) -> None:
    for entry in entity_registry.entities.values():
        if entry.platform == DOMAIN:
            async_expose_entity(hass, conversation.DOMAIN, entry.entity_id, False)
    llm_context = llm.LLMContext(
        platform="test",
        context=Context(),
        language="en",
        assistant=conversation.DOMAIN,
        device_id=None,
    )
    api = await llm.async_get_api(hass, llm.LLM_API_ASSIST, llm_context)
    assert not [tool for tool in api.tools if tool.name.startswith(f"{DOMAIN}__")]


@pytest.mark.parametrize("vendor", ["voipcenter"])
async def test_a_colleague_is_called_on_the_number_people_know(
    hass: HomeAssistant, voice: MagicMock
) -> None:
    """A SIP account's login (sipaccount2) is no number to dial: the
    colleague's direct number is, as the device name shows it.
    """
    response = await _say(hass, "call Olivia for Lucas")
    assert _speech(response) == (
        "Calling Olivia Hermans (097915890) from Lucas Janssens (039542205)"
    )
    voice.async_click_to_call.assert_awaited_once_with("sipaccount1", "097915890")

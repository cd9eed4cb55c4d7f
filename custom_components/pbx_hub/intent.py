"""Voice intents: place a call, who is on the phone, missed calls, DND."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, override

from homeassistant.const import SERVICE_TURN_OFF, SERVICE_TURN_ON, STATE_ON, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
    intent,
)
from homeassistant.helpers.translation import async_get_translations
import probatio as vol

from .client.action_input import Refusal
from .client.people import Person, count_total, one_person
from .const import DOMAIN
from .people import async_people

INTENT_PLACE_CALL = "PbxHubPlaceCall"
INTENT_WHO_IS_ON_THE_PHONE = "PbxHubWhoIsOnThePhone"
INTENT_MISSED_CALLS = "PbxHubMissedCalls"
INTENT_SET_DND = "PbxHubSetDoNotDisturb"

ON_CALL_STATES: dict[tuple[str, str], set[str]] = {
    (Platform.BINARY_SENSOR.value, "on_call"): {STATE_ON},
    (Platform.SENSOR.value, "call_state"): {"ringing", "in_call"},
}
"""The entities that tell a person is on the phone, and their on-the-phone states."""
MISSED_CALLS_KEY = "missed_calls"
DND_KEY = "dnd"


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register PBX Hub's intents (Home Assistant calls this once)."""
    for handler in (
        PlaceCallIntent(),
        WhoIsOnThePhoneIntent(),
        MissedCallsIntent(),
        SetDoNotDisturbIntent(),
    ):
        intent.async_register(hass, handler)


class IntentRefused(Exception):
    """An intent that cannot be carried out, with a translated reason."""

    def __init__(self, key: str, **placeholders: str) -> None:
        """Name the reason by its key in the ``exceptions`` translations."""
        super().__init__(key)
        self.refusal = Refusal(key, placeholders)


async def _localized(hass: HomeAssistant, language: str, refusal: Refusal) -> str:
    """The refusal's ``exceptions`` translation in ``language``, filled in."""
    translations = await async_get_translations(hass, language, "exceptions", {DOMAIN})
    key = refusal.key
    text = translations.get(f"component.{DOMAIN}.exceptions.{key}.message", key)
    try:
        return text.format(**refusal.placeholders)
    except KeyError, IndexError, ValueError:
        return text


@dataclass(frozen=True)
class Ask:
    """One request to an intent: where, what was said, and the answer to fill."""

    hass: HomeAssistant
    slots: dict[str, Any]
    request: intent.Intent
    response: intent.IntentResponse


class PbxIntentHandler(intent.IntentHandler):
    """An intent whose refusals answer in the speaker's language."""

    def __init__(self) -> None:
        """Offer the intent only where PBX Hub's entities are."""
        self.platforms = {DOMAIN}

    @override
    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Answer, or say in the speaker's language why not."""
        slots = self.async_validate_slots(intent_obj.slots)
        values = {name: slot["value"] for name, slot in slots.items()}
        response = intent_obj.create_response()
        try:
            await self._async_answer(Ask(intent_obj.hass, values, intent_obj, response))
        except IntentRefused as refused:
            message = await _localized(
                intent_obj.hass, intent_obj.language, refused.refusal
            )
            response.async_set_error(
                intent.IntentResponseErrorCode.NO_VALID_TARGETS, message
            )
        except HomeAssistantError as err:
            # The action's own translated error (a bad number, the PBX down).
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE, str(err)
            )
        return response

    async def _async_answer(self, ask: Ask) -> None:
        """Carry the intent out and fill in the response's speech slots."""
        raise NotImplementedError


def _one_person(hass: HomeAssistant, name: str) -> Person:
    """The one person ``name`` means, or a refusal naming why not."""
    found = one_person(async_people(hass), name)
    if isinstance(found, Refusal):
        raise IntentRefused(found.key, **found.placeholders)
    return found


def _person_entities(
    hass: HomeAssistant, person: Person | None, keys: set[tuple[str, str]]
) -> list[tuple[er.RegistryEntry, State]]:
    """The entities of ``person`` (or all) keyed in ``keys``, with their states."""
    registry = er.async_get(hass)
    found = []
    for entry in registry.entities.values():
        if entry.platform != DOMAIN or entry.device_id is None:
            continue
        if (entry.domain, entry.translation_key) not in keys:
            continue
        if person is not None and entry.device_id != person.device_id:
            continue
        if (state := hass.states.get(entry.entity_id)) is not None:
            found.append((entry, state))
    return found


def _device_name(hass: HomeAssistant, device_id: str | None) -> str:
    device = dr.async_get(hass).async_get(device_id) if device_id else None
    if device is None:
        return ""
    return device.name_by_user or device.name or ""


class PlaceCallIntent(PbxIntentHandler):
    """Ring an extension and connect it to a number or another person."""

    intent_type = INTENT_PLACE_CALL
    description = (
        "Places a phone call through the business phone system (PBX): rings the"
        " caller's extension and connects it to a phone number or to a"
        " colleague's extension. Give `caller` (the person or extension number"
        " placing the call) and either `number` or `contact` (a colleague's"
        " name or extension)."
    )

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        """Who calls, and a number or a colleague to call."""
        return {
            vol.Required("caller"): intent.non_empty_string,
            vol.Optional("number"): intent.non_empty_string,
            vol.Optional("contact"): intent.non_empty_string,
        }

    @override
    async def _async_answer(self, ask: Ask) -> None:
        caller = _one_person(ask.hass, ask.slots["caller"])
        if (number := ask.slots.get("number")) is None:
            if (contact := ask.slots.get("contact")) is None:
                raise IntentRefused("intent_call_target_required")
            callee = _one_person(ask.hass, contact)
            number = callee.number
            ask.response.async_set_speech_slots({"contact": callee.name})
        await ask.hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {"device_id": caller.device_id, "number": number},
            blocking=True,
            context=ask.request.context,
        )
        ask.response.async_set_speech_slots(
            {**ask.response.speech_slots, "caller": caller.name, "number": number}
        )


class WhoIsOnThePhoneIntent(PbxIntentHandler):
    """Who is on the phone now."""

    intent_type = INTENT_WHO_IS_ON_THE_PHONE
    description = (
        "Tells who is on the phone right now on the business phone system (PBX):"
        " the people whose extension is ringing or in a call."
    )

    @override
    async def _async_answer(self, ask: Ask) -> None:
        entities = _person_entities(ask.hass, None, set(ON_CALL_STATES))
        if not entities:
            raise IntentRefused("intent_no_call_state")
        people = sorted(
            {
                _device_name(ask.hass, entry.device_id)
                for entry, state in entities
                if state.state
                in ON_CALL_STATES[(entry.domain, entry.translation_key or "")]
            }
        )
        ask.response.response_type = intent.IntentResponseType.QUERY_ANSWER
        ask.response.async_set_speech_slots({"people": people, "count": len(people)})


class MissedCallsIntent(PbxIntentHandler):
    """How many calls were missed today, by everyone or by one person."""

    intent_type = INTENT_MISSED_CALLS
    description = (
        "Tells how many phone calls were missed today on the business phone"
        " system (PBX), in total or for one person (`person`: a name or"
        " extension number)."
    )

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        """An optional person."""
        return {vol.Optional("person"): intent.non_empty_string}

    @override
    async def _async_answer(self, ask: Ask) -> None:
        spoken = ask.slots.get("person")
        person = None if spoken is None else _one_person(ask.hass, spoken)
        entities = _person_entities(
            ask.hass, person, {(Platform.SENSOR, MISSED_CALLS_KEY)}
        )
        count = count_total(state.state for _entry, state in entities)
        if count is None:
            raise IntentRefused("intent_no_missed_calls")
        ask.response.response_type = intent.IntentResponseType.QUERY_ANSWER
        ask.response.async_set_speech_slots(
            {"count": count, "person": person.name if person else None}
        )


class SetDoNotDisturbIntent(PbxIntentHandler):
    """Turn do-not-disturb on or off for a person."""

    intent_type = INTENT_SET_DND
    description = (
        "Turns do-not-disturb on or off for a person's phone extension on the"
        " business phone system (PBX). Give `person` (a name or extension"
        " number) and `state` (true for on, false for off)."
    )

    @property
    @override
    def slot_schema(self) -> dict[Any, Any]:
        """Who, and on or off."""
        return {
            vol.Required("person"): intent.non_empty_string,
            vol.Required("state"): cv.boolean,
        }

    @override
    async def _async_answer(self, ask: Ask) -> None:
        person = _one_person(ask.hass, ask.slots["person"])
        switches = _person_entities(ask.hass, person, {(Platform.SWITCH, DND_KEY)})
        if not switches:
            raise IntentRefused("intent_no_dnd", name=person.name)
        entry, _state = switches[0]
        await ask.hass.services.async_call(
            Platform.SWITCH,
            SERVICE_TURN_ON if ask.slots["state"] else SERVICE_TURN_OFF,
            {"entity_id": entry.entity_id},
            blocking=True,
            context=ask.request.context,
        )
        ask.response.async_set_speech_slots(
            {"person": person.name, "state": bool(ask.slots["state"])}
        )

"""The automation examples of docs/examples.md and the README, run: each file
in examples/automations is loaded into Home Assistant's automation integration
as it stands, with PBX Hub set up against a simulator, and must act.

The entity ids in the examples are the ones PBX Hub creates for the simulator
data each test sets up: a PBXware extension "Anna Jansen" (530) and one called
"Reception" (200), a VoIPcloud queue "Sales", and the config entry id the
examples name (01J0000000000000000000000, which a user replaces with their own).
The calendar and the alarm are Home Assistant's own: a calendar entity of a test
platform, and the ``manual`` alarm control panel.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
import re
from typing import Any, Literal

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import conversation, persistent_notification
from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import DATA_COMPONENT as CALENDAR_COMPONENT
from homeassistant.components.conversation.models import AbstractConversationAgent
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import load_yaml
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    setup_test_component_platform,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from simulator import PbxwareSimulator, VoipcloudSimulator

from .conftest import setup_entry
from .vendors import pbxware_entry, voipcloud_entry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples" / "automations"
CARDS = ROOT / "examples" / "dashboards"
EXAMPLE_ENTRY_ID = "01J0000000000000000000000"
"""The config entry id the examples name; the tests give their entry that id."""
EXAMPLE_SHOWN = re.compile(
    r"<!-- example: (?P<path>[\w/.-]+) -->\n```yaml\n(?P<body>.*?)```", re.DOTALL
)


def _state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, f"{entity_id} does not exist"
    return current.state


def _example(name: str) -> Any:
    return load_yaml(EXAMPLES / name)


async def _load_automations(hass: HomeAssistant, name: str) -> None:
    assert await async_setup_component(
        hass, "automation", {"automation": _example(name)}
    )
    await hass.async_block_till_done()
    loaded = hass.states.async_all("automation")
    assert loaded, f"{name} did not load"
    assert {a.attributes.get("id") for a in loaded} == {
        automation["id"] for automation in _example(name)
    }


@pytest.fixture(autouse=True)
async def stop_automations(hass: HomeAssistant) -> AsyncIterator[None]:
    """Stop the automations after each test: time and calendar triggers keep
    timers until their automation stops.
    """
    yield
    if hass.services.has_service("automation", "turn_off"):
        await hass.services.async_call(
            "automation", "turn_off", {"entity_id": "all"}, blocking=True
        )


def _shown(document: str) -> dict[str, str]:
    text = (ROOT / document).read_text()
    return {m["path"]: m["body"] for m in EXAMPLE_SHOWN.finditer(text)}


def test_docs_show_every_example_verbatim() -> None:
    """docs/examples.md shows every file; the README a few of them, verbatim."""
    files = {
        str(path.relative_to(ROOT)): path.read_text()
        for path in sorted([*EXAMPLES.glob("*.yaml"), *CARDS.glob("*.yaml")])
    }
    assert len(files) >= 4
    assert _shown("docs/examples.md") == files
    readme = _shown("README.md")
    assert readme
    assert readme == {path: files[path] for path in readme}


def test_every_example_has_its_own_id() -> None:
    """The automation editor opens an automation of automations.yaml only by
    its id.
    """
    ids = [
        automation.get("id")
        for path in sorted(EXAMPLES.glob("*.yaml"))
        for automation in _example(path.name)
    ]
    assert all(isinstance(i, str) and i for i in ids), ids
    assert len(set(ids)) == len(ids)


class _WorkCalendar(CalendarEntity):
    """A calendar with the events a test gives it."""

    _attr_name = "Work"

    def __init__(self, events: list[CalendarEvent]) -> None:
        self.events = events

    @property
    def event(self) -> CalendarEvent | None:
        now = dt_util.now()
        return next(
            (
                e
                for e in self.events
                if e.start_datetime_local <= now < e.end_datetime_local
            ),
            None,
        )

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        return [
            e
            for e in self.events
            if e.start_datetime_local < end_date and e.end_datetime_local > start_date
        ]


async def _tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, to: datetime
) -> None:
    freezer.move_to(to)
    async_fire_time_changed(hass, to)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_dnd_during_meetings(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    """DND is on from the first meeting's start to the last overlapping one's
    end; an all-day event neither turns it on nor keeps it on.
    """
    anna = pbxware_sim.add_extension(name="Anna Jansen", ext="530", registered=True)
    await setup_entry(hass, pbxware_entry(pbxware_sim, entry_id=EXAMPLE_ENTRY_ID))
    switch = "switch.anna_jansen_530_do_not_disturb"
    assert _state(hass, switch) == STATE_OFF

    start = dt_util.now().replace(microsecond=0) + timedelta(minutes=5)
    standup = CalendarEvent(
        start=start, end=start + timedelta(minutes=30), summary="Stand-up"
    )
    review = CalendarEvent(
        start=start + timedelta(minutes=20),
        end=start + timedelta(minutes=50),
        summary="Review",
    )
    tomorrow = dt_util.as_local(start).date() + timedelta(days=1)
    holiday = CalendarEvent(
        start=tomorrow, end=tomorrow + timedelta(days=1), summary="Team day"
    )
    midnight = holiday.start_datetime_local
    call = CalendarEvent(
        start=midnight + timedelta(hours=9),
        end=midnight + timedelta(hours=9, minutes=30),
        summary="Call",
    )
    setup_test_component_platform(
        hass, "calendar", [_WorkCalendar([standup, review, holiday, call])]
    )
    assert await async_setup_component(
        hass, "calendar", {"calendar": {"platform": "test"}}
    )
    await hass.async_block_till_done()
    await _load_automations(hass, "dnd_during_meetings.yaml")

    await _tick(hass, freezer, start - timedelta(minutes=1))
    assert anna.dnd is False
    await _tick(hass, freezer, start + timedelta(seconds=1))
    assert anna.dnd is True
    assert _state(hass, switch) == STATE_ON
    await _tick(hass, freezer, review.start + timedelta(seconds=1))
    await _tick(hass, freezer, standup.end + timedelta(seconds=1))
    assert anna.dnd is True, "the review is still on"
    await _tick(hass, freezer, review.end + timedelta(seconds=1))
    assert anna.dnd is False
    assert _state(hass, switch) == STATE_OFF

    # The all-day event: no DND at midnight, and the 9:00 call still ends it.
    await _tick(hass, freezer, midnight - timedelta(minutes=1))
    await _tick(hass, freezer, midnight + timedelta(seconds=1))
    assert _state(hass, "calendar.work") == STATE_ON
    assert anna.dnd is False
    await _tick(hass, freezer, call.start + timedelta(seconds=1))
    assert anna.dnd is True
    await _tick(hass, freezer, call.end + timedelta(seconds=1))
    assert anna.dnd is False
    assert _state(hass, "calendar.work") == STATE_ON, "the all-day event is on"
    # The calendar keeps an alarm for the all-day event's end until it goes.
    await hass.data[CALENDAR_COMPONENT].async_remove_entity("calendar.work")


async def test_abandoned_call_notification(
    hass: HomeAssistant,
    voipcloud_sim: VoipcloudSimulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim = voipcloud_sim
    now = dt_util.utcnow()
    sim.add_queue_call("Sales", start=now - timedelta(hours=1))
    await setup_entry(hass, voipcloud_entry(sim, entry_id=EXAMPLE_ENTRY_ID))
    assert await async_setup_component(hass, "notify", {})
    await _load_automations(hass, "abandoned_call_notification.yaml")
    assert persistent_notification._async_get_or_create_notifications(hass) == {}

    started = now - timedelta(seconds=50)
    sim.add_queue_call(
        "Sales",
        status="abandoned",
        start=started,
        wait=10,
        caller="0299",
        caller_name="Jo Peeters",
    )
    await _tick(hass, freezer, now + timedelta(seconds=61))
    notifications = list(
        persistent_notification._async_get_or_create_notifications(hass).values()
    )
    assert len(notifications) == 1
    assert notifications[0]["title"] == "Abandoned call in Sales"
    local = dt_util.as_local(started).strftime("%H:%M")
    assert notifications[0]["message"] == (
        f"Jo Peeters (0299) hung up waiting in Sales at {local}."
    )


async def test_alarm_calls_security(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    sim = voipcloud_sim
    await setup_entry(hass, voipcloud_entry(sim, entry_id=EXAMPLE_ENTRY_ID))
    assert await async_setup_component(
        hass,
        "alarm_control_panel",
        {
            "alarm_control_panel": {
                "platform": "manual",
                "name": "Office",
                "arming_time": 0,
                "delay_time": 0,
                "code_arm_required": False,
            }
        },
    )
    await hass.async_block_till_done()
    await _load_automations(hass, "alarm_calls_security.yaml")
    panel = {"entity_id": "alarm_control_panel.office"}
    await hass.services.async_call(
        "alarm_control_panel", "alarm_arm_away", panel, blocking=True
    )
    await hass.async_block_till_done()
    assert sim.calls_to_number == []

    await hass.services.async_call(
        "alarm_control_panel", "alarm_trigger", panel, blocking=True
    )
    await hass.async_block_till_done()
    assert _state(hass, "alarm_control_panel.office") == "triggered"
    assert [(c.user_number, c.number_to_call) for c in sim.calls_to_number] == [
        ("1001", "+61290000000")
    ]
    # The manual panel returns to armed after its trigger time (120 s).
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=121))
    await hass.async_block_till_done()
    assert len(sim.calls_to_number) == 1


async def test_voice_dnd_for_reception(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    reception = pbxware_sim.add_extension(name="Reception", ext="200", registered=True)
    await setup_entry(hass, pbxware_entry(pbxware_sim, entry_id=EXAMPLE_ENTRY_ID))
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await _load_automations(hass, "voice_dnd_reception.yaml")

    async def say(text: str) -> str:
        result = await hass.services.async_call(
            "conversation",
            "process",
            {"text": text, "language": "en"},
            blocking=True,
            return_response=True,
        )
        assert result is not None
        return str(result["response"]["speech"]["plain"]["speech"])

    assert reception.dnd is False
    answer = await say("Turn on do not disturb for reception")
    assert answer == "Do not disturb is on for reception."
    assert reception.dnd is True
    assert _state(hass, "switch.reception_200_do_not_disturb") == STATE_ON

    assert await say("take reception off do not disturb") == (
        "Do not disturb is off for reception."
    )
    assert reception.dnd is False


class _LlmAgent(AbstractConversationAgent):
    """Stands in for an LLM conversation agent: answers everything itself."""

    @property
    def supported_languages(self) -> Literal["*"]:
        return "*"

    async def async_process(
        self, user_input: conversation.ConversationInput
    ) -> conversation.ConversationResult:
        response = intent.IntentResponse(language=user_input.language)
        response.async_set_speech("The LLM answered.")
        return conversation.ConversationResult(
            response=response, conversation_id=user_input.conversation_id
        )


async def test_voice_dnd_with_an_llm_agent(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """What docs/examples.md says of LLM agents: an Assist pipeline matches the
    sentence triggers before asking its agent, even with "Prefer handling
    commands locally" off; conversation.process with the agent's id does not.
    """
    reception = pbxware_sim.add_extension(name="Reception", ext="200", registered=True)
    await setup_entry(hass, pbxware_entry(pbxware_sim, entry_id=EXAMPLE_ENTRY_ID))
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "assist_pipeline", {})
    await _load_automations(hass, "voice_dnd_reception.yaml")
    llm_entry = MockConfigEntry(domain="test")
    llm_entry.add_to_hass(hass)
    conversation.async_set_agent(hass, llm_entry, _LlmAgent())

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "assist_pipeline/pipeline/create",
            "name": "LLM",
            "language": "en",
            "conversation_engine": llm_entry.entry_id,
            "conversation_language": "en",
            "prefer_local_intents": False,
            "stt_engine": None,
            "stt_language": None,
            "tts_engine": None,
            "tts_language": None,
            "tts_voice": None,
            "wake_word_entity": None,
            "wake_word_id": None,
        }
    )
    created = await client.receive_json()
    assert created["success"], created

    async def assist(text: str) -> str:
        await client.send_json_auto_id(
            {
                "type": "assist_pipeline/run",
                "start_stage": "intent",
                "end_stage": "intent",
                "input": {"text": text},
                "pipeline": created["result"]["id"],
            }
        )
        while (message := await client.receive_json())["type"] != "event" or (
            message["event"]["type"] != "intent-end"
        ):
            assert message.get("success", True), message
        output = message["event"]["data"]["intent_output"]
        return str(output["response"]["speech"]["plain"]["speech"])

    assert await assist("What is on tonight?") == "The LLM answered."
    assert await assist("turn on do not disturb for reception") == (
        "Do not disturb is on for reception."
    )
    assert reception.dnd is True

    result = await hass.services.async_call(
        "conversation",
        "process",
        {"text": "take reception off do not disturb", "agent_id": llm_entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    response: Any = result["response"]
    assert response["speech"]["plain"]["speech"] == "The LLM answered."
    assert reception.dnd is True


async def test_main_number_to_voicemail(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    sim = pbxware_sim
    sim.add_extension(name="Anna Jansen", ext="530")
    sim.add_extension(name="Reception", ext="200")
    evening = dt_util.now().replace(hour=17, minute=59, second=50, microsecond=0)
    freezer.move_to(evening)
    await setup_entry(hass, pbxware_entry(sim, entry_id=EXAMPLE_ENTRY_ID))
    await _load_automations(hass, "main_number_to_voicemail.yaml")
    main = next(d for d in sim.tenant().dids.values() if d.number == "31201234500")
    assert (main.dest_type, main.destination) == (0, "100")

    await _tick(hass, freezer, evening + timedelta(seconds=11))
    assert (main.dest_type, main.destination) == (7, "530")
    sensor = "sensor.pbxware_127_0_0_1_number_31201234500"
    assert _state(hass, sensor) == "Voicemail 530"
    assert hass.states.get(sensor).attributes["destination_type"] == "voicemail"

    morning = evening.replace(hour=8, minute=30, second=1) + timedelta(days=1)
    await _tick(hass, freezer, morning)
    assert (main.dest_type, main.destination) == (0, "200")


async def test_pbx_service_down(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator, freezer: FrozenDateTimeFactory
) -> None:
    await setup_entry(hass, pbxware_entry(pbxware_sim, entry_id=EXAMPLE_ENTRY_ID))
    assert await async_setup_component(hass, "notify", {})
    await _load_automations(hass, "pbx_service_down.yaml")
    assert persistent_notification._async_get_or_create_notifications(hass) == {}

    pbxware_sim.services["asterisk"] = "stopped"
    pbxware_sim.services["ntpd"] = "stopped"
    await _tick(hass, freezer, dt_util.utcnow() + timedelta(seconds=61))
    notifications = list(
        persistent_notification._async_get_or_create_notifications(hass).values()
    )
    assert [n["message"] for n in notifications] == [
        "Not running on the PBX: asterisk, ntpd"
    ]


async def test_call_front_desk_card(
    hass: HomeAssistant, voipcloud_sim: VoipcloudSimulator
) -> None:
    """The card's tap performs the action it names with its data, as the
    dashboard does; the PBX places the call.
    """
    sim = voipcloud_sim
    await setup_entry(hass, voipcloud_entry(sim, entry_id=EXAMPLE_ENTRY_ID))
    card = load_yaml(CARDS / "call_front_desk_card.yaml")
    assert card["type"] == "button"
    tap = card["tap_action"]
    assert tap["action"] == "perform-action"
    domain, service = tap["perform_action"].split(".")
    await hass.services.async_call(domain, service, tap["data"], blocking=True)
    assert [(c.user_number, c.number_to_call) for c in sim.calls_to_number] == [
        ("1001", "+61290000000")
    ]

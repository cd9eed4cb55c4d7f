"""The fault matrix: every vendor against every fault its simulator can inject,
through Home Assistant.

For each pair the outcome is written down in ``EXPECTED`` (not derived from
what the code does, so that a regression fails), checked against a loaded
entry, and rendered to ``docs/reliability.md``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as dt_time, timedelta
from enum import StrEnum
import json
import logging
from pathlib import Path
import time
from typing import Any

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_ON,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant, ServiceResponse
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.entity_platform import async_get_platforms
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import TOPICS, Cadence, Topic
from custom_components.pbx_hub.client.base import DEFAULT_REQUEST_TIMEOUT
from custom_components.pbx_hub.const import DOMAIN
from custom_components.pbx_hub.switch import PbxSwitch
from simulator import (
    Fault,
    PbxwareSimulator,
    SimulatorBase,
    TariscopeSimulator,
    Tim4bizSimulator,
    VoipcenterSimulator,
    VoipcloudSimulator,
)
from simulator.core import (
    BODY_FAULTS,
    EXTREME_TIME,
    FLOOD_ROWS,
    HOSTILE_CHARSETS,
    NESTING_DEPTH,
    PAGING_FAULTS,
    STREAM_FAULTS,
)

from .addresses import render_addresses
from .conftest import setup_entry
from .vendor_sims import DONE, SETTINGS

pytestmark = pytest.mark.slow

SHORT_TIMEOUT = 1.0
"""Client timeout, in seconds, for the faults that are about time: long
enough that a loaded machine still sends the request in time (the simulator
shares the test's event loop).
"""
DRIP_PAUSE = 0.25
"""Seconds between the slow drip's ten pieces: 2.25 s, over twice the short
timeout."""
EFFECT_WAIT = 5.0
"""Seconds an action carried out behind a late answer may take to show in
the simulator, after the client gave up on it."""
EFFECT_POLL = 0.05
"""Seconds between two looks for that effect."""
CLOCK_START = datetime(2026, 11, 26, 4, tzinfo=UTC)
"""Where every cell's clock starts, whatever the time of day (then it stands
still, or runs on at the real pace), so that no day's or month's figures
change during a cell, even an hour's pause: 20:00 in Home Assistant's test
zone (US/Pacific), 04:00 UTC and 05:00 in Belgium (VoipCenter's calls today),
hours from any midnight and days from a month's end; and after every seeded
TIM4biz call of the day has ended (07:00 to 19:30), whether the day's local
times are read in Home Assistant's zone or, as its simulator does, in UTC.
Within the period get_charges asks for.
"""
STRINGS: dict[str, Any] = json.loads(
    (
        Path(__file__).parent.parent / "custom_components/pbx_hub/strings.json"
    ).read_text()
)


class MatrixFault(StrEnum):
    """A column of the matrix: one fault, as the simulator is told to show it."""

    TIMEOUT = "timeout"
    REFUSED = "connection refused"
    SERVER_ERROR = "500"
    BAD_GATEWAY = "502 (HTML)"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    RATE_LIMIT = "429"
    RATE_LIMIT_HEADERS = "429 + headers"
    NOT_JSON = "HTML instead of JSON"
    MALFORMED_JSON = "malformed JSON"
    TRUNCATED = "truncated"
    EMPTY = "empty body"
    LOOSE_TYPES = "loose types"
    SWAPPED_TYPES = "swapped types"
    WRONG_SHAPES = "wrong shapes"
    MISSING_KEYS = "missing keys"
    HUGE = "10 MB body"
    HUGE_GZIP = "10 MB body, gzip"
    DEEP_NESTING = "deep nesting"
    HOSTILE_CHARSET = "hostile charset"
    ROW_FLOOD = "row flood"
    EXTREME_VALUES = "extreme values"
    ENDLESS_PAGING = "endless paging"
    SLOW_DRIP = "slow drip"
    SLOW_DRIP_WITHIN = "slow drip (within timeout)"


@dataclass(frozen=True, kw_only=True)
class Injection:
    """How the simulator shows a matrix fault."""

    fault: Fault | None
    """``None``: the simulator stops listening instead."""
    retry_after: int | None = None
    latency: float = 0.5
    real_clock: bool = False
    """The clock runs on from ``CLOCK_START`` at the real pace: standing still,
    asyncio's clock would fire no timeout and end no paced stream.
    """
    short_timeout: bool = False
    """The client waits ``SHORT_TIMEOUT`` seconds, not its default 10."""

    @property
    def carried_out(self) -> bool:
        """Whether the simulator carries a request out behind the fault: it
        answers as usual and only the answer is broken or slow, so an action
        takes effect although the client may see an error. (A timeout holds
        the request for a minute first: longer than the test runs.)
        """
        return self.fault in BODY_FAULTS | STREAM_FAULTS | PAGING_FAULTS


INJECTIONS: dict[MatrixFault, Injection] = {
    MatrixFault.TIMEOUT: Injection(
        fault=Fault.TIMEOUT, real_clock=True, short_timeout=True
    ),
    MatrixFault.REFUSED: Injection(fault=None),
    MatrixFault.SERVER_ERROR: Injection(fault=Fault.SERVER_ERROR),
    MatrixFault.BAD_GATEWAY: Injection(fault=Fault.BAD_GATEWAY),
    MatrixFault.UNAUTHORIZED: Injection(fault=Fault.AUTH_REVOKED),
    MatrixFault.FORBIDDEN: Injection(fault=Fault.FORBIDDEN),
    MatrixFault.RATE_LIMIT: Injection(fault=Fault.RATE_LIMIT),
    MatrixFault.RATE_LIMIT_HEADERS: Injection(
        fault=Fault.RATE_LIMIT_HEADERS, retry_after=120
    ),
    MatrixFault.NOT_JSON: Injection(fault=Fault.MALFORMED),
    MatrixFault.MALFORMED_JSON: Injection(fault=Fault.MALFORMED_JSON),
    MatrixFault.TRUNCATED: Injection(fault=Fault.TRUNCATED),
    MatrixFault.EMPTY: Injection(fault=Fault.EMPTY),
    MatrixFault.LOOSE_TYPES: Injection(fault=Fault.LOOSE_TYPES),
    MatrixFault.SWAPPED_TYPES: Injection(fault=Fault.SWAPPED_TYPES),
    MatrixFault.WRONG_SHAPES: Injection(fault=Fault.WRONG_SHAPES),
    MatrixFault.MISSING_KEYS: Injection(fault=Fault.MISSING_KEYS),
    MatrixFault.HUGE: Injection(fault=Fault.HUGE, real_clock=True),
    MatrixFault.HUGE_GZIP: Injection(fault=Fault.HUGE_GZIP),
    MatrixFault.DEEP_NESTING: Injection(fault=Fault.DEEP_NESTING),
    MatrixFault.HOSTILE_CHARSET: Injection(fault=Fault.HOSTILE_CHARSET),
    MatrixFault.ROW_FLOOD: Injection(fault=Fault.ROW_FLOOD),
    MatrixFault.EXTREME_VALUES: Injection(fault=Fault.EXTREME_VALUES),
    MatrixFault.ENDLESS_PAGING: Injection(fault=Fault.ENDLESS_PAGING),
    MatrixFault.SLOW_DRIP: Injection(
        fault=Fault.SLOW_DRIP,
        latency=DRIP_PAUSE,
        real_clock=True,
        short_timeout=True,
    ),
    # Ten pieces 5 ms apart, well within the client's default 10 s.
    MatrixFault.SLOW_DRIP_WITHIN: Injection(
        fault=Fault.SLOW_DRIP, latency=0.005, real_clock=True
    ),
}


# ---------------------------------------------------------------- vendors


@dataclass(frozen=True, kw_only=True)
class Vendor:
    """A row of the matrix: how to start the vendor's simulator and run one
    action against it (the entry's settings are ``SETTINGS[key]``, what the
    simulator keeps of actions ``DONE[key]``, from ``vendor_sims``).
    """

    key: str
    name: str
    simulator: Callable[[], SimulatorBase]
    action_name: str
    action: Callable[[HomeAssistant, MockConfigEntry, Any], Awaitable[ServiceResponse]]
    effect: Callable[[HomeAssistant, MockConfigEntry, Any], tuple[str, ...] | None]
    """What one action adds to ``DONE[key]`` when the PBX carries it out, written
    down before it runs; ``None`` for an action that only reads.
    """
    answered: Callable[[Any, ServiceResponse, bool], None] = field(
        default=lambda sim, response, unknown: None
    )
    """Checks a successful action's response against the simulator (with
    ``unknown``, its figures are unknown: see ``Expect.unknown_figures``).
    """
    changes: Callable[[HomeAssistant, MockConfigEntry, Any], dict[str, str]] = field(
        default=lambda hass, entry, sim: {}
    )
    """The entities the action's effect changes once polled, and the state it
    gives them: the differences recovery allows beyond the counters below.
    """
    new_devices: Callable[[HomeAssistant, MockConfigEntry, Any], set[str]] = field(
        default=lambda hass, entry, sim: set()
    )
    """Identifiers of the devices the action's effect adds once polled."""
    counts_requests: frozenset[str] = frozenset()
    """Keys (the end of a unique id) of the entities that show the vendor's
    count of requests left: every poll changes them, fault or not.
    """
    options: Callable[[Any], dict[str, Any]] = field(default=lambda sim: {})


def _dnd_target(hass: HomeAssistant, entry: MockConfigEntry) -> PbxSwitch:
    """The first DND switch that is off (one already on would show no effect),
    as the last poll that succeeded saw it.
    """
    switches = sorted(
        (
            entity
            for platform in async_get_platforms(hass, DOMAIN)
            if platform.config_entry is entry and platform.domain == SWITCH_DOMAIN
            for entity in platform.entities.values()
            if isinstance(entity, PbxSwitch) and entity.entity_description.key == "dnd"
        ),
        key=lambda entity: entity.entity_id,
    )
    return next(switch for switch in switches if not switch.is_on)


async def _dnd_on(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> ServiceResponse:
    switch = _dnd_target(hass, entry)
    if switch.available:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: switch.entity_id},
            blocking=True,
        )
    else:
        # Home Assistant does not call an unavailable entity (during a pause):
        # what the switch would do if it did.
        await switch.async_turn_on()
    return None


CALLED = "+32 9 345 67 89"
"""The number every click-to-call rings."""
SUBSCRIBER_PERIOD = (date(2026, 11, 1), date(2026, 11, 25))
"""The period get_charges asks for, both days included."""
SMS = ("+44 7700 900123", "The office alarm went off.")


def _click_to_call(
    user_number: Callable[[Any], str],
) -> Callable[[HomeAssistant, MockConfigEntry, Any], Awaitable[ServiceResponse]]:
    async def call(
        hass: HomeAssistant, entry: MockConfigEntry, sim: Any
    ) -> ServiceResponse:
        await hass.services.async_call(
            DOMAIN,
            "click_to_call",
            {
                "config_entry_id": entry.entry_id,
                "user_number": user_number(sim),
                "number": CALLED,
            },
            blocking=True,
        )
        return None

    return call


async def _get_charges(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> ServiceResponse:
    subscriber = sim.subscriber(min(sim.subscribers))
    start, end = SUBSCRIBER_PERIOD
    return await hass.services.async_call(
        DOMAIN,
        "get_charges",
        {
            "config_entry_id": entry.entry_id,
            "subscriber": subscriber.email,
            "start": start.isoformat(),
            "end": end.isoformat(),
        },
        blocking=True,
        return_response=True,
    )


def _charges_answered(sim: Any, response: ServiceResponse, unknown: bool) -> None:
    """The charges the simulator holds for the subscriber and period, each
    once, and their total; with ``unknown``, each amount and so the total
    unknown.
    """
    subscriber = sim.subscriber(min(sim.subscribers))
    start, end = SUBSCRIBER_PERIOD
    charges = sim.charges_between(
        subscriber.id,
        datetime.combine(start, dt_time(), UTC),
        datetime.combine(end + timedelta(days=1), dt_time(), UTC),
    )
    assert charges  # else the comparison shows nothing
    assert response is not None
    # Ids and amounts, not texts: a "loose types" answer sends those as numbers.
    subscriber_answered = response["subscriber"]
    assert isinstance(subscriber_answered, dict)
    assert subscriber_answered["id"] == str(subscriber.id)
    answered = response["charges"]
    assert isinstance(answered, list)
    assert sorted(
        (str(c["id"]), c["amount"]) for c in answered if isinstance(c, dict)
    ) == sorted((str(c.id), None if unknown else float(c.amount)) for c in charges)
    assert len(answered) == len(charges)
    assert response["total"] == (
        None if unknown else float(sum(c.amount for c in charges))
    )


async def _send_sms(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> ServiceResponse:
    recipient, message = SMS
    await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"config_entry_id": entry.entry_id, "recipient": recipient, "message": message},
        blocking=True,
    )
    return None


def _entity_of(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    """The one entity of the entry whose unique id ends with ``_key``."""
    (entity_id,) = (
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if item.unique_id.endswith(f"_{key}")
    )
    return entity_id


def _user_device(hass: HomeAssistant, entry: MockConfigEntry, sim: Any) -> set[str]:
    """VoIPcloud lists users only through their calls: the call placed for
    the first user brings its device.
    """
    info = entry.runtime_data.info
    return {f"{info.unique_id}_ext_{sim.users[0].number}"}


CHANGED = "*"
"""In a vendor's ``changes``: the entity shows something new, whatever it is
(a time)."""


def _one_more_call(
    hass: HomeAssistant, entry: MockConfigEntry, sim: Any
) -> dict[str, str]:
    """VoipCenter lists the placed call in its history: one call more today,
    for the PBX and the calling SIP account (an outbound one, just now), whose
    placed-call event fired.
    """
    user = f"ext_{next(iter(sim.sip_accounts.values())).username}"
    changes: dict[str, str] = {}
    for key in ("pbx_calls_today", f"{user}_calls_today", f"{user}_outbound_calls"):
        entity_id = _entity_of(hass, entry, key)
        state = hass.states.get(entity_id)
        assert state is not None
        changes[entity_id] = str(int(state.state) + 1)
    for key in (f"{user}_call_placed",):
        changes[_entity_of(hass, entry, key)] = CHANGED
    return changes


VENDORS: dict[str, Vendor] = {
    vendor.key: vendor
    for vendor in (
        Vendor(
            key="pbxware",
            name="PBXware",
            simulator=lambda: PbxwareSimulator(extensions=2, seed=1),
            action_name="DND switch",
            action=_dnd_on,
            effect=lambda hass, entry, sim: (_dnd_target(hass, entry).key,),
            changes=lambda hass, entry, sim: {
                _dnd_target(hass, entry).entity_id: STATE_ON
            },
        ),
        Vendor(
            key="voipcloud",
            name="VoIPcloud",
            simulator=lambda: VoipcloudSimulator(
                clock=dt_util.utcnow, generate=False, seed=5
            ),
            action_name="click-to-call",
            action=_click_to_call(lambda sim: sim.users[0].number),
            effect=lambda hass, entry, sim: (sim.users[0].number, "+3293456789"),
            new_devices=_user_device,
        ),
        Vendor(
            key="voipcenter",
            name="VoipCenter",
            simulator=lambda: VoipcenterSimulator(clock=time.time, seed=9),
            action_name="click-to-call",
            action=_click_to_call(
                lambda sim: next(iter(sim.sip_accounts.values())).username
            ),
            effect=lambda hass, entry, sim: (
                next(iter(sim.sip_accounts.values())).username,
                "3293456789",
            ),
            changes=_one_more_call,
        ),
        Vendor(
            key="tariscope",
            name="Tariscope",
            simulator=lambda: TariscopeSimulator(
                subscribers=3,
                clock=dt_util.utcnow,
                token_lifetime=timedelta(hours=1),
                seed=8,
            ),
            options=lambda sim: {"subscribers": str(min(sim.subscribers))},
            action_name="get_charges",
            action=_get_charges,
            effect=lambda hass, entry, sim: None,
            answered=_charges_answered,
        ),
        Vendor(
            key="tim4biz",
            name="TIM4biz",
            simulator=lambda: Tim4bizSimulator(
                extensions=2, clock=dt_util.utcnow, seed=6
            ),
            action_name="send_sms",
            action=_send_sms,
            effect=lambda hass, entry, sim: ("+447700900123", SMS[1]),
            counts_requests=frozenset({"api_calls_left_hour", "api_calls_left_day"}),
        ),
    )
}


# ---------------------------------------------------------------- expected


class Poll(StrEnum):
    """What polling does while a fault lasts, and after."""

    UNAVAILABLE = "unavailable"
    """The cadences' entities go unavailable, the failure is logged once, and
    they recover by themselves once the fault is gone."""
    REAUTH = "reauth"
    """Reauthentication starts; the entities are unavailable until it is done
    (here: the entry reloaded, as a finished reauth does)."""
    PAUSED = "paused"
    """Unavailable, and no request is sent until the pause has passed; then
    recovered."""
    PERMISSION = "permission"
    """The refused topic's entities go unavailable and a repair issue names
    the missing right or licence; nothing is logged as an error, and both go
    once the right is back."""
    TOLERATED = "tolerated"
    """Entities stay available; nothing is logged as an error."""
    TOO_MANY = "too_many"
    """Unavailable as for ``UNAVAILABLE``, and a repair issue per failing
    cadence says the PBX listed more than a topic takes; both go once the
    fault is gone."""


@dataclass(frozen=True, kw_only=True)
class Expect:
    """One cell of the matrix."""

    poll: Poll
    action: str | None
    """Translation key of the action's error; ``None``: the action succeeds."""
    cadences: tuple[str, ...] = ()
    """Coordinators that fail (unavailable, reauth, paused) or whose topic is
    refused (permission). Entities that go unavailable belong to the cadences
    the vendor polls on: a poll that succeeds may still lack an item's data.
    """
    pause: int | None = None
    """Seconds no request is sent (``PAUSED``)."""
    sent: int | None = None
    """Requests a poll sends while the fault lasts, where that is the point."""
    garbled_refusal: bool = False
    """The garbled answer reads as the PBX refusing (an error code), though
    the simulator carried the action out: no client can tell the two apart,
    so the user is told ``invalid_response`` rather than ``write_unconfirmed``.
    """
    note: str | None = None
    """What the cell adds in words (why a fault does not apply)."""
    unknown_figures: bool = False
    """The action succeeds, but the figures of its answer are unknown (no
    client can read them): compared as such."""


FAST, SLOW, BOTH = ("fast",), ("slow",), ("fast", "slow")

POLLED: dict[str, tuple[str, ...]] = {
    "pbxware": BOTH,
    "voipcloud": FAST,  # status and calls
    "voipcenter": BOTH,
    "tariscope": SLOW,  # subscribers' accounts
    "tim4biz": SLOW,  # call accounting
}
"""The cadences each vendor polls something on."""


def _unavailable(vendor: str, action: str | None) -> Expect:
    return Expect(poll=Poll.UNAVAILABLE, action=action, cadences=POLLED[vendor])


def _standard(
    vendor: str, pause: int, pause_with_headers: int, *, write: bool
) -> dict[MatrixFault, Expect]:
    """What every vendor shares: transport failures and broken bodies. A
    ``write`` action whose request went out but whose answer was lost or
    unreadable, or answered with a server error (500, 502: a PHP error after
    the change, a proxy after forwarding it), may have been carried out: it
    says so (``write_unconfirmed``), rather than invite a retry that would
    call or switch twice.
    """
    broken = _unavailable(vendor, "write_unconfirmed" if write else "invalid_response")
    down = _unavailable(vendor, "cannot_connect")
    lost = _unavailable(vendor, "write_unconfirmed") if write else down
    return {
        MatrixFault.TIMEOUT: lost,
        MatrixFault.REFUSED: down,
        MatrixFault.SERVER_ERROR: lost,
        MatrixFault.BAD_GATEWAY: lost,
        MatrixFault.UNAUTHORIZED: Expect(
            poll=Poll.REAUTH, action="auth_failed", cadences=POLLED[vendor]
        ),
        MatrixFault.RATE_LIMIT: Expect(
            poll=Poll.PAUSED,
            action="rate_limited",
            cadences=POLLED[vendor],
            pause=pause,
        ),
        MatrixFault.RATE_LIMIT_HEADERS: Expect(
            poll=Poll.PAUSED,
            action="rate_limited",
            cadences=POLLED[vendor],
            pause=pause_with_headers,
        ),
        MatrixFault.NOT_JSON: broken,
        MatrixFault.MALFORMED_JSON: broken,
        MatrixFault.TRUNCATED: broken,
        MatrixFault.EMPTY: broken,
        MatrixFault.HUGE: broken,
        MatrixFault.HUGE_GZIP: broken,
        MatrixFault.DEEP_NESTING: broken,
        # Read as UTF-8, as an unknown charset is: the answer as usual.
        MatrixFault.HOSTILE_CHARSET: Expect(poll=Poll.TOLERATED, action=None),
        MatrixFault.SLOW_DRIP: lost,
        MatrixFault.SLOW_DRIP_WITHIN: Expect(poll=Poll.TOLERATED, action=None),
    }


TOLERATED = Expect(poll=Poll.TOLERATED, action=None)
NO_PAGING = Expect(poll=Poll.TOLERATED, action=None, note="no paging")
"""Endless paging against a vendor whose lists come whole."""


def _too_many(vendor: str, cadences: tuple[str, ...] | None = None) -> Expect:
    return Expect(poll=Poll.TOO_MANY, action=None, cadences=cadences or POLLED[vendor])


EXPECTED: dict[str, dict[MatrixFault, Expect]] = {
    # Errors come in a 200 body; a key without a permission is a missing
    # right (the refused action named), not a bad key: no reauth. Backoff
    # after a bare 429 starts at 60 s.
    "pbxware": {
        **_standard("pbxware", pause=60, pause_with_headers=120, write=True),
        MatrixFault.FORBIDDEN: Expect(
            poll=Poll.PERMISSION, action="missing_permission", cadences=BOTH
        ),
        # Loose types read as the same values.
        MatrixFault.LOOSE_TYPES: TOLERATED,
        # Service states that are no text, extension and DID numbers read
        # twice: both polls fail (a CPU sent as a number cannot be told from
        # a real one). DND's answer is not read.
        MatrixFault.SWAPPED_TYPES: _unavailable("pbxware", None),
        # The monitor list and the DID list must hold an object per row:
        # with none readable both polls fail (not read as "none"); DND's
        # answer is no object.
        MatrixFault.WRONG_SHAPES: _unavailable("pbxware", "write_unconfirmed"),
        # Missing values are unknown; the extension ids are the list's keys.
        MatrixFault.MISSING_KEYS: TOLERATED,
        # The extension and DID lists hold more than their maximum.
        MatrixFault.ROW_FLOOD: _too_many("pbxware"),
        # Counts and licences unknown; CPU and memory come as text.
        MatrixFault.EXTREME_VALUES: TOLERATED,
        MatrixFault.ENDLESS_PAGING: NO_PAGING,
    },
    # A 401 names the cause (bad key or whitelist); a 403, not documented, is
    # a key accepted but refused this request: a missing right naming the
    # endpoint. A bare 429 pauses the whole 15-minute window.
    "voipcloud": {
        **_standard("voipcloud", pause=900, pause_with_headers=120, write=True),
        MatrixFault.FORBIDDEN: Expect(
            poll=Poll.PERMISSION, action="missing_permission", cadences=FAST
        ),
        MatrixFault.LOOSE_TYPES: TOLERATED,
        # No call row can be read: the lists are refused (not read as "no
        # calls"). Click-to-call reads only the envelope, whose status, a
        # number, is no error.
        MatrixFault.SWAPPED_TYPES: _unavailable("voipcloud", None),
        # Click-to-call reads only the envelope, which keeps its shape.
        MatrixFault.WRONG_SHAPES: _unavailable("voipcloud", None),
        # Rows without their id or start time: none can be read.
        MatrixFault.MISSING_KEYS: _unavailable("voipcloud", None),
        # The system status's components.
        MatrixFault.ROW_FLOOD: _too_many("voipcloud"),
        # The call placed starts in year 9999: its start is unknown, and a
        # list of no row that can be read is refused. Click-to-call's
        # envelope code, 1e308, is unknown, not an error code.
        MatrixFault.EXTREME_VALUES: _unavailable("voipcloud", None),
        # The call placed fills every page: the second page brings nothing
        # new and ends the list (status, two user pages, queues, ring groups;
        # the call states' two user pages).
        MatrixFault.ENDLESS_PAGING: Expect(poll=Poll.TOLERATED, action=None, sent=7),
    },
    # Errors come in a 200 envelope (head 15: password, head 16: API user not
    # allowed, a refusal of the API user as a whole, not of one right); after
    # a refusal no request is sent until reauth, so that retries cannot lock
    # the account.
    "voipcenter": {
        **_standard("voipcenter", pause=60, pause_with_headers=120, write=True),
        MatrixFault.UNAUTHORIZED: Expect(
            poll=Poll.REAUTH, action="auth_failed", cadences=BOTH, sent=0
        ),
        MatrixFault.FORBIDDEN: Expect(
            poll=Poll.REAUTH, action="auth_failed", cadences=BOTH, sent=0
        ),
        MatrixFault.LOOSE_TYPES: TOLERATED,
        # SIP accounts that cannot be read fail the fast poll; the slow
        # lists read what they can. Click-to-call's answer must say status
        # "1"; swapped, the head's empty error fields become a number, which
        # reads as an error code the document does not know: a refusal. The
        # simulator placed the call all the same.
        MatrixFault.SWAPPED_TYPES: Expect(
            poll=Poll.UNAVAILABLE,
            action="invalid_response",
            cadences=FAST,
            garbled_refusal=True,
        ),
        MatrixFault.WRONG_SHAPES: _unavailable("voipcenter", "write_unconfirmed"),
        MatrixFault.MISSING_KEYS: Expect(
            poll=Poll.UNAVAILABLE, action="write_unconfirmed", cadences=FAST
        ),
        # The SIP accounts and today's calls; the slow lists hold names.
        MatrixFault.ROW_FLOOD: _too_many("voipcenter", FAST),
        # Its values come as text: only date-times change. Today's calls
        # then start in no year that can be read, and a call history of no
        # row that can be read is refused (not read as "no calls").
        MatrixFault.EXTREME_VALUES: Expect(
            poll=Poll.UNAVAILABLE, action=None, cadences=FAST
        ),
        MatrixFault.ENDLESS_PAGING: NO_PAGING,
    },
    # A 401 is answered by signing in once more; refused again, reauth. A 403
    # names the method the user has no right to.
    "tariscope": {
        **_standard("tariscope", pause=60, pause_with_headers=120, write=False),
        # The call, then one sign-in more; refused again: reauth.
        MatrixFault.UNAUTHORIZED: Expect(
            poll=Poll.REAUTH, action="auth_failed", cadences=SLOW, sent=2
        ),
        MatrixFault.FORBIDDEN: Expect(
            poll=Poll.PERMISSION, action="missing_permission", cadences=SLOW
        ),
        MatrixFault.LOOSE_TYPES: TOLERATED,
        # The figures sent as text read right; the subscriber the action
        # looks up answers with another id (its length): refused.
        MatrixFault.SWAPPED_TYPES: Expect(
            poll=Poll.TOLERATED, action="invalid_response"
        ),
        # Its answers are flat objects, changed at the top: the subscriber
        # looked up has no id (not "no such subscriber": that would blame the
        # user's input).
        MatrixFault.WRONG_SHAPES: _unavailable("tariscope", "invalid_response"),
        # An account without some of its figures shows them as unknown.
        MatrixFault.MISSING_KEYS: Expect(
            poll=Poll.TOLERATED, action="invalid_response"
        ),
        # The subscriber followed is looked up alone; the charges the
        # action reads are a list.
        MatrixFault.ROW_FLOOD: Expect(poll=Poll.TOLERATED, action="too_many_items"),
        # Balances unknown, and the amounts of the charges the action reads.
        MatrixFault.EXTREME_VALUES: Expect(
            poll=Poll.TOLERATED, action=None, unknown_figures=True
        ),
        MatrixFault.ENDLESS_PAGING: NO_PAGING,
    },
    # A 403 names the licence. TIM4biz sends no Retry-After: its headers say
    # how many calls are left, and none left pauses until its hour has passed.
    "tim4biz": {
        **_standard("tim4biz", pause=60, pause_with_headers=3600, write=True),
        MatrixFault.FORBIDDEN: Expect(
            poll=Poll.PERMISSION, action="missing_permission", cadences=SLOW
        ),
        MatrixFault.LOOSE_TYPES: TOLERATED,
        # Extensions sent as their length read twice: the usage is refused
        # (not read as duplicates, zeros and a stray device). SetSMS's answer
        # is not read.
        MatrixFault.SWAPPED_TYPES: _unavailable("tim4biz", None),
        MatrixFault.WRONG_SHAPES: _unavailable("tim4biz", None),
        MatrixFault.MISSING_KEYS: _unavailable("tim4biz", None),
        # An empty 200 is no usage list; SetSMS returns nothing to read.
        MatrixFault.EMPTY: _unavailable("tim4biz", None),
        MatrixFault.ROW_FLOOD: _too_many("tim4biz"),
        # Calls, talk time and cost unknown.
        MatrixFault.EXTREME_VALUES: TOLERATED,
        MatrixFault.ENDLESS_PAGING: NO_PAGING,
    },
}


# ---------------------------------------------------------------- running


def _row(topic: Topic) -> Cadence:
    """The cadence a topic counts with here: the call states (``LIVE``) with
    the fast topics, whose repair issues they share.
    """
    cadence = TOPICS[topic].cadence
    return Cadence.FAST if cadence is Cadence.LIVE else cadence


def _entities(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """Each entity of the entry, by id, and the cadence it belongs to."""
    return {entity: _row(topic).value for entity, topic in _topics(hass, entry).items()}


def _topics(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Topic]:
    """Each entity of the entry, by id, and the topic it shows."""
    return {
        entity.entity_id: entity.coordinator.topic
        for platform in async_get_platforms(hass, DOMAIN)
        if platform.config_entry is entry
        for entity in platform.entities.values()
        if isinstance(entity, CoordinatorEntity)
    }


def _available(hass: HomeAssistant, entity_ids: Iterable[str]) -> set[str]:
    return {
        entity_id
        for entity_id in entity_ids
        if (state := hass.states.get(entity_id)) is not None
        and state.state != STATE_UNAVAILABLE
    }


def _states(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each registered entity's state and attributes."""
    return {
        item.entity_id: (state.state, dict(state.attributes))
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if (state := hass.states.get(item.entity_id)) is not None
    }


def _with_keys(
    hass: HomeAssistant, entry: MockConfigEntry, keys: Iterable[str]
) -> set[str]:
    """The entry's entities whose unique id ends with one of ``keys``."""
    endings = tuple(f"_{key}" for key in keys)
    return {
        item.entity_id
        for item in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
        if endings and item.unique_id.endswith(endings)
    }


def _reauth_started(hass: HomeAssistant) -> bool:
    return any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )


def _too_many_issues(hass: HomeAssistant) -> set[str]:
    return {
        issue.issue_id
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and issue.translation_key == "too_many_items"
    }


def _permission_issues(hass: HomeAssistant) -> set[str]:
    return {
        issue.issue_id
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN
        and (issue.translation_key or "").startswith("missing_permission_")
        and "_unnamed_" not in (issue.translation_key or "")
    }


async def _refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    runtime = entry.runtime_data
    await runtime.async_refresh(Cadence.FAST)
    await runtime.async_refresh(Cadence.LIVE)
    await runtime.async_refresh(Cadence.SLOW)
    await hass.async_block_till_done()


async def _check_action(
    hass: HomeAssistant,
    vendor: Vendor,
    entry: MockConfigEntry,
    sim: Any,
    key: str | None,
    *,
    carried_out: bool = False,
    may_land_late: bool = False,
    garbled_refusal: bool = False,
    unknown_figures: bool = False,
) -> tuple[bool, HomeAssistantError | None]:
    """The action works (``key`` None), its response matches the simulator
    and the simulator carried it out; or it raises a ``HomeAssistantError``
    with the translated ``key``, and the simulator carried it out only where
    it answers as usual behind the fault (``carried_out``): on the real clock
    (``may_land_late``) the client may give up before the simulator, on the
    same loaded event loop, ran the request, so its effect is waited for.

    Return whether it took effect, and the error.
    """
    done = DONE[vendor.key](sim)
    effect = vendor.effect(hass, entry, sim)
    error: HomeAssistantError | None = None
    if key is None:
        vendor.answered(sim, await vendor.action(hass, entry, sim), unknown_figures)
    else:
        with pytest.raises(HomeAssistantError) as raised:
            await vendor.action(hass, entry, sim)
        error = raised.value
        assert error.translation_domain == DOMAIN
        assert error.translation_key == key
        assert key in STRINGS["exceptions"]
    if effect is None:
        assert key != "write_unconfirmed"  # a read has nothing to confirm
    elif key is not None and carried_out:
        # Done behind a broken answer: never told as if nothing happened,
        # unless the garbled answer itself reads as a refusal.
        assert key == ("invalid_response" if garbled_refusal else "write_unconfirmed")
    if effect is None or (key is not None and not carried_out):
        assert DONE[vendor.key](sim) == done
        return False, error
    if key is not None and may_land_late:
        for _ in range(round(EFFECT_WAIT / EFFECT_POLL)):
            if DONE[vendor.key](sim) != done:
                break
            await asyncio.sleep(EFFECT_POLL)
    assert sorted(DONE[vendor.key](sim)) == sorted([*done, effect])
    return True, error


def _failures_logged(caplog: pytest.LogCaptureFixture, name: str) -> int:
    return sum(
        1
        for record in caplog.records
        if record.levelno >= logging.ERROR
        and name in record.getMessage()
        and "fetching" in record.getMessage()
    )


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Records that show an unexpected error: what the matrix must never see."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and (record.exc_info is not None or "Unexpected" in record.getMessage())
    ]


@dataclass(frozen=True)
class _Registered:
    """The entry's devices (by identifier) and entity registry entries."""

    devices: dict[str, str]
    """Device id by identifier."""
    entities: dict[str, str | None]
    """Device id (if any) by entity id."""


def _registry(hass: HomeAssistant, entry: MockConfigEntry) -> _Registered:
    return _Registered(
        devices={
            identifier: device.id
            for device in dr.async_entries_for_config_entry(
                dr.async_get(hass), entry.entry_id
            )
            for _, identifier in device.identifiers
        },
        entities={
            item.entity_id: item.device_id
            for item in er.async_entries_for_config_entry(
                er.async_get(hass), entry.entry_id
            )
        },
    )


def _shown(hass: HomeAssistant, entity_ids: Iterable[str]) -> dict[str, str]:
    """What each entity shows."""
    return {
        entity_id: state.state
        for entity_id in entity_ids
        if (state := hass.states.get(entity_id)) is not None
    }


async def _steady(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """Entities that show the same after one more poll: not those that
    count, say, the requests the PBX has left.
    """
    entities = _entities(hass, entry)
    first = _shown(hass, entities)
    await _refresh(hass, entry)
    return {key for key, state in _shown(hass, entities).items() if first[key] == state}


def _check_shown(
    hass: HomeAssistant,
    fault: MatrixFault,
    expect: Expect,
    during: tuple[dict[str, str], set[str]],
    devices: set[str],
) -> None:
    """After recovery: what a tolerated fault showed in steady entities is
    what the first poll after it shows (the true values, the action's
    included), or, with swapped types, unknown: never a wrong value. Swapped
    types add no device while they last (other faults may: a call the action
    made). Missing keys are not compared: an answer without a value may read
    as its default.
    """
    states, devices_during = during
    if fault is MatrixFault.SWAPPED_TYPES:
        assert devices_during == devices
    if expect.poll is not Poll.TOLERATED or fault is MatrixFault.MISSING_KEYS:
        return
    assert states  # something to compare
    wrong = {
        entity_id: (shown, true)
        for entity_id, true in _shown(hass, states).items()
        if (shown := states[entity_id]) != true
        and not (fault in UNKNOWN_ALLOWED and shown == STATE_UNKNOWN)
    }
    assert not wrong


UNKNOWN_ALLOWED = frozenset({MatrixFault.SWAPPED_TYPES, MatrixFault.EXTREME_VALUES})
"""Faults whose values a client cannot read, where unknown is the right thing
to show."""


async def _inject(sim: SimulatorBase, injection: Injection) -> None:
    if injection.fault is None:
        await sim.refuse_connections()
    else:
        sim.inject(
            injection.fault,
            retry_after=injection.retry_after,
            latency=injection.latency,
        )


async def _recover(
    hass: HomeAssistant,
    vendor: Vendor,
    entry: MockConfigEntry,
    sim: SimulatorBase,
    expect: Expect,
    freezer: FrozenDateTimeFactory | None,
    lost: set[str],
) -> None:
    """After the fault: wait out a pause (checking that nothing is sent
    before it ends, by a poll or an action), finish a reauth (a reload, as
    the flow does), or poll.
    """
    if expect.poll is Poll.PAUSED:
        assert freezer is not None
        assert expect.pause is not None
        freezer.tick(timedelta(seconds=expect.pause - 1))
        paused_at = sim.request_count
        await _refresh(hass, entry)
        assert sim.request_count == paused_at  # not yet
        assert not _available(hass, lost)
        # An action is refused at once, with the time left to wait.
        _, error = await _check_action(hass, vendor, entry, sim, "rate_limited")
        assert error is not None
        assert error.translation_placeholders == {"retry_after": "1"}
        assert sim.request_count == paused_at
        freezer.tick(timedelta(seconds=2))
    elif freezer is not None:
        freezer.tick(timedelta(seconds=1))
    if expect.poll is Poll.REAUTH:
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
    else:
        await _refresh(hass, entry)


def _check_recovered(
    hass: HomeAssistant,
    vendor: Vendor,
    entry: MockConfigEntry,
    expect: Expect,
    before: dict[str, tuple[str, dict[str, Any]]],
    changes: dict[str, str],
) -> None:
    """Every entity shows what it showed before the fault, state and
    attributes, but those the action's effect ``changes`` (which show the new
    state) and the vendor's request counts. From ``CLOCK_START`` on, even an
    hour's pause, no figure that moves with the clock does.
    """
    after = _states(hass, entry)
    for entity_id, state in changes.items():
        assert after[entity_id][0] == state or state == CHANGED, entity_id
    moving = _with_keys(hass, entry, vendor.counts_requests)
    differ = {
        entity_id
        for entity_id, shown in before.items()
        if after.get(entity_id) != shown and entity_id not in moving
    }
    assert differ == set(changes)


def _check_registry(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    registered: _Registered,
    new_devices: set[str],
) -> None:
    """Nothing lost, and nothing added but ``new_devices`` (identifiers) and
    their entities.
    """
    now = _registry(hass, entry)
    assert set(now.devices) == set(registered.devices) | new_devices
    added = {now.devices[identifier] for identifier in new_devices}
    assert set(now.entities) - set(registered.entities) == {
        entity_id for entity_id, device in now.entities.items() if device in added
    }
    assert set(registered.entities) <= set(now.entities)
    if new_devices:
        assert added.isdisjoint(registered.entities.values())


@pytest.mark.parametrize("fault", list(MatrixFault), ids=lambda f: f.name.lower())
@pytest.mark.parametrize("vendor_key", list(VENDORS))
async def test_fault_matrix(
    hass: HomeAssistant,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
    vendor_key: str,
    fault: MatrixFault,
) -> None:
    vendor = VENDORS[vendor_key]
    injection = INJECTIONS[fault]
    expect = EXPECTED[vendor_key][fault]
    clock = freeze_time(CLOCK_START, tick=injection.real_clock)
    started = clock.start()
    request.addfinalizer(clock.stop)
    freezer: FrozenDateTimeFactory | None = None
    if not injection.real_clock:
        assert isinstance(started, FrozenDateTimeFactory)
        freezer = started
    sim = vendor.simulator()
    await sim.start()
    try:
        entry = MockConfigEntry(
            domain=DOMAIN,
            title=vendor.name,
            unique_id=f"matrix_{vendor.key}",
            data=SETTINGS[vendor.key](sim),
            options=vendor.options(sim),
        )
        await setup_entry(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        cadence_of = _entities(hass, entry)
        # A call-back button waits for a caller; every other entity shows.
        waiting = set(cadence_of) - _available(hass, cadence_of)
        assert all(entity.endswith("_call_back_last_caller") for entity in waiting)
        cadence_of = {e: c for e, c in cadence_of.items() if e not in waiting}
        before = _available(hass, cadence_of)
        assert before == set(cadence_of)
        steady = await _steady(hass, entry)
        shown = _states(hass, entry)
        registered = _registry(hass, entry)
        changes = vendor.changes(hass, entry, sim)
        new_devices = vendor.new_devices(hass, entry, sim)
        client = entry.runtime_data.client
        if injection.short_timeout:
            client.http.request_timeout = SHORT_TIMEOUT
        await _inject(sim, injection)
        caplog.clear()

        # An action while the fault lasts (before a poll has seen it).
        acted, refusal = await _check_action(
            hass,
            vendor,
            entry,
            sim,
            expect.action,
            carried_out=injection.carried_out,
            may_land_late=injection.real_clock,
            garbled_refusal=expect.garbled_refusal,
            unknown_figures=expect.unknown_figures,
        )

        # Two polls: what they make of it, logged once.
        await _refresh(hass, entry)
        sent = sim.request_count
        await _refresh(hass, entry)
        resent = sim.request_count - sent
        down = expect.cadences if expect.poll is not Poll.PERMISSION else ()
        for cadence in (Cadence.FAST, Cadence.SLOW):
            # A cadence is down when a topic of it fails; each failing topic
            # logs once.
            group = [
                c
                for c in entry.runtime_data.coordinators.values()
                if _row(c.topic) is cadence
            ]
            failing = [c for c in group if not c.last_update_success]
            assert bool(failing) is (cadence in down), cadence
            for coordinator in group:
                assert _failures_logged(caplog, coordinator.name) == (
                    0 if coordinator.last_update_success else 1
                ), coordinator.name
        # Unavailable: the entities of the failing topics (of the failing
        # cadences; not those that show what identification told, such as a
        # serial number).
        lost = before - _available(hass, cadence_of)
        if expect.poll is Poll.TOLERATED:
            assert not lost
        else:
            coordinators = entry.runtime_data.coordinators
            failing = {  # failed, or refused (no data)
                entity
                for entity, topic in _topics(hass, entry).items()
                if not coordinators[topic].last_update_success
                or coordinators[topic].data is None
            }
            # Every entity of a failing topic; others only where the read
            # lost their item.
            assert failing & before <= lost
            assert {cadence_of[entity] for entity in lost} <= set(POLLED[vendor_key])
        during = _shown(hass, steady), set(_registry(hass, entry).devices)
        assert _reauth_started(hass) is (expect.poll is Poll.REAUTH)
        assert bool(_permission_issues(hass)) is (expect.poll is Poll.PERMISSION)
        assert _too_many_issues(hass) == {
            f"too_many_items_{cadence}_{entry.entry_id}"
            for cadence in (down if expect.poll is Poll.TOO_MANY else ())
        }
        if expect.poll is Poll.PAUSED:
            assert resent == 0
        if expect.sent is not None:
            assert resent == expect.sent

        # The fault goes.
        sim.clear_faults()
        await sim.accept_connections()
        client.http.request_timeout = DEFAULT_REQUEST_TIMEOUT
        await _recover(hass, vendor, entry, sim, expect, freezer, lost)
        assert _available(hass, cadence_of) == before
        _check_shown(hass, fault, expect, during, set(registered.devices))
        if refusal is not None:  # carried out unconfirmed: no feedback shown
            changes = {e: v for e, v in changes.items() if "_call_placed" not in e}
        _check_recovered(hass, vendor, entry, expect, shown, changes if acted else {})
        _check_registry(hass, entry, registered, new_devices if acted else set())
        if expect.action == "missing_permission":
            # The action's own repair issue goes with its next success.
            await _check_action(hass, vendor, entry, sim, None)
        assert not _permission_issues(hass)
        assert not _too_many_issues(hass)
        assert not _tracebacks(caplog)
    finally:
        await sim.stop()


# ---------------------------------------------------------------- the document

DOC = Path(__file__).parent.parent / "docs" / "reliability.md"

POLL_TEXT: dict[Poll, str] = {
    Poll.UNAVAILABLE: "unavailable, recovers",
    Poll.REAUTH: "reauth",
    Poll.PAUSED: "paused {pause} s, recovers",
    Poll.PERMISSION: "repair: missing permission",
    Poll.TOLERATED: "tolerated",
    Poll.TOO_MANY: "unavailable, repair: too many items, recovers",
}


def _cell(expect: Expect, polled: tuple[str, ...]) -> str:
    poll = POLL_TEXT[expect.poll].format(pause=expect.pause)
    if expect.note:
        poll += f" ({expect.note})"
    if expect.cadences and expect.cadences != polled:
        poll += f" ({', '.join(expect.cadences)} only)"
    if expect.sent is not None and expect.poll is not Poll.PAUSED:
        poll += f", {expect.sent} requests per poll"
    action = f"`{expect.action}`" if expect.action else "ok"
    if expect.garbled_refusal:
        action += " (the garbled answer reads as a refusal; the PBX did it)"
    if expect.unknown_figures:
        action += " (its figures unknown)"
    return f"{poll}; action: {action}"


def render_matrix() -> str:
    """``docs/reliability.md``: the explanation, then one row per vendor."""
    columns: list[MatrixFault] = list(MatrixFault)
    lines = [
        "# Reliability: the fault matrix",
        "",
        "Generated by `tests/test_fault_matrix.py` from the outcomes it asserts;",
        "do not edit by hand. Each vendor's simulator shows each fault on every",
        "request until it is cleared; the test runs one action of the vendor while",
        "the fault lasts, polls twice, clears the fault and checks recovery.",
        "",
        "What the outcomes mean:",
        "",
        "- **unavailable, recovers**: the entities of the failing polls go",
        "  unavailable, the failure is logged once (not at every poll), and they",
        "  come back by themselves at the first poll after the fault is gone.",
        "- **reauth**: the credentials were refused; Home Assistant starts",
        "  reauthentication and the entities stay unavailable until it is done.",
        "- **paused N s, recovers**: the PBX refused for its rate limit; no request",
        "  is sent (poll or action) for N seconds (`Retry-After`, the vendor's own",
        "  headers, or a backoff: doubling from 60 s, or VoIPcloud's 15-minute",
        "  window at once, 15 minutes at most). An action meanwhile fails at once",
        "  with `rate_limited` and the seconds left to wait; then polling resumes",
        "  and recovers.",
        "- **repair: missing permission**: the account lacks a right or licence",
        "  (a 403, or the vendor's own words for it); new credentials would not",
        "  help, so no reauthentication starts. That topic's entities go",
        "  unavailable, a repair issue names what is missing, other topics go on,",
        "  and both clear once it is granted.",
        "- **tolerated**: the answer is still read; entities stay available and",
        "  show what they show once the fault is gone (with swapped types, values",
        "  that cannot be read show as unknown; with extreme values, those no",
        "  sensor can hold): never a wrong value.",
        "- **repair: too many items**: the PBX listed more than a topic takes",
        "  (see [the maximum of items](data-updates.md#maximum-of-items)): the",
        "  answer is refused whole, nothing of it is applied (no device or entity",
        "  added), the poll's entities go unavailable and a repair issue says what",
        "  was listed; both clear at the first poll within the maximum. The action's",
        "  `too_many_items` is a read refused the same way.",
        "- **(fast only)** / **(slow only)**: only that poll fails; the other",
        "  cadence reads what it can.",
        "- **N requests per poll**: what a poll sends while the fault lasts (after",
        "  a refused password VoipCenter sends none, so that retries cannot lock",
        "  the account; Tariscope signs in once more, then gives up).",
        "- **action**: the translation key of the error the action raises",
        "  (`cannot_connect`, `auth_failed`, `rate_limited`, `invalid_response`,",
        "  `missing_permission`, `write_unconfirmed`), or ok when it succeeds.",
        "  `write_unconfirmed`: a write (not a read such as get_charges) was",
        "  sent, but its answer timed out, broke off (a reset included), could",
        "  not be read, was a server error (500, 502, 504: it reached the",
        "  server, said in HTTP or in the body) or a redirect to a result (302,",
        "  303), so the PBX may have carried it out (the one rule:",
        "  [write-outcomes.md](write-outcomes.md)): the user is told to check before trying",
        "  again, and the entity keeps showing what the PBX last said until a",
        "  poll reads it back; `cannot_connect` is left for requests that never",
        "  went out (or were refused as unavailable, 503) and for reads. An",
        "  auth error also starts reauthentication. An",
        "  action that succeeds took effect in the simulator (DND on, the call",
        "  placed with its numbers, the SMS sent with its text, the subscriber's",
        "  charges as the simulator holds them); one",
        "  that fails took none, except where the simulator carried the request",
        "  out and only its answer was broken or late (broken bodies, 10 MB",
        "  bodies, deep nesting, slow drip): the PBX acted, and the next poll",
        "  shows it.",
        "",
        "In every cell: no traceback; once recovered, every entity shows the state",
        "and attributes it showed before the fault, except what the action's",
        "effect changed (the DND switch it turned on, VoipCenter's calls today) and",
        "the count of requests left that TIM4biz reports; no device or entity is",
        "lost, and none is added but the VoIPcloud user whose call the",
        "click-to-call placed (the API lists users only through their calls).",
        "",
        f"Faults: *timeout* and *slow drip* (ten pieces {DRIP_PAUSE:g} s apart)",
        f"against a {SHORT_TIMEOUT:g} s client timeout; *slow drip (within",
        "timeout)* ten pieces 5 ms apart; *connection refused*: the simulator",
        "stops listening;",
        "*429*: no header on when to retry; *429 + headers*: `Retry-After: 120`",
        "(TIM4biz: its `TIM4biz-Rate-Limit-*` headers with none left);",
        "*HTML instead of JSON*: a maintenance page with status 200;",
        "*loose types*: the valid form of loose typing, as PHP APIs send it:",
        "every number as numeric text and every id-like text (digits) as a",
        "number, the same values, to be read as such;",
        "*swapped types*: the wrong types, which no client may read as values",
        "(*loose types* are the valid kind): every number sent as text and every",
        "text as a number (its length plus one, never the number the text",
        "spells), to be refused or shown as unknown;",
        "*wrong shapes*: objects below the top sent as lists and lists as objects;",
        "*missing keys*: every second key of every object below the top dropped",
        "(both from the top itself when the answer is a flat object);",
        "*10 MB body*: the normal answer padded to 10 MiB, chunked (the client",
        "reads at most 4 MiB);",
        "*10 MB body, gzip*: the same compressed with gzip to some 10 KB, sent",
        "whatever the client asked for (it asks for no compression, and inflates",
        "at most 4 MiB as the body streams in);",
        f"*deep nesting*: the normal answer inside lists nested {NESTING_DEPTH:,}",
        "deep, past what a JSON parser reads;",
        "*hostile charset*: the normal answer, its `Content-Type` naming a",
        f"charset that is no text encoding ({', '.join(HOSTILE_CHARSETS)}, in",
        "turn), which the client reads as UTF-8, as it reads an unknown one;",
        f"*row flood*: every list of rows grown to {FLOOD_ROWS:,} (empty rows",
        "under fresh ids); *extreme values*: valid but extreme, every number",
        "that is no id sent as 1e308 and every date-time as",
        f"{EXTREME_TIME}; *endless paging*: `offset` ignored and every page",
        "filled to its `limit` by repeating its rows, so that no page is short",
        "(a vendor whose lists come whole does not page: no paging).",
        "",
        "Actions: "
        + "; ".join(f"{v.name}: {v.action_name}" for v in VENDORS.values())
        + ".",
        "",
    ]
    for vendor in VENDORS.values():
        lines += [f"## {vendor.name}", "", "| fault | outcome |", "| --- | --- |"]
        lines += [
            f"| {column.value} | "
            f"{_cell(EXPECTED[vendor.key][column], POLLED[vendor.key])} |"
            for column in columns
        ]
        lines.append("")
    lines += render_addresses()
    return "\n".join(lines)


def test_every_pair_has_an_outcome() -> None:
    for vendor in VENDORS:
        assert set(EXPECTED[vendor]) == set(MatrixFault), vendor


def test_reliability_doc_is_current() -> None:
    """Written from ``EXPECTED``; a changed table rewrites it and fails, so the
    change is committed with the test.
    """
    text = render_matrix()
    assert "traceback" not in text.lower().replace("no traceback", "")
    current = DOC.read_text() if DOC.exists() else None
    if current != text:
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
    assert current == text, "docs/reliability.md was out of date: rewritten"

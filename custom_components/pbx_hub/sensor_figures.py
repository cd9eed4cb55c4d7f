"""Descriptions of call figures, call accounting, accounts and rate limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.helpers.typing import StateType

from .client import AccountSummary, ExtensionUsage, GroupStats, Topic
from .entity import (
    ACCOUNT_ITEMS,
    CALL_GROUP,
    CALL_USER,
    USAGE_ITEMS,
    PbxEntityDescription,
    known,
)

MEASURED: dict[str, Any] = {"state_class": SensorStateClass.MEASUREMENT}
DAILY: dict[str, Any] = {"state_class": SensorStateClass.TOTAL_INCREASING}
"""Counts up through the day and starts again at midnight."""
PERCENT: dict[str, Any] = MEASURED | {
    "native_unit_of_measurement": PERCENTAGE,
    "suggested_display_precision": 0,
}


class SensorView(Protocol):
    """What a ``state_fn`` may ask of its sensor besides the item."""

    def topic_data(self, topic: Topic) -> Any:
        """Another topic's last data."""

    def translated(self, where: str, key: str) -> str:
        """A word of the sensor's translations."""


@dataclass(frozen=True, kw_only=True)
class PbxSensorEntityDescription(PbxEntityDescription, SensorEntityDescription):
    """A sensor of one item of a topic."""

    last_reset_fn: Callable[[Any], datetime | None] | None = None
    """When the count started, from the topic's data."""
    currency: bool = False
    """In the options' currency (the vendor names none), else Home Assistant's."""
    state_fn: Callable[[SensorView, Any], StateType] | None = None
    """A state that needs more than the item (other topics, translated words)."""


def sensor(key: str, **kwargs: Any) -> PbxSensorEntityDescription:
    """A description whose translation key is its key."""
    return PbxSensorEntityDescription(key=key, translation_key=key, **kwargs)


TALK_TIME_DAY: dict[str, Any] = {
    "device_class": SensorDeviceClass.DURATION,
    "native_unit_of_measurement": UnitOfTime.SECONDS,
    "suggested_unit_of_measurement": UnitOfTime.MINUTES,
    "suggested_display_precision": 0,
}
"""A day's talk time in whole minutes ("367 min", not "367m 23s")."""
TALK_TIME_MONTH: dict[str, Any] = TALK_TIME_DAY | {
    "suggested_unit_of_measurement": UnitOfTime.HOURS,
    "suggested_display_precision": 1,
}
"""A month's talk time in hours to a tenth."""


def _usage(
    key: str, month: bool, read: Callable[[ExtensionUsage], Any], **kwargs: Any
) -> PbxSensorEntityDescription:
    return sensor(
        f"{key}_{'month' if month else 'today'}",
        state_class=SensorStateClass.TOTAL,
        **USAGE_ITEMS,
        value_fn=lambda periods: (
            0 if (usage := periods[month]) is None else read(usage)
        ),
        last_reset_fn=lambda data: data.month_since if month else data.today_since,
        **kwargs,
    )


USAGE_SENSORS = tuple(
    description
    for month in (False, True)
    for description in (
        _usage("usage_calls", month, lambda u: u.calls),
        _usage(
            "usage_talk_time",
            month,
            lambda u: u.talk_seconds,
            **(TALK_TIME_MONTH if month else TALK_TIME_DAY),
        ),
        _usage(
            "usage_cost",
            month,
            lambda u: u.cost,
            device_class=SensorDeviceClass.MONETARY,
            suggested_display_precision=2,
            currency=True,
        ),
    )
)

RATE_LIMIT_SENSORS = tuple(
    sensor(
        key,
        entity_category=EntityCategory.DIAGNOSTIC,
        **MEASURED,
        topic=Topic.RATE_LIMIT,
        value_fn=attrgetter(field),
        exists_fn=known(field),
    )
    for key, field in (
        ("api_calls_left_hour", "hourly_remaining"),
        ("api_calls_left_day", "daily_remaining"),
    )
)


def _account(
    key: str, read: Callable[[AccountSummary], Any], *, monthly: bool = True
) -> PbxSensorEntityDescription:
    return sensor(
        key,
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        currency=True,
        **ACCOUNT_ITEMS,
        value_fn=read,
        # A balance never resets; the month's figures at its 1st.
        last_reset_fn=(lambda data: data.since) if monthly else None,
    )


ACCOUNT_SENSORS = (
    _account("balance", lambda account: account.end_debt, monthly=False),
    _account("charges_month", lambda account: account.charges),
    _account("payments_month", lambda account: account.payments),
)


def _calls(
    key: str, where: dict[str, Any], read: Callable[[Any], Any], **kwargs: Any
) -> PbxSensorEntityDescription:
    return sensor(key, value_fn=read, **where, **(DAILY | kwargs))


def _wait(
    key: str, read: Callable[[GroupStats], Any], **kwargs: Any
) -> PbxSensorEntityDescription:
    return _calls(
        key,
        CALL_GROUP,
        read,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        **kwargs,
    )


def _calls_today(where: dict[str, Any]) -> PbxSensorEntityDescription:
    """Today's calls, with the last call's time as an attribute."""
    # As an entity of its own, it would fill the logbook and recorder at every call.
    return _calls(
        "calls_today",
        where,
        lambda stats: stats.calls,
        attributes_fn=lambda stats: {
            LAST_CALL: stats.last_call and stats.last_call.isoformat()
        },
    )


LAST_CALL = "last_call"


GROUP_SENSORS: tuple[PbxSensorEntityDescription, ...] = (
    _calls_today(CALL_GROUP),
    _calls("answered_calls", CALL_GROUP, lambda g: g.answered),
    _calls("abandoned_calls", CALL_GROUP, lambda g: g.abandoned),
    _calls("timed_out_calls", CALL_GROUP, lambda g: g.timed_out),
    _calls("answer_rate", CALL_GROUP, lambda g: g.answer_rate, **PERCENT),
    _wait("average_wait", lambda g: g.average_wait, suggested_display_precision=0),
    _wait("longest_wait", lambda g: g.longest_wait),
)

USER_SENSORS: tuple[PbxSensorEntityDescription, ...] = (
    _calls_today(CALL_USER),
    _calls("inbound_calls", CALL_USER, lambda u: u.inbound),
    _calls("outbound_calls", CALL_USER, lambda u: u.outbound),
    _calls("missed_calls", CALL_USER, lambda u: u.missed),
    _calls("talk_time", CALL_USER, lambda u: u.talk_seconds, **TALK_TIME_DAY),
)

"""Sensors: PBX load, extensions, calls and licences; DID routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    DOMAIN as SENSOR_DOMAIN,
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .client import (
    AccountSummary,
    DestinationType,
    Did,
    Extension,
    ExtensionUsage,
    GroupStats,
    RateLimitStatus,
    UserStats,
)
from .const import CONF_CURRENCY, DOMAIN
from .coordinator import (
    FastData,
    PbxConfigEntry,
    PbxFastCoordinator,
    PbxSlowCoordinator,
    SlowData,
)
from .entity import (
    PbxCallGroupEntity,
    PbxCallUserEntity,
    PbxEntity,
    PbxExtensionEntity,
    PbxSubscriberEntity,
    PbxUsageEntity,
    add_call_entities_dynamically,
    add_extension_entities_dynamically,
    add_pbx_entities_dynamically,
    add_slow_entities_dynamically,
    usage_by_extension,
)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class PbxSensorEntityDescription(SensorEntityDescription):
    """A PBX sensor: which value of the fast data it shows, and when it exists."""

    value_fn: Callable[[FastData], StateType]
    exists_fn: Callable[[FastData], bool]
    read_fn: Callable[[FastData], bool] = lambda data: True
    """Whether this poll read the topic the value comes from: not when the
    account lacks the right to it (unavailable, not unknown).
    """


def _status_read(data: FastData) -> bool:
    return data.status is not None


def _status_value[T](read: Callable[..., T | None]) -> Callable[[FastData], T | None]:
    return lambda data: None if data.status is None else read(data.status)


def _status_has(read: Callable[..., object]) -> Callable[[FastData], bool]:
    return lambda data: data.status is not None and read(data.status) is not None


def _active_calls(data: FastData) -> int | None:
    if data.live_calls is not None:
        return len(data.live_calls)
    return None if data.status is None else data.status.active_calls


def _percent(key: str, read: Callable[..., float | None]) -> PbxSensorEntityDescription:
    return PbxSensorEntityDescription(
        key=key,
        translation_key=key,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=_status_value(read),
        exists_fn=_status_has(read),
        read_fn=_status_read,
    )


def _count(key: str, read: Callable[..., int | None]) -> PbxSensorEntityDescription:
    return PbxSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_status_value(read),
        exists_fn=_status_has(read),
        read_fn=_status_read,
    )


PBX_SENSORS: tuple[PbxSensorEntityDescription, ...] = (
    PbxSensorEntityDescription(
        key="system_status",
        translation_key="system_status",
        value_fn=_status_value(lambda s: s.state),
        exists_fn=_status_has(lambda s: s.state),
        read_fn=_status_read,
    ),
    _percent("cpu", lambda s: s.cpu_percent),
    _percent("memory", lambda s: s.memory_percent),
    _percent("disk", lambda s: s.disk_percent),
    _count("extensions_online", lambda s: s.extensions_online),
    PbxSensorEntityDescription(
        key="extensions_total",
        translation_key="extensions_total",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda data: len(data.extensions),
        exists_fn=lambda data: bool(data.extensions),
    ),
    PbxSensorEntityDescription(
        key="active_calls",
        translation_key="active_calls",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_active_calls,
        exists_fn=lambda data: _active_calls(data) is not None,
    ),
    PbxSensorEntityDescription(
        key="calls_today",
        translation_key="calls_today",
        # Counts up through the day and starts again from zero.
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=_status_value(lambda s: s.calls_today),
        exists_fn=_status_has(lambda s: s.calls_today),
        read_fn=_status_read,
    ),
    _count("sip_registrations_failed", lambda s: s.sip_registrations_failed),
    *(
        PbxSensorEntityDescription(
            key=f"license_{kind}",
            translation_key=f"license_{kind}",
            native_unit_of_measurement=PERCENTAGE,
            state_class=SensorStateClass.MEASUREMENT,
            entity_category=EntityCategory.DIAGNOSTIC,
            value_fn=_status_value(
                lambda s, kind=kind: (
                    s.licenses[kind].percent if kind in s.licenses else None
                )
            ),
            exists_fn=_status_has(lambda s, kind=kind: s.licenses.get(kind)),
            read_fn=_status_read,
        )
        for kind in ("ext", "ivr", "queue", "conference")
    ),
)


@dataclass(frozen=True, kw_only=True)
class ExtensionSensorEntityDescription(SensorEntityDescription):
    """An extension sensor."""

    value_fn: Callable[[Extension], StateType]


EXTENSION_SENSORS: tuple[ExtensionSensorEntityDescription, ...] = (
    ExtensionSensorEntityDescription(
        key="ip_address",
        translation_key="ip_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda extension: extension.ip_address,
    ),
    ExtensionSensorEntityDescription(
        key="user_agent",
        translation_key="user_agent",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda extension: extension.user_agent,
    ),
)

DID_ROUTE_OPTIONS = [kind.value for kind in DestinationType]


@dataclass(frozen=True, kw_only=True)
class GroupSensorEntityDescription(SensorEntityDescription):
    """A queue or ring-group sensor: which of today's figures it shows."""

    value_fn: Callable[[GroupStats], StateType | datetime]


@dataclass(frozen=True, kw_only=True)
class UserSensorEntityDescription(SensorEntityDescription):
    """A user (extension) sensor: which of today's figures it shows."""

    value_fn: Callable[[UserStats], StateType | datetime]


@dataclass(frozen=True, kw_only=True)
class UsageSensorEntityDescription(SensorEntityDescription):
    """Call accounting of an extension: which period, which figure."""

    month: bool
    value_fn: Callable[[ExtensionUsage], StateType]


def _usage_sensors(month: bool) -> tuple[UsageSensorEntityDescription, ...]:
    period = "month" if month else "today"
    return (
        UsageSensorEntityDescription(
            key=f"usage_calls_{period}",
            translation_key=f"usage_calls_{period}",
            state_class=SensorStateClass.TOTAL,
            month=month,
            value_fn=lambda usage: usage.calls,
        ),
        UsageSensorEntityDescription(
            key=f"usage_talk_time_{period}",
            translation_key=f"usage_talk_time_{period}",
            device_class=SensorDeviceClass.DURATION,
            native_unit_of_measurement=UnitOfTime.SECONDS,
            suggested_unit_of_measurement=UnitOfTime.MINUTES,
            state_class=SensorStateClass.TOTAL,
            month=month,
            value_fn=lambda usage: usage.talk_seconds,
        ),
        UsageSensorEntityDescription(
            key=f"usage_cost_{period}",
            translation_key=f"usage_cost_{period}",
            device_class=SensorDeviceClass.MONETARY,
            state_class=SensorStateClass.TOTAL,
            suggested_display_precision=2,
            month=month,
            value_fn=lambda usage: usage.cost,
        ),
    )


USAGE_SENSORS = (*_usage_sensors(month=False), *_usage_sensors(month=True))


@dataclass(frozen=True, kw_only=True)
class RateLimitSensorEntityDescription(SensorEntityDescription):
    """Requests the vendor reports left in one of its windows."""

    value_fn: Callable[[RateLimitStatus], int | None]


RATE_LIMIT_SENSORS = (
    RateLimitSensorEntityDescription(
        key="api_calls_left_hour",
        translation_key="api_calls_left_hour",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: status.hourly_remaining,
    ),
    RateLimitSensorEntityDescription(
        key="api_calls_left_day",
        translation_key="api_calls_left_day",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda status: status.daily_remaining,
    ),
)


@dataclass(frozen=True, kw_only=True)
class AccountSensorEntityDescription(SensorEntityDescription):
    """A subscriber's account figure."""

    value_fn: Callable[[AccountSummary], float | None]
    monthly: bool = True
    """Counted since the 1st: ``last_reset`` is the start of the month."""


ACCOUNT_SENSORS = (
    AccountSensorEntityDescription(
        key="balance",
        translation_key="balance",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        monthly=False,
        value_fn=lambda account: account.end_debt,
    ),
    AccountSensorEntityDescription(
        key="charges_month",
        translation_key="charges_month",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda account: account.charges,
    ),
    AccountSensorEntityDescription(
        key="payments_month",
        translation_key="payments_month",
        device_class=SensorDeviceClass.MONETARY,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda account: account.payments,
    ),
)

INFO_SENSORS = (
    SensorEntityDescription(
        key="serial_number",
        translation_key="serial_number",
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    SensorEntityDescription(
        key="database",
        translation_key="database_version",
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
    SensorEntityDescription(
        key="build",
        translation_key="build",
        entity_category=EntityCategory.DIAGNOSTIC,
    ),
)


def _group_count(
    key: str, read: Callable[[GroupStats], int]
) -> GroupSensorEntityDescription:
    # Counts up through the day and starts again at midnight.
    return GroupSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=read,
    )


def _user_count(
    key: str, read: Callable[[UserStats], int]
) -> UserSensorEntityDescription:
    return UserSensorEntityDescription(
        key=key,
        translation_key=key,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=read,
    )


GROUP_SENSORS: tuple[GroupSensorEntityDescription, ...] = (
    _group_count("calls_today", lambda g: g.calls),
    _group_count("answered_calls", lambda g: g.answered),
    _group_count("abandoned_calls", lambda g: g.abandoned),
    _group_count("timed_out_calls", lambda g: g.timed_out),
    GroupSensorEntityDescription(
        key="answer_rate",
        translation_key="answer_rate",
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda g: g.answer_rate,
    ),
    GroupSensorEntityDescription(
        key="average_wait",
        translation_key="average_wait",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda g: g.average_wait,
    ),
    GroupSensorEntityDescription(
        key="longest_wait",
        translation_key="longest_wait",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda g: g.longest_wait,
    ),
    GroupSensorEntityDescription(
        key="last_call",
        translation_key="last_call",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda g: g.last_call,
    ),
)

USER_SENSORS: tuple[UserSensorEntityDescription, ...] = (
    _user_count("calls_today", lambda u: u.calls),
    _user_count("inbound_calls", lambda u: u.inbound),
    _user_count("outbound_calls", lambda u: u.outbound),
    _user_count("missed_calls", lambda u: u.missed),
    UserSensorEntityDescription(
        key="talk_time",
        translation_key="talk_time",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda u: u.talk_seconds,
    ),
    UserSensorEntityDescription(
        key="last_call",
        translation_key="last_call",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda u: u.last_call,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the PBX sensors, extension sensors as extensions appear, DID routes."""
    runtime = entry.runtime_data
    add_pbx_entities_dynamically(
        entry,
        async_add_entities,
        PBX_SENSORS,
        lambda description, data: description.exists_fn(data),
        lambda description: PbxSensor(
            coordinator=runtime.fast, description=description
        ),
    )
    add_extension_entities_dynamically(
        entry,
        async_add_entities,
        lambda extension: (
            ExtensionSensor(
                coordinator=runtime.fast, description=description, extension=extension
            )
            for description in EXTENSION_SENSORS
        ),
    )
    _add_did_sensors_dynamically(entry, async_add_entities)
    facts = {"serial_number": runtime.info.serial_number, **runtime.info.details}
    async_add_entities(
        InfoSensor(
            coordinator=runtime.slow,
            description=description,
            value=facts[description.key],
        )
        for description in INFO_SENSORS
        if facts.get(description.key) is not None
    )
    add_slow_entities_dynamically(
        entry,
        async_add_entities,
        lambda data: data.accounts,
        lambda _, account: (
            AccountSensor(
                coordinator=runtime.slow,
                description=description,
                subscriber=account.subscriber,
            )
            for description in ACCOUNT_SENSORS
        ),
    )
    if (status := runtime.client.rate_limit_status) is not None:
        async_add_entities(
            RateLimitSensor(coordinator=runtime.slow, description=description)
            for description in RATE_LIMIT_SENSORS
            if description.value_fn(status) is not None
        )
    add_slow_entities_dynamically(
        entry,
        async_add_entities,
        usage_by_extension,
        lambda extension, usage: (
            UsageSensor(
                coordinator=runtime.slow,
                description=description,
                extension=extension,
                name=usage.name,
            )
            for description in USAGE_SENSORS
        ),
    )
    add_call_entities_dynamically(
        entry,
        async_add_entities,
        make_group_entities=lambda key, scope, name: (
            CallGroupSensor(
                coordinator=runtime.fast,
                description=description,
                key=key,
                scope=scope,
                name=name,
            )
            for description in GROUP_SENSORS
        ),
        make_user_entities=lambda number, name: (
            CallUserSensor(
                coordinator=runtime.fast,
                description=description,
                number=number,
                name=name,
            )
            for description in USER_SENSORS
        ),
    )


def _add_did_sensors_dynamically(
    entry: PbxConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    slow = entry.runtime_data.slow
    known: dict[str, str] = {}
    """Unique id of the route sensor of every DID added so far, by DID id."""
    registry = er.async_get(slow.hass)

    @callback
    def sync() -> None:
        data: SlowData | None = slow.data  # None while the first poll failed
        if data is None or not slow.last_update_success:
            return
        for did_id in set(known) - set(data.dids):
            # The DID was deleted on the PBX: so is its sensor.
            unique_id = known.pop(did_id)
            if entity_id := registry.async_get_entity_id(
                SENSOR_DOMAIN, DOMAIN, unique_id
            ):
                registry.async_remove(entity_id)
        new = [
            DidRouteSensor(coordinator=slow, did=did)
            for did_id, did in data.dids.items()
            if did_id not in known
        ]
        for sensor in new:
            known[sensor.did_id] = str(sensor.unique_id)
        if new:
            async_add_entities(new)

    sync()
    entry.async_on_unload(slow.async_add_listener(sync))


class PbxSensor(PbxEntity[PbxFastCoordinator], SensorEntity):
    """A sensor of the PBX device."""

    entity_description: PbxSensorEntityDescription

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or did not read this topic."""
        return super().available and self.entity_description.read_fn(
            self.coordinator.data
        )

    @property
    def native_value(self) -> StateType:
        """The value the description reads from the fast data."""
        return self.entity_description.value_fn(self.coordinator.data)


class ExtensionSensor(PbxExtensionEntity, SensorEntity):
    """A sensor of an extension device."""

    entity_description: ExtensionSensorEntityDescription

    @property
    def native_value(self) -> StateType:
        """The value the description reads from the extension."""
        return self.entity_description.value_fn(self.extension)


class DidRouteSensor(PbxEntity[PbxSlowCoordinator], SensorEntity):
    """Where an incoming number is routed: the kind of destination, and which."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = DID_ROUTE_OPTIONS
    _attr_translation_key = "did_route"

    def __init__(self, *, coordinator: PbxSlowCoordinator, did: Did) -> None:
        """Name the sensor after the DID's number."""
        super().__init__(
            coordinator=coordinator,
            description=SensorEntityDescription(
                key="route", translation_key="did_route"
            ),
            object_id=f"did_{did.id}",
        )
        self.did_id = did.id
        self._attr_translation_placeholders = {"number": did.number}

    @property
    def _did(self) -> Did | None:
        return (
            self.coordinator.data.dids.get(self.did_id)
            if self.coordinator.data
            else None
        )

    @property
    def available(self) -> bool:
        """Unavailable when the poll failed or the DID is gone."""
        return super().available and self._did is not None

    @property
    def native_value(self) -> str | None:
        """The kind of destination."""
        did = self._did
        if did is None or did.destination_type is None:
            return None
        return did.destination_type.value

    @property
    def extra_state_attributes(self) -> dict[str, str | bool | None]:
        """The number, the destination and whether the DID is enabled."""
        did = self._did
        if did is None:
            return {}
        return {
            "number": did.number,
            "destination": did.destination,
            "enabled": did.enabled,
        }


class CallGroupSensor(PbxCallGroupEntity, SensorEntity):
    """One of today's figures of a queue or ring group."""

    entity_description: GroupSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The figure the description reads."""
        return self.entity_description.value_fn(self.stats)


class CallUserSensor(PbxCallUserEntity, SensorEntity):
    """One of today's figures of a user."""

    entity_description: UserSensorEntityDescription

    @property
    def native_value(self) -> StateType | datetime:
        """The figure the description reads."""
        return self.entity_description.value_fn(self.stats)


class UsageSensor(PbxUsageEntity, SensorEntity):
    """Calls, talk time or cost of an extension, today or this month."""

    entity_description: UsageSensorEntityDescription

    def __init__(self, **kwargs: Any) -> None:
        """Costs are in Home Assistant's currency: the vendor names none."""
        super().__init__(**kwargs)
        if self.entity_description.device_class is SensorDeviceClass.MONETARY:
            self._attr_native_unit_of_measurement = (
                self.coordinator.config_entry.options.get(CONF_CURRENCY)
                or self.coordinator.hass.config.currency
            )

    @property
    def _usage(self) -> dict[str, ExtensionUsage]:
        data = self.coordinator.data
        period = data.usage_month if self.entity_description.month else data.usage_today
        return period or {}

    @property
    def native_value(self) -> StateType:
        """The figure; zero for an extension without calls in the period."""
        usage = self._usage.get(self.extension_id)
        if usage is None:
            return 0
        return self.entity_description.value_fn(usage)

    @property
    def last_reset(self) -> datetime | None:
        """When the polled count started: that poll's midnight, or 1st."""
        data: SlowData | None = self.coordinator.data
        if data is None or data.usage_since is None:
            return None
        today, month = data.usage_since
        return month if self.entity_description.month else today


class RateLimitSensor(PbxEntity[PbxSlowCoordinator], SensorEntity):
    """Requests the vendor reports left this hour or in the last 24 hours."""

    entity_description: RateLimitSensorEntityDescription

    @property
    def available(self) -> bool:
        """Most needed when polls are refused for want of requests: shown then
        too, as the vendor's last answer said.
        """
        return True

    @property
    def native_value(self) -> int | None:
        """As the vendor's last answer said."""
        status = self.coordinator.client.rate_limit_status
        return None if status is None else self.entity_description.value_fn(status)


class InfoSensor(PbxEntity[PbxSlowCoordinator], SensorEntity):
    """A fact the PBX told when it was identified (serial, versions)."""

    def __init__(
        self,
        *,
        coordinator: PbxSlowCoordinator,
        description: SensorEntityDescription,
        value: str | None,
    ) -> None:
        """The value does not change while the entry is loaded."""
        super().__init__(coordinator=coordinator, description=description)
        self._attr_native_value = value

    @property
    def available(self) -> bool:
        """Known since setup, whatever the polls do."""
        return True


class AccountSensor(PbxSubscriberEntity, SensorEntity):
    """A subscriber's balance, or this month's charges or payments."""

    entity_description: AccountSensorEntityDescription

    def __init__(self, **kwargs: Any) -> None:
        """In the currency the options name (the API names none), or else
        Home Assistant's.
        """
        super().__init__(**kwargs)
        entry = self.coordinator.config_entry
        self._attr_native_unit_of_measurement = (
            entry.options.get(CONF_CURRENCY) or self.coordinator.hass.config.currency
        )

    @property
    def native_value(self) -> float | None:
        """The figure, as last polled."""
        account = self.account
        return None if account is None else self.entity_description.value_fn(account)

    @property
    def last_reset(self) -> datetime | None:
        """The 1st of the polled month for monthly figures; a balance never
        resets.
        """
        if not self.entity_description.monthly:
            return None
        data: SlowData | None = self.coordinator.data
        return None if data is None else data.accounts_since

"""Sensors: PBX load, extensions, calls, licences, DIDs, usage and accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from operator import attrgetter
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .call_state import call_state_sensors
from .client import Did, PbxFact, SystemStatus, Topic
from .client.titles import did_route
from .const import CONF_CURRENCY, DOMAIN
from .coordinator import PbxConfigEntry, PbxRuntimeData, PbxTopicCoordinator
from .entity import (
    DID_ITEMS,
    EXTENSION_ITEMS,
    PbxEntity,
    pbx_device_info,
    remove_sensors,
)
from .loader import add_entities_dynamically
from .sensor_figures import (
    ACCOUNT_SENSORS,
    DAILY,
    GROUP_SENSORS,
    LAST_CALL,
    MEASURED,
    PERCENT,
    RATE_LIMIT_SENSORS,
    USAGE_SENSORS,
    USER_SENSORS,
    PbxSensorEntityDescription,
    SensorView,
    sensor,
)

PARALLEL_UPDATES = 0


def _status(
    key: str, read: Callable[[SystemStatus], Any], **kwargs: Any
) -> PbxSensorEntityDescription:
    kwargs.setdefault("exists_fn", lambda status: read(status) is not None)
    return sensor(key, topic=Topic.STATUS, value_fn=read, **kwargs)


def _licence(kind: str, key: str) -> PbxSensorEntityDescription:
    return _status(
        key,
        lambda s: s.licenses[kind].percent if kind in s.licenses else None,
        # A licence without a maximum has no share: unknown.
        exists_fn=lambda s: kind in s.licenses,
        **PERCENT,
        entity_category=EntityCategory.DIAGNOSTIC,
    )


SYSTEM_STATES = (
    "operational",
    "degraded",
    "partial_outage",
    "major_outage",
    "maintenance",
)
"""The verdicts a status page gives; any other word is unknown, not shown raw."""


PBX_SENSORS: tuple[PbxSensorEntityDescription, ...] = (
    _status(
        "system_status",
        lambda s: s.state if s.state in SYSTEM_STATES else None,
        exists_fn=lambda s: s.state is not None,
        device_class=SensorDeviceClass.ENUM,
        options=list(SYSTEM_STATES),
    ),
    _status("cpu", lambda s: s.cpu_percent, **PERCENT),
    _status("memory", lambda s: s.memory_percent, **PERCENT),
    _status("disk", lambda s: s.disk_percent, **PERCENT),
    _status("extensions_online", lambda s: s.extensions_online, **MEASURED),
    *(
        sensor(key, topic=topic, value_fn=len, exists_fn=exists, **MEASURED)
        for key, topic, exists in (
            ("extensions_total", Topic.EXTENSIONS, bool),
            ("active_calls", Topic.LIVE_CALLS, lambda calls: True),
        )
    ),
    # Counts up through the day and starts again from zero.
    _status("calls_today", lambda s: s.calls_today, **DAILY),
    _status(
        "sip_registrations_failed", lambda s: s.sip_registrations_failed, **MEASURED
    ),
)
ACTIVE_CALLS_FROM_STATUS = _status("active_calls", lambda s: s.active_calls, **MEASURED)
"""Where the vendor lists no live calls, its status may count them."""


def _extension(key: str, read: Callable[[Any], Any]) -> PbxSensorEntityDescription:
    return sensor(
        key,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        **EXTENSION_ITEMS,
        value_fn=read,
    )


def _did_destination(view: SensorView, did: Did) -> str | None:
    """Where the number rings, in the sensor's words; unknown if the PBX did not say."""
    if did.destination_type is None:
        return None
    return did_route(
        did,
        view.translated(
            "state_attributes.destination_type.state", did.destination_type
        ),
        view.topic_data(Topic.EXTENSIONS),
        view.translated("state", "disabled"),
    )


DID_ROUTE = PbxSensorEntityDescription(
    key="route",
    translation_key="did_route",
    **DID_ITEMS,
    state_fn=_did_destination,
    attributes_fn=lambda did: {
        "number": did.number,
        "destination_type": did.destination_type and did.destination_type.value,
        "destination": did.destination or None,
        "enabled": did.enabled,
    },
    remove_when_gone=True,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every topic's sensors as their items appear, and the PBX's facts."""
    # The old last-call sensors, now an attribute of Calls today.
    remove_sensors(hass, entry, LAST_CALL)
    runtime = entry.runtime_data
    client = runtime.client
    pbx = (
        *PBX_SENSORS,
        *(_licence(kind, key) for kind, key in client.licence_kinds.items()),
    )
    if Topic.LIVE_CALLS not in runtime.coordinators:
        pbx = (*pbx, ACTIVE_CALLS_FROM_STATUS)
    add_entities_dynamically(
        entry,
        async_add_entities,
        (
            *pbx,
            _extension("ip_address", attrgetter("ip_address")),
            _extension("user_agent", attrgetter("user_agent")),
            DID_ROUTE,
            *call_state_sensors(hass, entry, PbxSensorEntityDescription),
            *ACCOUNT_SENSORS,
            *RATE_LIMIT_SENSORS,
            *USAGE_SENSORS,
            *GROUP_SENSORS,
            *USER_SENSORS,
        ),
        PbxSensor,
    )
    # What the PBX told when identified (its serial, versions).
    async_add_entities(InfoSensor(runtime, fact) for fact in runtime.info.sensor_facts)


class PbxSensor(PbxEntity, SensorEntity):
    """A sensor of one item of a topic."""

    entity_description: PbxSensorEntityDescription
    _unrecorded_attributes = frozenset({LAST_CALL})

    def __init__(
        self, coordinator: PbxTopicCoordinator, description: Any, key: str
    ) -> None:
        """Costs are in the options' currency, else Home Assistant's."""
        super().__init__(coordinator, description, key)
        if description.currency:
            self._attr_native_unit_of_measurement = (
                coordinator.config_entry.options.get(CONF_CURRENCY)
                or coordinator.hass.config.currency
            )

    @property
    def native_value(self) -> StateType | datetime:
        """The value the description reads from the item."""
        state_fn = self.entity_description.state_fn
        if state_fn is not None:
            item = self.item
            return None if item is None else state_fn(self, item)
        return self.value  # type: ignore[no-any-return]

    def topic_data(self, topic: Topic) -> Any:
        """Another topic's last data (``None``: not read, or not the vendor's)."""
        return self.coordinator.config_entry.runtime_data.data(topic)

    def translated(self, where: str, key: str) -> str:
        """A word of this entity's translations (the key where none is)."""
        path = (
            f"component.{DOMAIN}.entity.sensor."
            f"{self.entity_description.translation_key}.{where}.{key}"
        )
        return self.platform.platform_data.platform_translations.get(path, key)

    @property
    def last_reset(self) -> datetime | None:
        """When the polled count started."""
        last_reset_fn = self.entity_description.last_reset_fn
        data = self.coordinator.data
        return None if last_reset_fn is None or data is None else last_reset_fn(data)


class InfoSensor(SensorEntity):
    """A fact the PBX told when it was identified (serial, versions)."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, runtime: PbxRuntimeData, fact: PbxFact) -> None:
        """The value does not change while the entry is loaded."""
        self._attr_translation_key = fact.translation_key
        self._attr_unique_id = f"{runtime.info.unique_id}_pbx_{fact.key}"
        self._attr_device_info = pbx_device_info(runtime.info)
        self._attr_native_value = fact.value

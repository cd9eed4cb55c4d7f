"""Notify: an SMS to the recipient set in the options, where the vendor sends SMS."""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity, NotifyEntityDescription
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Capability
from .const import CONF_SMS_RECIPIENT, DOMAIN
from .coordinator import PbxConfigEntry, PbxRuntimeData
from .entity import pbx_device_info
from .service_schemas import invalid_input
from .services import async_send_sms

PARALLEL_UPDATES = 1

SMS = NotifyEntityDescription(key="sms", translation_key="sms")


def sms_unique_id(runtime: PbxRuntimeData) -> str:
    """The SMS entity's unique id, also to remove it."""
    return f"{runtime.info.unique_id}_pbx_{SMS.key}"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the SMS entity while a recipient is set, else take it out of the registry."""
    runtime = entry.runtime_data
    if Capability.SEND_SMS not in runtime.client.capabilities:
        return
    if entry.options.get(CONF_SMS_RECIPIENT):
        async_add_entities([SmsNotifyEntity(entry, runtime)])
        return
    registry = er.async_get(hass)
    unique_id = sms_unique_id(runtime)
    if entity_id := registry.async_get_entity_id(Platform.NOTIFY, DOMAIN, unique_id):
        registry.async_remove(entity_id)


class SmsNotifyEntity(NotifyEntity):
    """Sends an SMS to the options' recipient (``send_sms`` reaches any number)."""

    _attr_has_entity_name = True
    entity_description = SMS

    def __init__(self, entry: PbxConfigEntry, runtime: PbxRuntimeData) -> None:
        """An entity of the PBX's device."""
        self._entry = entry
        self._attr_unique_id = sms_unique_id(runtime)
        self._attr_device_info = pbx_device_info(runtime.info)

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send ``message`` (after ``title``, when given)."""
        entry = self._entry
        recipient = entry.options.get(CONF_SMS_RECIPIENT)
        if not recipient:
            raise invalid_input("sms_recipient_missing", title=entry.title)
        text = f"{title}: {message}" if title else message
        await async_send_sms(entry, recipient, text)

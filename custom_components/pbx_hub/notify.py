"""Notify: an SMS to the number set in the options, where the vendor sends SMS."""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity, NotifyEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Capability
from .const import CONF_SMS_RECIPIENT, DOMAIN
from .coordinator import PbxConfigEntry, PbxSlowCoordinator
from .entity import PbxEntity
from .services import async_send_sms

PARALLEL_UPDATES = 1

SMS = NotifyEntityDescription(key="sms", translation_key="sms")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the SMS entity where the vendor sends SMS."""
    runtime = entry.runtime_data
    if Capability.SEND_SMS in runtime.client.capabilities:
        async_add_entities([SmsNotifyEntity(coordinator=runtime.slow, description=SMS)])


class SmsNotifyEntity(PbxEntity[PbxSlowCoordinator], NotifyEntity):
    """Sends an SMS to the recipient chosen in the options; the action
    ``pbx_hub.send_sms`` reaches any number.
    """

    @property
    def available(self) -> bool:
        """Sending does not depend on the last poll."""
        return True

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send ``message`` (after ``title``, when given)."""
        entry = self.coordinator.config_entry
        recipient = entry.options.get(CONF_SMS_RECIPIENT)
        if not recipient:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="sms_recipient_missing",
                translation_placeholders={"title": entry.title},
            )
        text = f"{title}: {message}" if title else message
        await async_send_sms(entry, recipient, text)

"""Buttons: "Call back last caller" on each extension that places calls."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import ClicksToCall, PbxInvalidInputError
from .coordinator import PbxConfigEntry
from .entity import CALL_USER, PbxEntity, PbxEntityDescription
from .helpers import not_supported
from .loader import add_entities_dynamically
from .services import async_place_call

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class PbxButtonEntityDescription(PbxEntityDescription, ButtonEntityDescription):
    """A button of one item."""


CALL_BACK = PbxButtonEntityDescription(
    key="call_back",
    translation_key="call_back",
    **CALL_USER,
)
"""On each user seen in the call history: calls its last caller back."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the call-back buttons where the vendor places calls."""
    if isinstance(entry.runtime_data.client, ClicksToCall):
        add_entities_dynamically(entry, async_add_entities, (CALL_BACK,), PbxCallBack)


class PbxCallBack(PbxEntity, ButtonEntity):
    """Calls the extension's latest incoming or missed caller back from it."""

    entity_description: PbxButtonEntityDescription

    @property
    def last_caller(self) -> str | None:
        """The number to call back; ``None`` where the PBX cannot dial it."""
        activity = self.coordinator.data
        client = self.coordinator.client
        if activity is None or not isinstance(client, ClicksToCall):
            return None
        if (number := activity.last_callers.get(self.key)) is None:
            return None
        try:
            return client.normalize_number(number)
        except PbxInvalidInputError:
            return None

    @property
    def available(self) -> bool:
        """Available once the extension had a caller with a number."""
        return super().available and self.last_caller is not None

    @property
    def extra_state_attributes(self) -> dict[str, str | None]:
        """The number a press calls."""
        return {"number": self.last_caller}

    async def async_press(self) -> None:
        """Ring the extension and connect it to its last caller."""
        entry = self.coordinator.config_entry
        if not isinstance(client := entry.runtime_data.client, ClicksToCall):
            raise not_supported(entry)
        if (number := self.last_caller) is None:
            return  # unavailable: Home Assistant does not press it
        await async_place_call(entry, client, self.key, number)

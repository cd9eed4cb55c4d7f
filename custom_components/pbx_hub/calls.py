"""The entry's call tracker, kept in Home Assistant's storage across restarts."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .client import StoredCalls, call_tracking
from .const import DOMAIN

STORAGE_VERSION = 1
SAVE_DELAY = 10
"""Seconds to gather changes; Home Assistant writes pending ones when it stops."""


class CallTracker(call_tracking.CallTracker):
    """The client's ``CallTracker``, writing each change to the entry's storage."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Nothing is known until ``async_load``."""
        super().__init__(on_change=self._save_later)
        self._store: Store[StoredCalls] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.calls"
        )

    async def async_load(self) -> None:
        """Read what an earlier run stored."""
        if stored := await self._store.async_load():
            self.restore(stored)

    def _save_later(self) -> None:
        self._store.async_delay_save(self.to_stored, SAVE_DELAY)

    async def async_save(self) -> None:
        """Write now, as the entry unloads: a reload must not fire again."""
        # Before the first poll, an empty record would fire every call again.
        if self.polled:
            await self._store.async_save(self.to_stored())

    async def async_remove(self) -> None:
        """Delete the stored data, with the config entry."""
        await self._store.async_remove()

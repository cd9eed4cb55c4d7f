"""Coordinators: fast data (status, extensions, live calls) and slow data (DIDs).

Two cadences so that cheap, fast-changing data is fresh while slow data costs
little; each fails on its own, so a failing DID list does not make the extension
entities unavailable and the reverse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .client import (
    VENDORS,
    Capability,
    Did,
    Extension,
    LiveCall,
    PbxAuthError,
    PbxClient,
    PbxConnectionError,
    PbxError,
    PbxInfo,
    PbxInvalidInputError,
    PbxRateLimitError,
    PbxUnsupportedError,
    SystemStatus,
)
from .const import (
    CONF_FAST_INTERVAL,
    CONF_SLOW_INTERVAL,
    CONF_VENDOR,
    DEFAULT_FAST_INTERVAL,
    DEFAULT_SLOW_INTERVAL,
    DOMAIN,
    LOGGER,
)

FAST_TOPICS = (Capability.STATUS, Capability.EXTENSIONS, Capability.LIVE_CALLS)
SLOW_TOPICS = (Capability.DIDS,)


@dataclass(frozen=True, kw_only=True)
class FastData:
    """What the fast coordinator polls; ``None`` where the vendor has no such data."""

    status: SystemStatus | None
    extensions: dict[str, Extension]
    live_calls: dict[str, LiveCall] | None


@dataclass(frozen=True, kw_only=True)
class SlowData:
    """What the slow coordinator polls."""

    dids: dict[str, Did]


@dataclass(kw_only=True)
class PbxRuntimeData:
    """Everything a loaded entry owns."""

    client: PbxClient
    info: PbxInfo
    fast: PbxFastCoordinator
    slow: PbxSlowCoordinator


type PbxConfigEntry = ConfigEntry[PbxRuntimeData]


def poll_cost(client: PbxClient, topics: tuple[Capability, ...]) -> int:
    """Requests one poll of ``topics`` sends with this client."""
    return sum(
        client.poll_cost.get(topic, 1)
        for topic in topics
        if topic in client.capabilities
    )


def min_fast_interval(client: PbxClient, slow_interval: timedelta) -> float:
    """Shortest fast interval, in seconds, that keeps polling within the budget."""
    spec = VENDORS[client.vendor].budget
    slow_rate = poll_cost(client, SLOW_TOPICS) / slow_interval.total_seconds()
    return spec.min_poll_interval(poll_cost(client, FAST_TOPICS), slow_rate)


def interval_option(entry: ConfigEntry, key: str, default: timedelta) -> timedelta:
    """A scan interval from the entry's options, in seconds."""
    return timedelta(seconds=entry.options.get(key, default.total_seconds()))


def error_translation(err: PbxError) -> tuple[str, dict[str, str]]:
    """The translation key and placeholders that explain a client error."""
    if isinstance(err, PbxAuthError):
        return "auth_failed", {}
    if isinstance(err, PbxRateLimitError):
        return "rate_limited", {"retry_after": f"{err.retry_after or 0:.0f}"}
    if isinstance(err, PbxConnectionError):
        return "cannot_connect", {"error": str(err)}
    if isinstance(err, PbxInvalidInputError | PbxUnsupportedError):
        return "invalid_input", {"error": str(err)}
    return "invalid_response", {"error": str(err)}


class PbxCoordinator[DataT](DataUpdateCoordinator[DataT]):
    """A coordinator bound to one entry's client."""

    config_entry: PbxConfigEntry
    cadence: ClassVar[str]
    interval_key: ClassVar[str]
    default_interval: ClassVar[timedelta]

    def __init__(
        self, hass: HomeAssistant, entry: PbxConfigEntry, client: PbxClient
    ) -> None:
        """Poll at the interval the entry's options give this cadence."""
        self.client = client
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.data[CONF_VENDOR]} {entry.title} {self.cadence}",
            update_interval=interval_option(
                entry, self.interval_key, self.default_interval
            ),
        )

    async def _guard[T](self, call: Awaitable[T]) -> T:
        """Await a poll and turn client errors into what a coordinator raises:
        auth errors start reauth, everything else makes entities unavailable.

        A PBX that answers 429 also gets a repair issue, since only longer scan
        intervals help; it goes away with the next successful poll.
        """
        issue_id = f"rate_limited_{self.config_entry.entry_id}"
        try:
            result = await call
        except PbxError as err:
            if isinstance(err, PbxRateLimitError) and err.from_pbx:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key="rate_limited",
                    translation_placeholders={"title": self.config_entry.title},
                )
            key, placeholders = error_translation(err)
            error_class = (
                ConfigEntryAuthFailed if isinstance(err, PbxAuthError) else UpdateFailed
            )
            raise error_class(
                translation_domain=DOMAIN,
                translation_key=key,
                translation_placeholders=placeholders,
            ) from err
        ir.async_delete_issue(self.hass, DOMAIN, issue_id)
        return result

    async def _fetch_if_supported[T](
        self, capability: Capability, getter: Callable[[], Coroutine[Any, Any, T]]
    ) -> T | None:
        if capability not in self.client.capabilities:
            return None
        return await getter()


class PbxFastCoordinator(PbxCoordinator[FastData]):
    """Status, extensions and live calls: requests per poll do not grow with
    the number of extensions.
    """

    cadence = "fast"
    interval_key = CONF_FAST_INTERVAL
    default_interval = DEFAULT_FAST_INTERVAL

    async def _async_update_data(self) -> FastData:
        status, extensions, live_calls = await self._guard(
            asyncio.gather(
                self._fetch_if_supported(
                    Capability.STATUS, self.client.async_get_status
                ),
                self._fetch_if_supported(
                    Capability.EXTENSIONS, self.client.async_get_extensions
                ),
                self._fetch_if_supported(
                    Capability.LIVE_CALLS, self.client.async_get_live_calls
                ),
            )
        )
        return FastData(
            status=status, extensions=extensions or {}, live_calls=live_calls
        )


class PbxSlowCoordinator(PbxCoordinator[SlowData]):
    """DIDs and other data that changes rarely."""

    cadence = "slow"
    interval_key = CONF_SLOW_INTERVAL
    default_interval = DEFAULT_SLOW_INTERVAL

    async def _async_update_data(self) -> SlowData:
        dids = await self._guard(
            self._fetch_if_supported(Capability.DIDS, self.client.async_get_dids)
        )
        return SlowData(dids=dids or {})

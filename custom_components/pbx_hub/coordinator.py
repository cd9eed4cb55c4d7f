"""Runtime data, and one coordinator per topic: each polls and fails alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .calls import CallTracker
from .client import (
    TOPICS,
    Cadence,
    Notice,
    PbxClient,
    PbxError,
    PbxInfo,
    PbxPermissionError,
    ReadContext,
    ReadResult,
    Topic,
)
from .client.action_results import patched
from .client.budget import reported_poll_interval
from .client.error_keys import needs_reauth
from .client.options import followed_extensions
from .client.read_notes import ReadNotes
from .const import (
    CONF_CALL_STATES,
    CONF_VENDOR,
    DOMAIN,
    LOGGER,
    MAX_INTERVAL,
)
from .helpers import poll_plan, read_context, translated
from .push import PushFeed
from .repairs import PollIssues, is_removed, sync_api_url_issue

type Digest = Callable[[Any, ReadContext], Any]
"""Turns a topic's data into what its entities show (calls into today's figures)."""


@dataclass(kw_only=True)
class CadenceState:
    """What the topics of one cadence share: their repair issues and costs."""

    cadence: Cadence
    issues: PollIssues
    costs: dict[Topic, int]
    """Requests each topic's last read sent, shared by the entry's coordinators."""


@dataclass(kw_only=True)
class PbxRuntimeData:
    """Everything a loaded entry owns."""

    hass: HomeAssistant
    client: PbxClient
    info: PbxInfo
    pbx_device_id: str
    """The PBX's device, which every other device of the entry is linked under."""
    coordinators: dict[Topic, PbxTopicCoordinator]
    call_tracker: CallTracker | None = None
    push: PushFeed | None = None
    """The push channel, where the vendor pushes call notifications."""

    def of(self, cadence: Cadence) -> list[PbxTopicCoordinator]:
        """The coordinators of the topics read at ``cadence``."""
        return [c for c in self.coordinators.values() if c.cadence is cadence]

    async def async_refresh(self, cadence: Cadence | None = None) -> None:
        """Read every topic (of ``cadence``) now, one after the other."""
        for coordinator in self.coordinators.values():
            if cadence is None or coordinator.cadence is cadence:
                await coordinator.async_refresh()

    def data(self, topic: Topic) -> Any:
        """The topic's data as last read; ``None`` where not read (yet)."""
        coordinator = self.coordinators.get(topic)
        return None if coordinator is None else coordinator.data


type PbxConfigEntry = ConfigEntry[PbxRuntimeData]
LOADED = ConfigEntryState.LOADED


class PbxTopicCoordinator(DataUpdateCoordinator[Any]):
    """Reads one topic at its cadence; its data is the topic's model."""

    config_entry: PbxConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: PbxConfigEntry,
        client: PbxClient,
        topic: Topic,
        shared: CadenceState,
        digest: Digest | None = None,
    ) -> None:
        """Poll at the interval the entry's options give the topic's cadence."""
        self.client = client
        self.topic = topic
        self._shared = shared
        self._digest = digest
        self._writes = 0
        """Actions' results shown so far (see ``async_patch``)."""
        self._poll_listeners: list[Callable[[Any], None]] = []
        self._notes = ReadNotes()
        shared.costs[topic] = client.poll_cost(topic)
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.data[CONF_VENDOR]} {entry.title} {topic}",
            # What the client knows without asking (its rate limits) is read
            # after the other topics' reads instead.
            update_interval=poll_plan(entry.options, client).intervals[shared.cadence]
            if shared.costs[topic]
            else None,
            # A poll that reads what the last one read tells no entity: the
            # data are frozen dataclasses, equal when nothing changed.
            always_update=False,
        )

    @property
    def cadence(self) -> Cadence:
        """The cadence the topic is read at."""
        return self._shared.cadence

    @property
    def cost(self) -> int:
        """Requests one read of the topic sends, as last measured."""
        return self._shared.costs[self.topic]

    def async_add_poll_listener(self, listener: Callable[[Any], None]) -> CALLBACK_TYPE:
        """Hand ``listener`` the data after every successful poll, unchanged or not."""
        self._poll_listeners.append(listener)
        return lambda: self._poll_listeners.remove(listener)

    @callback
    def async_patch(self, path: str, item_id: str, **changes: Any) -> None:
        """Show a confirmed write at once: ``changes`` to one item at ``path``."""
        if (data := patched(self.data, path, item_id, changes)) is None:
            return
        self._writes += 1
        self.async_set_updated_data(data)

    async def _async_update_data(self) -> Any:
        """Read the topic; keep the data where a write was shown meanwhile."""
        writes = self._writes
        context = read_context(self.config_entry.options)
        if self.topic is Topic.CALL_FORWARDING:
            listed = self.config_entry.runtime_data.data(Topic.EXTENSIONS)
            followed = followed_extensions(listed, self.config_entry.options)
            context = replace(context, extension_ids=tuple(followed))
        refused: str | None = None
        try:
            result: ReadResult[Any] | None = await self.client.async_read(
                self.topic, context
            )
        except PbxPermissionError as err:
            # Unnamed (a bare 403): the topic at least tells what to grant.
            result, refused = None, err.permission or self.topic.value
        except PbxError as err:
            self._slow_down_to_the_vendors_count()
            self._shared.issues.failed(self.topic, err)
            reauth = needs_reauth(err) and not is_removed(self.hass, self.config_entry)
            error_class = ConfigEntryAuthFailed if reauth else UpdateFailed
            raise translated(error_class, err) from err
        data = None
        if result is not None:
            self._shared.costs[self.topic] = result.cost
            if result.refused:  # partly refused: the rest still counts
                refused = ", ".join(sorted(result.refused))
            self._note(result)
            data = result.data
            if self._digest is not None:
                data = self._digest(data, context)
        self._slow_down_to_the_vendors_count()
        if result is None or result.cost:  # a read without requests tells nothing
            self._shared.issues.succeeded(self.topic, refused)
        if self._writes != writes and self.data is not None:
            return self.data
        return data

    @callback
    def _async_refresh_finished(self) -> None:
        """Hand poll listeners the data; re-read the topics that cost nothing."""
        super()._async_refresh_finished()
        entry = self.config_entry
        if self.update_interval is not None and entry.state is LOADED:
            for sibling in entry.runtime_data.coordinators.values():
                if sibling.update_interval is None:
                    entry.async_create_background_task(
                        self.hass, sibling.async_refresh(), f"{sibling.name} read"
                    )
        if not self.last_update_success:
            return
        for listener in list(self._poll_listeners):
            try:
                listener(self.data)
            except Exception:
                LOGGER.exception("Error in a poll listener of %s", self.name)

    def _slow_down_to_the_vendors_count(self) -> None:
        """Poll as the measured costs need, slower as fewer requests are left."""
        cadence = self._shared.cadence
        plan = poll_plan(self.config_entry.options, self.client, self._shared.costs)
        if self.update_interval is None or not (cost := plan.costs[cadence]):
            return
        self.update_interval = reported_poll_interval(
            self.client.budget, cost, plan.intervals[cadence], MAX_INTERVAL
        )

    def _note(self, result: ReadResult[Any]) -> None:
        """Log what the read noticed, once each; sync the API address repair."""
        for warning in self._notes.new(result, self.config_entry.title):
            LOGGER.warning("%s", warning)
        if result.cost:  # else no answer, so nothing noticed
            sync_api_url_issue(
                self.hass, self.config_entry, result.notices.get(Notice.API_URL)
            )


class PushedCallStates(PbxTopicCoordinator):
    """Call states as the vendor's notifications push them; never polled."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: PbxConfigEntry,
        client: PbxClient,
        shared: CadenceState,
        feed: PushFeed,
    ) -> None:
        """No interval: each change of the feed sets the data."""
        super().__init__(hass, entry, client, Topic.CALL_STATES, shared)
        self.update_interval = None
        self._feed = feed
        entry.async_on_unload(
            feed.async_add_call_state_listener(
                lambda: self.async_set_updated_data(self._shown())
            )
        )

    def _shown(self) -> Any:
        return self._feed.shown(
            self.config_entry.runtime_data.data(Topic.EXTENSIONS) or {}
        )

    async def _async_update_data(self) -> Any:
        """Nothing to read: the extensions as the notifications left them."""
        return self._shown()


def build_coordinators(
    hass: HomeAssistant,
    entry: PbxConfigEntry,
    client: PbxClient,
    call_tracker: CallTracker | None,
    push: PushFeed | None = None,
) -> dict[Topic, PbxTopicCoordinator]:
    """One coordinator per topic the client reads, or pushes (call states)."""
    costs: dict[Topic, int] = {}
    fast_issues = PollIssues(hass, entry, Cadence.FAST)
    shared = {
        cadence: CadenceState(
            cadence=cadence,
            # The call states' issues are the fast topics' (same texts).
            issues=PollIssues(hass, entry, cadence)
            if cadence is Cadence.SLOW
            else fast_issues,
            costs=costs,
        )
        for cadence in Cadence
    }
    digests: dict[Topic, Digest] = {}
    if call_tracker is not None:
        digests[Topic.CALLS] = lambda calls, context: call_tracker.update(
            calls, context.midnight
        )
    states_on = bool(entry.options.get(CONF_CALL_STATES, True))  # polled or pushed
    coordinators = {
        topic: PbxTopicCoordinator(
            hass,
            entry,
            client,
            topic,
            shared[TOPICS[topic].cadence],
            digests.get(topic),
        )
        for topic in client.topics
        if topic is not Topic.CALL_STATES or states_on
    }
    if push is not None and states_on:
        coordinators.setdefault(
            Topic.CALL_STATES,
            PushedCallStates(hass, entry, client, shared[Cadence.LIVE], push),
        )
    return coordinators

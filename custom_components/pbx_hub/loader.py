"""The one loader: each item's entities, added as items appear, removed as they go."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .client import Topic
from .client.options import not_excluded, on_followed_extensions
from .coordinator import PbxConfigEntry, PbxTopicCoordinator
from .entity import PBX, PbxEntityDescription

EXTENSION_TOPICS = frozenset({Topic.EXTENSIONS, Topic.CALL_STATES})
"""Topics keyed by extension: the options' excluded extensions get none."""


def add_entities_dynamically[DescriptionT: PbxEntityDescription](
    entry: PbxConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[DescriptionT],
    make_entity: Callable[[PbxTopicCoordinator, DescriptionT, str], Entity],
) -> None:
    """Add each description's entity per item of its topic, now and as items appear."""
    runtime = entry.runtime_data
    by_topic: dict[Topic, list[DescriptionT]] = {}
    for description in descriptions:
        if description.topic in runtime.coordinators:
            by_topic.setdefault(description.topic, []).append(description)
    for topic, listed in by_topic.items():
        _Loader(entry, async_add_entities, listed, make_entity).start(
            runtime.coordinators[topic]
        )


class _Loader[DescriptionT: PbxEntityDescription]:
    """Adds one topic's entities as its items appear."""

    def __init__(
        self,
        entry: PbxConfigEntry,
        async_add_entities: AddConfigEntryEntitiesCallback,
        descriptions: list[DescriptionT],
        make_entity: Callable[[PbxTopicCoordinator, DescriptionT, str], Entity],
    ) -> None:
        self._entry = entry
        self._add = async_add_entities
        self._descriptions = descriptions
        self._make = make_entity
        self._added: dict[tuple[int, str], Entity] = {}
        """Each entity added, by description position and item key."""
        self._left: set[str] = set()
        """Items added that a later read lacked."""

    def start(self, coordinator: PbxTopicCoordinator) -> None:
        self._coordinator = coordinator
        self._add_new()
        self._entry.async_on_unload(coordinator.async_add_listener(self._add_new))
        extensions = self._entry.runtime_data.coordinators.get(Topic.EXTENSIONS)
        if extensions is not None and any(d.extension_key for d in self._descriptions):
            # An extension back in the list brings its call entities back.
            self._entry.async_on_unload(extensions.async_add_listener(self._add_new))

    def _keys(self, description: DescriptionT, data: Any) -> Iterable[str]:
        if description.items_fn is None:
            return (PBX,)
        keys = description.items_fn(data)
        options = self._entry.options
        if description.topic in EXTENSION_TOPICS:
            return not_excluded(keys, options)
        runtime = self._entry.runtime_data
        by = description.extension_key
        if by is not None and Topic.EXTENSIONS in runtime.coordinators:
            # Only on an extension's device.
            listed = runtime.data(Topic.EXTENSIONS)
            return on_followed_extensions(keys, listed, options, by)
        return keys

    @callback
    def _add_new(self) -> None:
        coordinator = self._coordinator
        data = coordinator.data
        if data is None or not coordinator.last_update_success:
            return
        # By position: two descriptions of one topic may share a key (a
        # queue's and a user's calls today).
        current = [set(self._keys(d, data)) for d in self._descriptions]
        self._forget_gone(current, data)
        entities: list[Entity] = []
        for index, description in enumerate(self._descriptions):
            for key in current[index]:
                if (index, key) in self._added:
                    continue
                item = data if description.items_fn is None else None
                if item is None:
                    item = description.item_fn(data, key)
                if item is None or not description.exists_fn(item):
                    continue
                entity = self._make(coordinator, description, key)
                self._added[index, key] = entity
                entities.append(entity)
        if entities:
            self._add(entities)

    def _forget_gone(self, current: list[set[str]], data: Any) -> None:
        """Forget the entities to add again; remove those of gone items where asked."""
        registry = er.async_get(self._coordinator.hass)
        listed = set().union(*current)
        renewed: set[str] = set()
        for description in self._descriptions:
            renewed.update(description.renewed_fn(data))
        self._left.update(
            key for _, key in self._added if key not in listed and key != PBX
        )
        back = (self._left & listed) | renewed
        self._left -= back
        for (index, key), entity in list(self._added.items()):
            registered = entity.entity_id and registry.async_get(entity.entity_id)
            gone = key not in current[index]
            if gone and self._descriptions[index].remove_when_gone:
                # Deleted on the PBX: so is its entity.
                del self._added[index, key]
                if registered:
                    registry.async_remove(entity.entity_id)
            elif key in renewed or (key in back and not registered):
                del self._added[index, key]

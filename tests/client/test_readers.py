"""Topics are read through the readers a vendor implements, and are typed per
topic: a topic's model (``TOPICS``), its reader's return type and the type
``PbxClient.async_read`` declares for it must be one and the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, get_args, get_overloads, get_type_hints

import pytest

from custom_components.pbx_hub.client import (
    TOPICS,
    VENDORS,
    BudgetSpec,
    PbxClient,
    PbxInfo,
    PbxUnsupportedError,
    ReadContext,
    ReadResult,
    RequestBudget,
    SystemStatus,
    Topic,
)
from custom_components.pbx_hub.client.readers import READERS, ReadsStatus


def test_every_topic_has_one_reader_in_declaration_order() -> None:
    assert list(READERS) == list(TOPICS)
    for topic, reader in READERS.items():
        assert reader.topic is topic


def test_a_client_has_no_topic_of_its_own() -> None:
    """The topic is the reader's: a client has ``topics``, not one ``topic``."""
    for spec in VENDORS.values():
        assert not hasattr(spec.client_class, "topic"), spec.client_class


@pytest.mark.parametrize("topic", list(Topic))
def test_a_readers_types_are_its_topics(topic: Topic) -> None:
    """The reader takes a client with the topic's interface and returns the
    topic's model.
    """
    reader = READERS[topic]
    hints = get_type_hints(reader.read)
    assert hints["client"] is reader.interface
    assert hints["return"] == TOPICS[topic].model


def _declared_reads() -> dict[Any, Any]:
    """What each overload of ``async_read`` says a topic's read returns."""
    declared = {}
    for overload in get_overloads(PbxClient.async_read):
        hints = get_type_hints(overload)
        (result,) = get_args(hints["return"])
        topic = hints["topic"]
        declared[get_args(topic)[0] if topic is not Topic else Topic] = result
    return declared


def test_async_read_is_typed_per_topic_as_the_topic_declares() -> None:
    declared = _declared_reads()
    assert declared.pop(Topic) is Any  # a topic not known until run time
    assert declared == {topic: spec.model for topic, spec in TOPICS.items()}
    assert get_type_hints(PbxClient.async_read)["return"] == ReadResult[Any]


def test_a_wrong_declaration_would_be_seen() -> None:
    """The comparison above tells types apart (not everything is equal)."""
    assert get_args(Literal[Topic.STATUS]) == (Topic.STATUS,)
    assert dict[str, SystemStatus] != TOPICS[Topic.EXTENSIONS].model
    assert _declared_reads()[Topic.STATUS] is SystemStatus


class _StatusOnly(PbxClient, ReadsStatus):
    vendor = "status-only"

    async def async_identify(self) -> PbxInfo:
        return PbxInfo(unique_id="1", name="PBX", manufacturer="Test")

    async def async_get_status(self) -> SystemStatus:
        return SystemStatus(active_calls=2)


async def test_a_topic_without_a_reader_is_refused() -> None:
    client = _StatusOnly(
        None,  # type: ignore[arg-type]
        {},
        budget=RequestBudget(BudgetSpec(limit=1, window=1)),
    )
    context = ReadContext.at(datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert client.topics == (Topic.STATUS,)
    read = await client.async_read(Topic.STATUS, context)
    assert read.data == SystemStatus(active_calls=2)
    assert read.cost == 1
    for topic in set(Topic) - {Topic.STATUS}:
        with pytest.raises(PbxUnsupportedError, match="status-only does not read"):
            await client.async_read(topic, context)

"""A missing subscriber is told once until it is back; a recommended sign-in
scheme once for good, and only from a read that had an answer."""

from __future__ import annotations

from custom_components.pbx_hub.client import Notice, ReadResult
from custom_components.pbx_hub.client.read_notes import ReadNotes


def _read(*missing: str, cost: int = 1, scheme: str | None = None) -> ReadResult[None]:
    notices = {} if scheme is None else {Notice.AUTHENTICATION: scheme}
    return ReadResult(data=None, cost=cost, missing=frozenset(missing), notices=notices)


def test_a_missing_subscriber_is_told_once_and_again_after_it_was_back() -> None:
    notes = ReadNotes()
    [warning] = notes.new(_read("7"), "Office")
    assert warning.startswith("Office: subscriber 7, followed in the options,")
    assert notes.new(_read("7"), "Office") == []
    assert notes.new(_read(), "Office") == []
    assert len(notes.new(_read("7"), "Office")) == 1


def test_a_recommended_scheme_is_told_once_and_only_from_an_answer() -> None:
    notes = ReadNotes()
    assert notes.new(_read(cost=0, scheme="OAUTH"), "Office") == []
    assert notes.new(_read(scheme="OAUTH"), "Office") == [
        "Office recommends OAUTH authentication; PBX Hub signs in with Basic"
    ]
    assert notes.new(_read(scheme="OAUTH"), "Office") == []

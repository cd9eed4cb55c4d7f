"""The stale-extension count, without Home Assistant: which extensions' devices
go, and after how many lists (docs/design-stale-devices.md).
"""

from __future__ import annotations

from custom_components.pbx_hub.client.stale import STALE_AFTER_POLLS, StaleExtensions

DEVICES = {"1", "2", "3"}
"""The extensions that have a device."""


def _count(
    stale: StaleExtensions,
    listed: set[str],
    times: int = 1,
    excluded: set[str] | None = None,
) -> set[str]:
    """Count ``listed`` ``times``; what the last count removes."""
    gone: set[str] = set()
    for _ in range(times):
        gone = stale.count(listed, DEVICES, excluded or set())
    return gone


def test_an_extension_goes_once_enough_lists_lack_it() -> None:
    stale = StaleExtensions()
    assert _count(stale, DEVICES) == set()
    assert _count(stale, {"1", "2"}, STALE_AFTER_POLLS - 1) == set()
    assert _count(stale, {"1", "2"}) == {"3"}


def test_a_list_that_has_it_again_restarts_the_count() -> None:
    stale = StaleExtensions()
    _count(stale, {"1", "2"}, STALE_AFTER_POLLS - 1)
    assert _count(stale, DEVICES) == set()
    assert _count(stale, {"1", "2"}, STALE_AFTER_POLLS - 1) == set()


def test_an_empty_list_counts_for_nothing() -> None:
    stale = StaleExtensions()
    _count(stale, {"1", "2"}, STALE_AFTER_POLLS - 1)
    assert _count(stale, set(), 5) == set()
    assert _count(stale, {"1", "2"}) == {"3"}


def test_excluded_extensions_go_at_once_whatever_the_list() -> None:
    stale = StaleExtensions()
    assert _count(stale, DEVICES, excluded={"2", "9"}) == {"2"}
    assert _count(stale, set(), excluded={"2"}) == {"2"}


def test_unrelated_lists_remove_nothing_until_they_are_the_reference() -> None:
    """A list naming none of the last counted list's extensions (a garbled
    answer, ids in another form) counts for nothing; ``STALE_AFTER_POLLS``
    of them in a row become the reference, and the old ones go after as many
    lists again.
    """
    stale = StaleExtensions()
    _count(stale, DEVICES)
    replaced = {"7", "8"}
    assert _count(stale, replaced, STALE_AFTER_POLLS) == set()
    assert _count(stale, replaced, STALE_AFTER_POLLS - 1) == set()
    assert _count(stale, replaced) == DEVICES


def test_an_unrelated_list_between_counted_ones_breaks_the_row() -> None:
    stale = StaleExtensions()
    _count(stale, DEVICES)
    for _ in range(STALE_AFTER_POLLS - 1):
        assert _count(stale, {"7"}) == set()
        assert _count(stale, {"1"}) == set()
    # Every second list counted: the missing extensions' turn comes.
    assert _count(stale, {"1"}) == {"2", "3"}

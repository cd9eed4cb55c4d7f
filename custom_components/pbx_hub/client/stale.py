"""Which extensions the PBX surely no longer lists, so that their devices can
go (see docs/design-stale-devices.md).
"""

from __future__ import annotations

from collections.abc import Collection

STALE_AFTER_POLLS = 3
"""Counted lists in a row an extension must be missing from before its device goes."""


class StaleExtensions:
    """Counts the extension lists of successful polls against the extensions
    that have a device.
    """

    def __init__(self) -> None:
        """Start without a reference: the first list sets it."""
        self._known: set[str] = set()
        """The extensions of the last list that counted."""
        self._missing: dict[str, int] = {}
        """Lists in a row, of those that counted, lacking each extension."""
        self._unrelated = 0
        """Lists in a row naming none of ``_known``."""

    def count(
        self,
        listed: Collection[str],
        registered: Collection[str],
        excluded: Collection[str],
    ) -> set[str]:
        """Count a list (empty where the PBX lists none), and return which of
        the ``registered`` extensions go: those enough lists lacked, and the
        ``excluded`` whatever the list.
        """
        gone = set(registered) & set(excluded)
        kept = set(registered) - gone
        listed_ids = set(listed)
        if not listed_ids:
            return gone
        if self._known and not listed_ids & self._known:
            self._unrelated += 1
            if self._unrelated >= STALE_AFTER_POLLS:
                self._known = listed_ids
                self._missing = {}
                self._unrelated = 0
            return gone
        self._unrelated = 0
        self._known = listed_ids
        self._missing = {
            extension_id: self._missing.get(extension_id, 0) + 1
            for extension_id in kept - listed_ids
        }
        for extension_id, polls in list(self._missing.items()):
            if polls >= STALE_AFTER_POLLS:
                gone.add(extension_id)
                del self._missing[extension_id]
        return gone

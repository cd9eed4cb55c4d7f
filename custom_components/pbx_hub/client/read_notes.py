"""What a topic's reads noticed that the user should hear of, each said once."""

from __future__ import annotations

from typing import Any

from .topics import Notice, ReadResult


class ReadNotes:
    """Remembers what a topic's reads already told, so a log says it once."""

    def __init__(self) -> None:
        """Nothing told yet."""
        self._missing: frozenset[str] = frozenset()
        self._told_scheme = False

    def new(self, result: ReadResult[Any], title: str) -> list[str]:
        """Warnings for what ``result`` noticed that the earlier reads did not."""
        warnings = [
            f"{title}: subscriber {subscriber}, followed in the options, no longer"
            " exists; its figures are left out until it is back or removed from"
            " the options"
            for subscriber in sorted(result.missing - self._missing)
        ]
        self._missing = result.missing
        # A read without requests had no answer, so noticed nothing.
        scheme = result.notices.get(Notice.AUTHENTICATION) if result.cost else None
        if scheme is not None and not self._told_scheme:
            self._told_scheme = True
            warnings.append(
                f"{title} recommends {scheme} authentication; PBX Hub signs in with Basic"
            )
        return warnings

"""Details read one request per item, a share at a time.

Where a vendor has no list call that carries an item's detail (VoipCenter's
DID routes, indicators and desks, Tariscope's account summaries), a read asks
each item on its own. A read may send only its share of the request budget
(``RequestBudget.per_read``): with more items than that, each read asks the
items never read first, then those read longest ago, and the others keep
what was read of them before. Every item is read again within a few reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable


class DetailRotation[T]:
    """The details read so far, by item, and when each was read."""

    def __init__(self) -> None:
        """Nothing read yet."""
        self._details: dict[str, T] = {}
        self._read_at: dict[str, int] = {}
        self._reads = 0

    def due(self, items: Iterable[str], room: int | None) -> list[str]:
        """Up to ``room`` of ``items`` (all of them for ``None``): those never
        read first, then those read longest ago, in the order listed. Items no
        longer listed are forgotten.
        """
        listed = list(items)
        kept = set(listed)
        for item in [item for item in self._details if item not in kept]:
            del self._details[item]
            del self._read_at[item]
        self._reads += 1
        ordered = sorted(listed, key=lambda item: self._read_at.get(item, -1))
        return ordered if room is None else ordered[: max(room, 0)]

    def get(self, item: str) -> T | None:
        """The last detail read of ``item``; ``None`` before the first."""
        return self._details.get(item)

    def read_so_far(self, items: Iterable[str]) -> list[str]:
        """Those of ``items`` read at least once, in the order given."""
        return [item for item in items if item in self._details]

    async def read(
        self,
        items: Iterable[str],
        room: int | None,
        ask: Callable[[str], Awaitable[T]],
    ) -> int:
        """Ask the items ``due`` now, together, and keep each answer; return
        how many were asked. When some fail, the others' answers are kept
        (the next read asks what is still due) and the first error raised.
        """
        due = self.due(items, room)
        answers = await asyncio.gather(
            *(ask(item) for item in due), return_exceptions=True
        )
        failure: BaseException | None = None
        for item, answer in zip(due, answers, strict=True):
            if isinstance(answer, BaseException):
                failure = failure or answer
            else:
                self._details[item] = answer
                self._read_at[item] = self._reads
        if failure is not None:
            raise failure
        return len(due)

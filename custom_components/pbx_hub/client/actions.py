"""Requests sent for a user's action, told apart from a poll's.

Polls and actions share a vendor's request budget and, for VoipCenter, one
request at a time. A write is always an action's; the reads an action needs
(a lookup whose answer the user asked for) are marked by the caller with
``for_action``. The budget keeps polls' share from actions (see
``RequestBudget.acquire``), and ``ActionsFirstLock`` lets a waiting action go
before waiting poll reads.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

_FOR_ACTION: ContextVar[bool] = ContextVar("pbx_hub_for_action", default=False)


@contextmanager
def for_action() -> Iterator[None]:
    """Count every request sent inside (tasks started inside included) as an
    action's, reads too.
    """
    token = _FOR_ACTION.set(True)
    try:
        yield
    finally:
        _FOR_ACTION.reset(token)


def sent_for_action(*, write: bool = False) -> bool:
    """Whether a request is an action's: a ``write``, or sent in ``for_action``."""
    return write or _FOR_ACTION.get()


class ActionsFirstLock:
    """One holder at a time, as ``asyncio.Lock``, but a waiting action is let
    in before every waiting poll read (first come, first served within each).
    The holder is never interrupted: a read already sent finishes first.
    """

    def __init__(self) -> None:
        """Free, with nobody waiting."""
        self._held = False
        self._actions: deque[asyncio.Future[None]] = deque()
        self._reads: deque[asyncio.Future[None]] = deque()

    @asynccontextmanager
    async def hold(self, *, action: bool) -> AsyncIterator[None]:
        """Wait for the turn (an ``action``'s comes before any read's), keep
        it until the block ends.
        """
        await self._acquire(action)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, action: bool) -> None:
        if not self._held:
            self._held = True
            return
        queue = self._actions if action else self._reads
        turn = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # handed the turn as it was cancelled: pass it on
            elif turn in queue:
                queue.remove(turn)
            raise

    def _release(self) -> None:
        """Hand the turn to the first waiting action, else the first read."""
        for queue in (self._actions, self._reads):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False

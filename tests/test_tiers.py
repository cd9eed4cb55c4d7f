"""The two test tiers: only tests marked ``slow`` may open sockets, so the fast
tier (``pytest -m "not slow"``, ``scripts/test --fast``) reaches no server.
"""

from __future__ import annotations

import socket

import pytest


def test_the_fast_tier_has_sockets_blocked() -> None:
    """Home Assistant's test plugin swaps in a guard that fails any test that
    opens one; an unmarked test keeps it.
    """
    assert socket.socket.__module__ == "pytest_socket"


@pytest.mark.slow
def test_the_slow_tier_has_sockets() -> None:
    assert socket.socket.__module__ == "socket"

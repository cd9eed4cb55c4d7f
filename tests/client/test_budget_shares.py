"""Polls and actions sharing a budget: the reserve polls keep, the account a
budget is keyed on, and actions going first through VoipCenter's one lock.
"""

from __future__ import annotations

import asyncio

import pytest

from custom_components.pbx_hub.client import (
    VENDORS,
    BudgetSpec,
    PbxRateLimitError,
    RequestBudget,
    for_action,
)
from custom_components.pbx_hub.client.actions import ActionsFirstLock, sent_for_action
from custom_components.pbx_hub.client.budget import action_allowance

from .test_base import FakeClock


@pytest.mark.parametrize(
    ("limit", "allowance"), [(100, 20), (1800, 360), (60, 12), (7, 1), (4, 0)]
)
def test_actions_may_take_what_polling_leaves(limit: int, allowance: int) -> None:
    assert action_allowance(limit) == allowance


def test_actions_cannot_take_the_polls_reserve() -> None:
    """A tight loop of actions stops at 20 of 100; polls go on to the limit,
    and actions come back as their first request leaves the window.
    """
    clock = FakeClock()
    budget = RequestBudget(BudgetSpec(limit=100, window=900), clock=clock)
    for _ in range(20):
        budget.acquire(action=True)
        clock.now += 1
    with pytest.raises(PbxRateLimitError) as raised:
        budget.acquire(action=True)
    assert raised.value.retry_after == 900 - 20
    assert not raised.value.from_pbx
    assert budget.used == 20  # the refused one is not counted
    for _ in range(80):
        budget.acquire()
    with pytest.raises(PbxRateLimitError):
        budget.acquire()
    clock.now += 900 - 20
    budget.acquire(action=True)


def test_polls_do_not_use_up_the_actions_share() -> None:
    """What polling has used does not count against actions, within the limit."""
    clock = FakeClock()
    budget = RequestBudget(BudgetSpec(limit=100, window=900), clock=clock)
    for _ in range(70):
        budget.acquire()
    for _ in range(20):
        budget.acquire(action=True)
    with pytest.raises(PbxRateLimitError):
        budget.acquire(action=True)
    assert budget.remaining == 10  # kept for polls


async def test_a_request_is_an_actions_when_written_or_marked() -> None:
    assert not sent_for_action()
    assert sent_for_action(write=True)
    with for_action():
        assert sent_for_action()
        # Tasks started inside are the action's too (asyncio.gather's reads).
        assert await asyncio.create_task(_marked())
    assert not sent_for_action()


async def _marked() -> bool:
    return sent_for_action()


async def test_waiting_actions_go_before_waiting_reads() -> None:
    lock = ActionsFirstLock()
    order: list[str] = []
    release = asyncio.Event()

    async def use(name: str, *, action: bool) -> None:
        async with lock.hold(action=action):
            order.append(name)
            if name == "read 0":
                await release.wait()

    first = asyncio.create_task(use("read 0", action=False))
    await asyncio.sleep(0)
    waiting = [
        asyncio.create_task(use(f"read {index}", action=False)) for index in range(1, 4)
    ]
    await asyncio.sleep(0)
    actions = [
        asyncio.create_task(use(f"action {index}", action=True)) for index in range(2)
    ]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *waiting, *actions)
    assert order == [
        "read 0",  # in flight: finishes first
        "action 0",
        "action 1",
        "read 1",
        "read 2",
        "read 3",
    ]


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    """Cancelled while waiting, or just as its turn came: the turn passes on."""
    lock = ActionsFirstLock()
    release = asyncio.Event()
    reached: list[str] = []

    async def hold_until_released() -> None:
        async with lock.hold(action=False):
            await release.wait()

    async def use(name: str) -> None:
        async with lock.hold(action=True):
            reached.append(name)

    holder = asyncio.create_task(hold_until_released())
    await asyncio.sleep(0)
    cancelled_early = asyncio.create_task(use("early"))
    handed = asyncio.create_task(use("handed"))
    last = asyncio.create_task(use("last"))
    await asyncio.sleep(0)
    cancelled_early.cancel()
    await asyncio.sleep(0)
    release.set()
    await asyncio.sleep(0)  # the holder lets go, handing the turn to "handed" ...
    assert holder.done()
    handed.cancel()  # ... which is cancelled before it runs
    async with asyncio.timeout(1):  # a turn kept by a cancelled task: never
        await asyncio.gather(cancelled_early, handed, last, return_exceptions=True)
        async with lock.hold(action=False):
            pass
    assert reached == ["last"]


@pytest.mark.parametrize(
    ("vendor", "settings", "changed"),
    [
        (
            "voipcloud",
            {"url": "https://au.voipcloud.online", "token": "old key"},
            {"token": "new key"},
        ),
        (
            "tim4biz",
            {"url": "https://api.tim4biz.com/api/", "username": "Ann", "password": "a"},
            # A new password, and the API moved: TIM4biz's own move.
            {"password": "b", "url": "https://new.tim4biz.com/api/"},
        ),
    ],
)
def test_new_credentials_keep_the_accounts_budget(
    vendor: str, settings: dict[str, str], changed: dict[str, str]
) -> None:
    """Budgets are keyed on the account: a new key or password (reauth) is
    the same account, and spends from the same budget.
    """
    spec = VENDORS[vendor]
    identity = "the entry's unique id"
    assert spec.budget_key(settings, identity) == spec.budget_key(
        {**settings, **changed}, identity
    )


def test_a_voipcloud_account_without_an_entry_is_its_keys() -> None:
    """Before an entry exists (the config flow), the budget is the one the
    entry will get: its identity comes from that key.
    """
    spec = VENDORS["voipcloud"]
    settings = {"url": "https://au.voipcloud.online/", "token": "key"}
    first = spec.budget_key(settings)
    assert first == spec.budget_key({**settings, "url": "https://AU.voipcloud.online"})
    assert first != spec.budget_key({**settings, "token": "another account"})
    assert spec.budget_key(settings, "one entry") != spec.budget_key(
        settings, "another entry"
    )


def test_tim4biz_users_are_told_apart() -> None:
    spec = VENDORS["tim4biz"]
    ann = {"url": "https://api.tim4biz.com/api/", "username": "Ann", "password": "a"}
    assert spec.budget_key(ann) == spec.budget_key({**ann, "username": "ann"})
    assert spec.budget_key(ann) != spec.budget_key({**ann, "username": "bob"})

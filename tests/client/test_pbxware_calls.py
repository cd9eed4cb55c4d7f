"""PBXware's calls over HTTP, against an in-test server that answers as
Bicom's API reference says: ``monitor.list`` with ``monitor.live_calls``,
``cdr.download`` read incrementally page by page, ``ext.es.callfwd.get/set``
and ``recording.start/stop``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
import pytest

from custom_components.pbx_hub.client import (
    CallOutcome,
    CallState,
    Capability,
    PbxClient,
    PbxInvalidInputError,
    PbxNoCallError,
    create_client,
    summarize,
)
from custom_components.pbx_hub.client.pbxware_calls import CDR_HEADER
from tests.loopback import loopback_server

pytestmark = pytest.mark.slow

DAY = datetime(2025, 12, 6, tzinfo=UTC)


def _cdr(
    call_id: str, src: str, dst: str, at: datetime, status: str, talk: int
) -> list[Any]:
    moment = int(at.timestamp())
    return ["T", src, dst, moment, talk + 5, talk, "0", status, call_id, "", "0", "L"]  # fmt: skip


@dataclass
class FakePbxware:
    """Answers by action, and notes what was asked."""

    page_size: int = 2
    ignores_page: bool = False
    incoming: list[list[Any]] = field(default_factory=list)
    outgoing: list[list[Any]] = field(default_factory=list)
    live_calls: Any = "Live Calls: 0"
    asked: list[dict[str, str]] = field(default_factory=list)
    affected_calls: int = 1

    def cdr(self, params: dict[str, str]) -> dict[str, Any]:
        rows = self.incoming if params["cdrtype"] == "1" else self.outgoing
        start = datetime.strptime(
            f"{params['start']} {params['starttime']}", "%b-%d-%Y %H:%M:%S"
        ).replace(tzinfo=UTC)
        rows = [row for row in rows if row[3] >= start.timestamp()]
        page = 1 if self.ignores_page else int(params["page"])
        chosen = rows[(page - 1) * self.page_size : page * self.page_size]
        return {
            "success": "success",
            "next_page": page * self.page_size < len(rows) or self.ignores_page,
            "limit": int(params["limit"]),
            "records": len(chosen),
            "header": list(CDR_HEADER) if chosen else None,
            "csv": chosen,
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params = dict(request.query)
        params.update(
            {key: str(value) for key, value in (await request.post()).items()}
        )
        self.asked.append(params)
        action = params["action"].removeprefix("pbxware.")
        if action == "monitor.live_calls":
            if isinstance(self.live_calls, str):
                return web.Response(text=self.live_calls)
            return web.json_response(self.live_calls)
        answers: dict[str, Any] = {
            "monitor.list": {
                "11": {"name": "Ann", "ext": "101", "ip": "", "status": "OK", "ua": "", "dnd": "", "on_call": True},
                "12": {"name": "Bob", "ext": "102", "ip": "", "status": "OK", "ua": "", "dnd": "", "on_call": ""},
            },
            "ext.es.callfwd.get": {"state": {"11": "yes", "12": "no"}.get(params.get("id", ""), "pin")},
            "ext.es.callfwd.set": {"success": "ok", "state": params.get("state")},
            "recording.start": {
                "success": "Call status updated successfully." if self.affected_calls else "No calls have been updated.",
                "affected_calls": self.affected_calls,
            },
        }  # fmt: skip
        if action == "cdr.download":
            return web.json_response(self.cdr(params))
        return web.json_response(answers[action])

    def actions(self, name: str) -> list[dict[str, str]]:
        return [asked for asked in self.asked if asked["action"] == f"pbxware.{name}"]


@contextlib.asynccontextmanager
async def pbxware(fake: FakePbxware) -> AsyncIterator[PbxClient]:
    async with (
        loopback_server(fake.handle) as server,
        aiohttp.ClientSession() as session,
    ):
        yield create_client(
            "pbxware", session, {"url": str(server.make_url("/")), "api_key": "k" * 12}
        )


async def test_call_states_follow_live_calls() -> None:
    fake = FakePbxware()
    async with pbxware(fake) as client:
        assert Capability.CALL_STATES in client.capabilities
        quiet = await client.async_get_call_states()
        # on_call without a live call: in a call, with nobody known.
        assert quiet["11"].state is CallState.IN_CALL
        assert quiet["11"].other_number is None
        assert quiet["12"].state is CallState.IDLE
        fake.live_calls = {
            "9": {"from": "0470123456", "to": "101", "timestamp": 1_765_000_000}
        }
        busy = await client.async_get_call_states()
    assert (busy["11"].other_number, busy["11"].call_id) == ("0470123456", "9")
    assert len(fake.asked) == 4  # two requests a read, for every extension


async def test_call_records_are_read_incrementally() -> None:
    fake = FakePbxware(
        incoming=[
            _cdr("a", "0470111111", "101", DAY + timedelta(hours=8), "Answered", 60),
            _cdr("b", "0470222222", "101", DAY + timedelta(hours=9), "Unanswered", 0),
            _cdr("c", "0470333333", "102", DAY + timedelta(hours=10), "Answered", 30),
        ],
        outgoing=[
            _cdr("d", "101", "0470444444", DAY + timedelta(hours=10), "Answered", 20)
        ],
    )
    async with pbxware(fake) as client:
        calls = await client.async_get_calls(DAY)
        assert sorted(call.id for call in calls) == ["a", "b", "c", "d"]
        first = fake.actions("cdr.download")
        # Incoming over two pages of the server's size, outgoing in one.
        assert sorted((a["cdrtype"], a["page"]) for a in first) == [
            ("1", "1"),
            ("1", "2"),
            ("2", "1"),
        ]
        assert {
            (a["start"], a["starttime"], a["limit"], a["timezone"]) for a in first
        } == {("Dec-06-2025", "00:00:00", "1000", "UTC")}
        fake.asked.clear()
        fake.incoming.append(
            _cdr("e", "0470555555", "101", DAY + timedelta(hours=11), "Unanswered", 0)
        )
        again = await client.async_get_calls(DAY)
    # Only from two hours before the newest call read; everything kept.
    second = fake.actions("cdr.download")
    assert {(a["start"], a["starttime"]) for a in second} == {
        ("Dec-06-2025", "08:00:00")
    }
    assert len(second) == 3  # a, b | c, e incoming (two pages); d outgoing
    assert sorted(call.id for call in again) == ["a", "b", "c", "d", "e"]
    users = summarize(again).users
    assert (users["101"].calls, users["101"].missed, users["101"].talk_seconds) == (
        4,
        2,
        80,
    )
    assert {call.outcome for call in again if call.id == "e"} == {CallOutcome.MISSED}


async def test_a_server_that_ignores_page_does_not_loop() -> None:
    fake = FakePbxware(
        ignores_page=True,
        incoming=[_cdr(str(n), "0470", "101", DAY + timedelta(minutes=n), "Answered", 1) for n in range(3)],
    )  # fmt: skip
    async with pbxware(fake) as client:
        calls = await client.async_get_calls(DAY)
    assert sorted(call.id for call in calls) == ["0", "1"]
    # Page 2 brought nothing new: the read stopped there.
    assert len([a for a in fake.actions("cdr.download") if a["cdrtype"] == "1"]) == 2


async def test_call_forwarding_get_and_set() -> None:
    fake = FakePbxware()
    async with pbxware(fake) as client:
        forwarding = await client.async_get_call_forwarding(["11", "12", "13"])
        assert {key: value.enabled for key, value in forwarding.items()} == {
            "11": True,
            "12": False,
            "13": True,  # "pin": on, behind a PIN
        }
        assert await client.async_set_call_forwarding("12", True) is True
        with pytest.raises(PbxInvalidInputError):
            await client.async_get_call_forwarding(["12; drop"])
    (sent,) = fake.actions("ext.es.callfwd.set")
    assert (sent["id"], sent["state"]) == ("12", "yes")


async def test_recording_is_refused_without_a_call() -> None:
    fake = FakePbxware()
    async with pbxware(fake) as client:
        await client.async_start_recording("101")
        fake.affected_calls = 0
        with pytest.raises(
            PbxNoCallError, match="Extension 101 has no call in progress"
        ):
            await client.async_start_recording("101")
        with pytest.raises(PbxInvalidInputError):
            await client.async_start_recording("101&x=1")
    assert [a["ext"] for a in fake.actions("recording.start")] == ["101", "101"]

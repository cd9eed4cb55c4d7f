"""Calls over a test-controlled clock: the shared control routes, and PBXware's
live calls, monitor, cdr.download, call forwarding and recording, over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import json
from typing import Any

import aiohttp
import pytest

from simulator import Fault, PbxwareSimulator, __main__ as cli
from simulator.calls import CallBook, CallState, SimClock
from tests.simulator.call_controls import control

pytestmark = pytest.mark.slow

NOW = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC
TODAY = "Jun-15-2025"
HEADER = [
    "Tenant", "From", "To", "Date/Time", "Total Duration", "Rating Duration",
    "Rating Cost", "Status", "ID", "Recording Path", "Recording Available",
    "Location Type",
]  # fmt: skip


@pytest.fixture
async def sim() -> AsyncIterator[PbxwareSimulator]:
    async with PbxwareSimulator(extensions=4, seed=3, clock=lambda: NOW) as simulator:
        simulator.book.clock.freeze()
        yield simulator


async def api(
    session: aiohttp.ClientSession, sim: PbxwareSimulator, action: str, **params: str
) -> Any:
    query = {"apikey": sim.api_key, "action": action, **params}
    async with session.get(f"{sim.url}/index.php", params=query) as resp:
        text = await resp.text()
    return text if text.startswith("Live Calls") else json.loads(text)


def first_idle(sim: PbxwareSimulator) -> str:
    """An extension number that is in no call."""
    return next(e.ext for e in sim.tenant().extensions.values() if not e.on_call)


async def test_clock_moves_only_when_told(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    assert await control(session, sim, "clock") == {"now": NOW, "frozen": True}
    moved = await control(session, sim, "clock", {"advance": 90})
    assert moved == {"now": NOW + 90, "frozen": True}
    assert (await control(session, sim, "clock", {"set": NOW}))["now"] == NOW
    error = await control(session, sim, "clock", {"advance": -1}, status=400)
    assert "not negative" in error["error"]
    resumed = await control(session, sim, "clock", {"resume": True})
    assert resumed["frozen"] is False
    assert abs(resumed["now"] - NOW) < 5


def test_clock_follows_its_source_until_frozen() -> None:
    now = [100.0]
    clock = SimClock(lambda: now[0])
    now[0] = 105.0
    assert clock() == 105.0
    clock.freeze()
    now[0] = 200.0
    assert clock() == 105.0
    clock.advance(10)
    assert clock() == 115.0
    clock.resume()
    now[0] = 210.0
    assert clock() == 125.0


def test_book_reports_every_state_a_call_passed_once() -> None:
    clock = SimClock(lambda: NOW)
    clock.freeze()
    book = CallBook(clock, lambda started: f"c{len(book.calls)}")
    heard: list[tuple[str, CallState]] = []
    book.listeners.append(lambda call, state: heard.append((call.id, state)))
    call = book.start(caller="0611", callee="101", callee_extension="101")
    clock.advance(5)
    book.answer(call.id, talk=20)
    clock.advance(60)  # ended 40 s ago: nothing in between is skipped
    book.changes()
    book.changes()
    assert heard == [
        ("c0", CallState.RINGING),
        ("c0", CallState.IN_CALL),
        ("c0", CallState.ENDED),
    ]
    scripted = book.start(caller="0612", callee="102", callee_extension="102")
    clock.advance(31)  # rings 30 s by default, then is missed
    assert scripted.state(clock()) is CallState.MISSED
    assert scripted.missed_reason == "timeout"
    book.changes()
    assert heard[-2:] == [("c1", CallState.RINGING), ("c1", CallState.MISSED)]


async def test_call_rings_is_answered_and_ends_in_live_calls_and_monitor(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext = first_idle(sim)
    ext_id = sim.tenant().by_number(ext).id  # type: ignore[union-attr]
    call = await control(
        session, sim, "calls", {"from": "0612345678", "to": ext, "ring_seconds": None}
    )
    assert call["state"] == "ringing"
    assert call["direction"] == "inbound"
    assert call["callee_extension"] == ext
    live = await api(session, sim, "pbxware.monitor.live_calls")
    assert live[call["id"]] == {"from": "0612345678", "to": ext, "timestamp": NOW}
    monitor = await api(session, sim, "pbxware.monitor.list")
    assert monitor[ext_id]["on_call"] in ("", False)  # ringing: not on a call yet

    await control(session, sim, "clock", {"advance": 4})
    answered = await control(session, sim, f"calls/{call['id']}/answer", {})
    assert answered["state"] == "in_call"
    monitor = await api(session, sim, "pbxware.monitor.list")
    assert monitor[ext_id]["on_call"] is True

    await control(session, sim, "clock", {"advance": 60})
    ended = await control(session, sim, f"calls/{call['id']}/end", {})
    assert (ended["state"], ended["talk_seconds"]) == ("ended", 60)
    live = await api(session, sim, "pbxware.monitor.live_calls")
    assert live == "Live Calls: 0" or call["id"] not in live
    monitor = await api(session, sim, "pbxware.monitor.list")
    assert monitor[ext_id]["on_call"] in ("", False)


async def test_control_refuses_steps_that_do_not_fit(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext = first_idle(sim)
    await control(session, sim, "calls", {"from": "0611", "to": "0622"}, status=400)
    await control(session, sim, "calls", {"to": ext}, status=400)
    await control(
        session, sim, "calls", {"from": "0611", "to": ext, "talk": -3}, status=400
    )
    await control(session, sim, "calls/nope/answer", {}, status=404)
    call = await control(session, sim, "calls", {"from": "0611", "to": ext})
    await control(session, sim, f"calls/{call['id']}/hold", {}, status=404)
    missed = await control(session, sim, f"calls/{call['id']}/miss", {})
    assert (missed["state"], missed["missed_reason"]) == ("missed", "timeout")
    error = await control(session, sim, f"calls/{call['id']}/answer", {}, status=409)
    assert "missed" in error["error"]
    listed = await control(session, sim, "calls")
    assert call["id"] in {c["id"] for c in listed["calls"]}


async def test_scripted_call_follows_the_clock(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext = first_idle(sim)
    call = await control(
        session,
        sim,
        "calls",
        {"from": ext, "to": "0201234567", "answer_after": 5, "talk": 30},
    )
    assert call["direction"] == "outbound"
    states = []
    for _ in range(3):
        states.append(
            next(
                c["state"]
                for c in (await control(session, sim, "calls"))["calls"]
                if c["id"] == call["id"]
            )
        )
        await control(session, sim, "clock", {"advance": 20})
    assert states == ["ringing", "in_call", "ended"]


async def cdr(
    session: aiohttp.ClientSession, sim: PbxwareSimulator, **params: str
) -> Any:
    return await api(
        session, sim, "pbxware.cdr.download", start=TODAY, end=TODAY, **params
    )


async def test_cdr_download_lists_finished_calls_with_filters_and_pages(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    seeded = await cdr(session, sim, limit="1000")
    assert seeded["header"] == HEADER
    assert seeded["records"] == len(seeded["csv"]) > 0
    before = {row[8] for row in seeded["csv"]}

    ext = first_idle(sim)
    answered = await control(
        session, sim, "calls", {"from": "0612345678", "to": ext, "answer_after": 3}
    )
    missed = await control(session, sim, "calls", {"from": "0698765432", "to": ext})
    await control(session, sim, "clock", {"advance": 40})
    # answered is still talking: no CDR until it ends; missed rang out after 30 s
    rows = {row[8]: row for row in (await cdr(session, sim, limit="1000"))["csv"]}
    assert answered["id"] not in rows
    assert rows[missed["id"]][1:3] == ["0698765432", ext]
    assert rows[missed["id"]][7] == "Unanswered"
    assert rows[missed["id"]][3] == str(int(NOW))
    await control(session, sim, f"calls/{answered['id']}/end", {})
    rows = {row[8]: row for row in (await cdr(session, sim, limit="1000"))["csv"]}
    assert rows[answered["id"]][4:6] == ["40", "37"]  # total, talk
    assert rows[answered["id"]][7] == "Answered"
    assert set(rows) == before | {answered["id"], missed["id"]}

    only_missed = await cdr(session, sim, status="4", limit="1000")
    assert {row[7] for row in only_missed["csv"]} == {"Unanswered"}
    both = await cdr(session, sim, status="12", limit="1000")
    assert both["records"] == len(rows)
    outgoing = await cdr(session, sim, cdrtype="2", limit="1000")
    assert all(row[1] in sim.local_extensions(None) for row in outgoing["csv"])
    to_ext = await cdr(session, sim, extdst=ext, limit="1000")
    assert {row[2] for row in to_ext["csv"]} == {ext}

    pages: list[str] = []
    page = 1
    while True:
        body = await cdr(session, sim, limit="2", page=str(page))
        pages.extend(row[8] for row in body["csv"])
        if not body["next_page"]:
            break
        page += 1
    assert pages == list(rows)  # oldest first, every row once
    empty = await cdr(session, sim, limit="2", page=str(page + 1))
    assert (empty["records"], empty["header"], empty["csv"]) == (0, None, [])


async def test_cdr_download_date_window_and_errors(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext = first_idle(sim)
    call = await control(session, sim, "calls", {"from": "0611111111", "to": ext})
    await control(session, sim, f"calls/{call['id']}/miss", {})
    late = await cdr(session, sim, starttime="15:07:00")
    assert call["id"] not in {row[8] for row in late["csv"]}
    # 15:06:40 UTC is 17:06:40 in Amsterdam: the zone moves the window
    amsterdam = await cdr(
        session,
        sim,
        starttime="17:00:00",
        endtime="17:10:00",
        timezone="Europe/Amsterdam",
    )
    assert [row[8] for row in amsterdam["csv"]] == [call["id"]]
    yesterday = await api(
        session, sim, "pbxware.cdr.download", start="Jun-14-2025", end="Jun-14-2025"
    )
    assert yesterday["csv"] == []
    for params in (
        {"start": TODAY},
        {"start": "2025-06-15", "end": TODAY},
        {"start": TODAY, "end": TODAY, "limit": "1001"},
        {"start": TODAY, "end": TODAY, "status": "16"},
        {"start": TODAY, "end": TODAY, "cdrtype": "4"},
        {"start": TODAY, "end": TODAY, "ext": "101", "trunk": "6099"},
        {"start": TODAY, "end": TODAY, "timezone": "Mars/Olympus"},
    ):
        assert "error" in await api(session, sim, "pbxware.cdr.download", **params)


async def test_call_forwarding_get_and_set(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext_id = next(iter(sim.tenant().extensions))
    assert await api(session, sim, "pbxware.ext.es.callfwd.get", id=ext_id) == {
        "state": "no"
    }
    done = await api(session, sim, "pbxware.ext.es.callfwd.set", id=ext_id, state="yes")
    assert (done["state"], isinstance(done["success"], str)) == ("yes", True)
    assert (await api(session, sim, "pbxware.ext.es.callfwd.get", id=ext_id))[
        "state"
    ] == "yes"
    refused = await api(
        session, sim, "pbxware.ext.es.callfwd.set", id=ext_id, state="on"
    )
    assert "error" in refused
    assert "error" in await api(session, sim, "pbxware.ext.es.callfwd.get", id="999")


async def test_recording_needs_an_answered_call(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    ext = first_idle(sim)
    nothing = {"success": "No calls have been updated.", "affected_calls": 0}
    assert await api(session, sim, "pbxware.recording.start", ext=ext) == nothing
    call = await control(
        session, sim, "calls", {"from": "0612345678", "to": ext, "ring_seconds": None}
    )
    # ringing is no call to record yet
    assert await api(session, sim, "pbxware.recording.start", ext=ext) == nothing
    await control(session, sim, f"calls/{call['id']}/answer", {})
    done = {"success": "Call status updated successfully.", "affected_calls": 1}
    assert await api(session, sim, "pbxware.recording.start", ext=ext) == done
    assert await api(session, sim, "pbxware.recording.start", ext=ext) == nothing
    assert await api(session, sim, "pbxware.recording.stop", ext=ext) == done
    assert await api(session, sim, "pbxware.recording.stop", ext=ext) == nothing
    await control(session, sim, "clock", {"advance": 10})
    await control(session, sim, f"calls/{call['id']}/end", {})
    row = next(
        row
        for row in (await cdr(session, sim, limit="1000"))["csv"]
        if row[8] == call["id"]
    )
    assert row[10] == "Yes"
    assert row[9].endswith(f"{call['id']}.wav")
    assert "error" in await api(session, sim, "pbxware.recording.start", ext="999")
    assert "error" in await api(session, sim, "pbxware.recording.stop")


async def test_multi_tenant_calls_stay_in_their_tenant(
    session: aiohttp.ClientSession,
) -> None:
    async with PbxwareSimulator(extensions=2, multi_tenant=True, seed=2) as sim:
        second = list(sim.tenants.values())[1]
        ext = next(iter(second.extensions.values())).ext
        call = await control(
            session, sim, "calls", {"from": "0611", "to": ext, "server": second.id}
        )
        assert call["scope"] == second.id
        live = await api(session, sim, "pbxware.monitor.live_calls", server=second.id)
        assert call["id"] in live
        first = next(iter(sim.tenants))
        other = await api(session, sim, "pbxware.monitor.live_calls", server=first)
        assert other == "Live Calls: 0" or call["id"] not in other
        await control(
            session,
            sim,
            "calls",
            {"from": "0611", "to": ext, "server": "99"},
            status=400,
        )


@pytest.mark.parametrize("vendor", ["pbxware", "voipcenter"])
def test_frozen_clock_option_freezes_the_calls_clock(vendor: str) -> None:
    """``--frozen-clock`` stops the calls' clock (not the signing clock), and
    the banner points at the call controls.
    """
    frozen = cli.create_simulator(cli.parse_args([vendor, "--frozen-clock"]))
    running = cli.create_simulator(cli.parse_args([vendor]))
    assert frozen.book.clock.frozen
    assert not running.book.clock.frozen
    assert any("/_sim/calls" in line for line in frozen.banner())


async def test_dashboard_calls_counts_model_calls(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    before = await api(session, sim, "pbxware.dashboard.calls")
    ext = first_idle(sim)
    answered = await control(
        session, sim, "calls", {"from": "0611", "to": ext, "answer_after": 5}
    )
    await control(session, sim, "calls", {"from": "0622", "to": ext})
    during = await api(session, sim, "pbxware.dashboard.calls")
    assert during["now"] == before["now"] + 2
    assert during["today"] == before["today"] + 2
    assert during["last hour"] == before["last hour"] + 2
    assert during["answared calls"] == before["answared calls"]  # not yet
    await control(session, sim, "clock", {"advance": 40})
    await control(session, sim, f"calls/{answered['id']}/end", {})
    after = await api(session, sim, "pbxware.dashboard.calls")
    assert after["now"] == before["now"]
    assert after["answared calls"] == before["answared calls"] + 1
    await control(session, sim, "clock", {"advance": 3600})
    later = await api(session, sim, "pbxware.dashboard.calls")
    assert later["last hour"] == before["last hour"]


async def test_call_controls_are_neither_counted_nor_faulted(
    session: aiohttp.ClientSession, sim: PbxwareSimulator
) -> None:
    sim.inject(Fault.SERVER_ERROR)
    call = await control(session, sim, "calls", {"from": "0611", "to": first_idle(sim)})
    await control(session, sim, "clock", {"advance": 1})
    await control(session, sim, f"calls/{call['id']}/end", {})
    await control(session, sim, "calls")
    assert sim.request_count == 0

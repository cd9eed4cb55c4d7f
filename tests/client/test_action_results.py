"""What a write action changed, as the next read would show it, and the
action's answer: a route plan's names, a hot desk's, a period's charges.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from custom_components.pbx_hub.client import (
    CLEAR,
    Charge,
    DidRouting,
    HotDesk,
    HotDesking,
    RoutedDid,
    Subscriber,
    TimeFilter,
)
from custom_components.pbx_hub.client.action_input import find_numbered
from custom_components.pbx_hub.client.action_results import (
    charges_answer,
    hot_desk_answer,
    patched,
    rerouted,
    reseated,
    route_plan_answer,
)

DID = RoutedDid(
    id="d1",
    number="3120",
    route="r1",
    backup_route=None,  # unknown: the PBX did not say
    time_filters={TimeFilter.HOLIDAYS: "h1", TimeFilter.OFFICE_HOURS: None},
)
ROUTING = DidRouting(
    dids={DID.id: DID},
    routes={"r1": "Day", "r2": "Night"},
    backup_routes={"b1": "Voicemail"},
    time_filters={TimeFilter.HOLIDAYS: {"h1": "Christmas"}},
)


def test_a_route_plan_change_keeps_what_it_leaves_out() -> None:
    changed = rerouted(
        DID, route=None, backup_route="b1", time_filters={TimeFilter.HOLIDAYS: CLEAR}
    )
    assert changed.route == "r1"
    assert changed.backup_route == "b1"
    # A cleared time filter is not set (None); a cleared backup route is CLEAR.
    assert changed.time_filters == {
        TimeFilter.HOLIDAYS: None,
        TimeFilter.VACATIONS: None,
        TimeFilter.OFFICE_HOURS: None,
    }
    cleared = rerouted(DID, route="r2", backup_route=CLEAR, time_filters={})
    assert (cleared.route, cleared.backup_route) == ("r2", CLEAR)
    assert cleared.time_filters[TimeFilter.HOLIDAYS] == "h1"


def test_the_route_plan_answer_names_what_it_knows() -> None:
    assert route_plan_answer(ROUTING, DID) == {
        "did": "3120",
        "route": "Day",
        "backup_route": None,
        "holidays": "Christmas",
        "office_hours": None,
    }
    cleared = rerouted(DID, route=None, backup_route=CLEAR, time_filters={})
    assert route_plan_answer(ROUTING, cleared)["backup_route"] is None


def test_a_did_is_found_by_id_or_number() -> None:
    assert find_numbered(ROUTING.dids, "d1") is DID
    assert find_numbered(ROUTING.dids, "3120") is DID
    assert find_numbered(ROUTING.dids, "3121") is None


def test_a_hot_desk_change_and_its_answer() -> None:
    desk = HotDesk(id="1", name="Desk 1", sip_account="e1", template="t1")
    desks = HotDesking(desks={"1": desk}, templates={"t1": "Basic", "t2": "Sales"})
    out = reseated(desk, sip_account=CLEAR, template=None)
    assert (out.sip_account, out.template) == (None, "t1")
    moved = reseated(desk, sip_account="e2", template="t2")
    assert hot_desk_answer(desks, moved) == {
        "hot_desk": "Desk 1",
        "sip_account": "e2",
        "template": "Sales",
    }
    assert reseated(desk, sip_account=None, template=None) == desk


def _charge(amount: float | None, start: datetime | None = None) -> Charge:
    return Charge(
        id="c",
        recorded_at=None,
        start=start,
        end=None,
        service="calls",
        amount=amount,
        count=2,
    )


def test_the_charges_total_is_rounded_and_unknown_when_any_amount_is() -> None:
    who = Subscriber(id="7", name="Sales", email="x@example.com")
    when = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    answer = charges_answer(
        who, date(2026, 11, 1), date(2026, 11, 30), [_charge(0.1), _charge(0.2, when)]
    )
    assert answer["subscriber"] == {"id": "7", "name": "Sales"}  # no e-mail
    assert (answer["start"], answer["end"]) == ("2026-11-01", "2026-11-30")
    assert answer["total"] == 0.3
    assert answer["charges"][1]["start"] == "2026-11-03T09:30:00+00:00"
    assert answer["charges"][0]["start"] is None
    unknown = charges_answer(
        who, date(2026, 11, 1), date(2026, 11, 1), [_charge(1.0), _charge(None)]
    )
    assert unknown["total"] is None
    assert charges_answer(who, date(2026, 11, 1), date(2026, 11, 1), [])["total"] == 0


def test_a_confirmed_write_patches_only_its_item_and_misses_nothing_else() -> None:
    assert patched(ROUTING, "dids", "d1", {"route": "r2"}) == DidRouting(
        dids={"d1": DID_ON_R2},
        routes=ROUTING.routes,
        backup_routes=ROUTING.backup_routes,
        time_filters=ROUTING.time_filters,
    )
    assert patched(ROUTING.dids, "", "d1", {"route": "r2"}) == {"d1": DID_ON_R2}
    # An item, field or data that is gone (or not read yet) is not invented.
    assert patched(ROUTING, "dids", "d9", {"route": "r2"}) is None
    assert patched(ROUTING, "desks", "d1", {"route": "r2"}) is None
    assert patched(None, "dids", "d1", {"route": "r2"}) is None


DID_ON_R2 = RoutedDid(
    id="d1",
    number="3120",
    route="r2",
    backup_route=None,
    time_filters=DID.time_filters,
)

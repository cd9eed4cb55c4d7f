"""What a write action changed, as the next read would show it, and its answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from .models import (
    CLEAR,
    Charge,
    Clearable,
    DidRouting,
    HotDesk,
    HotDesking,
    RoutedDid,
    Subscriber,
    TimeFilter,
)


def patched(holder: Any, path: str, item_id: str, changes: Mapping[str, Any]) -> Any:
    """``holder`` with ``changes`` to item ``item_id`` at dotted ``path``; ``None`` if missing."""
    if holder is None:
        return None
    if not path:
        if (item := holder.get(item_id)) is None:
            return None
        return {**holder, item_id: replace(item, **changes)}
    name, _, rest = path.partition(".")
    value = patched(getattr(holder, name, None), rest, item_id, changes)
    return None if value is None else replace(holder, **{name: value})


def _kept[T](new: Clearable | None, old: T, cleared: T) -> str | T:
    """``old`` when not changed, ``cleared`` when set to none, else the new id."""
    if new is None:
        return old
    return cleared if new is CLEAR else new


def rerouted(
    did: RoutedDid,
    *,
    route: str | None,
    backup_route: Clearable | None,
    time_filters: Mapping[TimeFilter, Clearable],
) -> RoutedDid:
    """``did`` after a route-plan change; what the change leaves out stays."""
    return replace(
        did,
        # A cleared route or backup route is CLEAR ("none"); None is unknown.
        route=_kept(route, did.route, CLEAR),
        backup_route=_kept(backup_route, did.backup_route, CLEAR),
        time_filters={
            kind: _kept(time_filters.get(kind), did.time_filters.get(kind), None)
            for kind in TimeFilter
        },
    )


def _named(names: Mapping[str, str], ref: Clearable | None) -> str | None:
    """The name of the route ``ref`` names; ``None`` for none or unknown."""
    return None if ref is None or ref is CLEAR else names.get(ref)


def route_plan_answer(routing: DidRouting, did: RoutedDid) -> dict[str, Any]:
    """The number and the names of its route plan, as the action answers."""
    return {
        "did": did.number,
        "route": _named(routing.routes, did.route),
        "backup_route": _named(routing.backup_routes, did.backup_route),
        **{
            kind.value: routing.time_filters.get(kind, {}).get(ref or "")
            for kind, ref in did.time_filters.items()
        },
    }


def reseated(
    desk: HotDesk, *, sip_account: Clearable | None, template: str | None
) -> HotDesk:
    """``desk`` after a hot-desk change; what the change leaves out stays."""
    return replace(
        desk,
        sip_account=_kept(sip_account, desk.sip_account, None),
        template=template or desk.template,
    )


def hot_desk_answer(desks: HotDesking, desk: HotDesk) -> dict[str, Any]:
    """The desk, who is logged in and the name of its template."""
    return {
        "hot_desk": desk.name,
        "sip_account": desk.sip_account,
        "template": desks.templates.get(desk.template or ""),
    }


def charges_answer(
    subscriber: Subscriber, start: date, end: date, charges: Sequence[Charge]
) -> dict[str, Any]:
    """A subscriber's charges over a period, dates as ISO text."""
    return {
        "subscriber": {"id": subscriber.id, "name": subscriber.name},
        "start": start.isoformat(),
        "end": end.isoformat(),
        # Unknown when any amount is: a sum of the known ones would be wrong.
        "total": None
        if any(charge.amount is None for charge in charges)
        else round(sum(charge.amount or 0 for charge in charges), 2),
        "charges": [
            {
                "id": charge.id,
                "service": charge.service,
                "amount": charge.amount,
                "count": charge.count,
                "start": charge.start.isoformat() if charge.start else None,
                "end": charge.end.isoformat() if charge.end else None,
                "recorded": charge.recorded_at.isoformat()
                if charge.recorded_at
                else None,
            }
            for charge in charges
        ],
    }

"""The five vendors at a given size: simulator arguments, config entry, and
what the naive baseline asks per item.

Sizes scale everything a vendor has alongside the extensions (DIDs, queues,
indicators, departments ...), roughly as a real PBX of that size would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from custom_components.pbx_hub.client.tim4biz import _local_text
from custom_components.pbx_hub.client.voipcenter import password_hash
from custom_components.pbx_hub.const import CONF_DEPARTMENTS

DEPARTMENT_SIZE = 100
"""Tariscope subscribers per department."""
MIN_DEPARTMENTS = 3

type NaiveItems = Callable[[Any, Any, tuple[Any, ...]], list[Awaitable[Any]]]
"""Given the client, what the real getter returned and the getter's arguments:
one request per item, as the naive baseline sends them.
"""


def _no_options(_extensions: int) -> dict[str, Any]:
    return {}


@dataclass(frozen=True, kw_only=True)
class VendorBench:
    """How to run one vendor at one size."""

    name: str
    scaled: tuple[tuple[str, int, int], ...] = ()
    """Simulator options that grow with the extensions: (option, extensions
    per item, at least)."""
    fixed_args: tuple[str, ...] = ()
    """Simulator arguments at every size."""
    api_path: str = ""
    """Appended to the simulator's address for the entry's URL."""
    credentials: dict[str, Any]
    options: Callable[[int], dict[str, Any]] = _no_options
    naive_getter: str
    """The client getter the naive baseline adds per-item requests to."""
    naive_items: NaiveItems
    naive_note: str

    def sim_args(self, extensions: int) -> list[str]:
        """The simulator's command line at this size."""
        args = ["--extensions", str(extensions)]
        for option, per_item, least in self.scaled:
            args += [option, str(max(least, extensions // per_item))]
        return [*args, *self.fixed_args]

    def entry_data(self, url: str) -> dict[str, Any]:
        """Config entry data that reaches the simulator at ``url``."""
        return {"vendor": self.name, "url": f"{url}{self.api_path}", **self.credentials}


def _pbxware_items(
    client: Any, extensions: Any, _args: tuple[Any, ...]
) -> list[Awaitable[Any]]:
    return [client._call("ext.es.dnd.get", id=ext_id) for ext_id in extensions]


def _voipcenter_items(
    client: Any, _extensions: Any, _args: tuple[Any, ...]
) -> list[Awaitable[Any]]:
    return [client._get("sipacc", item) for item in client._sip_ids.values()]


def _voipcloud_items(
    client: Any, calls: Any, _args: tuple[Any, ...]
) -> list[Awaitable[Any]]:
    users = {call.user_name or call.user_number for call in calls if call.user_number}
    return [
        client._request("GET", "get-user-calls", params={"users_names": user})
        for user in sorted(users)
    ]


def _tim4biz_items(
    client: Any, usage: Any, args: tuple[Any, ...]
) -> list[Awaitable[Any]]:
    start, end = args
    period = {"from": _local_text(start), "to": _local_text(end)}
    return [
        client._call("GET", "ExtensionTotal", params={**period, "extension": number})
        for number in usage
    ]


def _tariscope_items(
    client: Any, accounts: Any, _args: tuple[Any, ...]
) -> list[Awaitable[Any]]:
    return [client._get("subscriber.get", {"id": sid}) for sid in accounts]


VENDOR_BENCHES: dict[str, VendorBench] = {
    bench.name: bench
    for bench in (
        VendorBench(
            name="pbxware",
            scaled=(("--dids", 10, 5),),
            credentials={"api_key": "sim-pbxware-0123456789", "verify_ssl": True},
            naive_getter="async_get_extensions",
            naive_items=_pbxware_items,
            naive_note="ext.es.dnd.get per extension",
        ),
        VendorBench(
            name="voipcloud",
            scaled=(
                ("--queues", 50, 2),
                ("--ring-groups", 100, 1),
                ("--calls-per-hour", 4, 30),
            ),
            fixed_args=("--rate-limit", str(10**9), "--frozen-clock"),
            credentials={"token": "sim-voipcloud-token-0123456789"},
            naive_getter="async_get_calls",
            naive_items=_voipcloud_items,
            naive_note="get-user-calls per user",
        ),
        VendorBench(
            name="voipcenter",
            scaled=(
                ("--dids", 10, 3),
                ("--indicators", 100, 3),
                ("--hot-desks", 50, 2),
            ),
            api_path="/api/",
            credentials={
                "api_id": "pi990000sim",
                "api_key": "sim-voipcenter-0123456789abcdef",
                "customer_number": "123456",
                "password_hash": password_hash("sim-voipcenter-password"),
            },
            naive_getter="async_get_extensions",
            naive_items=_voipcenter_items,
            naive_note="get.php sipacc per SIP account",
        ),
        VendorBench(
            name="tariscope",
            scaled=(
                ("--departments", DEPARTMENT_SIZE, MIN_DEPARTMENTS),
                ("--nodes", 500, 2),
            ),
            fixed_args=("--frozen-clock",),
            credentials={
                "username": "api",
                "password": "sim-tariscope-password",
                "verify_ssl": True,
            },
            # Every subscriber followed, through its department.
            options=lambda n: {
                CONF_DEPARTMENTS: " ".join(str(i) for i in range(1, departments(n) + 1))
            },
            naive_getter="async_get_accounts",
            naive_items=_tariscope_items,
            naive_note="subscriber.get per subscriber (summaries are per item anyway)",
        ),
        VendorBench(
            name="tim4biz",
            fixed_args=("--rate-limit", str(10**8), "--frozen-clock"),
            api_path="/api/",
            credentials={
                "username": "api.user@example.com",
                "password": "sim-tim4biz-0123456789",
            },
            naive_getter="async_get_extension_usage",
            naive_items=_tim4biz_items,
            naive_note="ExtensionTotal per extension",
        ),
    )
}


def departments(extensions: int) -> int:
    """Tariscope departments for a size: about a hundred subscribers each."""
    return max(MIN_DEPARTMENTS, extensions // DEPARTMENT_SIZE)

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

type NaiveItems = Callable[[Any, Any, tuple[Any, ...]], list[Awaitable[Any]]]
"""Given the client, what the real getter returned and the getter's arguments:
one request per item, as the naive baseline sends them.
"""


@dataclass(frozen=True, kw_only=True)
class VendorBench:
    """How to run one vendor at one size."""

    name: str
    sim_args: Callable[[int], list[str]]
    entry_data: Callable[[str], dict[str, Any]]
    options: Callable[[int], dict[str, Any]]
    naive_getter: str
    """The client getter the naive baseline adds per-item requests to."""
    naive_items: NaiveItems
    naive_note: str


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
            sim_args=lambda n: ["--extensions", str(n), "--dids", str(max(5, n // 10))],
            entry_data=lambda url: {
                "vendor": "pbxware",
                "url": url,
                "api_key": "sim-pbxware-0123456789",
                "verify_ssl": True,
            },
            options=lambda n: {},
            naive_getter="async_get_extensions",
            naive_items=_pbxware_items,
            naive_note="ext.es.dnd.get per extension",
        ),
        VendorBench(
            name="voipcloud",
            sim_args=lambda n: [
                "--extensions",
                str(n),
                "--queues",
                str(max(2, n // 50)),
                "--ring-groups",
                str(max(1, n // 100)),
                "--calls-per-hour",
                str(max(30, n // 4)),
                "--rate-limit",
                str(10**9),
                "--frozen-clock",
            ],
            entry_data=lambda url: {
                "vendor": "voipcloud",
                "url": url,
                "token": "sim-voipcloud-token-0123456789",
            },
            options=lambda n: {},
            naive_getter="async_get_calls",
            naive_items=_voipcloud_items,
            naive_note="get-user-calls per user",
        ),
        VendorBench(
            name="voipcenter",
            sim_args=lambda n: [
                "--extensions",
                str(n),
                "--dids",
                str(max(3, n // 10)),
                "--indicators",
                str(max(3, n // 100)),
                "--hot-desks",
                str(max(2, n // 50)),
            ],
            entry_data=lambda url: {
                "vendor": "voipcenter",
                "url": f"{url}/api/",
                "api_id": "pi990000sim",
                "api_key": "sim-voipcenter-0123456789abcdef",
                "customer_number": "123456",
                "password_hash": password_hash("sim-voipcenter-password"),
            },
            options=lambda n: {},
            naive_getter="async_get_extensions",
            naive_items=_voipcenter_items,
            naive_note="get.php sipacc per SIP account",
        ),
        VendorBench(
            name="tariscope",
            sim_args=lambda n: [
                "--extensions",
                str(n),
                "--departments",
                str(departments(n)),
                "--nodes",
                str(max(2, n // 500)),
                "--frozen-clock",
            ],
            entry_data=lambda url: {
                "vendor": "tariscope",
                "url": url,
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
            sim_args=lambda n: [
                "--extensions",
                str(n),
                "--rate-limit",
                str(10**8),
                "--frozen-clock",
            ],
            entry_data=lambda url: {
                "vendor": "tim4biz",
                "url": f"{url}/api/",
                "username": "api.user@example.com",
                "password": "sim-tim4biz-0123456789",
            },
            options=lambda n: {},
            naive_getter="async_get_extension_usage",
            naive_items=_tim4biz_items,
            naive_note="ExtensionTotal per extension",
        ),
    )
}


def departments(extensions: int) -> int:
    """Tariscope departments for a size: about a hundred subscribers each."""
    return max(3, extensions // 100)

"""Every vendor parser, fed arbitrary JSON-like input: it returns its model or
raises a ``PbxError`` (``PbxResponseError`` for a body it cannot read), never
another exception. Bounded so that it stays fast in CI.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.pbx_hub.client import (
    CallScope,
    PbxError,
    Subscriber,
    pbxware,
    tariscope,
    tim4biz,
    voipcenter,
    voipcloud,
)

# Keys the parsers look for, so that the fuzzer reaches past the first check.
KEYS = st.sampled_from(
    [
        "id",
        "ext",
        "name",
        "status",
        "dnd",
        "number",
        "data",
        "head",
        "body",
        "error_number",
        "error_message",
        "code",
        "message",
        "unique_call_id",
        "call_start_at",
        "connected_at",
        "call_finished_at",
        "conversation_duration",
        "type",
        "is_inbound",
        "queue_name",
        "callerid",
        "caller_id",
        "Extension",
        "Calls",
        "Duration",
        "Cost",
        "TalkTime",
        "fullname",
        "email",
        "start_debt",
        "end_debt",
        "charge",
        "payment",
        "recdate",
        "fromdate",
        "servicename",
        "SIPusername",
        "SIPping",
        "id_1",
        "id_2",
        "actief",
        "components",
        "error",
        "server",
        "trunk",
        "dest_type",
        "destination",
        "e164",
    ]
) | st.text(max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "0",
            "1",
            "2019-10-01T15:31:15.000Z",
            "1.02:03:04",
            "OK (5 ms)",
            "answered",
            "1,234.56",
        ]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=25,
)
SUBSCRIBER = Subscriber(id="1", name="Ann")
DASHBOARD = (
    "cpu", "memory", "disk_usage", "ext_online", "calls", "sip_registrations",
    "licensing", "services",
)  # fmt: skip

PARSERS: dict[str, Callable[[Any], object]] = {
    "pbxware.rows": pbxware.rows,
    "pbxware.parse_extensions": lambda body: pbxware.parse_extensions(body, body),
    "pbxware.parse_dids": pbxware.parse_dids,
    "pbxware.parse_tenants": pbxware.parse_tenants,
    # The client keys the eight dashboard answers itself: fuzz each answer.
    "pbxware.parse_status": lambda body: pbxware.parse_status(
        dict.fromkeys(DASHBOARD, body)
    ),
    "voipcloud.parse_call": lambda body: [
        voipcloud.parse_call(scope, body) for scope in CallScope
    ],
    "voipcloud.parse_status": voipcloud.parse_status,
    "voipcloud.unwrap": voipcloud.unwrap,
    "tim4biz.parse_usage": tim4biz.parse_usage,
    "tariscope.parse_summary": lambda body: tariscope.parse_summary(SUBSCRIBER, body),
    "tariscope.parse_charges": tariscope.parse_charges,
    "tariscope.parse_subscriber": lambda body: tariscope.parse_subscriber(body)
    if isinstance(body, dict)
    else None,
    "voipcenter.check_envelope": voipcenter.check_envelope,
    "voipcenter.listing": voipcenter.listing,
    "voipcenter.names": voipcenter.names,
    "voipcenter.parse_sip_accounts": voipcenter.parse_sip_accounts,
}


def row(*keys: str) -> st.SearchStrategy[dict[str, Any]]:
    """A row with any of ``keys``, each holding anything."""
    return st.fixed_dictionaries({}, optional=dict.fromkeys(keys, JSON))


START = st.just("2019-10-01T15:31:15.000Z") | SCALARS
CALL_ROW = st.fixed_dictionaries(
    {"unique_call_id": st.just("1") | SCALARS, "call_start_at": START},
    optional=dict.fromkeys(
        (
            "connected_at", "call_answered_at", "call_finished_at", "type",
            "is_inbound", "conversation_duration", "queue_name", "ring_group_name",
            "caller_id", "callerid", "user_number", "user_name", "status",
        ),
        JSON,
    ),
)  # fmt: skip
SHAPED: dict[str, tuple[Callable[[Any], object], st.SearchStrategy[Any]]] = {
    "voipcloud call rows": (PARSERS["voipcloud.parse_call"], CALL_ROW),
    "voipcloud status": (
        voipcloud.parse_status,
        row("status", "state", "message", "components"),
    ),
    "tim4biz usage rows": (
        tim4biz.parse_usage,
        st.lists(row("Extension", "Name", "Calls", "Duration", "TalkTime", "Cost")),
    ),
    "tariscope summary": (
        PARSERS["tariscope.parse_summary"],
        row("start_debt", "end_debt", "charge", "payment"),
    ),
    "tariscope charges": (
        tariscope.parse_charges,
        st.lists(
            row("id", "recdate", "fromdate", "todate", "charge", "numberofservices")
        ),
    ),
    "voipcenter SIP accounts": (
        voipcenter.parse_sip_accounts,
        st.dictionaries(
            st.sampled_from(["id_1", "id_2", "id_x"]),
            row("SIPusername", "naam", "voornaam", "logname", "SIPping", "userAgent"),
        ),
    ),
    "voipcenter envelopes": (
        voipcenter.check_envelope,
        st.fixed_dictionaries(
            {},
            optional={
                "head": row("error_number", "error_message", "status"),
                "body": row("error_number", "error_message", "status"),
            },
        ),
    ),
    "pbxware extensions": (
        PARSERS["pbxware.parse_extensions"],
        st.dictionaries(
            st.sampled_from(["1", "2"]),
            row("ext", "name", "status", "dnd", "on_call", "ua_name", "ip"),
        ),
    ),
    "pbxware dids": (
        pbxware.parse_dids,
        st.dictionaries(
            st.sampled_from(["1", "2"]),
            row("number", "type", "ext", "status", "trunk", "dest_type"),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(SHAPED))
def test_rows_shaped_as_the_vendor_sends_them(name: str) -> None:
    """Rows with the keys a parser reads, holding anything, Infinity and NaN
    included (``json.loads`` accepts both).
    """
    parser, strategy = SHAPED[name]

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(strategy)
    def check(body: Any) -> None:
        with contextlib.suppress(PbxError):
            parser(body)

    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parsers_never_raise_anything_but_pbx_errors(name: str) -> None:
    parser = PARSERS[name]

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(JSON)
    def check(body: Any) -> None:
        with contextlib.suppress(PbxError):
            parser(body)

    check()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_text_bodies(text: str) -> None:
    """PBXware's live calls and Tariscope's tokens arrive as text."""
    with contextlib.suppress(PbxError):
        pbxware.parse_live_calls(text)
    tariscope.token_claims(text)
    tariscope.token_claims(f"a.{text}.c")

"""Every vendor parser, fed arbitrary JSON-like input: it returns its model
(checked) or raises ``PbxResponseError``, never another exception (other
``PbxError`` subclasses included). Envelope checks, whose job is to raise what
the PBX reports, may raise any ``PbxError``. Bounded so that it stays fast in CI.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from multidict import CIMultiDict
import pytest

from custom_components.pbx_hub.client import (
    AccountSummary,
    CallRecord,
    CallScope,
    Charge,
    Did,
    Extension,
    ExtensionUsage,
    PbxError,
    PbxResponseError,
    Subscriber,
    SystemStatus,
    Tenant,
    convert,
    create_client,
    http,
    pbxware,
    tariscope,
    tim4biz,
    voipcenter,
    voipcloud,
)

pytestmark = pytest.mark.slow

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
        "timestamp",
        "from",
        "to",
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
UNIX_TIMES = st.sampled_from(
    [
        1764590400,
        1764590400000,
        1e308,
        -1e308,
        2**63,
        -(2**63),
        253402300800,
        -62135596801,
    ]
) | st.floats(allow_nan=True, allow_infinity=True)
"""Unix times in seconds and milliseconds, and what no ``datetime`` holds."""
DEPTHS = st.integers(1, 200_000)
DEEP = DEPTHS.map(lambda depth: "[" * depth + "]" * depth) | DEPTHS.map(
    lambda depth: '{"data":' * depth + "1" + "}" * depth
)
"""JSON nested up to 200 000 deep: Python refuses some 50 000 deep."""
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=6)
    ),
    max_leaves=25,
)
SUBSCRIBER = Subscriber(id="1", name="Ann")
DASHBOARD = (
    "cpu", "memory", "disk_usage", "ext_online", "calls", "sip_registrations",
    "licensing", "services",
)  # fmt: skip

type Parser = Callable[[Any], object]
type IsModel = Callable[[object], bool]


def dict_of(model: type | tuple[type, ...]) -> IsModel:
    """A ``dict`` of ``model`` by text key, the container most parsers give."""
    return lambda result: (
        isinstance(result, dict)
        and all(
            isinstance(key, str) and isinstance(value, model)
            for key, value in result.items()
        )
    )


def list_of(model: type | tuple[type, ...]) -> IsModel:
    return lambda result: (
        isinstance(result, list) and all(isinstance(item, model) for item in result)
    )


def instance_of(model: type | tuple[type, ...]) -> IsModel:
    return lambda result: isinstance(result, model)


PARSERS: dict[str, tuple[Parser, IsModel]] = {
    "pbxware.rows": (pbxware.rows, dict_of(dict)),
    "pbxware.parse_extensions": (
        lambda body: pbxware.parse_extensions(body, body),
        dict_of(Extension),
    ),
    "pbxware.parse_dids": (pbxware.parse_dids, dict_of(Did)),
    "pbxware.parse_tenants": (pbxware.parse_tenants, dict_of(Tenant)),
    # The client keys the eight dashboard answers itself: fuzz each answer.
    "pbxware.parse_status": (
        lambda body: pbxware.parse_status(dict.fromkeys(DASHBOARD, body)),
        instance_of(SystemStatus),
    ),
    "voipcloud.parse_call": (
        lambda body: [voipcloud.parse_call(scope, body) for scope in CallScope],
        list_of((CallRecord, type(None))),
    ),
    "voipcloud.parse_status": (voipcloud.parse_status, instance_of(SystemStatus)),
    "tim4biz.parse_usage": (tim4biz.parse_usage, dict_of(ExtensionUsage)),
    "tariscope.parse_summary": (
        lambda body: tariscope.parse_summary(SUBSCRIBER, body),
        instance_of(AccountSummary),
    ),
    "tariscope.parse_charges": (tariscope.parse_charges, list_of(Charge)),
    "tariscope.parse_subscriber": (
        tariscope.parse_subscriber,
        instance_of((Subscriber, type(None))),
    ),
    "voipcenter.listing": (voipcenter.listing, dict_of(object)),
    "voipcenter.names": (voipcenter.names, dict_of(str)),
    "voipcenter.parse_sip_accounts": (
        voipcenter.parse_sip_accounts,
        dict_of(Extension),
    ),
}
"""Pure parsers: a body they cannot read is a ``PbxResponseError``, and only
that; whatever they return is checked to be their model.
"""
ENVELOPES: dict[str, Parser] = {
    "voipcloud.unwrap": voipcloud.unwrap,
    "voipcenter.check_envelope": voipcenter.check_envelope,
}
"""Envelope checks read what the PBX says went wrong, so any ``PbxError``
(authentication, rate limit, permission) is theirs to raise.
"""


def parse(name: str, body: Any) -> None:
    """Run parser ``name``: its model comes back, or ``PbxResponseError``."""
    parser, is_model = PARSERS[name]
    try:
        result = parser(body)
    except PbxResponseError:
        return
    assert is_model(result), f"{name} returned {result!r}"


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
SHAPED: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "voipcloud call rows": ("voipcloud.parse_call", CALL_ROW),
    "voipcloud status": (
        "voipcloud.parse_status",
        row("status", "state", "message", "components"),
    ),
    "tim4biz usage rows": (
        "tim4biz.parse_usage",
        st.lists(row("Extension", "Name", "Calls", "Duration", "TalkTime", "Cost")),
    ),
    "tariscope summary": (
        "tariscope.parse_summary",
        row("start_debt", "end_debt", "charge", "payment"),
    ),
    "tariscope charges": (
        "tariscope.parse_charges",
        st.lists(
            row("id", "recdate", "fromdate", "todate", "charge", "numberofservices")
        ),
    ),
    "tariscope subscriber": (
        "tariscope.parse_subscriber",
        row("id", "fullname", "email"),
    ),
    "voipcenter SIP accounts": (
        "voipcenter.parse_sip_accounts",
        st.dictionaries(
            st.sampled_from(["id_1", "id_2", "id_x"]),
            row("SIPusername", "naam", "voornaam", "logname", "SIPping", "userAgent"),
        ),
    ),
    "pbxware extensions": (
        "pbxware.parse_extensions",
        st.dictionaries(
            st.sampled_from(["1", "2"]),
            row("ext", "name", "status", "dnd", "on_call", "ua_name", "ip"),
        ),
    ),
    "pbxware dids": (
        "pbxware.parse_dids",
        st.dictionaries(
            st.sampled_from(["1", "2"]),
            row("number", "type", "ext", "status", "trunk", "dest_type"),
        ),
    ),
}
ENVELOPE_SHAPES = st.fixed_dictionaries(
    {},
    optional={
        "head": row("error_number", "error_message", "status"),
        "body": row("error_number", "error_message", "status"),
    },
)


@pytest.mark.parametrize("name", sorted(SHAPED))
def test_rows_shaped_as_the_vendor_sends_them(name: str) -> None:
    """Rows with the keys a parser reads, holding anything, Infinity and NaN
    included (``json.loads`` accepts both).
    """
    parser_name, strategy = SHAPED[name]

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(strategy)
    def check(body: Any) -> None:
        parse(parser_name, body)

    check()


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parsers_give_their_model_or_a_response_error(name: str) -> None:
    """Arbitrary JSON-like input (lists, scalars and ``None`` too, not only
    objects): the parser's model, or ``PbxResponseError`` and no other error.
    """

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=True,
    )
    @given(JSON)
    def check(body: Any) -> None:
        parse(name, body)

    check()


@pytest.mark.parametrize("name", sorted(ENVELOPES))
def test_envelopes_raise_only_pbx_errors(name: str) -> None:
    envelope = ENVELOPES[name]

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(JSON | ENVELOPE_SHAPES)
    def check(body: Any) -> None:
        with contextlib.suppress(PbxError):
            envelope(body)

    check()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_text_bodies(text: str) -> None:
    """PBXware's live calls and Tariscope's tokens arrive as text."""
    with contextlib.suppress(PbxError):
        pbxware.parse_live_calls(text)
    tariscope.token_claims(text)
    tariscope.token_claims(f"a.{text}.c")


CLIENTS = {
    "pbxware": create_client(
        "pbxware",
        None,
        {"url": "http://pbx.test", "api_key": "k" * 12},  # type: ignore[arg-type]
    ),
    "voipcloud": create_client("voipcloud", None, {"token": "t" * 12}),  # type: ignore[arg-type]
    "tariscope": create_client(
        "tariscope",
        None,
        {"url": "http://ts.test", "password": "p" * 8},  # type: ignore[arg-type]
    ),
    "tim4biz": create_client("tim4biz", None, {"password": "p" * 8}),  # type: ignore[arg-type]
}
STATUS = st.sampled_from([400, 401, 403, 404, 405, 409, 422, 499])
ERROR_TEXT = JSON.map(json.dumps) | st.text(max_size=40)


def _explainers() -> dict[str, Callable[[int, str], object]]:
    """Every vendor's reading of a 4xx answer's body."""
    tariscope_client = CLIENTS["tariscope"]
    tim4biz_client = CLIENTS["tim4biz"]
    assert isinstance(tariscope_client, tariscope.TariscopeClient)
    assert isinstance(tim4biz_client, tim4biz.Tim4bizClient)
    voipcloud_client = CLIENTS["voipcloud"]
    assert isinstance(voipcloud_client, voipcloud.VoipcloudClient)
    return {
        "voipcloud._explain": voipcloud_client._explain,
        "tariscope explainer": tariscope_client._explainer("m", with_token=True),
        "tariscope login explainer": tariscope_client._explainer("m", with_token=False),
        "tim4biz explainer": tim4biz_client._explainer("ExtensionTotal"),
        "HttpHelper.error_detail": lambda status, text: CLIENTS[
            "tim4biz"
        ].http.error_detail(status, text, "message", "error"),
    }


@pytest.mark.parametrize("name", sorted(_explainers()))
def test_error_bodies(name: str) -> None:
    """A 4xx body is read into an error (or left to the status code), never
    raised through as something else.
    """
    explain = _explainers()[name]

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(STATUS, ERROR_TEXT)
    def check(status: int, text: str) -> None:
        result = explain(status, text)
        assert result is None or isinstance(result, PbxError | str)

    check()


@pytest.mark.parametrize("write", [False, True])
def test_error_envelopes(write: bool) -> None:
    """PBXware's ``error`` key and VoipCenter's head and body, for reads and
    writes (a write must also say it succeeded).
    """
    client = CLIENTS["pbxware"]
    assert isinstance(client, pbxware.PbxwareClient)

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(JSON | st.fixed_dictionaries({"error": JSON}))
    def check(body: Any) -> None:
        with contextlib.suppress(PbxError):
            client._raise_for_error(body, "ext.list", write=write)
        with contextlib.suppress(PbxError):
            voipcenter.check_envelope(body, write=write)

    check()


HEADER_VALUE = st.text(max_size=30) | st.sampled_from(
    ["0", "-3", "1e400", "9" * 400, "NaN", "inf", "-inf", "http://[", "https://", "OAUTH",
     "https://x.tim4biz.com:99999/", "https://api2.tim4biz.com/api/"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                tim4biz.HEADER_LIMIT,
                tim4biz.HEADER_REMAINING,
                tim4biz.HEADER_LIMIT_DAY,
                tim4biz.HEADER_REMAINING_DAY,
                tim4biz.HEADER_API_URL,
                tim4biz.HEADER_AUTHENTICATION,
            ]
        ),
        HEADER_VALUE,
    )
)
def test_tim4biz_headers(headers: dict[str, str]) -> None:
    """The rate-limit, API address and authentication headers, with anything
    in them; what the client then reports can be read.
    """
    client = create_client("tim4biz", None, {"password": "p" * 8})  # type: ignore[arg-type]
    assert isinstance(client, tim4biz.Tim4bizClient)
    client._read_headers(CIMultiDict(headers))
    _ = client.rate_limit_status
    assert client.http.budget.min_interval(2) >= 0


@settings(max_examples=300, deadline=None, derandomize=True)
@given(HEADER_VALUE | st.none())
def test_retry_after(value: str | None) -> None:
    """Found by fuzzing: ``NaN`` passed through, ``inf`` paused for good."""
    seconds = http.parse_retry_after(value)
    assert seconds is None or 0 <= seconds <= http.MAX_RETRY_AFTER


def _jwt(claims: Any) -> str:
    import base64

    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode()
    return f"eyJhbGciOiJIUzI1NiJ9.{payload.rstrip('=')}.c2ln"


CLAIMS = JSON | st.fixed_dictionaries(
    {}, optional={"exp": SCALARS, "iat": SCALARS, "sub": SCALARS}
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(CLAIMS.map(_jwt) | st.text(max_size=60), st.floats(0, 4e9))
def test_tariscope_token_expiry(token: str, now: float) -> None:
    """A token's claims, whatever they hold, give an expiry or none and a
    lifetime the client can schedule a renewal with.
    """
    expiry = tariscope.token_expiry(token)
    assert expiry is None or isinstance(expiry, float)
    lifetime = tariscope.token_lifetime(token, now)
    assert lifetime > 0


@settings(max_examples=200, deadline=None, derandomize=True)
@given(JSON)
def test_conversions(value: Any) -> None:
    """The tolerant conversions every parser builds on."""
    number = convert.to_float(value)
    assert number is None or isinstance(number, float)
    assert convert.to_int(value) is None or isinstance(convert.to_int(value), int)
    assert convert.to_bool(value) in (None, True, False)
    assert convert.to_text(value) is None or isinstance(convert.to_text(value), str)
    moment = convert.to_datetime(value)
    assert moment is None or moment.tzinfo is not None
    moment = convert.from_unix(value)
    assert moment is None or moment.tzinfo is not None
    assert pbxware.is_registered(value) in (None, True, False)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(JSON.map(json.dumps) | st.text(max_size=80) | DEEP)
def test_json_bodies(text: str) -> None:
    """Decoding (with PHP warnings before the JSON) and PBXware's live calls
    from any text.
    """
    with contextlib.suppress(PbxError):
        http.decode_json(text)
    with contextlib.suppress(PbxError):
        pbxware.parse_live_calls(text)
    with contextlib.suppress(PbxError):
        pbxware.parse_live_calls(f"<b>Warning</b>: x {text}")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(row("Extension", "Name", "Calls", "Duration", "Cost")),
    st.lists(row("Extension", "Name", "Calls", "Duration", "Cost")),
)
def test_tim4biz_usage_adds_up(first: Any, second: Any) -> None:
    """Two halves of a split period, whatever they hold, add up."""
    with contextlib.suppress(PbxError):
        tim4biz.merge_usage(tim4biz.parse_usage(first), tim4biz.parse_usage(second))


LIVE_CALL = st.fixed_dictionaries(
    {}, optional={"from": SCALARS, "to": SCALARS, "timestamp": UNIX_TIMES | SCALARS}
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.dictionaries(st.text(max_size=8), LIVE_CALL | JSON, max_size=4))
def test_pbxware_live_calls(calls: dict[str, Any]) -> None:
    """Found by the hostile-server review (issue 18, item 3): a timestamp in
    milliseconds, or ``1e308``, raised ``ValueError`` or ``OverflowError``.
    Any start time a call row holds is a moment or unknown.
    """
    try:
        parsed = pbxware.parse_live_calls(json.dumps(calls))
    except PbxResponseError:
        return
    assert all(
        call.started_at is None or call.started_at.tzinfo is not None
        for call in parsed.values()
    )

"""PBX Hub client: an async library for business phone systems.

Self-contained (it never imports Home Assistant): hand it an ``aiohttp`` session
and a vendor's settings, get typed models back and the errors of ``exceptions``.
The vendors it knows are listed in ``VENDORS``, here and nowhere else.
"""

from collections.abc import Mapping
from typing import Any

import aiohttp

from . import pbxware, tariscope, tim4biz, voipcenter, voipcloud
from .abilities import (
    ABILITIES,
    Ability,
    ClicksToCall,
    ForwardsCalls,
    ListsCharges,
    ListsTenants,
    RecordsCalls,
    RoutesDidPlans,
    RoutesDids,
    SendsSms,
    SetsDnd,
    SetsHotDesks,
    SetsIndicators,
)
from .actions import for_action
from .address import URL_REASONS
from .base import (
    DEFAULT_REQUEST_TIMEOUT,
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
)
from .budget import POLLING_SHARE, BudgetSpec, RequestBudget
from .call_tracking import (
    EVENT_LOOKBACK,
    PUSH_MEMORY,
    CallActivity,
    CallTracker,
    StoredCalls,
)
from .callstats import CallSummary, GroupStats, UserStats, group_key, summarize
from .exceptions import (
    PbxAnswerLostError,
    PbxAuthError,
    PbxCallFailedError,
    PbxClockSkewError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxNoCallError,
    PbxNotFoundError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxRefusedError,
    PbxRequestCapError,
    PbxResponseError,
    PbxTooManyItemsError,
    PbxUnsupportedError,
)
from .livecalls import CallEvent, CallEventKind, call_events, states_from_records
from .models import (
    CLEAR,
    AccountSelection,
    AccountSummary,
    CallDirection,
    CallForwarding,
    CallNotification,
    CallOutcome,
    CallRecord,
    CallScope,
    CallState,
    Capability,
    Charge,
    Clear,
    Clearable,
    DestinationType,
    Did,
    DidRouting,
    Extension,
    ExtensionCallState,
    ExtensionUsage,
    FunctionIndicator,
    HotDesk,
    HotDesking,
    LicenseUsage,
    LiveCall,
    PbxFact,
    PbxInfo,
    PushCredentials,
    PushState,
    RateLimitStatus,
    RoutedDid,
    Subscriber,
    SystemStatus,
    Tenant,
    TimeFilter,
)
from .options import (
    OptionField,
    OptionKind,
    OptionsCheck,
    account_selection,
    currency_code,
    option_list,
)
from .push import Backoff, NotifiedCallStates, PushChannel, rings_in
from .topics import (
    TOPICS,
    Cadence,
    MonthAccounts,
    Notice,
    ReadContext,
    ReadResult,
    Topic,
    UsagePeriods,
)

__all__ = [
    "ABILITIES",
    "CLEAR",
    "DEFAULT_REQUEST_TIMEOUT",
    "EVENT_LOOKBACK",
    "POLLING_SHARE",
    "PUSH_MEMORY",
    "TOPICS",
    "URL_REASONS",
    "VENDORS",
    "Ability",
    "AccountSelection",
    "AccountSummary",
    "BudgetSpec",
    "Cadence",
    "CallOutcome",
    "CallRecord",
    "CallScope",
    "CallSummary",
    "Capability",
    "Charge",
    "Clear",
    "Clearable",
    "ClicksToCall",
    "DestinationType",
    "Did",
    "DidRouting",
    "Extension",
    "ExtensionUsage",
    "FieldKind",
    "ForwardsCalls",
    "FunctionIndicator",
    "GroupStats",
    "HotDesk",
    "HotDesking",
    "LicenseUsage",
    "ListsCharges",
    "ListsTenants",
    "LiveCall",
    "MonthAccounts",
    "Notice",
    "OptionField",
    "OptionKind",
    "OptionsCheck",
    "PbxAnswerLostError",
    "PbxAuthError",
    "PbxCallFailedError",
    "PbxClient",
    "PbxClockSkewError",
    "PbxConnectionError",
    "PbxError",
    "PbxFact",
    "PbxInfo",
    "PbxInvalidInputError",
    "PbxNotFoundError",
    "PbxNotWhitelistedError",
    "PbxPermissionError",
    "PbxRateLimitError",
    "PbxRefusedError",
    "PbxRequestCapError",
    "PbxResponseError",
    "PbxTooManyItemsError",
    "PbxUnsupportedError",
    "RateLimitStatus",
    "ReadContext",
    "ReadResult",
    "RecordsCalls",
    "RequestBudget",
    "RoutedDid",
    "RoutesDidPlans",
    "RoutesDids",
    "SendsSms",
    "SetsDnd",
    "SetsHotDesks",
    "SetsIndicators",
    "SettingField",
    "Subscriber",
    "SystemStatus",
    "Tenant",
    "TimeFilter",
    "Topic",
    "UsagePeriods",
    "UserStats",
    "VendorSpec",
    "account_selection",
    "create_client",
    "currency_code",
    "for_action",
    "group_key",
    "option_list",
    "summarize",
]
__all__ += [  # live calls and their events (issue 17)
    "Backoff",
    "CallActivity",
    "CallDirection",
    "CallEvent",
    "CallEventKind",
    "CallForwarding",
    "CallNotification",
    "CallState",
    "CallTracker",
    "ExtensionCallState",
    "NotifiedCallStates",
    "PbxNoCallError",
    "PushChannel",
    "PushCredentials",
    "PushState",
    "StoredCalls",
    "call_events",
    "rings_in",
    "states_from_records",
]

VENDORS: Mapping[str, VendorSpec] = {
    spec.key: spec
    for spec in (
        pbxware.SPEC,
        tariscope.SPEC,
        tim4biz.SPEC,
        voipcenter.SPEC,
        voipcloud.SPEC,
    )
}
"""Every vendor, by key: what the config flow offers and ``create_client`` builds."""


def create_client(
    vendor: str,
    session: aiohttp.ClientSession,
    settings: Mapping[str, Any],
    *,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    budget: RequestBudget | None = None,
) -> PbxClient:
    """Build the client of ``vendor`` with its own or a shared request budget."""
    try:
        spec = VENDORS[vendor]
    except KeyError:
        raise PbxUnsupportedError(f"Unknown vendor {vendor!r}") from None
    return spec.client_class(
        session,
        settings,
        budget=budget or RequestBudget(spec.budget),
        request_timeout=request_timeout,
        secret_keys=spec.secret_keys,
    )

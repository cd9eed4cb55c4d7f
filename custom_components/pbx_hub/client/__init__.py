"""PBX Hub client: an async library for business phone systems.

Self-contained (it never imports Home Assistant): hand it an ``aiohttp`` session
and a vendor's settings, get typed models back and the errors of ``exceptions``.
"""

from . import (  # noqa: F401  (each module registers its vendor)
    pbxware as _pbxware,
    tim4biz as _tim4biz,
    voipcloud as _voipcloud,
)
from .base import (
    DEFAULT_REQUEST_TIMEOUT,
    VENDORS,
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
    create_client,
)
from .budget import POLLING_SHARE, BudgetSpec, RequestBudget
from .callstats import CallSummary, GroupStats, UserStats, group_key, summarize
from .exceptions import (
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxNotFoundError,
    PbxNotWhitelistedError,
    PbxPermissionError,
    PbxRateLimitError,
    PbxResponseError,
    PbxUnsupportedError,
)
from .models import (
    CallOutcome,
    CallRecord,
    CallScope,
    Capability,
    DestinationType,
    Did,
    Extension,
    ExtensionUsage,
    LicenseUsage,
    LiveCall,
    PbxInfo,
    RateLimitStatus,
    SystemStatus,
    Tenant,
)

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "POLLING_SHARE",
    "VENDORS",
    "BudgetSpec",
    "CallOutcome",
    "CallRecord",
    "CallScope",
    "CallSummary",
    "Capability",
    "DestinationType",
    "Did",
    "Extension",
    "ExtensionUsage",
    "FieldKind",
    "GroupStats",
    "LicenseUsage",
    "LiveCall",
    "PbxAuthError",
    "PbxClient",
    "PbxConnectionError",
    "PbxError",
    "PbxInfo",
    "PbxInvalidInputError",
    "PbxNotFoundError",
    "PbxNotWhitelistedError",
    "PbxPermissionError",
    "PbxRateLimitError",
    "PbxResponseError",
    "PbxUnsupportedError",
    "RateLimitStatus",
    "RequestBudget",
    "SettingField",
    "SystemStatus",
    "Tenant",
    "UserStats",
    "VendorSpec",
    "create_client",
    "group_key",
    "summarize",
]

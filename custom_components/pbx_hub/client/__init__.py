"""PBX Hub client: an async library for business phone systems.

Self-contained (it never imports Home Assistant): hand it an ``aiohttp`` session
and a vendor's settings, get typed models back and the errors of ``exceptions``.
"""

from . import pbxware as _pbxware  # noqa: F401  (registers the vendor)
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
from .exceptions import (
    PbxAuthError,
    PbxConnectionError,
    PbxError,
    PbxInvalidInputError,
    PbxRateLimitError,
    PbxResponseError,
    PbxUnsupportedError,
)
from .models import (
    Capability,
    DestinationType,
    Did,
    Extension,
    LicenseUsage,
    LiveCall,
    PbxInfo,
    SystemStatus,
    Tenant,
)

__all__ = [
    "DEFAULT_REQUEST_TIMEOUT",
    "POLLING_SHARE",
    "VENDORS",
    "BudgetSpec",
    "Capability",
    "DestinationType",
    "Did",
    "Extension",
    "FieldKind",
    "LicenseUsage",
    "LiveCall",
    "PbxAuthError",
    "PbxClient",
    "PbxConnectionError",
    "PbxError",
    "PbxInfo",
    "PbxInvalidInputError",
    "PbxRateLimitError",
    "PbxResponseError",
    "PbxUnsupportedError",
    "RequestBudget",
    "SettingField",
    "SystemStatus",
    "Tenant",
    "VendorSpec",
    "create_client",
]

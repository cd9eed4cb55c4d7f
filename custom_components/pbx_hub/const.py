"""Constants for PBX Hub."""

from __future__ import annotations

from datetime import timedelta
import logging
from typing import Final

from .client import options
from .client.poll_plan import DEFAULTS

DOMAIN: Final = "pbx_hub"
LOGGER = logging.getLogger(__package__)

CONF_VENDOR: Final = "vendor"
CONF_FAST_INTERVAL: Final = "fast_interval"
CONF_SLOW_INTERVAL: Final = "slow_interval"
CONF_VERIFY_SSL: Final = "verify_ssl"
CONF_EXCLUDED_EXTENSIONS: Final = options.EXCLUDED_EXTENSIONS
CONF_CALL_STATES: Final = "call_states"
"""Whether call states are read (polled or pushed); on unless turned off."""
# Options some vendors declare (``client.OptionField``), named where read.
CONF_SMS_RECIPIENT: Final = options.SMS_RECIPIENT
CONF_SUBSCRIBERS: Final = options.SUBSCRIBERS
CONF_DEPARTMENTS: Final = options.DEPARTMENTS
CONF_NODES: Final = options.NODES
CONF_CURRENCY: Final = options.CURRENCY

# The default intervals are the client's (``client.poll_plan.DEFAULTS``).
MIN_INTERVAL: Final = timedelta(seconds=10)
MAX_INTERVAL: Final = DEFAULTS.longest

"""Bicom PBXware client.

Transport: ``GET|POST <url>/index.php?apikey=..&action=pbxware.<object>.<method>``,
``server=<tenant id>`` in multi-tenant mode. Reads use GET, writes POST (as Bicom's
documents say). Shapes follow Bicom's official Postman collection and our research
notes. What they leave open, assumed here and parsed tolerantly:

- Errors arrive as HTTP 200 with an ``error`` key, e.g. ``{"error": "Invalid API
  key."}`` (the one error text Bicom documents): an error about the key is an
  auth error. API keys other than the Master Key carry permissions (Bicom's
  API page), but no document says how a refusal reads: an error that speaks of
  a permission or licence (or, for a read, of being "not allowed" or
  "denied"), such as ``"API key does not have permission for this action."``,
  is ``PbxPermissionError`` naming the refused action, even when it names the
  key too; one that calls the key invalid (wrong, unknown ...) stays an auth
  error. A write's "not allowed" is about its input. ``license.info``, asked
  at identification, refused for a permission still proves the key: the
  PBX's edition and version are then unknown, and the rest goes on. An error
  that speaks of the server's own failure (``"Internal server error"``, a
  database error, a time-out) is read as HTTP 500 is: to a write it may have
  come after the change; any other error to a write is about its input.
- An empty object arrives as ``[]``; lists with items are objects keyed by id (a JSON
  list of rows is accepted too).
- Numbers may arrive as strings; CPU, memory and disk are strings like ``"37"``,
  ``"37%"`` or ``"37 %"``. Ids and extension numbers may arrive as numbers or
  text; names and states only as text. A list with an id twice (or a DID
  number), or with no row that can be read, is an answer not understood.
- ``monitor.list`` reports ``status`` in Asterisk peer style: ``"OK (12 ms)"`` and
  ``"LAGGED (..)"`` mean registered; ``"UNKNOWN"``, ``"UNREACHABLE"`` or empty mean
  not. ``dnd`` and ``on_call`` are ``''`` or booleans.
- A single-tenant system may refuse ``tenant.list`` with an error instead of
  ``[]``: either means "no tenants to choose".
- ``monitor.live_calls`` answers the text ``Live Calls: 0`` when there are none.
- The API publishes no rate limit: the budget is a conservative 1800 per hour.
- There is no click-to-call and no queue statistics action in the public API.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
import contextlib
import re
from typing import Any, ClassVar

from yarl import URL

from .abilities import ListsTenants, RoutesDids, SetsDnd
from .address import join_path
from .base import (
    FieldKind,
    PbxClient,
    SettingField,
    VendorSpec,
    one_read,
)
from .budget import BudgetSpec
from .convert import (
    from_unix,
    is_id,
    to_bool,
    to_float,
    to_int,
    to_key,
    to_text,
    unique,
)
from .exceptions import (
    PbxAuthError,
    PbxInvalidInputError,
    PbxPermissionError,
    PbxResponseError,
)
from .gather import gather_reads
from .http import decode_json, may_have_acted, url_host
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

CONF_URL = "url"
CONF_API_KEY = "api_key"
CONF_VERIFY_SSL = "verify_ssl"
CONF_TENANT = "tenant"

_DESTINATION = re.compile(r"[0-9]{1,32}")
_KEY_WORDS = re.compile(r"api ?key", re.I)
"""An error about the key: the credentials went bad, unless it speaks of a
permission (below) and not of a bad key (``_BAD_KEY_WORDS``).
"""
_BAD_KEY_WORDS = re.compile(
    r"\b(invalid|incorrect|wrong|unknown|expired|revoked)\b", re.I
)
_PERMISSION_WORDS = re.compile(r"permission|licen", re.I)
"""A key that is good but may not do this: granting it is the fix."""
_REFUSED_WORDS = re.compile(r"not allowed|denied", re.I)
"""A read refused without naming a permission or licence ("Access denied."):
the key, as such answers were read before permissions were told apart;
only "Invalid API key." is documented. A refused write ("not allowed to
forward to ...") is about its input.
"""
_SERVER_FAILURE_WORDS = re.compile(
    r"internal (server )?error|server error|database error|timed out", re.I
)
"""An error the server had (a PHP exception, a lost database), not one about
the request: to a write, like HTTP 500, it may have come after the change.
"""
_NO_LIVE_CALLS = "Live Calls: 0"

# did.edit's dest_type codes (Bicom collection, did.edit parameter description).
_DEST_TYPE_CODES: dict[DestinationType, str] = {
    DestinationType.EXTENSION: "0",
    DestinationType.RING_GROUP: "2",
    DestinationType.IVR: "3",
    DestinationType.QUEUE: "4",
    DestinationType.EXTERNAL: "5",
    DestinationType.VOICEMAIL: "7",
    DestinationType.CONFERENCE: "9",
}
# did.list's ``type`` names, lower-cased.
_DEST_TYPE_NAMES: dict[str, DestinationType] = {
    "extension": DestinationType.EXTENSION,
    "ring group": DestinationType.RING_GROUP,
    "ivr": DestinationType.IVR,
    "queue": DestinationType.QUEUE,
    "queues": DestinationType.QUEUE,
    "external": DestinationType.EXTERNAL,
    "external number": DestinationType.EXTERNAL,
    "voicemail": DestinationType.VOICEMAIL,
    "conference": DestinationType.CONFERENCE,
}
_LICENSED = ("ext", "ivr", "queue", "conference")
DASHBOARD = (
    "cpu",
    "memory",
    "disk_usage",
    "ext_online",
    "calls",
    "sip_registrations",
    "licensing",
    "services",
)
"""The ``pbxware.dashboard.*`` actions the status is read from."""


def rows(body: Any) -> dict[str, dict[str, Any]]:
    """Rows keyed by id from an object keyed by id, a list, or ``[]``. Rows
    that are no object are skipped; a list with none left, or with an id
    twice, is an answer not understood.
    """
    items: Iterable[tuple[Any, Any]]
    if isinstance(body, dict):
        items = body.items()
    elif isinstance(body, list):
        items = (
            (row.get("id", index) if isinstance(row, dict) else index, row)
            for index, row in enumerate(body)
        )
    else:
        raise PbxResponseError(f"Expected a list, got {type(body).__name__}")
    items = list(items)
    found = unique(
        ((to_key(key), row) for key, row in items if isinstance(row, dict)),
        "PBXware",
    )
    if items and not found:
        raise PbxResponseError("PBXware: no row of the list can be read")
    return found


def is_registered(status: Any) -> bool | None:
    """Registration from an Asterisk-style peer status; one that is no text
    is unknown.
    """
    if not isinstance(status or "", str):
        return None
    text = (to_text(status) or "").lower()
    if text.startswith(("ok", "lagged", "registered", "reachable", "online")):
        return True
    if text == "" or text.startswith(
        ("unknown", "unreachable", "unregistered", "offline", "unmonitored")
    ):
        return False
    return None


def parse_status(answers: dict[str, Any]) -> SystemStatus:
    """Build ``SystemStatus`` from the dashboard answers, keyed by action name."""
    calls = _obj(answers["calls"])
    registrations = _obj(_obj(answers["sip_registrations"]).get("SIP Registrations"))
    licensing = _obj(answers["licensing"])
    services = _obj(answers["services"])
    return SystemStatus(
        cpu_percent=to_float(_obj(answers["cpu"]).get("inuse")),
        memory_percent=to_float(_obj(answers["memory"]).get("inuse")),
        disk_percent=to_float(_obj(answers["disk_usage"]).get("inuse")),
        extensions_online=to_int(_obj(answers["ext_online"]).get("count")),
        active_calls=to_int(calls.get("now")),
        calls_last_hour=to_int(calls.get("last hour")),
        calls_today=to_int(calls.get("today")),
        answered_calls_today=to_int(
            calls.get("answared calls", calls.get("answered calls"))
        ),
        sip_registrations_ok=to_int(registrations.get("success")),
        sip_registrations_failed=to_int(registrations.get("failed")),
        sip_registrations_lagged=to_int(registrations.get("lagged")),
        licenses={
            name: LicenseUsage(
                in_use=to_int(_obj(licensing[name]).get("inuse")),
                maximum=to_int(_obj(licensing[name]).get("max")),
            )
            for name in _LICENSED
            if name in licensing
        },
        services={str(name): _running(state) for name, state in services.items()},
    )


def _running(state: Any) -> bool:
    """Whether a service runs: its state is text, ``"running"`` when it does.
    A state that is no text is an answer not understood (read as "stopped",
    it would report every service down).
    """
    text = to_text(state)
    if text is None:
        raise PbxResponseError("PBXware: a service's state is no text")
    return text.lower() == "running"


def parse_extensions(ext_list: Any, monitor_list: Any) -> dict[str, Extension]:
    """Merge ``ext.list`` (who) with ``monitor.list`` (state), keyed by id."""
    monitors = rows(monitor_list)
    # Matched by number only where one row has it: an extension must not
    # show another's state.
    numbers = Counter(to_key(m.get("ext")) for m in monitors.values())
    by_number = {
        number: m
        for m in monitors.values()
        if numbers[number := to_key(m.get("ext"))] == 1
    }
    extensions: dict[str, Extension] = {}
    for ext_id, row in rows(ext_list).items():
        number = to_key(row.get("ext")) or ext_id
        monitor = monitors.get(ext_id) or by_number.get(number) or {}
        extensions[ext_id] = Extension(
            id=ext_id,
            number=number,
            name=to_text(row.get("name")) or number,
            email=to_text(row.get("email")),
            enabled=to_bool(row.get("status")),
            registered=is_registered(monitor.get("status")) if monitor else None,
            ip_address=to_text(monitor.get("ip")),
            user_agent=to_text(monitor.get("ua")),
            model=to_text(row.get("ua_fullname")),
            dnd=to_bool(monitor.get("dnd")) if monitor else None,
            on_call=to_bool(monitor.get("on_call")) if monitor else None,
        )
    return extensions


def parse_live_calls(text: str) -> dict[str, LiveCall]:
    """Calls in progress; the text ``Live Calls: 0`` means none."""
    if _NO_LIVE_CALLS in text:
        return {}
    return live_calls(decode_json(text))


def live_calls(body: Any) -> dict[str, LiveCall]:
    """Calls in progress from ``monitor.live_calls``'s decoded rows."""
    calls: dict[str, LiveCall] = {}
    for call_id, row in rows(body).items():
        calls[call_id] = LiveCall(
            id=call_id,
            caller=to_key(row.get("from")) or "",
            callee=to_key(row.get("to")) or "",
            started_at=from_unix(row.get("timestamp")),
        )
    return calls


def parse_dids(body: Any) -> dict[str, Did]:
    """Incoming numbers keyed by DID id."""
    listed = rows(body)
    unique(((to_key(row.get("number")), row) for row in listed.values()), "PBXware")
    return {
        did_id: Did(
            id=did_id,
            number=to_key(row.get("number")) or did_id,
            destination_type=_destination_type(row.get("type")),
            destination=to_key(row.get("ext")) or "",
            enabled=to_bool(row.get("status")),
            trunk=to_key(row.get("trunk")),
        )
        for did_id, row in listed.items()
    }


def _destination_type(name: Any) -> DestinationType | None:
    """A DID's kind of destination from ``did.list``'s ``type`` name; unknown
    when the row has no such name, ``OTHER`` for a name we do not map.
    """
    if (text := to_text(name)) is None:
        return None
    return _DEST_TYPE_NAMES.get(text.lower(), DestinationType.OTHER)


def parse_tenants(body: Any) -> dict[str, Tenant]:
    """Tenants keyed by id; single-tenant systems answer ``[]``."""
    return {
        tenant_id: Tenant(
            id=tenant_id,
            name=to_text(row.get("name")) or tenant_id,
            code=to_key(row.get("tenantcode")),
        )
        for tenant_id, row in rows(body).items()
    }


def _check_id(value: str, what: str) -> None:
    """PBXware numbers its extensions and DIDs; anything else is refused
    before a write is sent.
    """
    if not is_id(value):
        raise PbxInvalidInputError(f"A PBXware {what} id is a number")


def _obj(value: Any) -> dict[str, Any]:
    """An object, with PBXware's ``[]`` for "empty object" read as ``{}``."""
    if isinstance(value, dict):
        return value
    if value in ([], None, ""):
        return {}
    raise PbxResponseError(f"Expected an object, got {type(value).__name__}")


class PbxwareClient(PbxClient, ListsTenants, SetsDnd, RoutesDids):
    """A PBXware system, or one tenant of a multi-tenant PBXware."""

    vendor = "pbxware"
    capabilities = frozenset(
        {
            Capability.STATUS,
            Capability.EXTENSIONS,
            Capability.LIVE_CALLS,
            Capability.DIDS,
            Capability.TENANTS,
            Capability.SET_DND,
            Capability.SET_DID_ROUTE,
        }
    )
    licence_kinds: ClassVar[Mapping[str, str]] = {
        kind: f"license_{kind}" for kind in ("ext", "ivr", "queue", "conference")
    }
    read_costs: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 8,
        Capability.EXTENSIONS: 2,
        Capability.LIVE_CALLS: 1,
        Capability.DIDS: 1,
    }
    max_items: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 1000,  # services
        Capability.EXTENSIONS: 5000,
        Capability.LIVE_CALLS: 2000,
        Capability.DIDS: 5000,
        Capability.TENANTS: 2000,
    }

    @property
    def _endpoint(self) -> URL:
        """``index.php`` under the address, whatever query it was saved with."""
        return join_path(self.server_address(self.settings), "index.php")

    @classmethod
    def budget_scope(
        cls, settings: Mapping[str, Any], identity: str | None = None
    ) -> str:
        """One budget per PBX server, shared by all of its tenants."""
        return url_host(str(settings.get(CONF_URL, "")))

    @property
    def _tenant(self) -> str | None:
        return to_text(self.settings.get(CONF_TENANT))

    async def _call_text(
        self, action: str, *, write: bool = False, **params: str
    ) -> str:
        """Send ``pbxware.<action>`` and return the body text after error checks."""
        query = {
            "apikey": str(self.settings[CONF_API_KEY]),
            "action": f"pbxware.{action}",
        }
        if self._tenant is not None and not action.startswith(("tenant.", "license.")):
            query["server"] = self._tenant
        query.update(params)
        url = str(self._endpoint)
        try:
            if write:
                response = await self.http.request("POST", url, data=query, write=True)
            else:
                response = await self.http.request("GET", url, params=query)
        except PbxPermissionError as err:
            # A bare 403 (a proxy's, say) names nothing; the action refused
            # is the right the key lacks.
            if err.permission is None:
                err.permission = f"pbxware.{action}"
            raise
        return response.text

    async def _call(self, action: str, *, write: bool = False, **params: str) -> Any:
        """Send ``pbxware.<action>`` and return the decoded, error-checked body."""
        body = await self.http.read_json(
            await self._call_text(action, write=write, **params)
        )
        self._raise_for_error(body, action, write=write)
        return body

    def _raise_for_error(self, body: Any, action: str, *, write: bool) -> None:
        if not (isinstance(body, dict) and "error" in body):
            return
        error = str(body["error"])
        message = self.http.redact(f"PBXware: {error}")
        about_key = _KEY_WORDS.search(error) is not None
        if about_key and _BAD_KEY_WORDS.search(error):
            raise PbxAuthError(message)  # "Access denied: invalid API key"
        if _PERMISSION_WORDS.search(error):
            raise PbxPermissionError(message, permission=f"pbxware.{action}")
        if about_key or (not write and _REFUSED_WORDS.search(error)):
            raise PbxAuthError(message)
        if _SERVER_FAILURE_WORDS.search(error):
            raise may_have_acted(message, write=write)
        if write:
            raise PbxInvalidInputError(message)
        raise PbxResponseError(message)

    async def async_identify(self) -> PbxInfo:
        """Check the key with ``license.info`` and, with a tenant, that it
        exists. A key refused ``license.info`` for a permission is a good key
        (a bad one is refused as invalid): it may still read everything else,
        and only the edition and version it would tell stay unknown.
        """
        licence: dict[str, Any] | None = None
        with contextlib.suppress(PbxPermissionError):
            licence = _obj(await self._call("license.info"))
        endpoint = self._endpoint
        # The identity is the host (plus tenant): a port or scheme change via
        # reconfigure is the same PBX.
        host = (endpoint.host or "").lower()
        name = f"PBXware {host}"
        unique_id = host
        if (tenant_id := self._tenant) is not None:
            tenant = (await self.async_get_tenants()).get(tenant_id)
            if tenant is None:
                raise PbxInvalidInputError(f"Tenant {tenant_id} does not exist")
            name = tenant.name
            unique_id = f"{host}_{tenant_id}"
        return PbxInfo(
            unique_id=unique_id,
            name=name,
            manufacturer="Bicom Systems",
            model=None
            if licence is None
            else f"PBXware {to_text(licence.get('Edition')) or ''}".strip(),
            sw_version=None if licence is None else to_text(licence.get("Version")),
            configuration_url=str(endpoint.with_path("/").with_query(None)),
        )

    async def async_get_tenants(self) -> dict[str, Tenant]:
        """Tenants from ``tenant.list``; none on single-tenant systems, which
        answer ``[]`` or, we assume, an error that is not about the key or its
        permissions.
        """
        body = await self.http.read_json(await self._call_text("tenant.list"))
        if (
            isinstance(body, dict)
            and "error" in body
            and not _KEY_WORDS.search(error := str(body["error"]))
            and not _PERMISSION_WORDS.search(error)
            and not _REFUSED_WORDS.search(error)
        ):
            return {}
        self._raise_for_error(body, "tenant.list", write=False)
        return parse_tenants(self._at_most(Capability.TENANTS, body))

    @one_read(Capability.STATUS)
    async def async_get_status(self) -> SystemStatus:
        """Eight dashboard calls, sent together."""
        answers = dict(
            zip(
                DASHBOARD,
                await gather_reads(
                    *(self._call(f"dashboard.{name}") for name in DASHBOARD)
                ),
                strict=True,
            )
        )
        self._at_most(Capability.STATUS, answers["services"])
        return parse_status(answers)

    @one_read(Capability.EXTENSIONS)
    async def async_get_extensions(self) -> dict[str, Extension]:
        """``ext.list`` merged with ``monitor.list``: two requests for all."""
        ext_list, monitor_list = await gather_reads(
            self._call("ext.list"), self._call("monitor.list")
        )
        return parse_extensions(
            self._at_most(Capability.EXTENSIONS, ext_list),
            self._at_most(Capability.EXTENSIONS, monitor_list),
        )

    @one_read(Capability.LIVE_CALLS)
    async def async_get_live_calls(self) -> dict[str, LiveCall]:
        """Calls in progress from ``monitor.live_calls``."""
        text = await self._call_text("monitor.live_calls")
        if _NO_LIVE_CALLS in text:
            return {}
        body = await self.http.read_json(text)
        self._raise_for_error(body, "monitor.live_calls", write=False)
        return live_calls(self._at_most(Capability.LIVE_CALLS, body))

    @one_read(Capability.DIDS)
    async def async_get_dids(self) -> dict[str, Did]:
        """Incoming numbers from ``did.list``."""
        return parse_dids(self._at_most(Capability.DIDS, await self._call("did.list")))

    async def async_set_dnd(self, extension_id: str, enabled: bool) -> bool:
        """``ext.es.dnd.set`` with ``state=yes|no``; return the confirmed state."""
        _check_id(extension_id, "extension")
        body = await self._call(
            "ext.es.dnd.set",
            write=True,
            id=extension_id,
            state="yes" if enabled else "no",
        )
        confirmed = to_bool(_obj(body).get("state"))
        return enabled if confirmed is None else confirmed

    async def async_set_did_route(
        self, did_id: str, destination_type: DestinationType, destination: str
    ) -> None:
        """``did.edit`` with ``dest_type`` and ``destination``."""
        code = _DEST_TYPE_CODES.get(destination_type)
        if code is None:
            raise PbxInvalidInputError(
                f"PBXware cannot route a DID to {destination_type}"
            )
        if not _DESTINATION.fullmatch(destination):
            raise PbxInvalidInputError("PBXware destinations are digits only")
        _check_id(did_id, "DID")
        await self._call(
            "did.edit",
            write=True,
            id=did_id,
            dest_type=code,
            destination=destination,
        )


SPEC = VendorSpec(
    key="pbxware",
    name="Bicom PBXware",
    client_class=PbxwareClient,
    fields=(
        SettingField(key=CONF_URL, kind=FieldKind.URL),
        SettingField(key=CONF_API_KEY, kind=FieldKind.PASSWORD),
        SettingField(
            key=CONF_VERIFY_SSL,
            kind=FieldKind.BOOLEAN,
            required=False,
            default=True,
        ),
    ),
    budget=BudgetSpec(limit=1800, window=3600, backoff_start=60),
    tenant_field=CONF_TENANT,
)

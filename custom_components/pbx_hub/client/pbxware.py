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
from datetime import UTC, datetime, timedelta
import re
from typing import Any, ClassVar

from yarl import URL

from .abilities import (
    ForwardsCalls,
    ListsTenants,
    RecordsCalls,
    RoutesDids,
    SetsDnd,
)
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
    CallForwarding,
    CallRecord,
    Capability,
    DestinationType,
    Did,
    Extension,
    ExtensionCallState,
    LicenseUsage,
    LiveCall,
    PbxInfo,
    SystemStatus,
    Tenant,
)
from .pbxware_calls import (
    CDR_INCOMING,
    CDR_OUTGOING,
    call_forwarding,
    call_states,
    cdr_date,
    cdr_page,
    cdr_record,
    recording_done,
)
from .readers import (
    ReadsCallForwarding,
    ReadsCalls,
    ReadsCallStates,
    ReadsDids,
    ReadsExtensions,
    ReadsLiveCalls,
    ReadsStatus,
)
from .rotation import DetailRotation
from .topics import current_report

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
CDR_PAGE_SIZE = 1000
"""Rows per ``cdr.download`` page: the most the API allows (its default is 16)."""
CDR_LOOKBACK = timedelta(hours=2)
"""How far before the newest call read the next read starts again: a call's
record may be written when it ends, dated when it began.
"""

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


class PbxwareClient(
    PbxClient,
    ReadsStatus,
    ReadsExtensions,
    ReadsLiveCalls,
    ReadsCallStates,
    ReadsCalls,
    ReadsDids,
    ReadsCallForwarding,
    ListsTenants,
    SetsDnd,
    RoutesDids,
    ForwardsCalls,
    RecordsCalls,
):
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
            Capability.CALL_STATES,
            Capability.CALL_FORWARDING,
            Capability.SET_CALL_FORWARDING,
            Capability.RECORDING,
            Capability.CALL_HISTORY,
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
        Capability.CALL_STATES: 2,
        Capability.CALL_HISTORY: 2,  # incoming and outgoing, one page each
        Capability.CALL_FORWARDING: 10,  # one per extension: see measured_cost
    }
    max_items: ClassVar[Mapping[Capability, int]] = {
        Capability.STATUS: 1000,  # services
        Capability.EXTENSIONS: 5000,
        Capability.LIVE_CALLS: 2000,
        Capability.DIDS: 5000,
        Capability.TENANTS: 2000,
        Capability.CALL_STATES: 5000,  # extensions, and live calls
        Capability.CALL_HISTORY: 20000,  # calls since the day began
        Capability.CALL_FORWARDING: 5000,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing read of the call records or call forwarding yet."""
        super().__init__(*args, **kwargs)
        self._cdr_since: datetime | None = None
        self._cdr_calls: dict[tuple[str, bool | None], CallRecord] = {}
        """Calls read since ``_cdr_since``, by id and direction."""
        self._forwarding: DetailRotation[Any] = DetailRotation()

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
        return live_calls(await self._live_call_rows(Capability.LIVE_CALLS))

    async def _live_call_rows(self, topic: Capability) -> dict[str, dict[str, Any]]:
        """``monitor.live_calls``'s rows by call id, at most ``topic``'s maximum."""
        text = await self._call_text("monitor.live_calls")
        if _NO_LIVE_CALLS in text:
            return {}
        body = await self.http.read_json(text)
        self._raise_for_error(body, "monitor.live_calls", write=False)
        return rows(self._at_most(topic, body))

    @one_read(Capability.CALL_STATES)
    async def async_get_call_states(self) -> dict[str, ExtensionCallState]:
        """``monitor.list`` (who is on a call) with ``monitor.live_calls``
        (with whom, since when): two requests for every extension.
        """
        monitor_list, raw_calls = await gather_reads(
            self._call("monitor.list"), self._live_call_rows(Capability.CALL_STATES)
        )
        monitors = rows(self._at_most(Capability.CALL_STATES, monitor_list))
        return call_states(monitors, live_calls(raw_calls), raw_calls)

    @one_read(Capability.CALL_HISTORY)
    async def async_get_calls(self, since: datetime) -> list[CallRecord]:
        """Calls since ``since`` from ``cdr.download``, incoming and outgoing
        (each as its extension saw it). Only what is new is asked: from
        ``CDR_LOOKBACK`` before the newest call read, page by page; the
        calls read before are kept.
        """
        if self._cdr_since is None or since < self._cdr_since:
            self._cdr_calls = {}  # an earlier start: what lies before is unread
        self._cdr_since = since
        known = {
            key: call
            for key, call in self._cdr_calls.items()
            if call.started_at >= since
        }
        newest = max((call.started_at for call in known.values()), default=None)
        start = since if newest is None else max(since, newest - CDR_LOOKBACK)
        try:
            await gather_reads(
                self._read_cdr(CDR_INCOMING, start, since, known),
                self._read_cdr(CDR_OUTGOING, start, since, known),
            )
        finally:
            self._cdr_calls = known
        return list(known.values())

    async def _read_cdr(
        self,
        cdrtype: str,
        start: datetime,
        since: datetime,
        known: dict[tuple[str, bool | None], CallRecord],
    ) -> None:
        """Page through ``cdr.download`` of ``cdrtype`` from ``start`` into
        ``known``, until the last page, a page with nothing this read has
        not seen (a server that ignores ``page``), or this read's share of
        requests is spent (the next read goes on from the newest call).
        """
        inbound = cdrtype == CDR_INCOMING
        first_day, first_time = cdr_date(start)
        last_day, _ = cdr_date(datetime.now(UTC) + timedelta(days=1))
        seen: set[str] = set()
        page = 1
        while True:
            left = self.http.budget.read_left()
            if page > 1 and left is not None and left <= 0:
                return
            body = await self._call(
                "cdr.download",
                start=first_day,
                starttime=first_time,
                end=last_day,
                endtime="23:59:59",
                cdrtype=cdrtype,
                page=str(page),
                limit=str(CDR_PAGE_SIZE),
                timezone="UTC",
            )
            found, more = cdr_page(body)
            self._at_most(Capability.CALL_HISTORY, found)
            records = [cdr_record(row, inbound=inbound) for row in found]
            new = {record.id for record in records if record} - seen
            seen |= new
            for record in records:
                if record is not None and record.started_at >= since:
                    known[record.id, record.inbound] = record
            self._at_most(Capability.CALL_HISTORY, known)
            if not more or not new:
                return
            page += 1

    @one_read(Capability.CALL_FORWARDING)
    async def async_get_call_forwarding(
        self, extension_ids: Iterable[str]
    ) -> dict[str, CallForwarding]:
        """``ext.es.callfwd.get`` per extension, as many as this read may
        send (there is no list call); one not read yet is left out.
        """
        wanted = list(extension_ids)
        for extension_id in wanted:
            _check_id(extension_id, "extension")
        self._at_most(Capability.CALL_FORWARDING, wanted)
        asked = await self._forwarding.read(
            wanted,
            self.http.budget.read_left(),
            lambda extension_id: self._call("ext.es.callfwd.get", id=extension_id),
        )
        current_report().cost = asked
        return {
            extension_id: call_forwarding(
                extension_id, self._forwarding.get(extension_id)
            )
            for extension_id in self._forwarding.read_so_far(wanted)
        }

    async def async_set_call_forwarding(self, extension_id: str, enabled: bool) -> bool:
        """``ext.es.callfwd.set`` with ``state=yes|no``; the confirmed state."""
        body = await self._set_service("callfwd", extension_id, enabled)
        confirmed = call_forwarding(extension_id, body).enabled
        return enabled if confirmed is None else confirmed

    async def _set_service(self, service: str, extension_id: str, enabled: bool) -> Any:
        """``ext.es.<service>.set`` with ``state=yes|no``: the PBX's answer."""
        _check_id(extension_id, "extension")
        return await self._call(
            f"ext.es.{service}.set",
            write=True,
            id=extension_id,
            state="yes" if enabled else "no",
        )

    async def async_start_recording(self, extension: str) -> None:
        """``recording.start`` on the extension's (number's) call."""
        await self._recording("start", extension)

    async def async_stop_recording(self, extension: str) -> None:
        """``recording.stop`` on the extension's (number's) call."""
        await self._recording("stop", extension)

    async def _recording(self, verb: str, extension: str) -> None:
        if not _DESTINATION.fullmatch(extension):
            raise PbxInvalidInputError("A PBXware extension number is digits only")
        body = await self._call(f"recording.{verb}", write=True, ext=extension)
        recording_done(body, extension)

    @one_read(Capability.DIDS)
    async def async_get_dids(self) -> dict[str, Did]:
        """Incoming numbers from ``did.list``."""
        return parse_dids(self._at_most(Capability.DIDS, await self._call("did.list")))

    async def async_set_dnd(self, extension_id: str, enabled: bool) -> bool:
        """``ext.es.dnd.set`` with ``state=yes|no``; return the confirmed state."""
        body = await self._set_service("dnd", extension_id, enabled)
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

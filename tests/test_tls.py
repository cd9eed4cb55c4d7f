"""TLS: certificates are verified unless the user turns it off for an
on-premises PBX, and while it is off a repair issue says so.

The simulators serve HTTPS with a self-signed certificate made here, so the
tests see what aiohttp really does with the setting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import ssl
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.pbx_hub.client import VENDORS, PbxConnectionError
from custom_components.pbx_hub.clients import client_for_entry
from custom_components.pbx_hub.const import CONF_VERIFY_SSL, DOMAIN
from custom_components.pbx_hub.repairs import TLS_UNVERIFIED, issue_id
from simulator import PbxwareSimulator, SimulatorBase, TariscopeSimulator

from .conftest import setup_entry
from .vendor_sims import pbxware_settings, tariscope_settings

pytestmark = pytest.mark.slow

ON_PREMISES = sorted(
    key
    for key, spec in VENDORS.items()
    if any(field.key == CONF_VERIFY_SSL for field in spec.fields)
)


def test_on_premises_vendors_offer_the_option_verified_by_default() -> None:
    """The vendors whose server the user runs (and may give a self-signed
    certificate) have the option, on by default; the cloud vendors verify
    always.
    """
    assert ON_PREMISES == ["pbxware", "tariscope"]
    for vendor in ON_PREMISES:
        [option] = [f for f in VENDORS[vendor].fields if f.key == CONF_VERIFY_SSL]
        assert option.default is True
        assert not option.required


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pbx.local")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    folder: Path = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def _settings(vendor: str, sim: Any, verify_ssl: bool) -> dict[str, Any]:
    settings = pbxware_settings(sim) if vendor == "pbxware" else tariscope_settings(sim)
    return {**settings, "verify_ssl": verify_ssl}


@pytest.fixture(params=ON_PREMISES)
async def https_sim(
    request: pytest.FixtureRequest,
    self_signed: ssl.SSLContext,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[str, SimulatorBase]]:
    """An on-premises vendor's simulator behind a self-signed certificate.

    When the client refuses the certificate, the server's side of the
    handshake fails too, which asyncio (in debug mode, as in these tests)
    reports to the loop's exception handler: that report is the expected
    outcome here, not an error of the test.
    """
    loop = asyncio.get_running_loop()
    report = loop.call_exception_handler

    def drop_refused_handshakes(context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith(
            "Error on transport creation"
        ) and isinstance(context.get("exception"), ConnectionError | ssl.SSLError):
            return
        report(context)

    monkeypatch.setattr(loop, "call_exception_handler", drop_refused_handshakes)
    sim: SimulatorBase = (
        PbxwareSimulator(seed=1) if request.param == "pbxware" else TariscopeSimulator()
    )
    await sim.start(ssl_context=self_signed)
    assert sim.url is not None
    assert sim.url.startswith("https://")
    yield request.param, sim
    await sim.stop()


def _plain_settings(
    vendor: str, entry: MockConfigEntry, *, verify_ssl: bool
) -> dict[str, Any]:
    """The reconfigure form's answer: the entry's settings that are no secret."""
    plain = {f.key for f in VENDORS[vendor].fields if not f.secret}
    return {
        **{key: value for key, value in entry.data.items() if key in plain},
        CONF_VERIFY_SSL: verify_ssl,
    }


def _tls_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id(TLS_UNVERIFIED, entry))


async def test_the_setting_reaches_aiohttp(
    hass: HomeAssistant, https_sim: tuple[str, SimulatorBase]
) -> None:
    """Verifying, the self-signed certificate is refused before any request;
    not verifying, the client runs on Home Assistant's non-verifying session.
    """
    vendor, sim = https_sim
    verifying = client_for_entry(hass, _settings(vendor, sim, verify_ssl=True))
    assert verifying.http._session is async_get_clientsession(hass)
    with pytest.raises(PbxConnectionError):
        await verifying.async_identify()
    assert sim.request_count == 0

    trusting = client_for_entry(hass, _settings(vendor, sim, verify_ssl=False))
    assert trusting.http._session is async_get_clientsession(hass, verify_ssl=False)
    info = await trusting.async_identify()
    assert info.unique_id
    assert sim.request_count > 0


async def test_missing_option_means_verified(
    hass: HomeAssistant, https_sim: tuple[str, SimulatorBase]
) -> None:
    """An entry without the option (older entries) verifies."""
    vendor, sim = https_sim
    settings = _settings(vendor, sim, verify_ssl=True)
    del settings["verify_ssl"]
    client = client_for_entry(hass, settings)
    assert client.http._session is async_get_clientsession(hass)
    with pytest.raises(PbxConnectionError):
        await client.async_identify()
    assert sim.request_count == 0


async def test_turning_verification_off_raises_a_repair_until_it_is_on(
    hass: HomeAssistant, https_sim: tuple[str, SimulatorBase]
) -> None:
    """Off: the entry loads and a translated warning stays up. Reconfigured
    with verification on: the warning is gone (and the self-signed PBX is
    refused). Removing an entry that has verification off takes it too.
    """
    vendor, sim = https_sim
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{vendor} on premises",
        data=_settings(vendor, sim, verify_ssl=False),
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    issue = _tls_issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_key == TLS_UNVERIFIED
    assert issue.translation_placeholders == {
        "title": entry.title,
        "title_plain": entry.title,
    }
    assert not issue.is_fixable

    # A reload keeps it while the setting is off.
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _tls_issue(hass, entry) is not None

    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _plain_settings(vendor, entry, verify_ssl=True)
    )
    # Verifying, the self-signed server cannot be reached: nothing changes.
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert entry.data[CONF_VERIFY_SSL] is False
    assert _tls_issue(hass, entry) is not None

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert _tls_issue(hass, entry) is None


UNREACHABLE_HTTPS = "https://127.0.0.1:9"


async def test_reconfiguring_verification_on_clears_the_repair(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """An https:// PBX that was not verified (and cannot be reached) is
    reconfigured to verify, at an address that works (plain HTTP here): the
    warning is gone.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="PBXware",
        unique_id="127.0.0.1",
        data={**_settings("pbxware", pbxware_sim, False), "url": UNREACHABLE_HTTPS},
    )
    await setup_entry(hass, entry)
    assert _tls_issue(hass, entry) is not None
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **_plain_settings("pbxware", entry, verify_ssl=True),
            "url": pbxware_sim.url,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_VERIFY_SSL] is True
    assert _tls_issue(hass, entry) is None


async def test_a_plain_http_address_raises_no_certificate_warning(
    hass: HomeAssistant,
    pbxware_sim: PbxwareSimulator,
    tariscope_sim: TariscopeSimulator,
) -> None:
    """With verification off, an http:// address (PBXware's, or a Tariscope
    address without a scheme, which means http://) has no certificate, so
    the warning would be untrue: none is raised.
    """
    assert pbxware_sim.url is not None
    assert tariscope_sim.url is not None
    entries = [
        MockConfigEntry(
            domain=DOMAIN,
            title="PBXware",
            data=_settings("pbxware", pbxware_sim, False),
        ),
        MockConfigEntry(
            domain=DOMAIN,
            title="Tariscope",
            data={
                **_settings("tariscope", tariscope_sim, False),
                "url": tariscope_sim.url.removeprefix("http://"),
            },
        ),
    ]
    for entry in entries:
        await setup_entry(hass, entry)
        assert entry.state is ConfigEntryState.LOADED
        assert _tls_issue(hass, entry) is None


@pytest.mark.parametrize(
    ("vendor", "url", "in_clear"),
    [
        ("pbxware", "http://pbx.example.com", True),
        ("pbxware", "HTTP://pbx.example.com", True),
        ("pbxware", "https://pbx.example.com", False),
        ("pbxware", "http://[", False),
        ("tariscope", "tariscope.example.com", True),
        ("tariscope", "tariscope.example.com:8443", True),
        ("tariscope", "http://tariscope.example.com", True),
        ("tariscope", " https://tariscope.example.com ", False),
    ],
)
def test_which_addresses_send_in_clear(vendor: str, url: str, in_clear: bool) -> None:
    client_class = VENDORS[vendor].client_class
    assert client_class.sends_in_clear({"url": url}) is in_clear


async def test_a_verified_entry_raises_no_repair(
    hass: HomeAssistant, pbxware_entry: MockConfigEntry
) -> None:
    await setup_entry(hass, pbxware_entry)
    assert pbxware_entry.state is ConfigEntryState.LOADED
    assert _tls_issue(hass, pbxware_entry) is None


async def test_an_entry_that_cannot_load_still_warns(
    hass: HomeAssistant, pbxware_sim: PbxwareSimulator
) -> None:
    """The warning is about the setting, not the connection: an entry waiting
    to retry shows it too.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="PBXware",
        data={**_settings("pbxware", pbxware_sim, False), "url": UNREACHABLE_HTTPS},
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert _tls_issue(hass, entry) is not None

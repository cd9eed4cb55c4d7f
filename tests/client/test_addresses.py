"""The server address at the client's edge: what ``server_address`` refuses
(and with which reason), where requests go, and which addresses send
credentials in clear. Nothing here reaches a network.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from yarl import URL

from custom_components.pbx_hub.client import (
    VENDORS,
    PbxInvalidInputError,
    create_client,
)
from custom_components.pbx_hub.client.address import join_path
from simulator import SimulatorBase
from tests.vendor_sims import SETTINGS

pytestmark = pytest.mark.slow  # servers on loopback

ALL = sorted(VENDORS)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://someone:pa55word@pbx.example.com", "url_credentials"),
        ("https://someone@pbx.example.com", "url_credentials"),
        ("https://:pa55word@pbx.example.com", "url_credentials"),
        ("file:///etc/passwd", "url_scheme"),
        ("javascript:alert(1)", "url_scheme"),
        ("ftp://pbx.example.com", "url_scheme"),
        ("https://pbx.example.com/?x=1", "url_query"),
        ("https://pbx.example.com/#frag", "url_query"),
        ("https://pbx.example.com?", "url_query"),
        ("http://[", "url"),
        ("https://pbx.example.com:99999", "url"),
        ("https://", "url"),
    ],
)
@pytest.mark.parametrize("vendor", ALL)
def test_what_a_form_may_not_hold(vendor: str, url: str, reason: str) -> None:
    """Tariscope asks first of all for a scheme, which it reads otherwise."""
    if vendor == "tariscope" and "://" not in url:
        reason = "url_no_scheme"
    client_class = VENDORS[vendor].client_class
    with pytest.raises(PbxInvalidInputError) as refused:
        client_class.server_address({"url": url}, as_entered=True)
    assert refused.value.reason == reason


@pytest.mark.parametrize("vendor", ALL)
def test_a_saved_query_or_fragment_is_dropped(vendor: str) -> None:
    client_class = VENDORS[vendor].client_class
    url = client_class.server_address({"url": "https://pbx.example.com:8443/a/?x=1#y"})
    assert (url.host, url.path, url.query_string, url.fragment) == (
        "pbx.example.com",
        "/a/",
        "",
        "",
    )


def test_tariscope_asks_for_the_scheme_but_reads_a_saved_address_as_http() -> None:
    client_class = VENDORS["tariscope"].client_class
    with pytest.raises(PbxInvalidInputError) as refused:
        client_class.server_address({"url": "tariscope.example.com"}, as_entered=True)
    assert refused.value.reason == "url_no_scheme"
    assert str(client_class.server_address({"url": "tariscope.example.com"})) == (
        "http://tariscope.example.com:8085"
    )


@pytest.mark.parametrize(
    ("vendor", "url", "in_clear"),
    [
        ("pbxware", "http://pbx.example.com", True),
        ("pbxware", "http://192.168.1.5:8080", True),
        ("pbxware", "https://pbx.example.com", False),
        ("pbxware", "http://127.0.0.1:8080", False),
        ("pbxware", "http://127.8.9.10", False),
        ("pbxware", "http://localhost:8080", False),
        ("pbxware", "http://LOCALHOST.", False),
        ("pbxware", "http://[::1]:8080", False),
        ("pbxware", "http://user:pw@pbx.example.com", False),
        ("tariscope", "tariscope.example.com", True),
        ("tariscope", "localhost:8085", False),
        ("voipcloud", "", False),
        ("voipcenter", "", False),
        ("tim4biz", "", False),
    ],
)
def test_which_addresses_send_credentials_in_clear(
    vendor: str, url: str, in_clear: bool
) -> None:
    """Plain http to another machine; this machine's loopback crosses no
    network. An address that is refused sends nothing at all. The cloud
    vendors' defaults are https.
    """
    client_class = VENDORS[vendor].client_class
    assert client_class.sends_credentials_in_clear({"url": url}) is in_clear


@pytest.mark.parametrize(
    ("base", "name", "joined"),
    [
        ("https://h/api", "get.php", "https://h/api/get.php"),
        ("https://h/api/", "get.php", "https://h/api/get.php"),
        ("https://h", "index.php", "https://h/index.php"),
        ("https://h/a%20b/", "index.php", "https://h/a%20b/index.php"),
    ],
)
def test_join_path(base: str, name: str, joined: str) -> None:
    assert str(join_path(URL(base), name)) == joined


def _settings(vendor: str, sim: SimulatorBase, url: str) -> dict[str, Any]:
    settings = SETTINGS[vendor](sim)
    settings.pop("vendor")
    return {**settings, "url": url}


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "https://someone:pa55word@127.0.0.1:9/",
    ],
)
@pytest.mark.parametrize("vendor", ALL)
async def test_an_odd_address_is_refused_before_sending(
    vendor: str, vendor_sim: SimulatorBase, session: aiohttp.ClientSession, url: str
) -> None:
    """Refused, not "broke off after sending" (a ``PbxAnswerLostError``) nor
    aiohttp's ``ValueError`` for credentials beside an Authorization header.
    """
    client = create_client(vendor, session, _settings(vendor, vendor_sim, url))
    with pytest.raises(PbxInvalidInputError):
        await client.async_identify()
    assert vendor_sim.request_count == 0


@pytest.mark.parametrize("suffix", ["?x=1", "#frag"])
@pytest.mark.parametrize("vendor", ALL)
async def test_requests_go_to_the_address_path_whatever_its_query(
    vendor: str,
    vendor_sim: SimulatorBase,
    session: aiohttp.ClientSession,
    suffix: str,
) -> None:
    """PBXware's key once went to ``/`` instead of ``/index.php``, and
    VoipCenter's and TIM4biz's requests to the bare ``/api/``.
    """
    settings = SETTINGS[vendor](vendor_sim)
    settings.pop("vendor")
    base = URL(settings["url"]).path.rstrip("/")
    settings["url"] += suffix
    client = create_client(vendor, session, settings)
    info = await client.async_identify()
    paths = {request.path for request in vendor_sim.recent_requests}
    assert paths
    assert all(path.startswith(f"{base}/") and path != f"{base}/" for path in paths)
    if vendor == "pbxware":
        assert paths == {"/index.php"}
    assert "x=1" not in str(info.configuration_url)
    assert "frag" not in str(info.configuration_url)

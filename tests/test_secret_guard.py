"""The secret guard catches a leak in each place it watches, registers the
secrets tests configure by itself, and fails a leaking test.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
import html
import json
import logging
from pathlib import Path
import shutil
import textwrap
from urllib.parse import quote, quote_plus

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.pbx_hub.client import (
    PbxResponseError,
    create_client,
    voipcenter,
)
from custom_components.pbx_hub.client.http import decode_json
from custom_components.pbx_hub.const import DOMAIN, LOGGER
from custom_components.pbx_hub.diagnostics import async_get_config_entry_diagnostics
from simulator import PbxwareSimulator, TariscopeSimulator

from .conftest import setup_entry
from .secret_guard import SecretGuard

pytest_plugins = ["pytester"]
SECRET = "planted-secret-0123456789"


def _fail(err: Exception) -> None:
    raise err


def test_short_values_are_not_guarded(secret_guard: SecretGuard) -> None:
    secret_guard.register("abc", "", None, 12345)
    assert "abc" not in secret_guard.secrets
    secret_guard.register(SECRET)
    assert SECRET in secret_guard.secrets


def test_a_secret_in_a_log_record(secret_guard: SecretGuard) -> None:
    """In the message, the arguments or an exception's text; URL-encoded too."""
    secret_guard.register(SECRET, "with space&amp")
    assert secret_guard.findings() == []
    LOGGER.debug("sent %s", SECRET)
    assert secret_guard.findings() == [f"log {LOGGER.name}:DEBUG: pla...89"]
    secret_guard.forget_findings()

    logging.getLogger("somewhere.else").warning("url ?key=with%20space%26amp")
    assert len(secret_guard.findings()) == 1
    secret_guard.forget_findings()

    try:
        _fail(ValueError(f"bad {SECRET}"))
    except ValueError:
        LOGGER.exception("failed")
    assert secret_guard.findings() == [f"log {LOGGER.name}:ERROR: pla...89"]
    secret_guard.forget_findings()
    assert secret_guard.findings() == []


KEY_WITH_SEPARATORS = "k3y/with+plus=eq&amp\\back€"
DENSE_KEY = "a&b'c/d&e'f/g&h'i/j&k'l/m&n"
"""Escaped for HTML or PHP, no 12 characters of it are left in a row."""


@pytest.mark.parametrize(
    "leak",
    [
        pytest.param(
            lambda: str(URL("http://x/").with_query(apikey=KEY_WITH_SEPARATORS)),
            id="yarl-query",
        ),
        pytest.param(lambda: quote_plus(KEY_WITH_SEPARATORS), id="quote_plus"),
        pytest.param(lambda: json.dumps({"k": KEY_WITH_SEPARATORS}), id="json"),
        pytest.param(lambda: repr({"k": KEY_WITH_SEPARATORS}), id="repr"),
        pytest.param(lambda: f"body {KEY_WITH_SEPARATORS[3:15]}...", id="truncated"),
        pytest.param(lambda: html.escape(DENSE_KEY), id="html"),
        pytest.param(
            lambda: html.escape(DENSE_KEY).replace("&#x27;", "&#39;"), id="html-39"
        ),
        pytest.param(
            lambda: json.dumps(DENSE_KEY)[1:-1].replace("/", "\\/"), id="php-json"
        ),
        pytest.param(
            lambda: quote(KEY_WITH_SEPARATORS, safe="").lower(), id="percent-lower"
        ),
        pytest.param(KEY_WITH_SEPARATORS.upper, id="upper-cased"),
        pytest.param(lambda: f"{SECRET.upper()[:14]}", id="upper-cased-piece"),
    ],
)
def test_an_encoded_or_truncated_secret_in_a_log_record(
    secret_guard: SecretGuard, leak: Callable[[], str]
) -> None:
    """A key logged inside a request URL (yarl keeps ``/``, encodes ``+``,
    ``=`` and ``&``), form-, JSON-, PHP-, HTML- or repr-escaped, in another
    case (``%2f``), or cut to 12 characters.
    """
    secret_guard.register(KEY_WITH_SEPARATORS, DENSE_KEY, SECRET)
    LOGGER.debug("sent %s", leak())
    assert len(secret_guard.findings()) == 1
    secret_guard.forget_findings()


def test_a_short_piece_of_a_secret_is_no_finding(secret_guard: SecretGuard) -> None:
    """Eleven characters of a long secret, or a short secret's own piece, are
    ordinary text; a short secret is found only whole.
    """
    secret_guard.register(SECRET, "short-pw")
    LOGGER.debug("%s and %s", SECRET[:11], "short-")
    assert secret_guard.findings() == []
    LOGGER.debug("%s", "short-pw")
    assert len(secret_guard.findings()) == 1
    secret_guard.forget_findings()


def test_of_a_jwt_only_a_piece_of_its_signature_is_a_finding(
    secret_guard: SecretGuard,
) -> None:
    """Another token of the same issuer shares the header and most claims;
    sharing them is no leak, showing the signature is.
    """
    header, claims = "eyJhbGciOiJIUzI1NiJ9", "eyJleHAiOjIwMDAwMDAwMDB9"
    token = f"{header}.{claims}.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
    secret_guard.register(token)
    LOGGER.debug("other token %s.%s.b3RoZXI", header, claims)
    assert secret_guard.findings() == []
    LOGGER.debug("cut %s", token.rsplit(".", 1)[1][:12])
    assert len(secret_guard.findings()) == 1
    secret_guard.forget_findings()


def test_a_secret_in_an_error_raised_to_home_assistant(
    secret_guard: SecretGuard,
) -> None:
    """In a Home Assistant error's placeholders or in the library error it
    was raised from; a library error that reached a caller; not one the
    library caught and replaced with a redacted one.
    """
    secret_guard.register(SECRET)
    HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="cannot_connect",
        translation_placeholders={"error": SECRET},
    )
    assert secret_guard.findings()
    secret_guard.forget_findings()

    def failing_action() -> None:
        try:
            _fail(PbxResponseError(f"echo {SECRET}"))
        except PbxResponseError as err:
            raise HomeAssistantError("failed") from err

    with pytest.raises(HomeAssistantError):
        failing_action()
    assert secret_guard.findings() == ["exception PbxResponseError: pla...89"]
    secret_guard.forget_findings()

    with pytest.raises(PbxResponseError):
        decode_json(f"<html>{SECRET}</html>")
    assert secret_guard.findings() == ["exception PbxResponseError: pla...89"]
    secret_guard.forget_findings()

    client = create_client("pbxware", None, {"url": "http://x", "api_key": SECRET})  # type: ignore[arg-type]
    with pytest.raises(PbxResponseError) as caught:
        client.http.decode_json(f"<html>{SECRET}</html>")
    assert SECRET not in str(caught.value)
    assert secret_guard.findings() == []


@pytest.mark.slow
async def test_secrets_of_entries_and_clients_register_themselves(
    hass: HomeAssistant,
    secret_guard: SecretGuard,
    pbxware_sim: PbxwareSimulator,
    pbxware_entry: MockConfigEntry,
) -> None:
    """Nothing registered by hand: the entry's key is found in a state, a
    repair issue, a diagnostics dump and a snapshot file.
    """
    await setup_entry(hass, pbxware_entry)
    key = pbxware_sim.api_key
    assert secret_guard.findings(hass) == []
    assert key in secret_guard.secrets

    hass.states.async_set("sensor.leak", "on", {"detail": f"key={key}"})
    assert secret_guard.findings(hass) == ["state of sensor.leak: sim...89"]
    hass.states.async_remove("sensor.leak")

    ir.async_create_issue(
        hass,
        DOMAIN,
        "leak",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="rate_limited",
        translation_placeholders={"title": key},
    )
    assert secret_guard.findings(hass) == ["repair issue leak: sim...89"]
    ir.async_delete_issue(hass, DOMAIN, "leak")

    dump = await async_get_config_entry_diagnostics(hass, pbxware_entry)
    assert key not in repr(dump)
    secret_guard.diagnostics.append({"data": {"api_key": key}})
    assert secret_guard.findings(hass) == ["diagnostics: sim...89"]
    secret_guard.forget_findings()

    snapshot = Path(hass.config.config_dir) / "leak.ambr"
    snapshot.write_text(f"'{key}'")
    assert secret_guard.findings(hass, snapshot) == ["snapshot leak.ambr: sim...89"]
    assert secret_guard.findings(hass) == []


def test_derived_secrets_register_themselves(secret_guard: SecretGuard) -> None:
    """VoipCenter's stored hash, and a Basic auth header of user and password."""
    create_client(
        "voipcenter",
        None,  # type: ignore[arg-type]
        {
            "api_id": "id",
            "api_key": "k" * 20,
            "customer_number": "1",
            "password": SECRET,
        },
    )
    assert voipcenter.password_hash(SECRET) in secret_guard.secrets
    create_client("tim4biz", None, {"username": "ann", "password": SECRET})  # type: ignore[arg-type]
    assert base64.b64encode(f"ann:{SECRET}".encode()).decode() in secret_guard.secrets


async def test_a_password_in_a_server_address_is_a_secret(
    hass: HomeAssistant, secret_guard: SecretGuard
) -> None:
    """Registered with the settings, and found where the address shows: a
    device's configuration URL.
    """
    url = f"https://someone:{SECRET}@pbx.example.com"
    secret_guard.register_settings("pbxware", {"url": url, "api_key": "k" * 12})
    assert SECRET in secret_guard.secrets
    assert f"someone:{SECRET}" in secret_guard.secrets
    entry = MockConfigEntry(domain=DOMAIN, data={"vendor": "pbxware"})
    entry.add_to_hass(hass)
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, "pbx")},
        name="PBXware",
        configuration_url=url,
    )
    assert set(secret_guard.findings(hass)) == {
        "device PBXware: pla...89",
        "device PBXware: som...89",
    }
    dr.async_get(hass).async_clear_config_entry(entry.entry_id)
    assert secret_guard.findings(hass) == []


async def test_tokens_the_tariscope_simulator_issues(
    secret_guard: SecretGuard,
) -> None:
    sim = TariscopeSimulator()
    token = sim.issue_token(sim.username, "127.0.0.1")
    assert token in secret_guard.secrets


LEAKING_TESTS = """
    import pytest

    from custom_components.pbx_hub.const import LOGGER

    SECRET = "planted-secret-0123456789"


    def test_clean(secret_guard):
        secret_guard.register(SECRET)


    def test_leaks(secret_guard):
        secret_guard.register(SECRET)
        LOGGER.info("the key is %s", SECRET)


    @pytest.mark.handles_secrets("shows that the opt-out works")
    def test_leaks_on_purpose(secret_guard):
        secret_guard.register(SECRET)
        LOGGER.info("the key is %s", SECRET)


    @pytest.mark.handles_secrets
    def test_opts_out_without_a_reason(secret_guard):
        pass
"""


def test_a_leaking_test_fails(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real fixture, in a pytest run of its own: the leaking test errors
    at teardown naming where the secret was; the others pass.
    """
    here = Path(__file__).parent
    package = pytester.mkpydir("tests")
    # conftest.py and the helper modules it imports (not the test modules).
    for helper in here.glob("*.py"):
        if not helper.name.startswith("test_"):
            shutil.copy(helper, package / helper.name)
    (package / "test_leaks.py").write_text(textwrap.dedent(LEAKING_TESTS))
    shutil.copy(here.parent / "pyproject.toml", pytester.path / "pyproject.toml")
    monkeypatch.setenv("PYTHONPATH", str(here.parent))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    result.assert_outcomes(passed=4, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*A configured secret leaked:*",
            "*log custom_components.pbx_hub:INFO: pla...89*",
            "*handles_secrets needs a reason*",
        ]
    )
    assert "test_leaks_on_purpose" not in "\n".join(
        line for line in result.outlines if line.startswith("ERROR")
    )

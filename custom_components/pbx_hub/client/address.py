"""The server address a user gives: what is refused in it, and how request
URLs are built on it.

A user name and password in the address (``https://user:pass@host``) would be
sent as Basic auth to whatever answers there and shown wherever the address is
(a device's configuration URL): they are refused. Only ``http`` and ``https``
are addresses of a PBX (``file:`` or ``javascript:`` are no server). A query
or fragment has no meaning in a base address: the form refuses it, and the
clients drop it, so that an entry saved with one still sends its requests to
the right path.
"""

from __future__ import annotations

import ipaddress

from yarl import URL

from .exceptions import PbxInvalidInputError

WEB_SCHEMES = frozenset({"http", "https"})

URL_INVALID = "url"
URL_SCHEME = "url_scheme"
URL_CREDENTIALS = "url_credentials"
URL_QUERY = "url_query"
URL_NO_SCHEME = "url_no_scheme"
URL_REASONS = (URL_INVALID, URL_SCHEME, URL_CREDENTIALS, URL_QUERY, URL_NO_SCHEME)
"""The ``reason`` of each ``PbxInvalidInputError`` about an address, for a
caller to explain in its own words.
"""


def server_url(text: str) -> URL:
    """``text`` as a URL, or ``PbxInvalidInputError``: yarl raises
    ``ValueError`` for an address such as ``http://[`` or a port over 65535.
    """
    try:
        return URL(text)
    except ValueError:
        raise PbxInvalidInputError(
            "The server address is not a valid URL", reason=URL_INVALID
        ) from None


def check_target(url: URL) -> None:
    """Refuse a request to ``url`` unless it is ``http`` or ``https`` with a
    host and carries no user name or password: nothing is sent then.
    """
    if url.scheme.lower() not in WEB_SCHEMES:
        raise PbxInvalidInputError(
            "The server address must start with https:// or http://",
            reason=URL_SCHEME,
        )
    if not url.host:
        raise PbxInvalidInputError(
            "The server address names no host", reason=URL_INVALID
        )
    if url.raw_user is not None or url.raw_password is not None:
        raise PbxInvalidInputError(
            "The server address holds a user name or password: remove it",
            reason=URL_CREDENTIALS,
        )


def base_url(text: str, *, as_entered: bool = False) -> URL:
    """``text`` as the base of every request: ``check_target`` passed, query
    and fragment dropped. ``as_entered`` (a form's answer) refuses a query or
    fragment instead, so that the user sees what is not used.
    """
    text = text.strip()
    url = server_url(text)
    check_target(url)
    if as_entered and ("?" in text or "#" in text):
        raise PbxInvalidInputError(
            "The server address cannot hold a query (?) or fragment (#)",
            reason=URL_QUERY,
        )
    return url.with_query(None).with_fragment(None)


def join_path(base: URL, name: str) -> URL:
    """``base`` with ``name`` added to its path: ``https://h/api`` and
    ``https://h/api/`` with ``get.php`` are both ``https://h/api/get.php``.
    """
    return base.with_path(f"{base.raw_path.rstrip('/')}/{name}", encoded=True)


def is_loopback(url: URL) -> bool:
    """Whether ``url``'s host is this machine (``localhost``, ``127.0.0.0/8``,
    ``::1``): what is sent there crosses no network.
    """
    host = (url.host or "").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

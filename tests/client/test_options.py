"""The options' excluded extensions leave the listed ones they name."""

from __future__ import annotations

from custom_components.pbx_hub.client.options import (
    EXCLUDED_EXTENSIONS,
    followed_extensions,
)


def test_followed_extensions_are_the_listed_ones_not_excluded() -> None:
    listed = {"1": "Arthur", "2": "Bea", "3": "Cas"}
    options = {EXCLUDED_EXTENSIONS: ["2", "9"]}
    assert followed_extensions(listed, options) == {"1": "Arthur", "3": "Cas"}
    assert followed_extensions(listed, {}) == listed
    # Not listed (yet): none to follow, whatever the options.
    assert followed_extensions(None, options) == {}

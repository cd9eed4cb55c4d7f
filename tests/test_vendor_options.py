"""The options each vendor declares are translated, and their checks' form
errors too, in every language (the options flow knows none of them by name).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.pbx_hub.client import VENDORS, PbxInvalidInputError

COMPONENT = Path(__file__).parent.parent / "custom_components" / "pbx_hub"
LANGUAGES = {
    path.stem: json.loads(path.read_text())
    for path in (COMPONENT / "translations").glob("*.json")
}


@pytest.mark.parametrize("vendor", list(VENDORS))
@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_declared_options_are_translated(vendor: str, language: str) -> None:
    options: dict[str, Any] = LANGUAGES[language]["options"]
    step = options["step"]["init"]
    for field in VENDORS[vendor].options:
        assert field.key in step["data"], field.key
        assert field.key in step["data_description"], field.key
        if field.check is not None:
            assert f"invalid_{field.key}" in options["error"], field.key


def test_the_checks_refuse_and_normalise() -> None:
    fields = {field.key: field for field in VENDORS["tim4biz"].options}
    recipient, currency = fields["sms_recipient"].check, fields["currency"].check
    assert recipient is not None
    assert currency is not None
    assert recipient("+31 6 1234 5678") == "+31612345678"
    assert currency(" eur ") == "EUR"
    for check, wrong in ((recipient, "12"), (currency, "euro")):
        with pytest.raises(PbxInvalidInputError):
            check(wrong)

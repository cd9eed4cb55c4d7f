"""What the fast tier stands on: a mocked client that is no looser than the
class it mocks, and fixtures that are exactly its models.
"""

from __future__ import annotations

import json
from unittest.mock import MagicMock

from mashumaro.codecs.basic import encode
import pytest

from custom_components.pbx_hub.client import VENDORS

from .models import FIXTURES, load_models, model_type


async def test_the_mock_has_only_what_the_class_has(mock_client: MagicMock) -> None:
    with pytest.raises(AttributeError):
        mock_client.async_get_extension  # noqa: B018  (a typo of async_get_extensions)
    with pytest.raises(TypeError):
        await mock_client.async_identify("unexpected argument")


@pytest.mark.parametrize("vendor", list(VENDORS))
def test_fixtures_hold_nothing_their_model_drops(vendor: str) -> None:
    """Each fixture decodes into its model and encodes back the same: no field
    the model does not know (a renamed one, say) is silently left out.
    """
    client_class = VENDORS[vendor].client_class
    models = load_models(vendor)
    assert "identify" in models
    for name, value in models.items():
        recorded = json.loads(
            (FIXTURES / vendor / "models" / f"{name}.json").read_text()
        )
        assert encode(value, model_type(client_class, name)) == recorded, name

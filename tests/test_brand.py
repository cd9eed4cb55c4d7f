"""The brand images Home Assistant (2026.3 and later) serves for PBX Hub from
custom_components/pbx_hub/brand, at the sizes the brands rules ask for.
"""

from __future__ import annotations

from pathlib import Path

from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.util.yaml import load_yaml_dict
from PIL import Image

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "pbx_hub"
BRAND = INTEGRATION / "brand"


def test_brand_images_have_the_names_home_assistant_serves() -> None:
    names = {path.name for path in BRAND.iterdir()}
    assert {"icon.png", "icon@2x.png", "logo.png", "logo@2x.png"} <= names
    assert names <= ALLOWED_IMAGES


def test_brand_images_have_the_brands_sizes() -> None:
    """Icons square at 256 and 512 px; a logo's shortest side 128 to 256 px
    (256 to 512 at @2x); @2x twice its 1x; transparent around the drawing.
    """
    for path in sorted(BRAND.glob("*.png")):
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.mode == "RGBA", path.name
            width, height = image.size
            double = "@2x" in path.name
            if "icon" in path.name:
                assert image.size == ((512, 512) if double else (256, 256))
            else:
                low, high = (256, 512) if double else (128, 256)
                assert low <= min(width, height) <= high, path.name
                assert width >= height, path.name
            assert image.getpixel((0, 0))[3] == 0, f"{path.name}: not transparent"
        if double:
            with Image.open(BRAND / path.name.replace("@2x", "")) as single:
                assert image.size == (single.size[0] * 2, single.size[1] * 2)


def test_quality_scale_marks_brands_done() -> None:
    rules = load_yaml_dict(str(INTEGRATION / "quality_scale.yaml"))["rules"]
    assert rules["brands"]["status"] == "done"

"""The brand images in custom_components/pbx_hub/brand are what their SVG
sources in docs/brand draw: rendered again here, with the same Chromium.
"""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageStat

from devtools.brand import BRAND, render_all

MEAN_DIFFERENCE = 0.5
"""Per channel, out of 255: room for another Chromium's anti-aliasing, not for
another drawing."""


def test_brand_images_are_rendered_from_their_sources() -> None:
    rendered = render_all()
    assert sorted(rendered) == sorted(p.name for p in BRAND.glob("*.png"))
    for name, data in rendered.items():
        with Image.open(io.BytesIO(data)) as fresh, Image.open(BRAND / name) as kept:
            assert fresh.size == kept.size, f"{name}: run scripts/render-brand"
            difference = ImageChops.difference(
                fresh.convert("RGBA"), kept.convert("RGBA")
            )
            worst = max(ImageStat.Stat(difference).mean)
            assert worst <= MEAN_DIFFERENCE, f"{name}: run scripts/render-brand"


def test_rendering_is_reproducible() -> None:
    assert render_all() == render_all()

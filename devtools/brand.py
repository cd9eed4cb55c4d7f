"""Render PBX Hub's brand images from their SVG sources (``scripts/render-brand``).

Home Assistant (2026.3 and later) serves a custom integration's own images from
its ``brand/`` folder at ``/api/brands/integration/<domain>/<image>``, before the
brands CDN, which no longer takes custom integrations. The sources are in
``docs/brand/``; headless Chromium draws them (the one the browser tests use) and
Pillow writes the PNGs without metadata, so the same sources and browser give
the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import os
from pathlib import Path
import sys

from PIL import Image
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "brand"
BRAND = ROOT / "custom_components" / "pbx_hub" / "brand"
CHROMIUM = os.environ.get("PBX_HUB_CHROMIUM", "/usr/bin/chromium")
DARK_TEXT = "#e8eef2"
"""The wordmark's colour on a dark theme; the mark itself reads on both."""


@dataclass(frozen=True, kw_only=True)
class BrandImage:
    """One PNG Home Assistant asks for, and what it is drawn from."""

    name: str
    source: str
    scale: int
    color: str | None = None
    """The ``color`` the wordmark is drawn in, where not the source's own."""


IMAGES = (
    BrandImage(name="icon.png", source="icon.svg", scale=1),
    BrandImage(name="icon@2x.png", source="icon.svg", scale=2),
    BrandImage(name="logo.png", source="logo.svg", scale=1),
    BrandImage(name="logo@2x.png", source="logo.svg", scale=2),
    BrandImage(name="dark_logo.png", source="logo.svg", scale=1, color=DARK_TEXT),
    BrandImage(name="dark_logo@2x.png", source="logo.svg", scale=2, color=DARK_TEXT),
)
"""The icon is a filled tile that reads on light and dark themes alike, so it
has no dark variant (Home Assistant falls back to ``icon.png``); the logo's
wordmark does. Icons are 256 and 512 px square; logos 128 and 256 px high (the
brands rules: a logo's shortest side 128 to 256 px, twice that at @2x).
"""
LOGO_HEIGHT = 128
"""The sources are drawn at twice the size of the 1x images."""


def render(browser: Browser, image: BrandImage) -> bytes:
    """The PNG of one image: the source drawn on a transparent background."""
    source = SOURCES / image.source
    width, height = _size(source.read_text())
    factor = LOGO_HEIGHT / height if image.source == "logo.svg" else 1.0
    context = browser.new_context(
        viewport={"width": round(width * factor), "height": round(height * factor)},
        device_scale_factor=image.scale,
    )
    try:
        page = context.new_page()
        page.goto(source.as_uri())
        page.evaluate(
            """([factor, color]) => {
                const svg = document.documentElement;
                svg.setAttribute("width", svg.viewBox.baseVal.width * factor);
                svg.setAttribute("height", svg.viewBox.baseVal.height * factor);
                if (color) svg.setAttribute("color", color);
            }""",
            [factor, image.color],
        )
        # The logo's mark is an <image>: wait until it is drawn.
        page.wait_for_load_state("load")
        page.wait_for_function(
            "Array.from(document.images ?? []).every(i => i.complete ?? true)"
        )
        shot = page.screenshot(omit_background=True, animations="disabled")
    finally:
        context.close()
    return _clean_png(shot)


def _size(svg: str) -> tuple[float, float]:
    """The width and height the source's ``viewBox`` declares."""
    start = svg.index('viewBox="') + len('viewBox="')
    _, _, width, height = (float(v) for v in svg[start : svg.index('"', start)].split())
    return width, height


def _clean_png(data: bytes) -> bytes:
    """RGBA without Chromium's metadata, compressed the same way every time."""
    with Image.open(io.BytesIO(data)) as shot:
        pixels = shot.convert("RGBA")
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_all() -> dict[str, bytes]:
    """Every brand image by file name."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            return {image.name: render(browser, image) for image in IMAGES}
        finally:
            browser.close()


def main() -> int:
    """Write the images into the integration's ``brand/`` folder."""
    BRAND.mkdir(exist_ok=True)
    for name, data in render_all().items():
        (BRAND / name).write_bytes(data)
        with Image.open(BRAND / name) as written:
            print(
                f"{BRAND.relative_to(ROOT) / name}: {written.size[0]}x{written.size[1]}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

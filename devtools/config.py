"""A Home Assistant configuration directory for development: PBX Hub linked in
from the checkout, plus the offline stand-ins (see :mod:`devtools.offline`).

``python -m devtools.config DIR``; the browser tests call :func:`prepare`.
"""

from __future__ import annotations

from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent
LINKED = {
    "pbx_hub": ROOT / "custom_components" / "pbx_hub",
    "radio_browser": ROOT / "devtools" / "offline" / "radio_browser",
}


def prepare(config_dir: Path) -> None:
    """Link the integrations into ``config_dir/custom_components``."""
    components = config_dir / "custom_components"
    components.mkdir(parents=True, exist_ok=True)
    for name, target in LINKED.items():
        link = components / name
        if link.is_symlink() or link.exists():
            if link.resolve() == target:
                continue
            link.unlink()
        link.symlink_to(target, target_is_directory=True)


if __name__ == "__main__":
    prepare(Path(sys.argv[1]))

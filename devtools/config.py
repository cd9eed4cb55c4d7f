"""A Home Assistant configuration directory for development: PBX Hub linked in
from the checkout, plus the offline stand-ins (see :mod:`devtools.offline`).

``python -m devtools.config DIR``; the browser tests call :func:`prepare` and
:func:`store_http_config`.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import sys
import warnings

ROOT = Path(__file__).resolve().parent.parent
LINKED = {
    "pbx_hub": ROOT / "custom_components" / "pbx_hub",
    "radio_browser": ROOT / "devtools" / "offline" / "radio_browser",
}
SENTENCES = ROOT / "examples" / "custom_sentences"
"""PBX Hub's example voice sentences, one folder per language."""


def prepare(config_dir: Path) -> None:
    """Link the integrations into ``config_dir/custom_components`` and PBX
    Hub's example sentences into ``custom_sentences``, as the README tells a
    user to.
    """
    for language in SENTENCES.iterdir():
        _link(
            config_dir / "custom_sentences" / language.name / "pbx_hub.yaml",
            language / "pbx_hub.yaml",
        )
    for name, target in LINKED.items():
        _link(config_dir / "custom_components" / name, target)


def _link(link: Path, target: Path) -> None:
    """Make ``link`` point at ``target``, replacing a link elsewhere."""
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() or link.exists():
        if link.resolve() == target:
            return
        link.unlink()
    link.symlink_to(target, target_is_directory=target.is_dir())


def store_http_config(config_dir: Path, host: str, port: int) -> None:
    """Make Home Assistant's HTTP server listen on ``host:port`` from its first
    start, without the ``http:`` YAML (deprecated in 2026.11: Home Assistant
    migrates it once into this store and raises a repair issue).

    In 2026.10 the HTTP settings live in the ``http`` store (what Settings >
    System > Network edits): a confirmed ``stable`` slot, no ``pending`` trial,
    and the YAML migration marked done. The slot goes through Home Assistant's
    own schema, so it holds every key with its default, as the store does.
    """
    # Imported here: Home Assistant's http package brings its web server along,
    # and aiohttp warns (DeprecationWarning) about its Application subclass, which
    # is Home Assistant's business; `python -m devtools.config` needs none of it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from homeassistant.components.http.config import (  # noqa: PLC0415
            HTTP_STORAGE_SCHEMA,
            STORAGE_KEY,
            STORAGE_MINOR_VERSION,
            STORAGE_VERSION,
        )
        from homeassistant.helpers.storage import STORAGE_DIR  # noqa: PLC0415

    stable = HTTP_STORAGE_SCHEMA({"server_host": [host], "server_port": port})
    stable |= {
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    store = {
        "version": STORAGE_VERSION,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": STORAGE_KEY,
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }
    path = config_dir / STORAGE_DIR / STORAGE_KEY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")


if __name__ == "__main__":
    prepare(Path(sys.argv[1]))

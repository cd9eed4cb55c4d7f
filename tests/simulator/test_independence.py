"""The simulators are written from the vendor documents, never from the client:
a bug copied into both would pass every test.
"""

from __future__ import annotations

import ast
from pathlib import Path

SIMULATOR = Path(__file__).parent.parent.parent / "simulator"


def test_no_simulator_module_imports_the_integration() -> None:
    offenders: list[str] = []
    for path in sorted(SIMULATOR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in ("custom_components", "homeassistant")
            ]
    assert len(list(SIMULATOR.glob("*.py"))) > 5
    assert offenders == []

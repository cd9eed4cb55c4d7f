"""The Home Assistant layer's modules import each other without cycles, and
the config flow does without the coordinators.
"""

from __future__ import annotations

import ast
from pathlib import Path

COMPONENT = Path(__file__).parent.parent / "custom_components" / "pbx_hub"


def _imports() -> dict[str, set[str]]:
    """Each module of the layer, and the layer's modules it imports (the
    client package aside).
    """
    graph: dict[str, set[str]] = {}
    for path in COMPONENT.glob("*.py"):
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    imported.add(node.module.split(".")[0])
                else:
                    imported |= {alias.name for alias in node.names}
        graph[path.stem] = imported - {"client"}
    return graph


def _reached(graph: dict[str, set[str]], start: str) -> set[str]:
    reached: set[str] = set()
    todo = [start]
    while todo:
        for module in graph.get(todo.pop(), set()) - reached:
            reached.add(module)
            todo.append(module)
    return reached


def test_no_import_cycles() -> None:
    graph = _imports()
    assert {"coordinator", "helpers", "repairs", "config_flow"} <= set(graph)
    cyclic = {module for module in graph if module in _reached(graph, module)}
    assert not cyclic


def test_config_flow_does_not_import_the_coordinators() -> None:
    reached = _reached(_imports(), "config_flow")
    assert "helpers" in reached
    assert "coordinator" not in reached

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


FINAL_OR_PRIVATE = {
    "_async_write_ha_state",
    "async_write_ha_state",
    "_async_update_ha_state",
    "async_internal_added_to_hass",
}
"""Home Assistant entity methods that are final or private to it."""


def test_no_entity_overrides_a_final_or_private_method() -> None:
    """Entities keep their saving of state writes through public means only."""
    defined = {
        f"{path.name}: {node.name}"
        for path in COMPONENT.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name in FINAL_OR_PRIVATE
    }
    assert defined == set()


def test_entities_read_coordinators_not_the_client() -> None:
    """No platform module reads the client's data (its rate limits, say):
    entities show what their topic's coordinator read.
    """
    platforms = ("sensor", "binary_sensor", "switch", "event", "select", "entity")
    reads = {
        f"{name}: {node.attr}"
        for name in platforms
        for node in ast.walk(ast.parse((COMPONENT / f"{name}.py").read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in {"rate_limit_status", "http", "notices", "measured_cost"}
    }
    assert reads == set()

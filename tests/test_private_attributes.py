"""No test sets (or monkeypatches) a private attribute of the project's
objects: where a test needs a knob (a timeout, a clock, the end of a pause),
the public API has one. Nor does a new test read one: it tests through
public behaviour.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
import re

TESTS = Path(__file__).parent
PRIVATE_ASSIGNMENT = re.compile(
    r"^\s*(?!self\.)[\w.\[\]\"']+\._[a-z]\w* *[+\-]?= "
    r"|setattr\([^,]+, \"_[a-z]\w*\""
)


def test_no_test_sets_a_private_attribute() -> None:
    found = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__)  # its own examples
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if PRIVATE_ASSIGNMENT.search(line)
    ]
    assert not found, "\n".join(found)


def test_the_check_finds_one() -> None:
    found = PRIVATE_ASSIGNMENT.search
    assert found("    client.http._timeout = 0.3")
    assert found("budget._paused_until = 0.0")
    assert found('    monkeypatch.setattr(client, "_request", request)')
    assert not found("        self._clock = clock")
    assert not found("client.http.request_timeout = 1")
    assert not found('monkeypatch.setattr(voipcloud, "PAGE_SIZE", 4)')


READS_LEFT = {
    "client/test_base.py": 1,
    "client/test_fuzz_parsers.py": 6,
    "client/test_tariscope_client.py": 7,
    "client/test_tim4biz_client.py": 3,
    "fast/test_states.py": 1,
    "simulator/test_simulator.py": 3,
    "simulator/test_voipcloud.py": 1,
    "test_examples.py": 4,
    "test_tim4biz.py": 1,
    "test_tls.py": 3,
}
"""Reads of private attributes older than this check, per file: their count
may only go down (the check asks to lower it when it does)."""


def _private_reads(source: str) -> list[str]:
    """``x._name`` read anywhere but on ``self``, ``cls`` or ``super()``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not re.fullmatch(
            r"_[a-z]\w*", node.attr
        ):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in {"self", "cls"}:
            continue
        if isinstance(owner, ast.Call) and ast.unparse(owner.func) == "super":
            continue
        found.append(ast.unparse(node))
    return found


def test_no_new_test_reads_a_private_attribute() -> None:
    reads = Counter(
        {
            str(path.relative_to(TESTS)): len(_private_reads(path.read_text()))
            for path in sorted(TESTS.rglob("*.py"))
            if path != Path(__file__)
        }
    )
    assert +reads == READS_LEFT


def test_the_read_check_finds_one() -> None:
    source = "attempts = entry.runtime_data.push._channel.attempts\n"
    assert _private_reads(source) == ["entry.runtime_data.push._channel"]
    assert _private_reads("self._clock()\nsuper()._handle()\ncls._x\n") == []
    assert _private_reads("channel.attempts\nfeed.__class__\n") == []

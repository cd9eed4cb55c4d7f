"""No test sets (or monkeypatches) a private attribute of the project's
objects: where a test needs a knob (a timeout, a clock, the end of a pause),
the public API has one.
"""

from __future__ import annotations

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

"""Names the PBX chooses, made safe to show: titles on one short, visible line,
markdown that renders as itself, and labels that each lead to one id.
"""

from __future__ import annotations

import pytest

from custom_components.pbx_hub.client.models import DestinationType, Did, Extension
from custom_components.pbx_hub.client.titles import (
    MAX_TITLE_LENGTH,
    did_route,
    entry_title,
    markdown_escape,
    name_and_number,
    title_placeholders,
    unique_labels,
)


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Head office", "Head office"),
        ("  Head\toffice\r\n(Ghent) ", "Head office (Ghent)"),
        ("Head\x00 office\u202e\u200b", "Head office"),
        ("Line\u2028break", "Line break"),
        ("\x00\u200b", ""),
        ("x" * 500, "x" * (MAX_TITLE_LENGTH - 1) + "…"),
    ],
)
def test_entry_title(name: str, title: str) -> None:
    assert entry_title(name) == title


def test_markdown_escape() -> None:
    assert (
        markdown_escape("[a](b) **c** <d> `e` #1 & f_g")
        == r"\[a\]\(b\) \*\*c\*\* \<d\> \`e\` \#1 \& f\_g"
    )
    assert markdown_escape("Head office 2") == "Head office 2"


def test_select_labels_keep_ids_apart() -> None:
    """Two routes with one name, and a route called "none": each label leads
    to one id, and "none" stays the empty choice.
    """
    labels = unique_labels(
        {"140": "Onthaal", "141": "onthaal", "142": "None", "143": "Nacht"},
        reserved="none",
    )
    assert labels == {
        "140": "Onthaal (140)",
        "141": "onthaal (141)",
        "142": "None (142)",
        "143": "Nacht",
    }


def test_title_placeholders_escape_only_the_markdown_one() -> None:
    assert title_placeholders(" [Head]\noffice ") == {
        "title": r"\[Head\] office",
        "title_plain": "[Head] office",
    }


@pytest.mark.parametrize(
    ("name", "number", "shown"),
    [
        ("Alice", "101", "Alice (101)"),
        ("101", "101", "101"),
        (None, "101", "101"),
        ("", "101", "101"),
    ],
)
def test_name_and_number(name: str | None, number: str, shown: str) -> None:
    assert name_and_number(name, number) == shown


EXTENSIONS = {"e7": Extension(id="e7", number="101", name="Arthur Hermans")}


def _did(kind: DestinationType, destination: str, enabled: bool | None) -> Did:
    return Did(
        id="d1",
        number="+3212345678",
        destination_type=kind,
        destination=destination,
        enabled=enabled,
    )


def test_a_did_route_names_the_extension_it_rings() -> None:
    ext = DestinationType.EXTENSION
    # An extension is found by its number (not its id) and shown by name.
    assert (
        did_route(_did(ext, "101", True), "Extension", EXTENSIONS, "off")
        == "Extension Arthur Hermans (101)"
    )
    # Not listed (or the list not read): the number as read.
    assert did_route(_did(ext, "102", None), "Extension", None, "off") == (
        "Extension 102"
    )
    # Only an extension is looked up; a disabled route says so.
    assert (
        did_route(_did(DestinationType.QUEUE, "101", False), "Queue", EXTENSIONS, "off")
        == "Queue 101 (off)"
    )
    assert did_route(_did(ext, "", None), "Hang up", None, "off") == "Hang up"

"""Who a voice request names: a number or a full name is exact and wins over a
first name that several people share.
"""

from __future__ import annotations

from custom_components.pbx_hub.client.action_input import Refusal
from custom_components.pbx_hub.client.people import (
    Person,
    count_total,
    match_people,
    one_person,
)

ALICE = Person(device_id="d1", number="101", name="Alice Smith")
ALICE_JONES = Person(device_id="d2", number="102", name="Alice Jones (102)")
BOB = Person(device_id="d3", number="103", name="Bob")
PEOPLE = (ALICE, ALICE_JONES, BOB)


def test_a_number_or_full_name_is_one_person() -> None:
    assert match_people(PEOPLE, "101") == [ALICE]
    assert match_people(PEOPLE, "  alice   SMITH ") == [ALICE]
    assert match_people(PEOPLE, "Alice Jones") == [ALICE_JONES]
    assert match_people(PEOPLE, "alice jones (102)") == [ALICE_JONES]


def test_a_shared_first_name_names_everyone_who_has_it() -> None:
    assert match_people(PEOPLE, "Alice") == [ALICE, ALICE_JONES]
    assert match_people(PEOPLE, "bob") == [BOB]
    assert match_people(PEOPLE, "Carol") == []


def test_an_exact_name_beats_a_first_name() -> None:
    alice = Person(device_id="d4", number="104", name="Alice")
    assert match_people((*PEOPLE, alice), "alice") == [alice]


def test_a_label_names_the_number_once() -> None:
    assert ALICE.label == "Alice Smith (101)"
    assert ALICE_JONES.label == "Alice Jones (102)"


def test_one_person_or_why_not() -> None:
    assert one_person(PEOPLE, "bob") == BOB
    assert one_person(PEOPLE, "Carol") == Refusal("intent_no_person", {"name": "Carol"})
    assert one_person(PEOPLE, "Alice") == Refusal(
        "intent_ambiguous_person",
        {"name": "Alice", "matches": "Alice Smith (101), Alice Jones (102)"},
    )


def test_a_total_counts_only_the_states_that_are_counts() -> None:
    # Unknown or unavailable is no count of zero: with no count, no total.
    assert count_total(["3", "unknown", "2.0", "unavailable"]) == 5
    assert count_total(["0"]) == 0
    assert count_total(["unknown", "unavailable"]) is None
    assert count_total([]) is None

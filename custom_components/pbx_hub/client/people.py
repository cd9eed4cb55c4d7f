"""The people a voice request names, matched by number, full name or first name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .action_input import Refusal


@dataclass(frozen=True, kw_only=True)
class Person:
    """An extension (or a call user) with a device of its own."""

    device_id: str
    number: str
    name: str
    """The device's name as the user sees it (renamed or not)."""

    @property
    def label(self) -> str:
        """How a list of candidates names this person."""
        return self.name if self.number in self.name else f"{self.name} ({self.number})"


def _full_names(person: Person) -> set[str]:
    """The number, the whole name, and the name without its "(number)"."""
    name = person.name.casefold()
    return {person.number.casefold(), name, name.split(" (", 1)[0].strip()}


def _names(person: Person) -> set[str]:
    """What a speaker may call ``person``: a full name or the first word."""
    full = _full_names(person)
    bare = person.name.casefold().split(" (", 1)[0].strip()
    return full | {bare.split(" ", 1)[0]}


def match_people(people: Iterable[Person], spoken: str) -> list[Person]:
    """The people ``spoken`` names; a number or full name beats a shared first name."""
    wanted = " ".join(spoken.casefold().split())
    people = list(people)
    exact = [person for person in people if wanted in _full_names(person)]
    return exact or [person for person in people if wanted in _names(person)]


def one_person(people: Iterable[Person], spoken: str) -> Person | Refusal:
    """The one person ``spoken`` names, or why not (nobody, or several)."""
    found = match_people(people, spoken)
    if not found:
        return Refusal("intent_no_person", {"name": spoken})
    if len(found) > 1:
        matches = ", ".join(person.label for person in found)
        return Refusal("intent_ambiguous_person", {"name": spoken, "matches": matches})
    return found[0]


def count_total(states: Iterable[str]) -> int | None:
    """The sum of the states that are counts; ``None`` when none is."""
    counts = []
    for state in states:
        try:
            counts.append(int(float(state)))
        except ValueError:
            continue  # unknown or unavailable: not a count of zero
    return sum(counts) if counts else None

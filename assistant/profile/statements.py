"""Statements: the sentences of a submission's documents, for the rules that test what a document says rather
than a profile field (a class hazard: foam plastic panels without a listing, hydraulic presses on mineral oil,
oxygen cylinder storage, a pallet yard within 100 feet).

Owns `Statement` (a sentence or list item, verbatim, with the sentence after it in its paragraph and its
source), `statements_of` (every visible unit of the submission's documents, guidelines excluded, read as the
profile reads prose: `prose.visible_units`), and the figures a rule may weigh in one sentence:
`separations_ft` (distances in feet between things, not heights or widths) and `dates_in` (as (year, month,
day) from `grounding.verification.dates`). Imports `assistant.profile.model`, `assistant.profile.prose` and
`assistant.grounding`; never an engine or the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from assistant.grounding.sources import location_of
from assistant.grounding.verification import dates, normalize
from assistant.profile.model import Profile, Source
from assistant.profile.prose import visible_units
from index.types import Chunk


@dataclass(frozen=True)
class Statement:
    """One sentence (or list item) of a submission's document, verbatim, and the one after it in its paragraph
    ("" at a paragraph's end): an exception is often stated right after the fact ("Labels on the freezer
    panels show FM 4880 approval.")."""

    text: str
    following: str
    source: Source

    @property
    def context(self) -> str:
        return f"{self.text} {self.following}".strip()


def statements_of(profile: Profile, chunks_of: Callable[[str], list[Chunk]]) -> list[Statement]:
    """Every visible sentence of the submission's documents (guidelines are not part of a submission), in
    reading order, each with its file, location and role."""
    found: list[Statement] = []
    for path in profile.documents:
        role = profile.roles.get(path, "")
        if role == "guideline":
            continue
        units = list(visible_units(chunks_of(path)))
        for index, unit in enumerate(units):
            after = units[index + 1] if index + 1 < len(units) else None
            following = after.text if after is not None and after.paragraph == unit.paragraph else ""
            found.append(Statement(unit.text, following, Source(
                file=unit.chunk.source, location=location_of(unit.chunk), quote=unit.text, chunk_id=unit.chunk.id,
                page=unit.chunk.page, role=role)))
    return found


# A distance in feet: "70 feet from the east wall", "only 15 feet from the building", "Distance 15 feet",
# "a pallet yard 70 ft east", "within 50 ft". Not a height, width or depth ("stacked 12 feet high", "10 ft aisles").
_FEET_FIGURE = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*(?:-\s*)?(?:feet|foot|ft\b\.?|')"
                          r"(?!\s*(?:high|tall|wide|long|deep|thick|in\s+(?:height|width|depth)|aisles?|clear|"
                          r"above|below|overhead)\b)")
_SEPARATION = re.compile(r"\b(?:from|away|apart|off|distance|within|separat\w*|setback|clearance|east|west|north|"
                         r"south|northeast|northwest|southeast|southwest)\b")
_REACH = 30  # characters between a figure and the word that makes it a separation


def separations_ft(text: str) -> list[float]:
    """The distances in feet the text states between things: a figure in feet with a word of separation
    ("from", "away", "within", "distance", a compass direction) within a few words of it in its clause."""
    found = []
    for clause in re.split(r"[;.]\s|\n", normalize(text)):
        for match in _FEET_FIGURE.finditer(clause):
            before = clause[max(0, match.start() - _REACH):match.start()]
            after = clause[match.end():match.end() + _REACH]
            if _SEPARATION.search(before) or _SEPARATION.search(after):
                found.append(float(match.group(1).replace(",", "")))
    return found


def dates_in(text: str) -> list[date]:
    """The dates the text states (a month and year counts as the 1st of that month; a bare year is not a date)."""
    found = []
    for year, month, day in dates(normalize(text))[0]:
        if year is None or month is None:
            continue
        try:
            found.append(date(year, month, day or 1))
        except ValueError:
            continue
    return found


def years_before(anchor: date, stated: Sequence[date]) -> list[float]:
    """How many years before `anchor` each stated date lies (negative: after it)."""
    return [round((anchor - when).days / 365.25, 2) for when in stated]

"""Conflicts between documents: where two of them (or a total and its rows) disagree about one thing.

Compared after normalising (numbers parsed, units and spellings read by the extractors, so "$82,750,000"
and "82.75 million" agree): per location, every numeric and yes/no field read from two different files
(the underwriter's own notes are not a source to contradict); a statement of values' totals row against
the sum of its rows; a total insured value a letter states against the statement's; and a broker's loss
summary against the loss run: a summary that says there were no losses, or that names losses while a
larger one in the loss run goes unmentioned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from assistant.grounding.sources import location_of
from assistant.grounding.verification import dates, normalize
from assistant.profile import columns
from assistant.profile.model import (
    LOCATION_FIELDS,
    NUMERIC_FIELDS,
    TOTAL_FIELDS,
    VALUE_FIELDS,
    Claim,
    Conflict,
    Profile,
    Sourced,
)
from assistant.profile.prose import TextUnit, visible_units
from assistant.profile.tables import TableReading
from index.types import Chunk

COMPARED = NUMERIC_FIELDS | {"sprinklered"}
EXACT = frozenset(("construction_class", "year_built", "stories", "ppc", "sprinkler_coverage_pct"))
ROUNDING = 0.01  # readings within 1% agree when one of them is a round figure ("about 180,000 sq ft")


def _round(value: float) -> bool:
    return value != 0 and (value % 1000 == 0 or (value % 100 == 0 and abs(value) < 10000))


def agree(key: str, a: object, b: object) -> bool:
    """Whether two readings of a field say the same thing."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if key in EXACT:
            return float(a) == float(b)
        if float(a) == float(b):
            return True
        x, y = float(a), float(b)
        if key in VALUE_FIELDS:
            return abs(x - y) <= 1.0 or (_round(x) != _round(y) and abs(x - y) <= ROUNDING * max(abs(x), abs(y)))
        return abs(x - y) <= ROUNDING * max(abs(x), abs(y)) and (_round(x) or _round(y))
    return normalize(str(a)) == normalize(str(b))


def _show(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float | int) and key in VALUE_FIELDS:
        return f"${value:,.0f}"
    if isinstance(value, float) and value == int(value):
        return f"{int(value):,}" if key in ("area_sqft", "hydrant_distance_ft") else str(int(value))
    if isinstance(value, int) and key in ("area_sqft", "hydrant_distance_ft"):
        return f"{value:,}"
    return str(value)


def _where(reading: Sourced) -> str:
    return reading.source.cite() if reading.source else reading.basis or "derived"


def _location_conflicts(profile: Profile) -> list[Conflict]:
    found = []
    for location in profile.locations:
        for key, field in location.fields.items():
            if key not in COMPARED:
                continue
            per_file: dict[str, Sourced] = {}
            for reading in field.readings:
                if reading.source is None or reading.source.role == "notes":
                    continue
                per_file.setdefault(reading.source.file, reading)
            distinct: list[Sourced] = []
            for reading in per_file.values():
                if all(not agree(key, reading.value, other.value) for other in distinct):
                    distinct.append(reading)
            if len(distinct) > 1:
                said = " vs ".join(f"{_show(key, r.value)} ({_where(r)})" for r in distinct)
                found.append(Conflict(field=key, location=location.number, readings=distinct,
                                      summary=f"{LOCATION_FIELDS[key]} at location {location.number}: {said}"))
    return found


def _total_conflicts(profile: Profile, readings: dict[str, TableReading]) -> list[Conflict]:
    found = []
    stated_rows: dict[str, Sourced] = {}
    for path in profile.documents:
        if profile.roles.get(path) == "sov":
            for totals in readings[path].location_totals:
                for key, value in totals.items():
                    stated_rows.setdefault(key, value)
    for key in TOTAL_FIELDS:
        stated = stated_rows.get(key)
        if stated is None:
            continue
        values = [loc.get(key) for loc in profile.locations]
        rows = [v for v in values if isinstance(v, int | float)]
        if not rows or len(rows) != len(values):
            continue
        total = float(sum(rows))
        if abs(total - float(stated.value)) > 1.0:
            derived = Sourced(value=total, method="derived", basis=f"sum of the {len(rows)} location rows")
            found.append(Conflict(field=f"total_{key}", readings=[stated, derived], summary=(
                f"{LOCATION_FIELDS[key]} total: the statement of values states {_show(key, stated.value)} "
                f"({_where(stated)}), its rows add up to {_show(key, total)}")))
    tiv = profile.totals.get("tiv")
    if tiv is not None:
        for path in profile.documents:
            if profile.roles.get(path) == "sov":
                continue
            for label, value, source in readings[path].labels:
                text = f"{label} {value}"
                if not re.search(r"\btotal\s+insured\s+values?\b|\btiv\b", text, re.IGNORECASE):
                    continue
                amount = next((columns.money(token) for token in re.findall(r"\$[\d,.]+(?:\s*(?:m|million))?", value)
                               if columns.money(token)), None)
                if amount is not None and not agree("tiv", amount, float(tiv.value)):
                    letter = Sourced(value=amount, source=source)
                    found.append(Conflict(field="total_tiv", readings=[letter, tiv], summary=(
                        f"Total insured value: {_show('tiv', amount)} ({_where(letter)}) vs "
                        f"{_show('tiv', tiv.value)} ({_where(tiv)})")))
    return found


_LOSS_WORDS = re.compile(r"\b(?:loss(?:es)?|claims?)\b", re.IGNORECASE)
_NO_LOSSES = re.compile(r"\b(?:no|zero)\s+(?P<line>property\s+|liability\s+|gl\s+)?(?:losses|claims)\b(?!\s+since)|"
                        r"\bloss[\s-]free\b|\bclaims?[\s-]free\b", re.IGNORECASE)
_COUNT = re.compile(r"\b(?P<n>\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<line>property\s+|"
                    r"liability\s+)?(?:claims|losses)\s+in\s+(?:the\s+)?(?:last\s+|past\s+)?(?P<y>\d{1,2}|one|two|"
                    r"three|four|five|six|seven|eight|nine|ten)\s+years\b", re.IGNORECASE)
_SOME_ONLY = re.compile(r"\b(?:largest|biggest|major|significant|notable|recent|includ\w*|such\s+as|among|e\.g\.|"
                        r"for\s+example|main|principal|highlights?)\b", re.IGNORECASE)
_YEARS = re.compile(r"\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\s+years\b", re.IGNORECASE)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _WORDS[word.lower()]


def _mentions(text: str) -> tuple[set[date], set[tuple[int, int]], set[float]]:
    found, _ = dates(normalize(text))
    days = {date(y, m, d) for y, m, d in found if y and m and d}
    months = {(y, m) for y, m, _ in found if y and m}
    amounts = {columns.money(token.replace(" ", "")) or 0.0
               for token in re.findall(r"\$\s?[\d,]+(?:\.\d+)?(?:\s?(?:k|m|million|thousand)\b)?", text, re.I)}
    return days, months, amounts


def _mentioned(claims: Sequence[Claim], text: str) -> list[Claim]:
    days, months, amounts = _mentions(text)
    def near(amount: float, incurred: float) -> bool:  # "$22.7K" is the $22,650 claim, "~$182K" the $182,000
        return abs(amount - incurred) <= max(1.0, 0.01 * incurred)

    return [c for c in claims if c.date_of_loss in days
            or (c.date_of_loss is not None and (c.date_of_loss.year, c.date_of_loss.month) in months)
            or (c.incurred is not None and any(near(a, c.incurred) for a in amounts if a))]


def _passages(units: Sequence[TextUnit]) -> list[tuple[str, TextUnit]]:
    """A letter's paragraphs about losses, each as one text with its first unit (for the source)."""
    groups: dict[int, list[TextUnit]] = {}
    for unit in units:
        groups.setdefault(unit.paragraph, []).append(unit)
    found = []
    for members in groups.values():
        text = " ".join(unit.text for unit in members)
        if _LOSS_WORDS.search(text) or re.search(r"\bloss", members[0].heading.split(" > ")[-1], re.IGNORECASE):
            found.append((text, members[0]))
    return found


def _summary_conflicts(profile: Profile, chunks: dict[str, list[Chunk]]) -> list[Conflict]:
    """A broker's loss summary against the loss run's claims: "no losses" while the run lists some; "four claims
    in five years" while it lists five in that window; the largest losses named while a larger one in the same
    period goes unmentioned."""
    claims = [c for c in profile.claims if c.source.role == "loss_run" and c.date_of_loss]
    if not claims:
        return []
    anchor = (profile.effective_date.value if profile.effective_date else None) or max(c.date_of_loss for c in claims
                                                                                      if c.date_of_loss)
    found = []
    for path in profile.documents:
        if profile.roles.get(path) != "broker":
            continue
        for text, unit in _passages(list(visible_units(chunks[path]))):
            quote = Sourced(value=text, method="text", source=_source(unit.chunk, text, "broker"))
            said_none = _NO_LOSSES.search(text)
            if said_none:
                line = (said_none.group("line") or "").strip().lower().replace("gl", "liability") or None
                window = [c for c in claims if (c.incurred or 0) > 0 and (line is None or c.line == line)]
                if window:
                    found.append(Conflict(field="loss_history", readings=[quote] + [_claim_reading(c) for c in window],
                                          summary=f"The broker says there were no {line + ' ' if line else ''}losses "
                                                  f"({_where(quote)}); the loss run lists {len(window)}"))
                continue
            stated = _COUNT.search(text)
            if stated:
                line = (stated.group("line") or "").strip().lower() or "property"
                years = _count(stated.group("y"))
                since = date(anchor.year - years, anchor.month, min(anchor.day, 28))
                window = [c for c in claims if c.line == line and c.date_of_loss and c.date_of_loss >= since]
                if len(window) == _count(stated.group("n")):
                    continue  # the count agrees: the summary says how many, naming some of them is not leaving out
                if len(window) != _count(stated.group("n")):
                    named = _mentioned(window, text)
                    left = [c for c in window if c not in named]
                    said = f"{_count(stated.group('n'))} {line} claims in {years} years"
                    listed = "; ".join(f"{c.claim_number or c.date_of_loss} ({c.source.cite()})" for c in left)
                    found.append(Conflict(field="loss_history", readings=[quote] + [_claim_reading(c) for c in left],
                                          summary=f"The broker's summary says {said} ({_where(quote)}); the loss run "
                                                  f"lists {len(window)} in that period" + (f", among them {listed}, "
                                                                                         f"which the summary leaves out"
                                                                                         if left else "")))
                    continue
            mentioned = _mentioned(claims, text)
            if not re.search(r"\b(?:largest|biggest|major|significant|large)\b", text, re.IGNORECASE):
                # A summary that lists the losses one by one, and does not say it lists only some of them: a
                # loss of the same line in the period it covers that it leaves out is missing from it.
                if len(mentioned) >= 2 and not _SOME_ONLY.search(text):
                    years = _YEARS.search(text)
                    since = date(anchor.year - _count(years.group(1)), anchor.month, min(anchor.day, 28)) \
                        if years else None
                    lines = {m.line for m in mentioned}
                    left = [c for c in claims if c not in mentioned and c.line in lines and (c.incurred or 0) > 0
                            and (since is None or (c.date_of_loss and c.date_of_loss >= since))]
                    if left:
                        listed = "; ".join(f"{c.date_of_loss} ${c.incurred:,.0f} ({c.claim_number or 'no claim number'}"
                                           f", {c.source.cite()})" for c in left)
                        readings = [quote] + [_claim_reading(c) for c in left]
                        found.append(Conflict(field="loss_history", readings=readings,
                                              summary=f"The broker's loss summary ({_where(quote)}) names "
                                                      f"{len(mentioned)} losses and leaves out {listed}"))
                continue
            if not mentioned:
                continue
            since = min(c.date_of_loss for c in mentioned if c.date_of_loss)
            recent_only = bool(re.search(r"\brecent\b", text, re.IGNORECASE))
            for claim in claims:
                same_line = [m.incurred or 0.0 for m in mentioned if m.line == claim.line]
                if claim in mentioned or not same_line or (claim.incurred or 0.0) <= min(same_line):
                    continue
                if recent_only and claim.date_of_loss and claim.date_of_loss < since:
                    continue
                found.append(Conflict(field="loss_history", readings=[quote, _claim_reading(claim)], summary=(
                    f"The broker's loss summary ({_where(quote)}) leaves out the {claim.date_of_loss} loss of "
                    f"${claim.incurred:,.0f} ({claim.claim_number or 'no claim number'}, {claim.source.cite()}), "
                    f"larger than the ones it names")))
    return found


def _claim_reading(claim) -> Sourced:
    return Sourced(value=claim.incurred, source=claim.source)


def _source(chunk: Chunk, text: str, role: str):
    from assistant.profile.model import Source

    return Source(file=chunk.source, location=location_of(chunk), quote=text, chunk_id=chunk.id, page=chunk.page,
                  role=role)


def find_conflicts(profile: Profile, readings: dict[str, TableReading],
                   chunks: dict[str, list[Chunk]]) -> list[Conflict]:
    return _location_conflicts(profile) + _total_conflicts(profile, readings) + _summary_conflicts(profile, chunks)


__all__: Sequence[str] = ("agree", "find_conflicts")

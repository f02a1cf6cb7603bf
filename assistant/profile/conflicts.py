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

from assistant.profile import columns
from assistant.profile.model import (
    LOCATION_FIELDS,
    NUMERIC_FIELDS,
    TOTAL_FIELDS,
    VALUE_FIELDS,
    Conflict,
    Profile,
    Sourced,
)
from assistant.profile.prose import visible_units
from assistant.profile.tables import TableReading
from assistant.prompts import location_of
from assistant.verification import dates, normalize
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
    for key in TOTAL_FIELDS:
        stated = profile.totals.get(key)
        if stated is None or stated.method == "derived":
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


_LOSS_PASSAGE = re.compile(r"\b(?:loss(?:es)?|claims?)\b", re.IGNORECASE)
_NO_LOSSES = re.compile(r"\b(?:no|zero)\s+(?:property\s+)?(?:losses|claims)\b|\bloss[\s-]free\b|\bclaims?[\s-]free\b",
                        re.IGNORECASE)


def _mentions(text: str) -> tuple[set[date], set[tuple[int, int]], set[float]]:
    found, rest = dates(normalize(text))
    days = {date(y, m, d) for y, m, d in found if y and m and d}
    months = {(y, m) for y, m, _ in found if y and m}
    amounts = {columns.money(token) or 0.0 for token in re.findall(r"\$\s?[\d,]+(?:\.\d+)?", text)}
    return days, months, amounts


def _summary_conflicts(profile: Profile, chunks: dict[str, list[Chunk]]) -> list[Conflict]:
    """A broker's loss summary against the loss run's claims (property and liability alike)."""
    claims = [c for c in profile.claims if c.source.role == "loss_run" and c.date_of_loss]
    if not claims:
        return []
    found = []
    for path in profile.documents:
        if profile.roles.get(path) != "broker":
            continue
        passages = [(text, chunk) for text, chunk in visible_units(chunks[path])
                    if _LOSS_PASSAGE.search(text) or re.search(r"\bloss", chunk.heading, re.IGNORECASE)]
        passages = [(text, chunk) for text, chunk in passages if re.search(r"\bloss|\bclaim", chunk.heading + " " + text,
                                                                           re.IGNORECASE)]
        for text, chunk in passages:
            quote = Sourced(value=text, method="text", source=_source(chunk, text, "broker"))
            if _NO_LOSSES.search(text) and not re.search(r"\bno\s+(?:new\s+)?claims?\s+since\b", text, re.I):
                window = [c for c in claims if (c.incurred or 0) > 0]
                if window:
                    found.append(Conflict(field="loss_history", readings=[quote] + [_claim_reading(c) for c in window],
                                          summary=f"The broker says there were no losses ({_where(quote)}); the loss "
                                                  f"run lists {len(window)} claims"))
                continue
            days, months, amounts = _mentions(text)
            mentioned = [c for c in claims if c.date_of_loss in days
                         or (c.date_of_loss.year, c.date_of_loss.month) in months
                         or (c.incurred is not None and c.incurred in amounts)]
            if not mentioned:
                continue
            smallest = min(c.incurred or 0.0 for c in mentioned)
            since = min(c.date_of_loss for c in mentioned if c.date_of_loss)
            left_out = [c for c in claims if c not in mentioned and (c.incurred or 0.0) > smallest
                        and c.line in {m.line for m in mentioned}
                        and (not re.search(r"\brecent\b", text, re.I) or (c.date_of_loss and c.date_of_loss >= since))]
            for claim in left_out:
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

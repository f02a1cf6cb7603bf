"""The coverages a broker asks to be quoted, with their amounts: from a letter's request table ("Spoilage
(CP 04 40) | $5,000,000 limit, $50,000 deductible") and from its lines ("AOP deductible $25,000", "Ammonia
contamination $1,000,000"). Only broker documents (letters, e-mails) are read: an inspection's "$12,500,000
PML" is not a request. An amount is a limit unless the words beside it make it a deductible or a sublimit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.grounding.sources import location_of
from assistant.profile import columns
from assistant.profile.model import CoverageRequest, Profile, Source
from assistant.profile.prose import visible_units
from assistant.profile.tables import TableReading
from index.types import Chunk

# Coverages, limits and deductibles by the names the trade uses (ISO forms named by number, "AOP", "BI").
_COVERAGE = re.compile(
    r"spoilage|contamination|flood|earth\s*(?:quake|movement)|named\s+storm|wind(?:storm)?|hail|deductible|"
    r"business\s+income|extra\s+expense|equipment\s+breakdown|boiler|sublimit|terrorism|ordinance|debris|"
    r"valuable\s+papers|accounts\s+receivable|dependent\s+propert|utility|sewer|back-?up|crime|cyber|umbrella|"
    r"general\s+liability|products|aggregate|each\s+occurrence|\baop\b|all\s+other\s+perils|abuse|molestation|"
    r"\bcp\s*\d\d\s*\d\d\b|\bcg\s*\d\d\s*\d\d\b", re.IGNORECASE)
_NOT_A_REQUEST = re.compile(r"total\s+insured\s+values?|\btiv\b|premium|sales|payroll|revenue|loss(?:es)?\b|claims?\b|"
                            r"\bpml\b|\bmfl\b|\bnle\b|incurred|paid|reserve", re.IGNORECASE)
_AMOUNT = re.compile(r"(?P<before>\b(?:deductible|sublimit|limit|retention)\s+(?:of\s+)?)?\$\s?(?P<n>[\d,]+(?:\.\d+)?)"
                     r"(?:\s*(?P<scale>k|m|mm|million|thousand)\b)?(?P<after>\s+(?:limit|sublimit|deductible|retention|"
                     r"aggregate|each\s+occurrence|per\s+occurrence))?", re.IGNORECASE)


def _split_line(line: str) -> tuple[str, str] | None:
    """'- Spoilage on CP 04 40: $2,000,000 limit' -> ('Spoilage on CP 04 40', '$2,000,000 limit');
    'AOP deductible $25,000' -> ('AOP deductible', '$25,000')."""
    text = re.sub(r"^\s*[-*•]\s*", "", line).strip()
    dollar = text.find("$")
    if dollar <= 2:
        return None
    head = text[:dollar]
    if ":" in head:
        name, rest = text.split(":", 1)
    elif re.search(r"\s[-–]\s", head):
        name, rest = re.split(r"\s[-–]\s", text, maxsplit=1)
    else:
        name, rest = head, text[dollar:]
    return (name, rest) if len(name) <= 70 and len(name.split()) <= 8 else None


def _amounts(name: str, text: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for match in _AMOUNT.finditer(text):
        value = columns.money(f"${match.group('n')}{match.group('scale') or ''}")
        if value is None:
            continue
        word = (match.group("after") or match.group("before") or "").lower()
        kind = ("deductible" if re.search(r"deductible|retention", word) else "sublimit" if "sublimit" in word
                else "limit" if word else "deductible" if re.search(r"deductible|retention|\bded\b", name, re.I)
                else "sublimit" if "sublimit" in name.lower() else "limit")
        found.setdefault(kind, value)
    return found


# "$25,000 all other perils deductible", "$10,000 AOP deductible", "$25,000 AOP": an amount before what it is for.
_AMOUNT_FIRST = re.compile(r"\$\s?(?P<n>[\d,]+(?:\.\d+)?)(?:\s*(?P<scale>k|m|mm|million|thousand)\b)?\s+"
                           r"(?P<name>(?:[A-Za-z/&.-]+\s+){0,3}?(?:deductible|sublimit|limit|retention)|aop|"
                           r"all\s+other\s+perils)\b", re.IGNORECASE)
_COINSURANCE = re.compile(r"\b(\d{2,3})\s*%\s*co-?insurance\b|\bco-?insurance\s*(?:of|at|:)?\s*(\d{2,3})\s*%",
                          re.IGNORECASE)
_DEDUCTIBLE_BY_NAME = re.compile(r"^(?:aop|all\s+other\s+perils)$", re.IGNORECASE)


def _amount_first(text: str, source: Source) -> list[CoverageRequest]:
    found = []
    for match in _AMOUNT_FIRST.finditer(text):
        name = " ".join(match.group("name").split())
        value = columns.money(f"${match.group('n')}{match.group('scale') or ''}")
        if value is None:
            continue
        kind = ("deductible" if re.search(r"deductible|retention", name, re.I) or _DEDUCTIBLE_BY_NAME.match(name)
                else "sublimit" if "sublimit" in name.lower() else "limit")
        coverage = re.sub(r"\s*\b(?:deductible|sublimit|limit|retention)$", "", name, flags=re.IGNORECASE).strip()
        if not coverage or not _COVERAGE.search(coverage + " " + kind):
            continue
        found.append(CoverageRequest(coverage=coverage, text=match.group(0), source=source, **{kind: value}))
    return found


def _request(name: str, text: str, source: Source) -> CoverageRequest | None:
    name = " ".join(name.split()).strip(" -:,")
    if not _COVERAGE.search(name) or _NOT_A_REQUEST.search(name):
        return None
    amounts = _amounts(name, text)
    if not amounts:
        return None
    coverage = re.sub(r"\s*\b(?:deductible|limit|ded)\b\.?\s*$", "", name, flags=re.IGNORECASE).strip() or name
    if _DEDUCTIBLE_BY_NAME.match(coverage) and "limit" in amounts and len(amounts) == 1:
        amounts = {"deductible": amounts["limit"]}  # "AOP $25,000": an all-other-perils amount is a deductible
    return CoverageRequest(coverage=coverage, text=f"{name}: {text}".strip(), source=source, **amounts)


def requests_of(profile: Profile, paths: Sequence[str], chunks: dict[str, list[Chunk]],
                readings: dict[str, TableReading]) -> list[CoverageRequest]:
    found: list[CoverageRequest] = []
    for path in paths:
        if profile.roles.get(path) != "broker":
            continue
        for unit in visible_units(chunks[path]):
            coinsurance = _COINSURANCE.search(unit.text)
            if coinsurance and not any(r.coinsurance_pct for r in found):
                percent = float(coinsurance.group(1) or coinsurance.group(2))
                found.append(CoverageRequest(coverage="coinsurance", coinsurance_pct=percent,
                                             text=coinsurance.group(0), source=Source(
                                                 file=unit.chunk.source, location=location_of(unit.chunk),
                                                 quote=unit.text, chunk_id=unit.chunk.id, page=unit.chunk.page,
                                                 role="broker")))
        for label, value, source in readings[path].labels:
            request = _request(label, value, source)
            if request is not None:
                found.append(request)
        for coverage, limit, deductible, source in readings[path].requested:  # a table of coverage requests
            amounts = _amounts(coverage, limit) if "$" in limit else {}
            amounts.pop("deductible", None)
            if "$" in deductible:
                first = columns.money(re.findall(r"\$\s?[\d,.]+(?:\s?[km]\b)?", deductible, re.I)[0].replace(" ", ""))
                if first is not None and re.search(r"all\s+other\s+perils|\baop\b", deductible, re.I):
                    # "$5,000 all other perils" beside several coverages: one all-other-perils deductible
                    if not any(r.coverage == "All other perils" for r in found):
                        found.append(CoverageRequest(coverage="All other perils", deductible=first,
                                                     text=f"All other perils deductible: {deductible}",
                                                     source=source))
                elif first is not None:
                    amounts["deductible"] = first
            if amounts and not _NOT_A_REQUEST.search(coverage):
                name = " ".join(coverage.split())
                found.append(CoverageRequest(coverage=name, text=f"{name}: {limit}; {deductible}".strip("; "),
                                             source=source, **amounts))
        for unit in visible_units(chunks[path]):
            for line in re.split(r"\n|(?<=\))\s*;\s*", unit.text):
                if "$" not in line:
                    continue
                parts = _split_line(line)
                source = Source(file=unit.chunk.source, location=location_of(unit.chunk), quote=unit.text,
                                chunk_id=unit.chunk.id, page=unit.chunk.page, role="broker")
                request = _request(parts[0], parts[1], source) if parts is not None else None
                candidates = [request] if request is not None else _amount_first(line, source)
                for candidate in candidates:
                    if candidate.coverage.lower() not in {r.coverage.lower() for r in found}:
                        found.append(candidate)
    return found

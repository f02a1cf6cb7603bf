"""The submission-level facts of a profile: the insured, the effective date, the expiring premium and the loss
runs' valuation date, read from label/value rows ("Named insured | ...", "Valuation date | ...") and from
sentences ("Proposed effective date: January 1, 2025", "expiring premium of $385,800"); when no document labels
the insured, the company the documents name most (leaving out carriers, brokers and service firms)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.grounding.sources import location_of
from assistant.profile import columns
from assistant.profile.model import Profile, Source, Sourced
from assistant.profile.prose import visible_units
from assistant.profile.tables import TableReading
from index.types import Chunk


def _label_value(readings: Sequence[TableReading], pattern: str) -> tuple[str, Source] | None:
    for reading in readings:
        for label, value, source in reading.labels:
            if re.fullmatch(pattern, columns.normalize_header(label)) and not columns.is_empty(value):
                return value, source
    return None


_EFFECTIVE = re.compile(
    r"\b(?:proposed\s+)?(?:effective|eff\.?)(?:\s+date)?\s*(?::|is|of|on)?\s*(?:date\s*:?\s*)?(?P<d>[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4}|"
    r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2})|\bterm\s*:?\s*(?P<t>[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4}|"
    r"\d{1,2}/\d{1,2}/\d{2,4})\s+(?:to|-|through)\b|\b(?:renewal|inception)\s+(?:date\s+)?(?:of|is|on)\s+"
    r"(?P<r>[A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}/\d{1,2}/\d{2,4})", re.IGNORECASE)
_EFFECTIVE_LABEL = (r"(?:proposed\s+|policy\s+|renewal\s+)?(?:effective|eff)(?:\s+date)?|(?:proposed\s+)?inception"
                    r"(?:\s+date)?|renewal\s+date")
_EXPIRING = re.compile(r"\b(?:expiring|annual|current|incumbent'?s?)\s+(?:annual\s+)?(?:prem(?:ium)?s?\.?)\s*"
                       r"(?:with\s+[\w ]{1,30}?\s+)?(?::|of|is|was|at)?\s*(?:property\s+)?"
                       r"(\$\s?[\d,]+(?:\.\d+)?(?:\s?[km]\b)?)|\bat\s+an\s+annual\s+premium\s+of\s+(\$\s?[\d,]+)",
                       re.IGNORECASE)
_PROPERTY_PREMIUM = re.compile(r"(\$\s?[\d,]+(?:\.\d+)?(?:\s?[km]\b)?)\s+(?:for\s+)?property\b|\bproperty\s+"
                               r"(\$\s?[\d,]+(?:\.\d+)?(?:\s?[km]\b)?)", re.IGNORECASE)
_VALUED = re.compile(r"\b(?:e?valu(?:ed|ated|ation(?:\s+date)?))\s*(?:as\s+of|at)?\s*:?\s*"
                     r"(\S+(?:\s+\d{1,2},?\s+\d{4})?)", re.IGNORECASE)
_INSURED = re.compile(r"^(?:named\s+)?(?:insured|client|account|applicant|risk|insured\s+name)\s*:\s*"
                      r"([A-Z][\w&,.' -]{2,80}?)"
                      r"(?=\.\s|\s{2,}|\s+(?:policy|prepared|broker|dba)\b|[;(]|$)", re.IGNORECASE)
_COMPANY = re.compile(r"\b((?:[A-Z][\w&'.-]*\s+){0,5}[A-Z][\w&'.-]*,?\s+(?:Inc|LLC|L\.L\.C|LP|L\.P|LLP|Ltd|Co|"
                      r"Company|Corporation|Corp|Partners|Group)\b\.?)")
_NOT_INSURED = re.compile(r"\b(?:insurance|mutual|indemnity|assurance|casualty|underwriters?|brokerage|brokers?|agency|"
                          r"engineering|inspection|loss\s+control|consult\w*|adjust\w*|services|risk|monitoring|"
                          r"fire|sprinkler|alarm|protection)\b", re.IGNORECASE)


def _company_named_most(profile: Profile, paths: Sequence[str], chunks: dict[str, list[Chunk]]) -> Sourced | None:
    """No document labels the insured: the company name the documents mention most ('Tri-State Metal
    Finishing, Inc.'), leaving out carriers, brokers, engineers and other service firms."""
    counts: dict[str, list[Source]] = {}
    for path in paths:
        for unit in visible_units(chunks[path]):
            for match in _COMPANY.finditer(unit.text):
                name = match.group(1).strip()
                if _NOT_INSURED.search(name) or len(name) > 80:
                    continue
                counts.setdefault(name, []).append(Source(
                    file=unit.chunk.source, location=location_of(unit.chunk), quote=unit.text,
                    chunk_id=unit.chunk.id, page=unit.chunk.page, role=profile.roles.get(path, "")))
    if not counts:
        return None
    name, sources = max(counts.items(), key=lambda item: (len({s.file for s in item[1]}), len(item[1])))
    if len({s.file for s in sources}) < 2:
        return None  # named in one document only: not enough to call it the insured
    return Sourced(value=name, source=sources[0], method="text")



def read_facts(profile: Profile, paths: Sequence[str], chunks: dict[str, list[Chunk]],
               readings: dict[str, TableReading]) -> None:
    """The submission's insured, effective date, expiring premium and the loss runs' valuation date, each with
    its source: from label rows first, then from the documents' sentences (a letter before a report)."""
    found = _label_value([readings[p] for p in paths], r"(?:named\s+)?insured|account|client|applicant|"
                                                        r"insured\s+name|named\s+insured")
    if found is not None:
        value, source = found
        profile.insured = Sourced(value=re.split(r",\s*(?=\d)|\s+-\s+\d", value)[0].strip(), source=source)
    by_role = sorted(paths, key=lambda p: ("broker", "notes", "other", "inspection", "sov", "loss_run").index(
        profile.roles[p]) if profile.roles[p] in ("broker", "notes", "other", "inspection", "sov", "loss_run")
        else 9)
    # a label row ("Proposed effective | 1/15/2026"); a loss run's policy dates are past terms, not this one
    found = _label_value([readings[p] for p in by_role if profile.roles[p] != "loss_run"], _EFFECTIVE_LABEL)
    when = columns.day(found[0]) if found is not None else None
    if found is not None and when is not None:
        profile.effective_date = Sourced(value=when, source=found[1])
    for path in by_role:
        for unit in visible_units(chunks[path]):
            text, chunk = unit.text, unit.chunk
            source = Source(file=chunk.source, location=location_of(chunk), quote=text, chunk_id=chunk.id,
                            page=chunk.page, role=profile.roles[path])
            if profile.insured is None:
                said = _INSURED.search(text)
                if said:
                    profile.insured = Sourced(value=said.group(1).strip(), source=source, method="text")
            if profile.effective_date is None:
                match = _EFFECTIVE.search(text)
                when = columns.day(next((g for g in match.groups() if g), "")) if match else None
                if when is not None:
                    profile.effective_date = Sourced(value=when, source=source, method="text")
            if "expiring" not in profile.premium:
                premium = _EXPIRING.search(text)
                if premium:
                    # "$188,300 ($166,800 property, $21,500 general liability)": the property premium
                    split = _PROPERTY_PREMIUM.search(text[premium.start():])
                    amount = columns.money(((split.group(1) or split.group(2)) if split else
                                            (premium.group(1) or premium.group(2))).replace(" ", ""))
                    if amount:
                        profile.premium["expiring"] = Sourced(value=amount, source=source, method="text")
    if profile.insured is None:
        profile.insured = _company_named_most(profile, paths, chunks)
    for path in paths:
        if profile.roles[path] != "loss_run":
            continue
        valued = _label_value([readings[path]], r"valuation\s+date|valued(?:\s+as\s+of)?|as\s+of|valuation|"
                                                r"evaluation\s+date|valued\s+date|run\s+date")
        if valued is not None and columns.day(valued[0]) is not None:
            current = profile.valuation_date
            when = columns.day(valued[0])
            if current is None or (when and current.value < when):
                profile.valuation_date = Sourced(value=when, source=valued[1])
            continue
        for unit in visible_units(chunks[path]):
            text, chunk = unit.text, unit.chunk
            match = _VALUED.search(text)
            when = columns.day(match.group(1)) if match else None
            if when is not None:
                profile.valuation_date = Sourced(value=when, method="text", source=Source(
                    file=chunk.source, location=location_of(chunk), quote=text, chunk_id=chunk.id,
                    page=chunk.page, role="loss_run"))
                break


"""Inspection recommendations across a submission's documents: numbered items from recommendation tables and
from lines of prose ("HEG-24-1: Add an explosion isolation valve ...", "BPC-25-01, urgent: ..."), merged by
number, each with its priority and the latest status a document states (open, in progress, complete,
declined), with the source of that status."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.grounding.sources import location_of
from assistant.profile.model import Profile, Recommendation, Source
from assistant.profile.prose import Aliases, visible_units
from assistant.profile.tables import TableReading
from index.types import Chunk

_REC_ID = r"(?P<id>[A-Z]{1,5}-\d{2,4}-\d{1,3}|[A-Z]{1,5}-\d{1,3})"
# 'HEG-24-1: Add an explosion isolation valve ...'; 'BPC-25-01, urgent: have the PSM audit done ...'
_REC_LINE = re.compile(rf"^\s*{_REC_ID}\s*(?:,\s*(?P<priority>[a-z]+)\s*)?[:.)-]\s+(?P<text>.{{10,}}?)(?P<after>)$")
# 'BPC-22-03 (add snow-load monitoring or strengthen the dock roof) is closed out'
_REC_MENTION = re.compile(r"\b(?P<id>[A-Z]{1,5}-\d{2,4}-\d{1,3})\s*\((?P<text>[^)]{10,160})\)(?P<after>.*)$")
_REC_STATUS = [  # the first that matches: "partially complete" is in progress, not complete
    ("declined", r"\bdeclined\b|\brejected\b|\bwill\s+not\b|\bwon'?t\b|\brefused\b|\bnot\s+(?:be\s+)?doing\b|"
                 r"\bnot\s+(?:going\s+to\s+)?(?:implement|proceed)"),
    ("open", r"\bnot\s+(?:yet\s+)?(?:started|begun|done|complete)\b|\boutstanding\b|\bopen\b|^\W*new\b"),
    ("in progress", r"\b(?:in\s+progress|scheduled|underway|under\s+way|awarded|planned|pending|partial(?:ly)?|"
                    r"ongoing|started)\b"),
    ("complete", r"\b(?:complet(?:ed|e|ing)|done|finished|satisfied|closed|repaired|installed|implemented)\b"),
]
_CONDITIONAL = re.compile(r"\b(?:with|once|until|if|when|after|would|should|could|unless)\b", re.IGNORECASE)


def _status_word(text: str) -> str:
    for word, pattern in _REC_STATUS:
        if re.search(pattern, text, re.IGNORECASE):
            return word
    return text.strip().lower()



def merge_recommendations(profile: Profile, paths: Sequence[str], chunks: dict[str, list[Chunk]],
                          readings: dict[str, TableReading], aliases: Aliases,
                          location_key: Callable[[str, set[str]], str]) -> None:
    """The recommendations of every document merged by number: text and priority from the first that states
    them, the status from the latest (a table's status column, or the sentences after the number in a later
    letter: 'TSM-25-01 (pallets): Done.'); a report's own status table is not overridden by its prose."""
    merged: dict[str, Recommendation] = {}
    for path in paths:
        for rec in readings[path].recommendations:
            known = merged.get(rec.number)
            if known is None:
                status = _status_word(rec.status) if rec.status else ""
                merged[rec.number] = rec.model_copy(update={"status": status or "open",
                                                             "status_source": rec.source if status else None})
                continue
            if rec.priority and not known.priority:
                known.priority = rec.priority
            if rec.text and not known.text:
                known.text = rec.text
            if rec.status:
                known.status, known.status_source = _status_word(rec.status), rec.source
            if rec.location and not known.location:
                known.location = rec.location
    for path in paths:
        units = list(visible_units(chunks[path]))
        for index, unit in enumerate(units):
            text, chunk = unit.text, unit.chunk
            source = Source(file=chunk.source, location=location_of(chunk), quote=text, chunk_id=chunk.id,
                            page=chunk.page, role=profile.roles[path])
            line = _REC_LINE.match(text) or _REC_MENTION.search(text)
            if line and line.group("id") not in merged:
                rest = " ".join(u.text for u in units[index + 1:] if u.paragraph == unit.paragraph)
                said = _status_word(f"{line.group('after') or ''} {rest}") if (line.group("after") or rest) else ""
                status = said if said in ("complete", "in progress", "declined", "open") else "open"
                merged[line.group("id")] = Recommendation(
                    number=line.group("id"), text=line.group("text").strip(), status=status, source=source,
                    priority=(line.groupdict().get("priority") or "").lower(),
                    location=next(iter(aliases.named(text))) if len(aliases.named(text)) == 1 else "",
                    status_source=source if said in ("complete", "in progress", "declined", "open") else None)
                continue
            for number, rec in merged.items():
                if rec.source.chunk_id == chunk.id or not re.search(rf"\b{re.escape(number)}\b", text):
                    continue
                if profile.roles[path] == "notes":
                    continue  # the underwriter's own notes of a call are not the submission's documents
                if rec.status_source is not None and rec.status_source.role != "notes" and \
                        rec.status_source.chunk_id != chunk.id and profile.roles[path] == "inspection":
                    continue  # a report's own status table is not overridden by its prose
                if _CONDITIONAL.search(text.split(number)[0][-40:]):
                    continue
                # The status may come in the sentences after the number, in the same paragraph ("TSM-25-01
                # (pallets): Done." / "TSM-23-01: We signed ... Install is scheduled for November").
                following = [u.text for u in units[index + 1:] if u.paragraph == unit.paragraph]
                status = _status_word(" ".join([text, *following]))
                if status in ("complete", "in progress", "declined", "open"):
                    rec.status, rec.status_source = status, source
    known = {loc.number for loc in profile.locations}
    for rec in merged.values():
        rec.location = location_key(rec.location, known)
    profile.recommendations = sorted(merged.values(), key=lambda r: r.number)


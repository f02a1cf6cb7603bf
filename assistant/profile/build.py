"""Building a submission's profile from its stored documents: tables first, prose for what tables leave out.

1. Each document gets a role (statement of values, loss run, inspection, broker, notes, guideline, other)
   from what its tables are and what its name and title say. Guidelines are not part of a submission.
2. Tables (`tables.read_tables`): location rows, claims, policy terms, recommendations, label/value rows.
3. Locations: from the statement of values' rows (building numbers kept when a location has several),
   else from other location tables, else from the location headers of the prose, else one location.
   Each gets aliases: its number, its street address and the names documents give it.
4. Prose (`prose.read_text`) fills and cross-checks the per-location fields; given a `ModelFiller`, the model
   reads the descriptive fields still not stated from the location's sentences (`prose_model`), verified.
5. Per field, the value shown comes from the most authoritative role for it (the statement of values for
   values, areas and construction; the inspection for protection), a table before prose; the other readings
   are kept, and `conflicts` compares them.
6. Claims are deduplicated by claim number (or date and amount) across documents; loss figures derived
   per line of business; recommendations merged by number with the latest stated status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import date
from pathlib import PurePath

from assistant.grounding.sources import location_of
from assistant.profile import columns
from assistant.profile.conflicts import find_conflicts
from assistant.profile.facts import read_facts
from assistant.profile.losses import summarize_losses
from assistant.profile.model import (
    LOCATION_FIELDS,
    TOTAL_FIELDS,
    VALUE_FIELDS,
    Claim,
    FieldValue,
    LocationProfile,
    Profile,
    Source,
    Sourced,
)
from assistant.profile.prose import Aliases, Finding, location_header, location_name, read_text, visible_units
from assistant.profile.prose_model import ModelFiller
from assistant.profile.recommendations import merge_recommendations
from assistant.profile.requests import requests_of
from assistant.profile.tables import LocationRow, TableReading, read_tables
from index.types import Chunk

SITE_WIDE_BASIS = "stated for the whole site"
ROLE_ORDER = ("sov", "loss_run", "inspection", "broker", "other", "notes")
# Which role's reading a field shows first (then the rest in ROLE_ORDER).
PROTECTION_FIELDS = frozenset(("sprinklered", "sprinkler_coverage_pct", "sprinkler_type", "sprinkler_design", "alarm",
                               "hydrant_distance_ft", "fire_station_distance_mi", "ppc", "exposures"))
_PROTECTION_ORDER = ("inspection", "sov", "broker", "other", "loss_run", "notes")
_VALUES_ORDER = ("sov", "inspection", "broker", "other", "loss_run", "notes")


def role_of(path: str, title: str, kind: str, reading: TableReading, first_text: str) -> str:
    """What a document is in a submission, from its tables, then its file name, title and opening text."""
    words = f"{PurePath(path).stem} {title} {first_text[:400]}".lower().replace("_", " ").replace("-", " ")
    guideline = re.search(r"\bguidelines?\b|\bunderwriting (?:guide|manual)\b|\bappetite\b", words)
    if guideline and "sov" not in reading.kinds:
        return "guideline"
    if "sov" in reading.kinds or (re.search(r"\bstatement of values\b|\bsov\b|\bschedule of (?:values|locations)\b",
                                           words) and reading.locations):
        return "sov"
    stem = PurePath(path).stem.lower().replace("_", " ").replace("-", " ")
    if re.search(r"\bloss(?:es)? (?:runs?|history|experience|letter|report)\b|\bclaims? (?:history|experience)\b|"
                 r"\bno loss", stem) and "sov" not in reading.kinds:
        return "loss_run"  # a carrier's loss run, or its letter that there were none
    if reading.kinds & {"loss_run", "experience"} or (
            re.search(r"\bloss (?:runs?|history)\b", words) and reading.claims):
        return "loss_run"
    if re.search(r"\bnotes?\b|\bfile notes\b|\bdiary\b|\bunderwriter'?s? (?:notes|memo)\b", PurePath(path).stem.lower()
                 .replace("_", " ")):
        return "notes"
    if re.search(r"\binspection\b|\bsurvey\b|\brisk control\b|\bloss control\b|\bengineering\b|\brisk engineering\b|"
                 r"\bloss prevention\b|\bfire protection report\b", words):
        return "inspection"
    if kind in ("eml", "msg") or re.search(r"\bbroker\b|\bcover letter\b|\bletter\b|\bsubmission\b|\be-?mail\b", words):
        return "broker"
    return "other"


def _sourced(finding: Finding, role: str) -> Sourced:
    chunk = finding.chunk
    basis = SITE_WIDE_BASIS if finding.site_wide else ""
    return Sourced(value=finding.value, method="text", basis=basis, source=Source(
        file=chunk.source, location=location_of(chunk), quote=finding.quote, chunk_id=chunk.id, page=chunk.page,
        role=role))


def _order_for(key: str) -> tuple[str, ...]:
    return _PROTECTION_ORDER if key in PROTECTION_FIELDS else _VALUES_ORDER


def _rank(key: str, reading: Sourced, position: int) -> tuple[float, int, int, int]:
    role = reading.source.role if reading.source else "other"
    order = _order_for(key)
    if key == "storage_height_ft" and isinstance(reading.value, int | float):
        first: float = -reading.value  # storage heights of different areas: the highest one is the location's
    else:
        first = order.index(role) if role in order else len(order)
    return (first, 1 if reading.basis == SITE_WIDE_BASIS else 0, 0 if reading.method == "table" else 1, position)


class _Locations:
    """The submission's locations as they are found, with every reading of every field."""

    def __init__(self) -> None:
        self.readings: dict[str, dict[str, list[Sourced]]] = {}
        self.names: dict[str, str] = {}
        self.order: list[str] = []

    def ensure(self, number: str) -> None:
        if number not in self.readings:
            self.readings[number] = {}
            self.order.append(number)

    def add(self, number: str, key: str, value: Sourced) -> None:
        self.ensure(number)
        self.readings[number].setdefault(key, []).append(value)

    def profiles(self) -> list[LocationProfile]:
        found = []
        for number in sorted(self.order, key=_location_sort):
            fields: dict[str, FieldValue] = {}
            for key in LOCATION_FIELDS:
                readings = self.readings[number].get(key, [])
                if not readings:
                    continue
                ranked = [item for _, item in sorted(((_rank(key, r, i), r) for i, r in enumerate(readings)),
                                                     key=lambda pair: pair[0])]
                fields[key] = FieldValue(value=ranked[0], readings=ranked)
            found.append(LocationProfile(number=number, name=self.names.get(number, ""), fields=fields))
        return found


def _location_sort(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", number)) or (10**6,)


def _row_number(row: LocationRow, multi_building: set[str]) -> str:
    if row.location in multi_building and row.building:
        return f"{row.location}-{row.building}"
    return row.location


class ProfileBuilder:
    """Builds one submission's profile from its documents' stored chunks (with their table rows)."""

    def __init__(self, chunks_of: Callable[[str], list[Chunk]], titles: dict[str, tuple[str, str]],
                 filler: ModelFiller | None = None) -> None:
        self.chunks_of = chunks_of  # path -> chunks (with rows), in order
        self.titles = titles  # path -> (title, kind)
        self.filler = filler  # reads the descriptive fields the patterns left unstated (`prose_model`), if given

    def build(self, name: str, folder: str, documents: Sequence[str]) -> Profile:
        profile = Profile(submission=name, folder=folder, documents=list(documents))
        chunks: dict[str, list[Chunk]] = {path: self.chunks_of(path) for path in documents}
        readings: dict[str, TableReading] = {}
        for path in documents:
            title, kind = self.titles.get(path, ("", ""))
            reading = read_tables(chunks[path], "", title)
            first = " ".join(chunk.text for chunk in chunks[path][:2])
            role = role_of(path, title, kind, reading, first)
            profile.roles[path] = role
            if role == "guideline":
                continue
            reading.set_role(role)  # read once; the role, known from what was read, is stamped on its sources
            readings[path] = reading
        paths = [path for path in documents if profile.roles[path] != "guideline"]
        profile.documents = paths
        if not paths:
            profile.notes.append("no documents of the submission (only guidelines)")
            return profile

        locations = _Locations()
        aliases = Aliases()
        self._aliases = aliases
        self._table_locations(paths, readings, locations, aliases)
        self._prose_names(paths, chunks, locations, aliases)
        if not locations.order:
            locations.ensure("1")
            aliases.add_number("1")
        single = locations.order[0] if len(locations.order) == 1 else None
        for path in paths:
            role = profile.roles[path]
            if role == "notes":
                continue  # the underwriter's own notes restate the documents; they are not a source about the risk
            default = self._document_location(readings[path], aliases) or single
            for finding in read_text(chunks[path], aliases, default, site_wide=list(locations.order)):
                if finding.location in locations.readings:
                    locations.add(finding.location, finding.key, _sourced(finding, role))
            if default is not None:
                for exposures in readings[path].exposures:
                    locations.add(default, "exposures", exposures)
        profile.locations = locations.profiles()
        self._totals(profile, readings)
        read_facts(profile, paths, chunks, readings)
        self._claims(profile, paths, readings)
        merge_recommendations(profile, paths, chunks, readings, self._aliases, self._location_key)
        if self.filler is not None:
            documents = {path: (chunks[path], profile.roles[path], self._document_location(readings[path], aliases)
                                or single) for path in paths if profile.roles[path] != "notes"}
            advice = [rec.source.quote for rec in profile.recommendations]
            profile.model_use = asdict(self.filler.fill(profile.locations, documents, aliases, advice))
        profile.requests = requests_of(profile, paths, chunks, readings)
        profile.losses = summarize_losses(profile)
        self._stated_ratios(profile, paths, readings)
        profile.conflicts = find_conflicts(profile, readings, chunks)
        self._notes(profile, readings)
        return profile

    # ---- locations ------------------------------------------------------------------------------

    def _table_locations(self, paths: Sequence[str], readings: dict[str, TableReading], locations: _Locations,
                         aliases: Aliases) -> None:
        rows = [(path, row) for path in paths for row in readings[path].locations]
        buildings: dict[str, set[str]] = {}
        for path, row in rows:
            if readings[path].kinds & {"sov"}:
                buildings.setdefault(row.location, set()).add(row.building or "1")
        multi = {number for number, found in buildings.items() if len(found) > 1}
        sov_rows = [(p, r) for p, r in rows if "sov" in readings[p].kinds]
        for path, row in sov_rows + [(p, r) for p, r in rows if "sov" not in readings[p].kinds]:
            number = _row_number(row, multi)
            if sov_rows and number not in locations.readings and (path, row) not in sov_rows and \
                    row.location not in {r.location for _, r in sov_rows}:
                continue  # a location only a survey names, when the SOV lists the program: not added
            locations.ensure(number)
            if number != row.location:  # building 2 of location 1: 'Location 1' and its address name the site
                members = aliases.groups.setdefault(row.location, [])
                if number not in members:
                    members.append(number)
                aliases.add_number(row.location)
            else:
                aliases.add_number(number)
            if row.name:
                locations.names.setdefault(number, row.name)
                aliases.add(number, row.name)
            for key, value in row.values.items():
                locations.add(number, key, value)
                if key == "address":
                    aliases.add_address(row.location if number != row.location else number, str(value.value))

    def _prose_names(self, paths: Sequence[str], chunks: dict[str, list[Chunk]], locations: _Locations,
                     aliases: Aliases) -> None:
        """Names and addresses the documents give locations in running text: 'Location 2 - Warehouse, 4820 ...',
        'Main building (Location 1, 310 Chestnut Hill Drive)', 'Locations 1: 4700 Industrial Parkway; 2: ...'."""
        named = re.compile(r"([A-Z][\w&'-]*(?:\s+[\w&'-]+){0,5}?)\s*\((?:location|loc\.?)\s*#?\s*0*(\d{1,3})\b"
                           r"(?:\s*,\s*(\d+[A-Za-z]?\s+[A-Z][\w.'-]*))?", re.IGNORECASE)
        for path in paths:
            seen_headings: set[str] = set()
            for unit in visible_units(chunks[path]):
                texts = [unit.text]
                last = unit.heading.split(" > ")[-1] if unit.heading else ""
                if last and last not in seen_headings:
                    seen_headings.add(last)
                    texts.insert(0, last)
                for text in texts:
                    self._names_in(text, named, locations, aliases)
        self._building_aliases(locations, aliases)

    def _names_in(self, text: str, named: re.Pattern[str], locations: _Locations, aliases: Aliases) -> None:
        """The names and addresses one line or heading gives locations."""
        header = location_header(text)
        if header is None:
            # A heading naming a known location by address: 'The County Road 9 annex - 17 County Road 9'
            parts = re.split(r"\s+[-–—]\s+", text, maxsplit=1)
            if len(parts) == 2 and len(text.split()) <= 14 and not text.rstrip().endswith("."):
                by_address = aliases.named(parts[1])
                if len(by_address) == 1:
                    number = next(iter(by_address))
                    name = re.sub(r"^(?:the|a|an)\s+", "", parts[0].strip(), flags=re.IGNORECASE)
                    if name and not aliases.named(name):
                        locations.names.setdefault(number, name)
                        aliases.add(number, name)
                        self._head_alias(number, name, locations, aliases)
        if header is not None:
            number, rest = header
            if number in locations.readings or not locations.order or not self._has_sov(locations):
                locations.ensure(number)
                aliases.add_number(number)
                name = location_name(rest)
                if name and not re.search(r"\d", name):
                    locations.names.setdefault(number, name)
                    aliases.add(number, name)
                address = re.search(r"\b\d+[A-Za-z]?\s+[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*", rest)
                if address:
                    aliases.add_address(number, address.group(0))
        for match in named.finditer(text):
            number = match.group(2)
            if number in locations.readings:
                name = re.sub(r"^(?:the|a|an)\s+", "", match.group(1).strip(), flags=re.IGNORECASE)
                if name and len(name.split()) <= 5:
                    locations.names.setdefault(number, name)
                    aliases.add(number, name)
        for number, address in re.findall(r"(?:^|;|\s)(\d{1,2}):\s*(\d+\s+[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*)*)",
                                          text):
            if number in locations.readings:
                aliases.add_address(number, address)

    _GENERIC = frozenset(("building", "buildings", "location", "site", "property", "premises", "facility", "structure",
                          "campus", "road", "street", "drive", "avenue", "lane", "way", "parkway", "plant", "main",
                          "north", "south", "east", "west", "center", "centre", "complex", "court", "shipping",
                          "storage", "office", "offices"))

    def _head_alias(self, number: str, name: str, locations: _Locations, aliases: Aliases) -> None:
        """The head noun of a location's name ('County Road 9 annex' -> 'annex') is an alias too, when no other
        location's name shares it."""
        head = name.split()[-1].lower() if name.split() else ""
        if len(head) < 4 or head in self._GENERIC or not head.isalpha():
            return
        others = [n for k, n in locations.names.items() if k != number]
        if not any(head in other.lower().split() for other in others):
            aliases.add(number, f"the {head}")

    @staticmethod
    def _building_aliases(locations: _Locations, aliases: Aliases) -> None:
        """Where every location has one building, 'Building 2' and 'Bldg 2' name location 2; where one location has
        several, they name its buildings ('Building 2' is 1-2). With several such locations they name none."""
        def alias(number: str, building: str) -> None:
            aliases.names.setdefault(number, []).append(
                re.compile(rf"\b(?:building|bldg\.?)\s*#?\s*0*{re.escape(building)}\b", re.IGNORECASE))

        if not aliases.groups:
            for number in locations.order:
                alias(number, number)
        elif len(aliases.groups) == 1:
            for member in next(iter(aliases.groups.values())):
                alias(member, member.split("-", 1)[1])

    @staticmethod
    def _has_sov(locations: _Locations) -> bool:
        return any(value.source is not None and value.source.role == "sov"
                   for fields in locations.readings.values() for values in fields.values() for value in values)

    @staticmethod
    def _document_location(reading: TableReading, aliases: Aliases) -> str | None:
        """The one location a report is about, when its header says so ('Location inspected: Location 1 - ...')."""
        for label, value, _source in reading.labels:
            if re.fullmatch(r"(?:location|premises|site|property|risk)(?:\s*(?:inspected|surveyed|visited|address))?",
                            columns.normalize_header(label)):
                named = aliases.named(value)
                if len(named) == 1:
                    return next(iter(named))
        return None

    # ---- submission-level values ----------------------------------------------------------------

    def _totals(self, profile: Profile, readings: dict[str, TableReading]) -> None:
        stated: dict[str, Sourced] = {}
        for path in profile.documents:
            if profile.roles[path] != "sov":
                continue
            for totals in readings[path].location_totals:
                for key, value in totals.items():
                    stated.setdefault(key, value)
        for key in TOTAL_FIELDS:
            values = [loc.get(key) for loc in profile.locations]
            known = [v for v in values if isinstance(v, int | float)]
            summed = (float(sum(known)) if key in VALUE_FIELDS else int(sum(known))) if known and \
                len(known) == len(values) else None
            if key in stated and (summed is None or abs(float(stated[key].value) - summed) <= 1.0):
                profile.totals[key] = stated[key]
            elif summed is not None:
                # Where the statement's totals row disagrees with its rows, the rows are added up (the total is
                # then derived) and `conflicts` names both figures.
                basis = f"sum of {len(known)} locations" + (
                    f"; the totals row states {stated[key].value:,.0f} ({stated[key].source.cite()})"
                    if key in stated and stated[key].source else "")
                profile.totals[key] = Sourced(value=summed, method="derived", basis=basis)

    def _claims(self, profile: Profile, paths: Sequence[str], readings: dict[str, TableReading]) -> None:
        seen: dict[tuple[str, ...], Claim] = {}
        for path in sorted(paths, key=lambda p: 0 if profile.roles[p] == "loss_run" else 1):
            for claim in readings[path].claims:
                key = (claim.claim_number.lower(),) if claim.claim_number and re.search(r"\d", claim.claim_number) \
                    else (str(claim.date_of_loss), str(claim.incurred))
                if key not in seen:
                    seen[key] = claim
            profile.terms += readings[path].terms
        profile.claims = sorted(seen.values(), key=lambda c: (c.line, c.date_of_loss or date.min))
        known = {loc.number for loc in profile.locations}
        for claim in profile.claims:
            claim.location = self._location_key(claim.location, known)

    def _location_key(self, given: str, known: set[str]) -> str:
        """A location as a table names it ('1', '1-2', 'Lumen Hotel Asheville', 'Kettering') as a key of the
        profile's locations, or '' when it names none or several."""
        if not given or given in known:
            return given if given in known else ""
        if "-" in given and given.split("-", 1)[0] in known:
            return given.split("-", 1)[0]
        named = self._aliases.named(given)
        if len(named) == 1 and next(iter(named)) in known:
            return next(iter(named))
        return ""

    @staticmethod
    def _stated_ratios(profile: Profile, paths: Sequence[str], readings: dict[str, TableReading]) -> None:
        """Each line's valuation date and the loss ratio its loss run states on the line's totals row."""
        for summary in profile.losses:
            summary.valuation_date = profile.valuation_date
            for path in paths:
                for line, totals in readings[path].term_totals:
                    ratio = totals.get("loss_ratio_pct")
                    if ratio is not None and line == summary.line:
                        summary.stated_loss_ratio_pct = float(ratio.value)

    @staticmethod
    def _notes(profile: Profile, readings: dict[str, TableReading] | None = None) -> None:
        for location in profile.locations:
            missing = [LOCATION_FIELDS[key] for key in LOCATION_FIELDS if key not in location.fields]
            if missing:
                profile.notes.append(f"location {location.number}: not stated: {', '.join(missing)}")
        if not any(role == "sov" for role in profile.roles.values()):
            profile.notes.append("no statement of values among the documents: values come from other documents "
                                 "or are not stated")
        if not profile.claims and not profile.terms:
            profile.notes.append("no loss run among the documents: the loss history is not stated")
        for path, reading in (readings or {}).items():
            for where, headers in reading.unread:
                shown = ", ".join(headers[:8]) + (", ..." if len(headers) > 8 else "")
                profile.notes.append(f"{PurePath(path).name}, {where}: a table the profile does not read "
                                     f"(columns: {shown})")

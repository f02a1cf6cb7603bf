"""Values parsed from table rows: statements of values, loss runs, experience summaries, recommendation
lists, COPE tables and label/value tables, as ingest kept them (`index.types.TableRow`, with headers).

A document's rows are grouped into tables (by the table's name); each table is classified by the fields
its headers name (`columns`): a location table needs a location or address column and two more location
fields; a loss run a claim number or date of loss and a paid or incurred column; an experience summary a
term and a premium or loss ratio; a recommendation list a number and a text. Totals rows ("TOTAL",
"Totals") are kept apart: the profile compares them with the sum of the rows. A row that says "no claims
reported" is no claim.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.grounding.sources import location_of
from assistant.profile import columns
from assistant.profile.model import Claim, Recommendation, Source, Sourced, TermExperience
from assistant.profile.prose import area_of, extract
from index.types import Chunk, TableRow


@dataclass
class LocationRow:
    """One row of a location table: its location (and building) and the values it states."""

    location: str
    building: str | None
    values: dict[str, Sourced]
    name: str = ""  # "Molding plant" when the row names the location ("1 - Molding plant")


@dataclass
class TableReading:
    """What one document's tables say."""

    locations: list[LocationRow] = field(default_factory=list)
    location_totals: list[dict[str, Sourced]] = field(default_factory=list)  # per location table: its totals row
    claims: list[Claim] = field(default_factory=list)
    claim_totals: list[dict[str, Sourced]] = field(default_factory=list)
    terms: list[TermExperience] = field(default_factory=list)
    term_totals: list[tuple[str, dict[str, Sourced]]] = field(default_factory=list)  # (line, its totals row)
    recommendations: list[Recommendation] = field(default_factory=list)
    labels: list[tuple[str, str, Source]] = field(default_factory=list)  # (label, value, source) pairs
    exposures: list[Sourced] = field(default_factory=list)  # exposures tables, for the report's location
    kinds: set[str] = field(default_factory=set)  # sov, loss_run, experience, recommendations, cope, labels
    unread: list[tuple[str, list[str]]] = field(default_factory=list)  # (where, headers) of tables not understood
    requested: list[tuple[str, str, str, Source]] = field(default_factory=list)  # coverage, limit, deductible cells

    def set_role(self, role: str) -> None:
        """The document's role on every source read from it (known only once its tables are read)."""
        sourced = [value for row in self.locations for value in row.values.values()]
        sourced += [value for totals in (*self.location_totals, *self.claim_totals) for value in totals.values()]
        sourced += [value for _, totals in self.term_totals for value in totals.values()] + self.exposures
        sources = [value.source for value in sourced if value.source is not None]
        sources += [item.source for item in (*self.claims, *self.terms, *self.recommendations)]
        sources += [source for *_, source in (*self.labels, *self.requested)]
        for source in sources:
            source.role = role


def row_location(chunk: Chunk, row: TableRow) -> str:
    """Where one row is, as a reader finds it: 'sheet SOV, row 4', 'page 2, table 1, row 3', 'rows 3-4' -> 'row 3'."""
    base = location_of(chunk)
    if re.search(r"\brows?\s+\d+(?:-\d+)?$", base):
        return re.sub(r"\brows?\s+\d+(?:-\d+)?$", f"row {row.number}", base)
    table = row.table.strip()
    if table and table.lower() not in base.lower():
        return f"{base}, {table}, row {row.number}"
    return f"{base}, row {row.number}"


def source_of(chunk: Chunk, row: TableRow, role: str) -> Source:
    return Source(file=chunk.source, location=row_location(chunk, row), quote=row.text(), chunk_id=chunk.id,
                  page=chunk.page, role=role)


def _tables(chunks: Sequence[Chunk]) -> list[list[tuple[Chunk, TableRow]]]:
    """A document's rows grouped into tables, in reading order (a table's rows may span chunks)."""
    groups: dict[str, list[tuple[Chunk, TableRow]]] = {}
    for chunk in sorted((c for c in chunks if not c.flags), key=Chunk.sort_key):
        for row in chunk.rows:
            groups.setdefault(f"{row.table}\0{chunk.page if not row.table else ''}", []).append((chunk, row))
    return list(groups.values())


def _headers(table: list[tuple[Chunk, TableRow]]) -> list[str]:
    seen: dict[str, None] = {}
    for _, row in table:
        for name, _value in row.cells:
            seen.setdefault(name, None)
    return list(seen)


def _classify(headers: list[str], rows: Sequence[TableRow]) -> tuple[str, dict[str, str]] | None:
    cells: dict[str, list[str]] = {}
    for row in rows:
        for name, value in row.cells:
            cells.setdefault(name, []).append(value)
    loc = columns.columns_of(headers, columns.LOCATION_COLUMNS, cells)
    claim = columns.columns_of(headers, columns.CLAIM_COLUMNS, cells)
    term = columns.columns_of(headers, columns.TERM_COLUMNS, cells)
    rec = columns.columns_of(headers, columns.RECOMMENDATION_COLUMNS, cells)
    claim_fields, term_fields, rec_fields, loc_fields = (set(m.values()) for m in (claim, term, rec, loc))
    if term_fields & {"term", "term_dates"} and term_fields & {"earned_premium", "loss_ratio_pct"} and \
            "date_of_loss" not in claim_fields:
        return "experience", term
    if claim_fields & {"claim_number", "date_of_loss"} and claim_fields & {"incurred", "paid"}:
        return "loss_run", claim
    exposure = columns.columns_of(headers, columns.EXPOSURE_COLUMNS, cells)
    if {"side", "exposure"} <= set(exposure.values()) and not loc_fields & {"location", "address"}:
        return "exposures", exposure
    if "number" in rec_fields and "text" in rec_fields and not loc_fields & {"address", "tiv", "building_value"}:
        return "recommendations", rec
    if loc_fields & {"location", "address"} and len(loc_fields - {"location", "building", "address"}) >= 2:
        values = loc_fields & {"building_value", "contents_value", "bi_value", "tiv"}
        return ("sov" if values else "cope"), loc
    request = columns.columns_of(headers, columns.REQUEST_COLUMNS, cells)
    if "coverage" in request.values() and request.keys() & set(headers) and \
            {"limit", "deductible"} & set(request.values()) and len(headers) >= 3:
        return "requests", request
    if len(headers) <= 2 or all(len(row.cells) == 1 for row in rows):
        return "labels", {}
    return None


def _cell(row: TableRow, header: str) -> str:
    return next((value for name, value in row.cells if name == header), "")


def _by_field(row: TableRow, mapping: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for header, key in mapping.items():
        value = _cell(row, header)
        if value and not columns.is_empty(value):
            found.setdefault(key, value)
    return found


def _location_values(cells: dict[str, str], source: Source, kind: str,
                     scales: dict[str, float] | None = None) -> dict[str, Sourced]:
    """The location fields a row's cells state, parsed; amounts in a column counted in thousands ('Bldg ($K)')
    multiplied out."""
    values: dict[str, Sourced] = {}
    scales = scales or {}

    def put(key: str, value: object) -> None:
        if value is not None and key not in values:
            values[key] = Sourced(value=value, source=source, method="table")

    address = cells.get("address")
    if address:
        parts = [address] + [cells[k] for k in ("city", "state") if cells.get(k)]
        text = ", ".join(parts)
        put("address", f"{text} {cells['zip']}".strip() if cells.get("zip") else text)
    put("occupancy", cells.get("occupancy"))
    for key in ("building_value", "contents_value", "bi_value", "tiv"):
        amount = columns.money(cells.get(key))
        put(key, round(amount * scales.get(key, 1.0), 2) if amount is not None else None)
    buildings = columns.integer(cells.get("buildings"))
    put("buildings", buildings)
    if cells.get("construction_class"):
        number, name = columns.construction(cells["construction_class"])
        put("construction_class", number)
        if not cells.get("construction"):
            put("construction", name)
    if cells.get("construction"):
        number, name = columns.construction(cells["construction"])
        put("construction_class", number)
        put("construction", name or cells["construction"].strip())  # the document's words when no ISO name fits
        if kind == "cope":  # a COPE table's construction cell gives year and area too ("ISO 3 NC, 1979, 168,000 sq ft")
            put("year_built", columns.year(cells["construction"]))
            put("area_sqft", area_of(cells["construction"]))
    put("year_built", columns.year(cells.get("year_built")))
    area = columns.number(cells.get("area_sqft"))
    put("area_sqft", int(area) if area is not None else None)
    stories = columns.integer(cells.get("stories"))
    put("stories", stories)
    storage = columns.number(cells.get("storage_height_ft"))
    put("storage_height_ft", (int(storage) if storage == int(storage) else storage) if storage is not None else None)
    coverage = columns.percent(cells.get("sprinkler_coverage_pct")) if cells.get("sprinkler_coverage_pct") else None
    protection = cells.get("protection", "")
    if coverage is None and protection:
        for key, value in extract(protection):
            if key in ("sprinkler_coverage_pct", "sprinklered", "alarm"):
                put(key, value)
        if re.search(r"\bnot\s+sprinklered\b|\bnone\b", protection, re.IGNORECASE):
            put("sprinklered", False)
            put("sprinkler_coverage_pct", 0.0)
        elif re.search(r"\b(?:ESFR|wet[\s-]pipe|dry[\s-]pipe|pre-?action|sprinkler)", protection, re.IGNORECASE):
            pct = columns.percent(protection) if "%" in protection else None
            put("sprinkler_coverage_pct", pct)
            put("sprinklered", True)
    put("sprinkler_coverage_pct", coverage)
    sprinklered = columns.yes_no(cells.get("sprinklered")) if cells.get("sprinklered") else None
    if sprinklered is None and coverage is not None:
        sprinklered = coverage > 0
    put("sprinklered", sprinklered)
    system = cells.get("sprinkler_type") or (protection if protection else None)
    if system and values.get("sprinklered") is not None and values["sprinklered"].value is False:
        put("sprinkler_type", "None")  # "None", "Not sprinklered": the system a document states is none
    elif system and not columns.is_empty(system) and system.strip().lower() not in ("none", "no", "n"):
        put("sprinkler_type", system.split(";")[0].strip() if kind == "cope" else system)
    elif system and system.strip().lower() in ("none", "no", "n"):
        put("sprinklered", False)
        put("sprinkler_type", "None")
    put("sprinkler_design", cells.get("sprinkler_design"))
    put("ppc", columns.protection_class(cells.get("ppc")))
    put("alarm", cells.get("alarm"))
    hydrant = columns.number(cells.get("hydrant_distance_ft"))
    put("hydrant_distance_ft", int(hydrant) if hydrant is not None else None)
    put("fire_station_distance_mi", columns.number(cells.get("fire_station_distance_mi")))
    exposures = cells.get("exposures")
    if exposures and exposures.strip().lower() not in ("none", "light", "no", "none noted"):
        put("exposures", [exposures])
    return values


def _read_locations(table: list[tuple[Chunk, TableRow]], mapping: dict[str, str], kind: str, role: str,
                    reading: TableReading) -> None:
    totals: dict[str, Sourced] = {}
    scales = {key: columns.header_scale(header) for header, key in mapping.items()}
    for chunk, row in table:
        cells = _by_field(row, mapping)
        source = source_of(chunk, row, role)
        label = cells.get("location") or cells.get("address") or (row.cells[0][1] if row.cells else "")
        if columns.is_total(label) or columns.is_total(row.cells[0][1] if row.cells else ""):
            for key, value in _location_values(cells, source, kind, scales).items():
                if key in ("building_value", "contents_value", "bi_value", "tiv", "area_sqft"):
                    totals[key] = value
            continue
        number = columns.location_key(cells.get("location"))
        if number is None:
            continue
        name = cells.get("name", "").strip()
        rest = re.sub(r"^\s*(?:loc(?:ation)?\.?\s*#?\s*)?0*\d+\s*[-–—:]?\s*", "", cells.get("location", ""), flags=re.I)
        if not name and rest and not re.match(r"^\d", rest):
            name = rest.strip()
        building = columns.location_key(cells.get("building")) if cells.get("building") else None
        reading.locations.append(LocationRow(number, building, _location_values(cells, source, kind, scales), name))
    if totals:
        reading.location_totals.append(totals)


def _read_claims(table: list[tuple[Chunk, TableRow]], mapping: dict[str, str], role: str, line: str,
                 reading: TableReading) -> None:
    totals: dict[str, Sourced] = {}
    for chunk, row in table:
        cells = _by_field(row, mapping)
        source = source_of(chunk, row, role)
        labels = " ".join(value for _, value in row.cells[:4])
        if any(columns.is_total(value) for _, value in row.cells):
            for key in ("paid", "reserve", "incurred"):
                amount = columns.money(cells.get(key))
                if amount is not None:
                    totals[key] = Sourced(value=amount, source=source)
            continue
        if re.search(r"\bno\s+(?:claims?|losses)\b", labels, re.IGNORECASE) and not cells.get("claim_number"):
            continue
        when = columns.day(cells.get("date_of_loss"))
        incurred = columns.money(cells.get("incurred"))
        paid = columns.money(cells.get("paid"))
        reserve = columns.money(cells.get("reserve"))
        number = cells.get("claim_number", "")
        if when is None and not (re.search(r"\d", number) and len(number) <= 30):
            continue  # a note under the table, not a claim
        status = columns.claim_status(cells.get("status"))
        if not status:  # a sheet or table of closed (or open) claims, or a 'Closed' date column
            named = f"{table[0][1].table} {chunk.heading}".lower()
            status = ("open" if re.search(r"\bopen\s+claims\b", named) else "closed"
                      if re.search(r"\bclosed\s+claims\b", named) or columns.day(cells.get("closed")) else "")
        if reserve is None and status == "closed" and paid is not None:
            reserve = 0.0  # a closed claim carries no outstanding reserve
        if incurred is None and paid is not None:
            incurred = paid + (reserve or 0.0)
        cause = cells.get("cause", "")
        where = columns.location_building_key(cells.get("location")) or _location_in(cause)
        policy = cells.get("policy", "")
        claim_line = columns.line_of_business(cells["coverage"]) if cells.get("coverage") else None
        if claim_line is None and (re.search(r"\bGL\b|-GL-", policy) or re.search(r"-GL?-", number)):
            claim_line = "liability"
        where = where if where is not None else (cells.get("location", "").strip() or None)
        reading.claims.append(Claim(
            claim_number=cells.get("claim_number", ""), date_of_loss=when, cause=cause, line=claim_line or line,
            paid=paid, reserve=reserve, incurred=incurred, status=status,
            location=where or "", policy=policy, source=source))
    if totals:
        reading.claim_totals.append(totals)


def _location_in(text: str) -> str | None:
    match = re.search(r"\b(?:location|loc\.?)\s*#?\s*0*(\d{1,3})\b", text, re.IGNORECASE)
    return match.group(1) if match else None


def _read_terms(table: list[tuple[Chunk, TableRow]], mapping: dict[str, str], role: str, line: str,
                reading: TableReading) -> None:
    lines_seen: list[str] = []
    for chunk, row in table:
        cells = _by_field(row, mapping)
        source = source_of(chunk, row, role)
        label = cells.get("term") or cells.get("term_dates") or ""
        if columns.is_total(label):
            # "TOTAL", or "Property total" / "General Liability total" under each line's terms
            totals: dict[str, Sourced] = {}
            for key in ("earned_premium", "incurred"):
                amount = columns.money(cells.get(key))
                if amount is not None:
                    totals[key] = Sourced(value=amount, source=source)
            ratio = columns.number(cells.get("loss_ratio_pct"))
            if ratio is not None:
                totals["loss_ratio_pct"] = Sourced(value=ratio, source=source)
            total_line = columns.line_of_business(label) or (lines_seen[-1] if len(set(lines_seen)) == 1 else None)
            if totals:
                reading.term_totals.append((total_line or line, totals))
            lines_seen = []
            continue
        if len(row.cells) == 1:
            continue  # a note under the table
        start, end = columns.date_range(cells.get("term_dates") or cells.get("term"))
        policy = cells.get("policy", "")
        term_line = columns.line_of_business(cells["coverage"]) if cells.get("coverage") else None
        if term_line is None and re.search(r"\bGL\b|-GL-", policy):
            term_line = "liability"
        lines_seen.append(term_line or line)
        reading.terms.append(TermExperience(
            term=cells.get("term") or cells.get("term_dates", ""), start=start, end=end, line=term_line or line,
            earned_premium=columns.money(cells.get("earned_premium")), claims=columns.integer(cells.get("claims")),
            incurred=columns.money(cells.get("incurred")), loss_ratio_pct=columns.number(cells.get("loss_ratio_pct")),
            source=source))


def _read_recommendations(table: list[tuple[Chunk, TableRow]], mapping: dict[str, str], role: str,
                          reading: TableReading) -> None:
    for chunk, row in table:
        cells = _by_field(row, mapping)
        number = cells.get("number", "").strip()
        if not number or not re.search(r"\d", number):
            continue
        status = cells.get("status", "")
        reading.recommendations.append(Recommendation(
            number=number, text=cells.get("text", ""), priority=cells.get("priority", "").strip().lower(),
            status=status.strip(), location=columns.location_building_key(cells.get("location")) or
            cells.get("location", "").strip() or _location_in(cells.get("text", "")) or "",
            source=source_of(chunk, row, role)))


def _read_exposures(table: list[tuple[Chunk, TableRow]], mapping: dict[str, str], role: str,
                    reading: TableReading) -> None:
    """An exposures table ('Side | Distance | Exposure'): one item per side, for the location the report is on."""
    items = []
    table = [(chunk, row) for chunk, row in table if chunk.id == table[0][0].id]  # one chunk: one verbatim quote
    for _, row in table:
        cells = _by_field(row, mapping)
        if not cells.get("exposure"):
            continue
        where = ", ".join(cells[k] for k in ("side", "distance") if cells.get(k))
        items.append(f"{where}: {cells['exposure']}" if where else cells["exposure"])
    if items:
        chunk, row = table[0]
        source = source_of(chunk, row, role)
        source.location = re.sub(r", row \d+$", f", rows {table[0][1].number}-{table[-1][1].number}", source.location)
        source.quote = "\n".join(r.text() for _, r in table)
        reading.exposures.append(Sourced(value=items, source=source))


def read_tables(chunks: Sequence[Chunk], role: str, title: str = "") -> TableReading:
    """Every table of one document, read by its kind."""
    reading = TableReading()
    document_line = columns.line_of_business(title) or "property"
    for table in _tables(chunks):
        headers = _headers(table)
        found = _classify(headers, [row for _, row in table])
        if found is None:
            if len(headers) >= 3:  # a real table, not a note: say it was not read, so a reader knows why
                reading.unread.append((row_location(table[0][0], table[0][1]).rsplit(", row", 1)[0], headers))
            continue
        kind, mapping = found
        reading.kinds.add(kind)
        name = table[0][1].table
        line = columns.line_of_business(name) or document_line
        if kind in ("sov", "cope"):
            _read_locations(table, mapping, kind, role, reading)
        elif kind == "loss_run":
            _read_claims(table, mapping, role, line, reading)
        elif kind == "experience":
            _read_terms(table, mapping, role, line, reading)
        elif kind == "recommendations":
            _read_recommendations(table, mapping, role, reading)
        elif kind == "exposures":
            _read_exposures(table, mapping, role, reading)
        elif kind == "requests":
            for chunk, row in table:
                cells = _by_field(row, mapping)
                if cells.get("coverage"):
                    reading.requested.append((cells["coverage"], cells.get("limit", ""), cells.get("deductible", ""),
                                              source_of(chunk, row, role)))
        else:
            for chunk, row in table:
                if len(row.cells) == 1:
                    label, value = row.cells[0]
                elif len(row.cells) == 2:
                    label, value = row.cells[0][1], row.cells[1][1]
                else:
                    continue
                reading.labels.append((label, value, source_of(chunk, row, role)))
    return reading

"""A profile written out: JSON (the model as is), CSV (one row per value, with its source) and Markdown
(tables a reader can file, every value with its source; a value no document states reads "not stated")."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from assistant.profile.model import LOCATION_FIELDS, TOTAL_FIELDS, VALUE_FIELDS, Profile, Sourced

NOT_STATED = "not stated"
FORMATS = ("json", "md", "csv")


def show(key: str, value: object) -> str:
    """A value as a reader expects it: dollars with commas, areas with commas, yes/no."""
    if value is None:
        return NOT_STATED
    if isinstance(value, list | tuple):  # exposures: one item per side
        return "; ".join(str(item) for item in value) or NOT_STATED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and (key in VALUE_FIELDS or key in ("paid", "reserve", "incurred", "premium",
                                                                          "earned_premium", "open_reserves")):
        return f"${value:,.0f}"
    if isinstance(value, float) and value == int(value):
        value = int(value)
    if isinstance(value, int) and key in ("area_sqft", "hydrant_distance_ft"):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def cite(sourced: Sourced | None) -> str:
    if sourced is None:
        return ""
    if sourced.source is None:
        return sourced.basis or sourced.method
    return sourced.source.cite()


def rows(profile: Profile) -> Iterator[dict[str, str]]:
    """Every value of the profile as one flat row: section, location, field, value, source file, location,
    quote, method."""
    def row(section: str, where: str, key: str, sourced: Sourced | None) -> dict[str, str]:
        source = sourced.source if sourced is not None else None
        return {"section": section, "location": where, "field": key,
                "value": show(key, sourced.value if sourced is not None else None),
                "file": source.name if source else "", "where": source.location if source else "",
                "quote": source.quote if source else (sourced.basis if sourced else ""),
                "method": sourced.method if sourced is not None else ""}

    yield row("submission", "", "insured", profile.insured)
    yield row("submission", "", "effective_date", profile.effective_date)
    yield row("submission", "", "valuation_date", profile.valuation_date)
    for key, sourced in profile.premium.items():
        yield row("premium", "", key, sourced)
    for location in profile.locations:
        for key in LOCATION_FIELDS:
            yield row("location", location.number, key, location.sourced(key))
    for key in TOTAL_FIELDS:
        yield row("totals", "", key, profile.totals.get(key))
    for claim in profile.claims:
        for key in ("date_of_loss", "cause", "paid", "reserve", "incurred", "status"):
            value = getattr(claim, key)
            yield {"section": f"claim {claim.claim_number}", "location": claim.location, "field": key,
                   "value": show(key, value if value != "" else None), "file": claim.source.name,
                   "where": claim.source.location, "quote": claim.source.quote, "method": "table"}
    for rec in profile.recommendations:
        source = rec.status_source or rec.source
        yield {"section": f"recommendation {rec.number}", "location": rec.location, "field": "status",
               "value": rec.status, "file": source.name, "where": source.location, "quote": source.quote,
               "method": "table" if "|" in source.quote else "text"}
    for conflict in profile.conflicts:
        yield {"section": "conflict", "location": conflict.location, "field": conflict.field,
               "value": conflict.summary, "file": "", "where": "", "quote": "", "method": ""}


def to_json(profile: Profile) -> str:
    return json.dumps(profile.model_dump(mode="json"), ensure_ascii=False, indent=2)


def to_csv(profile: Profile) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["section", "location", "field", "value", "file", "where", "quote",
                                                "method"])
    writer.writeheader()
    writer.writerows(rows(profile))
    return buffer.getvalue()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(profile: Profile) -> str:
    lines = [f"# Submission profile: {profile.insured.value if profile.insured else profile.submission}", ""]
    lines.append(f"- Submission: {profile.submission} ({len(profile.documents)} documents)")
    for label, sourced in (("Effective date", profile.effective_date), ("Loss runs valued", profile.valuation_date)):
        lines.append(f"- {label}: {show('', sourced.value) if sourced else NOT_STATED}"
                     + (f" ({cite(sourced)})" if sourced else ""))
    for key, sourced in profile.premium.items():
        lines.append(f"- Premium, {key}: {show('premium', sourced.value)} ({cite(sourced)})")
    lines += ["", "## Locations", ""]
    for location in profile.locations:
        title = f"Location {location.number}" + (f" - {location.name}" if location.name else "")
        lines += [f"### {title}", "", "| Field | Value | Source |", "|---|---|---|"]
        for key, label in LOCATION_FIELDS.items():
            sourced = location.sourced(key)
            lines.append(f"| {label} | {_cell(show(key, sourced.value if sourced else None))} | "
                         f"{_cell(cite(sourced))} |")
        lines.append("")
    lines += ["## Totals", "", "| Field | Value | Source |", "|---|---|---|"]
    for key in TOTAL_FIELDS:
        sourced = profile.totals.get(key)
        lines.append(f"| {LOCATION_FIELDS[key]} | {show(key, sourced.value if sourced else None)} | "
                     f"{_cell(cite(sourced))} |")
    lines += ["", "## Loss history", ""]
    if profile.claims:
        lines += ["| Claim | Line | Date of loss | Cause | Paid | Reserve | Incurred | Status | Source |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for claim in profile.claims:
            lines.append(f"| {_cell(claim.claim_number)} | {claim.line} | {show('', claim.date_of_loss)} | "
                         f"{_cell(claim.cause)} | {show('paid', claim.paid)} | {show('reserve', claim.reserve)} | "
                         f"{show('incurred', claim.incurred)} | {claim.status} | {_cell(claim.source.cite())} |")
    else:
        lines.append(f"Claims: {NOT_STATED}.")
    for summary in profile.losses:
        ratio = f"{summary.loss_ratio_pct}%" if summary.loss_ratio_pct is not None else NOT_STATED
        lines += ["", f"- {summary.line.capitalize()}: {summary.claims} claims ({summary.open_claims} open), "
                      f"incurred {show('incurred', summary.incurred)}, open reserves "
                      f"{show('reserve', summary.open_reserves)}, loss ratio {ratio}"
                      + (f" on earned premium {show('premium', summary.earned_premium)}" if summary.earned_premium
                         else "")]
    lines += ["", "## Recommendations", ""]
    if profile.recommendations:
        lines += ["| No. | Priority | Status | Recommendation | Source |", "|---|---|---|---|---|"]
        for rec in profile.recommendations:
            lines.append(f"| {rec.number} | {rec.priority or NOT_STATED} | {rec.status} | {_cell(rec.text)} | "
                         f"{_cell((rec.status_source or rec.source).cite())} |")
    else:
        lines.append(f"Recommendations: {NOT_STATED}.")
    lines += ["", "## Conflicts between documents", ""]
    lines += [f"- {_cell(conflict.summary)}" for conflict in profile.conflicts] or ["None found."]
    if profile.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in profile.notes]
    return "\n".join(lines) + "\n"


def write(profile: Profile, out: Path) -> None:
    """Write the profile in the format its suffix names (.json, .md, .csv)."""
    from index.atomic import write_atomic

    suffix = out.suffix.lower().lstrip(".")
    writers = {"json": to_json, "md": to_markdown, "csv": to_csv}
    if suffix not in writers:
        raise ValueError(f"{out}: unknown format .{suffix} (use {', '.join('.' + f for f in FORMATS)})")
    write_atomic(out, writers[suffix](profile))

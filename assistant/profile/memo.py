"""The referral memo: a submission's profile and its rules check, written up for the underwriting file, in
Markdown or DOCX. Insured, effective date, the triggered rules with their evidence, locations (COPE and values),
totals, the loss history with a bar chart of incurred per year, conflicts, open recommendations; every value
cites its source (a numbered list of "statement_of_values.csv, row 3: quote"), and a value no document states
reads "not stated".

`write_memo(profile, report, out)` writes `out` (.md, with the chart as a PNG beside it, or .docx with the
chart embedded); `memo_blocks` is the memo as format-neutral blocks, `loss_chart_png` the chart (Pillow).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from assistant.profile.model import LOCATION_FIELDS, VALUE_FIELDS, LossSummary, Profile, Source, Sourced
from assistant.profile.rules import CheckReport, Evidence

NOT_STATED = "not stated"
DONE_STATUSES = ("complete", "completed", "closed", "done", "resolved")
MEMO_SUFFIXES = (".md", ".markdown", ".docx")
LINE_COLOURS = {"property": (37, 99, 165), "liability": (214, 120, 38)}
OTHER_COLOUR = (110, 110, 110)


class MemoError(ValueError):
    """A memo that cannot be written (one line)."""


# ---- blocks ---------------------------------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # heading | paragraph | bullets | table | chart | bars
    text: str = ""
    level: int = 2
    items: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    image: bytes = b""


class _Sources:
    """Numbered sources: each distinct (file, location, quote) once, cited as [n]."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[str, str, str], int] = {}
        self.sources: list[Source] = []

    def ref(self, source: Source | None) -> str:
        if source is None:
            return ""
        key = (source.file, source.location, source.quote)
        if key not in self.numbers:
            self.sources.append(source)
            self.numbers[key] = len(self.sources)
        return f"[{self.numbers[key]}]"

    def refs(self, sources: list[Source]) -> str:
        return "".join(dict.fromkeys(self.ref(source) for source in sources))


def _money(value: Any) -> str:
    number = _float(value)
    return f"${number:,.0f}" if number is not None else str(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _plain(value: Any) -> str:
    if value is None or value == "":
        return NOT_STATED
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date):
        return f"{value:%m/%d/%Y}"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def format_value(key: str, value: Any) -> str:
    """A field's value as a reader expects it: "$28,400,000", "182,000", "100%", "180 ft", "Yes"."""
    if value is None or value == "":
        return NOT_STATED
    if key in VALUE_FIELDS or key in ("incurred", "paid", "reserve", "open_reserves", "earned_premium",
                                      "largest_location_tiv", "total_tiv") or key.startswith("tiv"):
        return _money(value)
    if key == "year_built" and isinstance(value, int | float):
        return str(int(value))
    suffix = {"sprinkler_coverage_pct": "%", "loss_ratio_pct": "%", "hydrant_distance_ft": " ft",
              "fire_station_distance_mi": " mi"}.get(key, "")
    shown = _plain(value)
    return f"{shown}{suffix}" if _float(value) is not None else shown


def _cell(key: str, sourced: Sourced | None, sources: _Sources, conflicted: bool = False) -> str:
    if sourced is None or sourced.value is None or sourced.value == "":
        return NOT_STATED
    shown = format_value(key, sourced.value)
    if sourced.source is not None:
        shown += f" {sources.ref(sourced.source)}"
    elif sourced.basis:
        shown += f" ({sourced.basis})"
    return shown + (" (conflict)" if conflicted else "")


def _statement(label: str, key: str, sourced: Sourced | None, sources: _Sources) -> str:
    if sourced is None:
        return f"{label}: {NOT_STATED}"
    cite = f" ({sourced.source.cite()}) {sources.ref(sourced.source)}" if sourced.source else (
        f" ({sourced.basis})" if sourced.basis else "")
    return f"{label}: {format_value(key, sourced.value)}{cite}"


def _evidence_line(item: Evidence, sources: _Sources) -> str:
    where = "; ".join(dict.fromkeys(source.cite() for source in item.sources))
    cite = f" ({where}) {sources.refs(item.sources)}" if where else ""
    basis = f", {item.basis}" if item.basis and item.method == "derived" else ""
    return f"{item.field} = {format_value(item.field, item.value)}{basis}{cite}"


# ---- the memo -------------------------------------------------------------------------------------------------


def memo_blocks(profile: Profile, report: CheckReport | None, *, chart: bytes | None = None) -> list[Block]:
    """The memo as blocks, in order; `chart`: the loss chart's PNG (None: drawn here; b"": none)."""
    sources = _Sources()
    insured = profile.insured.value if profile.insured else profile.submission
    blocks = [Block("heading", f"Referral memo: {insured}", level=1)]
    facts = [_statement("Insured", "insured", profile.insured, sources),
             f"Submission: {profile.submission} ({len(profile.documents)} documents)",
             _statement("Proposed effective date", "effective_date", profile.effective_date, sources)]
    if report is not None:
        facts.append(f"Guideline: {report.guideline or report.rules_file}")
    for key, premium in profile.premium.items():
        facts.append(_statement(f"Premium ({key})", "earned_premium", premium, sources))
    facts.append(f"Prepared: {date.today():%m/%d/%Y}, from the submission's documents by Underwriter Assistant")
    blocks.append(Block("bullets", items=facts))

    blocks += _rules_blocks(report, sources)
    blocks += _location_blocks(profile, sources)
    blocks += _loss_blocks(profile, sources, chart)

    blocks.append(Block("heading", "Conflicts between documents"))
    if profile.conflicts:
        for conflict in profile.conflicts:
            readings = "; ".join(
                f"{format_value(conflict.field, r.value)} ({r.source.cite() if r.source else r.basis or 'derived'})"
                f" {sources.ref(r.source)}".rstrip() for r in conflict.readings)
            blocks.append(Block("bullets", items=[f"{conflict.summary}: {readings}"]))
    else:
        blocks.append(Block("paragraph", "No conflicts found between the documents."))

    blocks.append(Block("heading", "Open recommendations"))
    open_recs = [r for r in profile.recommendations if not r.status.lower().startswith(DONE_STATUSES)]
    if open_recs:
        rows = [[r.number, r.text or NOT_STATED, r.priority or NOT_STATED, r.status or "open", r.location or "",
                 sources.refs([r.source] + ([r.status_source] if r.status_source else []))] for r in open_recs]
        blocks.append(Block("table", header=["No.", "Recommendation", "Priority", "Status", "Loc", "Source"],
                            rows=rows))
    else:
        closed = len(profile.recommendations)
        blocks.append(Block("paragraph", f"None open ({closed} recommendations stated, all complete)." if closed
                            else "No recommendations stated."))

    if profile.notes:
        blocks.append(Block("heading", "Extraction notes"))
        blocks.append(Block("bullets", items=list(profile.notes)))

    blocks.append(Block("heading", "Sources"))
    blocks.append(Block("bullets", items=[f"[{n}] {source.cite()}: \u201c{source.quote}\u201d"
                                          for n, source in enumerate(sources.sources, 1)]))
    return blocks


def _rules_blocks(report: CheckReport | None, sources: _Sources) -> list[Block]:
    blocks = [Block("heading", "Referral triggers")]
    if report is None:
        return [*blocks, Block("paragraph", "The carrier's rules were not checked.")]
    checked = len(report.results) - len(report.not_reviewed)
    blocks.append(Block("paragraph", f"{checked} rules checked from {Path(report.rules_file).name or 'the rules'}"
                        f": {len(report.fired)} fired, {len(report.clear)} clear, {len(report.cannot_check)} "
                        "could not be checked."))
    blocks += [Block("paragraph", f"Note: {note}") for note in report.notes]
    for result in report.fired:
        blocks.append(Block("heading", f"\u00a7 {result.section} {result.action or result.rule_id}", level=3))
        blocks.append(Block("paragraph", f"{result.text} (rule {result.rule_id})".strip()))
        items = []
        for trigger in result.triggers:
            evidence = "; ".join(_evidence_line(item, sources) for item in trigger.evidence)
            items.append(f"{trigger.subject}: {'; '.join(trigger.conditions)}. Evidence: {evidence}")
        items += [f"also {line}" for line in result.unchecked]
        blocks.append(Block("bullets", items=items))
    if report.cannot_check:
        blocks.append(Block("heading", "Rules that could not be checked", level=3))
        blocks.append(Block("bullets", items=[f"\u00a7 {r.section} {r.rule_id} ({r.text or r.test}): "
                                              + "; ".join(r.unchecked) for r in report.cannot_check]))
    if report.clear:
        blocks.append(Block("heading", "Rules checked and clear", level=3))
        blocks.append(Block("paragraph", ", ".join(f"\u00a7 {r.section} {r.rule_id}" for r in report.clear)))
    if report.not_reviewed:
        blocks.append(Block("heading", "Drafted rules not reviewed (not applied)", level=3))
        blocks.append(Block("bullets", items=[f"\u00a7 {r.section} {r.rule_id}: {r.text}"
                                              for r in report.not_reviewed]))
    return blocks


COPE_TABLES = (
    ("Construction and occupancy", ("address", "occupancy", "construction_class", "construction", "year_built",
                                    "area_sqft", "stories")),
    ("Protection and exposure", ("sprinklered", "sprinkler_coverage_pct", "sprinkler_type", "sprinkler_design",
                                 "alarm", "ppc", "hydrant_distance_ft", "fire_station_distance_mi", "exposures")),
    ("Values", VALUE_FIELDS),
)


def _location_blocks(profile: Profile, sources: _Sources) -> list[Block]:
    blocks = [Block("heading", "Locations")]
    if not profile.locations:
        return [*blocks, Block("paragraph", "No locations stated.")]
    conflicted = {(c.location, c.field) for c in profile.conflicts}
    for title, keys in COPE_TABLES:
        rows = []
        for loc in profile.locations:
            label = loc.number + (f" {loc.name}" if loc.name else "")
            rows.append([label] + [_cell(key, loc.sourced(key), sources, (loc.number, key) in conflicted)
                                   for key in keys])
        if title == "Values":
            rows.append(["Total"] + [_cell(key, profile.totals.get(key), sources) for key in VALUE_FIELDS])
        blocks.append(Block("heading", title, level=3))
        blocks.append(Block("table", header=["Loc"] + [LOCATION_FIELDS[key] for key in keys], rows=rows))
    others = {key: value for key, value in profile.totals.items() if key not in VALUE_FIELDS}
    if others:
        blocks.append(Block("bullets", items=[_statement(f"Total {LOCATION_FIELDS.get(key, key)}", key, value, sources)
                                              for key, value in others.items()]))
    return blocks


def _by_year(profile: Profile) -> dict[str, dict[int, float]]:
    """Incurred per year per line: the summaries' by_year, else counted from the dated claims."""
    years: dict[str, dict[int, float]] = {}
    for summary in profile.losses:
        if summary.by_year:
            years[summary.line] = {item.year: item.incurred for item in summary.by_year}
    for claim in profile.claims:
        if claim.line in years or claim.date_of_loss is None or claim.incurred is None:
            continue
        years.setdefault(f"{claim.line}*", {}).setdefault(claim.date_of_loss.year, 0.0)
        years[f"{claim.line}*"][claim.date_of_loss.year] += claim.incurred
    return {line.rstrip("*"): values for line, values in years.items()}


def _loss_blocks(profile: Profile, sources: _Sources, chart: bytes | None) -> list[Block]:
    blocks = [Block("heading", "Loss history")]
    if not profile.claims and not profile.losses and not profile.terms:
        return [*blocks, Block("paragraph", "No loss history stated.")]
    if profile.losses:
        blocks.append(Block("table", header=["Line", "Claims", "Open", "Incurred", "Paid", "Open reserves",
                                             "Claims per year", "Loss ratio", "Valued"],
                            rows=[_summary_row(summary, profile, sources) for summary in profile.losses]))
    by_year = _by_year(profile)
    if by_year:
        image = loss_chart_png(profile) if chart is None else chart
        if image:
            blocks.append(Block("chart", "Incurred losses per year", image=image))
        blocks.append(Block("bars", "Incurred per year", items=_text_bars(by_year)))
    if profile.claims:
        rows = [[format_value("date", c.date_of_loss) if c.date_of_loss else NOT_STATED, c.claim_number or "",
                 c.line, c.cause or NOT_STATED, c.status or NOT_STATED, format_value("paid", c.paid),
                 format_value("reserve", c.reserve), format_value("incurred", c.incurred), c.location or "",
                 sources.ref(c.source)]
                for c in sorted(profile.claims, key=lambda c: (c.date_of_loss or date.min, c.claim_number))]
        blocks.append(Block("heading", "Claims", level=3))
        blocks.append(Block("table", header=["Date of loss", "Claim", "Line", "Cause", "Status", "Paid", "Reserve",
                                             "Incurred", "Loc", "Source"], rows=rows))
    return blocks


def _summary_row(summary: LossSummary, profile: Profile, sources: _Sources) -> list[str]:
    claims = [c.source for c in profile.claims if c.line == summary.line]
    terms = [t.source for t in profile.terms if t.line == summary.line]
    ratio = summary.loss_ratio_pct if summary.loss_ratio_pct is not None else summary.stated_loss_ratio_pct
    ratio_text = format_value("loss_ratio_pct", ratio) + (f" {sources.refs(terms)}" if ratio is not None and terms
                                                          else "")
    valued = _cell("valuation_date", summary.valuation_date, sources)
    return [summary.line, f"{summary.claims} {sources.refs(claims)}".strip(), str(summary.open_claims),
            _money(summary.incurred), _money(summary.paid), _money(summary.open_reserves),
            format_value("frequency", summary.frequency_per_year), ratio_text, valued]


def _text_bars(by_year: dict[str, dict[int, float]], width: int = 30) -> list[str]:
    top = max((value for values in by_year.values() for value in values.values()), default=0.0) or 1.0
    lines = []
    for line, values in by_year.items():
        for year in sorted(values):
            bar = "\u2588" * max(1 if values[year] else 0, round(values[year] / top * width))
            lines.append(f"{line:<9} {year}  {bar:<{width}}  {_money(values[year])}")
    return lines


# ---- the chart ------------------------------------------------------------------------------------------------


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def loss_chart_png(profile: Profile, width: int = 720, height: int = 340) -> bytes:
    """A bar chart of incurred losses per year (one bar per line of business in each year), as PNG bytes;
    b"" when no year's losses are known."""
    from PIL import Image, ImageDraw

    by_year = _by_year(profile)
    years = sorted({year for values in by_year.values() for year in values})
    if not years:
        return b""
    lines = list(by_year)
    top = _nice_ceiling(max(value for values in by_year.values() for value in values.values()) * 1.08)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    small, title_font = _font(12), _font(15)
    left, right, top_margin, bottom = 90, 20, 40, 40
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    draw.text((left, 10), "Incurred losses per year", fill="black", font=title_font)
    for step in range(5):  # gridlines and axis labels
        y = top_margin + plot_h - plot_h * step / 4
        draw.line([(left, y), (width - right, y)], fill=(225, 225, 225))
        draw.text((8, y - 7), _short_money(top * step / 4), fill=(80, 80, 80), font=small)
    draw.line([(left, top_margin), (left, top_margin + plot_h)], fill="black")
    draw.line([(left, top_margin + plot_h), (width - right, top_margin + plot_h)], fill="black")
    group = plot_w / len(years)
    bar = max(4.0, min(48.0, group * 0.7 / len(lines)))
    for i, year in enumerate(years):
        x0 = left + group * i + (group - bar * len(lines)) / 2
        for j, line in enumerate(lines):
            value = by_year[line].get(year, 0.0)
            if value:
                h = plot_h * value / top
                box = [x0 + bar * j, top_margin + plot_h - h, x0 + bar * (j + 1) - 2, top_margin + plot_h]
                draw.rectangle(box, fill=LINE_COLOURS.get(line, OTHER_COLOUR))
                draw.text((box[0], box[1] - 14), _short_money(value), fill="black", font=small)
        draw.text((left + group * i + group / 2 - 14, top_margin + plot_h + 8), str(year), fill="black", font=small)
    for j, line in enumerate(lines):  # legend
        x = width - right - 110 * (len(lines) - j)
        draw.rectangle([x, 14, x + 12, 26], fill=LINE_COLOURS.get(line, OTHER_COLOUR))
        draw.text((x + 16, 12), line, fill="black", font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _nice_ceiling(value: float) -> float:
    """The smallest round figure at or above `value` whose quarters are round too (the chart's axis)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10) if step * magnitude >= value)


def _short_money(value: float) -> str:
    if value >= 1e6:
        return f"${value / 1e6:.1f}M"
    if value >= 1e3:
        return f"${value / 1e3:,.0f}k"
    return f"${value:.0f}"


# ---- writers --------------------------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: list[Block], chart_file: str | None = None) -> str:
    """The memo as Markdown; `chart_file`: the chart PNG's name beside the .md (None: text bars only)."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            out += ["#" * block.level + " " + block.text, ""]
        elif block.kind == "paragraph":
            out += [block.text, ""]
        elif block.kind == "bullets":
            out += [f"- {item}" for item in block.items] + [""]
        elif block.kind == "table":
            out.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
            out.append("|" + "---|" * len(block.header))
            out += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("")
        elif block.kind == "chart" and chart_file:
            out += [f"![{block.text}]({chart_file})", ""]
        elif block.kind == "bars":
            out += [f"{block.text}:", "", "```", *block.items, "```", ""]
    return "\n".join(out).rstrip() + "\n"


def render_docx(blocks: list[Block], out: Path) -> Path:
    import docx
    from docx.shared import Inches, Pt

    document = docx.Document()
    style = document.styles["Normal"]
    style.font.size = Pt(10)
    for block in blocks:
        if block.kind == "heading":
            document.add_heading(block.text, level=block.level if block.level > 1 else 0)
        elif block.kind == "paragraph":
            document.add_paragraph(block.text)
        elif block.kind == "bullets":
            for item in block.items:
                document.add_paragraph(item, style="List Bullet")
        elif block.kind == "table":
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
            for row in table.rows:
                for cell in row.cells:
                    for paragraph in cell.paragraphs:
                        for run in paragraph.runs:
                            run.font.size = Pt(8)
            document.add_paragraph()
        elif block.kind == "chart":
            document.add_picture(io.BytesIO(block.image), width=Inches(6.0))
            document.add_paragraph(block.text)
    document.save(str(out))
    return out


def memo_target(out: Path | str) -> Path:
    """`out` if a memo can be written there (.md or .docx, in a folder that exists), else a one-line MemoError:
    checked before a profile is built."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in MEMO_SUFFIXES:
        raise MemoError(f"{out}: a memo is .md or .docx, not {suffix or '(no suffix)'}")
    if not out.parent.is_dir():
        raise MemoError(f"{out}: no such folder {out.parent}")
    return out


def write_memo(profile: Profile, report: CheckReport | None, out: Path | str) -> list[Path]:
    """Write the memo to `out` (.md or .docx) and return the files written: a .md gets its chart as
    `<stem>_losses.png` beside it (and text bars inside it); a .docx holds the chart."""
    out = memo_target(out)
    suffix = out.suffix.lower()
    chart = loss_chart_png(profile)
    blocks = memo_blocks(profile, report, chart=chart)
    try:
        if suffix == ".docx":
            return [render_docx(blocks, out)]
        written = []
        chart_file = None
        if chart:
            chart_path = out.with_name(f"{out.stem}_losses.png")
            chart_path.write_bytes(chart)
            chart_file = chart_path.name
            written.append(chart_path)
        out.write_text(render_markdown(blocks, chart_file), encoding="utf-8")
        return [out, *written]
    except OSError as exc:
        raise MemoError(f"{out}: cannot write the memo ({exc.strerror or exc})") from None

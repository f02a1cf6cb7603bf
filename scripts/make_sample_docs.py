"""Regenerate the sample submission set in ``sample_docs/``.

The sample set is a small, fully fictional underwriting submission for three insureds, written for this
project so that the demo, the tests and the retrieval eval have realistic documents to work on:

- ``harbor-foods/``            Harbor Foods Distribution LLC, cold-storage warehouse (Port Alder, WA)
- ``meridian-plastics/``       Meridian Plastics Inc, injection molding plant (Ashford Mills, OH)
- ``oakridge-senior-living/``  Oakridge Senior Living, LLC, wood-frame assisted living (Millbrook, NC)
- ``guidelines/``              the carrier's underwriting guidelines (Markdown)
- ``eval/questions.jsonl``     retrieval/QA eval questions with gold file, gold page and answer

Formats: fire inspection reports and loss runs (multi-page PDF with a text layer), statements of values
(CSV and XLSX), broker cover letters (DOCX), an engineering survey (HTML), underwriter file notes (TXT)
and the guidelines (Markdown).  Facts (addresses, construction, sprinklers, losses, policy numbers) are
consistent across documents, so each eval question has one right answer.

All text lives in ``scripts/sample_docs_src.py``; this script only lays it out.  Output is deterministic:
PDF creation dates, DOCX/XLSX core properties and ZIP timestamps are fixed, so a rerun rewrites
byte-identical files.

Usage::

    python scripts/make_sample_docs.py            # rewrite everything under sample_docs/
    python scripts/check_questions.py             # verify every eval answer sits on its gold page
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.shared import Pt
from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Font

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sample_docs_src as src

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "sample_docs"
FIXED_ZIP_TIME = (2024, 12, 31, 12, 0, 0)


def fixed_dt(ymd: tuple[int, int, int]) -> datetime:
    return datetime(*ymd, 9, 0, 0, tzinfo=UTC)


def write_bytes(rel: str, data: bytes) -> None:
    path = OUT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)


def write_text(rel: str, text: str) -> None:
    write_bytes(rel, text.encode("utf-8"))


# --------------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------------


class ReportPDF(FPDF):
    def __init__(self, header_text: str, footer_text: str, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="Letter")
        self.header_text = header_text
        self.footer_text = footer_text
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(True, margin=16)

    def header(self) -> None:
        self.set_font("Helvetica", "B", 8)
        self.set_text_color(70, 70, 70)
        self.cell(0, 5, self.header_text, new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(150, 150, 150)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_text_color(0, 0, 0)
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", 7.5)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, f"{self.footer_text}  |  Page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def pdf_table(pdf: FPDF, widths: list[int], header: list[str] | None, rows: list[list[str]],
              size: float = 9, bold_first_col: bool = False, align: tuple[str, ...] | None = None) -> None:
    pdf.set_font("Helvetica", "", size)
    with pdf.table(
        col_widths=tuple(widths),
        first_row_as_headings=header is not None,
        headings_style=FontFace(emphasis="BOLD", fill_color=(225, 230, 238)),
        line_height=size * 0.47,
        text_align=align or "LEFT",
        v_align="TOP",  # pypdf joins wrapped lines of vertically centred cells without a space
        padding=1.2,
    ) as table:
        for r in ([header] if header else []) + rows:
            row = table.row()
            for i, cell in enumerate(r):
                if bold_first_col and i == 0:
                    row.cell(cell, style=FontFace(emphasis="BOLD"))
                else:
                    row.cell(cell)
    pdf.ln(3)


def render_blocks(pdf: FPDF, blocks: list) -> None:
    for kind, body in blocks:
        if kind == "title":
            pdf.set_font("Helvetica", "B", 16)
            pdf.cell(0, 9, body, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "h1":
            pdf.ln(1)
            pdf.set_font("Helvetica", "B", 12)
            pdf.set_fill_color(235, 238, 243)
            pdf.cell(0, 7, body, new_x="LMARGIN", new_y="NEXT", fill=True)
            pdf.ln(1.5)
        elif kind == "h2":
            pdf.set_font("Helvetica", "B", 10)
            pdf.cell(0, 6, body, new_x="LMARGIN", new_y="NEXT")
        elif kind == "p":
            pdf.set_font("Helvetica", "", 9.5)
            pdf.multi_cell(0, 4.6, body, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "kv":
            pdf_table(pdf, [30, 70], None, [list(kv) for kv in body], size=9, bold_first_col=True)
        elif kind == "table":
            pdf_table(pdf, body["widths"], body["header"], body["rows"], size=body.get("size", 8.5),
                      align=body.get("align"))
        elif kind == "bullets":
            pdf.set_font("Helvetica", "", 9.5)
            for item in body:
                pdf.set_x(pdf.l_margin + 3)
                pdf.multi_cell(0, 4.6, "-  " + item, align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(0.8)
            pdf.ln(1.5)
        elif kind == "sig":
            pdf.ln(4)
            pdf.set_font("Helvetica", "I", 9.5)
            for line in body:
                pdf.cell(0, 4.8, line, new_x="LMARGIN", new_y="NEXT")
        else:  # pragma: no cover - programming error in the sources
            raise ValueError(f"unknown block kind {kind!r}")


def new_pdf(doc: dict, orientation: str = "P") -> ReportPDF:
    pdf = ReportPDF(doc["header"], doc["footer"], orientation)
    pdf.set_creation_date(fixed_dt(doc["date"]))
    pdf.set_title(doc["title"])
    pdf.set_author(doc["author"])
    pdf.set_creator("Underwriter Assistant sample data (scripts/make_sample_docs.py)")
    pdf.set_lang("en-US")
    return pdf


def build_paged_pdf(doc: dict, orientation: str = "P") -> None:
    """One source page per PDF page; fail loudly if a page's content spills over."""
    pdf = new_pdf(doc, orientation)
    for number, blocks in enumerate(doc["pages"], start=1):
        pdf.add_page()
        render_blocks(pdf, blocks)
        if pdf.page_no() != number:
            raise SystemExit(f"{doc['file']}: content of page {number} overflowed onto page {pdf.page_no()}")
    write_bytes(doc["file"], bytes(pdf.output()))


# --------------------------------------------------------------------------------------------------
# Loss runs (built from the claim data, so totals and loss ratios are always consistent)
# --------------------------------------------------------------------------------------------------

M = src.money


def claim_rows(terms: list, policy_idx: int, claims_idx: int, show_empty: bool) -> tuple[list, list]:
    rows, all_claims = [], []
    for term in terms:
        claims = term[claims_idx]
        if not claims and show_empty:
            rows.append(["-", term[policy_idx], "-", f"No claims reported for term {term[0]}", "-",
                         "$0", "$0", "$0"])
        for c in claims:
            rows.append([c[0], term[policy_idx], c[1], c[2], c[3], M(c[4]), M(c[5]), M(c[4] + c[5])])
            all_claims.append(c)
    total = ["", "", "", f"TOTAL - {len(all_claims)} claim(s)", "",
             M(sum(c[4] for c in all_claims)), M(sum(c[5] for c in all_claims)),
             M(sum(c[4] + c[5] for c in all_claims))]
    return [*rows, total], all_claims


CLAIM_WIDTHS = [27, 35, 22, 86, 14, 22, 22, 24]
CLAIM_ALIGN = ("LEFT", "LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT")


def summary_rows(terms: list, term_cols: list[int], prem_idx: int, claims_idx: int) -> list[list[str]]:
    rows = []
    for t in terms:
        inc = src.incurred(t[claims_idx])
        rows.append([t[i] for i in term_cols] + [M(t[prem_idx]), str(len(t[claims_idx])), M(inc),
                                                  src.pct(inc, t[prem_idx])])
    earned = sum(t[prem_idx] for t in terms)
    inc = sum(src.incurred(t[claims_idx]) for t in terms)
    n = sum(len(t[claims_idx]) for t in terms)
    rows.append(["TOTAL"] + [""] * (len(term_cols) - 1) + [M(earned), str(n), M(inc), src.pct(inc, earned)])
    return rows


def build_harbor_loss_run() -> None:
    doc = {
        "file": "harbor-foods/loss_runs_2019-2024.pdf",
        "title": "Loss Run Package - Harbor Foods Distribution LLC",
        "author": "Cascade Risk Partners",
        "date": (2024, 10, 14),
        "header": "CASCADE RISK PARTNERS  |  Loss Run Package for 01/01/2025 Renewal Marketing",
        "footer": "Harbor Foods Distribution LLC  |  Commercial Property  |  Valued 09/30/2024",
    }
    current = [t for t in src.HARBOR_TERMS if t[1].startswith("Northbridge")]
    prior = [t for t in src.HARBOR_TERMS if t[1].startswith("Pacific")]
    hdr = ["Claim No.", "Policy No.", "Date of Loss", "Cause of Loss", "Status", "Paid", "Reserved",
           "Total Incurred"]
    pdf = new_pdf(doc, "L")
    pdf.add_page()
    render_blocks(pdf, [
        ("title", "Loss Run Package - Harbor Foods Distribution LLC"),
        ("h1", "A. Current Carrier: Northbridge Mutual Insurance Company"),
        ("kv", [
            ("Report", "Commercial Property Loss Run - all claims, all statuses"),
            ("Named insured", "Harbor Foods Distribution LLC, 2150 Wharf Road, Port Alder, WA 98421"),
            ("Policies", "HF-PR-2021-00417, HF-PR-2022-00417, HF-PR-2023-00417, HF-PR-2024-00417 "
                         "(current term 01/01/2024-01/01/2025)"),
            ("Valuation date", "09/30/2024"),
        ]),
    ])
    rows, _ = claim_rows(current, 2, 4, show_empty=True)
    pdf_table(pdf, CLAIM_WIDTHS, hdr, rows, size=8.5, align=CLAIM_ALIGN)
    render_blocks(pdf, [p_("""Claim NBM-24-000163 remains open pending the salvage recovery on
        condemned product; the reserve reflects the adjuster's estimate of $95,000 outstanding. No
        subrogation recoveries are shown. Issued by Northbridge Mutual Insurance Company, Commercial
        Claims, Bellevue, WA. This report is not a guarantee of future coverage.""")])
    pdf.add_page()
    render_blocks(pdf, [
        ("h1", "B. Prior Carrier: Pacific Crest Insurance Company"),
        p_("""Commercial package policies PC-CPP-19-55120 and PC-CPP-20-55120, terms 01/01/2019 to
        01/01/2021. Loss run valued 02/15/2021; all claims closed. Provided by the insured."""),
    ])
    rows, _ = claim_rows(prior, 2, 4, show_empty=True)
    pdf_table(pdf, CLAIM_WIDTHS, hdr, rows, size=8.5, align=CLAIM_ALIGN)
    render_blocks(pdf, [("h1", "C. Loss Summary by Policy Term, 01/01/2019 to 09/30/2024 "
                               "(compiled by Cascade Risk Partners)")])
    pdf_table(pdf, [40, 62, 36, 30, 14, 30, 22],
              ["Policy Term", "Carrier", "Policy No.", "Earned Premium", "Claims", "Incurred",
               "Loss Ratio"],
              summary_rows(src.HARBOR_TERMS, [0, 1, 2], 3, 4), size=8.5,
              align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    render_blocks(pdf, [p_(f"""Earned premium for the 2024 term is through 09/30/2024; the annual
        premium is {M(src.HARBOR_ANNUAL_PREMIUM_2024)}. Incurred equals paid plus outstanding
        reserves.""")])
    assert pdf.page_no() == 2, "Harbor loss run should have 2 pages"
    write_bytes(doc["file"], bytes(pdf.output()))


def build_meridian_loss_run() -> None:
    doc = {
        "file": "meridian-plastics/loss_runs_2020-2024.pdf",
        "title": "Claims Experience Report - Meridian Plastics Inc",
        "author": "Great Lakes Indemnity Company",
        "date": (2024, 12, 3),
        "header": "GREAT LAKES INDEMNITY COMPANY  |  Claims Experience Report",
        "footer": "Insured: Meridian Plastics Inc  |  Valuation date 12/02/2024",
    }
    hdr = ["Claim Number", "Policy", "Loss Date", "Cause / Description", "Status", "Paid", "Reserve",
           "Total"]
    pdf = new_pdf(doc, "L")
    pdf.add_page()
    render_blocks(pdf, [
        ("title", "Claims Experience Report"),
        ("kv", [
            ("Insured", "Meridian Plastics Inc, 4700 Industrial Parkway, Ashford Mills, OH 44618"),
            ("Line of business", "Commercial Property - policies MP-PR-2020-01188 through MP-PR-2024-01188"),
            ("Period", "03/01/2020 to 12/02/2024 (five policy terms)"),
            ("Valuation date", "12/02/2024"),
        ]),
        ("h1", "Section 1 - Commercial Property"),
    ])
    rows, _ = claim_rows(src.MERIDIAN_PROPERTY_TERMS, 1, 3, show_empty=True)
    pdf_table(pdf, CLAIM_WIDTHS, hdr, rows, size=8.5, align=CLAIM_ALIGN)
    render_blocks(pdf, [p_("""Fire claim GLI-P-20-7731 includes $241,300 of building and machinery
        damage and $145,400 of business income. Subrogation against the hose manufacturer was closed
        without recovery.""")])
    pdf.add_page()
    render_blocks(pdf, [
        ("h1", "Section 2 - Commercial General Liability"),
        p_("""Occurrence coverage on form CG 00 01, limits $1,000,000 each occurrence, $2,000,000
        general aggregate and $2,000,000 products-completed operations aggregate. Policies
        MP-GL-2020-01189 through MP-GL-2024-01189."""),
    ])
    rows, _ = claim_rows(src.MERIDIAN_GL_TERMS, 1, 3, show_empty=True)
    pdf_table(pdf, CLAIM_WIDTHS, hdr, rows, size=8.5, align=CLAIM_ALIGN)
    render_blocks(pdf, [p_("""Claim GLI-L-23-3050: the claimant, a driver for Midstate Freight
        Lines, is represented by counsel; the reserve of $60,000 covers indemnity and defense. The
        products claim GLI-L-21-4410 was settled with the customer for replacement parts; no
        bodily injury was involved.""")])
    pdf.add_page()
    render_blocks(pdf, [("h1", "Section 3 - Experience Summary by Policy Term")])
    pdf_table(pdf, [44, 44, 40, 20, 38, 30],
              ["Term", "Policy", "Earned Premium", "Claims", "Incurred", "Loss Ratio"],
              summary_rows(src.MERIDIAN_PROPERTY_TERMS, [0, 1], 2, 3), size=8.5,
              align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    pdf_table(pdf, [44, 44, 40, 20, 38, 30],
              ["Term", "Policy", "Earned Premium", "Claims", "Incurred", "Loss Ratio"],
              summary_rows(src.MERIDIAN_GL_TERMS, [0, 1], 2, 3), size=8.5,
              align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    render_blocks(pdf, [p_(f"""The first table is Commercial Property, the second Commercial
        General Liability. Earned premium for the 03/01/2024-03/01/2025 terms runs through the
        valuation date; annual premiums are {M(src.MERIDIAN_PROPERTY_ANNUAL_2024)} (property) and
        {M(src.MERIDIAN_GL_ANNUAL_2024)} (general liability). Great Lakes Indemnity Company, Claims
        Department, Cleveland, Ohio.""")])
    assert pdf.page_no() == 3, "Meridian loss run should have 3 pages"
    write_bytes(doc["file"], bytes(pdf.output()))


def build_oakridge_loss_run() -> None:
    doc = {
        "file": "oakridge-senior-living/loss_runs_2019-2024.pdf",
        "title": "Loss History Report - Oakridge Senior Living, LLC",
        "author": "Blue Ridge Mutual Insurance Company",
        "date": (2024, 8, 1),
        "header": "BLUE RIDGE MUTUAL INSURANCE COMPANY  |  Loss History Report",
        "footer": "Oakridge Senior Living, LLC  |  Valued as of 07/31/2024",
    }
    current = [t for t in src.OAKRIDGE_TERMS if t[1].startswith("Blue Ridge")]
    prior = [t for t in src.OAKRIDGE_TERMS if t[1].startswith("Atlantic")]
    hdr = ["Claim #", "Policy #", "Date of Loss", "Cause of Loss", "Status", "Paid", "Reserved",
           "Total Incurred"]
    pdf = new_pdf(doc, "L")
    pdf.add_page()
    render_blocks(pdf, [
        ("title", "Loss History Report"),
        ("kv", [
            ("Account", "Oakridge Senior Living, LLC - 310 Chestnut Hill Drive, Millbrook, NC 27597"),
            ("Program", "Commercial package (property and general liability)"),
            ("Policies", "OSL-PK-2021-00952, OSL-PK-2022-00952, OSL-PK-2023-00952"),
            ("Valued as of", "07/31/2024"),
        ]),
        ("h1", "Property Claims"),
    ])
    rows, _ = claim_rows(current, 2, 4, show_empty=True)
    pdf_table(pdf, CLAIM_WIDTHS, hdr, rows, size=8.5, align=CLAIM_ALIGN)
    render_blocks(pdf, [
        ("h1", "General Liability Claims"),
        p_("""No general liability claims have been reported under policies OSL-PK-2021-00952
        through OSL-PK-2023-00952 as of the valuation date."""),
        p_("""Policy OSL-PK-2023-00952 expires 10/01/2024 and will not be renewed; Blue Ridge Mutual
        is withdrawing from the assisted living class."""),
    ])
    pdf.add_page()
    render_blocks(pdf, [
        ("h1", "Prior Carrier: Atlantic Shore Casualty Company"),
        p_("""Habitational package policy ASC-HAB-0047731, terms 10/01/2019 to 10/01/2021. Loss run
        valued 11/15/2021 and supplied by the insured's broker; all claims closed."""),
    ])
    rows, _ = claim_rows(prior, 2, 4, show_empty=True)
    pdf_table(pdf, CLAIM_WIDTHS, hdr, rows, size=8.5, align=CLAIM_ALIGN)
    render_blocks(pdf, [("h1", "Five-Year Summary")])
    pdf_table(pdf, [40, 62, 38, 30, 14, 30, 22],
              ["Policy Period", "Carrier", "Policy #", "Earned Premium", "Claims", "Incurred",
               "Loss Ratio"],
              summary_rows(src.OAKRIDGE_TERMS, [0, 1, 2], 3, 4), size=8.5,
              align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    render_blocks(pdf, [p_(f"""Earned premium for the 2023-2024 term is through 07/31/2024; the
        annual premium is {M(src.OAKRIDGE_ANNUAL_PREMIUM_2023)}.""")])
    assert pdf.page_no() == 2, "Oakridge loss run should have 2 pages"
    write_bytes(doc["file"], bytes(pdf.output()))


def p_(text: str) -> tuple[str, str]:
    return src.p(text)


# --------------------------------------------------------------------------------------------------
# Office formats (ZIP containers normalised for reproducible bytes)
# --------------------------------------------------------------------------------------------------

CORE_DATE_RE = re.compile(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def normalise_zip(data: bytes, when: datetime) -> bytes:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                blob = CORE_DATE_RE.sub(lambda m: m.group(1) + stamp + m.group(3), blob.decode()).encode()
            zi = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, blob)
    return out.getvalue()


def build_docx(letter: dict) -> None:
    when = fixed_dt(letter["date"])
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    cp = doc.core_properties
    cp.author = letter["author"]
    cp.last_modified_by = letter["author"]
    cp.title = next(body for kind, body in letter["blocks"] if kind == "h1")
    cp.created = when.replace(tzinfo=None)
    cp.modified = when.replace(tzinfo=None)
    cp.revision = 1
    for kind, body in letter["blocks"]:
        if kind == "h1":
            doc.add_heading(body, level=1)
        elif kind == "h2":
            doc.add_heading(body, level=2)
        elif kind == "p":
            doc.add_paragraph(body)
        elif kind == "bullets":
            for item in body:
                doc.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            table = doc.add_table(rows=len(body), cols=len(body[0]))
            table.style = "Table Grid"
            for r, row in enumerate(body):
                for c, value in enumerate(row):
                    cell = table.cell(r, c)
                    cell.text = value
                    if r == 0:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            doc.add_paragraph("")
        else:  # pragma: no cover
            raise ValueError(kind)
    buf = io.BytesIO()
    doc.save(buf)
    write_bytes(letter["file"], normalise_zip(buf.getvalue(), when))


SOV_MONEY_FMT = '"$"#,##0'


def build_meridian_xlsx() -> None:
    when = fixed_dt((2024, 12, 2))
    wb = Workbook()
    wb.properties.creator = "Lakeshore Commercial Insurance Services"
    wb.properties.lastModifiedBy = "Lakeshore Commercial Insurance Services"
    wb.properties.title = "Statement of Values - Meridian Plastics Inc"
    wb.properties.created = when.replace(tzinfo=None)
    ws = wb.active
    ws.title = "SOV"
    # Header in row 1, no title rows: loaders read the first row as column names.
    header = ["Location No.", "Building No.", "Address", "City", "State", "ZIP", "Occupancy",
              "Building Value", "Contents Value", "Business Income", "Total TIV", "Construction",
              "Year Built", "Sprinklered (Y/N)", "Sprinkler System", "% Sprinklered", "Square Footage",
              "Stories"]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in src.MERIDIAN_SOV:
        ws.append([r["loc"], r["bldg"], r["address"], r["city"], r["state"], r["zip"], r["occupancy"],
                   r["building"], r["contents"], r["bi"], src.tiv(r), r["construction"], r["year"],
                   r["sprinklered"], r["sprinkler_type"], f"{r['sprinkler_pct']}%", r["sqft"], r["stories"]])
    rows = src.MERIDIAN_SOV
    ws.append(["Totals", "", "", "", "", "", "", sum(r["building"] for r in rows),
               sum(r["contents"] for r in rows), sum(r["bi"] for r in rows), src.MERIDIAN_TIV, "", "", "",
               "", "", sum(r["sqft"] for r in rows), ""])
    for row in ws.iter_rows(min_row=2, max_row=ws.max_row):
        for cell in row[7:11]:
            cell.number_format = SOV_MONEY_FMT
        row[16].number_format = "#,##0"
    for col, width in zip("ABCDEFGHIJKLMNOPQR", [8, 8, 24, 14, 6, 8, 34, 15, 15, 15, 15, 30, 10, 12, 22, 12,
                                                  14, 8], strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"

    bi = wb.create_sheet("BI Worksheet")
    bi.append(["Item", "Value"])
    for label, value in src.MERIDIAN_BI_WORKSHEET:
        bi.append([label, value])
        if isinstance(value, int):
            bi.cell(row=bi.max_row, column=2).number_format = SOV_MONEY_FMT
    bi["A1"].font = bi["B1"].font = Font(bold=True)
    bi.column_dimensions["A"].width = 52
    bi.column_dimensions["B"].width = 50

    buf = io.BytesIO()
    wb.save(buf)
    write_bytes("meridian-plastics/statement_of_values.xlsx", normalise_zip(buf.getvalue(), when))


def csv_text(rows: list[list]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def build_harbor_csv() -> None:
    rows = [["Location No", "Building No", "Address", "City", "State", "ZIP", "Occupancy", "Building Value",
             "Contents Value", "Business Income", "Total Insured Value", "Construction", "Year Built",
             "Sprinklered (Y/N)", "Sprinkler Type", "Square Footage", "Stories", "ISO PPC"]]
    for r in src.HARBOR_SOV:
        rows.append([r["loc"], r["bldg"], r["address"], r["city"], r["state"], r["zip"], r["occupancy"],
                     M(r["building"]), M(r["contents"]), M(r["bi"]), M(src.tiv(r)), r["construction"],
                     r["year"], r["sprinklered"], r["sprinkler_type"], f"{r['sqft']:,}", r["stories"],
                     r["ppc"]])
    s = src.HARBOR_SOV
    rows.append(["TOTAL", "", "", "", "", "", "", M(sum(r["building"] for r in s)),
                 M(sum(r["contents"] for r in s)), M(sum(r["bi"] for r in s)), M(src.HARBOR_TIV), "", "",
                 "", "", f"{sum(r['sqft'] for r in s):,}", "", ""])
    write_text("harbor-foods/statement_of_values.csv", csv_text(rows))


def build_oakridge_csv() -> None:
    rows = [["Loc #", "Bldg #", "Street Address", "City", "St", "Zip", "Description", "Stories",
             "ISO Construction Class", "Year Built", "Sprinklered", "Sprinkler System", "Sq Ft",
             "Building Limit", "Business Personal Property", "BI/EE (12 months)", "TIV"]]
    for r in src.OAKRIDGE_SOV:
        rows.append([r["loc"], r["bldg"], r["address"], r["city"], r["state"], r["zip"], r["occupancy"],
                     r["stories"], r["construction"], r["year"], r["sprinklered"], r["sprinkler_type"],
                     f"{r['sqft']:,}", M(r["building"]), M(r["contents"]), M(r["bi"]), M(src.tiv(r))])
    s = src.OAKRIDGE_SOV
    rows.append(["Total", "", "", "", "", "", "", "", "", "", "", "", f"{sum(r['sqft'] for r in s):,}",
                 M(sum(r["building"] for r in s)), M(sum(r["contents"] for r in s)),
                 M(sum(r["bi"] for r in s)), M(src.OAKRIDGE_TIV)])
    write_text("oakridge-senior-living/statement_of_values.csv", csv_text(rows))


# --------------------------------------------------------------------------------------------------


def main() -> None:
    for doc in (src.HARBOR_INSPECTION, src.MERIDIAN_INSPECTION, src.OAKRIDGE_INSPECTION):
        build_paged_pdf(doc)
    build_harbor_loss_run()
    build_meridian_loss_run()
    build_oakridge_loss_run()
    for letter in (src.HARBOR_LETTER, src.MERIDIAN_LETTER, src.OAKRIDGE_LETTER):
        build_docx(letter)
    build_meridian_xlsx()
    build_harbor_csv()
    build_oakridge_csv()
    write_text("guidelines/underwriting_guidelines.md", src.GUIDELINES_MD)
    write_text("meridian-plastics/engineering_survey_2024.html", src.MERIDIAN_SURVEY_HTML)
    write_text("harbor-foods/underwriter_notes.txt", src.HARBOR_NOTES)
    write_text("meridian-plastics/underwriter_notes.txt", src.MERIDIAN_NOTES)
    write_text("oakridge-senior-living/underwriter_notes.txt", src.OAKRIDGE_NOTES)
    write_text("eval/questions.jsonl",
               "".join(json.dumps(q, ensure_ascii=True) + "\n" for q in src.QUESTIONS))
    files = sorted(p for p in OUT.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} files under {OUT.relative_to(ROOT)}/ ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()

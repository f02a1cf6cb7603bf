"""Loaders: every supported format, and every kind of bad input gets a one-line reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from index.loaders import LoadError, check_file, heading_of, load_document

MB = 1024 * 1024


def write_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 6, text)
    data = bytes(pdf.output())
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
        writer.encrypt(user_password=password, owner_password=password + "-owner", algorithm="AES-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
    path.write_bytes(data)
    return path


def load(path: Path):
    check_file(path, 32 * MB)
    return load_document(path, path.read_bytes())


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    doc = load(write_pdf(tmp_path / "r.pdf", ["Construction\nJoisted masonry.", "Protection\nESFR sprinklers."]))
    assert [p.number for p in doc.pages] == [1, 2]
    assert "ESFR" in doc.pages[1].text and "ESFR" not in doc.pages[0].text
    assert doc.kind == "pdf"


def test_pdf_blank_pages_are_dropped_but_numbering_kept(tmp_path: Path) -> None:
    doc = load(write_pdf(tmp_path / "r.pdf", ["First page text.", "", "Third page text."]))
    assert [p.number for p in doc.pages] == [1, 3]


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("corrupt.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj garbage\n%%EOF"), "corrupt PDF"),
        ("empty.pdf", lambda p: write_pdf(p, [""]), "no extractable text"),
        ("locked.pdf", lambda p: write_pdf(p, ["Secret loss run."], password="s3cret"), "encrypted PDF"),
        ("zero.txt", lambda p: p.write_bytes(b""), "empty file"),
        ("junk.txt", lambda p: p.write_bytes(bytes(range(256)) * 64), "binary content"),
        ("tool.exe", lambda p: p.write_bytes(b"MZ\x90\x00"), "unsupported file type .exe"),
        ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "corrupt DOCX"),
        ("broken.xlsx", lambda p: p.write_bytes(b"not a workbook"), "corrupt XLSX"),
        ("blank.md", lambda p: p.write_text("   \n\n  "), "no text content"),
    ],
)
def test_bad_files_give_one_line_reason(tmp_path: Path, name: str, make, reason: str) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(LoadError) as caught:
        load(path)
    message = str(caught.value)
    assert reason in message
    assert "\n" not in message


def test_huge_file_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        line = b"Loss run line with ordinary text, repeated to make a very large file.\n"
        for _ in range((50 * MB) // len(line) + 1):
            handle.write(line)
    assert path.stat().st_size > 50 * MB
    with pytest.raises(LoadError, match="over the 32 MB limit"):
        check_file(path, 32 * MB)


def test_fifo_is_not_a_regular_file(tmp_path: Path) -> None:
    import os

    path = tmp_path / "pipe.txt"
    os.mkfifo(path)
    with pytest.raises(LoadError, match="not a regular file"):
        check_file(path, MB)


def test_symlink_loop(tmp_path: Path) -> None:
    path = tmp_path / "loop.txt"
    path.symlink_to(path)
    with pytest.raises(LoadError, match="symlink loop"):
        check_file(path, MB)


def test_non_utf8_text_is_read_as_cp1252_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Café roof: 1998 re-covered, résumé of findings.".encode("cp1252"))
    doc = load(path)
    assert "Café" in doc.pages[0].text
    assert "Windows-1252" in doc.note


def test_docx_headings_and_tables(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Cover Letter", level=1)
    document.add_paragraph("Please find the submission for Harbor Foods.")
    table = document.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Coverage", "Limit"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Building", "12,500,000"
    path = tmp_path / "letter.docx"
    document.save(path)
    doc = load(path)
    assert doc.title == "Cover Letter"
    assert "# Cover Letter" in doc.pages[0].text
    assert "Coverage Building | Limit 12,500,000" in doc.pages[0].text


def test_csv_rows_keep_their_header(tmp_path: Path) -> None:
    path = tmp_path / "sov.csv"
    path.write_text("Location,Address,Sprinklered\n1,12 Dock Rd,Y\n2,40 Mill St,N\n")
    text = load(path).pages[0].text
    assert "Location 2 | Address 40 Mill St | Sprinklered N" in text


def test_a_second_table_on_a_sheet_gets_its_own_header(tmp_path: Path) -> None:
    path = tmp_path / "loss_run.csv"
    path.write_text("Acme Mutual - Loss Run\n"
                    "Claim No,Loss Date,Incurred,Status\n"
                    "AM-1,3/4/2023,12500,Closed\n"
                    "\n"
                    "Premium by Year\n"
                    "Policy Year,Earned Premium,Claims\n"
                    "2023,48000,1\n"
                    "\"Premiums are earned through the valuation date, 11/30/2025.\"\n")
    page = load(path).pages[0]
    assert [(row.table, row.text()) for row in page.rows] == [
        ("", "Claim No AM-1 | Loss Date 3/4/2023 | Incurred 12500 | Status Closed"),
        ("Premium by Year", "Policy Year 2023 | Earned Premium 48000 | Claims 1"),
    ]  # not "Claim No 2023 | Loss Date 48000 | ..."
    assert "Premiums are earned through the valuation date, 11/30/2025." in page.text.splitlines()  # a note: text
    # a data row after a blank row is still a row of the table above it
    path.write_text("Claim No,Loss Date,Incurred\nAM-1,3/4/2023,12500\n\nAM-2,5/1/2024,800\n")
    assert [row.text() for row in load(path).pages[0].rows][-1] == "Claim No AM-2 | Loss Date 5/1/2024 | Incurred 800"


def test_markdown_pipe_tables_become_rows_that_keep_their_header(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# Account summary\n\n| | |\n|---|---|\n| Proposed effective | 7/1/2026 |\n"
                    "| Incumbent | Acme Mutual |\n\n## Locations\n\n| Loc | Address | TIV |\n|:--|:--|--:|\n"
                    "| 1 | 12 Dock Rd | $4.1M |\n| 2 | 40 Mill St | $900K |\n\nTotal $5.0M.\n")
    page = load(path).pages[0]
    assert [(row.table, row.text()) for row in page.rows] == [
        ("Account summary, table 1", "Proposed effective | 7/1/2026"),  # a blank header: label and value
        ("Account summary, table 1", "Incumbent | Acme Mutual"),
        ("Locations, table 2", "Loc 1 | Address 12 Dock Rd | TIV $4.1M"),
        ("Locations, table 2", "Loc 2 | Address 40 Mill St | TIV $900K"),
    ]
    assert "|---" not in page.text and "Loc 2 | Address 40 Mill St | TIV $900K" in page.text
    assert "## Locations" in page.text and "Total $5.0M." in page.text


def test_xlsx_sheets_are_pages(tmp_path: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Locations"
    first.append(["Location", "TIV"])
    first.append([1, 2500000])
    second = workbook.create_sheet("Notes")
    second.append(["Note"])
    second.append(["Roof replaced 2019"])
    path = tmp_path / "sov.xlsx"
    workbook.save(path)
    doc = load(path)
    assert [p.number for p in doc.pages] == [1, 2]
    assert "Location 1 | TIV 2500000" in doc.pages[0].text
    assert doc.pages[1].heading == "Notes"


def test_html_headings_tables_and_no_scripts(tmp_path: Path) -> None:
    path = tmp_path / "survey.html"
    path.write_text(
        "<html><head><title>Survey</title><script>var x = 'hidden';</script></head><body>"
        "<h2>Hydrants</h2><p>Nearest hydrant 300 feet.</p>"
        "<table><tr><th>Item</th><th>Value</th></tr><tr><td>Fire station</td><td>2 miles</td></tr></table>"
        "</body></html>"
    )
    doc = load(path)
    text = doc.pages[0].text
    assert doc.title == "Survey"
    assert "## Hydrants" in text and "Item Fire station | Value 2 miles" in text
    assert "hidden" not in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("## Protection", "Protection"),
        ("3. Fire Protection", "3. Fire Protection"),
        ("SPRINKLER SYSTEMS", "SPRINKLER SYSTEMS"),
        ("The building is protected by a wet-pipe system.", None),
        ("and then it rained", None),
    ],
)
def test_heading_detection(line: str, expected: str | None) -> None:
    assert heading_of(line) == expected

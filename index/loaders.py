"""Loaders: one file in, a `LoadedDocument` (text per page) out, or a `LoadError` with a one-line reason.

Uses the libraries llama-index's file readers wrap (pypdf, python-docx, openpyxl,
BeautifulSoup) directly, so that page numbers and headings survive and a bad file
fails once, with a reason an underwriter can act on.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from index.types import HiddenText, LoadedDocument, Page, TableRow

SUPPORTED_SUFFIXES = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".xls": "xls",
    ".eml": "eml",
    ".msg": "msg",
}
# Read by no loader, but known: such a file gets one line saying what to do (not "unsupported").
ADVISED_SUFFIXES = {".doc": "doc"}
MESSAGE_KINDS = {"eml", "msg"}  # their attachments are documents of their own (see `index.messages`)


class LoadError(Exception):
    """A file could not be loaded; `str(error)` is the one-line reason."""


class NoText(LoadError):
    """The file was read but holds no text at all; `document` says what it has (its pages, all empty), so it
    is listed with status "no text" rather than dropped."""

    def __init__(self, reason: str, document: LoadedDocument) -> None:
        super().__init__(reason)
        self.document = document


def kind_of(path: Path) -> str | None:
    """The loader kind for a path by its extension, or None when unsupported."""
    suffix = path.suffix.lower()
    return SUPPORTED_SUFFIXES.get(suffix) or ADVISED_SUFFIXES.get(suffix)


def check_file(path: Path, max_bytes: int) -> os.stat_result:
    """Refuse what no loader should open: missing, special, unreadable, empty, oversized or unsupported."""
    try:
        info = path.stat()
    except RuntimeError as exc:  # pathlib raises this for symlink loops on some versions
        raise LoadError("symlink loop") from exc
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise LoadError("symlink loop") from exc
        if path.is_symlink():
            raise LoadError("broken symlink") from exc
        raise LoadError(exc.strerror or str(exc)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise LoadError("not a regular file")
    if kind_of(path) is None:
        suffix = path.suffix or "(no extension)"
        raise LoadError(f"unsupported file type {suffix}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    if not os.access(path, os.R_OK):
        raise LoadError("permission denied")
    if info.st_size == 0:
        raise LoadError("empty file (0 bytes)")
    if info.st_size > max_bytes:
        raise LoadError(
            f"file is {info.st_size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit "
            "(raise ASSISTANT_MAX_FILE_MB to ingest it)"
        )
    return info


def read_bytes(path: Path) -> bytes:
    """The file's bytes, with permission problems turned into a LoadError."""
    try:
        return path.read_bytes()
    except PermissionError as exc:
        raise LoadError("permission denied") from exc
    except OSError as exc:
        raise LoadError(exc.strerror or str(exc)) from exc


def load_document(path: Path, data: bytes) -> LoadedDocument:
    """Parse `data` (the bytes of `path`) into pages; raise LoadError when nothing usable comes out
    (NoText when the file was read but every page is empty).

    A parser returns (title, pages) or (title, pages, warnings); its pages may include empty ones (a PDF's
    scanned pages OCR found nothing on): they are counted here, then dropped."""
    kind = kind_of(path)
    if kind is None:
        raise LoadError(f"unsupported file type {path.suffix}")
    parsed = _PARSERS[kind](data)
    title, all_pages = parsed[0], list(parsed[1])
    warnings = tuple(parsed[2]) if len(parsed) > 2 else ()
    pages = [page for page in all_pages if page.text.strip() or page.hidden or page.rows]
    with_text = [page for page in all_pages if page.text.strip()]
    note = _decode(data)[1] if kind in _TEXT_KINDS else ""
    document = LoadedDocument(
        path=str(path), title=title or _title_from_name(path), pages=pages, kind=kind, note=note,
        pages_in=len(all_pages), pages_text=sum(1 for page in with_text if not page.ocr),
        pages_ocr=sum(1 for page in with_text if page.ocr), pages_empty=len(all_pages) - len(with_text),
        warnings=warnings)
    if not pages:
        if kind == "pdf":
            count = f"{len(all_pages)} page{'s' if len(all_pages) != 1 else ''}"
            raise NoText(f"no extractable text (scanned or empty PDF, {count})", document)
        raise NoText("no text content", document)
    return document


_TEXT_KINDS = {"md", "txt", "html", "csv"}


def _title_from_name(path: Path) -> str:
    """A title from a file's name ("loss_runs.pdf": "Loss Runs"); an attachment's from its own name."""
    stem = Path(path.name.rsplit(" > ", 1)[-1]).stem
    return re.sub(r"[_\-]+", " ", stem).strip().title()


# ---- text decoding ---------------------------------------------------------------------------


NOT_UTF8_NOTE = "not UTF-8; read as Windows-1252"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else UTF-16 with a BOM, else Windows-1252; binary data is refused."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, str]:
    """The text and a note on how it was decoded ("" for UTF-8)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), ""
    sample = data[:65536]
    if b"\x00" in sample or _control_ratio(sample) > 0.05:
        raise LoadError("binary content, not text")
    try:
        return data.decode("utf-8-sig"), ""
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), NOT_UTF8_NOTE
    except UnicodeDecodeError as exc:
        raise LoadError(f"not valid text (neither UTF-8 nor Windows-1252 at byte {exc.start})") from exc


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(sample)


# ---- headings ---------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$")
_PLAIN_HEADING = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Z][A-Za-z0-9 /&,()'\-:]{2,70}$")


def heading_of(line: str) -> str | None:
    """The heading a line states, if it is one (Markdown `#`, or a short title-like line without a period)."""
    line = line.strip()
    match = _MD_HEADING.match(line)
    if match:
        return match.group(2).strip()
    if len(line) > 72 or line.endswith((".", ",", ";")) or len(line.split()) > 9:
        return None
    if not _PLAIN_HEADING.match(line):
        return None
    words = [word for word in re.split(r"\s+", line) if word[:1].isalpha()]
    if not words:
        return None
    capitalised = sum(1 for word in words if word[0].isupper())
    return line.rstrip(":") if capitalised / len(words) >= 0.6 else None


def first_heading(text: str) -> str:
    """The first heading in a text, for documents without a title."""
    for line in text.splitlines():
        found = heading_of(line)
        if found:
            return found
    return ""


# ---- parsers ----------------------------------------------------------------------------------


def _parse_pdf(data: bytes) -> tuple[str, list[Page], list[str]]:
    """Every page, empty ones included, with tables, OCR and hidden text: see `index.pdf`."""
    from index.pdf import parse_pdf

    return parse_pdf(data)


def _parse_docx(data: bytes) -> tuple[str, list[Page]]:
    """Paragraphs and tables in document order: headings as `#` lines (their level from the style), each
    table in place as one line per row (see `TableRow.text`); hidden runs and comments kept apart."""
    import zipfile

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt DOCX ({_one_line(exc)})") from exc
    except Exception as exc:
        raise LoadError(f"corrupt DOCX ({_one_line(exc)})") from exc
    lines: list[str] = []
    rows: list[TableRow] = []
    hidden: list[HiddenText] = []
    section: list[tuple[int, str]] = []  # the heading path, for where hidden text sits
    tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            tables += 1
            found = _table_rows([_row_cells(row) for row in block.rows], f"table {tables}")
            rows += [row for row in found if isinstance(row, TableRow)]
            lines += ["", *(row.text() if isinstance(row, TableRow) else row for row in found), ""]
            continue
        text, secret = _docx_paragraph(block)
        style = (block.style.name if block.style is not None else "") or ""
        level = _docx_heading_level(style)
        if secret:
            where = "§ " + " > ".join(name for _, name in section) if section else ""
            hidden.append(HiddenText(secret, "hidden text (Word)", where))
        if not text:
            continue
        if level:
            section = [item for item in section if item[0] < level] + [(level, text)]
            lines += ["", f"{'#' * level} {text}", ""]
        else:
            lines += [text, ""]
    hidden += _docx_comments(document)
    title = (document.core_properties.title or "").strip()
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return title or first_heading(text), [Page(number=1, text=text, rows=tuple(rows), hidden=tuple(hidden))]


def _docx_heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading"):
        level = style.rsplit(" ", 1)[-1]
        return min(int(level), 6) if level.isdigit() else 1
    return 0


def _docx_paragraph(paragraph: object) -> tuple[str, str]:
    """(visible text, hidden text) of a paragraph: runs marked hidden (w:vanish), directly, by their
    character style or by the paragraph's style, are not shown by Word."""
    from docx.text.hyperlink import Hyperlink

    style_hidden = bool(_style_hidden(getattr(paragraph, "style", None)))
    shown: list[str] = []
    secret: list[str] = []
    for item in paragraph.iter_inner_content():  # type: ignore[attr-defined]
        runs = item.runs if isinstance(item, Hyperlink) else [item]
        for run in runs:
            hidden = run.font.hidden
            if hidden is None:
                hidden = _style_hidden(run.style) if run.style is not None else None
            (secret if (hidden if hidden is not None else style_hidden) else shown).append(run.text)
    return " ".join("".join(shown).split()), " ".join("".join(secret).split())


def _style_hidden(style: object) -> bool | None:
    """Whether a style (or the style it is based on) hides its text; None when none says."""
    seen = 0
    while style is not None and seen < 10:
        font = getattr(style, "font", None)
        if font is not None and font.hidden is not None:
            return bool(font.hidden)
        style = getattr(style, "base_style", None)
        seen += 1
    return None


def _docx_comments(document: object) -> list[HiddenText]:
    try:
        comments = list(document.comments)  # type: ignore[attr-defined]
    except Exception:  # no comments part, or an older python-docx
        return []
    found = []
    for comment in comments:
        text = " ".join((comment.text or "").split())
        if text:
            author = (comment.author or "").strip()
            found.append(HiddenText(text, "comment", f"comment by {author}" if author else "comment"))
    return found


def _row_cells(row: object) -> list[str]:
    """A DOCX table row's cell texts, a merged cell once."""
    cells, seen = [], set()
    for cell in row.cells:  # type: ignore[attr-defined]
        key = id(cell._tc)
        if key in seen:
            continue
        seen.add(key)
        cells.append(" ".join(cell.text.split()))
    return cells


def _parse_markdown(data: bytes) -> tuple[str, list[Page]]:
    """Markdown as text, its pipe tables as one line per row that keeps its header (as HTML tables are)."""
    text = decode_text(data)
    body, rows = _markdown_tables(text)
    return first_heading(text), [Page(number=1, text=body, rows=tuple(rows))]


_MD_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


def _md_cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [" ".join(cell.replace("\\|", "|").split()) for cell in re.split(r"(?<!\\)\|", inner)]


def _markdown_tables(text: str) -> tuple[str, list[TableRow]]:
    """The text with each pipe table (a header line, a `|---|` rule, rows) replaced by its rows as ingest writes
    them, and the rows; a table is named after the heading it sits under. A table whose header is blank is a
    list of label/value pairs ("| Proposed effective | 1/15/2026 |"): its rows have no column names."""
    lines = text.splitlines()
    out: list[str] = []
    rows: list[TableRow] = []
    heading, number, index = "", 0, 0
    while index < len(lines):
        line = lines[index]
        if index + 1 < len(lines) and _MD_ROW.match(line) and _MD_RULE.match(lines[index + 1]):
            end = index + 2
            while end < len(lines) and _MD_ROW.match(lines[end]):
                end += 1
            number += 1
            name = f"{heading}, table {number}" if heading else f"table {number}"
            header, body = _md_cells(line), [_md_cells(row) for row in lines[index + 2:end]]
            if any(header):
                found = _table_rows([header, *body], name)
            else:
                found = [TableRow(name, i, tuple(("", cell) for cell in row if cell))
                         for i, row in enumerate((row for row in body if any(row)), start=1)]
            rows += [row for row in found if isinstance(row, TableRow)]
            out += ["", *(row.text() if isinstance(row, TableRow) else row for row in found), ""]
            index = end
            continue
        title = _MD_HEADING.match(line.strip())
        if title:
            heading = title.group(2).strip()
        out.append(line)
        index += 1
    return "\n".join(out), rows


def _parse_text(data: bytes) -> tuple[str, list[Page]]:
    text = decode_text(data)
    # Form feeds separate pages in text exports.
    pages = [Page(number=i + 1, text=part) for i, part in enumerate(text.split("\f"))]
    return "", pages


_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)",
    re.IGNORECASE)


def _parse_html(data: bytes) -> tuple[str, list[Page]]:
    """Headings as `#` lines, tables as one line per row, hidden elements and prose in comments kept apart."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    if soup.title:
        soup.title.decompose()
    hidden: list[HiddenText] = []
    for comment in soup.find_all(string=lambda value: isinstance(value, Comment)):
        text = " ".join(str(comment).split())
        if len(re.findall(r"[A-Za-z]{2,}", text)) >= 3 and not text.startswith("[if"):
            hidden.append(HiddenText(text, "HTML comment"))
        comment.extract()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        reason = _html_hidden_reason(tag)
        if reason:
            text = tag.get_text(" ", strip=True)
            if text:
                hidden.append(HiddenText(" ".join(text.split()), reason))
            tag.decompose()
    rows: list[TableRow] = []
    for number, table in enumerate(soup.find_all("table"), start=1):
        if table.find_parent("table") is not None:
            continue
        cells = [[" ".join(cell.get_text(" ", strip=True).split()) for cell in row.find_all(["th", "td"])]
                 for row in table.find_all("tr")]
        caption = table.find("caption")
        name = " ".join(caption.get_text(" ", strip=True).split()) if caption else f"table {number}"
        found = _table_rows(cells, name)
        rows += [row for row in found if isinstance(row, TableRow)]
        table.replace_with("\n\n" + "\n".join(row.text() if isinstance(row, TableRow) else row for row in found)
                           + "\n\n")
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            tag.replace_with(f"\n\n{'#' * level} {' '.join(tag.get_text(' ', strip=True).split())}\n\n")
    for tag in soup.find_all(["br"]):
        tag.replace_with("\n")
    for tag in soup.find_all(["p", "li", "div", "tr", "section", "article", "blockquote", "pre", "dd", "dt",
                              "ul", "ol", "header", "footer", "main", "aside", "figure", "address"]):
        tag.insert_before("\n\n")
        tag.insert_after("\n\n")
    body = soup.body or soup
    lines = [" ".join(line.split()) for line in body.get_text().splitlines()]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return title or first_heading(text), [Page(number=1, text=text, rows=tuple(rows), hidden=tuple(hidden))]


def _html_hidden_reason(tag: object) -> str:
    attrs = tag.attrs  # type: ignore[attr-defined]
    if "hidden" in attrs:
        return "hidden element (HTML hidden attribute)"
    style = attrs.get("style") or ""
    match = _HIDDEN_STYLE.search(style)
    if match:
        rule = re.sub(r"\s*:\s*", ":", match.group(0).rstrip(";! ").lower())
        return f"hidden element (style {rule})"
    if str(attrs.get("aria-hidden", "")).lower() == "true":
        return "hidden element (aria-hidden)"
    return ""


def _table_rows(rows: list[list[str]], name: str, first_number: int = 1,
                numbered_by_source: bool = False) -> list[TableRow | str]:
    """A table's rows as TableRows that keep their header, in order; lines above the header (a title, a
    note) come back as plain text. The header is the first row that fills at least half of the table's
    width (and two cells); `numbered_by_source` numbers rows as the source does (a sheet's row 1 is its
    first line), else data rows count from 1.

    A sheet may hold several tables, one under another ("Term Summary" under a loss run's claims): below a
    blank row, a line of one cell is a title and a row of labels (no figures, dates or amounts) is the next
    table's header, its rows named after the title above it. A long note of one cell under a wider table is
    text, not a row."""
    numbered = [(first_number + i, [cell.strip() for cell in row]) for i, row in enumerate(rows)]
    if not any(any(row) for _, row in numbered):
        return []
    width = max(sum(1 for cell in row if cell) for _, row in numbered)
    found: list[TableRow | str] = []
    header: list[str] | None = None
    table, tables, index, gap, title = name, 1, 0, False, ""
    for number, row in numbered:
        filled = [cell for cell in row if cell]
        if not filled:
            gap = True
            continue
        line = " | ".join(filled)
        if header is None:
            if len(filled) >= max(2 if width > 1 else 1, (width + 1) // 2):
                header, gap = row, False
            else:
                found.append(line)
            continue
        header_width = sum(1 for cell in header if cell)
        if gap and len(filled) == 1 and header_width > 1:  # a title under a blank row
            found.append(line)
            title = line
            continue
        if gap and _labels_row(filled, width):  # the next table's header
            tables += 1
            header, index, gap = row, 0, False
            table = (f"{name}: {title}" if name else title) if title else f"{name or 'table'} {tables}"
            title = ""
            continue
        if len(filled) == 1 and header_width > 2 and len(filled[0]) > 30 and len(filled[0].split()) > 4:
            found.append(line)  # a note under the table
            continue
        gap, index = False, index + 1
        names = header + [""] * (len(row) - len(header))
        cells = tuple((names[i], value) for i, value in enumerate(row) if value)
        found.append(TableRow(table, number if numbered_by_source else index, cells))
    if header is not None and not any(isinstance(item, TableRow) for item in found):
        found.append(" | ".join(cell for cell in header if cell))  # a header with no rows under it: text
    return found


_VALUE_CELL = re.compile(r"[\s$€£()+,.%/\-\d]+(?:k|m|mm)?", re.IGNORECASE)


def _labels_row(filled: list[str], width: int) -> bool:
    """A table header: two or more cells filling half the width, none a figure, date or amount, at most one
    with a digit ("Rental Income (12 mo)")."""
    return (len(filled) >= max(2, (width + 1) // 2) and not any(_VALUE_CELL.fullmatch(cell) for cell in filled)
            and sum(any(ch.isdigit() for ch in cell) for cell in filled) <= 1)


def _parse_csv(data: bytes) -> tuple[str, list[Page]]:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [[" ".join(cell.split()) for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise LoadError(f"malformed CSV ({_one_line(exc)})") from exc
    return "", [_sheet_page(1, "", rows, "")]


def _sheet_page(number: int, sheet: str, rows: list[list[str]], table: str) -> Page:
    """A sheet (or a CSV file) as a page: a `#` line naming the sheet, then one line per row."""
    found = _table_rows(rows, table or sheet, numbered_by_source=True)
    lines = [row.text() if isinstance(row, TableRow) else row for row in found]
    text = (f"# {sheet}\n" if sheet and lines else "") + "\n".join(lines)
    return Page(number=number, text=text, heading=sheet,
                rows=tuple(row for row in found if isinstance(row, TableRow)))


def _parse_xlsx(data: bytes) -> tuple[str, list[Page]]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LoadError(f"corrupt XLSX ({_one_line(exc)})") from exc
    pages = []
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            rows = [[_formatted(getattr(cell, "value", None), getattr(cell, "number_format", "General"))
                     for cell in row] for row in sheet.iter_rows(min_row=1)]
            pages.append(_sheet_page(number, sheet.title, rows, sheet.title))
    except (KeyError, ValueError, TypeError, OSError, zipfile.BadZipFile) as exc:
        raise LoadError(f"corrupt XLSX ({_one_line(exc)})") from exc
    finally:
        workbook.close()
    return "", pages


def _formatted(value: object, number_format: str | None) -> str:
    """A number as the sheet shows it, where its format says so ("$"#,##0 gives $86,400,000; 0.0% gives
    12.5%): figures are searched as written. Other values as `_cell_text`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _cell_text(value)
    shown = (number_format or "General").split(";")[0]
    if shown == "General" or not re.search(r"[0#]", shown):
        return _cell_text(value)
    decimals = len(re.search(r"\.([0#]*)", shown).group(1)) if re.search(r"\.([0#]*)", shown) else 0
    number = value * 100 if "%" in shown else value
    text = f"{number:,.{decimals}f}" if "," in shown else f"{number:.{decimals}f}"
    if "$" in shown:
        text = f"-${text[1:]}" if text.startswith("-") else f"${text}"
    return text + ("%" if "%" in shown else "")


def _parse_xls(data: bytes) -> tuple[str, list[Page]]:
    """Legacy Excel 97-2003 workbooks through xlrd: each sheet a page, as XLSX."""
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct errors, ...
        raise LoadError(f"corrupt XLS ({_one_line(exc)})") from exc
    pages = []
    try:
        for number in range(book.nsheets):
            sheet = book.sheet_by_index(number)
            rows = [[_xls_cell(book, cell) for cell in sheet.row(index)] for index in range(sheet.nrows)]
            pages.append(_sheet_page(number + 1, sheet.name, rows, sheet.name))
    except Exception as exc:
        raise LoadError(f"corrupt XLS ({_one_line(exc)})") from exc
    finally:
        book.release_resources()
    return "", pages


def _xls_cell(book: object, cell: object) -> str:
    import xlrd

    kind, value = cell.ctype, cell.value  # type: ignore[attr-defined]
    if kind == xlrd.XL_CELL_DATE:
        try:
            return _cell_text(xlrd.xldate.xldate_as_datetime(value, book.datemode))  # type: ignore[attr-defined]
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return _cell_text(value)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERR")
    return _cell_text(value)


def _parse_doc(data: bytes) -> tuple[str, list[Page]]:
    raise LoadError("legacy Word .doc files cannot be read: open it in Word or LibreOffice and save it as .docx")


def _cell_text(value: object) -> str:
    import datetime as dt

    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


def _parse_eml(data: bytes) -> tuple[str, list[Page]]:
    from index.messages import read_message

    return read_message("eml", data).body()


def _parse_msg(data: bytes) -> tuple[str, list[Page]]:
    from index.messages import read_message

    return read_message("msg", data).body()


# Registry by kind (the suffix's, see SUPPORTED_SUFFIXES). A parser returns (title, pages) or
# (title, pages, warnings). For e-mail ("eml", "msg") this is the message's body; index.messages.load_parts
# gives the body and each attachment as a document of its own (what ingest uses).
_PARSERS: dict[str, Callable[[bytes], tuple]] = {
    "pdf": _parse_pdf,
    "docx": _parse_docx,
    "doc": _parse_doc,
    "md": _parse_markdown,
    "txt": _parse_text,
    "html": _parse_html,
    "csv": _parse_csv,
    "xlsx": _parse_xlsx,
    "xls": _parse_xls,
    "eml": _parse_eml,
    "msg": _parse_msg,
}

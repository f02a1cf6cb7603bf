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

from index.types import LoadedDocument, Page

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
}


class LoadError(Exception):
    """A file could not be loaded; `str(error)` is the one-line reason."""


def kind_of(path: Path) -> str | None:
    """The loader kind for a path by its extension, or None when unsupported."""
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


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
    """Parse `data` (the bytes of `path`) into pages; raise LoadError when nothing usable comes out."""
    kind = kind_of(path)
    if kind is None:
        raise LoadError(f"unsupported file type {path.suffix}")
    title, pages = _PARSERS[kind](data)[:2]  # the PDF parser adds warnings (see index.pdf)
    pages = [page for page in pages if page.text.strip()]
    if not pages:
        if kind == "pdf":
            raise LoadError("no extractable text (scanned or empty PDF)")
        raise LoadError("no text content")
    note = _decode(data)[1] if kind in _TEXT_KINDS else ""
    return LoadedDocument(path=str(path), title=title or _title_from_name(path), pages=pages, kind=kind, note=note)


_TEXT_KINDS = {"md", "txt", "html", "csv"}


def _title_from_name(path: Path) -> str:
    return re.sub(r"[_\-]+", " ", path.stem).strip().title()


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
    import zipfile

    import docx

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise LoadError(f"corrupt DOCX ({_one_line(exc)})") from exc
    except Exception as exc:
        raise LoadError(f"corrupt DOCX ({_one_line(exc)})") from exc
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.startswith("Heading") or style == "Title":
            level = style.rsplit(" ", 1)[-1]
            hashes = "#" * (int(level) if level.isdigit() else 1)
            lines.append(f"{hashes} {text}")
        else:
            lines.append(text)
    for table in document.tables:
        lines.extend(_table_lines([[cell.text.strip() for cell in row.cells] for row in table.rows]))
    title = (document.core_properties.title or "").strip()
    text = "\n".join(lines)
    return title or first_heading(text), [Page(number=1, text=text)]


def _parse_markdown(data: bytes) -> tuple[str, list[Page]]:
    text = decode_text(data)
    return first_heading(text), [Page(number=1, text=text)]


def _parse_text(data: bytes) -> tuple[str, list[Page]]:
    text = decode_text(data)
    # Form feeds separate pages in text exports.
    pages = [Page(number=i + 1, text=part) for i, part in enumerate(text.split("\f"))]
    return "", pages


def _parse_html(data: bytes) -> tuple[str, list[Page]]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            tag.replace_with(f"\n{'#' * level} {tag.get_text(' ', strip=True)}\n")
    for table in soup.find_all("table"):
        rows = [[cell.get_text(" ", strip=True) for cell in row.find_all(["th", "td"])] for row in
                table.find_all("tr")]
        table.replace_with("\n" + "\n".join(_table_lines(rows)) + "\n")
    for tag in soup.find_all(["p", "li", "div", "br", "tr"]):
        tag.insert_after("\n")
    body = soup.body or soup
    text = re.sub(r"\n\s*\n+", "\n\n", body.get_text())
    return title or first_heading(text), [Page(number=1, text=text.strip())]


def _table_lines(rows: list[list[str]]) -> list[str]:
    """Rows of a table as 'header: value' lines, so each row keeps its header when chunked."""
    rows = [row for row in rows if any(cell for cell in row)]
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return [" | ".join(header)]
    lines = []
    for row in body:
        pairs = [f"{name}: {value}" for name, value in zip(header, row, strict=False) if value]
        lines.append("; ".join(pairs) + ".")
    return lines


def _parse_csv(data: bytes) -> tuple[str, list[Page]]:
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    except csv.Error as exc:
        raise LoadError(f"malformed CSV ({_one_line(exc)})") from exc
    return "", [Page(number=1, text="\n".join(_table_lines(rows)))]


def _parse_xlsx(data: bytes) -> tuple[str, list[Page]]:
    import zipfile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LoadError(f"corrupt XLSX ({_one_line(exc)})") from exc
    pages = []
    for number, sheet in enumerate(workbook.worksheets, start=1):
        rows = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        lines = _table_lines(rows)
        pages.append(Page(number=number, text=f"# {sheet.title}\n" + "\n".join(lines) if lines else "",
                          heading=sheet.title))
    workbook.close()
    return "", pages


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]


_PARSERS: dict[str, Callable[[bytes], tuple]] = {
    "pdf": _parse_pdf,
    "docx": _parse_docx,
    "md": _parse_markdown,
    "txt": _parse_text,
    "html": _parse_html,
    "csv": _parse_csv,
    "xlsx": _parse_xlsx,
}

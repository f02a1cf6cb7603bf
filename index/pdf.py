"""PDF pages: the text layer, tables, OCR and hidden text of every physical page, in order.

Owns how a PDF's bytes become `Page`s:

- the text layer comes from pypdfium2 (PDFium, what Chrome uses): on the public PDFs in BENCHMARKS.md it gives
  pypdf's text (word overlap 0.95-1.0) about 20 times faster, and opens files pypdf rejects;
- tables on pages with rulings are located with pdfplumber's table finder and read from PDFium's characters, one
  `TableRow` per data row, and written into the page text as one line per row in place of the table's cells;
- a page without a text layer (or with only a few characters) that carries an image is rendered and read by
  rapidocr-onnxruntime on the CPU, offline (its ONNX models ship inside the wheel);
- text a reader does not see (white or background-coloured, under 2 pt, off the page, invisible, annotation
  contents, metadata fields carrying prose) goes to `Page.hidden`, never to `Page.text`.

`parse_pdf` is the one entry point; `index.loaders` calls it for ".pdf" files.
"""

from __future__ import annotations

import ctypes
import io
import logging
import math
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from index.types import HiddenText, Page, TableRow

MIN_TEXT_CHARS = 20  # fewer visible characters than this on a page with an image: the page is OCR'd
MIN_IMAGE_COVER = 0.25  # share of the page an image (or images) must cover for the page to count as scanned
OCR_DPI = 200  # render resolution for OCR; capped so that the longer side stays within OCR_MAX_SIDE pixels
OCR_DET_SIDE = 1280  # text lines are found on a copy this size (same lines as at 2000 px on our scans)
OCR_MAX_SIDE = 2400  # ~218 dpi on letter; at the recogniser's default of 2000 words ran together ("inBuilding")
LOW_OCR_CONFIDENCE = 0.8  # mean recogniser score under which the user is warned
TINY_TEXT_PT = 2.0  # text smaller than this is not read by anyone
PROSE_WORDS = 6  # a metadata field with at least this many words (and not a list) is prose
_SHORT_FIELDS = {"Title", "Author", "Creator", "Producer"}
_COLOUR_TOLERANCE = 24  # 0..255 per channel: text this close to its background's colour is not seen

_LINE_BREAKS = re.compile(r"\r\n|\r")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def parse_pdf(data: bytes) -> tuple[str, list[Page], list[str]]:
    """(title, every page in order including empty ones, warnings for the user); LoadError when unopenable."""
    import pypdfium2 as pdfium

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise _open_error(exc, data) from exc
    warnings: list[str] = []
    try:
        metadata = _metadata(document, data)
        tables = _TableFinder(data)
        pages = []
        continued: _OpenTable | None = None
        for index in range(len(document)):
            page, continued = _read_page(document, index, tables, continued, warnings)
            pages.append(page)
        if tables.error:
            warnings.append(f"tables not read as tables ({tables.error})")
        tables.close()
    finally:
        document.close()
    title = metadata.get("Title", "").strip()
    hidden = [HiddenText(text=value, reason=f"metadata /{key}") for key, value in metadata.items()
              if _is_prose(key, value)]
    if hidden and pages:
        pages[0] = _replace(pages[0], hidden=pages[0].hidden + tuple(hidden))
    if not title or len(title.split()) > 15:  # a title that is a paragraph is not a title
        from index.loaders import first_heading

        title = next((first_heading(page.text) for page in pages if page.text.strip()), "")
    return title, pages, warnings


def _open_error(exc: Exception, data: bytes) -> Exception:
    from index.loaders import LoadError

    code = getattr(exc, "err_code", None)
    if code == 4:  # FPDF_ERR_PASSWORD
        return LoadError("encrypted PDF (a password is required)")
    if code == 6:  # FPDF_ERR_SECURITY
        return LoadError("encrypted PDF that cannot be opened (unsupported security handler)")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        return LoadError("corrupt PDF (not a PDF file)")
    return LoadError(f"corrupt PDF ({_one_line(str(exc))})")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:160]


def _replace(page: Page, **changes: object) -> Page:
    from dataclasses import replace

    return replace(page, **changes)


# ---- one page ---------------------------------------------------------------------------------


@dataclass
class _OpenTable:
    """The last table of the previous page, which this page's first table may continue."""

    name: str
    header: list[str]
    rows: int  # data rows so far
    low: bool  # it ends at the foot of its page


def _read_page(document, index: int, finder: _TableFinder, continued: _OpenTable | None,
               warnings: list[str]) -> tuple[Page, _OpenTable | None]:
    number = index + 1
    page = document[index]
    try:
        box = _crop_box(page)
        scan = _scan(page, box)
        textpage = page.get_textpage()
        try:
            # pdfplumber turns a rotated page's coordinates, PDFium's characters stay put: no tables there yet.
            ruled = scan.may_hold_table() and page.get_rotation() == 0
            tables = finder.tables(index, page.get_height()) if ruled else []
            read = _read_chars(textpage, scan.reasons, box, tables) if tables or scan.reasons or scan.partly_off \
                else _CharRead(text=textpage.get_text_range(), hidden=[], cells=[])
            kept = [t for t in range(len(tables)) if _is_table(read, t)]
            if len(kept) < len(tables):  # read again, the false tables' text in its place as text
                tables = [tables[t] for t in kept]
                read = _read_chars(textpage, scan.reasons, box, tables)
        finally:
            textpage.close()
        text = _clean(read.text)
        rows, continued, text = _table_rows(tables, read.cells, number, continued, text, box)
        hidden = read.hidden + _annotations(page)
        ocr, confidence = False, None
        visible = len(re.sub(r"\s", "", text))
        if visible < MIN_TEXT_CHARS and (scan.image_cover >= MIN_IMAGE_COVER or scan.paths >= 300):
            recognised, confidence = _ocr_page(page)
            ocr = True
            if recognised.strip():
                text = recognised
            else:
                warnings.append(f"page {number}: OCR found no text")
            if recognised.strip() and confidence is not None and confidence < LOW_OCR_CONFIDENCE:
                warnings.append(f"page {number}: low OCR confidence ({confidence:.2f}); check the scan")
    finally:
        page.close()
    label = _label(document, index)
    return Page(number=number, text=text, label=label, ocr=ocr, ocr_confidence=confidence, rows=tuple(rows),
                hidden=tuple(hidden)), continued


def _label(document, index: int) -> str:
    try:
        label = document.get_page_label(index).strip()
    except Exception:
        return ""
    return "" if label == str(index + 1) else label


def _clean(text: str) -> str:
    text = _LINE_BREAKS.sub("\n", text).replace("\ufffe", "").replace("\x0c", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


# ---- page objects: what is drawn where ------------------------------------------------------


@dataclass
class _Scan:
    paths: int = 0  # vector paths (rulings, boxes, drawings)
    across: int = 0  # horizontal edges a table could be drawn with (rules, and box sides)
    down: int = 0  # vertical edges

    def may_hold_table(self) -> bool:
        """Enough rulings both ways for a ruled table: pdfplumber (tens of ms a page) is asked only then."""
        return self.across >= 3 and self.down >= 3
    image_cover: float = 0.0  # share of the page covered by images
    reasons: dict[int, str] = field(default_factory=dict)  # text object address -> why nobody sees it
    partly_off: bool = False  # some text object reaches past the page's edge


def _crop_box(page) -> tuple[float, float, float, float]:
    """What a viewer shows: the crop box within the media box, inherited from the page tree when need be."""
    try:
        left, bottom, right, top = page.get_bbox()
    except Exception:
        width, height = page.get_size()
        left, bottom, right, top = 0.0, 0.0, width, height
    return min(left, right), min(bottom, top), max(left, right), max(bottom, top)


def _scan(page, box: tuple[float, float, float, float]) -> _Scan:
    """One pass over the page's objects (into forms), in drawing order: counts and hidden text objects."""
    import pypdfium2.raw as raw

    scan = _Scan()
    page_area = max((box[2] - box[0]) * (box[3] - box[1]), 1.0)
    backgrounds: list[tuple[tuple[float, float, float, float], tuple[int, int, int] | None]] = []
    colours: set[tuple[int, int, int]] = set()
    seen: dict[tuple, bool] = {}
    image_area = 0.0
    for obj, matrix in _objects(page.raw, raw):
        kind = raw.FPDFPageObj_GetType(obj)
        bounds = _bounds(obj, matrix, raw)
        if bounds is None:
            continue
        if kind == raw.FPDF_PAGEOBJ_PATH:
            scan.paths += 1
            width, tall = bounds[2] - bounds[0], bounds[3] - bounds[1]
            if tall <= 3 and width >= 15:
                scan.across += 1
            elif width <= 3 and tall >= 8:
                scan.down += 1
            elif width >= 15 and tall >= 8:  # a box, or a whole grid drawn as one path
                sides = max(2, raw.FPDFPath_CountSegments(obj) // 2)
                scan.across += sides
                scan.down += sides
            fill = _filled_colour(obj, raw)
            if fill is not None:
                backgrounds.append((bounds, fill))
                colours.add(fill)
        elif kind == raw.FPDF_PAGEOBJ_IMAGE:
            clipped = _intersection(bounds, box)
            if clipped:
                image_area += (clipped[2] - clipped[0]) * (clipped[3] - clipped[1])
                backgrounds.append((clipped, None))
        elif kind == raw.FPDF_PAGEOBJ_TEXT:
            reason = _text_reason(obj, matrix, bounds, box, backgrounds, colours, seen, raw)
            if reason == "partly off":
                scan.partly_off = True
            elif reason:
                scan.reasons[_address(obj)] = reason
    scan.image_cover = image_area / page_area
    return scan


_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _objects(page_raw, raw, form=None, matrix=_IDENTITY, depth=0) -> Iterator[tuple[object, tuple]]:
    """Every page object with the matrix of the forms around it (identity at the top level)."""
    count = raw.FPDFFormObj_CountObjects(form) if form is not None else raw.FPDFPage_CountObjects(page_raw)
    for i in range(max(count, 0)):
        obj = raw.FPDFFormObj_GetObject(form, i) if form is not None else raw.FPDFPage_GetObject(page_raw, i)
        if not obj:
            continue
        yield obj, matrix
        if raw.FPDFPageObj_GetType(obj) == raw.FPDF_PAGEOBJ_FORM and depth < 8:
            own = raw.FS_MATRIX()
            if raw.FPDFPageObj_GetMatrix(obj, own):
                inner = _multiply((own.a, own.b, own.c, own.d, own.e, own.f), matrix)
            else:
                inner = matrix
            yield from _objects(page_raw, raw, obj, inner, depth + 1)


def _multiply(first: tuple, second: tuple) -> tuple:
    """The matrix applying `first`, then `second` (PDF row-vector convention)."""
    a1, b1, c1, d1, e1, f1 = first
    a2, b2, c2, d2, e2, f2 = second
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _bounds(obj, matrix: tuple, raw) -> tuple[float, float, float, float] | None:
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    if not raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
        return None
    box = (left.value, bottom.value, right.value, top.value)
    if matrix is _IDENTITY:
        return box
    a, b, c, d, e, f = matrix
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[0], box[3]), (box[2], box[1]), (box[2], box[3])):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return min(xs), min(ys), max(xs), max(ys)


def _intersection(first: tuple, second: tuple) -> tuple[float, float, float, float] | None:
    left, bottom = max(first[0], second[0]), max(first[1], second[1])
    right, top = min(first[2], second[2]), min(first[3], second[3])
    return (left, bottom, right, top) if right > left and top > bottom else None


def _address(obj) -> int:
    return ctypes.cast(obj, ctypes.c_void_p).value or 0


def _fill_colour(obj, raw) -> tuple[int, int, int, int] | None:
    r, g, b, a = ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    if not raw.FPDFPageObj_GetFillColor(obj, r, g, b, a):
        return None
    return r.value, g.value, b.value, a.value


def _filled_colour(path, raw) -> tuple[int, int, int] | None:
    mode, stroke = ctypes.c_int(), ctypes.c_int()
    if not raw.FPDFPath_GetDrawMode(path, mode, stroke) or mode.value == raw.FPDF_FILLMODE_NONE:
        return None
    colour = _fill_colour(path, raw)
    if colour is None or colour[3] == 0:
        return None
    return colour[:3]


def _text_reason(obj, matrix: tuple, bounds: tuple, box: tuple, backgrounds: list, colours: set, seen: dict,
                 raw) -> str:
    """Why nobody sees this text object ("" when they do; "partly off" when only some of it is off the page).
    `colours` holds the fill colours drawn so far: the shapes under the text are looked up only when one of
    them (or the white page) could match the text's colour."""
    if _intersection(bounds, box) is None:
        return "off the page"
    centre = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    mode = raw.FPDFTextObj_GetTextRenderMode(obj)
    if mode == raw.FPDF_TEXTRENDERMODE_INVISIBLE:
        # Invisible text over a scan is the scan's OCR layer; with no image beneath, it is planted.
        return "" if _background(centre, backgrounds) == "image" else "invisible text"
    size = _font_size(obj, matrix, raw)
    if size is not None and 0 < size < TINY_TEXT_PT:
        return f"text under {TINY_TEXT_PT:g} pt"
    colour = _fill_colour(obj, raw)
    fills = mode in (raw.FPDF_TEXTRENDERMODE_FILL, raw.FPDF_TEXTRENDERMODE_FILL_CLIP,
                     raw.FPDF_TEXTRENDERMODE_FILL_STROKE, raw.FPDF_TEXTRENDERMODE_FILL_STROKE_CLIP)
    if colour is not None and fills:
        if colour[3] == 0:
            return "transparent text"
        rgb = colour[:3]
        key = (rgb, len(colours))  # most text is one colour: compare it with the fills once per new fill
        if key not in seen:
            seen[key] = _near(rgb, _WHITE) or any(_near(rgb, other) for other in colours)
        if seen[key]:
            under = _background(centre, backgrounds)
            if under != "image":
                background = under or _WHITE
                if _near(rgb, background):
                    return "white text" if _near(background, _WHITE) else "text in its background's colour"
    inside = _intersection(bounds, box)
    if inside != bounds and inside is not None:
        return "partly off"
    return ""


_WHITE = (255, 255, 255)


def _near(first: tuple, second: tuple) -> bool:
    return max(abs(first[i] - second[i]) for i in range(3)) <= _COLOUR_TOLERANCE


def _background(point: tuple[float, float], backgrounds: list) -> tuple[int, int, int] | str | None:
    """The colour of the last filled shape drawn under a point, "image" for an image, None for the bare page."""
    x, y = point
    for bounds, colour in reversed(backgrounds[-2000:]):
        if bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]:
            return "image" if colour is None else colour
    return None


def _font_size(obj, matrix: tuple, raw) -> float | None:
    size = ctypes.c_float()
    if not raw.FPDFTextObj_GetFontSize(obj, size):
        return None
    own = raw.FS_MATRIX()
    scale = 1.0
    if raw.FPDFPageObj_GetMatrix(obj, own):
        full = _multiply((own.a, own.b, own.c, own.d, own.e, own.f), matrix)
        scale = math.hypot(full[2], full[3])  # the vertical axis: how tall a glyph comes out
    return size.value * scale


# ---- characters: visible text, hidden runs, table cells -------------------------------------


@dataclass
class _Table:
    """A table pdfplumber found: its cells' boxes in PDF space, row by row (None where a cell spans)."""

    bbox: tuple[float, float, float, float]  # left, bottom, right, top
    grid: list[list[tuple[float, float, float, float] | None]]


@dataclass
class _CharRead:
    text: str
    hidden: list[HiddenText]
    cells: list[list[list[str]]]  # per table, per row, per column: the cell's text
    lines: list[set[int]] = field(default_factory=list)  # per table: the heights (pt) its characters stand at
    cut: list[int] = field(default_factory=list)  # per table: characters a cell's edge runs through
    chars: list[int] = field(default_factory=list)  # per table: characters in its cells


def _is_table(read: _CharRead, t: int) -> bool:
    """A grid pdfplumber found is read as a table only when it holds the text the way a table does: at least
    two rows of two values, no more than three text lines per row on average (else the rulings are stripes
    or column bars and the rows run together), and cell edges that do not cut through characters."""
    grid = read.cells[t]
    full_rows = sum(1 for row in grid if sum(1 for value in row if value.strip()) >= 2)
    if full_rows < 2:
        return False
    rows = sum(1 for row in grid if any(value.strip() for value in row))
    if len(read.lines[t]) > 3 * rows:
        return False
    return read.cut[t] <= 0.02 * max(read.chars[t], 1)


_WORD = re.compile(r"[^\W\d_]{3,}")
_TABLE_MARK = "\ue000table{}\ue001"  # private-use characters: no PDF text holds them here


def _read_chars(textpage, reasons: dict[int, str], box: tuple, tables: list[_Table]) -> _CharRead:
    """Walk the page's characters: visible ones make the text, hidden ones the hidden runs, those in a table
    fill its cells; each table's place in the text is kept as a marker for its row lines."""
    import pypdfium2.raw as raw

    visible: list[str] = []
    runs: list[list[str]] = []  # [reason, text]
    cells = [[["" for _ in row] for row in table.grid] for table in tables]
    lines: list[set[int]] = [set() for _ in tables]
    cut = [0] * len(tables)
    counted = [0] * len(tables)
    placed: set[int] = set()
    left, bottom, right, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    last = "visible"  # where the previous real character went, for the generated spaces and breaks after it
    last_cell: tuple[int, int, int] | None = None
    for i in range(textpage.count_chars()):
        code = raw.FPDFText_GetUnicode(textpage, i)
        char = chr(code) if 0 < code < 0x110000 else ""
        if raw.FPDFText_IsGenerated(textpage, i) == 1 or char in ("\r", "\n"):
            if last == "visible":
                visible.append(char)
            elif last == "cell" and last_cell is not None:
                t, r, c = last_cell
                cells[t][r][c] += " "
            elif runs:
                runs[-1][1] += " "
            continue
        reason = reasons.get(_address(raw.FPDFText_GetTextObject(textpage, i)), "")
        if not reason:
            raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
            x, y = (left.value + right.value) / 2, (bottom.value + top.value) / 2
            if not (box[0] <= x <= box[2] and box[1] <= y <= box[3]) and right.value > left.value:
                reason = "off the page"
            elif tables:
                where = _cell_at(tables, x, y)
                if where is not None:
                    t, r, c = where
                    edge = tables[t].grid[r][c]
                    counted[t] += 1
                    raw.FPDFText_GetCharOrigin(textpage, i, origin_x, origin_y)
                    lines[t].add(round(origin_y.value / 2))  # the baseline, in 2-pt steps
                    if edge is not None and (left.value < edge[0] - 1 or right.value > edge[2] + 1):
                        cut[t] += 1
                    if t not in placed:
                        placed.add(t)
                        visible.append(_TABLE_MARK.format(t))
                    cells[t][r][c] += char
                    last, last_cell = "cell", where
                    continue
        if reason:
            if not runs or runs[-1][0] != reason:
                runs.append([reason, ""])
            runs[-1][1] += char
            last = "hidden"
        else:
            visible.append(char)
            last = "visible"
    text = "".join(visible)
    for t in range(len(tables)):
        if t not in placed:
            text += "\n" + _TABLE_MARK.format(t)
    hidden = []
    for reason, run in runs:
        run = " ".join(run.split())
        if not _WORD.search(run):  # a stray dot past the margin, a figure's letter on a fill: nothing to say
            continue
        if hidden and hidden[-1].reason == reason:
            hidden[-1] = HiddenText(text=f"{hidden[-1].text} {run}", reason=reason)
        else:
            hidden.append(HiddenText(text=run, reason=reason))
    return _CharRead(text=text, hidden=hidden, cells=cells, lines=lines, cut=cut, chars=counted)


def _cell_at(tables: list[_Table], x: float, y: float) -> tuple[int, int, int] | None:
    for t, table in enumerate(tables):
        if not (table.bbox[0] <= x <= table.bbox[2] and table.bbox[1] <= y <= table.bbox[3]):
            continue
        for r, row in enumerate(table.grid):
            for c, cell in enumerate(row):
                if cell is not None and cell[0] <= x <= cell[2] and cell[1] <= y <= cell[3]:
                    return t, r, c
        return None
    return None


# ---- tables -----------------------------------------------------------------------------------


class _TableFinder:
    """pdfplumber, opened once per file and only when a page may hold a ruled table."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pdf = None
        self.error = ""

    def tables(self, index: int, height: float) -> list[_Table]:
        if self.error:
            return []
        try:
            if self._pdf is None:
                import pdfplumber

                self._pdf = pdfplumber.open(io.BytesIO(self._data))
            page = self._pdf.pages[index]
            found = page.find_tables()
            result = []
            for table in found:
                grid = [[_to_pdf(cell, page.height) if cell else None for cell in row.cells] for row in table.rows]
                if len(grid) >= 2 and max(len(row) for row in grid) >= 2:
                    result.append(_Table(bbox=_to_pdf(table.bbox, page.height), grid=grid))
            page.close()
            return result
        except Exception as exc:  # pdfminer rejects some files PDFium reads: the text still goes in
            self.error = _one_line(f"{type(exc).__name__}: {exc}")
            return []

    def close(self) -> None:
        if self._pdf is not None:
            self._pdf.close()


def _to_pdf(bbox: tuple, height: float) -> tuple[float, float, float, float]:
    """pdfplumber's (x0, top, x1, bottom), top-down, as PDF space's (left, bottom, right, top)."""
    x0, top, x1, bottom = bbox
    return float(x0), float(height - bottom), float(x1), float(height - top)


_DIGIT = re.compile(r"\d")


def _table_rows(tables: list[_Table], cells: list[list[list[str]]], number: int, continued: _OpenTable | None,
                text: str, box: tuple) -> tuple[list[TableRow], _OpenTable | None, str]:
    """The data rows of each table, and the text with each table's marker replaced by its row lines.

    A table that starts at the top of the page with as many columns as the one that ended at the foot of the
    previous page continues it: same name, rows counted on, its repeated header dropped."""
    rows: list[TableRow] = []
    height = box[3] - box[1]
    opened = continued if continued is not None and continued.low else None
    continued = None
    for t, table in enumerate(tables):
        grid = [[" ".join(value.split()) for value in row] for row in cells[t]]
        spans = [[cell is None for cell in row] for row in table.grid]
        keep = [i for i, row in enumerate(grid) if any(row)]
        grid, spans = [grid[i] for i in keep], [spans[i] for i in keep]
        marker = _TABLE_MARK.format(t)
        if not grid:
            text = text.replace(marker, "")
            continue
        width = max(len(row) for row in grid)
        grid = [row + [""] * (width - len(row)) for row in grid]
        spans = [row + [False] * (width - len(row)) for row in spans]
        caption = ""
        while len(grid) > 2 and width >= 3 and sum(1 for value in grid[0] if value) == 1:
            caption = caption or next(value for value in grid[0] if value)  # a title row across the table
            grid, spans = grid[1:], spans[1:]
        if width == 2 and _is_key_value(grid):
            name = _heading_before(text, marker) or caption or f"table {t + 1} on page {number}"
            found = [TableRow(table=name, number=i, cells=((key, value),)) for i, (key, value) in
                     enumerate(grid, start=1)]
            rows += found
            text = text.replace(marker, "\n" + "\n".join(row.text() for row in found) + "\n")
            continue
        name = ""
        top = table.bbox[3] >= box[1] + 0.75 * height
        if t == 0 and opened is not None and top and width == len(opened.header):
            name, header, count = opened.name, opened.header, opened.rows
            if [value.lower() for value in grid[0]] == [value.lower() for value in header]:
                grid, spans = grid[1:], spans[1:]  # the header, repeated on this page
            elif _looks_like_header(grid[0]):
                name = ""  # a new table with as many columns
        if not name:
            header, start = _header(grid, spans)
            grid, count = grid[start:], 0
            name = _heading_before(text, marker) or caption or f"table {t + 1} on page {number}"
        lines = []
        for values in grid:
            count += 1
            row = TableRow(table=name, number=count, cells=tuple(zip(header, values, strict=True)))
            rows.append(row)
            lines.append(row.text())
        text = text.replace(marker, "\n" + "\n".join(line for line in lines if line) + "\n")
        continued = _OpenTable(name=name, header=header, rows=count, low=table.bbox[1] <= box[1] + 0.25 * height)
    return rows, continued, _BLANK_LINES.sub("\n\n", text).strip()


def _is_key_value(grid: list[list[str]]) -> bool:
    """Two columns whose left cells are all labels ("Named insured", "Valuation date:"): each row is a field and
    its value, not data under a header row."""
    keys = [row[0] for row in grid]
    return len(grid) >= 2 and all(key and len(key.split()) <= 6 and not _DIGIT.search(key) for key in keys)


def _looks_like_header(row: list[str]) -> bool:
    filled = [cell for cell in row if cell]
    return len(filled) >= max(2, len(row) // 2) and sum(1 for cell in filled if _DIGIT.search(cell)) <= 1


def _header(grid: list[list[str]], spans: list[list[bool]]) -> tuple[list[str], int]:
    """The column names and how many rows they take (0 for a table without a header row)."""
    if not _looks_like_header(grid[0]):
        return [""] * len(grid[0]), 0
    header = _fill_spans(grid[0], spans[0])
    used = 1
    # A second header row under spanning cells ("Loss" over "Paid | Reserve | Incurred").
    if len(grid) > 2 and any(spans[0]) and _looks_like_header(grid[1]):
        header = [f"{top} {below}".strip() for top, below in zip(header, grid[1], strict=True)]
        used = 2
    return header, used


def _fill_spans(row: list[str], spans: list[bool]) -> list[str]:
    filled, last = [], ""
    for value, spanned in zip(row, spans, strict=True):
        last = last if spanned and not value else value
        filled.append(last)
    return filled


def _heading_before(text: str, marker: str) -> str:
    from index.loaders import heading_of

    before = [line.strip() for line in text.split(marker, 1)[0].splitlines() if line.strip()]
    for line in reversed(before[-3:]):  # the heading, and perhaps a line or two of notes under it
        found = heading_of(line)
        if found:
            return found
    return ""


# ---- annotations and metadata -----------------------------------------------------------------


def _annotations(page) -> list[HiddenText]:
    """The /Contents of the page's annotations (notes, comments, free text): not part of the page's text."""
    import pypdfium2.raw as raw

    found = []
    for i in range(max(raw.FPDFPage_GetAnnotCount(page.raw), 0)):
        annot = raw.FPDFPage_GetAnnot(page.raw, i)
        if not annot:
            continue
        try:
            if raw.FPDFAnnot_GetSubtype(annot) == raw.FPDF_ANNOT_POPUP:
                continue  # a popup repeats its parent's contents
            size = raw.FPDFAnnot_GetStringValue(annot, b"Contents", None, 0)
            if size <= 2:
                continue
            buffer = ctypes.create_string_buffer(size)
            raw.FPDFAnnot_GetStringValue(annot, b"Contents", ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)),
                                         size)
            text = " ".join(buffer.raw[: size - 2].decode("utf-16-le", errors="ignore").split())
            if text:
                found.append(HiddenText(text=text, reason="annotation"))
        finally:
            raw.FPDFPage_CloseAnnot(annot)
    return found


def _metadata(document, data: bytes) -> dict[str, str]:
    """The info dictionary's text fields, custom keys included (through pypdf when it reads the file)."""
    fields: dict[str, str] = {}
    try:
        for key, value in document.get_metadata_dict(skip_empty=True).items():
            if key not in ("CreationDate", "ModDate", "Trapped"):
                fields[key] = " ".join(str(value).split())
    except Exception:
        pass
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        for key, value in (reader.metadata or {}).items():
            name = str(key).lstrip("/")
            if name not in fields and name not in ("CreationDate", "ModDate", "Trapped") and isinstance(value, str):
                fields[name] = " ".join(value.split())
    except Exception:  # pypdf rejects the file: the standard fields came from PDFium
        pass
    return {key: value for key, value in fields.items() if value}


def _is_prose(key: str, value: str) -> bool:
    """Sentence-like: enough words (twice as many, and a full stop, for the short fields: a long title is still
    a title), most of them lower-case words (a title is in title case, a tool's banner is names and versions),
    and not a list of keywords."""
    words = value.split()
    if len(words) < PROSE_WORDS * (2 if key in _SHORT_FIELDS else 1):
        return False
    if key in _SHORT_FIELDS and not re.search(r"[.!?](\s|$)", value):
        return False  # a long title without a sentence in it ("Procès-verbal de la séance du 20 juin 2023")
    lower = sum(1 for word in words if word.strip(".,;:!?()\"'").isalpha() and word[0].islower())
    separators = len(re.findall(r"[,;|]", value))
    return lower >= len(words) / 2 and separators < len(words) / 3


# ---- OCR --------------------------------------------------------------------------------------

_ENGINE_LOCK = threading.Lock()
_RUN_LOCK = threading.Lock()
_ENGINE = None


def ocr_threads() -> int:
    """Threads for the recogniser: ASSISTANT_OCR_THREADS, else the cores, at most 4."""
    configured = os.environ.get("ASSISTANT_OCR_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(4, os.cpu_count() or 1))


def _ocr_engine():
    """The rapidocr engine, loaded once per process on first use (its models load in about a second)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from rapidocr_onnxruntime import RapidOCR

            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            threads = ocr_threads()
            # No angle classifier: on our scans it turned upright lines upside down (claims read 12 of 30 with it,
            # 30 of 30 without) and it costs time; pages scanned upside down are rare.
            # Detection at most 2000 px on the long side (its "max" mode), recognition on the full render.
            _ENGINE = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1, max_side_len=OCR_MAX_SIDE,
                               use_cls=False, det_limit_type="max")
        return _ENGINE


def _ocr_page(page) -> tuple[str, float | None]:
    """The page rendered and recognised: its lines in reading order, and the mean confidence."""
    import numpy as np

    width, height = page.get_size()
    dpi = min(OCR_DPI, OCR_MAX_SIDE * 72 / max(width, height, 1))
    bitmap = page.render(scale=dpi / 72, may_draw_forms=False)
    image = np.ascontiguousarray(bitmap.to_numpy()[:, :, :3])  # BGR, as the recogniser expects
    bitmap.close()
    engine = _ocr_engine()
    with _RUN_LOCK:  # one page at a time: the engine already uses the cores it is given
        try:
            result = _recognise(engine, image)
        except Exception:  # the engine's parts changed shape: its own pipeline, slower but whole
            result, _ = engine(image, return_word_box=True)
    return ocr_lines(result or [])


def _recognise(engine, image) -> list:
    """rapidocr's pipeline with detection on a copy at most OCR_DET_SIDE px long (it finds the same lines
    there, two to three times faster) and recognition on crops of the full render (where spaces survive)."""
    import cv2
    import numpy as np

    height, width = image.shape[:2]
    scale = min(1.0, OCR_DET_SIDE / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    boxes, _ = engine.text_det(small)
    if boxes is None or len(boxes) == 0:
        return []
    boxes = [np.clip(np.asarray(box, dtype=np.float32) / scale, 0, [width - 1, height - 1]) for box in boxes]
    crops = engine.get_crop_img_list(image, boxes)
    recognised, _ = engine.text_rec(crops, True)
    recognised = engine.cal_rec_boxes(crops, boxes, recognised)
    return [[box.tolist(), *found] for box, found in zip(boxes, recognised, strict=True)
            if float(found[1]) >= engine.text_score]


def _respace(pieces: list[str], boxes: list, height: float) -> str:
    """A recognised line rebuilt from its pieces' boxes, with a space wherever two pieces stand apart by more
    than 0.3 of the line's height: the recogniser drops many spaces of Latin text ("thecitymain"); within a
    word its pieces stand at most ~0.25 apart, between words at least ~0.33 (measured on 11-14 pt scans)."""
    out: list[str] = []
    last_right: float | None = None
    for piece, box in zip(pieces, boxes, strict=True):
        left, right = min(point[0] for point in box), max(point[0] for point in box)
        if (last_right is not None and left - last_right > 0.3 * height and out and not out[-1].endswith(" ")
                and not piece.startswith((" ", ".", ",", ";", ":", ")", "%"))):
            out.append(" ")
        out.append(piece)
        last_right = right
    return " ".join("".join(out).split())


def ocr_lines(result: list) -> tuple[str, float | None]:
    """Recognised boxes ([corners, text, score], optionally with their pieces' boxes and texts) as lines in
    reading order: grouped by height, left to right."""
    boxes = []
    for corners, text, score, *words in result:
        ys = [point[1] for point in corners]
        xs = [point[0] for point in corners]
        if len(words) >= 2 and words[0] and words[1] and len(words[0]) == len(words[1]):
            text = _respace(words[1], words[0], max(ys) - min(ys))
        boxes.append((min(ys), max(ys), min(xs), str(text), float(score)))
    if not boxes:
        return "", None
    boxes.sort(key=lambda box: (box[0] + box[1]) / 2)
    lines: list[list[tuple]] = []
    for box in boxes:
        centre, tall = (box[0] + box[1]) / 2, box[1] - box[0]
        if lines:
            line = lines[-1]
            line_centre = sum((b[0] + b[1]) / 2 for b in line) / len(line)
            line_tall = sum(b[1] - b[0] for b in line) / len(line)
            if abs(centre - line_centre) <= max(tall, line_tall) / 2:
                line.append(box)
                continue
        lines.append([box])
    text = "\n".join(" ".join(b[3] for b in sorted(line, key=lambda b: b[2])) for line in lines)
    confidence = sum(box[4] for box in boxes) / len(boxes)
    return text, confidence

"""Types that cross module borders: what the index hands to the rest of the product."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableRow:
    """One row of a table (a loss run, a statement of values), kept with its columns for the profile."""

    table: str  # the table's name: the sheet, or "table 2 on page 3", or the heading it sits under
    number: int  # the row's number as the source counts it (the sheet's row; the data row of a PDF/DOCX table)
    cells: tuple[tuple[str, str], ...]  # (column header, value), in column order

    def text(self) -> str:
        """The row as text that keeps its header: "Claim 24-118833 | Date of loss 03/14/2024 | Paid $48,200"."""
        return " | ".join(f"{name} {value}".strip() if name else value for name, value in self.cells if value)


@dataclass(frozen=True)
class HiddenText:
    """Text a reader of the rendered document does not see (white or tiny type, off-page text, an annotation,
    a metadata field, a hidden run or element): kept, but apart from the visible text."""

    text: str
    reason: str  # "white text", "text under 2 pt", "off the page", "annotation", "metadata /Subject", ...
    location: str = ""  # where it sits when finer than the page: "§ 4 Protection, ¶ 2", "comment by J. Doe"


@dataclass(frozen=True)
class Page:
    """One page (or page-like unit: a sheet, a whole text file) of a loaded document."""

    number: int  # 1-based
    text: str
    heading: str = ""
    label: str = ""  # the printed page label, when it differs from the number ("iv", "A-3")
    ocr: bool = False  # the text was recognised from the page's image
    ocr_confidence: float | None = None  # mean recogniser confidence, 0..1, when OCR'd
    rows: tuple[TableRow, ...] = ()  # the table rows found on this page
    hidden: tuple[HiddenText, ...] = ()  # text on this page a reader does not see; not part of `text`


@dataclass(frozen=True)
class LoadedDocument:
    """A file read into pages, before chunking."""

    path: str  # absolute path as ingested
    title: str
    pages: list[Page]
    kind: str  # pdf, docx, md, txt, html, csv, xlsx, xls, eml, msg
    note: str = ""  # something the user should know, e.g. the text was not UTF-8
    pages_in: int = 0  # pages (sheets, form-feed pages) the file has, empty ones included
    pages_text: int = 0  # of those, pages with a text layer
    pages_ocr: int = 0  # pages whose text was recognised from their image
    pages_empty: int = 0  # pages that still have no text
    warnings: tuple[str, ...] = ()  # per file, for the ingest report and status ("page 4: low OCR confidence")
    meta: tuple[tuple[str, str], ...] = ()  # e-mail: ("from", ...), ("date", ...), ("subject", ...)
    parent: str = ""  # an attachment: the path of the file on disk it came in (the message)

    def report(self) -> dict[str, object]:
        """What ingest stores and `status` shows about the file: pages in, with text, OCR'd, empty;
        table rows and sections; warnings."""
        rows = sum(len(page.rows) for page in self.pages)
        return {"pages_in": self.pages_in or len(self.pages), "pages_text": self.pages_text,
                "pages_ocr": self.pages_ocr, "pages_empty": self.pages_empty, "rows": rows,
                "hidden": sum(len(page.hidden) for page in self.pages), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class Chunk:
    """A piece of a document that is embedded and retrieved. `id` is stable across runs."""

    id: int
    source: str  # the file's path as ingested
    page: int
    position: int  # order of the chunk within its document
    text: str
    title: str = ""
    heading: str = ""
    location: str = ""  # where in its file, as a reader finds it: "page 3", "§ 4 Protection, ¶ 2", "sheet SOV rows 2-9"
    flags: tuple[str, ...] = ()  # why the chunk is not trusted as evidence (see index.planted), empty when clean
    rows: tuple[TableRow, ...] = field(default=(), compare=False, repr=False)  # the table rows it holds, whole

    def sort_key(self) -> tuple[str, int, int]:
        """Canonical order: document, then page, then position."""
        return (self.source, self.page, self.position)


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieved chunk with its fused score and the ranks that produced it."""

    chunk: Chunk
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # e.g. {"dense": 1, "bm25": 4}
    dense_score: float | None = None  # cosine similarity, when the dense retriever found it
    bm25_score: float | None = None  # FTS5 bm25 (higher is better here), when BM25 found it


@dataclass(frozen=True)
class Submission:
    """The documents of one insured: those lying directly in one folder (named after the insured)."""

    name: str  # the folder's name, e.g. "harbor-foods"
    folder: str  # the folder's absolute path
    documents: tuple[str, ...]  # the documents' paths as ingested, sorted
    chunks: int  # chunks of those documents in the index

"""Chunking: pages of a loaded document into chunks with stable ids, title and heading.

llama-index's SentenceSplitter does the splitting, measured in the embedder's own
tokens so no chunk is silently truncated by the embedding model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import PurePath

from index.loaders import _title_from_name, heading_of
from index.types import Chunk, LoadedDocument, Page, TableRow

Tokenize = Callable[[str], list]


def chunk_id(source: str, page: int, position: int, text: str) -> int:
    """A stable 63-bit id from where the chunk sits and what it says."""
    digest = hashlib.blake2b(f"{source}\x00{page}\x00{position}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


STRUCTURED_KINDS = {"docx", "md", "html", "txt", "eml", "msg"}  # cited by heading path and paragraph
SHEET_KINDS = {"csv", "xlsx", "xls"}  # cited by sheet and row range


@dataclass
class _Block:
    """A unit the chunker never cuts across: a paragraph (cut only when it alone is over the size) or a row."""

    text: str
    section: tuple[str, ...]  # the heading path it sits under
    paragraph: int = 0  # its number within the section (0 for a row)
    row: TableRow | None = None


@dataclass
class Chunker:
    """Splits documents into chunks of at most `chunk_size` tokens with `chunk_overlap` tokens of overlap.

    A chunk holds paragraphs of one section, or rows of one table, of one page: a table row is never cut
    (it keeps its header, see `TableRow.text`), and each chunk cites where it sits (`Chunk.location`).
    A page's hidden text (`Page.hidden`) becomes chunks of its own, flagged."""

    chunk_size: int
    chunk_overlap: int
    tokenize: Tokenize | None = None

    def __post_init__(self) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        kwargs = {"tokenizer": self.tokenize} if self.tokenize is not None else {}
        self._splitter = SentenceSplitter(
            chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap, paragraph_separator="\n\n", **kwargs
        )

    def _tokens(self, text: str) -> int:
        return len(self.tokenize(text)) if self.tokenize is not None else len(text.split())

    def split(self, document: LoadedDocument) -> list[Chunk]:
        """All chunks of a document, in page then position order."""
        chunks: list[Chunk] = []
        heading = ""  # PDFs: the last heading seen, carried across pages
        section: tuple[str, ...] = ()  # structured kinds: the heading path, carried across pages
        paged = len(document.pages) > 1 or any(page.number > 1 for page in document.pages)
        for page in document.pages:
            blocks, section = self._blocks(page, document.kind, section)
            first = len(chunks)
            for group in self._groups(blocks):
                for text, rows in self._texts(group):
                    if group[0].section:
                        chunk_heading = group[0].section[-1]
                    elif document.kind in SHEET_KINDS:
                        chunk_heading = page.heading
                    else:
                        chunk_heading = _heading_for(text) or page.heading or heading
                        heading = _last_heading(text) or chunk_heading
                    where = _location(document.kind, page, paged, group)
                    chunks.append(self._chunk(document, page, len(chunks), text, chunk_heading, where, rows=rows))
            placed = {id(row) for chunk in chunks[first:] for row in chunk.rows}
            loose = tuple(row for row in page.rows if id(row) not in placed)
            if loose and len(chunks) > first:  # rows the page's text does not show as lines: kept with it
                chunks[first] = replace(chunks[first], rows=chunks[first].rows + loose)
            for item in page.hidden:
                where = item.location or _page_location(document.kind, page, paged) or "hidden text"
                for piece in self._splitter.split_text(item.text):
                    if piece.strip():
                        chunks.append(self._chunk(document, page, len(chunks), piece.strip(), "", where,
                                                  flags=(f"hidden text: {item.reason}",)))
        return chunks

    @staticmethod
    def _chunk(document: LoadedDocument, page: Page, position: int, text: str, heading: str, location: str,
               rows: tuple[TableRow, ...] = (), flags: tuple[str, ...] = ()) -> Chunk:
        return Chunk(id=chunk_id(document.path, page.number, position, text), source=document.path,
                     page=page.number, position=position, text=text, title=document.title, heading=heading,
                     location=location, flags=flags, rows=rows)

    def _blocks(self, page: Page, kind: str, section: tuple[str, ...]) -> tuple[list[_Block], tuple[str, ...]]:
        """A page's paragraphs and rows, each with its heading path; heading lines open the block after them."""
        structured = kind in STRUCTURED_KINDS
        by_text: dict[str, list[TableRow]] = {}
        for row in page.rows:
            by_text.setdefault(row.text(), []).append(row)
        levels: list[tuple[int, str]] = [(i + 1, name) for i, name in enumerate(section)]
        blocks: list[_Block] = []
        lead: list[str] = []  # heading lines waiting for the block they open
        lines: list[str] = []
        paragraph = 0

        def close() -> None:
            nonlocal paragraph
            while lines and not lines[-1]:
                lines.pop()
            if lines:
                paragraph += 1
                blocks.append(_Block("\n".join([*lead, *lines]), tuple(name for _, name in levels), paragraph))
                lead.clear()
                lines.clear()

        for raw in page.text.splitlines():
            line = raw.strip()
            if not line:
                if structured:
                    close()
                elif lines:  # a PDF page is cut by sentences, as a whole, between its table rows
                    lines.append("")
                continue
            queue = by_text.get(line)
            if queue:
                close()
                blocks.append(_Block("\n".join([*lead, line]), tuple(name for _, name in levels), row=queue.pop(0)))
                lead.clear()
                continue
            heads = structured or kind in SHEET_KINDS  # a sheet's page opens with a `#` line naming it
            level = _heading_level(line, first_line=not lines, plain=kind == "txt") if heads else 0
            if level:
                close()
                levels = [item for item in levels if item[0] < level] + [(level, _MD_MARKS.sub("", line))]
                lead.append(line)
                paragraph = 0
                continue
            lines.append(line if structured else raw.rstrip())
        close()
        if lead:  # headings with nothing after them on this page
            blocks.append(_Block("\n".join(lead), tuple(name for _, name in levels), paragraph + 1))
        if not structured:  # PDFs and sheets: sections do not split chunks
            blocks = [replace(block, section=()) for block in blocks]
        return (blocks if structured else self._leads(blocks)), tuple(name for _, name in levels)

    def _leads(self, blocks: list[_Block]) -> list[_Block]:
        """PDFs and sheets: a short text just before a table (its title, a note) opens the table's first row
        rather than making a chunk of its own (a document with headings keeps its paragraphs apart)."""
        merged: list[_Block] = []
        for block in blocks:
            previous = merged[-1] if merged else None
            if (block.row is not None and previous is not None and previous.row is None
                    and previous.section == block.section and self._tokens(previous.text) < self.chunk_size // 4):
                merged[-1] = replace(block, text=f"{previous.text}\n{block.text}")
            else:
                merged.append(block)
        return merged

    def _groups(self, blocks: list[_Block]) -> list[list[_Block]]:
        """Consecutive blocks of one section and one kind (paragraphs, or rows of one table) up to the size."""
        groups: list[list[_Block]] = []
        size = 0
        for block in blocks:
            tokens = self._tokens(block.text)
            current = groups[-1] if groups else None
            if (current is not None and _group_key(current[0]) == _group_key(block)
                    and size + tokens <= self.chunk_size):
                current.append(block)
                size += tokens
            else:
                groups.append([block])
                size = tokens
        return groups

    def _texts(self, group: list[_Block]) -> list[tuple[str, tuple[TableRow, ...]]]:
        """The chunk texts of a group: whole, or a lone paragraph over the size cut by sentences (a row never)."""
        rows = tuple(block.row for block in group if block.row is not None)
        text = "\n\n".join(block.text for block in group) if not rows else "\n".join(b.text for b in group)
        if rows or len(group) > 1 or self._tokens(text) <= self.chunk_size:
            return [(text.strip(), rows)] if text.strip() else []
        if group[0].section:  # a long list or block of a document with headings: cut between its lines first
            return [(piece, ()) for piece in self._by_lines(text)]
        return [(piece.strip(), ()) for piece in self._splitter.split_text(text) if piece.strip()]

    def _by_lines(self, text: str) -> list[str]:
        """Lines packed up to the size; a line longer than that alone is cut by sentences."""
        pieces: list[str] = []
        current: list[str] = []
        size = 0
        for line in text.splitlines():
            tokens = self._tokens(line) + 1
            if current and size + tokens > self.chunk_size:
                pieces.append("\n".join(current))
                current, size = [], 0
            if tokens > self.chunk_size:
                pieces += [piece.strip() for piece in self._splitter.split_text(line) if piece.strip()]
                continue
            current.append(line)
            size += tokens
        if current:
            pieces.append("\n".join(current))
        return [piece for piece in pieces if piece.strip()]


_MD_MARKS = re.compile(r"^#{1,6}\s+|\s+#+\s*$")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s")


def _heading_level(line: str, first_line: bool, plain: bool) -> int:
    """A heading's level: from its `#` marks; for plain text (`plain`), a title-like line that opens a
    paragraph counts, its level from its numbering ("4.2 Sprinklers": 2)."""
    marks = re.match(r"^(#{1,6})\s+\S", line)
    if marks:
        return len(marks.group(1))
    if not plain or not first_line or heading_of(line) is None:
        return 0
    numbered = _NUMBERED.match(line)
    return min(numbered.group(1).count(".") + 1, 6) if numbered else 1


def _group_key(block: _Block) -> tuple[tuple[str, ...], str]:
    return block.section, f"table {block.row.table}" if block.row is not None else "text"


def _page_location(kind: str, page: Page, paged: bool) -> str:
    """Where a page is, as a reader finds it: "page 3 (printed iv)", "sheet SOV", or "page 2" of a text."""
    if kind == "pdf" or (paged and kind not in SHEET_KINDS):
        printed = f" (printed {page.label})" if page.label and page.label != str(page.number) else ""
        return f"page {page.number}{printed}"
    if kind in {"xlsx", "xls"}:
        return f"sheet {page.heading}" if page.heading else f"sheet {page.number}"
    return ""


def _location(kind: str, page: Page, paged: bool, group: list[_Block]) -> str:
    """A chunk's citable location: the page (PDF), heading path and paragraphs, or sheet and rows."""
    parts = [_page_location(kind, page, paged)]
    if kind == "pdf":
        return parts[0]
    rows = [block.row for block in group if block.row is not None]
    if kind in STRUCTURED_KINDS and group[0].section:
        parts.append("§ " + " > ".join(group[0].section))
    if rows:
        numbers = [row.number for row in rows]
        span = f"row {numbers[0]}" if len(set(numbers)) == 1 else f"rows {min(numbers)}-{max(numbers)}"
        table = rows[0].table
        if kind in STRUCTURED_KINDS and table:
            parts.append(table)
        parts.append(span)
    elif kind in SHEET_KINDS:
        parts.append("above the table")
    else:
        numbers = [block.paragraph for block in group]
        parts.append(f"¶ {numbers[0]}" if len(set(numbers)) == 1 else f"¶ {min(numbers)}-{max(numbers)}")
    return ", ".join(part for part in parts if part)


def _heading_for(text: str) -> str:
    """The heading that opens a chunk, if its first lines are one."""
    for line in text.splitlines()[:2]:
        found = heading_of(line)
        if found:
            return found
    return ""


def _last_heading(text: str) -> str:
    """The last heading inside a chunk: it governs the text that follows in the next chunk."""
    last = ""
    for line in text.splitlines():
        found = heading_of(line)
        if found:
            last = found
    return last


PREFIX_CHARS = 160  # cap on the context line, so the chunk's own text keeps the embedder's window


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def search_title(chunk: Chunk) -> str:
    """The chunk's title as search sees it: a title made from the file name ("Statement Of Values",
    "Underwriter Notes") says nothing about whose file it is, so the folder's name goes first."""
    path = PurePath(chunk.source)
    if chunk.title and chunk.title == _title_from_name(path) and path.parent.name:
        folder = re.sub(r"[_\-]+", " ", path.parent.name).strip().title()
        return f"{folder} > {chunk.title}" if folder else chunk.title
    return chunk.title


def context_line(chunk: Chunk) -> str:
    """Title (with the folder, see `search_title`) and heading, each left out when the chunk's opening
    already states it: repeating a heading the text starts with only dilutes the embedding."""
    opening = _words(chunk.text[:300])
    parts: list[str] = []
    for part in (search_title(chunk), chunk.heading):
        words = _words(part)
        if words and words not in opening and all(words != _words(seen) for seen in parts):
            parts.append(part)
    line = " > ".join(parts)
    return line if len(line) <= PREFIX_CHARS else line[:PREFIX_CHARS].rsplit(" ", 1)[0]


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: its context line first, so short passages keep their context."""
    prefix = context_line(chunk)
    return f"{prefix}\n{chunk.text}" if prefix else chunk.text

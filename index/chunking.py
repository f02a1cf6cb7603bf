"""Chunking: pages of a loaded document into chunks with stable ids, title and heading.

llama-index's SentenceSplitter does the splitting, measured in the embedder's own
tokens so no chunk is silently truncated by the embedding model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from index.loaders import _title_from_name, heading_of
from index.types import Chunk, LoadedDocument

Tokenize = Callable[[str], list]


def chunk_id(source: str, page: int, position: int, text: str) -> int:
    """A stable 63-bit id from where the chunk sits and what it says."""
    digest = hashlib.blake2b(f"{source}\x00{page}\x00{position}\x00{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass
class Chunker:
    """Splits documents into chunks of at most `chunk_size` tokens with `chunk_overlap` tokens of overlap."""

    chunk_size: int
    chunk_overlap: int
    tokenize: Tokenize | None = None

    def __post_init__(self) -> None:
        from llama_index.core.node_parser import SentenceSplitter

        kwargs = {"tokenizer": self.tokenize} if self.tokenize is not None else {}
        self._splitter = SentenceSplitter(
            chunk_size=self.chunk_size, chunk_overlap=self.chunk_overlap, paragraph_separator="\n\n", **kwargs
        )

    def split(self, document: LoadedDocument) -> list[Chunk]:
        """All chunks of a document, in page then position order."""
        chunks: list[Chunk] = []
        position = 0
        heading = ""
        for page in document.pages:
            heading = page.heading or heading
            for piece in self._splitter.split_text(page.text):
                text = piece.strip()
                if not text:
                    continue
                chunk_heading = _heading_for(text) or heading
                chunks.append(
                    Chunk(
                        id=chunk_id(document.path, page.number, position, text),
                        source=document.path,
                        page=page.number,
                        position=position,
                        text=text,
                        title=document.title,
                        heading=chunk_heading,
                    )
                )
                heading = _last_heading(text) or chunk_heading
                position += 1
        return chunks


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

"""Chunking: pages of a loaded document into chunks with stable ids, title and heading.

llama-index's SentenceSplitter does the splitting, measured in the embedder's own
tokens so no chunk is silently truncated by the embedding model.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from index.loaders import heading_of
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


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: title and heading first, so short passages keep their context."""
    prefix = " > ".join(part for part in (chunk.title, chunk.heading) if part)
    return f"{prefix}\n{chunk.text}" if prefix else chunk.text

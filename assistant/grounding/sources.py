"""Sources as the user and the model see them: which insured (submission) a document belongs to, where in
its file a chunk is, the label that names both, and the canonical order that keeps prompts a shared prefix."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath

from index.types import Chunk


def canonical_order(chunks: Iterable[Chunk]) -> list[Chunk]:
    """Sources in document, page, position order (duplicates dropped)."""
    unique = {chunk.id: chunk for chunk in chunks}
    return sorted(unique.values(), key=Chunk.sort_key)


def submission_of(source: str) -> str:
    """The submission (insured) a document belongs to: the folder it lies in."""
    return PurePath(source).parent.name


def location_of(chunk: Chunk) -> str:
    """Where in its file a chunk is: the location ingest gave it ("page 2", "§ 4 Protection, ¶ 3",
    "sheet SOV, rows 2-9"), or its page for chunks stored before locations existed."""
    return chunk.location or f"page {chunk.page}"


def source_label(chunk: Chunk) -> str:
    """How a source is named to the model and to the user: insured folder, file name and location."""
    folder = submission_of(chunk.source)
    return f"{folder + ' / ' if folder else ''}{PurePath(chunk.source).name}, {location_of(chunk)}"

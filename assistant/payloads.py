"""The JSON shapes of search results, documents and workspace status: what the CLI prints with `--json` and
the application API returns, in one place so the shells always agree; and sizes as people read them
(`human_bytes`, binary units), for every shell and message.

May import `index` types and the source labels (`assistant.grounding.sources`); no terminal, no HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from index.types import ScoredChunk


def result_dict(hit: ScoredChunk) -> dict[str, Any]:
    from assistant.grounding.sources import location_of

    chunk = hit.chunk
    return {"source": chunk.source, "page": chunk.page, "location": location_of(chunk), "flags": list(chunk.flags),
            "chunk_id": chunk.id, "score": round(hit.score, 6), "text": chunk.text}


def document_dict(record: Any) -> dict[str, Any]:
    """One document as `docs list --json` (and the application API) gives it."""
    return {"path": record.path, "title": record.title, "kind": record.kind, "pages": record.pages,
            "chunks": record.chunks, "status": record.status, "ingested_at": record.ingested_at}


def document_figures(record: Any) -> dict[str, Any]:
    """What status shows of one document: pages (or rows, sections), chunks, OCR'd pages, warnings."""
    report = record.report or {}
    return {"path": record.path, "kind": record.kind, "status": record.status,
            "pages": report.get("pages_in", record.pages), "pages_with_text": report.get("pages_text"),
            "pages_ocr": report.get("pages_ocr", 0), "pages_empty": report.get("pages_empty", 0),
            "rows": report.get("rows", 0), "sections": report.get("sections", 0), "chunks": record.chunks,
            "hidden": report.get("hidden", 0), "warnings": report.get("warnings", []),
            **({"parent": record.parent} if record.parent else {}), **{f"email_{k}": v for k, v in record.meta.items()}}


def status_payload(settings: Any, stats: Any, records: Sequence[Any] = (),
                   flagged: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """What `status --json` prints (and the application API's status returns)."""
    flagged = flagged or {}
    return {
        "workspace": str(settings.workspace),
        "documents": stats.documents,
        "chunks": stats.chunks,
        "pages": stats.pages,
        "embedding_model": stats.embedding_model,
        "dimension": stats.dimension,
        "index_bytes": stats.db_bytes + stats.faiss_bytes,
        "engine": settings.engine,
        "generator": settings.generator_model if settings.engine == "embedded" else settings.http_url,
        "flagged_passages": sum(len(items) for items in flagged.values()),
        "files": [document_figures(record) for record in records],
        "flagged": [item.to_dict() for items in flagged.values() for item in items],
    }


def human_bytes(size: int) -> str:
    """A size in bytes as a person reads it: "812 B", "4.2 MB" (binary units)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"

"""Terminal presentation for the CLI: progress bars, tables, JSON lines. No product logic."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from index.ingest import IngestEvent
from index.types import ScoredChunk

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def display_path(path: str) -> str:
    """A path as the user typed it when it lies under the current folder."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def error_line(path: str, reason: str) -> None:
    """The one line a bad file gets: `PATH: reason`."""
    err.print(f"[red]{display_path(path)}[/red]: {reason}", highlight=False)


@contextmanager
def ingest_progress() -> Iterator[Any]:
    """A progress bar with files, chunks and time remaining; yields the event callback."""
    columns = (
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[chunks]} chunks"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False, disable=not err.is_terminal) as bar:
        task = bar.add_task("ingest", total=None, chunks=0)
        chunks = 0

        def on_event(event: IngestEvent) -> None:
            nonlocal chunks
            if event.kind == "start":
                bar.update(task, total=event.total_files)
            elif event.kind == "file":
                chunks += event.chunks
                bar.update(task, advance=1, chunks=chunks)
            elif event.kind == "error":
                bar.console.print(f"[red]{display_path(event.path)}[/red]: {event.reason}", highlight=False)
                if event.path and os.path.isfile(event.path):
                    bar.update(task, advance=1)
            elif event.kind == "warning":
                bar.console.print(f"[yellow]{display_path(event.path)}[/yellow]: {event.reason}", highlight=False)
            elif event.kind == "skipped":
                bar.console.print(f"[yellow]{display_path(event.path)}[/yellow]: skipped, {event.reason}",
                                  highlight=False)

        yield on_event


def result_dict(hit: ScoredChunk) -> dict[str, Any]:
    chunk = hit.chunk
    return {"source": chunk.source, "page": chunk.page, "chunk_id": chunk.id, "score": round(hit.score, 6),
            "text": chunk.text}


def print_json(payload: Any) -> None:
    """One compact JSON document on one line."""
    print(json.dumps(payload, ensure_ascii=False))


def print_results(query: str, hits: Sequence[ScoredChunk]) -> None:
    table = Table(title=f"Results for: {query}", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("source")
    table.add_column("page", justify="right")
    table.add_column("score", justify="right")
    table.add_column("text")
    for rank, hit in enumerate(hits, start=1):
        text = " ".join(hit.chunk.text.split())
        table.add_row(str(rank), display_path(hit.chunk.source), str(hit.chunk.page), f"{hit.score:.4f}",
                      text[:300] + ("…" if len(text) > 300 else ""))
    if not hits:
        out.print(f"No results for: {query}")
    else:
        out.print(table)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def print_documents(records: Sequence[Any], as_json: bool) -> None:
    import datetime as dt

    if as_json:
        for record in records:
            print_json({"path": record.path, "title": record.title, "kind": record.kind, "pages": record.pages,
                        "chunks": record.chunks, "status": record.status, "ingested_at": record.ingested_at})
        return
    table = Table(title=f"{len(records)} documents")
    for column in ("document", "title", "pages", "chunks", "ingested", "status"):
        table.add_column(column)
    for record in records:
        when = dt.datetime.fromtimestamp(record.ingested_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(display_path(record.path), record.title, str(record.pages), str(record.chunks), when,
                      record.status)
    out.print(table)


def print_status(settings: Any, stats: Any, as_json: bool) -> None:
    payload = {
        "workspace": str(settings.workspace),
        "documents": stats.documents,
        "chunks": stats.chunks,
        "pages": stats.pages,
        "embedding_model": stats.embedding_model,
        "dimension": stats.dimension,
        "index_bytes": stats.db_bytes + stats.faiss_bytes,
        "engine": settings.engine,
        "generator": settings.generator_model if settings.engine == "embedded" else settings.http_url,
    }
    if as_json:
        print_json(payload)
        return
    table = Table(show_header=False, title="Underwriter Assistant")
    for key, value in payload.items():
        shown = human_bytes(value) if key == "index_bytes" else str(value)
        table.add_row(key.replace("_", " "), shown)
    out.print(table)

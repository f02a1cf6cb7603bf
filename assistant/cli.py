"""The `assistant` command line: thin wiring of the application core to the terminal.

Exit codes: 0 success; 1 some input files failed (the rest was processed);
2 nothing done (bad arguments, workspace locked, index missing, model unavailable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Underwriter Assistant: private, cited answers over your submission documents.",
                  no_args_is_help=True, add_completion=False)
docs_app = typer.Typer(help="List or remove ingested documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")

EXIT_FILES_FAILED = 1
EXIT_FATAL = 2


class State:
    workspace: Path | None = None


def core():
    """The application core for this invocation's settings."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    return Assistant(load_settings(workspace=State.workspace))


def fail(message: str) -> typer.Exit:
    from assistant.console import err

    err.print(f"[red]error[/red]: {message}", highlight=False)
    return typer.Exit(EXIT_FATAL)


@app.callback()
def main(
    workspace: Annotated[Path | None, typer.Option(help="Workspace folder (default ~/.assistant).",
                                                   envvar="ASSISTANT_WORKSPACE")] = None,
) -> None:
    State.workspace = workspace


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest (recursively).")],
    wait: Annotated[float, typer.Option(help="Seconds to wait if another ingest holds the lock.")] = 0.0,
    prune: Annotated[bool, typer.Option(help="Remove documents gone from the given folders.")] = True,
    rebuild: Annotated[bool, typer.Option(help="Re-embed every stored chunk with the configured model.")] = False,
) -> None:
    """Ingest documents: new and changed files are indexed, unchanged ones cost nothing."""
    from assistant.console import err, ingest_progress
    from index.lock import LockHeld
    from index.store import StoreError

    try:
        with ingest_progress() as on_event:
            report = core().ingest(paths, on_event, wait=wait, prune=prune, rebuild=rebuild)
    except (LockHeld, StoreError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or 'workspace'}: {exc.strerror or exc}") from None
    err.print(report.summary(), highlight=False)
    if report.failed:
        raise typer.Exit(EXIT_FILES_FAILED)


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="What to look for.")] = None,
    k: Annotated[int, typer.Option("-k", help="How many results.")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or bm25.")] = "hybrid",
    as_json: Annotated[bool, typer.Option("--json", help="JSON output (one line per query).")] = False,
    batch: Annotated[Path | None, typer.Option(help="File of queries: one per line, or JSON lines.")] = None,
) -> None:
    """Search the index (hybrid dense + BM25 by default)."""
    from assistant.console import print_json, print_results, result_dict
    from assistant.queries import Query, QueryFileError, read_queries
    from index.retriever import RetrievalError
    from index.store import StoreError

    if (query is None) == (batch is None):
        raise fail("give a QUERY or --batch FILE (one of the two)")
    try:
        queries = read_queries(batch) if batch else [Query("1", query or "")]
        results = core().search_many([q.question for q in queries], k=k, mode=mode)
    except (QueryFileError, RetrievalError, StoreError) as exc:
        raise fail(str(exc)) from None
    for item, hits in zip(queries, results, strict=True):
        if as_json:
            print_json({"id": item.id, "query": item.question, "results": [result_dict(hit) for hit in hits]})
        else:
            print_results(item.question, hits)


@docs_app.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Ingested documents with pages, chunks and ingest time."""
    from assistant.console import print_documents
    from index.store import StoreError

    try:
        records = core().documents()
    except StoreError as exc:
        raise fail(str(exc)) from None
    print_documents(records, as_json)


@docs_app.command("remove")
def docs_remove(
    paths: Annotated[list[Path], typer.Argument(help="Documents (or folders) to remove from the index.")],
    wait: Annotated[float, typer.Option(help="Seconds to wait for the writer lock.")] = 0.0,
) -> None:
    """Remove documents from the index (the files themselves are not touched)."""
    from assistant.console import display_path, err
    from index.lock import LockHeld
    from index.store import StoreError

    try:
        removed = core().remove_documents(paths, wait=wait)
    except (LockHeld, StoreError) as exc:
        raise fail(str(exc)) from None
    if not removed:
        raise fail("no ingested document matches " + ", ".join(str(p) for p in paths))
    for path in removed:
        err.print(f"removed {display_path(path)}", highlight=False)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Documents, chunks, pages, embedding model and index size on disk."""
    from assistant.console import print_status
    from index.store import StoreError

    assistant = core()
    try:
        stats = assistant.stats()
    except StoreError as exc:
        raise fail(str(exc)) from None
    print_status(assistant.settings, stats, as_json)


if __name__ == "__main__":
    app()

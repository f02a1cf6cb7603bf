"""Documents in and out: `ingest`, `search`, `submissions`, `docs list|remove`, `status`, `eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli import main as shell  # shell.core(): the one place the core is built (tests pass theirs)
from assistant.cli.main import EXIT_FILES_FAILED, State, app, fail, remote, remote_error

docs_app = typer.Typer(help="List or remove ingested documents.", no_args_is_help=True)


app.add_typer(docs_app, name="docs")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to ingest (recursively).")],
    wait: Annotated[float, typer.Option(help="Seconds to wait if another ingest holds the lock.")] = 0.0,
    prune: Annotated[bool, typer.Option(help="Remove documents gone from the given folders.")] = True,
    rebuild: Annotated[bool, typer.Option(help="Re-embed every stored chunk with the configured model.")] = False,
) -> None:
    """Ingest documents: new and changed files are indexed, unchanged ones cost nothing."""
    from assistant.cli.console import err, ingest_progress
    from index.lock import LockHeld
    from index.store import StoreError

    try:
        with ingest_progress() as on_event:
            report = shell.core().ingest(paths, on_event, wait=wait, prune=prune, rebuild=rebuild)
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
    scope: Annotated[str | None, typer.Option(
        help="Only this submission: its folder's name (see `assistant submissions`) or a path.")] = None,
) -> None:
    """Search the index (hybrid dense + BM25 by default)."""
    from assistant.cli.console import print_json, print_results, result_dict
    from assistant.cli.queries import Query, QueryFileError, read_queries
    from index.retriever import RetrievalError
    from index.store import StoreError

    if (query is None) == (batch is None):
        raise fail("give a QUERY or --batch FILE (one of the two)")
    if State.server:
        try:
            queries = read_queries(batch) if batch else [Query("1", query or "")]
        except QueryFileError as exc:
            raise fail(str(exc)) from None
        _remote_search(queries, k, mode, scope, as_json)
        return
    try:
        queries = read_queries(batch) if batch else [Query("1", query or "")]
        results = shell.core().search_many([q.question for q in queries], k=k, mode=mode, scope=scope)
    except (QueryFileError, RetrievalError, StoreError) as exc:
        raise fail(str(exc)) from None
    for item, hits in zip(queries, results, strict=True):
        if as_json:
            print_json({"id": item.id, "query": item.question, "results": [result_dict(hit) for hit in hits]})
        else:
            print_results(item.question, hits)


def _remote_search(queries: list[Any], k: int, mode: str, scope: str | None, as_json: bool) -> None:
    from assistant.cli.console import print_json, print_result_dicts

    try:
        found = remote().search([q.question for q in queries], k=k, mode=mode, scope=scope)
    except remote_error() as exc:
        raise fail(str(exc)) from None
    for item, result in zip(queries, found, strict=True):
        if as_json:
            print_json({"id": item.id, "query": item.question, "results": result["results"]})
        else:
            print_result_dicts(item.question, result["results"])


@app.command()
def submissions(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per submission.")] = False,
) -> None:
    """Submissions (the folders the documents lie in, one per insured) with their documents; `search --scope`
    takes a submission's name."""
    from types import SimpleNamespace

    from rich.markup import escape
    from rich.table import Table

    from assistant.cli.console import display_path, out, print_json
    from index.store import StoreError

    try:
        if State.server:
            found = [SimpleNamespace(**item) for item in remote().submissions()]
        else:
            found = shell.core().submissions()
    except (StoreError, remote_error()) as exc:
        raise fail(str(exc)) from None
    if as_json:
        for item in found:
            print_json({"name": item.name, "folder": item.folder, "documents": list(item.documents),
                        "chunks": item.chunks})
        return
    names = {item.folder: [Path(path).name for path in item.documents] for item in found}
    table = Table(title=f"{len(found)} submissions")
    table.add_column("submission", no_wrap=True, min_width=max((len(item.name) for item in found), default=10))
    table.add_column("folder", overflow="fold")
    table.add_column("documents", no_wrap=True,
                     min_width=min(40, max((len(name) for group in names.values() for name in group), default=9)))
    table.add_column("chunks", justify="right")
    for item in found:
        table.add_row(escape(item.name), escape(display_path(item.folder)), escape("\n".join(names[item.folder])),
                      str(item.chunks))
    out.print(table)


@docs_app.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Ingested documents with pages, chunks and ingest time."""
    from assistant.cli.console import document_dict, print_document_dicts
    from index.store import StoreError

    try:
        documents = remote().documents() if State.server else [document_dict(r) for r in shell.core().documents()]
    except (StoreError, remote_error()) as exc:
        raise fail(str(exc)) from None
    print_document_dicts(documents, as_json)


@docs_app.command("remove")
def docs_remove(
    paths: Annotated[list[Path], typer.Argument(help="Documents (or folders) to remove from the index.")],
    wait: Annotated[float, typer.Option(help="Seconds to wait for the writer lock.")] = 0.0,
) -> None:
    """Remove documents from the index (the files themselves are not touched)."""
    from assistant.cli.console import display_path, err
    from index.lock import LockHeld
    from index.store import StoreError

    try:
        if State.server:  # paths as the server ingested them
            removed = remote().remove_documents([str(path) for path in paths])
        else:
            removed = shell.core().remove_documents(paths, wait=wait)
    except (LockHeld, StoreError, remote_error()) as exc:
        raise fail(str(exc)) from None
    if not removed:
        raise fail("no ingested document matches " + ", ".join(str(p) for p in paths))
    for path in removed:
        err.print(f"removed {display_path(path)}", highlight=False)


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Documents, chunks, pages, embedding model and index size on disk; then, per document, its pages (or
    rows, sections), chunks, OCR'd pages and warnings."""
    from assistant.cli.console import print_status, print_status_payload
    from index.store import StoreError

    if State.server:
        try:
            print_status_payload(remote().status(), as_json)
        except remote_error() as exc:
            raise fail(str(exc)) from None
        return
    assistant = shell.core()
    try:
        stats = assistant.stats()
        flagged = assistant.flagged()
        records = assistant.documents()
    except StoreError as exc:
        raise fail(str(exc)) from None
    print_status(assistant.settings, stats, as_json, records, flagged)


@app.command("eval")
def evaluate(
    questions: Annotated[Path | None, typer.Option(
        help="Questions file, JSON lines (format: `assistant.evaluation`); default sample_docs/eval/questions.jsonl.",
    )] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="Cut-off for hit@k and recall@k.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document with every figure and miss.")] = False,
    answers: Annotated[bool, typer.Option("--answers", help="Also generate answers and check them (slow).")] = False,
) -> None:
    """Retrieval quality (hit@k, recall@k, MRR@10; hybrid, dense, BM25) over a questions file, and answers."""
    from assistant.cli.console import err, eval_progress, print_eval
    from assistant.evaluation import EvalError, default_questions
    from index.retriever import RetrievalError
    from index.store import StoreError

    try:
        with eval_progress(answers and not as_json) as on_progress:
            report = shell.core().evaluate(questions or default_questions(), k, answers=answers, progress=on_progress)
    except (EvalError, RetrievalError, StoreError) as exc:
        raise fail(str(exc)) from None
    if report.missing_files:
        err.print(f"[yellow]warning[/yellow]: {len(report.missing_files)} gold files are not ingested: "
                  + ", ".join(report.missing_files), highlight=False)
    print_eval(report, as_json)

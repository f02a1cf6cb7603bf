"""The `assistant` command line: thin wiring of the application core to the terminal.

Exit codes: 0 success; 1 some input files failed (the rest was processed);
2 nothing done (bad arguments, workspace locked, index missing, model unavailable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

GLOBAL_OPTIONS = ("--workspace", "--server", "--key")  # options of the main callback, each taking one value


def hoist_global_options(args: list[str]) -> list[str]:
    """The arguments with the global options moved to the front, so `assistant ingest ./reports
    --workspace W` means `assistant --workspace W ingest ./reports` (nothing after `--` is touched)."""
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            rest += args[index:]
            break
        if arg in GLOBAL_OPTIONS and index + 1 < len(args):
            hoisted += args[index:index + 2]
            index += 2
            continue
        if arg.split("=", 1)[0] in GLOBAL_OPTIONS and "=" in arg:
            hoisted.append(arg)
        else:
            rest.append(arg)
        index += 1
    return hoisted + rest


class GlobalOptionsAnywhere(TyperGroup):
    """The command group: global options are accepted before or after the subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))


app = typer.Typer(help="Underwriter Assistant: private, cited answers over your submission documents.",
                  no_args_is_help=True, add_completion=False, cls=GlobalOptionsAnywhere)
docs_app = typer.Typer(help="List or remove ingested documents.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")

EXIT_FILES_FAILED = 1
EXIT_FATAL = 2


class State:
    workspace: Path | None = None
    server: str | None = None  # the application API to talk to instead of a workspace here
    key: str | None = None


def remote() -> Any:
    """The client of the application API given by `--server` (see `assistant.api.client`)."""
    from assistant.api.client import ApiClient

    return ApiClient(State.server or "", State.key)


def _remote_error() -> type[Exception]:
    from assistant.api.client import ApiError

    return ApiError


def core(**overrides: Any):
    """The application core for this invocation's settings (`overrides` set to None are ignored)."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    return Assistant(load_settings(workspace=State.workspace, **overrides))


def fail(message: str) -> typer.Exit:
    from rich.markup import escape

    from assistant.cli.console import err

    err.print(f"[red]error[/red]: {escape(message)}", highlight=False)
    return typer.Exit(EXIT_FATAL)


@app.callback()
def main(
    workspace: Annotated[Path | None, typer.Option(help="Workspace folder (default ~/.assistant).",
                                                   envvar="ASSISTANT_WORKSPACE")] = None,
    server: Annotated[str | None, typer.Option(
        help="An application API (`assistant serve --app`) to use instead of a workspace here: search, ask, "
             "status, docs list, submissions.", envvar="ASSISTANT_SERVER")] = None,
    key: Annotated[str | None, typer.Option(help="API key for --server (from `assistant users add`).",
                                            envvar="ASSISTANT_API_KEY")] = None,
) -> None:
    State.workspace = workspace
    State.server = server
    State.key = key


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
        results = core().search_many([q.question for q in queries], k=k, mode=mode, scope=scope)
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
    except _remote_error() as exc:
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
        found = [SimpleNamespace(**item) for item in remote().submissions()] if State.server else core().submissions()
    except (StoreError, _remote_error()) as exc:
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


@app.command()
def profile(
    submission: Annotated[str | None, typer.Argument(help="The submission: its folder's name (see `assistant "
                                                          "submissions`) or path.")] = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="Write the profile to FILE (.json, .md or .csv); "
                                                                "with --all, a folder for one file per submission.")]
    = None,
    all_submissions: Annotated[bool, typer.Option("--all", help="Every submission; each rebuilt only when its "
                                                                "documents changed.")] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even when the documents did not change.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """A submission's profile: COPE and values per location, totals, the loss history, recommendations and the
    conflicts between documents, every value with its source (file, location, quote)."""
    from rich.markdown import Markdown

    from assistant.cli.console import display_path, err
    from assistant.cli.console import out as terminal
    from assistant.profile import output
    from assistant.profile.service import ProfileError
    from index.store import StoreError

    if (submission is None) == (not all_submissions):
        raise fail("name one submission, or give --all")
    assistant = core()
    try:
        if all_submissions:
            def report(run) -> None:
                if run.error:
                    err.print(f"{run.submission}: failed: {run.error}", highlight=False)
                elif run.profile is not None and not run.profile.documents:
                    err.print(f"{run.submission}: skipped, no submission documents (guidelines only)", highlight=False)
                else:
                    err.print(f"{run.submission}: {'unchanged' if run.reused else 'profiled'}", highlight=False)

            runs = assistant.profile_all(force=force, progress=report)
            built = [run.profile for run in runs if run.profile is not None and run.profile.documents]
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                for item in built:
                    output.write(item, out / f"{item.submission}.json")
                err.print(f"wrote {len(built)} profiles to {display_path(str(out))}", highlight=False)
            elif as_json:
                for item in built:
                    print(output.to_json(item).replace("\n", " ") if False else json_line(item))
            if any(run.error for run in runs):
                raise typer.Exit(EXIT_FILES_FAILED)
            return
        found = assistant.profile(submission or "", force=force)
    except (ProfileError, StoreError, ValueError) as exc:
        raise fail(str(exc)) from None
    if out is not None:
        try:
            output.write(found, out)
        except (ValueError, OSError) as exc:
            raise fail(str(exc)) from None
        err.print(f"wrote {display_path(str(out))}", highlight=False)
    elif as_json:
        print(output.to_json(found))
    else:
        terminal.print(Markdown(output.to_markdown(found)))


def json_line(item: Any) -> str:
    import json

    return json.dumps(item.model_dump(mode="json"), ensure_ascii=False)


@docs_app.command("list")
def docs_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Ingested documents with pages, chunks and ingest time."""
    from assistant.cli.console import document_dict, print_document_dicts
    from index.store import StoreError

    try:
        documents = remote().documents() if State.server else [document_dict(r) for r in core().documents()]
    except (StoreError, _remote_error()) as exc:
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
            removed = core().remove_documents(paths, wait=wait)
    except (LockHeld, StoreError, _remote_error()) as exc:
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
        except _remote_error() as exc:
            raise fail(str(exc)) from None
        return
    assistant = core()
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
            report = core().evaluate(questions or default_questions(), k, answers=answers, progress=on_progress)
    except (EvalError, RetrievalError, StoreError) as exc:
        raise fail(str(exc)) from None
    if report.missing_files:
        err.print(f"[yellow]warning[/yellow]: {len(report.missing_files)} gold files are not ingested: "
                  + ", ".join(report.missing_files), highlight=False)
    print_eval(report, as_json)


# ---- answering ------------------------------------------------------------------------------

EngineOption = Annotated[str | None, typer.Option("--engine", help="embedded (in-process) or http (a model server).")]
UrlOption = Annotated[str | None, typer.Option("--url", help="Model server URL for --engine http (implies it).")]
AdapterOption = Annotated[Path | None, typer.Option("--adapter", help="LoRA adapter folder for the embedded engine.")]
KOption = Annotated[int | None, typer.Option("-k", help="Passages retrieved per question (default from settings).")]
MaxTokensOption = Annotated[int | None, typer.Option("--max-tokens", help="Most tokens to generate per answer.")]


def answering_core(engine: str | None, url: str | None, adapter: Path | None, k: int | None,
                   max_tokens: int | None):
    return core(engine=engine or ("http" if url else None), http_url=url, adapter=adapter, top_k=k,
                max_new_tokens=max_tokens)


def _answer_errors() -> tuple[type[Exception], ...]:
    from assistant.engines.base import EngineError
    from index.embeddings import EmbedderError
    from index.retriever import RetrievalError
    from index.store import StoreError

    return (EngineError, EmbedderError, RetrievalError, StoreError)


ScopeOption = Annotated[str | None, typer.Option(
    "--scope", help="Limit to one submission: its folder name (harbor-foods) or path.")]


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in plain words.")] = None,
    engine: EngineOption = None,
    url: UrlOption = None,
    adapter: AdapterOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON: the answer, its kind, citations, usage.")] = False,
    k: KOption = None,
    max_tokens: MaxTokensOption = None,
    scope: ScopeOption = None,
    batch: Annotated[Path | None, typer.Option(
        "--batch", help="Questions file: JSON lines with a \"question\" (and optional \"id\", \"scope\"), "
                        "or one question per line. One answer per question, one model load.")] = None,
) -> None:
    """Answer from the ingested documents: a verified answer with its sources, the passage quoted when the
    answer does not verify, or "The documents do not contain this information." """
    from assistant.audit import os_user
    from assistant.cli.console import print_answer_details, print_json, stream_answer, warn_audit

    if (question is None) == (batch is None):
        raise fail("give a QUESTION or --batch FILE (one of the two)")
    if State.server and (engine or url or adapter):
        raise fail("--server answers with the server's engine; --engine, --url and --adapter do not apply")
    if batch is not None:
        if State.server:
            _remote_ask_batch(batch, scope, k, max_tokens, as_json)
            return
        _ask_batch(batch, answering_core(engine, url, adapter, k, max_tokens), scope, as_json)
        return
    try:
        if State.server:  # the server records the answer in its audit trail, under this key's user
            items = remote().ask_stream(question, scope=scope, k=k, max_tokens=max_tokens)
        else:
            items = answering_core(engine, url, adapter, k, max_tokens).ask_stream(question, scope=scope,
                                                                                   user=os_user(), shell="cli")
        answer = stream_answer(items, show=not as_json)
    except (*_answer_errors(), _remote_error()) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(answer.to_dict())
    else:
        print_answer_details(answer)
    warn_audit(answer)


def _ask_batch(path: Path, assistant: Any, scope: str | None, as_json: bool) -> None:
    """Answer every question of a file in this process: one JSON line (or a block of text) per question."""
    from assistant.audit import os_user
    from assistant.cli.console import print_answer_details, print_json, warn_audit
    from assistant.cli.queries import QueryFileError, read_queries

    try:
        questions = read_queries(path)
    except QueryFileError as exc:
        raise fail(str(exc)) from None
    if not questions:
        raise fail(f"{path}: no questions")
    failed = 0
    for item in questions:
        try:
            answer = assistant.answer(item.question, scope=item.scope or scope, user=os_user(), shell="cli")
        except _answer_errors() as exc:
            failed += 1
            if as_json:
                print_json({"id": item.id, "question": item.question, "error": str(exc)})
            else:
                typer.echo(f"{path}:{item.line}: {exc}", err=True)
            continue
        if as_json:
            print_json({"id": item.id, **answer.to_dict()})
        else:
            typer.echo(f"\n[{item.id}] {item.question}")
            typer.echo(answer.text)
            print_answer_details(answer)
        warn_audit(answer)
    if failed:
        raise typer.Exit(1)


def _remote_ask_batch(path: Path, scope: str | None, k: int | None, max_tokens: int | None, as_json: bool) -> None:
    """`_ask_batch` against the application API: the same lines, answered by the server."""
    from assistant.api.client import AnswerView
    from assistant.cli.console import print_answer_details, print_json
    from assistant.cli.queries import QueryFileError, read_queries

    try:
        questions = read_queries(path)
    except QueryFileError as exc:
        raise fail(str(exc)) from None
    if not questions:
        raise fail(f"{path}: no questions")
    failed = 0
    body = [{"id": item.id, "question": item.question, "scope": item.scope} for item in questions]
    try:
        for line in remote().ask_batch(body, scope=scope, k=k, max_tokens=max_tokens):
            if as_json:
                print_json(line)
            elif "error" in line:
                typer.echo(f"[{line['id']}] {line['question']}: {line['error']}", err=True)
            else:
                answer = AnswerView.of(line)
                typer.echo(f"\n[{line['id']}] {line['question']}")
                typer.echo(answer.text)
                print_answer_details(answer)
            failed += "error" in line
    except _remote_error() as exc:
        raise fail(str(exc)) from None
    if failed:
        raise typer.Exit(1)


@app.command()
def chat(
    engine: EngineOption = None,
    url: UrlOption = None,
    adapter: AdapterOption = None,
    k: KOption = None,
    max_tokens: MaxTokensOption = None,
    context_window: Annotated[int | None, typer.Option(
        "--context-window", help="Cap on prompt plus answer tokens (default: the model's window).")] = None,
    scope: ScopeOption = None,
) -> None:
    """Multi-turn chat over the documents: follow-up questions keep the conversation in mind."""
    from assistant.audit import os_user
    from assistant.cli.console import chat_loop

    try:
        assistant = answering_core(engine, url, adapter, k, max_tokens)
        chat_loop(assistant.conversation(context_window, user=os_user(), shell="cli"), scope=scope)
    except _answer_errors() as exc:
        raise fail(str(exc)) from None


@app.command()
def serve(
    backend: Annotated[str, typer.Option(
        help="local (our server over the embedded engine), sglang (GPU), or router (sglang-router in front of "
             "--workers).")] = "local",
    model: Annotated[Path | None, typer.Option(help="Model folder (sglang: required; local: default bundled).")]
    = None,
    host: Annotated[str, typer.Option(help="Address to bind (beyond 127.0.0.1 only with --api-key, or with "
                                            "users for --app).")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 30000; --app: 8000).")] = None,
    api_key: Annotated[str | None, typer.Option(help="Require `Authorization: Bearer KEY`.",
                                                envvar="ASSISTANT_API_KEY")] = None,
    application: Annotated[bool, typer.Option(
        "--app", help="Serve the application API (search, ask, ingest, documents, status; the /v1 model "
                      "endpoints beside them; OpenAPI at /docs); keys are the workspace's users.")] = False,
    context_length: Annotated[int | None, typer.Option(help="sglang: context length to serve.")] = None,
    adapter: Annotated[Path | None, typer.Option(
        help="LoRA adapter folder (local: merged in; sglang: served under its folder name).")] = None,
    lora: Annotated[list[str] | None, typer.Option(help="sglang: NAME=DIR adapter, repeatable.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would run, start nothing.")] = False,
    workers: Annotated[list[str] | None, typer.Option(
        "--workers", help="router: a worker's URL (repeat, or separate with commas).")] = None,
    policy: Annotated[str, typer.Option(help="router: cache_aware (default), round_robin, random, power_of_two.")]
    = "cache_aware",
    metrics_port: Annotated[int | None, typer.Option(help="router: Prometheus metrics port (default PORT+1).")]
    = None,
) -> None:
    """Serve the model over an OpenAI-compatible API (`--engine http` and SGLang clients talk to it), or with
    --app the whole application (`assistant --server URL ...` and other clients talk to it)."""
    from assistant.api.security import ExposureRefused, check_exposure
    from assistant.cli.console import err, print_command
    from assistant.engines.base import EngineError

    if application:
        _serve_app(host, port or 8000, api_key, dry_run, backend, model, adapter, lora, context_length)
        return
    port = port or 30000
    try:
        check_exposure(host, has_auth=bool(api_key), what="the model" if backend != "router" else "the router",
                       remedy="pass --api-key KEY (or ASSISTANT_API_KEY)")
    except ExposureRefused as exc:
        raise fail(str(exc)) from None
    if backend == "router":
        _serve_router(workers or [], host, port, policy, api_key, dry_run, metrics_port)
        return
    if workers:
        raise fail("--workers applies to --backend router only")

    try:
        adapters = _parse_lora(lora or [])
    except ValueError as exc:
        raise fail(str(exc)) from None
    if backend == "sglang":
        if model is None:
            raise fail("--backend sglang needs --model DIR (a model folder SGLang can load)")
        if adapter is not None:
            adapters.setdefault(adapter.name, adapter)
        assistant = core()
        if dry_run:
            print_command(assistant.sglang_command(model, host, port, api_key, context_length, adapters or None))
            return
        try:
            code = assistant.serve_sglang(model, host, port, api_key, context_length, adapters or None)
        except EngineError as exc:
            raise fail(str(exc)) from None
        raise typer.Exit(code or 0)
    if backend != "local":
        raise fail(f"unknown backend {backend!r}; known: local, sglang, router")
    if context_length is not None:
        raise fail("--context-length applies to --backend sglang only")
    if len(adapters) > 1 or (adapters and adapter is not None):
        raise fail("--backend local serves one adapter (merged into the model)")
    adapter = adapter or next(iter(adapters.values()), None)
    assistant = core(engine="embedded", generator_model=str(model) if model else None, adapter=adapter)
    settings = assistant.settings
    if dry_run:
        err.print(f"would serve {settings.generator_model}" + (f" with adapter {adapter}" if adapter else "")
                  + f" at http://{host}:{port}/v1 (OpenAI-compatible)", highlight=False)
        return
    try:
        model_id = assistant.engine.model_id()
        err.print(f"serving {model_id} at http://{host}:{port}/v1; Ctrl-C stops", highlight=False)
        assistant.serve_local(host, port, api_key)
    except EngineError as exc:
        raise fail(str(exc)) from None


def _serve_app(host: str, port: int, api_key: str | None, dry_run: bool, backend: str, model: Path | None,
               adapter: Path | None, lora: list[str] | None, context_length: int | None) -> None:
    from assistant.api.security import ExposureRefused
    from assistant.api.service import check_can_serve, serve_api
    from assistant.cli.console import err

    if api_key:
        raise fail("--app authenticates the workspace's users (assistant users add NAME --role ROLE), not --api-key")
    if backend != "local" or model or lora or context_length:
        raise fail("--app answers with the configured engine (ASSISTANT_ENGINE, ASSISTANT_HTTP_URL); "
                   "--backend, --model, --lora and --context-length do not apply")
    assistant = core(adapter=adapter)
    try:
        check_can_serve(assistant, host)
    except ExposureRefused as exc:
        raise fail(str(exc)) from None
    where = f"http://{host}:{port}"
    if dry_run:
        err.print(f"would serve the application API of {assistant.settings.workspace} at {where}/api "
                  f"(OpenAPI at {where}/docs, model endpoints at {where}/v1)", highlight=False)
        return
    err.print(f"application API of {assistant.settings.workspace} at {where}/api, OpenAPI at {where}/docs, "
              f"model endpoints at {where}/v1; Ctrl-C stops", highlight=False)
    serve_api(assistant, host, port)


users_app = typer.Typer(help="Users of the application API and of the UI beyond this computer, with their keys.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user's name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help="reader (search, ask, status, documents), editor (+ ingest, "
                                           "remove), admin (+ users).")] = "reader",
) -> None:
    """Add a user and print their new API key, once: only its hash is kept (in <workspace>/users.sqlite)."""
    from assistant.api.users import UserError, UserStore
    from assistant.cli.console import err

    try:
        key = UserStore(core().settings.users_path).add(name, role)
    except UserError as exc:
        raise fail(str(exc)) from None
    print(key)
    err.print(f"user {name} ({role}) added; the key above is shown only now", highlight=False)


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The users, with their roles (keys are never shown again)."""
    import datetime as dt

    from assistant.api.users import UserStore
    from assistant.cli.console import print_json

    for user in UserStore(core().settings.users_path).users():
        if as_json:
            print_json({"name": user.name, "role": user.role, "created_at": user.created_at})
        else:
            when = dt.datetime.fromtimestamp(user.created_at).strftime("%Y-%m-%d %H:%M")
            print(f"{user.name}\t{user.role}\t{when}")


@users_app.command("remove")
def users_remove(name: Annotated[str, typer.Argument(help="The user to remove; their key stops working.")]) -> None:
    """Remove a user: their key is refused from the next request on."""
    from assistant.api.users import UserError, UserStore
    from assistant.cli.console import err

    try:
        UserStore(core().settings.users_path).remove(name)
    except UserError as exc:
        raise fail(str(exc)) from None
    err.print(f"user {name} removed", highlight=False)


def _serve_router(workers: list[str], host: str, port: int, policy: str, api_key: str | None,
                  dry_run: bool, metrics_port: int | None) -> None:
    """sglang-router in front of `workers` (their key, if any, reaches it through the environment)."""
    from assistant.cli.console import err, print_command
    from assistant.engines.base import EngineError
    from assistant.serving.router import parse_workers, router_command, serve_forever

    try:
        urls = parse_workers(workers)
        command = router_command(urls, host, port, policy, metrics_port=metrics_port, with_key=bool(api_key))
    except ValueError as exc:
        raise fail(str(exc)) from None
    if dry_run:
        print_command(command)
        return
    err.print(f"routing http://{host}:{port}/v1 to {len(urls)} workers ({policy}); Ctrl-C stops", highlight=False)
    try:
        code = serve_forever(urls, host=host, port=port, policy=policy, api_key=api_key, metrics_port=metrics_port)
    except EngineError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code or 0)


def _parse_lora(values: list[str]) -> dict[str, Path]:
    adapters: dict[str, Path] = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name.strip() or not folder.strip():
            raise ValueError(f"--lora wants NAME=DIR, got {value!r}")
        adapters[name.strip()] = Path(folder.strip()).expanduser()
    return adapters


# ---- the workspace in the browser -----------------------------------------------------------


def ui_command(host: str, port: int, max_upload_mb: int) -> list[str]:
    """`streamlit run` for the UI: this computer only, no usage statistics, no browser opened by the server."""
    import sys
    from importlib.util import find_spec

    spec = find_spec("ui")
    if spec is None or not spec.submodule_search_locations:
        raise fail("the ui package is not installed")
    script = Path(next(iter(spec.submodule_search_locations))) / "app.py"
    return [sys.executable, "-m", "streamlit", "run", str(script), "--server.address", host,
            "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.headless", "true",
            "--server.maxUploadSize", str(max_upload_mb), "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--global.developmentMode", "false", "--client.toolbarMode", "minimal"]


@app.command("ui")
def ui(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this computer only).")] = "127.0.0.1",
    engine: EngineOption = None,
    url: UrlOption = None,
    adapter: AdapterOption = None,
) -> None:
    """Open the underwriter workspace in the browser: chat, library, summaries, tuning, status."""
    import os

    from assistant.api.security import ExposureRefused, check_exposure
    from assistant.api.users import UserStore

    settings = core(engine=engine or ("http" if url else None), http_url=url, adapter=adapter).settings
    try:
        check_exposure(host, has_auth=UserStore(settings.users_path).any(), what="the UI",
                       remedy="add a user first (assistant users add NAME --role editor); the UI then asks for "
                              "their key")
    except ExposureRefused as exc:
        raise fail(str(exc)) from None
    command = ui_command(host, port, settings.max_file_mb)
    env = {**os.environ, "ASSISTANT_WORKSPACE": str(settings.workspace), "ASSISTANT_ENGINE": settings.engine,
           "ASSISTANT_HTTP_URL": settings.http_url}
    if settings.adapter:
        env["ASSISTANT_ADAPTER"] = str(settings.adapter)
    from assistant.cli.console import err

    err.print(f"Underwriter Assistant at http://{host}:{port} (workspace {settings.workspace}); Ctrl-C stops",
              highlight=False)
    os.execve(command[0], command, env)  # Streamlit takes over this process: signals reach it directly


@app.command()
def summarize(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Files or folders (new and changed files are ingested first).", show_default=False)] = None,
    all_documents: Annotated[bool, typer.Option("--all", help="Every document in the workspace.")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here (default: stdout).")] = None,
    fmt: Annotated[str | None, typer.Option(
        "--format", "-f", help="md, jsonl or csv (default: from the --out suffix, else md).")] = None,
    per: Annotated[str, typer.Option(help="One summary per `document` or per `insured`.")] = "document",
    template: Annotated[Path | None, typer.Option(
        help="Summary template (TOML; default: the shipped assistant/summaries/templates/summary.toml).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Summarize again even when already done.")] = False,
    concurrency: Annotated[int, typer.Option(help="Requests in flight at once (HTTP engine).", min=1)] = 4,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="Most tokens per model answer "
                                                   "(default: the template's answer_tokens).", min=1)] = None,
    context_window: Annotated[int | None, typer.Option(
        "--context-window", help="Cap on prompt plus answer tokens (default: the model's window).", min=64)] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait if another ingest holds the lock.")] = 0.0,
    engine: EngineOption = None,
    url: UrlOption = None,
    adapter: AdapterOption = None,
) -> None:
    """Summarize documents with the underwriting template: every statement cited as file:page, "not stated"
    where the document does not say; finished documents are skipped on a re-run (--force redoes them)."""
    from assistant.cli.console import err, summarize_progress, write_report
    from assistant.engines.base import EngineError
    from assistant.summaries.output import FORMATS, PER, render
    from assistant.summaries.template import TemplateError
    from index.lock import LockHeld
    from index.store import StoreError

    if bool(paths) == all_documents:
        raise fail("give PATH... or --all (one of the two)")
    suffix = out.suffix.lower().lstrip(".") if out else ""
    fmt = fmt or {"markdown": "md", "json": "jsonl", "jsonl": "jsonl", "csv": "csv"}.get(suffix, "md")
    if fmt not in FORMATS:
        raise fail(f"--format must be one of {', '.join(FORMATS)}")
    if per not in PER:
        raise fail(f"--per must be one of {', '.join(PER)}")
    assistant = core(engine=engine or ("http" if url else None), http_url=url, adapter=adapter)
    try:
        with summarize_progress() as (on_ingest, on_summary):
            report = assistant.summarize(paths or [], all_documents=all_documents, template=template, force=force,
                                         concurrency=concurrency, max_tokens=max_tokens,
                                         max_context_tokens=context_window, progress=on_summary,
                                         ingest_progress=on_ingest, wait=wait)
    except (TemplateError, LockHeld, StoreError, EngineError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{exc.filename or 'workspace'}: {exc.strerror or exc}") from None
    if report.summaries:
        not_stated = report.summaries[0].not_stated
        write_report(render(report.summaries, fmt, per, not_stated), out, fmt)
    err.print(report.summary(), highlight=False)
    if not report.summaries and not report.failed:
        raise fail("no documents to summarize")
    if report.failed:
        raise typer.Exit(EXIT_FILES_FAILED)


RulesOption = Annotated[Path | None, typer.Option(
    "--rules", help="Rules file (TOML; default: the rules_path setting, else <workspace>/rules.toml).")]


@app.command("check")
def check_rules(
    submission: Annotated[str, typer.Argument(help="The submission's folder name (see `assistant submissions`).")],
    rules: RulesOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Check a submission against the carrier's rules: each trigger with the evidence that fired it (values and
    their sources) and the guideline section; rules that could not be checked say what is not stated."""
    from assistant.cli.console import out, print_json
    from assistant.profile.rules import RulesError
    from assistant.profile.service import ProfileError
    from index.store import StoreError

    try:
        report = core().check(submission, rules)
    except (RulesError, ProfileError, StoreError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    for line in report.lines():
        out.print(line, highlight=False, markup=False)


rules_app = typer.Typer(help="The carrier's rules: draft them from a guideline, for a person to review.",
                        no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("draft")
def rules_draft(
    guideline: Annotated[Path, typer.Argument(help="The guideline (Markdown, text, DOCX or PDF).")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the rules here (default: stdout).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Propose rules from the guideline's sentences that refer, decline or require with a figure: each written
    `reviewed = false` with its sentence, never applied until a person reviews it and sets `reviewed = true`."""
    from assistant.cli.console import err, write_report
    from assistant.profile.rules import RulesError, draft_rules

    if out is not None and out.exists() and not force:
        raise fail(f"{out} exists (a reviewed rules file?): give another --out, or --force")
    try:
        text = draft_rules(guideline)
    except RulesError as exc:
        raise fail(str(exc)) from None
    write_report(text, out)
    if out is not None:
        count = text.count("[[rule]]")
        err.print(f"{count} rules drafted to {out}, none reviewed: review each and set reviewed = true",
                  highlight=False, markup=False)


@app.command()
def memo(
    submission: Annotated[str, typer.Argument(help="The submission's folder name (see `assistant submissions`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="memo.md (its chart a PNG beside it) or memo.docx.")],
    rules: RulesOption = None,
) -> None:
    """Write the referral memo: insured, locations (COPE, values), totals, loss history with a chart, conflicts,
    triggered rules with their evidence, open recommendations; every value with its source."""
    from assistant.cli.console import err
    from assistant.profile.memo import MemoError
    from assistant.profile.rules import RulesError
    from assistant.profile.service import ProfileError
    from index.store import StoreError

    try:
        written = core().memo(submission, out, rules)
    except (MemoError, RulesError, ProfileError, StoreError) as exc:
        raise fail(str(exc)) from None
    err.print("wrote " + ", ".join(str(path) for path in written), highlight=False, markup=False)


audit_app = typer.Typer(help="The audit trail: every answer given, to whom, from which sources and model.")
app.add_typer(audit_app, name="audit")


@audit_app.callback(invoke_without_command=True)
def audit(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's answers.")] = None,
    since: Annotated[str | None, typer.Option(
        "--since", help="From this UTC date or time (2026-03-01, 2026-03-01T14:00) or span back (7d, 12h).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="The latest N records only.", min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per record, everything in it.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per record.")] = False,
) -> None:
    """List the audit trail, oldest first: time, user, shell, question, outcome, sources, model.
    `assistant audit show ID` shows one record with the exact messages the model saw."""
    if ctx.invoked_subcommand is not None:
        return
    from assistant.audit import AuditError, csv_text
    from assistant.cli.console import print_audit_table, print_json

    if as_json and as_csv:
        raise fail("give --json or --csv, not both")
    try:
        events = core().audit_events(user=user, since=since, limit=limit)
    except AuditError as exc:
        raise fail(str(exc)) from None
    if as_json:
        for event in events:
            print_json(event.to_dict())
    elif as_csv:
        typer.echo(csv_text(events), nl=False)
    else:
        print_audit_table(events)


@audit_app.command("show")
def audit_show(
    event_id: Annotated[int, typer.Argument(help="The record's id (first column of `assistant audit`).")],
    as_json: Annotated[bool, typer.Option("--json", help="The whole record as JSON.")] = False,
) -> None:
    """One record in full: who asked what, the exact messages and settings the model was sent (a replay of what
    it saw), the passages retrieved, the answer and which citations verified."""
    from assistant.cli.console import print_audit_event, print_json

    event = core().audit_log.get(event_id)
    if event is None:
        raise fail(f"no audit record {event_id}")
    if as_json:
        print_json(event.to_dict())
    else:
        print_audit_event(event)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the trail is whole: SQLite's integrity check, and every record's hash chained to the one before."""
    from assistant.cli.console import out

    log = core().audit_log
    problems = log.verify()
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(EXIT_FATAL)
    out.print(f"{log.count()} records, chain intact: {log.path}", highlight=False)


tune_app = typer.Typer(help="Domain tuning: build a grounded dataset, QLoRA-tune an adapter.")
app.add_typer(tune_app, name="tune")


@tune_app.callback(invoke_without_command=True)
def tune(
    ctx: typer.Context,
    data: Annotated[Path | None, typer.Option("--data", help="Chat-format JSON lines to train on.")] = None,
    base: Annotated[str | None, typer.Option(help="Base model: bundled:NAME or a local folder "
                                             "(default: the configured generator).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Adapter folder "
                                             "(default: <workspace>/adapters/<data>-<hash>).")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Optimizer steps (default: one epoch).", min=1)] = None,
    epochs: Annotated[int | None, typer.Option(help="Passes over the data (default 1).", min=1)] = None,
    learning_rate: Annotated[float | None, typer.Option("--lr", help="Peak learning rate (default 2e-4).",
                                                        min=0.0)] = None,
    batch_size: Annotated[int | None, typer.Option(help="Examples per micro-batch (default 1; more on a GPU).",
                                                   min=1)] = None,
    grad_accum: Annotated[int | None, typer.Option(help="Micro-batches per optimizer step (default 16).",
                                                   min=1)] = None,
    lora_r: Annotated[int | None, typer.Option(help="LoRA rank (default 16; alpha is twice it).", min=1)] = None,
    device: Annotated[str | None, typer.Option(help="auto (default), cpu or cuda.")] = None,
) -> None:
    """QLoRA-tune the generator on --data (4-bit NF4 base, LoRA on every linear layer); the adapter then
    answers at once with `assistant ask --adapter DIR`. `assistant tune dataset --out FILE` builds data."""
    if ctx.invoked_subcommand is not None:
        return
    if data is None:
        raise fail("give --data FILE (build one with `assistant tune dataset --out FILE`)")
    from assistant.tuning.service import RichTrainProgress, TuningError, format_tune_result

    assistant = core()
    config = assistant.train_config(**given(max_steps=steps, epochs=epochs, learning_rate=learning_rate,
                                            batch_size=batch_size, grad_accum=grad_accum, lora_r=lora_r,
                                            lora_alpha=2 * lora_r if lora_r else None, device=device))
    try:
        with RichTrainProgress() as bar:
            result = assistant.tune(data, base=base, out=out, config=config, progress=bar)
    except (TuningError, OSError) as exc:
        raise fail(str(exc)) from None
    _print_lines(format_tune_result(result))


@tune_app.command("dataset")
def tune_dataset(
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines file to write.")],
    n: Annotated[int, typer.Option("-n", help="Examples to build.", min=1)] = 200,
    seed: Annotated[int, typer.Option(help="Same seed, same workspace: the same file.")] = 0,
) -> None:
    """Build a grounded starter dataset from the workspace: questions answered from sampled chunks, laid out
    exactly as the assistant prompts at answer time, answered in the served JSON schema (some "not in the
    documents")."""
    from assistant.tuning.service import TuningError

    try:
        result = core().tuning_dataset(out, n=n, seed=seed)
    except (TuningError, OSError) as exc:
        raise fail(str(exc)) from None
    _print_lines([f"{result.n_examples} examples ({result.n_no_answer} with no answer in the sources) from "
                  f"{result.n_chunks} chunks of {result.n_documents} documents, seed {result.seed}: {result.path}"])


@app.command()
def quantize(
    base: Annotated[str | None, typer.Option(help="Base model: bundled:NAME or a local folder "
                                             "(default: the configured generator).")] = None,
    adapter: Annotated[Path | None, typer.Option("--adapter", help="LoRA adapter merged in first.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder "
                                             "(default: <workspace>/models/<base>[-<adapter>]-awq-w4a16).")] = None,
    calibration: Annotated[int | None, typer.Option(help="Workspace chunks used to calibrate AWQ (default 64).",
                                                    min=1)] = None,
    group_size: Annotated[int | None, typer.Option(help="Weights per scale (default: the largest of 128/64/32 "
                                                   "dividing every layer).", min=8)] = None,
    device: Annotated[str | None, typer.Option(help="auto (default), cpu or cuda.")] = None,
) -> None:
    """Merge an adapter into the base in full precision, then AWQ W4A16 (llm-compressor) calibrated on the
    workspace's chunks: a compressed-tensors folder SGLang serves (`assistant serve --backend sglang --model DIR`)."""
    from assistant.cli.console import err
    from assistant.tuning.service import TuningError, format_quantize_result

    assistant = core()
    config = assistant.quantize_config(**given(num_calibration_samples=calibration, group_size=group_size,
                                               device=device))

    def on_event(event: Any) -> None:
        if event.message:
            err.print(f"[dim]{event.elapsed_s:6.0f} s[/dim] {event.message}", highlight=False)

    try:
        result = assistant.quantize(base=base, adapter=adapter, out=out, config=config, progress=on_event)
    except (TuningError, OSError) as exc:
        raise fail(str(exc)) from None
    _print_lines(format_quantize_result(result))


def given(**options: Any) -> dict[str, Any]:
    """The options given on the command line (None: not given, the config's own default applies)."""
    return {key: value for key, value in options.items() if value is not None}


def _print_lines(lines: list[str]) -> None:
    from rich.markup import escape

    from assistant.cli.console import out

    for line in lines:
        out.print(escape(line), highlight=False)

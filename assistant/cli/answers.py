"""Questions answered from the documents: `ask` (one, or `--batch` a file) and `chat`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli import main as shell  # shell.core(): the one place the core is built (tests pass theirs)
from assistant.cli.main import (
    AdapterOption,
    EngineOption,
    KOption,
    MaxTokensOption,
    ScopeOption,
    State,
    UrlOption,
    app,
    fail,
    remote,
    remote_error,
)


def answering_core(engine: str | None, url: str | None, adapter: Path | None, k: int | None,
                   max_tokens: int | None):
    return shell.core(engine=engine or ("http" if url else None), http_url=url, adapter=adapter, top_k=k,
                max_new_tokens=max_tokens)


def _answer_errors() -> tuple[type[Exception], ...]:
    from assistant.engines.base import EngineError
    from index.embeddings import EmbedderError
    from index.retriever import RetrievalError
    from index.store import StoreError

    return (EngineError, EmbedderError, RetrievalError, StoreError)


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
    except (*_answer_errors(), remote_error()) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print_json(answer.to_dict())
    else:
        print_answer_details(answer)
    warn_audit(answer)


def batch_questions(path: Path) -> list[Any]:
    """The questions of an `ask --batch` file; a bad line or an empty file ends the command with one line."""
    from assistant.cli.queries import QueryFileError, read_queries

    try:
        questions = read_queries(path)
    except QueryFileError as exc:
        raise fail(str(exc)) from None
    if not questions:
        raise fail(f"{path}: no questions")
    return questions


def _ask_batch(path: Path, assistant: Any, scope: str | None, as_json: bool) -> None:
    """Answer every question of a file in this process: one JSON line (or a block of text) per question."""
    from assistant.audit import os_user
    from assistant.cli.console import print_answer_details, print_json, warn_audit

    questions = batch_questions(path)
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

    questions = batch_questions(path)
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
    except remote_error() as exc:
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

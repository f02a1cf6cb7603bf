"""Terminal presentation for the CLI: progress bars, tables, JSON lines. No product logic."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from assistant.payloads import document_dict, human_bytes, result_dict, status_payload
from index.ingest import IngestEvent
from index.planted import describe
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




def print_json(payload: Any) -> None:
    """One compact JSON document on one line."""
    print(json.dumps(payload, ensure_ascii=False))


def print_results(query: str, hits: Sequence[ScoredChunk]) -> None:
    """Ranked results: source and location, score, then the passage (shortened)."""
    print_result_dicts(query, [{**result_dict(hit), "heading": hit.chunk.heading} for hit in hits])


def print_result_dicts(query: str, results: Sequence[dict[str, Any]]) -> None:
    """`print_results` from results as `result_dict` gives them (local, or from the application API)."""
    if not results:
        out.print(f"No results for: {query}", highlight=False)
        return
    out.print(f"[bold]Results for:[/bold] {query}", highlight=False)
    for rank, hit in enumerate(results, start=1):
        text = " ".join(hit["text"].split())
        where = hit["location"]
        heading = f" · {hit['heading']}" if hit.get("heading") and hit["heading"] not in where else ""
        out.print(f"[bold]{rank}.[/bold] [cyan]{escape(display_path(hit['source']))}[/cyan], {escape(where)}"
                  f"{escape(heading)}  [dim]score {hit['score']:.3f}[/dim]", highlight=False)
        if hit["flags"]:
            out.print(f"   [red]⚠ flagged: {escape(describe(tuple(hit['flags'])))}; never used as evidence[/red]",
                      highlight=False)
        out.print("   " + text[:320] + ("…" if len(text) > 320 else ""), highlight=False)




def print_documents(records: Sequence[Any], as_json: bool) -> None:
    print_document_dicts([document_dict(record) for record in records], as_json)


def print_document_dicts(documents: Sequence[dict[str, Any]], as_json: bool) -> None:
    import datetime as dt

    if as_json:
        for document in documents:
            print_json(document)
        return
    table = Table(title=f"{len(documents)} documents")
    for column in ("document", "title", "pages", "chunks", "ingested", "status"):
        table.add_column(column)
    for item in documents:
        when = dt.datetime.fromtimestamp(item["ingested_at"]).strftime("%Y-%m-%d %H:%M")
        table.add_row(display_path(item["path"]), item["title"], str(item["pages"]), str(item["chunks"]), when,
                      item["status"])
    out.print(table)






def print_status(settings: Any, stats: Any, as_json: bool, records: Sequence[Any] = (),
                 flagged: dict[str, list[Any]] | None = None) -> None:
    """The workspace in a table, then every document (pages, rows, sections, chunks, OCR'd pages, warnings),
    then the documents holding flagged passages (planted instructions, hidden text), one line each."""
    print_status_payload(status_payload(settings, stats, records, flagged), as_json)


def print_status_payload(status: dict[str, Any], as_json: bool) -> None:
    """`print_status` from its JSON (local, or from the application API)."""
    if as_json:
        print_json(status)
        return
    payload = {key: value for key, value in status.items() if key not in ("files", "flagged")}
    files = status["files"]
    by_file: dict[str, list[dict[str, Any]]] = {}
    for item in status["flagged"]:
        by_file.setdefault(item["source"], []).append(item)
    table = Table(show_header=False, title="Underwriter Assistant")
    for key, value in payload.items():
        shown = human_bytes(value) if key == "index_bytes" else str(value)
        table.add_row(key.replace("_", " "), shown)
    out.print(table)
    for path, items in by_file.items():
        first = items[0]
        out.print(f"[red]⚠[/red] {escape(display_path(path))}: {len(items)} flagged passage"
                  f"{'s' if len(items) != 1 else ''}, first at {escape(first['location'])} "
                  f"({escape(first['reason'])}); kept, never used as evidence", highlight=False)
    if not files:
        return
    listing = Table(title=f"{len(files)} documents")
    for column in ("document", "kind", "pages", "rows", "sections", "chunks", "OCR'd", "status", "warnings"):
        listing.add_column(column, overflow="fold", justify="right" if column in
                           ("pages", "rows", "sections", "chunks", "OCR'd") else "left")
    for item in files:
        pages = str(item["pages"]) + (f" ({item['pages_empty']} empty)" if item["pages_empty"] else "")
        warnings = "; ".join(item["warnings"])
        if item["hidden"]:
            warnings = "; ".join(filter(None, [warnings, f"{item['hidden']} hidden text"]))
        subject = f"\n[dim]{escape(item['email_subject'])}[/dim]" if item.get("email_subject") else ""
        listing.add_row(escape(display_path(item["path"])) + subject, item["kind"], pages, str(item["rows"] or ""),
                        str(item["sections"] or ""), str(item["chunks"]), str(item["pages_ocr"] or ""),
                        item["status"], escape(warnings))
    out.print(listing)


# ---- eval -------------------------------------------------------------------------------------


@contextmanager
def eval_progress(enabled: bool) -> Iterator[Any]:
    """A progress bar over the questions being answered; yields the (done, total) callback."""
    columns = (TextColumn("[bold]answering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not (enabled and err.is_terminal)) as bar:
        task = bar.add_task("answer", total=None)

        def on_progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield on_progress


def _location(source: str, page: int | None) -> str:
    return display_path(source) + (f" p{page}" if page is not None else "")


def _rank(rank: int | None, k: int) -> str:
    if rank is None:
        return "[red]–[/red]"
    return f"[yellow]{rank}[/yellow]" if rank > k else str(rank)


def print_eval(report: Any, as_json: bool) -> None:
    """The eval report: a metrics table per search mode, the misses, and the answer checks when run."""
    if as_json:
        print_json(report.to_dict())
        return
    retrieval = report.retrieval
    k, depth = retrieval.k, 10
    table = Table(title=f"Retrieval over {retrieval.questions} answerable questions ({report.questions_file})")
    table.add_column("mode")
    for level in ("page", "file"):
        for name in (f"hit@{k}", f"recall@{k}", f"MRR@{depth}"):
            table.add_column(f"{level} {name}", justify="right")
    best = {mode: levels["page"].hit for mode, levels in retrieval.scores.items()}
    for mode, levels in retrieval.scores.items():
        cells = [f"{value:.3f}" for level in ("page", "file")
                 for value in (levels[level].hit, levels[level].recall, levels[level].mrr)]
        name = f"[bold]{mode}[/bold]" if best[mode] == max(best.values()) else mode
        table.add_row(name, *cells)
    out.print(table)
    misses = retrieval.misses()
    if not misses:
        out.print(f"No misses: every gold page is in the top {k} in every mode.")
    for mode in retrieval.scores:
        mine = [miss for miss in misses if miss.mode == mode]
        if mine:
            out.print(f"\n[bold]{mode}[/bold]: {len(mine)} questions without the gold page in the top {k} "
                      f"(rank shown up to {depth}, – beyond)")
        for miss in mine:
            gold = ", ".join(g.file + (f" p{g.page}" if g.page is not None else "") for g in miss.gold)
            first = "; ".join(_location(source, page) for source, page in miss.top[:3])
            out.print(f"  [bold]{miss.id}[/bold] {miss.question}\n"
                      f"      gold {gold}: page rank {_rank(miss.page_rank, k)}, file rank {_rank(miss.file_rank, k)}"
                      f"\n      first: {first}", highlight=False)
    if report.answers is not None:
        _print_answers(report.answers)
    err.print(f"{report.total} questions in {report.seconds:.1f} s", highlight=False)


def _print_answers(answers: Any) -> None:
    table = Table(title="Answers", show_header=False)
    table.add_row("citations all verified",
                  f"{answers.citations_verified:.3f}  (of {len(answers.answered)} answered questions)")
    table.add_row("shown as verified or as a labelled quote", f"{answers.shown_honestly:.3f}")
    table.add_row("contains the expected answer",
                  f"{answers.contains_expected:.3f}  (of {len(answers.with_expected)} with an expected answer)")
    table.add_row("unanswerable correctly declined",
                  f"{answers.declined_correctly:.3f}  (of {len(answers.unanswerable)} unanswerable)")
    table.add_row("answerable but declined", str(answers.declined_wrongly))
    out.print(table)
    misses = answers.misses()
    if not misses:
        return
    misses_table = Table(title=f"Answer misses ({len(misses)})", show_lines=True)
    for column in ("id", "problem", "expected", "answer"):
        misses_table.add_column(column)
    for miss in misses:
        problems = []
        if miss.answerable and miss.declined:
            problems.append("declined")
        if not miss.answerable and not miss.declined:
            problems.append("answered an unanswerable question")
        if miss.answerable and not miss.declined and not miss.all_verified:
            problems.append(f"citations {miss.verified}/{miss.cited} verified")
        if miss.contains_expected is False:
            problems.append("expected answer missing")
        text = " ".join(miss.text.split())
        misses_table.add_row(miss.id, ", ".join(problems), miss.expected or "–",
                             text[:240] + ("…" if len(text) > 240 else ""))
    out.print(misses_table)


# ---- answers ----------------------------------------------------------------------------------


def stream_answer(items: Iterable[Any], show: bool = True) -> Any:
    """Show the answer: the model's draft streams on the terminal (dim, labelled, and cleared when done,
    since a draft is not an answer until it verifies), then what the user gets goes to stdout: the
    verified answer, the labelled quote, or the decline. Returns the final `Answer` (the last item)."""
    from rich.live import Live
    from rich.text import Text

    answer = None
    draft = ""
    live = Live(Text(""), console=err, transient=True, refresh_per_second=8) if show and err.is_terminal else None
    try:
        if live is not None:
            live.start()
        for item in items:
            if not isinstance(item, str):  # the checked Answer (or the API's view of one) comes last
                answer = item
            elif item and live is not None:
                draft += item
                live.update(Text("draft, being checked: " + draft, style="dim"))
    finally:
        if live is not None:
            live.stop()
    if show and answer is not None:
        sys.stdout.write(answer.text + "\n" + "".join(f"{note}\n" for note in answer.notes))
        sys.stdout.flush()
    return answer


def location_label(citation: Any) -> str:
    """Insured / file, location: how a source is named on screen."""
    where = display_path(citation.source)
    return f"{citation.submission} / {where}" if citation.submission and citation.submission not in where \
        else where


def print_answer_details(answer: Any) -> None:
    """After the answer: what it is (verified, a quote, declined) and why, its sources, and usage."""
    if answer.kind == "declined":
        err.print(f"[dim](declined: {escape(answer.reason or 'the documents do not answer it')}; "
                  "the model was not asked)[/dim]", highlight=False)
        return
    if answer.kind == "answer" and answer.supported:
        err.print("[green]✓ verified[/green]: every figure, date, name and negation agrees with the quoted source",
                  highlight=False)
    elif answer.kind == "quote":
        err.print(f"[yellow]quoted, not answered[/yellow]: the model's answer did not verify "
                  f"({escape(answer.reason)}); the passage above is the documents' own words", highlight=False)
    else:
        err.print(f"[yellow]not verified[/yellow]: {escape(answer.reason)}", highlight=False)
    if answer.citations:
        out.print("\n[bold]Sources[/bold]")
    for citation in answer.citations:
        if citation.inferred:
            mark = "[cyan]~ closest passage; the model did not cite it[/cyan]"
        elif answer.kind == "quote":
            mark = "[blue]quote[/blue]"
        elif citation.verified:
            mark = "[green]✓ verified[/green]"
        else:
            mark = f"[yellow]✗ {escape(citation.reason or 'not verified')}[/yellow]"
        out.print(f"  [bold][{citation.number}][/bold] {escape(location_label(citation))}, "
                  f"{escape(citation.location or f'page {citation.page}')}  {mark}", highlight=False)
        out.print(f"      [dim]“{escape(citation.quote)}”[/dim]", highlight=False)
    if answer.invalid_citations:
        numbers = ", ".join(f"[{n}]" for n in answer.invalid_citations)
        err.print(f"[red]invalid citation{'s' if len(answer.invalid_citations) > 1 else ''} {escape(numbers)}[/red]: "
                  f"no such source ({len(answer.sources)} were given)", highlight=False)
    usage = answer.usage
    err.print(f"[dim]{answer.model}: {usage.prompt_tokens} prompt tokens ({usage.cached_tokens} cached), "
              f"{usage.completion_tokens} generated, first token {usage.time_to_first_token:.2f} s, "
              f"{usage.tokens_per_second:.1f} tokens/s[/dim]", highlight=False)


def warn_audit(answer: Any) -> None:
    """The warning line when an answer's audit record could not be written (the answer still stands)."""
    if answer is not None and getattr(answer, "audit_error", ""):
        err.print(f"[bold red]warning[/bold red]: {escape(answer.audit_error)}", highlight=False)


def chat_loop(conversation: Any, k: int | None = None, max_tokens: int | None = None,
              scope: str | None = None) -> None:
    """Read questions from stdin until EOF or /exit; `/reset` forgets the conversation."""
    err.print("Chat over your documents: /reset forgets the conversation, /exit or Ctrl-D quits.", highlight=False)
    while True:
        err.print("[bold cyan]you>[/bold cyan] ", end="")
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            break
        if not line:
            break
        question = line.strip()
        if not question:
            continue
        if question in ("/exit", "/quit"):
            break
        if question == "/reset":
            conversation.reset()
            err.print("[dim](conversation cleared)[/dim]")
            continue
        try:
            answer = stream_answer(conversation.stream(question, k=k, max_tokens=max_tokens, scope=scope))
        except KeyboardInterrupt:
            err.print("[dim](interrupted; this question is not kept)[/dim]")
            continue
        print_answer_details(answer)
        warn_audit(answer)
        if answer.dropped_turns:
            err.print(f"[dim]({answer.dropped_turns} earlier messages left out to fit the context window)[/dim]")


# ---- audit trail --------------------------------------------------------------------------------


def print_audit_table(events: Sequence[Any]) -> None:
    """The audit records as a table (oldest first)."""
    if not events:
        err.print("no audit records", highlight=False)
        return
    table = Table(title=f"{len(events)} audit records")
    for name in ("id", "time (UTC)", "user", "shell", "question", "outcome", "sources", "model"):
        table.add_column(name, overflow="fold", no_wrap=name in ("id", "time (UTC)", "shell", "outcome"),
                         ratio=3 if name == "question" else None)
    for event in events:
        given = sum(1 for s in event.sources if not s.get("flagged"))
        flagged = len(event.sources) - given
        sources = f"{given}" + (f" (+{flagged} flagged)" if flagged else "")
        table.add_row(str(event.id), event.time[:19].replace("T", " "), escape(event.user), event.shell,
                      escape(event.question), event.outcome, sources, escape(event.model))
    out.print(table)


def print_audit_event(event: Any) -> None:
    """One audit record in full; the messages exactly as the model was sent them."""
    out.print(f"[bold]Audit record {event.id}[/bold]  {event.time}", highlight=False)
    out.print(f"user {escape(event.user)} · shell {event.shell} · scope {escape(event.scope or 'all submissions')}",
              highlight=False)
    engine = event.engine + (f" at {event.engine_url}" if event.engine_url else "")
    out.print(f"model {escape(event.model)}" + (f" + adapter {escape(event.adapter)}" if event.adapter else "")
              + f" · engine {escape(engine)}", highlight=False)
    out.print(f"\n[bold]Question[/bold]\n{escape(event.question)}", highlight=False)
    out.print("\n[bold]Sources retrieved[/bold]", highlight=False)
    for source in event.sources:
        mark = f"[red]flagged, not given to the model: {escape(source.get('reason', ''))}[/red]" \
            if source.get("flagged") else f"[{source['number']}]"
        out.print(f"  {mark} {escape(source.get('submission') or '')} / {escape(display_path(source['file']))}, "
                  f"{escape(source['location'])} (chunk {source['chunk_id']})", highlight=False)
    if not event.messages:
        out.print("\n[bold]Messages the model saw[/bold]\n  (none: the model was not called)", highlight=False)
    else:
        settings = ", ".join(f"{key} {value}" for key, value in event.generation.items() if key != "json_schema")
        schema = " and the answer schema below" if event.generation.get("json_schema") else ""
        out.print(f"\n[bold]Messages the model saw[/bold] ({settings}{schema})", highlight=False)
        for message in event.messages:
            out.print(f"--- {message['role']} ---", highlight=False)
            out.print(escape(message["content"]), highlight=False)
        if event.generation.get("json_schema"):
            out.print("--- answer schema ---", highlight=False)
            out.print(escape(json.dumps(event.generation["json_schema"], ensure_ascii=False)), highlight=False)
        out.print("--- model output ---", highlight=False)
        out.print(escape(event.raw), highlight=False)
    out.print(f"\n[bold]Answer[/bold] ({event.outcome}" + (f": {escape(event.reason)}" if event.reason else "")
              + ")", highlight=False)
    out.print(escape(event.answer), highlight=False)
    for citation in event.citations:
        mark = "[green]verified[/green]" if citation.get("verified") else \
            f"[yellow]not verified[/yellow] {escape(citation.get('reason') or '')}"
        out.print(f"  [{citation['number']}] {escape(display_path(citation['source']))}, "
                  f"{escape(citation['location'])}: {mark}", highlight=False)


def print_command(command: Sequence[str]) -> None:
    """A command line, quoted for the shell, on stdout."""
    import shlex

    print(shlex.join(command))


# ---- summarize --------------------------------------------------------------------------------


@contextmanager
def summarize_progress() -> Iterator[tuple[Any, Any]]:
    """A progress bar with documents, tokens and time remaining; yields (ingest callback, summary callback).

    Failures print one line each (`PATH: reason`) above the bar."""
    from rich.markup import escape

    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("documents · {task.fields[tokens]} tokens"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False, disable=not err.is_terminal) as bar:
        task = bar.add_task("ingest", total=None, tokens=0)
        tokens = 0

        def failure(path: str, reason: str) -> None:
            # Printed even without a terminal (the bar is then disabled): the one line a failure gets.
            err.print(f"[red]{escape(display_path(path))}[/red]: {escape(reason)}", highlight=False)

        def on_ingest(event: IngestEvent) -> None:
            if event.kind == "error":
                failure(event.path, event.reason)
            elif event.kind == "warning":
                err.print(f"[yellow]{escape(display_path(event.path))}[/yellow]: {escape(event.reason)}",
                          highlight=False)

        def on_summary(event: Any) -> None:
            nonlocal tokens
            if event.kind == "start":
                bar.update(task, description="summarize", total=event.total, completed=0)
            elif event.kind == "tokens":
                tokens += event.tokens
                bar.update(task, tokens=tokens)
            elif event.kind == "done":
                bar.update(task, advance=1)
            elif event.kind == "error":
                failure(event.path, event.reason)
                bar.update(task, advance=1)

        yield on_ingest, on_summary


def write_report(text: str, path: Any = None, fmt: str = "md") -> None:
    """The report on stdout, or in `path` (CSV with a byte-order mark, so spreadsheets read it as UTF-8)."""
    if path is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
        return
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    with open(target, "w", encoding=encoding, newline="") as handle:
        handle.write(text)
    err.print(f"wrote {display_path(str(target))}", highlight=False)

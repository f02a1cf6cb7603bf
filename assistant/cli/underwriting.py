"""Submissions as an underwriter works them: `profile`, `summarize`, `check`, `rules draft`, `memo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.cli import main as shell  # shell.core(): the one place the core is built (tests pass theirs)
from assistant.cli.main import EXIT_FILES_FAILED, AdapterOption, EngineOption, UrlOption, app, fail


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
    model: Annotated[bool, typer.Option("--model/--no-model", help="Let the model read the descriptive fields the "
                                                                   "patterns leave unstated (verified).")] = False,
    engine: EngineOption = None,
    url: UrlOption = None,
) -> None:
    """A submission's profile: COPE and values per location, totals, the loss history, recommendations and the
    conflicts between documents, every value with its source (file, location, quote)."""
    from rich.markdown import Markdown

    from assistant.cli.console import display_path, err
    from assistant.cli.console import out as terminal
    from assistant.engines.base import EngineError
    from assistant.profile import output
    from assistant.profile.service import ProfileError
    from index.store import StoreError

    if (submission is None) == (not all_submissions):
        raise fail("name one submission, or give --all")
    assistant = shell.core(engine=engine or ("http" if url else None), http_url=url)
    try:
        if all_submissions:
            def report(run) -> None:
                if run.error:
                    err.print(f"{run.submission}: failed: {run.error}", highlight=False)
                elif run.profile is not None and not run.profile.documents:
                    err.print(f"{run.submission}: skipped, no submission documents (guidelines only)", highlight=False)
                else:
                    err.print(f"{run.submission}: {'unchanged' if run.reused else 'profiled'}", highlight=False)

            runs = assistant.profile_all(force=force, progress=report, model=model)
            built = [run.profile for run in runs if run.profile is not None and run.profile.documents]
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                for item in built:
                    output.write(item, out / f"{item.submission}.json")
                err.print(f"wrote {len(built)} profiles to {display_path(str(out))}", highlight=False)
            elif as_json:
                for item in built:
                    print(json_line(item))
            if any(run.error for run in runs):
                raise typer.Exit(EXIT_FILES_FAILED)
            return
        found = assistant.profile(submission or "", force=force, model=model)
    except (ProfileError, StoreError, ValueError, EngineError) as exc:
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
    model: Annotated[bool, typer.Option("--model/--no-model", help="Let the model read the descriptive fields the "
                                                                   "patterns leave unstated (verified).")] = True,
    wait: Annotated[float, typer.Option(help="Seconds to wait if another ingest holds the lock.")] = 0.0,
    engine: EngineOption = None,
    url: UrlOption = None,
    adapter: AdapterOption = None,
) -> None:
    """Summarize documents with the underwriting template, a view of each submission's profile: every statement
    cited as file:page with its quote, "not stated" where the document does not say; profiles already made are
    reused on a re-run (--force redoes them)."""
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
    assistant = shell.core(engine=engine or ("http" if url else None), http_url=url, adapter=adapter)
    try:
        with summarize_progress() as (on_ingest, on_summary):
            report = assistant.summarize(paths or [], all_documents=all_documents, template=template, force=force,
                                         model=model, progress=on_summary, ingest_progress=on_ingest, wait=wait)
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
        report = shell.core().check(submission, rules)
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
        written = shell.core().memo(submission, out, rules)
    except (MemoError, RulesError, ProfileError, StoreError) as exc:
        raise fail(str(exc)) from None
    err.print("wrote " + ", ".join(str(path) for path in written), highlight=False, markup=False)

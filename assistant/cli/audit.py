"""The audit trail: `audit` (list, CSV), `audit show ID`, `audit verify`."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli import main as shell  # shell.core(): the one place the core is built (tests pass theirs)
from assistant.cli.main import EXIT_FATAL, app, fail

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
        events = shell.core().audit_events(user=user, since=since, limit=limit)
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

    event = shell.core().audit_log.get(event_id)
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

    log = shell.core().audit_log
    problems = log.verify()
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(EXIT_FATAL)
    out.print(f"{log.count()} records, chain intact: {log.path}", highlight=False)

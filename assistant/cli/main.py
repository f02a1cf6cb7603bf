"""The `assistant` command line: the Typer application, its global options (accepted before or after the
subcommand), `core()` (the one place a command builds the application core), `fail` and the options the
commands share. The commands live beside it by capability (`library`, `underwriting`, `answers`, `serving`,
`audit`, `tuning`) and register on `app` when `assistant.cli` is imported.

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


def remote_error() -> type[Exception]:
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


EngineOption = Annotated[str | None, typer.Option("--engine", help="embedded (in-process) or http (a model server).")]
UrlOption = Annotated[str | None, typer.Option("--url", help="Model server URL for --engine http (implies it).")]
AdapterOption = Annotated[Path | None, typer.Option("--adapter", help="LoRA adapter folder for the embedded engine.")]
KOption = Annotated[int | None, typer.Option("-k", help="Passages retrieved per question (default from settings).")]
MaxTokensOption = Annotated[int | None, typer.Option("--max-tokens", help="Most tokens to generate per answer.")]
ScopeOption = Annotated[str | None, typer.Option(
    "--scope", help="Limit to one submission: its folder name (harbor-foods) or path.")]

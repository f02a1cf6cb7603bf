"""Serving: `serve` (the local OpenAI-compatible server, SGLang, sglang-router, the application API),
`users` (the keys of the application API) and `ui` (the Streamlit workspace)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli import main as shell  # shell.core(): the one place the core is built (tests pass theirs)
from assistant.cli.main import AdapterOption, EngineOption, UrlOption, app, fail


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
        assistant = shell.core()
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
    assistant = shell.core(engine="embedded", generator_model=str(model) if model else None, adapter=adapter)
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
    assistant = shell.core(adapter=adapter)
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
        key = UserStore(shell.core().settings.users_path).add(name, role)
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

    for user in UserStore(shell.core().settings.users_path).users():
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
        UserStore(shell.core().settings.users_path).remove(name)
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

    settings = shell.core(engine=engine or ("http" if url else None), http_url=url, adapter=adapter).settings
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

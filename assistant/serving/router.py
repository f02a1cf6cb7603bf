"""Scale-out: sglang-router in front of model workers, its command line, readiness and shutdown.

`assistant serve --backend router --workers URL...` runs `python -m sglang_router.launch_router --worker-urls
URL... --policy cache_aware --host H --port P`. On a GPU host the workers are SGLang servers
(`assistant serve --backend sglang`); here they can be `assistant serve --backend local` servers, which answer
what the router asks of a worker (`/health`, `/server_info`, `/model_info`: see `assistant.serving.server`). The
application's HTTP engine then points at the router's URL (`--engine http --url ROUTER`) and needs nothing else.

`cache_aware` keeps requests that share a prefix (the questions over one submission share its sources) on the
worker that has that prefix cached, and balances by load when the workers drift apart.

The workers' API key never goes on a command line (`ps` shows those): with a key, this module is the entry
point (`python -m assistant.serving.router ARGS`), reads the key from the `ASSISTANT_ROUTER_WORKER_KEY`
environment variable, drops it from its environment, and starts the same router in-process.
The router itself does not check its clients' keys: keep it on 127.0.0.1 or a private network.

Imports: the standard library, httpx, and `assistant.serving.sglang` for the process handling they share;
`sglang_router` only in the child process.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from assistant.engines.base import EngineError
from assistant.serving.sglang import start_process, stop_process, stopped_on_error

POLICIES = ("cache_aware", "round_robin", "random", "power_of_two")
KEY_ENV = "ASSISTANT_ROUTER_WORKER_KEY"
INSTALL_HINT = "install the router extra: `pip install 'underwriter-assistant[router]'`"


def router_installed() -> bool:
    return importlib.util.find_spec("sglang_router") is not None


def router_command(
    workers: Sequence[str],
    host: str = "127.0.0.1",
    port: int = 30000,
    policy: str = "cache_aware",
    *,
    metrics_port: int | None = None,
    with_key: bool = False,
    python: str | None = None,
) -> list[str]:
    """The router's command line; `with_key`: through this module, which takes the key from its environment.
    Its Prometheus metrics listen on `host` too (the router's own default is 0.0.0.0:29000), at `metrics_port`
    (default `port` + 1)."""
    if not workers:
        raise ValueError("the router needs at least one worker URL")
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
    module = "assistant.serving.router" if with_key else "sglang_router.launch_router"
    return [
        python or sys.executable, "-m", module,
        "--worker-urls", *[url.rstrip("/") for url in workers],
        "--policy", policy,
        "--host", host,
        "--port", str(port),
        "--prometheus-host", host,
        "--prometheus-port", str(metrics_port or port + 1),
    ]  # fmt: skip


def parse_workers(values: Sequence[str]) -> list[str]:
    """Worker URLs from repeated and comma-separated options; each must be http(s)://HOST:PORT."""
    urls = [part.strip().rstrip("/") for value in values for part in value.split(",") if part.strip()]
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"worker URL {url!r} must start with http:// or https://")
    if len(set(urls)) != len(urls):
        raise ValueError("a worker URL is given twice")
    return urls


class RouterProcess:
    """A running router; a context manager, or call `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, workers: Sequence[str]) -> None:
        self.process = process
        self.url = url
        self.workers = list(workers)

    def __enter__(self) -> RouterProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, grace: float = 10.0) -> int | None:
        return stop_process(self.process, grace)


def healthy_workers(url: str, timeout: float = 5.0) -> list[str]:
    """The worker URLs the router at `url` lists as healthy ([] while it does not answer)."""
    try:
        response = httpx.get(f"{url}/workers", timeout=timeout)
        entries = response.json().get("workers") or [] if response.is_success else []
    except (httpx.HTTPError, ValueError, AttributeError):
        return []
    return [str(entry.get("url", "")).rstrip("/") for entry in entries
            if isinstance(entry, dict) and entry.get("is_healthy")]


def wait_router_ready(url: str, workers: Sequence[str], process: subprocess.Popen[bytes] | None = None,
                      timeout: float = 120.0, interval: float = 0.5) -> None:
    """Until the router lists every worker as healthy; EngineError when it exits or time runs out."""
    wanted = {worker.rstrip("/") for worker in workers}
    deadline = time.monotonic() + timeout
    seen: set[str] = set()
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EngineError(f"sglang-router exited with code {process.returncode} before it was ready")
        seen = set(healthy_workers(url))
        if wanted <= seen:
            return
        time.sleep(interval)
    missing = ", ".join(sorted(wanted - seen))
    raise EngineError(f"sglang-router at {url} did not list every worker as healthy within {timeout:.0f} s "
                      f"(missing: {missing}); check that each answers GET /health")


def launch_router(
    workers: Sequence[str],
    host: str = "127.0.0.1",
    port: int = 30000,
    policy: str = "cache_aware",
    api_key: str | None = None,
    ready_timeout: float = 120.0,
    log_path: Path | None = None,
    metrics_port: int | None = None,
) -> RouterProcess:
    """Start sglang-router and return once it lists every worker as healthy (stopped again if it never does)."""
    if not router_installed():
        raise EngineError(f"sglang-router is not installed; {INSTALL_HINT}")
    command = router_command(workers, host, port, policy, metrics_port=metrics_port, with_key=bool(api_key))
    env = {key: value for key, value in os.environ.items() if key != KEY_ENV}
    if api_key:
        env[KEY_ENV] = api_key
    process = start_process(command, log_path, env)
    url = f"http://{host}:{port}"
    with stopped_on_error(process):
        wait_router_ready(url, workers, process, ready_timeout)
    return RouterProcess(process, url, workers)


def serve_forever(workers: Sequence[str], **kwargs: object) -> int:
    """Launch the router and keep it up until Ctrl-C, SIGTERM or until it exits; returns its exit code. The
    router runs in its own session, so it is stopped here on the way out, never left running alone."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    router = launch_router(workers, **kwargs)  # type: ignore[arg-type]
    try:
        return router.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        router.stop()


def main(argv: Sequence[str]) -> None:
    """The router, its workers' key from the environment (never argv): `python -m assistant.serving.router`."""
    from sglang_router.launch_router import launch_router as start
    from sglang_router.launch_router import parse_router_args

    key = os.environ.pop(KEY_ENV, None)
    args = parse_router_args(list(argv))
    if key:
        args.api_key = key
    start(args)


if __name__ == "__main__":
    main(sys.argv[1:])

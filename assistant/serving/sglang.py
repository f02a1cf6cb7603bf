"""Launching SGLang on a GPU host: the exact command line, readiness polling and a clean shutdown.

`sglang_command` builds the serving command (RadixAttention prefix caching with longest-prefix-match
scheduling, cache reports and metrics on, no `--quantization`: SGLang reads a pre-quantized folder's own config).
`launch_sglang` starts it, waits for `/health_generate`, and stops it with SIGINT, then SIGTERM,
then SIGKILL, on exit or Ctrl-C.

The API key never goes on the command line (where `ps` and `--dry-run` would show it): SGLang takes it from
its `--api-key` flag only, and reads no environment variable for it, but it reads any of its options from
a YAML file given with `--config FILE` (`server_args_config_parser.ConfigArgumentMerger`, merged inside the
process). So the key goes into a private YAML file (`api-key: ...`, mode 0600 in a 0700 folder), the command
line says `--config FILE`, and the file is deleted as soon as the server answers (or fails to start).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from assistant.engines.base import EngineError

INSTALL_HINT = "install the sglang extra on a GPU host: `pip install 'underwriter-assistant[sglang]'`"
KEY_FILE_PLACEHOLDER = "<private YAML file holding api-key: ***>"  # what --dry-run shows in its place


def sglang_command(
    model_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 30000,
    api_key: str | None = None,
    context_length: int | None = None,
    lora: Mapping[str, Path | str] | None = None,
    python: str | None = None,
    key_file: Path | str | None = None,
) -> list[str]:
    """The `sglang.launch_server` command line for serving `model_dir` (with optional LoRA adapters). With
    `api_key`, the key is not in it: `--config key_file` is (`write_key_file`), or a placeholder without one."""
    command = [
        python or sys.executable, "-m", "sglang.launch_server",
        "--model-path", str(model_dir),
        "--host", host,
        "--port", str(port),
        "--schedule-policy", "lpm",
        "--enable-cache-report",
        "--enable-metrics",
    ]  # fmt: skip
    if api_key:
        command += ["--config", str(key_file) if key_file else KEY_FILE_PLACEHOLDER]
    if context_length:
        command += ["--context-length", str(int(context_length))]
    if lora:
        command += ["--enable-lora", "--lora-paths", *(f"{name}={path}" for name, path in lora.items())]
    return command


def write_key_file(api_key: str) -> Path:
    """A YAML file SGLang reads with `--config`, holding only the key, readable by this user only."""
    folder = Path(tempfile.mkdtemp(prefix="sglang-key-"))  # 0700
    path = folder / "api-key.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"api-key: {json.dumps(api_key)}\n")  # a JSON string is a YAML double-quoted scalar
    return path


def remove_key_file(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(Path(path).parent, ignore_errors=True)


class SGLangServer:
    """A running SGLang process; use as a context manager, or call `stop()`."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, api_key: str | None) -> None:
        self.process = process
        self.url = url
        self.api_key = api_key

    def __enter__(self) -> SGLangServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGINT, then SIGTERM, then SIGKILL to the server's process group; returns its exit code."""
        return stop_process(self.process, grace)


def start_process(command: list[str], log_path: Path | None = None,
                  env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a server in its own process group (our signals reach its workers too), its output appended to
    `log_path` or, without one, on our terminal."""
    log = open(log_path, "ab") if log_path else None  # noqa: SIM115 - handed to the child process
    try:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                                start_new_session=True)
    finally:
        if log is not None:
            log.close()


@contextmanager
def stopped_on_error(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """Stop `process` (and re-raise) when the block fails: a server that never got ready is not left behind."""
    try:
        yield
    except BaseException:
        stop_process(process)
        raise


def stop_process(process: subprocess.Popen[bytes], grace: float = 20.0) -> int | None:
    """Stop a process started in its own session: SIGINT, SIGTERM, then SIGKILL, each given `grace` seconds."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace if sig != signal.SIGKILL else 5)
    return process.poll()


def wait_ready(
    url: str,
    process: subprocess.Popen[bytes] | None = None,
    timeout: float = 600.0,
    api_key: str | None = None,
    interval: float = 1.0,
) -> None:
    """Poll `/health_generate` until it answers 200; EngineError when the process dies or time runs out."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise EngineError(f"SGLang exited with code {process.returncode} before it was ready")
        try:
            response = httpx.get(f"{url}/health_generate", headers=headers, timeout=10.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = str(exc) or type(exc).__name__
        time.sleep(interval)
    raise EngineError(f"SGLang at {url} was not ready within {timeout:.0f} s ({last})")


def launch_sglang(
    model_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 30000,
    api_key: str | None = None,
    context_length: int | None = None,
    lora: Mapping[str, Path | str] | None = None,
    ready_timeout: float = 600.0,
    log_path: Path | None = None,
) -> SGLangServer:
    """Start SGLang and return once it generates; stops it again if it never gets ready."""
    if importlib.util.find_spec("sglang") is None:
        raise EngineError(f"SGLang is not installed; {INSTALL_HINT}")
    if not Path(model_dir).is_dir():
        raise EngineError(f"model folder {model_dir} does not exist")
    key_file = write_key_file(api_key) if api_key else None
    try:
        command = sglang_command(model_dir, host, port, api_key, context_length, lora, key_file=key_file)
        process = start_process(command, log_path)
        url = f"http://{host}:{port}"
        with stopped_on_error(process):
            wait_ready(url, process, ready_timeout, api_key)
    finally:
        remove_key_file(key_file)  # read at start-up: once it answers (or failed), nothing needs it
    return SGLangServer(process, url, api_key)


def serve_forever(model_dir: Path | str, **kwargs: object) -> int:
    """Launch SGLang and keep it up until Ctrl-C or until it exits; returns its exit code."""
    server = launch_sglang(model_dir, **kwargs)  # type: ignore[arg-type]
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()

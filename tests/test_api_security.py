"""The security rules of issue 14, one test each: hashed keys compared in constant time, `users` commands,
refusals to listen beyond loopback without authentication (API, model server, UI), ingest roots, and the
SGLang key kept off the command line (a stand-in `sglang.launch_server` run as a real child process)."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from assistant.api.security import FolderRefused, check_ingest_folder, is_loopback
from assistant.api.users import UserError, UserStore


def cli(*args: str):
    from assistant.cli.main import app

    return CliRunner().invoke(app, list(args))


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


# ---- users and keys ------------------------------------------------------------------------------------


def test_users_add_prints_a_key_once_and_keeps_only_its_hash(tmp_path: Path) -> None:
    result = cli("--workspace", str(tmp_path), "users", "add", "alice", "--role", "editor")
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("uak_") and len(key) > 40
    stored = (tmp_path / "users.sqlite").read_bytes()
    assert key.encode() not in stored and key[4:].encode() not in stored
    assert (tmp_path / "users.sqlite").stat().st_mode & 0o077 == 0
    store = UserStore(tmp_path / "users.sqlite")
    assert store.authenticate(key).name == "alice" and store.authenticate(key).role == "editor"
    assert store.authenticate(key[:-1]) is None and store.authenticate(key + "x") is None
    assert store.authenticate("") is None

    listed = cli("--workspace", str(tmp_path), "users", "list", "--json")
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == ["alice"]
    assert key not in listed.stdout
    again = cli("--workspace", str(tmp_path), "users", "add", "alice")
    assert again.exit_code == 2 and "exists" in again.stderr
    bad = cli("--workspace", str(tmp_path), "users", "add", "bob", "--role", "root")
    assert bad.exit_code == 2 and "unknown role" in bad.stderr
    assert cli("--workspace", str(tmp_path), "users", "remove", "alice").exit_code == 0
    assert store.authenticate(key) is None
    assert cli("--workspace", str(tmp_path), "users", "remove", "alice").exit_code == 2


def test_keys_are_compared_with_compare_digest_against_every_user(tmp_path: Path, monkeypatch) -> None:
    import hmac

    import assistant.api.users as users_module

    store = UserStore(tmp_path / "users.sqlite")
    keys = [store.add(name, "reader") for name in ("ann", "ben", "cy")]
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(users_module.hmac, "compare_digest", spy)
    assert store.authenticate(keys[0]).name == "ann"  # found first: the others are compared all the same
    assert len(calls) == 3
    calls.clear()
    assert store.authenticate("uak_nobody") is None
    assert len(calls) == 3


def test_roles_include_the_ones_below() -> None:
    from assistant.api.users import User

    assert User("r", "reader").may("reader") and not User("r", "reader").may("editor")
    assert User("e", "editor").may("reader") and not User("e", "editor").may("admin")
    assert User("a", "admin").may("editor")
    with pytest.raises(UserError):
        UserStore(Path("/nonexistent/users.sqlite")).remove("x")


# ---- listening beyond loopback ---------------------------------------------------------------------------


def test_loopback_addresses() -> None:
    assert all(is_loopback(host) for host in ("127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"))
    assert not any(is_loopback(host) for host in ("0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.com", ""))


def test_app_api_refuses_a_public_host_without_users(tmp_path: Path) -> None:
    result = cli("--workspace", str(tmp_path), "serve", "--app", "--host", "0.0.0.0", "--dry-run")
    assert result.exit_code == 2
    assert error_lines(result) == [
        "error: refusing to serve the application API on 0.0.0.0 (beyond this computer) without authentication: "
        "add a user first (assistant users add NAME --role admin)"]
    UserStore(tmp_path / "users.sqlite").add("admin", "admin")
    result = cli("--workspace", str(tmp_path), "serve", "--app", "--host", "0.0.0.0", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would serve the application API" in result.stderr


def test_app_api_in_a_thread_refuses_a_public_host_without_users(tmp_path: Path) -> None:
    from assistant.api.security import ExposureRefused
    from assistant.api.service import start_api_in_thread
    from assistant.app import Assistant
    from assistant.settings import load_settings

    with pytest.raises(ExposureRefused, match="without authentication"):
        start_api_in_thread(Assistant(load_settings(workspace=tmp_path)), host="0.0.0.0")


def test_model_server_refuses_a_public_host_without_an_api_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ASSISTANT_API_KEY", raising=False)
    for backend in ("local", "sglang"):
        result = cli("--workspace", str(tmp_path), "serve", "--backend", backend, "--model", str(tmp_path),
                     "--host", "0.0.0.0", "--dry-run")
        assert result.exit_code == 2, backend
        assert error_lines(result) == ["error: refusing to serve the model on 0.0.0.0 (beyond this computer) "
                                       "without authentication: pass --api-key KEY (or ASSISTANT_API_KEY)"]
    result = cli("--workspace", str(tmp_path), "serve", "--backend", "local", "--host", "0.0.0.0", "--api-key", "k",
                 "--dry-run")
    assert result.exit_code == 0, result.output


def test_ui_refuses_a_public_host_without_users(tmp_path: Path) -> None:
    result = cli("--workspace", str(tmp_path), "ui", "--host", "0.0.0.0")
    assert result.exit_code == 2
    assert len(error_lines(result)) == 1 and "refusing to serve the UI on 0.0.0.0" in result.stderr
    assert "assistant users add" in result.stderr


# ---- ingest roots ----------------------------------------------------------------------------------------


def test_ingest_folders_only_under_the_roots(tmp_path: Path) -> None:
    from assistant.settings import load_settings

    root = tmp_path / "submissions"
    (root / "harbor-foods" / "deep").mkdir(parents=True)
    outside = tmp_path / "home"
    outside.mkdir()
    (root / "escape").symlink_to(outside)
    assert check_ingest_folder(str(root / "harbor-foods" / "deep"), [root]) == (root / "harbor-foods" / "deep")
    assert check_ingest_folder(root, [root]) == root
    for bad in (outside, root / "escape", f"{root}/../home", "/", tmp_path / "submissions-2"):
        with pytest.raises(FolderRefused):
            check_ingest_folder(bad, [root])
    with pytest.raises(FolderRefused, match="not a folder"):
        check_ingest_folder(root / "missing", [root])
    with pytest.raises(FolderRefused, match="ingest_roots"):
        check_ingest_folder(outside, [root])
    settings = load_settings(workspace=tmp_path / "ws")
    assert settings.allowed_ingest_roots() == [(tmp_path / "ws" / "uploads").resolve()]  # the safe default


def test_ingest_roots_come_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    from assistant.settings import load_settings

    monkeypatch.setenv("ASSISTANT_INGEST_ROOTS", json.dumps([str(tmp_path / "a"), str(tmp_path / "b")]))
    assert load_settings(workspace=tmp_path).allowed_ingest_roots() == [tmp_path / "a", tmp_path / "b"]


# ---- the SGLang key -----------------------------------------------------------------------------------------

STAND_IN = '''
"""Stands in for `python -m sglang.launch_server`: reads --config as SGLang does, serves /health_generate."""
import json, sys, http.server, os

args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
key = None
if "--config" in args:
    for line in open(args[args.index("--config") + 1]):
        name, _, value = line.partition(":")
        if name.strip() == "api-key":
            key = json.loads(value.strip())
with open(os.environ["STAND_IN_REPORT"], "w") as report:
    json.dump({"argv": sys.argv, "key": key}, report)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = key is None or self.headers.get("Authorization") == f"Bearer {key}"
        self.send_response(200 if ok else 401)
        self.end_headers()

    def log_message(self, *a):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
'''


def test_sglang_gets_its_key_from_a_private_file_never_the_command_line(tmp_path: Path, monkeypatch) -> None:
    from assistant.serving.sglang import launch_sglang

    package = tmp_path / "fake" / "sglang"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "launch_server.py").write_text(STAND_IN)
    monkeypatch.syspath_prepend(str(tmp_path / "fake"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path / "fake"), *sys.path]))
    monkeypatch.setenv("STAND_IN_REPORT", str(tmp_path / "report.json"))
    model = tmp_path / "model"
    model.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = "uak_s3cret-key-for-sglang"
    with launch_sglang(model, port=port, api_key=key, ready_timeout=60) as server:
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes().split(b"\0")
        assert not any(key.encode() in part for part in cmdline)  # what `ps` shows
        assert b"--api-key" not in cmdline and b"--config" in cmdline
        config = Path(cmdline[cmdline.index(b"--config") + 1].decode())
        assert not config.exists() and not config.parent.exists()  # deleted once SGLang was up
        assert json.loads((tmp_path / "report.json").read_text())["key"] == key  # and SGLang had read it
        assert httpx.get(f"{server.url}/health_generate").status_code == 401
    assert server.process.poll() is not None

    result = cli("--workspace", str(tmp_path / "ws"), "serve", "--backend", "sglang", "--model", str(model),
                 "--host", "0.0.0.0", "--api-key", key, "--dry-run")
    assert result.exit_code == 0, result.output
    assert key not in result.output and "--api-key" not in result.stdout
    assert "--config '<private YAML file holding api-key: ***>'" in result.stdout


def test_serve_app_serves_the_api_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    from tests.conftest import CLI

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = UserStore(tmp_path / "users.sqlite").add("ann", "reader")
    server = subprocess.Popen([*CLI, "--workspace", str(tmp_path), "serve", "--app", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve --app did not start"
            time.sleep(0.3)
        assert httpx.get(f"{url}/api/status", timeout=10).status_code == 401
        empty = httpx.get(f"{url}/api/status", headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert empty.status_code == 409  # nothing ingested yet: said so, not a crash
        assert httpx.get(f"{url}/docs", timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert server.returncode == 0

"""`assistant ask`, `chat` and `serve` on the command line, over sample_docs with the real model.

Most tests run the Typer app in-process with the session's models (the CLI wiring is real, only
model loading is shared); the server-down and `serve --backend local` tests run real processes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from assistant.answering.pipeline import EVIDENCE_TOKENS
from assistant.answering.prompts import NO_ANSWER_TEXT

CLI = [sys.executable, "-m", "assistant.cli"]
OXYGEN = "How many Oakridge residents are on supplemental oxygen?"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_env(model_cache: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_MODEL_CACHE": str(model_cache), **extra}


# ---- fast: no model --------------------------------------------------------------------------------


def test_stream_answer_shows_only_the_final_answer_on_stdout(capsys) -> None:
    """Drafts are not answers: nothing reaches stdout until the checked answer (or quote) is final."""
    from assistant.answering.types import Answer
    from assistant.cli.console import stream_answer

    seen: list[str] = []

    def items():
        yield "The roof "
        seen.append(capsys.readouterr().out)  # what reached stdout before the next piece was produced
        yield "is metal."
        seen.append(capsys.readouterr().out)
        yield Answer(question="q", text='Quote from a / b.pdf, page 1 [1]: "The roof is a steel deck."', citations=[],
                     sources=[], supported=False, declined=False, kind="quote", draft="The roof is metal.")

    answer = stream_answer(items())
    assert seen == ["", ""]
    assert capsys.readouterr().out == 'Quote from a / b.pdf, page 1 [1]: "The roof is a steel deck."\n'
    assert answer.kind == "quote"


def test_serve_sglang_dry_run_prints_the_exact_command(tmp_path) -> None:
    from assistant.cli.main import app

    model = tmp_path / "model"
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--backend", "sglang",
                                      "--model", str(model), "--port", "30001", "--api-key", "sekret",
                                      "--context-length", "4096", "--lora", "uw=/adapters/uw", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"{sys.executable} -m sglang.launch_server --model-path {model} --host 127.0.0.1 --port 30001 "
        "--schedule-policy lpm --enable-cache-report --enable-metrics "
        "--config '<private YAML file holding api-key: ***>' --context-length 4096 "
        "--enable-lora --lora-paths uw=/adapters/uw"
    )
    assert "sekret" not in result.output  # the key is never printed (nor on the real command line)


def test_serve_sglang_without_sglang_says_how_to_install(tmp_path) -> None:
    import importlib.util

    from assistant.cli.main import app

    if importlib.util.find_spec("sglang") is not None:
        pytest.skip("sglang is installed here")
    model = tmp_path / "model"
    model.mkdir()
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "serve", "--backend", "sglang",
                                      "--model", str(model)])
    assert result.exit_code == 2
    assert "pip install 'underwriter-assistant[sglang]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_rejects_bad_arguments(tmp_path) -> None:
    from assistant.cli.main import app

    runner = CliRunner()
    base = ["--workspace", str(tmp_path / "ws"), "serve"]
    for args, message in ((["--backend", "vllm"], "unknown backend"),
                          (["--backend", "sglang"], "needs --model"),
                          (["--backend", "sglang", "--model", "m", "--lora", "nodir"], "NAME=DIR"),
                          (["--context-length", "4096"], "sglang only")):
        result = runner.invoke(app, base + args)
        assert result.exit_code == 2 and message in result.stderr, (args, result.stderr)


# ---- in-process with the real model ------------------------------------------------------------------

@pytest.mark.slow
def test_ask_json(cli) -> None:
    result = cli("ask", OXYGEN, "--json", "-k", "2", "--max-tokens", "32")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1  # nothing streamed besides the one JSON document
    payload = json.loads(lines[0])
    assert payload["question"] == OXYGEN and payload["answer"] and not payload["declined"]
    assert payload["kind"] in ("answer", "quote") and payload["verified"] == (payload["kind"] == "answer")
    assert payload["model"] == "SmolLM2-135M-Instruct"
    assert 1 <= len(payload["sources"]) <= 2
    for citation in payload["citations"]:
        assert {"submission", "source", "file", "location", "chunk_id", "quote", "verified", "reason"} <= set(citation)
        assert citation["submission"] == "oakridge-senior-living"
        assert citation["chunk_id"] in {source["chunk_id"] for source in payload["sources"]}
    usage = payload["usage"]
    assert {"prompt_tokens", "cached_tokens", "completion_tokens", "time_to_first_token",
            "tokens_per_second"} <= set(usage)
    assert usage["prompt_tokens"] > 100 and usage["completion_tokens"] > 0


@pytest.mark.slow
def test_ask_prints_the_answer_then_its_sources(cli) -> None:
    result = cli("ask", OXYGEN, "-k", "2", "--max-tokens", "32")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    # What the user got, said plainly, and its sources with insured, file and page.
    assert "✓ verified" in result.stderr or "quoted, not answered" in result.stderr
    assert "Sources" in result.stdout and "oakridge-senior-living" in result.stdout and ", page " in result.stdout
    assert "prompt tokens" in result.stderr and "tokens/s" in result.stderr


@pytest.mark.slow
def test_ask_no_answer_path(cli) -> None:
    result = cli("ask", "What is the capital of France?")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == NO_ANSWER_TEXT
    assert "model was not asked" in result.stderr
    payload = json.loads(cli("ask", "Who won the 2018 World Cup?", "--json").stdout)
    assert payload["declined"] and payload["answer"] == NO_ANSWER_TEXT and payload["citations"] == []


@pytest.mark.slow
def test_ask_engine_http_against_the_local_server(cli, local_server) -> None:
    result = cli("ask", OXYGEN, "--engine", "http", "--url", local_server, "--json", "-k", "2", "--max-tokens", "16")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["model"] == "SmolLM2-135M-Instruct"  # as the server names it
    assert payload["answer"] and payload["usage"]["prompt_tokens"] > 100


@pytest.mark.slow
def test_chat_trims_history_to_fit(cli, sample_assistant) -> None:
    questions = [OXYGEN, "What kind of sprinkler system is in the Oakridge main building?",
                 "What property premium was offered to Oakridge Senior Living?"]
    max_tokens = 16
    answerer = sample_assistant().make_answerer()
    base = max(answerer.prepare(q, answerer.retrieve(q, k=2), [], max_tokens).prompt_tokens for q in questions)
    window = base + max_tokens + EVIDENCE_TOKENS + 20  # the quotes fit, one earlier exchange does not
    result = cli("chat", "-k", "2", "--max-tokens", str(max_tokens), "--context-window", str(window),
                 input="\n".join(questions) + "\n")
    assert result.exit_code == 0, result.output
    assert result.stderr.count("you>") == len(questions) + 1  # one prompt per question, then EOF
    # Trimming itself is tested on the answerer (tests/test_answering.py); here every answer fits the cap.
    for prompt in re.findall(r"(\d+) prompt tokens", result.stderr):
        assert int(prompt) + max_tokens <= window + 200  # + the room the copied quote takes
    assert result.stderr.count("prompt tokens") == len(questions)


# ---- real processes ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_ask_with_the_server_down_is_one_line_and_exit_2(sample_workspace, model_cache) -> None:
    port = free_port()
    result = subprocess.run(
        [*CLI, "--workspace", str(sample_workspace.workspace), "ask", OXYGEN, "--url", f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, timeout=300, env=cli_env(model_cache),
    )
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach model server at http://127.0.0.1:")
    assert result.stdout.strip() == ""


@pytest.mark.slow
def test_serve_local_with_api_key_then_ctrl_c(sample_workspace, model_cache, cli, monkeypatch) -> None:
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "--workspace", str(sample_workspace.workspace), "serve", "--backend", "local", "--port", str(port),
         "--api-key", "sekret"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(model_cache),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, server.communicate()[1]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the local server did not start"
            time.sleep(0.5)
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
        models = httpx.get(f"{url}/v1/models", headers={"Authorization": "Bearer sekret"}, timeout=10)
        assert models.status_code == 200 and models.json()["data"][0]["id"] == "SmolLM2-135M-Instruct"

        monkeypatch.setenv("ASSISTANT_API_KEY", "sekret")
        result = cli("ask", OXYGEN, "--url", url, "--json", "-k", "2", "--max-tokens", "12")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["usage"]["completion_tokens"] > 0
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            raise
    assert code == 0
    assert server.stderr is not None
    assert f"serving SmolLM2-135M-Instruct at {url}/v1" in server.stderr.read()

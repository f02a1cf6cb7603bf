"""The SGLang launcher: the exact command line, readiness polling, clean shutdown; the real SGLang on a GPU."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.engines import EngineError, GenerationRequest, generate
from assistant.serving.sglang import (
    INSTALL_HINT,
    KEY_FILE_PLACEHOLDER,
    launch_sglang,
    sglang_command,
    stop_process,
    wait_ready,
)
from tests.conftest import ROOT

HAS_SGLANG = importlib.util.find_spec("sglang") is not None


def documented_command() -> list[str]:
    """The command the README shows for `serve --backend sglang --dry-run` (the line under that bullet)."""
    import re
    import shlex

    readme = (ROOT / "README.md").read_text()
    lines = re.findall(r"^\s*(python -m sglang\.launch_server .*)$", readme, flags=re.M)
    assert len(lines) == 1, "the README shows the SGLang command once"
    return shlex.split(lines[0])


def test_the_dry_run_prints_the_command_the_readme_documents(cli) -> None:
    import shlex

    result = cli("serve", "--backend", "sglang", "--model", "models/tuned-awq", "--dry-run")
    assert result.exit_code == 0, result.output
    printed = shlex.split(result.stdout.strip().splitlines()[-1])
    assert printed[0] == sys.executable
    assert ["python", *printed[1:]] == documented_command()


def test_command_options() -> None:
    command = sglang_command(
        Path("/m"),
        host="0.0.0.0",
        port=31000,
        api_key="k3y",
        context_length=8192,
        lora={"underwriting": Path("/a/uw"), "claims": "/a/claims"},
    )
    assert command[0] == sys.executable
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "31000"
    assert "--api-key" not in command and not any("k3y" in part for part in command)  # ps would show it
    assert command[command.index("--config") + 1] == KEY_FILE_PLACEHOLDER
    assert command[command.index("--context-length") + 1] == "8192"
    lora_at = command.index("--lora-paths")
    assert command[lora_at - 1] == "--enable-lora"
    assert command[lora_at + 1 :] == ["underwriting=/a/uw", "claims=/a/claims"]
    assert not any("quantization" in part for part in command)
    assert "--disable-radix-cache" not in command


def test_optional_flags_are_left_out_when_not_given() -> None:
    command = sglang_command("/m", api_key=None, context_length=None, lora={})
    for flag in ("--api-key", "--context-length", "--enable-lora", "--lora-paths"):
        assert flag not in command


@pytest.mark.skipif(HAS_SGLANG, reason="sglang is installed here")
def test_missing_sglang_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as info:
        launch_sglang(tmp_path)
    assert INSTALL_HINT in str(info.value)
    assert "pip install 'underwriter-assistant[sglang]'" in str(info.value)


def _child(code: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    time.sleep(0.5)  # let it install its signal handlers
    return process


def test_stop_sends_sigint_first() -> None:
    process = _child("import signal, sys, time\nsignal.signal(signal.SIGINT, lambda *a: sys.exit(7))\ntime.sleep(60)\n")
    assert stop_process(process, grace=5) == 7


def test_stop_escalates_to_sigterm_then_sigkill() -> None:
    process = _child(
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    assert stop_process(process, grace=0.5) == -signal.SIGKILL
    assert time.monotonic() - started < 10


def test_wait_ready_notices_a_dead_process() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    process.wait()
    with pytest.raises(EngineError, match="exited with code 3"):
        wait_ready("http://127.0.0.1:9", process, timeout=5, interval=0.05)


def test_wait_ready_times_out() -> None:
    with pytest.raises(EngineError, match="not ready within"):
        wait_ready("http://127.0.0.1:9", None, timeout=0.3, interval=0.05)


@pytest.mark.slow
def test_wait_ready_returns_once_health_generate_answers(local_server: str) -> None:
    wait_ready(local_server, None, timeout=60, interval=0.05)


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not HAS_SGLANG, reason="needs sglang (pip install 'underwriter-assistant[sglang]')")
def test_real_sglang_serves_the_bundled_model_with_prefix_reuse(engine_settings, model_cache: Path) -> None:
    from assistant.engines.http import HttpEngine
    from assistant.engines.models import resolve_generator

    folder = resolve_generator("bundled:SmolLM2-135M-Instruct", model_cache)
    port = 30123
    context = "\n".join(f"[{n}] Clause {n}: flood deductible {n * 1000} USD per occurrence." for n in range(60))
    with launch_sglang(folder, port=port, context_length=4096, ready_timeout=900) as server:
        engine = HttpEngine(engine_settings, url=server.url)
        assert engine.health()
        assert engine.context_window == 4096

        def ask(question: str) -> GenerationRequest:
            content = f"Context:\n{context}\n\nQuestion: {question}"
            return GenerationRequest(messages=[{"role": "user", "content": content}], max_tokens=16)

        text, _ = generate(engine, ask("What is the deductible in clause 7?"))
        assert text.strip()
        _, second = generate(engine, ask("What is the deductible in clause 12?"))
        assert second.cached_tokens > 0.8 * second.prompt_tokens
    assert server.process.poll() is not None

"""Benchmark scale-out: sglang-router (cache_aware, and round_robin for contrast) in front of two local model
workers, against straight to one worker, on repeated-submission questions.

Each of the three sample submissions gets the production prompt layout (system prompt, its sources in
canonical order, the question last) and three questions, asked interleaved (A1 B1 C1 A2 B2 C2 ...), as a desk
of underwriters working three submissions would. Every configuration starts fresh workers
(`assistant serve --backend local`, the bundled 135M model, on 127.0.0.1) so no cache carries over. Figures:
prompt tokens served from cache on the repeat questions, time to first token (client side, through the
HTTP engine the application uses), and how the requests spread over the workers.

    .venv/bin/python benchmarks/router.py [--max-tokens 8] [--questions 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBMISSIONS = ("harbor-foods", "meridian-plastics", "oakridge-senior-living")
QUESTIONS = (
    "What sprinkler protection does the insured have?",
    "Summarize the loss history of this account.",
    "What recommendations did the underwriter make?",
    "How far is the nearest hydrant?",
)
CLI = [sys.executable, "-m", "assistant.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def submission_chunks(name: str, words_per_chunk: int = 60, count: int = 5) -> list:
    """The first `count` passages of a submission's underwriter notes, as retrieval would hand them over."""
    from assistant.grounding.sources import canonical_order
    from index.types import Chunk

    path = ROOT / "sample_docs" / name / "underwriter_notes.txt"
    words = path.read_text(encoding="utf-8").split()
    chunks = [Chunk(id=1000 * SUBMISSIONS.index(name) + n + 1, source=str(path), page=1, position=n,
                    text=" ".join(words[start:start + words_per_chunk]))
              for n, start in enumerate(range(0, len(words), words_per_chunk))]
    return canonical_order(chunks[:count])


def messages_for(submission: str, question: str) -> list[dict[str, str]]:
    from assistant.answering.prompts import build_messages

    return build_messages(question, submission_chunks(submission))


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker for {url} exited with code {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"the worker at {url} did not answer /health within {timeout:.0f} s")


@contextlib.contextmanager
def local_workers(count: int, model_cache: Path, workspace: Path, log_dir: Path | None = None) -> Iterator[list[str]]:
    """`count` `assistant serve --backend local` processes on free 127.0.0.1 ports; yields their URLs."""
    from assistant.serving.sglang import stop_process

    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_MODEL_CACHE": str(model_cache),
           "ASSISTANT_WORKSPACE": str(workspace), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started: list[tuple[str, subprocess.Popen]] = []
    try:
        for _ in range(count):
            port = free_port()
            log = open(log_dir / f"worker-{port}.log", "wb") if log_dir else subprocess.DEVNULL  # noqa: SIM115
            process = subprocess.Popen([*CLI, "serve", "--backend", "local", "--port", str(port)], env=env,
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            started.append((f"http://127.0.0.1:{port}", process))
        for url, process in started:
            wait_healthy(url, process)
        yield [url for url, _ in started]
    finally:
        for _, process in started:
            stop_process(process, grace=10)


def server_counters(url: str) -> dict:
    return httpx.get(f"{url}/server_info", timeout=10).json()


def run_questions(url: str, max_tokens: int, questions: int, model_cache: Path) -> list[dict]:
    """The interleaved questions through the application's HTTP engine at `url`; one row per request."""
    from assistant.engines.base import GenerationRequest
    from assistant.engines.http import HttpEngine
    from assistant.settings import load_settings

    engine = HttpEngine(load_settings(engine="http", http_url=url, model_cache=model_cache))
    rows = []
    for round_ in range(questions):
        for submission in SUBMISSIONS:
            request = GenerationRequest(messages=messages_for(submission, QUESTIONS[round_]), max_tokens=max_tokens)
            usage = None
            for event in engine.stream(request):
                usage = event.usage or usage
            assert usage is not None
            rows.append({"submission": submission, "round": round_, "prompt_tokens": usage.prompt_tokens,
                         "cached_tokens": usage.cached_tokens, "ttft_s": usage.time_to_first_token})
    engine.close()
    return rows


def summarize(label: str, rows: list[dict], spread: list[int]) -> dict:
    repeats = [row for row in rows if row["round"] > 0]
    prompt = sum(r["prompt_tokens"] for r in repeats)
    return {
        "config": label,
        "requests": len(rows),
        "repeat_cached_share": sum(r["cached_tokens"] for r in repeats) / max(1, prompt),
        "repeat_cached_tokens_mean": statistics.mean(r["cached_tokens"] for r in repeats),
        "first_ttft_median_s": statistics.median(r["ttft_s"] for r in rows if r["round"] == 0),
        "repeat_ttft_median_s": statistics.median(r["ttft_s"] for r in repeats),
        "completions_per_worker": spread,
    }


def measure(config: str, max_tokens: int, questions: int, model_cache: Path, workspace: Path) -> dict:
    from assistant.serving.router import launch_router

    if config == "direct":
        with local_workers(1, model_cache, workspace) as [worker]:
            rows = run_questions(worker, max_tokens, questions, model_cache)
            return summarize("straight to one worker", rows, [server_counters(worker)["completions"]])
    policy = config
    with local_workers(2, model_cache, workspace) as workers:
        port = free_port()
        with launch_router(workers, port=port, policy=policy, ready_timeout=120, metrics_port=free_port(),
                           log_path=workspace / f"router-{policy}.log"):
            rows = run_questions(f"http://127.0.0.1:{port}", max_tokens, questions, model_cache)
        spread = [server_counters(worker)["completions"] for worker in workers]
    return summarize(f"router {policy}, 2 workers", rows, spread)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--questions", type=int, default=3, help="questions per submission (at most 4)")
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".test-cache" / "models")
    parser.add_argument("--configs", default="direct,cache_aware,round_robin")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as workspace:
        for config in args.configs.split(","):
            result = measure(config, args.max_tokens, min(args.questions, len(QUESTIONS)), args.model_cache,
                             Path(workspace))
            results.append(result)
            print(json.dumps(result), flush=True)
    print("\n| configuration | requests | repeat questions: prompt tokens from cache | cached tokens (mean) "
          "| TTFT first question | TTFT repeat questions | completions per worker |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['config']} | {r['requests']} | {r['repeat_cached_share']:.0%} | "
              f"{r['repeat_cached_tokens_mean']:.0f} | {r['first_ttft_median_s'] * 1000:.0f} ms | "
              f"{r['repeat_ttft_median_s'] * 1000:.0f} ms | {' / '.join(map(str, r['completions_per_worker']))} |")


if __name__ == "__main__":
    main()

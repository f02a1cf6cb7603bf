"""Scale-out for real: sglang-router (cache_aware) in front of two `assistant serve --backend local` workers on
127.0.0.1, spoken to by the application's own HTTP engine. Two questions over one submission reach the same
worker, and the second is served from its prefix cache."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from assistant.engines.base import GenerationRequest
from assistant.serving.router import launch_router, parse_workers, router_command
from benchmarks.router import free_port, local_workers, messages_for, server_counters

pytestmark = pytest.mark.slow


def test_router_command_names_the_workers_and_policy_and_never_the_key() -> None:
    workers = ["http://127.0.0.1:31001", "http://127.0.0.1:31002/"]
    assert router_command(workers, "127.0.0.1", 31000, python="python") == [
        "python", "-m", "sglang_router.launch_router",
        "--worker-urls", "http://127.0.0.1:31001", "http://127.0.0.1:31002",
        "--policy", "cache_aware", "--host", "127.0.0.1", "--port", "31000",
        "--prometheus-host", "127.0.0.1", "--prometheus-port", "31001",
    ]  # fmt: skip
    keyed = router_command(workers, with_key=True)
    assert keyed[1:3] == ["-m", "assistant.serving.router"] and "--api-key" not in keyed
    assert parse_workers(["http://a:1,http://b:2", "http://c:3"]) == ["http://a:1", "http://b:2", "http://c:3"]
    with pytest.raises(ValueError, match="twice"):
        parse_workers(["http://a:1", "http://a:1/"])
    with pytest.raises(ValueError, match="policy"):
        router_command(workers, policy="fastest")


def test_serve_router_dry_run_keeps_the_key_off_the_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "assistant.cli", "serve", "--backend", "router", "--workers",
                             "http://127.0.0.1:31001,http://127.0.0.1:31002", "--api-key", "s3cret-key", "--dry-run"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--worker-urls http://127.0.0.1:31001 http://127.0.0.1:31002" in result.stdout
    assert "s3cret-key" not in result.stdout + result.stderr
    bad = subprocess.run([sys.executable, "-m", "assistant.cli", "serve", "--backend", "router", "--dry-run"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "at least one worker" in bad.stderr


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, model_cache):
    """Two local workers and the router in front of them, all on 127.0.0.1."""
    workspace = tmp_path_factory.mktemp("router-workspace")
    with local_workers(2, model_cache, workspace) as workers:
        port = free_port()
        with launch_router(workers, port=port, policy="cache_aware", ready_timeout=120, metrics_port=free_port(),
                           log_path=workspace / "router.log") as router:
            yield router


def test_a_local_worker_answers_what_the_router_asks(fleet) -> None:
    worker = fleet.workers[0]
    for path in ("/server_info", "/get_server_info"):
        info = httpx.get(f"{worker}{path}", timeout=10).json()
        assert info["served_model_name"] == "SmolLM2-135M-Instruct" and info["worker_id"] == worker.removeprefix(
            "http://")
        assert info["model_path"].endswith("SmolLM2-135M-Instruct")
    for path in ("/model_info", "/get_model_info"):
        info = httpx.get(f"{worker}{path}", timeout=10).json()
        assert info["is_generation"] is True and info["architectures"] == ["LlamaForCausalLM"]
    assert httpx.get(f"{worker}/health_generate", timeout=60).status_code == 200
    listed = httpx.get(f"{fleet.url}/workers", timeout=10).json()["workers"]
    assert {entry["url"] for entry in listed} == set(fleet.workers) and all(e["is_healthy"] for e in listed)
    models = httpx.get(f"{fleet.url}/v1/models", timeout=10).json()["data"]
    assert models[0]["id"] == "SmolLM2-135M-Instruct"  # learned from the workers


def test_two_questions_over_one_submission_reach_the_same_worker_and_reuse_its_cache(fleet, model_cache) -> None:
    from assistant.engines.http import HttpEngine
    from assistant.settings import load_settings

    before = {worker: server_counters(worker)["completions"] for worker in fleet.workers}
    engine = HttpEngine(load_settings(engine="http", http_url=fleet.url, model_cache=model_cache))
    usages = []
    for question in ("What sprinkler protection does the insured have?",
                     "What recommendations did the underwriter make?"):
        request = GenerationRequest(messages=messages_for("harbor-foods", question), max_tokens=6)
        events = list(engine.stream(request))
        assert "".join(event.text for event in events).strip()
        usages.append(next(event.usage for event in events if event.usage is not None))
    engine.close()
    served = {worker: server_counters(worker)["completions"] - before[worker] for worker in fleet.workers}
    assert sorted(served.values()) == [0, 2], served  # both on one worker
    assert usages[0].prompt_tokens > 300
    assert usages[1].cached_tokens > 0.5 * usages[1].prompt_tokens, usages  # the submission's prefix, reused

    # Each response names its worker: the router passes the header through.
    body = {"messages": messages_for("harbor-foods", "How far is the nearest hydrant?"), "max_tokens": 2}
    response = httpx.post(f"{fleet.url}/v1/chat/completions", json=body, timeout=120)
    chosen = next(worker for worker, count in served.items() if count == 2)
    assert response.status_code == 200 and response.headers["x-worker-id"] == chosen.removeprefix("http://")

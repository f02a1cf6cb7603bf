"""Our OpenAI-compatible server over the real embedded engine, spoken to over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow

CONTEXT = "\n\n".join(
    f"[{n}] Inspection report {n}: roof of the Harbor Foods warehouse bay {n} is {10 + n} years old, "
    f"membrane in fair condition, {n} skylights, no ponding observed."
    for n in range(1, 8)
)


def chat(question: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "default",
        "messages": [
            {"role": "system", "content": "You are an underwriting assistant. Answer from the context."},
            {"role": "user", "content": f"Context:\n{CONTEXT}\n\nQuestion: {question}"},
        ],
        "max_tokens": 20,
        "temperature": 0,
        **extra,
    }


def sse_payloads(response: httpx.Response) -> list[str]:
    return [line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")]


def post(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json=body, timeout=120, **kwargs)


def test_binds_loopback(local_server: str) -> None:
    assert local_server.startswith("http://127.0.0.1:")


def test_non_streaming_completion(local_server: str) -> None:
    response = post(local_server, chat("How old is the roof of bay 3?"))
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["id"].startswith("chatcmpl-")
    assert data["model"] == "SmolLM2-135M-Instruct"
    choice = data["choices"][0]
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] in {"stop", "length"}
    usage = data["usage"]
    assert usage["prompt_tokens"] > 200
    assert 0 < usage["completion_tokens"] <= 20
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert isinstance(usage["prompt_tokens_details"]["cached_tokens"], int)


def test_stream_matches_the_whole_answer_and_ends_with_done(local_server: str) -> None:
    body = chat("How many skylights does bay 5 have?")
    whole = post(local_server, body).json()
    response = post(local_server, {**body, "stream": True, "stream_options": {"include_usage": True}})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    payloads = sse_payloads(response)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == whole["choices"][0]["message"]["content"]
    assert len([c for c in chunks if c["choices"] and c["choices"][0]["delta"].get("content")]) > 1
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == whole["choices"][0]["finish_reason"]
    # The usage chunk comes last, with no choices; the others carry usage: null.
    assert chunks[-1]["choices"] == []
    usage = chunks[-1]["usage"]
    assert usage["completion_tokens"] == whole["usage"]["completion_tokens"]
    assert usage["prompt_tokens"] == whole["usage"]["prompt_tokens"]
    assert all(c["usage"] is None for c in chunks[:-1])


def test_stream_without_include_usage_has_no_usage(local_server: str) -> None:
    response = post(local_server, {**chat("Is there ponding on the roof?", max_tokens=4), "stream": True})
    payloads = sse_payloads(response)
    assert payloads[-1] == "[DONE]"
    assert all("usage" not in json.loads(p) for p in payloads[:-1])


def test_second_call_over_the_same_context_reports_cached_tokens(local_server: str) -> None:
    context_body = chat("What is the membrane condition in bay 2?")
    context_body["messages"][1]["content"] = context_body["messages"][1]["content"].replace("fair", "good")
    first = post(local_server, context_body).json()
    second_body = json.loads(json.dumps(context_body))
    second_body["messages"][1]["content"] = second_body["messages"][1]["content"].replace(
        "membrane condition in bay 2", "roof age of bay 6"
    )
    second = post(local_server, second_body).json()
    assert first["usage"]["prompt_tokens_details"]["cached_tokens"] < 0.5 * first["usage"]["prompt_tokens"]
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert cached > 0.8 * second["usage"]["prompt_tokens"]


def test_stop_strings(local_server: str) -> None:
    body = chat("Describe the roof of bay 1.", max_tokens=30)
    full = post(local_server, body).json()["choices"][0]["message"]["content"]
    word = full.split()[2]
    stopped = post(local_server, {**body, "stop": word}).json()
    assert stopped["choices"][0]["message"]["content"] == full[: full.index(word)]
    assert stopped["choices"][0]["finish_reason"] == "stop"


def test_models_and_health(local_server: str) -> None:
    models = httpx.get(f"{local_server}/v1/models").json()
    assert models["object"] == "list"
    assert models["data"][0]["id"] == "SmolLM2-135M-Instruct"
    assert models["data"][0]["max_model_len"] == 8192
    assert httpx.get(f"{local_server}/health").status_code == 200
    response = httpx.get(f"{local_server}/health_generate", timeout=60)
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"messages": []}, "messages", "at least 1"),
        ({"max_tokens": 5}, "messages", "required"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages.0.role", "role"),
        ({"messages": [{"role": "user", "content": "hi"}], "temperature": 9}, "temperature", "temperature"),
        ({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "max_tokens", "max_tokens"),
        ({"messages": [{"role": "user", "content": "hi"}], "n": 3}, "n", "n"),
        ({"messages": [{"role": "user", "content": 42}]}, "messages.0.content", "content"),
    ],
)
def test_invalid_requests_get_openai_errors(local_server: str, body: dict, param: str, words: str) -> None:
    response = post(local_server, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"].startswith(param)
    assert words in error["message"]


def test_malformed_json_is_a_400(local_server: str) -> None:
    response = httpx.post(
        f"{local_server}/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_prompt_longer_than_the_context_window_is_a_400(local_server: str) -> None:
    response = post(local_server, {"messages": [{"role": "user", "content": "loss " * 9000}]})
    assert response.status_code == 400
    assert "maximum context length is 8192 tokens" in response.json()["error"]["message"]


def test_text_parts_are_accepted(local_server: str) -> None:
    body = {"messages": [{"role": "user", "content": [{"type": "text", "text": "Say OK."}]}], "max_tokens": 3}
    response = post(local_server, body)
    assert response.status_code == 200
    assert response.json()["usage"]["completion_tokens"] > 0


def test_unknown_route_is_an_openai_style_404(local_server: str) -> None:
    response = httpx.get(f"{local_server}/v1/nothing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Not Found"

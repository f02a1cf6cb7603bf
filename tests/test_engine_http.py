"""The HTTP engine against real servers on 127.0.0.1: our own server over the embedded engine, and a small
stand-in speaking SGLang's wire format where SGLang's own behaviour (no cached_tokens field, errors,
stalls) is needed; SGLang itself needs a GPU."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from assistant.engines import EngineError, GenerationRequest, build_engine, generate
from assistant.engines.http import HttpEngine
from assistant.serving.server import start_in_thread

CONTEXT = "\n\n".join(
    f"[{n}] Loss run, policy year {2015 + n}: {n} claims, largest a water damage loss of {n * 41_000} USD "
    f"at the Harbor Foods warehouse; reserves closed."
    for n in range(1, 8)
)


def messages(question: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": "You are an underwriting assistant. Answer from the context."},
        {"role": "user", "content": f"Context:\n{CONTEXT}\n\nQuestion: {question}"},
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(engine_settings):
    return engine_settings.model_copy(update={"connect_timeout": 2.0, "read_timeout": 10.0})


# --- against our own server -------------------------------------------------------------------------


@pytest.mark.slow
def test_http_engine_streams_what_the_embedded_engine_generates(local_server: str, settings, embedded_engine) -> None:
    engine = build_engine("http", settings.model_copy(update={"http_url": local_server}))
    assert isinstance(engine, HttpEngine)
    request = GenerationRequest(messages=messages("How many claims were there in policy year 2019?"), max_tokens=24)

    events = list(engine.stream(request))
    text = "".join(e.text for e in events)
    usage = events[-1].usage
    expected, local_usage = generate(embedded_engine.variant(enable_prefix_cache=False), request)
    assert text == expected
    assert len([e for e in events if e.text]) > 1
    assert usage.prompt_tokens == embedded_engine.count_tokens(request.messages)
    assert usage.completion_tokens == local_usage.completion_tokens
    assert 0 < usage.time_to_first_token <= usage.total_time
    assert events[-1].finish_reason in {"stop", "length"}

    # Same context, another question: the server reports the reused prefix.
    _, second = generate(engine, GenerationRequest(messages=messages("What was the largest loss in 2021?")))
    assert second.cached_tokens > 0.8 * second.prompt_tokens


@pytest.mark.slow
def test_http_engine_reads_model_facts_from_the_server(local_server: str, settings, embedded_engine) -> None:
    engine = HttpEngine(settings, url=local_server)
    assert engine.health()
    assert engine.model_id() == embedded_engine.model_id()
    assert engine.context_window == 8192
    assert engine.count_tokens(messages("x")) == embedded_engine.count_tokens(messages("x"))
    assert engine.special_tokens() == embedded_engine.special_tokens()


@pytest.mark.slow
def test_http_error_status_surfaces_the_server_message(local_server: str, settings) -> None:
    engine = HttpEngine(settings, url=local_server)
    too_long = GenerationRequest(messages=[{"role": "user", "content": "claim " * 9000}], max_tokens=4)
    with pytest.raises(EngineError) as info:
        generate(engine, too_long)
    message = str(info.value)
    assert "HTTP 400" in message and "maximum context length is 8192 tokens" in message
    assert "\n" not in message

    bad = GenerationRequest(messages=[{"role": "user", "content": "hi"}], temperature=7.0)
    with pytest.raises(EngineError, match=r"HTTP 400.*temperature"):
        generate(engine, bad)


QUOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "quote": {"enum": ["bind", "decline", "refer"]},
        "claims_2019": {"type": "integer", "minimum": 0, "maximum": 99},
    },
    "required": ["quote", "claims_2019"],
}


@pytest.mark.slow
def test_constrained_requests_round_trip_through_our_server(local_server: str, settings) -> None:
    engine = HttpEngine(settings, url=local_server)
    question = messages("How many claims were there in policy year 2019? Answer in JSON.")
    text, usage = generate(engine, GenerationRequest(messages=question, max_tokens=40, json_schema=QUOTE_SCHEMA))
    answer = json.loads(text)
    jsonschema.validate(answer, QUOTE_SCHEMA)
    assert usage.completion_tokens > 0
    text, _ = generate(engine, GenerationRequest(messages=question, max_tokens=8, regex=r"\d{1,2} claims"))
    assert re.fullmatch(r"\d{1,2} claims", text), text
    with pytest.raises(EngineError, match=r"HTTP 400.*invalid regex"):
        generate(engine, GenerationRequest(messages=question, max_tokens=4, regex="(unclosed"))


@pytest.mark.slow
def test_api_key_is_sent_as_bearer_token(embedded_engine, settings) -> None:
    url, stop = start_in_thread(embedded_engine, api_key="s3cret")
    try:
        request = GenerationRequest(messages=[{"role": "user", "content": "Hi"}], max_tokens=2)
        with pytest.raises(EngineError, match=r"HTTP 401.*API key"):
            generate(HttpEngine(settings, url=url, api_key="wrong"), request)
        _, usage = generate(HttpEngine(settings, url=url, api_key="s3cret"), request)
        assert usage.completion_tokens > 0
        # One key check for the whole server: only /health stays open (for probes), as on SGLang.
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
        assert httpx.get(f"{url}/openapi.json", timeout=10).status_code == 401
    finally:
        stop()


def test_server_down_is_one_line_error(settings) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    engine = HttpEngine(settings, url=url)
    with pytest.raises(EngineError) as info:
        generate(engine, GenerationRequest(messages=[{"role": "user", "content": "hi"}]))
    message = str(info.value)
    assert message.startswith(f"cannot reach model server at {url}: ")
    assert "\n" not in message
    assert not engine.health()
    assert engine.context_window == 8192  # the default when /v1/models cannot be read


def test_count_tokens_estimates_without_a_local_tokenizer(settings, tmp_path: Path) -> None:
    engine = HttpEngine(settings.model_copy(update={"generator_model": str(tmp_path / "absent")}))
    msgs = [{"role": "user", "content": "x" * 400}]
    assert engine.count_tokens(msgs) == 400 // 4 + 4 + 3


# --- against a stand-in with SGLang's wire format -----------------------------------------------------


class StandIn:
    """A tiny OpenAI-compatible server: answers per `mode`, records what it received."""

    def __init__(self) -> None:
        self.mode = "sglang-no-cache-field"
        self.models_status = 200
        self.requests: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/v1/models" and stand_in.models_status != 200:
                    self._json(stand_in.models_status, {"object": "error", "message": "loading"})
                elif self.path == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": "tuned", "max_model_len": 4096}]})
                else:
                    self._json(200, {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.requests.append({"headers": dict(self.headers), "body": body})
                mode = stand_in.mode
                if mode == "error":
                    self._json(503, {"object": "error", "message": "The server is overloaded, retry later."})
                    return
                if mode == "stall":
                    time.sleep(3)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for payload in stand_in.events(mode):
                    self.wfile.write(f"data: {payload}\n\n".encode())
                    self.wfile.flush()

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (the timeout test) is expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def events(self, mode: str) -> Iterator[str]:
        def chunk(**fields: Any) -> str:
            return json.dumps({"id": "1", "object": "chat.completion.chunk", "model": "tuned", **fields})

        yield chunk(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in ("Sprinklers ", "are ", "wet-pipe."):
            yield chunk(choices=[{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        if mode == "midstream-error":
            yield json.dumps({"error": {"message": "KV cache pool exhausted"}})
            return
        yield chunk(choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
        usage: dict[str, Any] = {"prompt_tokens": 50, "completion_tokens": 3, "total_tokens": 53}
        if mode == "sglang-null-details":
            usage["prompt_tokens_details"] = None
        elif mode == "sglang-cached":
            usage["prompt_tokens_details"] = {"cached_tokens": 48}
        yield chunk(choices=[], usage=usage)
        yield "[DONE]"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.close()


@pytest.mark.parametrize(
    ("mode", "cached"), [("sglang-no-cache-field", 0), ("sglang-null-details", 0), ("sglang-cached", 48)]
)
def test_cached_tokens_absent_or_null_means_zero(stand_in: StandIn, settings, mode: str, cached: int) -> None:
    stand_in.mode = mode
    engine = HttpEngine(settings, url=stand_in.url, model="tuned", api_key="k")
    text, usage = generate(engine, GenerationRequest(messages=[{"role": "user", "content": "q"}], stop=["\n\n"]))
    assert text == "Sprinklers are wet-pipe."
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (50, 3, cached)
    sent = stand_in.requests[-1]
    assert sent["body"]["stream"] is True
    assert sent["body"]["stream_options"] == {"include_usage": True}
    assert sent["body"]["model"] == "tuned"
    assert sent["body"]["stop"] == ["\n\n"]
    assert sent["headers"]["Authorization"] == "Bearer k"
    assert engine.context_window == 4096  # max_model_len from /v1/models


@pytest.mark.parametrize(
    ("fields", "sent"),
    [
        (
            {"json_schema": QUOTE_SCHEMA},
            {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": QUOTE_SCHEMA}}},
        ),
        ({"json_object": True}, {"response_format": {"type": "json_object"}}),
        ({"regex": r"\d{3}-\d{4}"}, {"regex": r"\d{3}-\d{4}"}),
        ({}, {}),
    ],
)
def test_constraints_are_sent_as_sglang_takes_them(stand_in: StandIn, settings, fields: dict, sent: dict) -> None:
    engine = HttpEngine(settings, url=stand_in.url)
    generate(engine, GenerationRequest(messages=[{"role": "user", "content": "q"}], **fields))
    body = stand_in.requests[-1]["body"]
    assert {key: body[key] for key in ("response_format", "regex") if key in body} == sent


def test_two_constraints_at_once_are_refused_before_sending(stand_in: StandIn, settings) -> None:
    engine = HttpEngine(settings, url=stand_in.url)
    request = GenerationRequest(messages=[{"role": "user", "content": "q"}], json_object=True, regex="a+")
    with pytest.raises(EngineError, match="at most one"):
        generate(engine, request)
    assert stand_in.requests == []


def test_context_window_setting_wins_over_the_server(stand_in: StandIn, settings) -> None:
    engine = HttpEngine(settings.model_copy(update={"http_context_window": 2048}), url=stand_in.url)
    assert engine.context_window == 2048
    assert HttpEngine(settings, url=stand_in.url, context_window=1024).context_window == 1024


def test_context_window_is_asked_again_after_the_server_failed_to_say(stand_in: StandIn, settings) -> None:
    stand_in.models_status = 503
    engine = HttpEngine(settings, url=stand_in.url)
    assert engine.context_window == 8192  # the default, not kept
    stand_in.models_status = 200
    assert engine.context_window == 4096
    assert engine.model_id() == "tuned"


def test_server_error_message_is_surfaced(stand_in: StandIn, settings) -> None:
    stand_in.mode = "error"
    with pytest.raises(EngineError, match=r"HTTP 503: The server is overloaded, retry later\.$"):
        generate(HttpEngine(settings, url=stand_in.url), GenerationRequest(messages=[{"role": "user", "content": "q"}]))


def test_error_event_in_the_stream_is_raised(stand_in: StandIn, settings) -> None:
    stand_in.mode = "midstream-error"
    with pytest.raises(EngineError, match="KV cache pool exhausted"):
        generate(HttpEngine(settings, url=stand_in.url), GenerationRequest(messages=[{"role": "user", "content": "q"}]))


def test_read_timeout_is_an_engine_error(stand_in: StandIn, settings) -> None:
    stand_in.mode = "stall"
    engine = HttpEngine(settings.model_copy(update={"read_timeout": 0.5}), url=stand_in.url)
    with pytest.raises(EngineError, match="timed out"):
        generate(engine, GenerationRequest(messages=[{"role": "user", "content": "q"}]))


def test_another_served_model_is_not_counted_with_the_local_tokenizer(stand_in: StandIn, settings) -> None:
    """The stand-in serves "tuned", which is not on this machine: its tokens are estimated, not counted with
    the bundled generator's tokenizer (which would count another model's tokens)."""
    engine = HttpEngine(settings, url=stand_in.url)
    msgs = [{"role": "user", "content": "x" * 400}]
    assert engine.count_tokens(msgs) == 400 // 4 + 4 + 3
    assert engine.special_tokens() == []


def test_model_id_comes_from_the_server_when_not_configured(stand_in: StandIn, settings) -> None:
    assert HttpEngine(settings, url=stand_in.url).model_id() == "tuned"
    assert HttpEngine(settings, url=stand_in.url, model="base:adapter").model_id() == "base:adapter"

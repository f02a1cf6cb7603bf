"""Our own OpenAI-compatible server over any Engine (FastAPI + uvicorn), bound to 127.0.0.1 by default.

Serves what the HTTP engine and SGLang clients use: `POST /v1/chat/completions` (streamed as
server-sent events ending in `data: [DONE]`, or whole), `GET /v1/models`, `GET /health` and
`GET /health_generate`. Usage carries `prompt_tokens_details.cached_tokens` as SGLang reports it.
What sglang-router asks of a worker is here too (`assistant.serving.router`): `/server_info` and
`/model_info` (and their older names `/get_server_info`, `/get_model_info`) name the model, its folder and
tokenizer; every response carries `X-Worker-Id`, and `/server_info` counts the completions this worker
served and their prompt and cached tokens, so a test can see which worker a router chose.
Structured output as OpenAI and SGLang take it: `response_format` of type `text`, `json_object` or
`json_schema` (`{"name": ..., "schema": {...}, "strict": ...}`), or SGLang's top-level `regex`.
Bad requests (an invalid schema or regex among them) get OpenAI-style JSON errors with status 400.
"""

from __future__ import annotations

import hmac
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.engines import grammar
from assistant.engines.base import Engine, EngineError, GenerationRequest, Usage

DEFAULT_HOST = "127.0.0.1"


class TextPart(BaseModel):
    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


class StreamOptions(BaseModel):
    include_usage: bool = False


class BadParameter(ValueError):
    """A request that is well formed but cannot be served as asked."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str | None = None
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None  # accepted; the schema is always enforced


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(default=1, ge=1, le=1)
    response_format: ResponseFormat | None = None
    regex: str | None = None  # SGLang's extension: the answer matches this regular expression

    def constraint(self) -> dict[str, Any]:
        """The structured-output fields of the GenerationRequest; a contradiction raises BadParameter."""
        fmt = self.response_format
        given: dict[str, Any] = {}
        if fmt is not None and fmt.type == "json_object":
            given["json_object"] = True
        elif fmt is not None and fmt.type == "json_schema":
            if fmt.json_schema is None or fmt.json_schema.schema_ is None:
                raise BadParameter(
                    "response_format.json_schema.schema is required for type json_schema", "response_format.json_schema"
                )
            given["json_schema"] = fmt.json_schema.schema_
        if self.regex is not None:
            if given:
                raise BadParameter(
                    "give either response_format (json_object or json_schema) or regex, not both", "regex"
                )
            given["regex"] = self.regex
        return given


def usage_json(usage: Usage) -> dict[str, Any]:
    """OpenAI usage, with SGLang's cached-token report."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    }


class WorkerCounters:
    """Completions served and their prompt and cached tokens, since start (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.completions = 0
        self.prompt_tokens = 0
        self.cached_tokens = 0

    def add(self, usage: Usage) -> None:
        with self._lock:
            self.completions += 1
            self.prompt_tokens += usage.prompt_tokens
            self.cached_tokens += usage.cached_tokens

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {"completions": self.completions, "prompt_tokens": self.prompt_tokens,
                    "cached_tokens": self.cached_tokens}


def _model_config(folder: Any) -> dict[str, Any]:
    """The model folder's config.json ({} when there is none)."""
    if not folder:
        return {}
    try:
        with open(os.path.join(str(folder), "config.json")) as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def error_json(
    message: str, status: int, kind: str = "invalid_request_error", param: str | None = None
) -> JSONResponse:
    """An OpenAI-style error body."""
    return JSONResponse(
        status_code=status, content={"error": {"message": message, "type": kind, "param": param, "code": status}}
    )


def create_app(
    engine: Engine,
    *,
    api_key: str | None = None,
    default_max_tokens: int = 256,
    default_temperature: float = 0.0,
    worker_id: str | None = None,
) -> FastAPI:
    """The FastAPI application serving `engine`; with `api_key`, every request but `/health` (left open for
    probes, as SGLang does) needs `Authorization: Bearer KEY`, compared in constant time. The one key check.
    `worker_id` names this server in `X-Worker-Id` and `/server_info` (default: host name and process id)."""
    app = FastAPI(title="Underwriter Assistant model server", docs_url=None, redoc_url=None)
    created = int(time.time())
    worker = worker_id or f"{socket.gethostname()}:{os.getpid()}"
    counters = WorkerCounters()

    @app.middleware("http")
    async def _name_worker(request: Request, call_next: Callable[[Request], Any]) -> Any:
        response = await call_next(request)
        response.headers["X-Worker-Id"] = worker
        return response

    if api_key:
        expected = f"Bearer {api_key}".encode()

        @app.middleware("http")
        async def _check_key(request: Request, call_next: Callable[[Request], Any]) -> Any:
            given = request.headers.get("authorization", "").encode()
            if request.url.path != "/health" and not hmac.compare_digest(given, expected):
                return error_json("invalid or missing API key", 401, "authentication_error")
            return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        param = None
        for error in exc.errors():
            if error.get("type") == "json_invalid":
                reason = (error.get("ctx") or {}).get("error", "parse error")
                problems.append(f"the request body is not valid JSON ({reason})")
                continue
            loc = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            param = param or loc or None
            problems.append(f"{loc}: {error.get('msg')}" if loc else str(error.get("msg")))
        return error_json("; ".join(problems) or "invalid request", 400, param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return error_json(str(exc.detail), exc.status_code, kind)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health_generate", response_model=None)
    def health_generate() -> dict[str, str] | JSONResponse:
        request = GenerationRequest(messages=[{"role": "user", "content": "ping"}], max_tokens=1)
        try:
            for _ in engine.stream(request):
                pass
        except EngineError as exc:
            return error_json(str(exc), 503, "server_error")
        return {"status": "ok"}

    def folder() -> str:
        return str(getattr(engine, "folder", "") or engine.model_id())

    @app.get("/server_info")
    @app.get("/get_server_info")
    def server_info() -> dict[str, Any]:
        """As SGLang's, the fields sglang-router reads, and this worker's counters."""
        return {"model_path": folder(), "tokenizer_path": folder(), "served_model_name": engine.model_id(),
                "context_length": engine.context_window, "max_total_num_tokens": engine.context_window,
                "dp_size": 1, "max_running_requests": 1, "version": "underwriter-assistant",
                "worker_id": worker, **counters.snapshot()}

    @app.get("/model_info")
    @app.get("/get_model_info")
    def model_info() -> dict[str, Any]:
        config = _model_config(getattr(engine, "folder", None))
        return {"model_path": folder(), "tokenizer_path": folder(), "is_generation": True,
                "model_type": config.get("model_type"), "architectures": config.get("architectures")}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": engine.model_id(),
                    "object": "model",
                    "created": created,
                    "owned_by": "underwriter-assistant",
                    "root": str(getattr(engine, "folder", "") or engine.model_id()),  # its path, as SGLang says
                    "max_model_len": engine.context_window,
                }
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    def chat_completions(body: ChatCompletionRequest) -> JSONResponse | StreamingResponse:
        messages = [{"role": m.role if m.role != "developer" else "system", "content": m.text()} for m in body.messages]
        stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
        try:
            constraint = body.constraint()
        except BadParameter as exc:
            return error_json(str(exc), 400, param=exc.param)
        request = GenerationRequest(
            messages=messages,
            max_tokens=body.max_completion_tokens or body.max_tokens or default_max_tokens,
            temperature=default_temperature if body.temperature is None else body.temperature,
            stop=stops,
            **constraint,
        )
        try:
            grammar.check(request)  # a bad schema or regex is the client's error, before any stream starts
        except EngineError as exc:
            return error_json(str(exc), 400, param="regex" if request.regex is not None else "response_format")
        try:
            prompt_tokens = engine.count_tokens(messages)
        except EngineError as exc:
            return error_json(str(exc), 400, param="messages")
        window = engine.context_window
        if prompt_tokens >= window:
            return error_json(
                f"This model's maximum context length is {window} tokens. However, your messages "
                f"resulted in {prompt_tokens} tokens.",
                400,
                param="messages",
            )
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"
        model = engine.model_id()
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            events = _sse_events(engine, request, completion_id, model, include_usage, counters.add)
            return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        parts: list[str] = []
        usage = Usage()
        finish = "stop"
        try:
            for event in engine.stream(request):
                parts.append(event.text)
                if event.usage is not None:
                    usage = event.usage
                    finish = event.finish_reason or finish
        except EngineError as exc:
            return error_json(str(exc), 500, "server_error")
        counters.add(usage)
        return JSONResponse(
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(parts)},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": usage_json(usage),
            }
        )

    return app


def _sse_events(
    engine: Engine, request: GenerationRequest, completion_id: str, model: str, include_usage: bool,
    on_usage: Callable[[Usage], None] = lambda usage: None,
) -> Iterator[str]:
    """The chunks of one streamed completion, as server-sent events."""
    created = int(time.time())

    def chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> str:
        payload: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            payload["usage"] = None
        payload.update(extra)
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    stream = engine.stream(request)
    try:
        for event in stream:
            if event.text:
                yield chunk({"content": event.text})
            if event.usage is not None:
                on_usage(event.usage)
                yield chunk({}, event.finish_reason or "stop")
                if include_usage:
                    yield chunk(None, usage=usage_json(event.usage))
    except EngineError as exc:
        error = {"message": str(exc), "type": "server_error", "param": None, "code": 500}
        yield f"data: {json.dumps({'error': error})}\n\n"
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    yield "data: [DONE]\n\n"


def start_in_thread(
    engine: Engine,
    port: int = 0,
    host: str = DEFAULT_HOST,
    *,
    api_key: str | None = None,
    log_level: str = "warning",
) -> tuple[str, Callable[[], None]]:
    """Start the server in a background thread (port 0: a free one); return its base URL and a stop function."""
    return serve_in_thread(create_app(engine, api_key=api_key), port, host, log_level=log_level)


def serve_in_thread(
    app: Any, port: int = 0, host: str = DEFAULT_HOST, *, log_level: str = "warning", name: str = "assistant-server"
) -> tuple[str, Callable[[], None]]:
    """Serve any ASGI `app` with uvicorn in a background thread (port 0: a free one); its base URL and a stop."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise EngineError(f"the server did not start on {host}:{bound_port}")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()

    return f"http://{host}:{bound_port}", stop

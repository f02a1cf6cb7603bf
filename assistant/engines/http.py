"""The HTTP engine: a client for any OpenAI-compatible chat server (SGLang in production).

Owns the wire protocol: streamed `/v1/chat/completions` (server-sent events ending in `[DONE]`),
usage with SGLang's `prompt_tokens_details.cached_tokens` (absent or null means 0), client-side time
to first token, structured output sent as SGLang takes it (`response_format` with a JSON schema or
`json_object`, or a top-level `regex`), and turning transport and HTTP failures into one-line `EngineError`s.
The context window is the `http_context_window` setting, else the served model's `max_model_len` from
`/v1/models` (SGLang reports it there), else 8,192 tokens; tokens are counted with the served model's own
tokenizer when its folder is on this machine, else estimated.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from assistant.engines.base import EngineError, GenerationRequest, StreamEvent, Usage, tokenizer_special_tokens
from assistant.engines.grammar import constraint

if TYPE_CHECKING:
    from assistant.settings import Settings

DEFAULT_CONTEXT_WINDOW = 8192


class HttpEngine:
    """Streams chat completions from an OpenAI-compatible server."""

    name = "http"

    def __init__(
        self,
        settings: Settings,
        *,
        url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        context_window: int | None = None,
    ) -> None:
        self.settings = settings
        self.url = (url or settings.http_url).rstrip("/")
        self.model = model or settings.http_model
        self.api_key = api_key if api_key is not None else settings.api_key
        self._context_window = context_window or settings.http_context_window
        self.timeout = httpx.Timeout(
            settings.read_timeout, connect=settings.connect_timeout, pool=settings.connect_timeout
        )
        self._client = httpx.Client(timeout=self.timeout, headers=self._headers())
        self._tokenizer: Any = None
        self._tokenizer_tried = False
        self._served: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def close(self) -> None:
        self._client.close()

    # --- Engine protocol -------------------------------------------------------------------------

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.stop:
            body["stop"] = request.stop
        body.update(_constraint_fields(request))
        started = time.perf_counter()
        first_text_at: float | None = None
        usage_data: dict[str, Any] | None = None
        finish: str | None = None
        pieces = 0
        endpoint = f"{self.url}/v1/chat/completions"
        try:
            with self._client.stream("POST", endpoint, json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    raise EngineError(_http_error(self.url, response))
                for data in _sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        break
                    chunk = _json(data, self.url)
                    if chunk.get("error"):
                        raise EngineError(_one_line(f"model server at {self.url}: {_error_text(chunk)}"))
                    if chunk.get("usage"):
                        usage_data = chunk["usage"]
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content") or ""
                        if text:
                            if first_text_at is None:
                                first_text_at = time.perf_counter()
                            pieces += 1
                            yield StreamEvent(text=text)
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
        except httpx.TimeoutException as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            raise EngineError(_one_line(f"model server at {self.url} timed out ({kind}): {exc}")) from exc
        except httpx.TransportError as exc:
            raise EngineError(_one_line(f"cannot reach model server at {self.url}: {_reason(exc)}")) from exc
        ended = time.perf_counter()
        usage = Usage(total_time=ended - started, time_to_first_token=(first_text_at or ended) - started)
        if usage_data:
            details = usage_data.get("prompt_tokens_details") or {}
            usage.prompt_tokens = int(usage_data.get("prompt_tokens") or 0)
            usage.completion_tokens = int(usage_data.get("completion_tokens") or 0)
            usage.cached_tokens = int(details.get("cached_tokens") or 0)
        else:  # a server that ignores stream_options: estimate
            usage.prompt_tokens = self.count_tokens(request.messages)
            usage.completion_tokens = pieces
        yield StreamEvent(usage=usage, finish_reason=finish or "stop")

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        tokenizer = self._local_tokenizer()
        if tokenizer is not None:
            try:
                ids = tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=False
                )
                return len(ids)
            except Exception:
                pass
        # About four characters a token, plus the template's few tokens per message.
        return sum(len(m.get("content") or "") // 4 + 4 for m in messages) + 3

    @property
    def context_window(self) -> int:
        if self._context_window:
            return int(self._context_window)
        served = self._served_model()
        length = (served.get("max_model_len") or served.get("context_length")) if served else None
        if not length:
            return DEFAULT_CONTEXT_WINDOW  # not kept: a server that was down is asked again next time
        self._context_window = int(length)
        return self._context_window

    def model_id(self) -> str:
        if self.model and self.model != "default":
            return self.model
        served = self._served_model()
        return str(served.get("id")) if served and served.get("id") else self.model

    def special_tokens(self) -> list[str]:
        """The local tokenizer's special and added tokens, when it is on disk (else none known)."""
        tokenizer = self._local_tokenizer()
        if tokenizer is None:
            return []
        return tokenizer_special_tokens(tokenizer)

    # --- extras ----------------------------------------------------------------------------------

    def health(self) -> bool:
        """True when the server answers `/health` with a success status."""
        try:
            return self._client.get(f"{self.url}/health", timeout=self.settings.connect_timeout).is_success
        except httpx.HTTPError:
            return False

    def _served_model(self) -> dict[str, Any] | None:
        """The server's `/v1/models` entry for our model (or its first one), fetched once it answers."""
        with self._lock:
            if self._served is not None:
                return self._served or None
            try:
                response = self._client.get(f"{self.url}/v1/models", timeout=self.settings.connect_timeout)
                if not response.is_success:
                    return None  # asked again next time
                data = response.json().get("data") or []
            except (httpx.HTTPError, ValueError, AttributeError):
                return None
            if not isinstance(data, list):
                data = []
            match = [m for m in data if isinstance(m, dict) and m.get("id") == self.model]
            entries = match or [m for m in data if isinstance(m, dict)]
            self._served = entries[0] if entries else {}
            return self._served or None

    def _local_tokenizer(self) -> Any:
        """The served model's own tokenizer, when it is on this machine (never converts or downloads): the
        folder `/v1/models` names as the model's `root` (SGLang's model path; our server's too), or the local
        generator's folder when the server serves that model. None otherwise, and counts are estimated: the
        local generator's tokenizer would count another model's tokens wrongly."""
        if self._tokenizer_tried:
            return self._tokenizer
        served = self._served_model()
        if served is None:
            return None  # the server did not say what it serves: asked again next time
        self._tokenizer_tried = True
        for folder in self._tokenizer_folders(served):
            if (folder / "tokenizer.json").is_file() or (folder / "tokenizer_config.json").is_file():
                try:
                    from transformers import AutoTokenizer

                    self._tokenizer = AutoTokenizer.from_pretrained(folder)
                    break
                except Exception:
                    self._tokenizer = None
        return self._tokenizer

    def _tokenizer_folders(self, served: dict[str, Any]) -> list[Any]:
        from pathlib import Path

        from assistant.engines.models import BUNDLED_PREFIX

        folders = []
        root = str(served.get("root") or "")
        if root and Path(root).expanduser().is_dir():
            folders.append(Path(root).expanduser())
        name = self.settings.generator_model
        generator = (self.settings.models_dir / name.removeprefix(BUNDLED_PREFIX) if name.startswith(BUNDLED_PREFIX)
                     else Path(name).expanduser())
        served_names = {str(served.get("id") or ""), Path(root).name if root else ""} - {""}
        if served_names & {generator.name, name, str(generator)}:
            folders.append(generator)
        return folders


def _constraint_fields(request: GenerationRequest) -> dict[str, Any]:
    """The request body fields of a structured-output request, as SGLang (and OpenAI, but for regex) take them."""
    found = constraint(request)  # at most one of the three; never loads xgrammar
    if found is None:
        return {}
    kind, _ = found
    if kind == "json_schema":
        schema = {"name": "answer", "schema": request.json_schema}
        return {"response_format": {"type": "json_schema", "json_schema": schema}}
    if kind == "json_object":
        return {"response_format": {"type": "json_object"}}
    return {"regex": request.regex}


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The `data:` payloads of a server-sent event stream (one event per payload line)."""
    for line in lines:
        if line.startswith("data:"):
            yield line[5:].strip()


def _json(data: str, url: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:
        raise EngineError(_one_line(f"model server at {url} sent a malformed event: {data[:200]}")) from exc
    if not isinstance(value, dict):
        raise EngineError(_one_line(f"model server at {url} sent an unexpected event: {data[:200]}"))
    return value


def _error_text(payload: Any) -> str:
    """The message inside an OpenAI-style (or FastAPI-style) error body."""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(error, str):
            return error
        if payload.get("message"):
            return str(payload["message"])
        if payload.get("detail"):
            return str(payload["detail"])
    return json.dumps(payload)[:500]


def _http_error(url: str, response: httpx.Response) -> str:
    try:
        message = _error_text(response.json())
    except ValueError:
        message = response.text[:500] or response.reason_phrase
    return _one_line(f"model server at {url} returned HTTP {response.status_code}: {message}")


def _reason(exc: Exception) -> str:
    reason = str(exc) or type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause) and str(cause) not in reason:
        reason = f"{reason} ({cause})"
    return reason


def _one_line(message: str) -> str:
    return " ".join(message.split())

"""The engine interface: chat messages in, streamed text and usage out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


class EngineError(RuntimeError):
    """An engine could not answer; the message is one line meant for the user."""


@dataclass
class Usage:
    """Token accounting for one generation."""

    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens served from a reused prefix (KV cache)
    completion_tokens: int = 0
    time_to_first_token: float = 0.0  # seconds from request to first streamed text
    total_time: float = 0.0  # seconds from request to last token

    @property
    def tokens_per_second(self) -> float:
        gen_time = self.total_time - self.time_to_first_token
        return self.completion_tokens / gen_time if gen_time > 0 else 0.0


@dataclass
class GenerationRequest:
    """What an engine is asked to do."""

    messages: list[dict[str, str]]  # OpenAI-style [{"role": ..., "content": ...}]
    max_tokens: int = 256
    temperature: float = 0.0  # 0 means greedy
    stop: list[str] = field(default_factory=list)
    # Structured output, at most one of the three (as SGLang's `response_format` / `regex`):
    json_schema: dict[str, Any] | None = None  # the output is JSON valid against this schema
    json_object: bool = False  # the output is one JSON object (any keys)
    regex: str | None = None  # the output matches this regular expression

    @property
    def constrained(self) -> bool:
        """Whether decoding is constrained to a schema, JSON or a pattern."""
        return self.json_schema is not None or self.json_object or self.regex is not None


@dataclass
class StreamEvent:
    """One item of a stream: a piece of text, or (last) the final usage."""

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None


class Engine(Protocol):
    """Anything that turns chat messages into streamed text with usage figures."""

    name: str

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        """Yield text pieces; the last event carries `usage` and `finish_reason`."""
        ...

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """Prompt tokens these messages take once the chat template is applied."""
        ...

    @property
    def context_window(self) -> int:
        """The model's context length in tokens."""
        ...

    def model_id(self) -> str:
        """A stable name of the model (and adapter) behind the engine."""
        ...


def generate(engine: Engine, request: GenerationRequest) -> tuple[str, Usage]:
    """Run a request to completion and return the whole text with its usage."""
    parts: list[str] = []
    usage = Usage()
    for event in engine.stream(request):
        parts.append(event.text)
        if event.usage is not None:
            usage = event.usage
    return "".join(parts), usage


def tokenizer_special_tokens(tokenizer: Any) -> list[str]:
    """Every special-token string a transformers tokenizer knows (its special tokens and the added ones
    flagged special or added to the vocabulary: SmolLM2 registers 17), longest first."""
    found = set(getattr(tokenizer, "all_special_tokens", None) or ())
    added = getattr(tokenizer, "get_added_vocab", None)
    if callable(added):
        found.update(added())
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    found.update(str(token) for token in decoder.values() if getattr(token, "special", False))
    return sorted(found, key=lambda token: (-len(token), token))


def special_tokens_of(engine: Any) -> list[str]:
    """The special-token strings of an engine's tokenizer, so document text can be neutralized before it
    reaches the prompt: its `special_tokens()`, else its tokenizer's; [] when the engine cannot tell."""
    given = getattr(engine, "special_tokens", None)
    if callable(given):
        given = given()
    if given:
        return list(given)
    tokenizer = getattr(engine, "tokenizer", None)
    return tokenizer_special_tokens(tokenizer) if tokenizer is not None else []

"""Structured output: a request's constraint (a JSON schema, any JSON object, a regex) as an xgrammar grammar.

`check` validates a constraint without a tokenizer (the server calls it before answering, so a bad schema is
a 400, not a broken stream). `Grammars` belongs to one embedded engine: the tokenizer's info, built once, and
a compiler that caches compiled grammars; `Grammars.start` gives one generation its `Constraint`, which masks
the logits of each step, accepts the picked token, and hands out the tokens the grammar forces next
(jump-forward). JSON is compact (`{"a":1,"b":[2]}`): no free whitespace for a small model to wander in.

xgrammar (it imports triton) loads only when a constrained request comes.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import TYPE_CHECKING, Any

from assistant.engines.base import EngineError, GenerationRequest

if TYPE_CHECKING:
    import torch

# Without explicit separators xgrammar's JSON expects ", " and ": ".
SEPARATORS = (",", ":")
ANY_OBJECT = '{"type": "object"}'  # json_object: one object, any keys (the built-in JSON grammar also takes arrays)
CACHE_LIMIT_BYTES = 64 * 1024 * 1024  # compiled grammars kept per engine (a server sees arbitrary schemas)


def constraint(request: GenerationRequest) -> tuple[str, str] | None:
    """The request's constraint as (kind, source): kind is json_schema, json_object or regex; None when free."""
    given = [request.json_schema is not None, bool(request.json_object), request.regex is not None]
    if sum(given) > 1:
        raise EngineError("give at most one of json_schema, json_object and regex")
    if request.json_schema is not None:
        if not isinstance(request.json_schema, dict):
            raise EngineError("invalid JSON schema: it must be a JSON object")
        try:
            return "json_schema", json.dumps(request.json_schema, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise EngineError(_one_line(f"invalid JSON schema: {exc}")) from exc
    if request.json_object:
        return "json_object", ANY_OBJECT
    if request.regex is not None:
        if not isinstance(request.regex, str) or not request.regex:
            raise EngineError("invalid regex: it must be a non-empty string")
        return "regex", request.regex
    return None


def check(request: GenerationRequest) -> None:
    """Raise a one-line EngineError when the request's constraint cannot become a grammar (no tokenizer needed)."""
    found = constraint(request)
    if found is None:
        return
    kind, source = found
    import xgrammar as xgr

    try:
        if kind == "regex":
            xgr.Grammar.from_regex(source)
        else:
            xgr.Grammar.from_json_schema(
                source, any_whitespace=False, separators=SEPARATORS, strict_mode=kind == "json_schema"
            )
    except (RuntimeError, ValueError, TypeError) as exc:
        raise EngineError(_describe(kind, source, exc)) from exc


class Grammars:
    """One model's grammar machinery: tokenizer info and a caching compiler, built on first use."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_ids: set[int], tokenizer_lock: threading.Lock) -> None:
        self.tokenizer = tokenizer
        self.vocab_size = vocab_size  # the width of the model's logits: the mask covers every id
        self.stop_ids = sorted(stop_ids)
        self._tokenizer_lock = tokenizer_lock
        self._lock = threading.Lock()
        self._compiler: Any = None
        self.keep: torch.Tensor | None = None  # bits of the ids a grammar may ever allow
        self.keep_text: torch.Tensor | None = None  # the same without the stop tokens

    def start(self, request: GenerationRequest) -> Constraint | None:
        """The constraint of one generation, compiled (cached); None for a free request."""
        found = constraint(request)
        if found is None:
            return None
        kind, source = found
        compiler = self._ready()
        try:
            if kind == "regex":
                compiled = compiler.compile_regex(source)
            else:
                compiled = compiler.compile_json_schema(
                    source, any_whitespace=False, separators=SEPARATORS, strict_mode=kind == "json_schema"
                )
        except (RuntimeError, ValueError, TypeError) as exc:
            raise EngineError(_describe(kind, source, exc)) from exc
        import xgrammar as xgr

        return Constraint(xgr.GrammarMatcher(compiled), self)

    def _ready(self) -> Any:
        with self._lock:
            if self._compiler is None:
                import xgrammar as xgr

                with self._tokenizer_lock:
                    info = xgr.TokenizerInfo.from_huggingface(
                        self.tokenizer, vocab_size=self.vocab_size, stop_token_ids=self.stop_ids
                    )
                # xgrammar reads special tokens such as <|im_start|> as their literal text, allowed inside a
                # JSON string; decoding drops them, so the text would leave the grammar. Never allow them.
                special = set(self.tokenizer.all_special_ids) | set(self.tokenizer.get_added_vocab().values())
                self.keep = _bits(self.vocab_size, special - set(self.stop_ids))
                self.keep_text = _bits(self.vocab_size, special | set(self.stop_ids))
                threads = max(1, min(8, os.cpu_count() or 1))
                self._compiler = xgr.GrammarCompiler(info, max_threads=threads, cache_limit_bytes=CACHE_LIMIT_BYTES)
            return self._compiler


class Constraint:
    """One generation's grammar state."""

    def __init__(self, matcher: Any, grammars: Grammars) -> None:
        import xgrammar as xgr

        self.matcher = matcher
        self.keep = grammars.keep
        self.keep_text = grammars.keep_text
        self.vocab_size = grammars.vocab_size
        self.bitmask = xgr.allocate_token_bitmask(1, grammars.vocab_size)

    def mask(self, logits: torch.Tensor) -> None:
        """Set the logits of every token the grammar does not allow next to -inf, in place."""
        import xgrammar as xgr

        self.matcher.fill_next_token_bitmask(self.bitmask)
        self.bitmask &= self.keep
        xgr.apply_token_bitmask_inplace(logits.unsqueeze(0), self.bitmask, vocab_size=self.vocab_size)

    def accept(self, token: int) -> None:
        if not self.matcher.accept_token(token):
            raise EngineError(f"constrained decoding failed: the grammar rejected token {token}")

    def forced(self, limit: int) -> list[int]:
        """The tokens the grammar forces next (accepted here), at most `limit`: fed in one forward pass.

        xgrammar's own split of the forced text: each token is accepted by the matcher, and a last token
        that a longer token could extend (`":` before `":"`) is left for the model to pick."""
        if limit <= 0:
            return []
        tokens = [int(t) for t in self.matcher.find_jump_forward_tokens()[:limit]]
        for token in tokens:
            self.accept(token)
        return tokens

    def must_stop(self) -> bool:
        """Whether nothing but an end of turn can follow: the grammar is complete and allows no more text."""
        if self.matcher.is_terminated():
            return True
        if not self.matcher.is_completed():
            return False
        self.matcher.fill_next_token_bitmask(self.bitmask)
        return not bool((self.bitmask & self.keep_text).any())


def _bits(vocab_size: int, cleared: set[int]) -> torch.Tensor:
    """A [1, ceil(vocab/32)] int32 bitmask with every bit set except those of `cleared`."""
    import torch

    words = [0xFFFFFFFF] * ((vocab_size + 31) // 32)
    for token in cleared:
        if 0 <= token < vocab_size:
            words[token // 32] &= ~(1 << (token % 32))
    signed = [w - (1 << 32) if w >= 1 << 31 else w for w in words]
    return torch.tensor([signed], dtype=torch.int32)


def _describe(kind: str, source: str, exc: Exception) -> str:
    """xgrammar's message without its time stamp and C++ file: one line for the user."""
    message = re.sub(r"^\s*\[[^\]]*\]\s*", "", str(exc))
    message = re.sub(r"^\S+\.(?:cc|h|cpp):\d+:\s*", "", message)
    what = {"json_schema": "invalid JSON schema", "json_object": "invalid JSON grammar", "regex": "invalid regex"}[kind]
    if kind == "regex":
        what += f" {source[:120]!r}"
    return _one_line(f"{what}: {message or type(exc).__name__}")


def _one_line(message: str) -> str:
    return " ".join(message.split())

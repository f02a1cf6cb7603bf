"""The embedded engine: the generator run in-process with transformers on CPU.

Owns model loading (the resolved folder, an optional LoRA adapter merged in through peft), the
token-by-token decode loop with its KV buffers, prompt-prefix reuse through `PrefixCache`, structured
output (a JSON schema, any JSON object or a regex through xgrammar: logits masked each step, the tokens
the grammar forces fed in one forward pass), and incremental text streaming. Llama-family models
(SmolLM2 among them) run through a lean forward pass over the model's own weights: fused projections,
KV written in place into a preallocated buffer, logits for the last position only. Its results equal
the transformers forward pass; any other architecture runs through the transformers forward pass itself.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.engines.base import EngineError, GenerationRequest, StreamEvent, Usage, tokenizer_special_tokens
from assistant.engines.grammar import Constraint, Grammars
from assistant.engines.models import resolve_generator
from assistant.engines.prefix_cache import KV, PrefixCache, as_layers

if TYPE_CHECKING:
    import torch

    from assistant.settings import Settings

# float32 by default: on the AVX-512 CPUs measured here (no native bf16) bfloat16 prefilled faster but
# decoded at half the speed, and it rounds enough to change greedy answers.
DEFAULT_DTYPE = "float32"
SUPPORTED_DTYPES = ("float32", "bfloat16")
END_OF_TURN_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>")


class EmbeddedEngine:
    """transformers on CPU, streaming, with prompt-prefix KV reuse."""

    name = "embedded"

    def __init__(
        self,
        settings: Settings,
        *,
        enable_prefix_cache: bool = True,
        dtype: str | None = None,
        adapter: Path | str | None = None,
        num_threads: int | None = None,
        jump_forward: bool = True,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.settings = settings
        self.folder = resolve_generator(settings.generator_model, settings.models_dir)
        adapter = adapter if adapter is not None else settings.adapter
        self.adapter = Path(adapter).expanduser() if adapter else None
        if num_threads:
            torch.set_num_threads(num_threads)
        dtype = dtype or settings.generator_dtype or DEFAULT_DTYPE
        if dtype == "auto":
            from index.embeddings import fast_dtype

            dtype = fast_dtype()
        if dtype not in SUPPORTED_DTYPES:
            raise EngineError(f"unsupported dtype {dtype!r}; use one of {', '.join(SUPPORTED_DTYPES)}")
        self.dtype: torch.dtype = getattr(torch, dtype)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.folder)
            model = AutoModelForCausalLM.from_pretrained(self.folder, dtype=self.dtype)
        except Exception as exc:
            raise EngineError(_one_line(f"cannot load the model in {self.folder}: {exc}")) from exc
        if self.adapter is not None:
            model = _merge_adapter(model, self.adapter)
        self.model = model.eval()
        self.config = self.model.config
        self.stop_token_ids = _stop_token_ids(self.tokenizer, self.model)
        self._runner_factory = _pick_runner(self.model)
        self.prefix_cache: PrefixCache | None = (
            PrefixCache(settings.prefix_cache_entries, settings.prefix_cache_mb) if enable_prefix_cache else None
        )
        self._lock = threading.Lock()  # one generation at a time (released from whichever thread ends it)
        self._tokenizer_lock = threading.Lock()  # the Rust tokenizer is not safe for concurrent calls
        # Structured output: built on the first constrained request, shared by variants.
        self.grammars = Grammars(self.tokenizer, _logits_width(self.model), self.stop_token_ids, self._tokenizer_lock)
        self.jump_forward = jump_forward  # feed the tokens a grammar forces in one forward pass

    def variant(self, *, enable_prefix_cache: bool, jump_forward: bool | None = None) -> EmbeddedEngine:
        """The same loaded model with its own prefix cache (or none); generation stays serialized."""
        other = copy.copy(self)
        other.prefix_cache = (
            PrefixCache(self.settings.prefix_cache_entries, self.settings.prefix_cache_mb)
            if enable_prefix_cache
            else None
        )
        if jump_forward is not None:
            other.jump_forward = jump_forward
        return other

    # --- Engine protocol -------------------------------------------------------------------------

    @property
    def context_window(self) -> int:
        return int(getattr(self.config, "max_position_embeddings", 0) or 2048)

    def model_id(self) -> str:
        return self.folder.name + (f"+{self.adapter.name}" if self.adapter else "")

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return len(self.encode(messages))

    def special_tokens(self) -> list[str]:
        """The tokenizer's special and added tokens: strings a prompt must neutralize inside document text."""
        return tokenizer_special_tokens(self.tokenizer)

    def encode(self, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids: the chat template applied, ready for the assistant's turn."""
        try:
            with self._tokenizer_lock:
                ids = self.tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, tokenize=True, return_dict=False
                )
        except Exception as exc:
            raise EngineError(_one_line(f"cannot apply the chat template: {exc}")) from exc
        return [int(i) for i in ids]

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        ids = self.encode(request.messages)
        if not ids:
            raise EngineError("the prompt is empty")
        if len(ids) >= self.context_window:
            raise EngineError(
                f"the prompt takes {len(ids)} tokens, more than the model's context window of {self.context_window}"
            )
        grammar = self.grammars.start(request)  # a bad schema or regex fails here, before any forward pass
        with self._lock:
            yield from self._generate(ids, request, started, grammar)

    # --- the decode loop -------------------------------------------------------------------------

    def _generate(
        self, ids: list[int], request: GenerationRequest, started: float, grammar: Constraint | None = None
    ) -> Iterator[StreamEvent]:
        # No inference_mode around the loop: it is thread-local state, and a server may resume this
        # generator on another thread between pieces. Each forward pass enters it instead.
        max_new = max(0, min(request.max_tokens, self.context_window - len(ids)))
        runner = self._runner_factory(self.model, capacity=len(ids) + max_new, dtype=self.dtype)
        cached = 0
        if self.prefix_cache is not None:
            cached, prefix = self.prefix_cache.lookup(ids, max_len=len(ids) - 1)
            if prefix is not None:
                runner.load_prefix(prefix, cached)
        usage = Usage(prompt_tokens=len(ids), cached_tokens=cached)
        text = IncrementalText(self.tokenizer, request.stop)
        finish = "length"
        first_text_at: float | None = None
        jump = grammar is not None and self.jump_forward
        # What a grammar forces before the model picks anything (`{"quote":"`) rides along with the prompt.
        feed = grammar.forced(max_new) if grammar is not None and jump else []
        usage.completion_tokens = len(feed)
        logits = _forward(runner, ids[cached:] + feed)
        if self.prefix_cache is not None:
            # The prompt's KV is complete and never written again: keep it for the next request.
            self.prefix_cache.store(ids, runner.prompt_kv(len(ids)))
        fresh = True  # the logits already follow `feed`
        while True:
            for fed in feed:  # stream the new tokens before their forward pass
                with self._tokenizer_lock:
                    piece = text.push(fed)
                if piece:
                    if first_text_at is None:
                        first_text_at = time.perf_counter()
                    yield StreamEvent(text=piece)
                if text.stopped:
                    break
            if text.stopped or (grammar is not None and grammar.must_stop()):
                finish = "stop"
                break
            if usage.completion_tokens >= max_new:
                break
            if not fresh:
                logits = _forward(runner, feed)
            fresh = False
            if grammar is not None:
                grammar.mask(logits)  # the end of turn is allowed only where the grammar can end
            token = _pick(logits, request.temperature)
            usage.completion_tokens += 1
            if token in self.stop_token_ids:
                finish = "stop"
                break
            feed = [token]
            if grammar is not None:
                grammar.accept(token)
                if jump:
                    # The continuation the grammar forces after this token goes in the same forward pass.
                    forced = grammar.forced(max_new - usage.completion_tokens)
                    feed += forced
                    usage.completion_tokens += len(forced)
        piece = text.flush()
        if piece:
            first_text_at = first_text_at or time.perf_counter()
            yield StreamEvent(text=piece)
        ended = time.perf_counter()
        usage.total_time = ended - started
        usage.time_to_first_token = (first_text_at or ended) - started
        yield StreamEvent(usage=usage, finish_reason=finish)

    # --- helpers for tests and benchmarks ---------------------------------------------------------

    def last_logits(self, messages: list[dict[str, str]]) -> torch.Tensor:
        """Next-token logits after the prompt (no cache involved)."""
        ids = self.encode(messages)
        runner = self._runner_factory(self.model, capacity=len(ids), dtype=self.dtype)
        return _forward(runner, ids)


class IncrementalText:
    """Generated token ids to text pieces that are safe to send: whole characters, never part of a stop string.

    Each step decodes the whole answer and sends the new suffix (BPE pieces and multi-byte characters only
    make sense in context), holding back a trailing partial character or a possible start of a stop string.
    """

    def __init__(self, tokenizer: Any, stops: list[str] | None = None) -> None:
        self.tokenizer = tokenizer
        self.stops = [stop for stop in stops or [] if stop]
        self.ids: list[int] = []
        self.text = ""
        self.sent = 0
        self.stopped = False

    def push(self, token: int) -> str:
        """Add a token; return the text that became safe to send (may be empty)."""
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True, clean_up_tokenization_spaces=False)
        hit = _find_stop(text, self.stops, self.sent)
        if hit is not None:
            text, self.stopped = text[:hit], True
        self.text = text
        ready = len(text) if self.stopped else _safe_length(text, self.stops)
        if ready <= self.sent:
            return ""
        piece, self.sent = text[self.sent : ready], ready
        return piece

    def flush(self) -> str:
        """The rest of the text, held back so far (at the end of generation)."""
        piece, self.sent = self.text[self.sent :], len(self.text)
        return piece


# --- runners: one request's KV state over the shared, read-only weights ---------------------------


class _HFRunner:
    """Any causal LM through its transformers forward pass with a DynamicCache."""

    def __init__(self, model: Any, capacity: int, dtype: Any) -> None:
        from transformers import DynamicCache

        self.model = model
        self.cache = DynamicCache(config=model.config)
        self.filled = 0
        self._prompt_kv: KV | None = None

    def load_prefix(self, prefix: KV, length: int) -> None:
        for layer_idx, (keys, values) in enumerate(prefix):
            # update() concatenates into new tensors: the prefix cache's tensors are never written.
            self.cache.update(keys, values, layer_idx)
        self.filled = length

    def forward(self, ids: list[int]) -> torch.Tensor:
        import torch

        input_ids = torch.tensor([ids], dtype=torch.long)
        out = self.model(input_ids=input_ids, past_key_values=self.cache, use_cache=True, logits_to_keep=1)
        self.filled += len(ids)
        if self._prompt_kv is None:
            # Right after the prompt: these tensors are replaced, not written, by later steps.
            self._prompt_kv = as_layers(self.cache)
        return out.logits[0, -1].float()

    def prompt_kv(self, length: int) -> KV:
        assert self._prompt_kv is not None
        return self._prompt_kv


class _LeanLlamaRunner:
    """Llama-family decoder run op by op over the model's weights, KV written in place."""

    def __init__(self, model: Any, capacity: int, dtype: Any) -> None:
        import torch

        self.w = _lean_weights(model)
        w = self.w
        shape = (1, w.kv_heads, max(capacity, 1), w.head_dim)
        # One buffer per layer holds keys and values: [2, 1, kv_heads, capacity, head_dim].
        self.kv = [torch.empty((2, *shape), dtype=w.dtype) for _ in range(w.layers_count)]
        self.filled = 0

    def load_prefix(self, prefix: KV, length: int) -> None:
        for buf, (keys, values) in zip(self.kv, prefix, strict=True):
            buf[0, :, :, :length].copy_(keys[..., :length, :])
            buf[1, :, :, :length].copy_(values[..., :length, :])
        self.filled = length

    def prompt_kv(self, length: int) -> KV:
        # Views of this request's buffers: positions < length are never written again.
        return [(buf[0, :, :, :length], buf[1, :, :, :length]) for buf in self.kv]

    def forward(self, ids: list[int]) -> torch.Tensor:
        import torch
        import torch.nn.functional as F

        w = self.w
        start, count = self.filled, len(ids)
        end = start + count
        if end > self.kv[0].shape[-2]:
            raise EngineError("the KV buffer is full (prompt plus max_tokens exceed its capacity)")
        x = w.embed[torch.tensor([ids], dtype=torch.long)]
        cos, sin = w.rope(start, end)
        mask = None
        if count > 1 and start > 0:
            mask = torch.ones(count, end, dtype=torch.bool).tril(start)
        causal = count > 1 and start == 0
        heads, kv_heads, head_dim = w.heads, w.kv_heads, w.head_dim
        group = heads // kv_heads
        manual = count == 1 and w.dtype != torch.float32  # CPU SDPA is slow for one bf16 query
        for layer, buf in zip(w.layers, self.kv, strict=True):
            h = _rms_norm(x, layer.ln1, w.eps)
            q, k, v = F.linear(h, layer.qkv).split(w.qkv_split, dim=-1)
            q = _rotate(q.view(1, count, heads, head_dim).transpose(1, 2), cos, sin)
            k = _rotate(k.view(1, count, kv_heads, head_dim).transpose(1, 2), cos, sin)
            buf[0, :, :, start:end] = k
            buf[1, :, :, start:end] = v.view(1, count, kv_heads, head_dim).transpose(1, 2)
            keys, values = buf[0, :, :, :end], buf[1, :, :, :end]
            if manual:
                scores = (q.view(1, kv_heads, group, head_dim) @ keys.transpose(-1, -2)) * w.scale
                att = (scores.float().softmax(-1).to(w.dtype) @ values).view(1, heads, 1, head_dim)
            else:
                att = F.scaled_dot_product_attention(
                    q, keys, values, attn_mask=mask, is_causal=causal, enable_gqa=group > 1, scale=w.scale
                )
            x = x + F.linear(att.transpose(1, 2).reshape(1, count, heads * head_dim), layer.o)
            h = _rms_norm(x, layer.ln2, w.eps)
            gate, up = F.linear(h, layer.gate_up).split(w.mlp_split, dim=-1)
            x = x + F.linear(F.silu(gate) * up, layer.down)
        self.filled = end
        x = _rms_norm(x[:, -1:], w.norm, w.eps)
        return F.linear(x, w.lm_head)[0, -1].float()


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    import torch

    x32 = x.float()
    return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    import torch

    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


class _LeanWeights:
    """The weights the lean runner reads, fused where that saves a matmul (as views: no extra memory)."""

    def __init__(self, model: Any) -> None:
        import torch
        from torch import nn

        cfg = model.config
        inner = model.model
        self.dtype = inner.embed_tokens.weight.dtype
        self.heads = cfg.num_attention_heads
        self.kv_heads = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.scale = self.head_dim**-0.5
        self.eps = cfg.rms_norm_eps
        self.layers_count = cfg.num_hidden_layers
        self.qkv_split = [self.heads * self.head_dim, self.kv_heads * self.head_dim, self.kv_heads * self.head_dim]
        self.mlp_split = [cfg.intermediate_size, cfg.intermediate_size]
        self.embed = inner.embed_tokens.weight
        self.norm = inner.norm.weight
        self.lm_head = model.lm_head.weight
        self.layers = []
        for layer in inner.layers:
            attn, mlp = layer.self_attn, layer.mlp
            qkv = torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]).contiguous()
            gate_up = torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]).contiguous()
            # Point the model's own projections at slices of the fused tensors so nothing is held twice.
            sizes = self.qkv_split
            attn.q_proj.weight = nn.Parameter(qkv[: sizes[0]], requires_grad=False)
            attn.k_proj.weight = nn.Parameter(qkv[sizes[0] : sizes[0] + sizes[1]], requires_grad=False)
            attn.v_proj.weight = nn.Parameter(qkv[sizes[0] + sizes[1] :], requires_grad=False)
            mlp.gate_proj.weight = nn.Parameter(gate_up[: cfg.intermediate_size], requires_grad=False)
            mlp.up_proj.weight = nn.Parameter(gate_up[cfg.intermediate_size :], requires_grad=False)
            self.layers.append(
                _LayerWeights(
                    layer.input_layernorm.weight,
                    qkv,
                    attn.o_proj.weight,
                    layer.post_attention_layernorm.weight,
                    gate_up,
                    mlp.down_proj.weight,
                )
            )
        rotary = inner.rotary_emb
        inv_freq = rotary.inv_freq.float()
        positions = torch.arange(int(cfg.max_position_embeddings), dtype=torch.float32)
        freqs = torch.outer(positions, inv_freq)
        table = torch.cat((freqs, freqs), dim=-1)
        scaling = float(getattr(rotary, "attention_scaling", 1.0))
        self._cos = (table.cos() * scaling).to(self.dtype)
        self._sin = (table.sin() * scaling).to(self.dtype)

    def rope(self, start: int, end: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._cos[start:end], self._sin[start:end]


class _LayerWeights:
    __slots__ = ("down", "gate_up", "ln1", "ln2", "o", "qkv")

    def __init__(self, ln1: Any, qkv: Any, o: Any, ln2: Any, gate_up: Any, down: Any) -> None:
        self.ln1, self.qkv, self.o, self.ln2, self.gate_up, self.down = ln1, qkv, o, ln2, gate_up, down


def _lean_weights(model: Any) -> _LeanWeights:
    weights = getattr(model, "_assistant_lean_weights", None)
    if weights is None:
        weights = _LeanWeights(model)
        model._assistant_lean_weights = weights
    return weights


def _lean_supported(model: Any) -> bool:
    """The lean runner reproduces Llama exactly; anything else takes the transformers path."""
    cfg = model.config
    rope = getattr(cfg, "rope_parameters", None) or {}
    return (
        getattr(cfg, "model_type", "") == "llama"
        and type(model).__name__ == "LlamaForCausalLM"
        and not getattr(cfg, "attention_bias", False)
        and not getattr(cfg, "mlp_bias", False)
        and getattr(cfg, "hidden_act", "") == "silu"
        and rope.get("rope_type", "default") == "default"
        and getattr(cfg, "pretraining_tp", 1) == 1
        and not getattr(model, "is_quantized", False)
    )


def _pick_runner(model: Any) -> Any:
    if _lean_supported(model):
        _lean_weights(model)  # fuse once, at load time
        return _LeanLlamaRunner
    return _HFRunner


def _merge_adapter(model: Any, adapter: Path) -> Any:
    """Load a peft LoRA adapter and fold it into the weights (same outputs, no per-token LoRA cost)."""
    if not (adapter / "adapter_config.json").is_file():
        raise EngineError(f"adapter folder {adapter} has no adapter_config.json")
    try:
        from peft import PeftModel

        peft_model = PeftModel.from_pretrained(model, str(adapter))
        return peft_model.merge_and_unload()
    except Exception as exc:
        raise EngineError(_one_line(f"cannot load the adapter in {adapter}: {exc}")) from exc


def _stop_token_ids(tokenizer: Any, model: Any) -> set[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config, tokenizer):
        value = getattr(source, "eos_token_id", None)
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list | tuple):
            ids.update(int(v) for v in value)
    vocab = tokenizer.get_vocab()
    ids.update(vocab[token] for token in END_OF_TURN_TOKENS if token in vocab)
    return ids


def _logits_width(model: Any) -> int:
    """How many logits the model gives per position (may exceed the tokenizer's vocabulary: padding)."""
    head = model.get_output_embeddings()
    weight = getattr(head, "weight", None)
    return int(weight.shape[0]) if weight is not None else int(model.config.vocab_size)


def _forward(runner: Any, ids: list[int]) -> torch.Tensor:
    import torch

    try:
        with torch.inference_mode():
            return runner.forward(ids)
    except EngineError:
        raise
    except RuntimeError as exc:  # out of memory, shape trouble: one line for the user
        raise EngineError(_one_line(f"generation failed: {exc}")) from exc


def _pick(logits: torch.Tensor, temperature: float) -> int:
    import torch

    if temperature <= 0:
        return int(logits.argmax())
    probs = torch.softmax(logits / temperature, dim=-1)
    return int(torch.multinomial(probs, 1))


def _find_stop(text: str, stops: list[str], emitted: int) -> int | None:
    """Index where the earliest stop string starts, searching only text not yet sent."""
    best: int | None = None
    for stop in stops:
        index = text.find(stop, emitted)
        if index != -1 and (best is None or index < best):
            best = index
    return best


def _safe_length(text: str, stops: list[str]) -> int:
    """How much of `text` can be sent: hold back a partial UTF-8 character or a possible stop string start."""
    end = len(text)
    while end > 0 and text[end - 1] == "\ufffd":
        end -= 1
    hold = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, end), hold, -1):
            if text.endswith(stop[:n], 0, end):
                hold = n
                break
    return end - hold


def _one_line(message: str) -> str:
    return " ".join(message.split())

"""Benchmark structured output in the embedded engine: jump-forward against step-by-step decoding, and mask cost.

A JSON-schema answer whose schema holds a long `const` quote and an `enum` (text the grammar forces), greedy,
the prompt's KV reused (so the figures are decode, not prefill). Reports per answer: wall time, tokens/s
(completion tokens over the time after the first text), forward passes, and the time spent in the grammar
(bitmask fill and apply, token accept, jump-forward search) per generated token and per masked step.

    .venv/bin/python benchmarks/structured_output.py [--reps 5] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SOURCE = (
    "[1] Harbor Foods warehouse, 56 Harbor Road: masonry construction, wet-pipe sprinklers throughout, "
    "central station alarm, no losses in the last five years."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "quote": {"enum": ["bind as quoted", "decline", "refer to a senior underwriter"]},
        "source": {"const": SOURCE},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["quote", "source", "confidence"],
}
MESSAGES = [
    {"role": "system", "content": "You are an underwriting assistant. Answer in JSON."},
    {"role": "user", "content": f"Context:\n{SOURCE}\n\nQuestion: Should we bind, decline or refer this risk?"},
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".test-cache" / "models")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from assistant.engines import GenerationRequest, build_engine, generate
    from assistant.engines import grammar as grammar_module
    from assistant.settings import load_settings

    settings = load_settings(workspace=Path(tempfile.mkdtemp(prefix="bench-structured-")), model_cache=args.model_cache)
    engine = build_engine("embedded", settings, num_threads=args.threads)
    timers = _time_the_grammar(grammar_module.Constraint)
    passes = _count_forward_passes(engine)

    request = GenerationRequest(messages=MESSAGES, max_tokens=160, json_schema=SCHEMA)
    started = time.perf_counter()
    engine.grammars.start(request)
    print(f"first constrained request: tokenizer info and compile {1000 * (time.perf_counter() - started):.0f} ms")
    started = time.perf_counter()
    engine.grammars.start(request)
    print(f"compile again (cached)    : {1000 * (time.perf_counter() - started):.2f} ms")

    variants = {
        "jump-forward": engine.variant(enable_prefix_cache=True, jump_forward=True),
        "step by step": engine.variant(enable_prefix_cache=True, jump_forward=False),
        "free (no grammar)": engine.variant(enable_prefix_cache=True),
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for variant in variants.values():
        generate(variant, request)  # warm-up: the prompt's KV goes into the variant's prefix cache
    for _ in range(args.reps):
        for name, variant in variants.items():
            asked = request
            if name.startswith("free"):
                # The same token count, unconstrained: the decode speed without any grammar work.
                tokens = results["step by step"][-1]["tokens"] if results["step by step"] else 60
                asked = GenerationRequest(messages=MESSAGES, max_tokens=tokens)
            timers.clear()
            passes.clear()
            started = time.perf_counter()
            text, usage = generate(variant, asked)
            wall = time.perf_counter() - started
            results[name].append(
                {
                    "wall": wall,
                    "tps": usage.tokens_per_second,
                    "tokens": usage.completion_tokens,
                    "passes": len(passes) - 1,  # after the prompt's
                    "grammar": dict(timers),
                    "text": text,
                }
            )
    print(f"\nJSON schema answer, greedy, prompt reused, {args.reps} reps (medians)")
    print(f"   {'':20s} {'wall s':>8s} {'tok/s':>8s} {'tokens':>7s} {'passes':>7s} {'grammar ms/token':>17s}")
    for name, runs in results.items():
        grammar_ms = median(sum(r["grammar"].values()) * 1000 / max(r["tokens"], 1) for r in runs)
        print(
            f"   {name:20s} {median(r['wall'] for r in runs):8.2f} {median(r['tps'] for r in runs):8.1f} "
            f"{median(r['tokens'] for r in runs):7.0f} {median(r['passes'] for r in runs):7.0f} {grammar_ms:17.3f}"
        )
    on, off = results["jump-forward"], results["step by step"]
    speed = median(r["wall"] for r in off) / median(r["wall"] for r in on)
    tps = median(r["tps"] for r in on) / median(r["tps"] for r in off)
    print(f"   jump-forward vs step by step: answer {speed:.2f}x faster, tokens/s {tps:.2f}x")
    steps = [r for r in off if r["grammar"].get("mask")]
    if steps:
        mask_ms = median(r["grammar"]["mask"] * 1000 / r["tokens"] for r in steps)
        print(f"   mask (fill + apply) per masked step: {mask_ms:.3f} ms")
    print(f"   jump-forward answer: {on[0]['text']}")
    print(f"   step-by-step answer: {off[0]['text']}")
    for name in ("jump-forward", "step by step"):
        json.loads(results[name][0]["text"])  # both are valid JSON


def _time_the_grammar(constraint_class: Any) -> dict[str, float]:
    """Wrap the grammar's per-step methods with timers (seconds summed per method name)."""
    totals: dict[str, float] = {}
    for method in ("mask", "accept", "forced", "must_stop"):
        original = getattr(constraint_class, method)

        def timed(self: Any, *args: Any, _original: Any = original, _name: str = method) -> Any:
            started = time.perf_counter()
            try:
                return _original(self, *args)
            finally:
                totals[_name] = totals.get(_name, 0.0) + time.perf_counter() - started

        setattr(constraint_class, method, timed)
    return totals


def _count_forward_passes(engine: Any) -> list[int]:
    """Record the token count of every forward pass of the engine's runners (all variants share the factory)."""
    passes: list[int] = []
    make_runner = engine._runner_factory

    def factory(*args: Any, **kwargs: Any) -> Any:
        runner = make_runner(*args, **kwargs)
        forward = runner.forward

        def counted(ids: list[int]) -> Any:
            passes.append(len(ids))
            return forward(ids)

        runner.forward = counted
        return runner

    engine._runner_factory = factory
    return passes


if __name__ == "__main__":
    main()

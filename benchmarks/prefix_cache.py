"""Benchmark the embedded engine: prefix reuse and decode speed, as ratios from one run.

1. Time to first token of a second question over the same ~1,000-token RAG context (the production
   prompt layout: fixed system prompt, sources in canonical order, question last), with prefix reuse
   against without. Target: at most 0.5x.
2. Generation tokens/s of the embedded engine against a plain `model.generate` loop on the same model,
   prompt, greedy decoding and max_new_tokens. Target: at least 1x (aim 2x).

    .venv/bin/python benchmarks/prefix_cache.py [--reps 5] [--max-new-tokens 64] [--dtype float32] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = (
    "What sprinkler protection does the Harbor Foods warehouse have, and is it adequate?",
    "Summarize the loss history and the main recommendations for this account.",
)
LONG_QUESTION = "List every fact the sources give about construction, protection, occupancy and exposure, one per line."


def rag_chunks(tokenizer, target_tokens: int) -> list:
    """Retrieved-looking chunks of the sample documents, in canonical order, about `target_tokens` of prompt."""
    from assistant.answering.prompts import build_messages
    from assistant.grounding.sources import canonical_order
    from index.types import Chunk

    texts = []
    for name in (
        "sample_docs/guidelines/underwriting_guidelines.md",
        "sample_docs/harbor-foods/underwriter_notes.txt",
        "sample_docs/meridian-plastics/underwriter_notes.txt",
        "sample_docs/oakridge-senior-living/underwriter_notes.txt",
    ):
        path = ROOT / name
        if path.is_file():
            texts.append((name, path.read_text(encoding="utf-8", errors="replace")))
    chunks: list = []
    for doc, text in texts:
        words = text.split()
        for position, start in enumerate(range(0, len(words), 60)):
            chunks.append(
                Chunk(id=len(chunks) + 1, source=doc, page=1 + position // 4, position=position,
                      text=" ".join(words[start : start + 60]))
            )  # fmt: skip
    # Interleave documents the way retrieval would pick chunks, then keep enough to reach the target length.
    chunks.sort(key=lambda c: (c.position, c.source))
    picked: list = []
    for chunk in chunks:
        picked.append(chunk)
        messages = build_messages(QUESTIONS[0], canonical_order(picked))
        if len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=False)) >= target_tokens:
            break
    return canonical_order(picked)


def rag_messages(question: str, chunks: list) -> list[dict[str, str]]:
    """The production prompt: fixed system prompt, delimited sources, the question last."""
    from assistant.answering.prompts import build_messages

    return build_messages(question, chunks)


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--context-tokens", type=int, default=1000)
    parser.add_argument("--dtype", default=None, help="engine dtype (default: the engine's)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads for both sides (default: torch's; 1 on a busy box)"
    )
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".test-cache" / "models")
    args = parser.parse_args()

    import torch

    from assistant.engines import GenerationRequest, build_engine
    from assistant.settings import load_settings

    workspace = Path(tempfile.mkdtemp(prefix="bench-prefix-"))
    settings = load_settings(workspace=workspace, model_cache=args.model_cache)
    started = time.perf_counter()
    engine = build_engine("embedded", settings, dtype=args.dtype, num_threads=args.threads)
    print(f"engine: {engine.model_id()} {str(engine.dtype).removeprefix('torch.')}, loaded in "
          f"{time.perf_counter() - started:.1f} s; torch threads {torch.get_num_threads()}, "
          f"cpu count {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    cached = engine.variant(enable_prefix_cache=True)
    uncached = engine.variant(enable_prefix_cache=False)
    tokenizer = engine.tokenizer

    # --- 1. time to first token, second question over the same context ----------------------------
    chunks = rag_chunks(tokenizer, args.context_tokens)
    first = rag_messages(QUESTIONS[0], chunks)
    second = rag_messages(QUESTIONS[1], chunks)
    prompt_tokens = engine.count_tokens(second)
    print(f"\n1. TTFT of a second question over the same context ({prompt_tokens}-token prompt, {args.reps} reps)")

    def ttft(eng, messages) -> tuple[float, int, str]:
        events = list(eng.stream(GenerationRequest(messages=messages, max_tokens=8)))
        usage = events[-1].usage
        return usage.time_to_first_token, usage.cached_tokens, "".join(e.text for e in events)

    ttft(uncached, second)  # warm-up
    with_reuse, without_reuse = [], []
    reused = 0
    for _ in range(args.reps):
        cached.prefix_cache.clear()
        ttft(cached, first)  # the first question fills the cache
        seconds, reused, text_reuse = ttft(cached, second)
        with_reuse.append(seconds)
        seconds, none_reused, text_plain = ttft(uncached, second)
        assert none_reused == 0
        without_reuse.append(seconds)
        assert text_reuse == text_plain, (text_reuse, text_plain)
    a, b = median(with_reuse), median(without_reuse)
    print(f"   with prefix reuse    : {a * 1000:8.1f} ms  ({reused} of {prompt_tokens} prompt tokens reused)")
    print(f"   without prefix reuse : {b * 1000:8.1f} ms")
    print(f"   ratio with/without   : {a / b:8.3f}x  (target <= 0.5x)  same text: yes")

    # --- 2. generation tokens/s against model.generate ----------------------------------------------
    n = args.max_new_tokens
    messages = rag_messages(LONG_QUESTION, chunks)
    ids = torch.tensor([engine.encode(messages)])
    print(f"\n2. Generation speed, greedy, max_new_tokens={n}, {ids.shape[1]}-token prompt, {args.reps} reps")

    def engine_run(eng) -> tuple[float, float, int, str]:
        events = list(eng.stream(GenerationRequest(messages=messages, max_tokens=n)))
        usage = events[-1].usage
        decode = (usage.completion_tokens - 1) / (usage.total_time - usage.time_to_first_token)
        return (
            decode,
            usage.completion_tokens / usage.total_time,
            usage.completion_tokens,
            "".join(e.text for e in events),
        )

    from transformers import StoppingCriteria, StoppingCriteriaList

    class FirstTokenClock(StoppingCriteria):
        def __init__(self) -> None:
            self.first: float | None = None

        def __call__(self, input_ids, scores, **kwargs):
            if self.first is None:
                self.first = time.perf_counter()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool)

    def generate_run(model) -> tuple[float, float, int, str]:
        clock = FirstTokenClock()
        begin = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                ids, max_new_tokens=n, do_sample=False, stopping_criteria=StoppingCriteriaList([clock])
            )
        end = time.perf_counter()
        new = out[0, ids.shape[1] :].tolist()
        decode = (len(new) - 1) / (end - clock.first)
        return decode, len(new) / (end - begin), len(new), tokenizer.decode(new, skip_special_tokens=True)

    baselines = {f"model.generate ({str(engine.dtype).removeprefix('torch.')}, same model)": engine.model}
    if engine.dtype != torch.float32:
        from transformers import AutoModelForCausalLM

        baselines["model.generate (float32, plain load)"] = AutoModelForCausalLM.from_pretrained(engine.folder).eval()
    engine_run(uncached)  # warm-up
    for model in baselines.values():
        generate_run(model)
    results: dict[str, list[tuple[float, float, int, str]]] = {"embedded engine": []}
    results.update({name: [] for name in baselines})
    for _ in range(args.reps):
        results["embedded engine"].append(engine_run(uncached))
        for name, model in baselines.items():
            results[name].append(generate_run(model))
    ours = median([r[0] for r in results["embedded engine"]])
    ours_e2e = median([r[1] for r in results["embedded engine"]])
    tokens = results["embedded engine"][0][2]
    print(f"   {'':38s} decode tok/s   end-to-end tok/s   tokens")
    for name, runs in results.items():
        decode, e2e = median([r[0] for r in runs]), median([r[1] for r in runs])
        print(f"   {name:38s} {decode:10.1f}   {e2e:14.1f}   {runs[0][2]:8d}")
    for name, runs in results.items():
        if name == "embedded engine":
            continue
        decode, e2e = median([r[0] for r in runs]), median([r[1] for r in runs])
        same = runs[0][3] == results["embedded engine"][0][3]
        print(f"   engine vs {name}: decode {ours / decode:.2f}x, end-to-end {ours_e2e / e2e:.2f}x "
              f"(target >= 1x, aim 2x); same text: {'yes' if same else 'no'}")  # fmt: skip
    print(f"   ({tokens} tokens generated per run)")


if __name__ == "__main__":
    main()

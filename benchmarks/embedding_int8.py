"""The int8 ONNX embedding path against torch float32 and bfloat16, in one run: quality and speed.

For each corpus (`sample_docs/` with its questions, the public fixture `benchmarks/fixtures/python_faq/`),
the corpus is ingested once into a temporary workspace, re-embedded by each embedder (the same chunks: the
tokenizer is shared) and scored by `assistant.evaluation` (page hit@k and MRR@10, hybrid and dense-only).
Then every chunk text of both corpora is embedded by each embedder, `--repeat` times interleaved (the
machine is shared: the best of the repeats is kept, wall and CPU seconds), and the mean and lowest cosine
to float32 are reported.

Int8 variants (the export settings of `index.embeddings.INT8_EXPORT`, changed one at a time) are scored too
with `--variants`; the shipped one is `int8`.

    python benchmarks/embedding_int8.py [--k 5] [--repeat 3] [--variants] [--no-quality] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.retrieval_quality import CORPORA, neutral_copy  # noqa: E402
from index.quiet import quiet_libraries  # noqa: E402

quiet_libraries()

MODEL = "bundled:all-MiniLM-L6-v2"
VARIANTS = {
    "int8 per-tensor": {"per_channel": False, "keep_float": [], "fuse": False},
    "int8 per-channel": {"keep_float": [], "fuse": False},
    "int8 per-channel, FFN out float": {"fuse": False},
    "int8 QUInt8 weights": {"weight_type": "QUInt8"},
}


def make_embedders(cache: Path, variants: bool) -> dict[str, Any]:
    from index.embeddings import INT8_EXPORT, Embedder, OnnxEncoder, export_int8, resolve_embedder

    embedders = {"torch float32": Embedder(MODEL, dtype="float32"), "torch bfloat16": Embedder(MODEL, dtype="bfloat16"),
                 "int8": Embedder(MODEL, backend="onnx-int8", cache_dir=cache)}
    if variants:
        folder = Path(resolve_embedder(MODEL))
        for name, change in VARIANTS.items():
            embedder = Embedder(MODEL, backend="onnx-int8", cache_dir=cache)
            model_file = export_int8(folder, cache, {**INT8_EXPORT, **change}, label=MODEL)
            embedder.__dict__["model"] = OnnxEncoder(folder, model_file)
            embedders[name] = embedder
    for embedder in embedders.values():
        embedder.embed(["warm up"])
    return embedders


def quality(corpus_name: str, embedders: dict[str, Any], k: int) -> tuple[dict[str, Any], list[str]]:
    """({embedder: scores by mode}, chunk texts) over one corpus: ingested once (the same chunks for all),
    then re-embedded by each embedder (`Store.replace_vectors`, as `ingest --rebuild` does) and evaluated with
    that embedder's queries."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    corpus = CORPORA[corpus_name]
    docs = neutral_copy(corpus.docs)
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory() as workspace:
            settings = load_settings(workspace=Path(workspace))
            first = Assistant(settings)
            first.__dict__["embedder"] = embedders["torch float32"]
            report = first.ingest([docs])
            assert not report.failed, report.failed
            chunks = first.store.all_chunks()
            first.store.close()
            for name, embedder in embedders.items():
                core = Assistant(settings)
                core.__dict__["embedder"] = embedder
                core.store.replace_vectors([c.id for c in chunks], embedder.embed([c.text for c in chunks]))
                result = core.evaluate(corpus.questions, k)
                results[name] = {mode: {"hit": round(s["page"].hit, 4), "mrr": round(s["page"].mrr, 4)}
                                 for mode, s in result.retrieval.scores.items() if mode in ("hybrid", "dense")}
                print(f"{corpus_name} / {name}: {results[name]}", file=sys.stderr, flush=True)
                core.reader.close()
                core.store.close()
    finally:
        shutil.rmtree(docs.parent, ignore_errors=True)
    return results, [chunk.text for chunk in chunks]


def speed(embedders: dict[str, Any], texts: list[str], repeat: int) -> dict[str, dict[str, float]]:
    best: dict[str, dict[str, float]] = {}
    for _ in range(repeat):
        for name, embedder in embedders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            embedder.embed(texts)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            seen = best.setdefault(name, {"wall_s": wall, "cpu_s": cpu})
            seen["wall_s"], seen["cpu_s"] = min(seen["wall_s"], wall), min(seen["cpu_s"], cpu)
    return best


def main() -> None:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", action="store_true", help="also the int8 export variants")
    parser.add_argument("--cache", type=Path, default=ROOT / ".test-cache" / "models")
    parser.add_argument("--no-quality", action="store_true",
                        help="cosine and speed only, over 120-word passages of the text files (no ingest)")
    parser.add_argument("--limit", type=int, default=0, help="--no-quality: at most this many passages")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    embedders = make_embedders(args.cache, args.variants)
    scores: dict[str, dict[str, Any]] = {}
    texts: list[str] = []
    for path in sorted(p for corpus in CORPORA.values() for p in corpus.docs.rglob("*.md")) if args.no_quality else []:
        words = path.read_text(errors="ignore").split()
        texts += [" ".join(words[i:i + 120]) for i in range(0, len(words), 120)]
    texts = texts[:args.limit] if args.limit else texts
    for corpus in [] if args.no_quality else CORPORA:
        by_embedder, corpus_texts = quality(corpus, embedders, args.k)
        for name, result in by_embedder.items():
            scores.setdefault(name, {})[corpus] = result
        texts += corpus_texts
    reference = embedders["torch float32"].embed(texts)
    cosine = {}
    for name, embedder in embedders.items():
        values = (embedder.embed(texts) * reference).sum(axis=1)
        cosine[name] = {"mean": round(float(np.mean(values)), 5), "min": round(float(np.min(values)), 5)}
    timing = speed({name: embedders[name] for name in ("torch float32", "torch bfloat16", "int8")}, texts, args.repeat)
    if args.json:
        print(json.dumps({"chunks": len(texts), "scores": scores, "cosine": cosine, "speed": timing}))
        return
    corpora = list(CORPORA) if scores else []
    print("| " + " | ".join(["embedder", "mean cos", "min cos"] + [
        f"{c} {m} hit@{args.k} | {c} {m} MRR@10" for c in corpora for m in ("hybrid", "dense")]) + " |")
    print("|" + "---|" * (3 + 4 * len(corpora)))
    for name in embedders:
        cells = [f"{scores[name][c][m][x]:.3f}" for c in corpora for m in ("hybrid", "dense") for x in ("hit", "mrr")]
        print("| " + " | ".join([name, f"{cosine[name]['mean']:.4f}", f"{cosine[name]['min']:.4f}", *cells]) + " |")
    base = timing["torch bfloat16"]
    print(f"\nspeed over {len(texts)} chunks, best of {args.repeat} (interleaved):")
    for name, t in timing.items():
        print(f"  {name}: {len(texts) / t['wall_s']:.1f} chunks/s wall ({t['wall_s']:.2f} s), {t['cpu_s']:.2f} CPU s; "
              f"{base['wall_s'] / t['wall_s']:.2f}x bfloat16 wall, {base['cpu_s'] / t['cpu_s']:.2f}x CPU")


if __name__ == "__main__":
    main()

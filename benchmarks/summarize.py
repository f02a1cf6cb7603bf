"""Batch summarization throughput on the embedded engine: documents per minute with prefix reuse against
without, in one run.

The same documents are summarized twice with the default template, by the same loaded model: once by the
engine with its prefix KV cache (the template's instructions are computed once and reused by every later
document; a window's text is computed once and reused by all its field questions), once by its no-reuse
twin (`EmbeddedEngine.variant(enable_prefix_cache=False)`). Documents alternate between the two so both
see the same machine load. Nothing is resumed: each mode writes to its own empty summary store.

    python benchmarks/summarize.py [--docs sample_docs/harbor-foods ...] [--max-tokens 16] [--limit N]

Default documents: the SOVs and underwriter notes of the three sample insureds (short documents, so the
run takes minutes on a small CPU); pass folders or files to measure others.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.quiet import quiet_libraries  # noqa: E402 (after the path insert)

quiet_libraries()

SAMPLES = ROOT / "sample_docs"
DEFAULT_DOCS = [SAMPLES / "harbor-foods" / "underwriter_notes.txt",
                SAMPLES / "harbor-foods" / "statement_of_values.csv",
                SAMPLES / "meridian-plastics" / "underwriter_notes.txt",
                SAMPLES / "meridian-plastics" / "statement_of_values.xlsx",
                SAMPLES / "oakridge-senior-living" / "underwriter_notes.txt",
                SAMPLES / "oakridge-senior-living" / "statement_of_values.csv"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", nargs="+", type=Path, default=DEFAULT_DOCS, help="files or folders")
    parser.add_argument("--max-tokens", type=int, default=16, help="most tokens per model answer")
    parser.add_argument("--limit", type=int, default=0, help="summarize at most this many documents")
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".test-cache" / "models",
                        help="converted generator models (the tests' cache by default)")
    args = parser.parse_args()

    from assistant.app import Assistant
    from assistant.engines import build_engine
    from assistant.engines.base import special_tokens_of
    from assistant.settings import load_settings
    from assistant.summaries.summarizer import Summarizer, SummaryStore, select_jobs
    from assistant.summaries.template import load_template

    with tempfile.TemporaryDirectory(prefix="bench-summarize-") as scratch:
        scratch_path = Path(scratch)
        settings = load_settings(workspace=scratch_path / "workspace", model_cache=args.model_cache)
        core = Assistant(settings)
        report = core.ingest(args.docs, prune=False)
        if report.failed:
            print("ingest failures:", report.failed, file=sys.stderr)
        roots = [str(path.resolve()) for path in args.docs]
        jobs = select_jobs(core.store.documents(), roots)
        if args.limit:
            jobs = jobs[: args.limit]
        engine = build_engine("embedded", settings)
        engines = {"reuse": engine, "no reuse": engine.variant(enable_prefix_cache=False)}
        template = load_template()
        special = special_tokens_of(engine)
        summarizers = {name: Summarizer(e, template, SummaryStore(scratch_path / name.replace(" ", "-")),
                                        max_tokens=args.max_tokens, special_tokens=special)
                       for name, e in engines.items()}
        seconds = dict.fromkeys(engines, 0.0)
        totals = {name: {"requests": 0, "prompt": 0, "cached": 0, "completion": 0} for name in engines}
        first_doc: dict[str, float] = {}
        print(f"{len(jobs)} documents, template {template.name!r} ({template.hash}), model {engine.model_id()}, "
              f"answers up to {args.max_tokens} tokens, {len(template.fields)} fields")
        for index, job in enumerate(jobs):
            chunks = core.store.chunks_of(job.path)
            order = list(engines) if index % 2 == 0 else list(reversed(engines))
            for name in order:
                started = time.perf_counter()
                summary = summarizers[name].summarize_document(job, chunks)
                took = time.perf_counter() - started
                seconds[name] += took
                first_doc.setdefault(name, took)
                total = totals[name]
                total["requests"] += summary.requests
                total["prompt"] += summary.prompt_tokens
                total["cached"] += summary.cached_tokens
                total["completion"] += summary.completion_tokens
                print(f"  {name:>8}  {Path(job.path).parent.name}/{Path(job.path).name}: {took:6.1f} s, "
                      f"{summary.requests} requests, {summary.prompt_tokens} prompt tokens "
                      f"({summary.cached_tokens} reused), {summary.answers_kept} answers kept", flush=True)
        print()
        print(f"{'mode':>8}  {'docs/min':>8}  {'seconds':>8}  {'requests':>8}  {'prompt tok':>10}  "
              f"{'reused tok':>10}  {'first doc s':>11}")
        for name in engines:
            rate = len(jobs) / seconds[name] * 60 if seconds[name] else 0.0
            t = totals[name]
            print(f"{name:>8}  {rate:8.2f}  {seconds[name]:8.1f}  {t['requests']:8d}  {t['prompt']:10d}  "
                  f"{t['cached']:10d}  {first_doc.get(name, 0.0):11.1f}")
        if seconds["reuse"]:
            print(f"\nspeed-up with prefix reuse: {seconds['no reuse'] / seconds['reuse']:.2f}x documents per minute "
                  f"({totals['reuse']['cached'] / max(1, totals['reuse']['prompt']):.0%} of prompt tokens reused)")


if __name__ == "__main__":
    main()

"""Batch summaries: documents per minute of `summarize` (a view of each submission's profile), without the
model, and with the embedded model reading the descriptive fields with and without its prefix KV cache,
in one run.

Each mode profiles the same submissions from scratch (`force`) into its own stored profiles: "patterns"
(tables and prose patterns only), "model, reuse" (the embedded engine with its prefix cache: the system
prompt is computed once and reused by every request) and "model, no reuse" (its twin,
`EmbeddedEngine.variant(enable_prefix_cache=False)`). Reported per mode: documents per minute, model
requests, values the model read that verified (kept) and did not (dropped), prompt tokens and reused ones.

    python benchmarks/summarize.py [--docs FOLDER ...]

Default: the three sample submissions and the held-out sets' nine (documents worded unlike sample_docs,
where the patterns leave more descriptive fields unstated).
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

FIXTURES = ROOT / "benchmarks" / "fixtures"
DEFAULT_DOCS = [ROOT / "sample_docs", FIXTURES / "heldout", FIXTURES / "heldout_2", FIXTURES / "heldout_3"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", nargs="+", type=Path, default=DEFAULT_DOCS, help="folders of submissions")
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".test-cache" / "models",
                        help="converted generator models (the tests' cache by default)")
    args = parser.parse_args()

    from assistant.app import Assistant
    from assistant.engines import build_engine
    from assistant.settings import load_settings
    from assistant.summaries.summarizer import Summarizer, select_jobs
    from assistant.summaries.template import load_template

    with tempfile.TemporaryDirectory(prefix="bench-summarize-") as scratch:
        settings = load_settings(workspace=Path(scratch) / "workspace", model_cache=args.model_cache)
        core = Assistant(settings)
        report = core.ingest(args.docs, prune=False)
        if report.failed:
            print("ingest failures:", report.failed, file=sys.stderr)
        jobs = [job for job in select_jobs(core.store.documents(), [str(p.resolve()) for p in args.docs])
                if "guidelines" not in job.path and "/tuning/" not in job.path]
        engine = build_engine("embedded", settings)
        readers = {"patterns": None, "model, reuse": core.model_reader(engine),
                   "model, no reuse": core.model_reader(engine.variant(enable_prefix_cache=False))}
        template = load_template()
        submissions = len({Path(job.path).parent for job in jobs})
        print(f"{len(jobs)} documents in {submissions} submissions, template {template.name!r}, "
              f"model {engine.model_id()}")
        print("\n| mode | docs/min | seconds | model requests | kept | dropped | prompt tokens | reused tokens |")
        print("|---|---|---|---|---|---|---|---|")
        for name, reader in readers.items():
            summarizer = Summarizer(core.profiles, template, reader)
            started = time.perf_counter()
            result = summarizer.run(jobs, core.store.chunks_of, force=True)
            seconds = time.perf_counter() - started
            profiles = {s.submission: core.profiles.profile(core.profiles.find(s.submission), reader=reader)[0]
                        for s in result.summaries}
            kept = sum(p.model_use.get("kept", 0) for p in profiles.values())
            dropped = sum(p.model_use.get("dropped", 0) for p in profiles.values())
            prompt, cached, _ = result.tokens()
            requests = sum(s.requests for s in result.summaries)
            print(f"| {name} | {len(jobs) / seconds * 60:.1f} | {seconds:.1f} | {requests} | {kept} | {dropped} | "
                  f"{prompt:,} | {cached:,} |", flush=True)
            if result.failed:
                print(f"  failed: {result.failed}")


if __name__ == "__main__":
    main()

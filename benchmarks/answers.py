"""Answers benchmark: the evidence-first, schema-constrained, verified path against free-text answering.

For each question set (a folder of documents and its questions.jsonl) the documents are ingested into a
fresh workspace and every question is answered twice with the same model on the same machine in the
same run:

- **verified** (the product): evidence units ranked, the answerability gate, generation under the answer
  schema, verification; the user gets a verified answer, a labelled quote or the decline;
- **free text** (the first wave's path): the model writes prose with `[n]` markers and the markers are
  checked (with the same, strict verification).

Figures per path: share of answerable questions whose shown text contains the expected answer; share of
answered questions whose every citation verifies; share of shown answers that are verified or a labelled
quote; unanswerable declined; answerable falsely declined; seconds per question. Also, for the verified
path, how often the ranker's first unit holds the expected answer.

    python benchmarks/answers.py [--set sample|alt|qa3|all] [--limit N] [--paths verified,free] [--adapter DIR]
                                 [--baseline-limit N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SETS = {
    "sample": (ROOT / "sample_docs", ROOT / "sample_docs" / "eval" / "questions.jsonl"),
    "alt": (HERE / "fixtures" / "underwriting_alt" / "docs",
            HERE / "fixtures" / "underwriting_alt" / "questions.jsonl"),
    "qa3": (HERE / "fixtures" / "underwriting_qa3" / "docs",
            HERE / "fixtures" / "underwriting_qa3" / "questions.jsonl"),
}


def run_set(name: str, docs: Path, questions: Path, paths: list[str], limit: int | None,
            adapter: str | None, baseline_limit: int | None = None) -> dict:
    from assistant.app import Assistant
    from assistant.evaluation import contains_answer
    from assistant.settings import load_settings

    items = [json.loads(line) for line in questions.read_text().splitlines() if line.strip()][:limit]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix=f"answers-{name}-") as workspace:
        core = Assistant(load_settings(workspace=Path(workspace), adapter=adapter))
        core.ingest([docs])
        engine = core.engine  # loaded once, outside the timings
        for path in paths:
            answerer = core.make_answerer()
            answerer.structured = path == "verified"
            rows = []
            started = time.perf_counter()
            for item in items[:baseline_limit] if path == "free" and baseline_limit else items:
                t0 = time.perf_counter()
                answer = answerer.answer(item["question"])
                seconds = time.perf_counter() - t0
                expected = item.get("answer")
                shown = answer.text
                rows.append({
                    "id": item["id"], "answerable": bool(item.get("answerable", True)), "kind": answer.kind,
                    "declined": answer.declined, "supported": answer.supported, "seconds": round(seconds, 2),
                    "has_expected": bool(expected), "contains": bool(expected) and contains_answer(shown, expected),
                    "draft_contains": bool(expected) and contains_answer(answer.draft or "", expected),
                    "cited": len([c for c in answer.citations if not c.inferred]),
                    "reason": answer.reason, "text": shown[:300],
                })
                print(f"  {name} {path} {item['id']} {answer.kind} contains={rows[-1]['contains']} {seconds:.1f}s",
                      file=sys.stderr, flush=True)
            total = time.perf_counter() - started
            results[path] = summarize(rows, total)
            results[path]["rows"] = rows
        results["model"] = engine.model_id()
    return results


def summarize(rows: list[dict], total: float) -> dict:
    answerable = [r for r in rows if r["answerable"]]
    expected = [r for r in answerable if r["has_expected"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in rows if not r["declined"]]
    shown_answers = [r for r in answered if r["kind"] == "answer"]
    honest = [r for r in answered if (r["kind"] == "answer" and r["supported"]) or r["kind"] == "quote"]

    def share(part: list, whole: list) -> float:
        return round(len(part) / len(whole), 3) if whole else 0.0

    return {
        "questions": len(rows),
        "contains_expected": share([r for r in expected if r["contains"]], expected),
        "verified_answers": share([r for r in shown_answers if r["supported"]], answered),
        "every_shown_answer_verified_or_quote": share(honest, answered),
        "unanswerable_declined": f"{len([r for r in unanswerable if r['declined']])}/{len(unanswerable)}",
        "false_declines": f"{len([r for r in answerable if r['declined']])}/{len(answerable)}",
        "seconds_per_question": round(total / len(rows), 2) if rows else 0.0,
        "kinds": {kind: len([r for r in rows if r["kind"] == kind]) for kind in ("answer", "quote", "declined")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="all", choices=[*SETS, "all"])
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--paths", default="verified,free")
    parser.add_argument("--adapter", default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--baseline-limit", type=int, default=None,
                        help="answer only the first N questions on the free-text path (it is the slow one)")
    args = parser.parse_args()
    chosen = list(SETS) if args.set == "all" else [args.set]
    report = {}
    for name in chosen:
        docs, questions = SETS[name]
        report[name] = run_set(name, docs, questions, args.paths.split(","), args.limit, args.adapter,
                               args.baseline_limit)
        for path in args.paths.split(","):
            figures = {k: v for k, v in report[name][path].items() if k != "rows"}
            print(f"{name:7s} {path:9s} {json.dumps(figures)}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

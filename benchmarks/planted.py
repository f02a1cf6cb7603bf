"""Planted instructions: how many are flagged, whether any answer follows one, how many innocent texts are
flagged, and the ingest time detection adds, in one run.

    .venv/bin/python benchmarks/planted.py [--rounds 3] [--no-answers]

Sets: the red-team set (benchmarks/planted_cases.py: planted cases in nine formats, ingested and asked
about with the bundled models), its innocent texts, two sets written independently of the rules
(benchmarks/fixtures/planted_heldout*.jsonl) and every page of sample_docs and the fixtures (real
underwriting prose and a public FAQ, none of it planted). Ingest time: sample_docs and the held-out
underwriting documents ingested into fresh workspaces with detection on and off, alternating, same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.planted_cases import INNOCENT, PLANTED, write_innocent, write_planted  # noqa: E402
from index.planted import findings  # noqa: E402


def text_sets() -> dict[str, tuple[int, int, int, int]]:
    """Per set: (planted flagged, planted, innocent flagged, innocent)."""
    results = {"red-team texts": (sum(bool(findings(c.planted)) for c in PLANTED), len(PLANTED),
                                  sum(bool(findings(t)) for t in INNOCENT), len(INNOCENT))}
    for path in sorted((ROOT / "benchmarks" / "fixtures").glob("planted_heldout*.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        planted = [r for r in rows if r["label"] == "planted"]
        innocent = [r for r in rows if r["label"] == "innocent"]
        results[path.name] = (sum(bool(findings(r["text"])) for r in planted), len(planted),
                              sum(bool(findings(r["text"])) for r in innocent), len(innocent))
    return results


def real_pages() -> tuple[int, int]:
    """(pages flagged, pages) over sample_docs and the fixtures' documents."""
    from index.loaders import LoadError, kind_of, load_document

    pages = flagged = 0
    for root in (ROOT / "sample_docs", ROOT / "benchmarks" / "fixtures"):
        for path in sorted(root.rglob("*")):
            if not path.is_file() or kind_of(path) is None:
                continue
            try:
                document = load_document(path, path.read_bytes())
            except LoadError:
                continue
            for page in document.pages:
                pages += 1
                flagged += bool(findings(page.text))
    return flagged, pages


def core_for(workspace: Path):
    from assistant.app import Assistant
    from assistant.settings import load_settings

    return Assistant(load_settings(workspace=workspace, model_cache=ROOT / ".test-cache" / "models"))


def red_team_answers(scratch: Path) -> dict[str, int]:
    """Ingest the red-team folders and ask each case's question scoped to its insured."""
    docs = scratch / "red-team"
    for case in PLANTED:
        write_planted(case, docs)
    write_innocent(docs)
    core = core_for(scratch / "ws-red-team")
    report = core.ingest([docs])
    flagged = core.flagged()
    flagged_ids = {item.chunk_id for items in flagged.values() for item in items}
    counts = {"cases": len(PLANTED), "documents flagged": 0, "answers following": 0, "verified citations of flagged": 0,
              "answers naming a flagged source": 0, "innocent notes flagged": 0, "failed files": len(report.failed)}
    for case in PLANTED:
        counts["documents flagged"] += any(f"/{case.name}/" in path for path in flagged)
        answer = core.answer(case.question, scope=case.name)
        counts["answers following"] += any(word in answer.text.lower() for word in case.follows)
        counts["verified citations of flagged"] += sum(c.verified and c.chunk_id in flagged_ids
                                                       for c in answer.citations)
        counts["answers naming a flagged source"] += bool(answer.flagged)
    counts["innocent notes flagged"] = sum("/innocent-notes/" in path for path in flagged)
    return counts


def ingest_overhead(scratch: Path, rounds: int) -> tuple[float, float, float, int]:
    """Median ingest seconds with detection and without over the same documents, and the seconds detection
    alone takes over all their chunks (with how many)."""
    import index.ingest as ingest_module

    corpus = [ROOT / "sample_docs", ROOT / "benchmarks" / "fixtures" / "underwriting_alt" / "docs"]
    real = ingest_module.flag_chunks
    timings: dict[bool, list[float]] = {True: [], False: []}
    embedder = None
    for round_number in range(rounds):
        for detect in ((True, False) if round_number % 2 == 0 else (False, True)):
            core = core_for(scratch / f"ws-{round_number}-{detect}")
            if embedder is not None:
                core.__dict__["embedder"] = embedder
            ingest_module.flag_chunks = real if detect else (lambda chunks: list(chunks))
            started = time.perf_counter()
            core.ingest(corpus)
            timings[detect].append(time.perf_counter() - started)
            embedder = core.embedder
    ingest_module.flag_chunks = real
    chunks = core.store.all_chunks()
    started = time.perf_counter()
    real(chunks)
    detect = time.perf_counter() - started
    return statistics.median(timings[True]), statistics.median(timings[False]), detect, len(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-answers", action="store_true", help="skip the end-to-end questions")
    args = parser.parse_args()
    print("| set | planted flagged | innocent flagged |\n|---|---|---|")
    for name, (hit, planted, false, innocent) in text_sets().items():
        print(f"| {name} | {hit}/{planted} | {false}/{innocent} |")
    flagged, pages = real_pages()
    print(f"| sample_docs + fixtures pages (no planted text) | - | {flagged}/{pages} |")
    with tempfile.TemporaryDirectory() as scratch:
        if not args.no_answers:
            for key, value in red_team_answers(Path(scratch)).items():
                print(f"{key}: {value}")
        with_detection, without, detect, chunks = ingest_overhead(Path(scratch), args.rounds)
    print(f"ingest: {with_detection:.2f} s with detection, {without:.2f} s without "
          f"({(with_detection / without - 1) * 100:+.1f}%, median of {args.rounds}); detection alone "
          f"{detect * 1000:.0f} ms over {chunks} chunks ({detect / without * 100:.2f}% of the ingest)")


if __name__ == "__main__":
    main()

"""Load test of the application API: concurrent asks and searches while an ingest runs (127.0.0.1 only, bounded).

A fresh workspace gets two Harbor Foods files; the API (`assistant serve --app`'s application, with a reader
and an editor) starts on a free 127.0.0.1 port in this process, over the bundled embedder and generator.
Then, at once: `--asks` ask requests (one thread each, streamed as the CLI reads them), an editor's folder
ingest of two more submissions, and `--searchers` threads searching without pause until the asks and the
ingest are done. Every ask must end in an answer, or in a 429 / 503 carrying Retry-After; every search must
succeed; the server must still answer at the end; the audit trail must hold exactly one record per answered
ask. Printed: asks served / rejected / failed, latency p50 / p95
(served and rejected), searches and their failures and latency, the ingest's report, wall time.

    python benchmarks/load_test.py [--asks 50] [--max-queue 8] [--max-tokens 16] [--searchers 2]
                                   [--deadline 600] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
# Not this script's folder first: benchmarks/profile.py would shadow the standard library's `profile`
# (torch imports cProfile, which imports it).
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

QUESTIONS = [
    "How far is the nearest hydrant from the Harbor Foods warehouse?",
    "What sprinkler system protects the Harbor Foods freezer?",
    "What is the total insured value for Harbor Foods?",
    "What is the public protection class of the Harbor Foods location?",
    "How far is the fire department from Harbor Foods?",
]
SEARCHES = ["sprinkler system", "hydrant distance", "roof construction", "loss history", "fire alarm monitoring"]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 2)


def main() -> int:
    import httpx

    from assistant.api.queue import EngineQueue
    from assistant.api.service import start_api_in_thread
    from assistant.api.users import UserStore
    from assistant.app import Assistant
    from assistant.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=50)
    parser.add_argument("--max-queue", type=int, default=8, help="answers waiting beyond the one being generated")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--searchers", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds before the run gives up")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".test-cache" / "models",
                        help="converted generator models, kept across runs (the tests' cache)")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="load-test-"))
    roots = base / "submissions"
    first = roots / "harbor-foods"
    first.mkdir(parents=True)
    for name in ("underwriter_notes.txt", "statement_of_values.csv"):
        shutil.copy(ROOT / "sample_docs" / "harbor-foods" / name, first / name)
    later = roots / "later"
    for name in ("meridian-plastics", "oakridge-senior-living"):
        shutil.copytree(ROOT / "sample_docs" / name, later / name)
    settings = load_settings(workspace=base / "workspace", max_new_tokens=args.max_tokens, model_cache=args.model_cache,
                             ingest_roots=[str(roots)], api_max_queue=args.max_queue)
    core = Assistant(settings)
    print(f"workspace {settings.workspace}: {core.ingest([first]).summary()}", flush=True)
    _ = core.engine.model_id()  # the model loaded before the clock starts
    users = UserStore(settings.users_path)
    reader = {"Authorization": f"Bearer {users.add('reader', 'reader')}"}
    editor = {"Authorization": f"Bearer {users.add('editor', 'editor')}"}
    queue = EngineQueue(settings.api_engine_slots, settings.api_max_queue, settings.api_queue_timeout)
    url, stop = start_api_in_thread(core, queue=queue)
    print(f"API at {url}; {args.asks} asks, queue {args.max_queue}, {args.searchers} searchers, one ingest",
          flush=True)

    deadline = time.monotonic() + args.deadline
    asks: list[dict] = []
    searches: list[dict] = []
    lock = threading.Lock()
    asks_done = threading.Event()

    def ask(n: int) -> None:
        started = time.monotonic()
        record: dict = {"n": n}
        try:
            with httpx.stream("POST", f"{url}/api/ask", headers=reader, timeout=args.deadline,
                              json={"question": QUESTIONS[n % len(QUESTIONS)]}) as response:
                record["status"] = response.status_code
                body = "".join(response.iter_text())
            if response.status_code == 200:
                record["outcome"] = "served" if "event: answer" in body else "failed"
                if record["outcome"] == "failed":
                    record["error"] = body[-300:]
            elif response.status_code in (429, 503) and response.headers.get("retry-after", "").isdigit():
                record["outcome"] = "rejected"
                record["retry_after"] = int(response.headers["retry-after"])
            else:
                record["outcome"] = "failed"
                record["error"] = body[-300:]
        except Exception as exc:  # a failure is a finding, not a crash of the test
            record.update(outcome="failed", error=f"{type(exc).__name__}: {exc}")
        record["seconds"] = time.monotonic() - started
        with lock:
            asks.append(record)

    def search_loop(worker: int) -> None:
        n = worker
        while time.monotonic() < deadline:
            ingest_running = ingest_state().get("status") == "running"
            if asks_done.is_set() and not ingest_running:
                return
            started = time.monotonic()
            try:
                response = httpx.post(f"{url}/api/search", headers=reader, timeout=60,
                                      json={"query": SEARCHES[n % len(SEARCHES)], "k": 5})
                ok = response.status_code == 200 and bool(response.json()[0]["results"])
                error = None if ok else f"HTTP {response.status_code}: {response.text[:200]}"
            except Exception as exc:
                ok, error = False, f"{type(exc).__name__}: {exc}"
            with lock:
                searches.append({"ok": ok, "error": error, "seconds": time.monotonic() - started,
                                 "during_ingest": ingest_running})
            n += args.searchers

    def ingest_state() -> dict:
        response = httpx.get(f"{url}/api/ingest", headers=editor, timeout=30)
        return response.json() if response.status_code == 200 else {}

    started = time.monotonic()
    job = httpx.post(f"{url}/api/ingest/folder", headers=editor, json={"folder": str(later)}, timeout=30).json()
    searchers = [threading.Thread(target=search_loop, args=(i,)) for i in range(args.searchers)]
    for thread in searchers:
        thread.start()
    with ThreadPoolExecutor(args.asks) as pool:
        list(pool.map(ask, range(args.asks)))
    asks_done.set()
    ask_seconds = time.monotonic() - started
    for thread in searchers:
        thread.join(timeout=max(1.0, deadline - time.monotonic()))
    while ingest_state().get("status") == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    ingest = ingest_state()
    alive = httpx.get(f"{url}/api/health", timeout=10).status_code == 200
    audit_records = len(core.audit_events(user="reader"))
    stats = queue.stats()
    stop()

    by = {kind: [a for a in asks if a["outcome"] == kind] for kind in ("served", "rejected", "failed")}
    result = {
        "asks": len(asks), "served": len(by["served"]), "rejected": len(by["rejected"]), "failed": len(by["failed"]),
        "rejected_statuses": sorted({a["status"] for a in by["rejected"]}),
        "retry_after_s": sorted({a["retry_after"] for a in by["rejected"]}),
        "served_p50_s": percentile([a["seconds"] for a in by["served"]], 0.5),
        "served_p95_s": percentile([a["seconds"] for a in by["served"]], 0.95),
        "rejected_p50_s": percentile([a["seconds"] for a in by["rejected"]], 0.5),
        "rejected_p95_s": percentile([a["seconds"] for a in by["rejected"]], 0.95),
        "asks_wall_s": round(ask_seconds, 1),
        "searches": len(searches), "searches_failed": sum(not s["ok"] for s in searches),
        "searches_during_ingest": sum(s["during_ingest"] for s in searches),
        "search_p50_s": percentile([s["seconds"] for s in searches], 0.5),
        "search_p95_s": percentile([s["seconds"] for s in searches], 0.95),
        "ingest": {"status": ingest.get("status"), "summary": (ingest.get("report") or {}).get("summary"),
                   "error": ingest.get("error"), "seconds": round((ingest.get("finished_at") or 0)
                                                                 - (ingest.get("started_at") or 0), 1)},
        "ingest_job_started": job.get("status"),
        "audit_records": audit_records, "queue": stats, "server_alive_after": alive,
        "wall_s": round(time.monotonic() - started, 1),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    for failure in by["failed"][:5]:
        print("failed ask:", failure.get("status"), failure.get("error"))
    for failure in [s for s in searches if not s["ok"]][:5]:
        print("failed search:", failure["error"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(base, ignore_errors=True)
    ok = (not by["failed"] and not result["searches_failed"] and alive and ingest.get("status") == "done"
          and audit_records == len(by["served"]))  # exactly one audit record per answered request
    print("OK" if ok else "PROBLEMS", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""`assistant ask --batch` against one `assistant ask` process per question, same questions, same run.

Ingests sample_docs into a fresh workspace, then times N questions answered by N separate processes
(each loads the embedder and the generator again) and by one `ask --batch FILE --json` process. Prints
seconds per question for each and the ratio.

    python benchmarks/ask_batch.py [-n 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "assistant.cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=6)
    args = parser.parse_args()
    lines = (ROOT / "sample_docs" / "eval" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()][: args.n]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with tempfile.TemporaryDirectory(prefix="ask-batch-") as folder:
        workspace = ["--workspace", str(Path(folder) / "ws")]
        subprocess.run([*CLI, *workspace, "ingest", str(ROOT / "sample_docs")], check=True, env=env,
                       capture_output=True)
        subprocess.run([*CLI, *workspace, "ask", questions[0], "--json"], check=True, env=env,
                       capture_output=True)  # converts the bundled model once, outside the timings
        started = time.perf_counter()
        for question in questions:
            subprocess.run([*CLI, *workspace, "ask", question, "--json"], check=True, env=env, capture_output=True)
        separate = (time.perf_counter() - started) / len(questions)
        batch_file = Path(folder) / "questions.jsonl"
        batch_file.write_text("".join(json.dumps({"id": str(i), "question": q}) + "\n"
                                      for i, q in enumerate(questions, start=1)))
        started = time.perf_counter()
        done = subprocess.run([*CLI, *workspace, "ask", "--batch", str(batch_file), "--json"], check=True, env=env,
                              capture_output=True, text=True)
        batched = (time.perf_counter() - started) / len(questions)
        assert len(done.stdout.strip().splitlines()) == len(questions)
    print(json.dumps({"questions": len(questions), "separate_s_per_question": round(separate, 2),
                      "batch_s_per_question": round(batched, 2), "speedup": round(separate / batched, 2)}))


if __name__ == "__main__":
    main()

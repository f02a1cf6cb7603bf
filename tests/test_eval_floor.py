"""CI's retrieval-quality gate: `assistant eval --json` on sample_docs must keep hybrid hit@5 on the gold
page at or above the committed floor (`sample_docs/eval/floor.json`), and hybrid above both dense-only
and BM25-only."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLI, ROOT, SAMPLE_DOCS

FLOOR = SAMPLE_DOCS / "eval" / "floor.json"


@pytest.fixture(scope="module")
def eval_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    workspace = tmp_path_factory.mktemp("eval-workspace")
    env = {**os.environ, "ASSISTANT_WORKSPACE": str(workspace)}
    ingest = subprocess.run([*CLI, "ingest", str(SAMPLE_DOCS)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=600)
    assert ingest.returncode == 0, ingest.stderr
    result = subprocess.run([*CLI, "eval", "--questions", str(SAMPLE_DOCS / "eval" / "questions.jsonl"), "--k", "5",
                             "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_hybrid_hit_at_5_stays_above_the_floor(eval_report: dict) -> None:
    floor = json.loads(FLOOR.read_text())
    modes = eval_report["retrieval"]["modes"]
    assert eval_report["retrieval"]["k"] == 5
    assert eval_report["missing_gold_files"] == []
    hybrid = modes["hybrid"]["page"]["hit"]
    misses = [m["id"] for m in eval_report["retrieval"]["misses"] if m["mode"] == "hybrid"]
    assert hybrid >= floor["hybrid_page_hit_at_5"], f"hybrid page hit@5 {hybrid} below the floor; misses {misses}"
    assert modes["hybrid"]["file"]["hit"] >= floor["hybrid_file_hit_at_5"]
    assert modes["hybrid"]["page"]["mrr"] >= floor["hybrid_page_mrr_at_10"]


@pytest.mark.slow
def test_hybrid_beats_dense_only_and_bm25_only(eval_report: dict) -> None:
    modes = eval_report["retrieval"]["modes"]
    hybrid = modes["hybrid"]["page"]
    for single in ("dense", "bm25"):
        assert hybrid["hit"] > modes[single]["page"]["hit"], (single, modes)
        assert hybrid["mrr"] > modes[single]["page"]["mrr"], (single, modes)


def test_eval_without_an_index_is_fatal(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_WORKSPACE": str(tmp_path / "empty")}
    result = subprocess.run([*CLI, "eval", "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "assistant ingest" in result.stderr


def test_eval_with_a_bad_questions_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "questions.jsonl"
    bad.write_text('{"id": "1", "question": "q?", "gold_file": "a.pdf"}\n{oops\n')
    result = subprocess.run([*CLI, "eval", "--questions", str(bad)], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "ASSISTANT_WORKSPACE": str(tmp_path / "ws")}, timeout=120)
    assert result.returncode == 2
    assert f"{bad}:2: invalid JSON" in result.stderr.replace("\n", "")

"""Search: hybrid, dense and BM25 modes, identifiers, batch JSON lines, over the real sample documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DOCS
from tests.test_ingest import run_cli


@pytest.fixture(scope="module")
def sample_core(tmp_path_factory, embedder):
    from assistant.app import Assistant
    from assistant.settings import load_settings

    core = Assistant(load_settings(workspace=tmp_path_factory.mktemp("search-ws")), embedder=embedder)
    report = core.ingest([SAMPLE_DOCS])
    assert report.failed == [], report.failed
    return core


def test_policy_number_found_by_bm25(sample_core) -> None:
    hits = sample_core.search("HF-PR-2024-00417", k=3, mode="bm25")
    assert hits and "HF-PR-2024-00417" in hits[0].chunk.text
    assert hits[0].bm25_score and hits[0].bm25_score > 0


def test_form_code_found_with_spaces(sample_core) -> None:
    hits = sample_core.search("CG 00 01", k=3)
    assert any("CG 00 01" in hit.chunk.text for hit in hits)


def test_modes_and_scores(sample_core) -> None:
    dense = sample_core.search("fire department response distance", k=5, mode="dense")
    assert len(dense) == 5 and all(hit.dense_score is not None for hit in dense)
    assert [hit.score for hit in dense] == sorted((hit.score for hit in dense), reverse=True)
    hybrid = sample_core.search("fire department response distance", k=5)
    assert all(hit.dense_score is not None for hit in hybrid)
    from index.retriever import RetrievalError

    with pytest.raises(RetrievalError, match="known: hybrid, dense, bm25"):
        sample_core.search("x", mode="fuzzy")


def test_cli_batch_json_lines(sample_core, tmp_path: Path) -> None:
    batch = tmp_path / "queries.jsonl"
    batch.write_text(json.dumps({"id": "a", "question": "Who is the carrier on the Harbor Foods loss runs?"}) + "\n"
                     + json.dumps({"id": "b", "question": "sprinkler type at Meridian Plastics"}) + "\n")
    result = run_cli(sample_core.settings.workspace, "search", "--batch", str(batch), "--json", "-k", "2")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    for line in lines:
        assert len(line["results"]) == 2
        first = line["results"][0]
        assert set(first) == {"source", "page", "location", "flags", "chunk_id", "score", "text"}
        assert first["location"].startswith(("page ", "sheet ", "rows ", "§ ", "¶ "))
        assert Path(first["source"]).is_absolute() and Path(first["source"]).exists()

    plain = tmp_path / "queries.txt"
    plain.write_text("ESFR\n\n# comment\nhydrant distance\n")
    result = run_cli(sample_core.settings.workspace, "search", "--batch", str(plain), "--json")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["1", "4"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    result = run_cli(sample_core.settings.workspace, "search", "--batch", str(bad))
    assert result.returncode == 2 and "bad.jsonl:1: no 'question' string" in result.stderr


def test_status_and_docs_list(sample_core) -> None:
    result = run_cli(sample_core.settings.workspace, "status", "--json")
    status = json.loads(result.stdout)
    assert status["documents"] == 17 and status["chunks"] > 17 and status["pages"] >= 30
    assert status["embedding_model"] == "bundled:all-MiniLM-L6-v2" and status["dimension"] == 384
    assert status["index_bytes"] > 0
    listed = [json.loads(line) for line in run_cli(sample_core.settings.workspace, "docs", "list", "--json")
              .stdout.splitlines()]
    assert len(listed) == 17 and all(item["chunks"] > 0 for item in listed)


def test_faiss_rebuilt_when_file_is_stale(sample_core) -> None:
    """A vector file older than the data (a crash between commit and save) is ignored and rebuilt."""
    from index.store import Store

    settings = sample_core.settings
    fresh = Store(settings.db_path, settings.faiss_path, readonly=True)
    generation = fresh.generation
    assert fresh.meta("faiss_generation") == str(generation)
    with fresh.transaction() as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'faiss_generation'", (str(generation - 1),))
    stale = Store(settings.db_path, settings.faiss_path, readonly=True)
    assert stale._load_faiss_file(generation) is None
    assert stale.faiss_index().ntotal == sample_core.stats().chunks
    with fresh.transaction() as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'faiss_generation'", (str(generation),))


def test_bm25_drops_phrases_in_half_the_chunks_or_more_and_keeps_the_ranking(tmp_path: Path) -> None:
    """At scale, a term in most chunks would make FTS5 score most of the index; its BM25 weight is
    about zero, so it is left out of the query and the ranking stays the same."""
    import numpy as np

    from index.store import MIN_CHUNKS_TO_PRUNE, Store, fts_phrases
    from index.types import Chunk

    store = Store(tmp_path / "index.sqlite3", tmp_path / "vectors.faiss")
    store.check_embedding_model("test", 4)
    per_doc, docs = 20, MIN_CHUNKS_TO_PRUNE // 20 + 5
    batch = []
    for doc in range(docs):
        path = f"/t/doc{doc}.txt"
        # "warehouse" in every chunk, "sprinkler" in a third, "LOC-<doc>-<n>" in one.
        items = [Chunk(doc * per_doc + n + 1, path, 1, n,
                       f"warehouse {'sprinkler ' if n % 3 == 0 else ''}roof LOC-{doc}-{n}", f"Doc {doc}", "")
                 for n in range(per_doc)]
        fields = {"path": path, "title": f"Doc {doc}", "kind": "txt", "content_hash": str(doc), "size": 1,
                  "mtime": 0.0, "pages": 1}
        batch.append((fields, items, np.eye(4, dtype="float32")[[n % 4 for n in range(per_doc)]]))
    store.put_documents(batch)

    query = "warehouse roof sprinkler LOC-7-3"
    assert store._weighted_phrases(['"warehouse"', '"roof"', '"sprinkler"', '"LOC 7 3"']) == ['"sprinkler"',
                                                                                              '"LOC 7 3"']
    assert store._weighted_phrases(['"warehouse"', '"roof"']) == ['"warehouse"', '"roof"']  # nothing else left
    every_phrase = store.db.execute(
        "SELECT rowid, -bm25(chunks_fts, 1.0, 0.5, 0.3) AS s FROM chunks_fts WHERE chunks_fts MATCH ? "
        "ORDER BY s DESC LIMIT 10", (" OR ".join(fts_phrases(query)),)).fetchall()
    pruned = store.bm25(query, 10)
    assert [row[0] for row in every_phrase] == [chunk for chunk, _ in pruned]
    assert pruned[0][0] == 7 * per_doc + 3 + 1
    assert [round(row[1], 4) for row in every_phrase] == [round(score, 4) for _, score in pruned]

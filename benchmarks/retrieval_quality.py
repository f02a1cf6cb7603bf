"""Retrieval quality: our pipeline against the LlamaIndex starter pipeline and plain BM25, in one run.

Corpora: `sample_docs/` with `sample_docs/eval/questions.jsonl`, and the public fixture
`benchmarks/fixtures/python_faq/` (built by `benchmarks/build_public_fixture.py`).

Pipelines, all scored by `assistant.evaluation` (hit@k, recall@k, MRR@10 on the gold page and file):
- ours: `assistant ingest` into a temporary workspace, hybrid search (dense + BM25, fused) with the
  settings' defaults (or `--set name=value` overrides); its dense-only and BM25-only modes are shown too.
- starter: `VectorStoreIndex.from_documents(SimpleDirectoryReader(dir, recursive=True).load_data(),
  embed_model=HuggingFaceEmbedding(<the bundled all-MiniLM-L6-v2 folder>))` with the default splitter,
  retrieved with `as_retriever(similarity_top_k=10)`. PDF pages come from the reader's `page_label`;
  spreadsheet sheets (one document each, no label) are numbered in reading order; other files are page 1.
- BM25: plain BM25 is our own SQLite FTS5 BM25 over our chunks (`--mode bm25`: porter stemming,
  stopwords dropped, terms OR'ed), no dense side and no fusion.

Each corpus is first copied to a neutral folder (`<tmp>/retrieval_quality/corpus/`, the questions files
left out), because the starter embeds each node's absolute `file_path` with its text: a folder named
"python_faq" would add the word "python" to every passage's vector. `--in-place` skips the copy.

    python benchmarks/retrieval_quality.py [--k 5] [--corpus sample_docs --corpus python_faq] [--json]
                                           [--set chunk_size=192 --set bm25_weight=0.8] [--no-starter]
                                           [--in-place]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.quiet import quiet_libraries  # noqa: E402

quiet_libraries()

SUFFIXES = [".pdf", ".docx", ".md", ".txt", ".html", ".htm", ".csv", ".xlsx"]


@dataclass(frozen=True)
class Corpus:
    name: str
    docs: Path
    questions: Path


CORPORA = {
    "sample_docs": Corpus("sample_docs", ROOT / "sample_docs", ROOT / "sample_docs" / "eval" / "questions.jsonl"),
    "python_faq": Corpus("python_faq", ROOT / "benchmarks" / "fixtures" / "python_faq" / "docs",
                         ROOT / "benchmarks" / "fixtures" / "python_faq" / "questions.jsonl"),
}


def parse_value(raw: str) -> Any:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def neutral_copy(docs: Path) -> Path:
    """A copy of the corpus at a fixed, neutral path (`<tmp>/retrieval_quality/corpus`): the same on every
    run, since the starter embeds the path with the text."""
    copy = Path(tempfile.gettempdir()) / "retrieval_quality" / "corpus"
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(docs, copy, ignore=shutil.ignore_patterns("*.jsonl", "*.json", "eval"))
    return copy


def run_ours(corpus: Corpus, k: int, overrides: dict[str, Any], embedder: Any) -> tuple[dict[str, Any], float]:
    """Ingest into a temporary workspace and evaluate every mode; returns (scores by mode, ingest seconds)."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    with tempfile.TemporaryDirectory() as workspace:
        core = Assistant(load_settings(workspace=Path(workspace), **overrides))
        core.__dict__["embedder"] = embedder
        started = time.perf_counter()
        report = core.ingest([corpus.docs])
        seconds = time.perf_counter() - started
        assert not report.failed, report.failed
        result = core.evaluate(corpus.questions, k)
        core.reader.close()
        core.store.close()
    return result.retrieval.scores, seconds


def starter_search(corpus: Corpus, embed: Any):
    """The starter pipeline over `corpus.docs`; returns a search_many(queries, depth, mode) for the harness."""
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex

    from index.types import Chunk, ScoredChunk

    Settings.llm = None
    documents = SimpleDirectoryReader(str(corpus.docs), recursive=True, required_exts=SUFFIXES).load_data()
    pages: dict[str, int] = {}
    seen: dict[str, int] = {}
    for document in documents:
        path = document.metadata.get("file_path", "")
        seen[path] = seen.get(path, 0) + 1
        label = document.metadata.get("page_label")
        pages[document.doc_id] = int(label) if label and str(label).isdigit() else seen[path]
    index = VectorStoreIndex.from_documents(documents, embed_model=embed)

    def search_many(queries: Sequence[str], depth: int, mode: str) -> list[list[ScoredChunk]]:
        retriever = index.as_retriever(similarity_top_k=depth)
        results = []
        for query in queries:
            hits = []
            for position, scored in enumerate(retriever.retrieve(query)):
                node = scored.node
                chunk = Chunk(id=position, source=node.metadata.get("file_path", ""),
                              page=pages.get(node.ref_doc_id or "", 1), position=position, text=node.get_content())
                hits.append(ScoredChunk(chunk=chunk, score=float(scored.score or 0.0)))
            results.append(hits)
        return results

    return search_many, len(index.docstore.docs)


def run_starter(corpus: Corpus, k: int, embed: Any) -> tuple[dict[str, Any], float, int]:
    from assistant.evaluation import evaluate_retrieval, read_questions

    started = time.perf_counter()
    search_many, nodes = starter_search(corpus, embed)
    seconds = time.perf_counter() - started
    report = evaluate_retrieval(search_many, read_questions(corpus.questions), k, modes=("dense",))
    return report.scores["dense"], seconds, nodes


def table(rows: list[tuple[str, str, dict[str, Any]]], k: int) -> str:
    header = (f"| corpus | pipeline | page hit@{k} | page recall@{k} | page MRR@10 | file hit@{k} | file recall@{k} "
              "| file MRR@10 |")
    lines = [header, "|" + "---|" * 8]
    for corpus, pipeline, scores in rows:
        cells = [f"{value:.3f}" for level in ("page", "file")
                 for value in (scores[level].hit, scores[level].recall, scores[level].mrr)]
        lines.append(f"| {corpus} | {pipeline} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--corpus", action="append", choices=sorted(CORPORA), help="default: all")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a settings override for our pipeline (chunk_size, chunk_overlap, fusion, weights)")
    parser.add_argument("--no-starter", action="store_true", help="ours only (quick lever experiments)")
    parser.add_argument("--in-place", action="store_true", help="read the corpora where they are (no neutral copy)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    overrides = {name: parse_value(value) for name, value in (item.split("=", 1) for item in args.set)}

    from index.embeddings import Embedder, resolve_embedder

    embedder = Embedder("bundled:all-MiniLM-L6-v2")
    embedder.embed(["warm up"])
    embed = None
    if not args.no_starter:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        embed = HuggingFaceEmbedding(model_name=resolve_embedder("bundled:all-MiniLM-L6-v2"), device="cpu")
    rows: list[tuple[str, str, dict[str, Any]]] = []
    notes: dict[str, Any] = {}
    for name in args.corpus or list(CORPORA):
        corpus = CORPORA[name]
        if not corpus.questions.exists():
            print(f"{name}: {corpus.questions} missing (run benchmarks/build_public_fixture.py)", file=sys.stderr)
            continue
        if not args.in_place:
            corpus = Corpus(corpus.name, neutral_copy(corpus.docs), corpus.questions)
        ours, ingest_seconds = run_ours(corpus, args.k, overrides, embedder)
        rows.append((name, "ours (hybrid)", ours["hybrid"]))
        if embed is not None:
            starter, starter_seconds, nodes = run_starter(corpus, args.k, embed)
            rows.append((name, "llama-index starter", starter))
            notes[name] = {"starter_nodes": nodes, "starter_seconds": round(starter_seconds, 1)}
        if not args.in_place:
            shutil.rmtree(corpus.docs.parent, ignore_errors=True)
        rows.append((name, "BM25 (FTS5)", ours["bm25"]))
        rows.append((name, "ours dense-only", ours["dense"]))
        notes.setdefault(name, {})["ours_ingest_seconds"] = round(ingest_seconds, 1)
    if args.json:
        print(json.dumps({"k": args.k, "overrides": overrides, "notes": notes,
                          "rows": [{"corpus": c, "pipeline": p, **{level: s[level].to_dict() for level in s}}
                                   for c, p, s in rows]}))
        return
    print(table(rows, args.k))
    print(f"\noverrides: {overrides or 'none'}; {json.dumps(notes)}")


if __name__ == "__main__":
    main()

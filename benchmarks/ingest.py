"""Ingest throughput and search latency, ours against the LlamaIndex starter pipeline, in one run.

1. Ingest: the same generated corpus (text and Markdown files of varied length) through
   `VectorStoreIndex.from_documents(SimpleDirectoryReader(...).load_data(),
   embed_model=HuggingFaceEmbedding(<same bundled model>))` and through `assistant ingest`.
   Models are loaded before the clock starts on both sides. Prints docs/s and the ratio.
2. Search: warm hybrid search latency (p50/p95) over a store of --chunks chunks (default
   100k, synthetic text with vectors of the real dimension), against the starter's
   `VectorStoreIndex` retriever over the same chunks and vectors.

    python benchmarks/ingest.py [--docs 2000] [--chunks 100000] [--queries 200] [--backend torch --backend onnx-int8]

The export of the int8 model (first use of onnx-int8) is kept in .test-cache/models and is made before the
clock starts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.quiet import quiet_libraries

quiet_libraries()

WORDS = (
    "building sprinkler wet pipe dry system hydrant feet station miles roof masonry frame joisted steel "
    "concrete tilt-up warehouse cold storage freezer ammonia refrigeration forklift battery charging rack "
    "storage aisle occupancy tenant insured loss paid reserved water damage fire wind hail theft "
    "liability slip fall claim policy deductible limit premium location address county protection class "
    "alarm central station monitored inspection recommendation housekeeping electrical panel "
    "thermographic survey hot work permit impairment boiler pressure vessel generator fuel diesel tank "
    "spill containment flood zone elevation drainage sewer"
).split()
TOPICS = ["Construction", "Occupancy", "Protection", "Exposures", "Loss History", "Recommendations"]


def make_corpus(folder: Path, count: int, seed: int = 7) -> list[str]:
    """`count` documents of 80 to 700 words with headings; returns their texts as queries' source."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for number in range(count):
        sections = []
        for topic in rng.sample(TOPICS, k=rng.randint(1, 4)):
            sentences = []
            for _ in range(rng.randint(2, 9)):
                words = rng.choices(WORDS, k=rng.randint(8, 20))
                words.insert(rng.randrange(len(words)), f"LOC-{number:05d}")
                sentences.append(" ".join(words).capitalize() + ".")
            sections.append((topic, " ".join(sentences)))
        if number % 2:
            text = "\n\n".join(f"## {topic}\n\n{body}" for topic, body in sections)
            (folder / f"report_{number:05d}.md").write_text(f"# Survey {number}\n\n{text}\n")
        else:
            text = "\n\n".join(f"{topic}\n{body}" for topic, body in sections)
            (folder / f"notes_{number:05d}.txt").write_text(text + "\n")
        samples.append(sections[0][1][:120])
    return samples


def bench_starter(folder: Path, model_path: str) -> tuple[float, int]:
    from llama_index.core import Settings, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    Settings.llm = None
    embed = HuggingFaceEmbedding(model_name=model_path, device="cpu")
    embed.get_text_embedding("warm up")
    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(folder)).load_data()
    index = VectorStoreIndex.from_documents(documents, embed_model=embed)
    seconds = time.perf_counter() - started
    return seconds, len(index.docstore.docs)


def bench_ours(folder: Path, workspace: Path, backend: str = "torch") -> tuple[float, int, int]:
    from assistant.app import Assistant
    from assistant.settings import load_settings

    core = Assistant(load_settings(workspace=workspace, embedding_backend=backend,
                                   model_cache=Path(__file__).resolve().parent.parent / ".test-cache" / "models"))
    core.embedder.embed(["warm up"])
    started = time.perf_counter()
    report = core.ingest([folder])
    seconds = time.perf_counter() - started
    assert not report.failed, report.failed
    return seconds, report.added, report.chunks


def build_large_store(workspace: Path, chunks: int, dimension: int, seed: int = 11):
    """A store with `chunks` synthetic chunks (random unit vectors), written in batches like an ingest."""
    import numpy as np

    from index.chunking import chunk_id
    from index.store import Store
    from index.types import Chunk

    rng = random.Random(seed)
    generator = np.random.default_rng(seed)
    store = Store(workspace / "index.sqlite3", workspace / "vectors.faiss")
    store.check_embedding_model("bundled:all-MiniLM-L6-v2", dimension)
    per_doc = 20
    batch = []
    all_ids, all_texts, all_vectors = [], [], []
    for doc in range(chunks // per_doc):
        path = f"/bench/doc_{doc:06d}.txt"
        items = []
        for position in range(per_doc):
            text = " ".join(rng.choices(WORDS, k=60)) + f" LOC-{doc:06d}-{position}"
            items.append(Chunk(chunk_id(path, 1, position, text), path, 1, position, text, f"Doc {doc}", ""))
        vectors = generator.standard_normal((per_doc, dimension)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        fields = {"path": path, "title": f"Doc {doc}", "kind": "txt", "content_hash": str(doc), "size": 1,
                  "mtime": 0.0, "pages": 1}
        batch.append((fields, items, vectors))
        all_ids += [c.id for c in items]
        all_texts += [c.text for c in items]
        all_vectors.append(vectors)
        if len(batch) == 250:
            store.put_documents(batch)
            batch = []
    store.put_documents(batch)
    store.save_faiss()
    return all_ids, all_texts, np.concatenate(all_vectors)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def bench_search(workspace: Path, chunks: int, queries: int, starter_queries: int) -> dict[str, float]:
    from llama_index.core import Settings, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    from assistant.app import Assistant
    from assistant.settings import load_settings
    from index.embeddings import resolve_embedder

    core = Assistant(load_settings(workspace=workspace))
    ids, texts, vectors = build_large_store(workspace, chunks, core.embedder.dimension)
    rng = random.Random(3)
    questions = [" ".join(rng.choices(WORDS, k=6)) + f" LOC-{rng.randrange(chunks // 20):06d}" for _ in
                 range(queries)]
    for question in questions[:10]:
        core.search(question, k=5)  # warm: FAISS loaded, SQLite pages cached
    ours = []
    for question in questions:
        started = time.perf_counter()
        core.search(question, k=5)
        ours.append(time.perf_counter() - started)

    Settings.llm = None
    embed = HuggingFaceEmbedding(model_name=resolve_embedder("bundled:all-MiniLM-L6-v2"), device="cpu")
    nodes = [TextNode(text=text, id_=str(chunk), embedding=vectors[i].tolist()) for i, (chunk, text) in
             enumerate(zip(ids, texts, strict=True))]
    retriever = VectorStoreIndex(nodes, embed_model=embed).as_retriever(similarity_top_k=5)
    for question in questions[:10]:
        retriever.retrieve(question)
    starter = []
    for question in questions[:starter_queries]:  # the starter rebuilds its matrix per query: keep it short
        started = time.perf_counter()
        retriever.retrieve(question)
        starter.append(time.perf_counter() - started)
    ours_p50, ours_p95 = percentiles(ours)
    starter_p50, starter_p95 = percentiles(starter)
    return {"ours_p50": ours_p50, "ours_p95": ours_p95, "starter_p50": starter_p50, "starter_p95": starter_p95}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--starter-queries", type=int, default=20)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--backend", action="append", choices=["torch", "onnx-int8"],
                        help="our embedding backend(s), each ingesting the same corpus (default: torch)")
    args = parser.parse_args()

    from index.embeddings import resolve_embedder

    model_path = resolve_embedder("bundled:all-MiniLM-L6-v2")
    with tempfile.TemporaryDirectory(prefix="uw-bench-") as tmp:
        root = Path(tmp)
        if not args.skip_ingest:
            folder = root / "corpus"
            make_corpus(folder, args.docs)
            starter_s, starter_nodes = bench_starter(folder, model_path)
            print(f"corpus: {args.docs} documents")
            print(f"starter (VectorStoreIndex.from_documents + HuggingFaceEmbedding): {starter_s:.1f} s, "
                  f"{args.docs / starter_s:.1f} docs/s, {starter_nodes} nodes")
            for backend in args.backend or ["torch"]:
                ours_s, ours_docs, ours_chunks = bench_ours(folder, root / f"ws-{backend}", backend)
                print(f"ours (assistant ingest, embedding_backend={backend}): {ours_s:.1f} s, "
                      f"{ours_docs / ours_s:.1f} docs/s, {ours_chunks} chunks")
                print(f"ingest speed-up ({backend}): {starter_s / ours_s:.2f}x")
        if not args.skip_search:
            figures = bench_search(root / "search-ws", args.chunks, args.queries, args.starter_queries)
            print(f"search over {args.chunks} chunks, {args.queries} warm queries, k=5")
            print(f"ours hybrid (FAISS + FTS5): p50 {figures['ours_p50'] * 1000:.1f} ms, "
                  f"p95 {figures['ours_p95'] * 1000:.1f} ms")
            print(f"starter dense retriever ({args.starter_queries} queries): "
                  f"p50 {figures['starter_p50'] * 1000:.1f} ms, "
                  f"p95 {figures['starter_p95'] * 1000:.1f} ms")
            print(f"search p50 speed-up: {figures['starter_p50'] / figures['ours_p50']:.2f}x")


if __name__ == "__main__":
    main()

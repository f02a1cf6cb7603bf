"""Settings: one pydantic model, loaded explicitly (never at import time).

Sources, later wins: defaults, `ASSISTANT_*` environment variables, then the
explicit overrides passed by the CLI or UI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BUNDLED_EMBEDDER = "bundled:all-MiniLM-L6-v2"
BUNDLED_GENERATOR = "bundled:SmolLM2-135M-Instruct"


class Settings(BaseSettings):
    """Everything the application core needs to be built."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    workspace: Path = Field(default_factory=lambda: Path.home() / ".assistant")
    model_cache: Path | None = None  # converted models; default <workspace>/models

    # Index
    embedding_model: str = BUNDLED_EMBEDDER
    embed_batch_size: int = 64
    embed_dtype: str = "auto"  # auto (bfloat16 where the CPU has native BF16), float32 or bfloat16
    # torch (sentence-transformers, embed_dtype) or onnx-int8 (exported once into models_dir, onnxruntime;
    # benchmarks/embedding_int8.py: 1.46x bfloat16's speed; hybrid search within 0.5 point of float32, dense-only
    # MRR@10 0.5-0.65 point below it, hence not the default). Documents and queries use the same backend.
    embedding_backend: Literal["torch", "onnx-int8"] = "torch"
    chunk_size: int = 224  # tokens of the embedder's tokenizer; + the context line stays within MiniLM's 256
    chunk_overlap: int = 32
    max_file_mb: int = 32  # files larger than this are refused
    ingest_batch_chunks: int = 512  # chunks embedded and committed together

    # From this many chunks the vector index is approximate (FAISS IVF-Flat, built from SQLite), below it exact:
    # exact p50 is 48 ms at 100k on a busy 2-core machine, IVF 0.14 ms at recall@10 0.997 (benchmarks/vector_index.py).
    approximate_index_chunks: int = 50_000
    ivf_nprobe: int = 0  # IVF lists searched per query; 0: the store's choice for its list count

    # Retrieval
    top_k: int = 5
    search_mode: str = "hybrid"
    fusion: str = "score"  # score (normalized scores, summed) or rrf (reciprocal rank)
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 0.4  # measured best of 0.3-1.0 on both eval sets (benchmarks/retrieval_quality.py)
    min_dense_score: float = 0.25  # below this cosine and without a BM25 hit, a chunk is "not relevant"

    # Generation
    engine: str = "embedded"
    generator_model: str = BUNDLED_GENERATOR
    # Embedded engine precision: float32, bfloat16, or auto (bfloat16 where the CPU has native BF16: about 1.5x
    # decode and 1.7x prefill here, but greedy answers differ from float32's; benchmarks/prefix_cache.py).
    generator_dtype: str = "float32"
    adapter: Path | None = None
    http_url: str = "http://127.0.0.1:30000"
    http_model: str = "default"
    # The HTTP engine's context window in tokens; unset, the served model's max_model_len from /v1/models.
    http_context_window: int | None = None
    api_key: str | None = None
    max_new_tokens: int = 256
    # How the model answers under the schema: "extractive" (a clause of the evidence it quotes), "free" (its
    # own words, verified), or "auto": extractive on the embedded engine (a 135M model), free over HTTP.
    answer_style: Literal["auto", "extractive", "free"] = "auto"
    temperature: float = 0.0
    prefix_cache_entries: int = 8
    prefix_cache_mb: int = 512
    connect_timeout: float = 5.0
    read_timeout: float = 300.0

    # The carrier's rules (TOML, see assistant/profile/rules.py) `assistant check` and `memo` apply; unset,
    # <workspace>/rules.toml (sample_docs/guidelines/rules.toml is the sample guideline's).
    rules_path: Path | None = None
    # Audit trail: one append-only record per answer given (`assistant.audit`), in its own SQLite file.
    audit_enabled: bool = True
    audit_db: Path | None = None  # default <workspace>/audit.sqlite

    # Application API and UI (assistant/api)
    # Folders the UI's "ingest a folder" field and the API's folder ingest may read (each with its subfolders).
    # Empty (the default): only <workspace>/uploads, where uploads land. As JSON in ASSISTANT_INGEST_ROOTS.
    ingest_roots: list[Path] = Field(default_factory=list)
    api_max_queue: int = Field(default=8, ge=0)  # answers waiting for the engine beyond those being generated
    api_engine_slots: int = Field(default=1, ge=1)  # answers generated at once (the embedded engine: one)
    api_queue_timeout: float = 300.0  # seconds a queued answer waits for the engine before a 503

    @property
    def db_path(self) -> Path:
        return self.workspace / "index.sqlite3"

    @property
    def faiss_path(self) -> Path:
        return self.workspace / "vectors.faiss"

    @property
    def lock_path(self) -> Path:
        return self.workspace / "ingest.lock"

    @property
    def audit_path(self) -> Path:
        return self.audit_db or self.workspace / "audit.sqlite"

    @property
    def models_dir(self) -> Path:
        return self.model_cache or self.workspace / "models"

    @property
    def adapters_dir(self) -> Path:
        return self.workspace / "adapters"

    @property
    def profiles_dir(self) -> Path:
        return self.workspace / "profiles"

    @property
    def logs_dir(self) -> Path:
        return self.workspace / "logs"

    @property
    def uploads_dir(self) -> Path:
        return self.workspace / "uploads"

    @property
    def users_path(self) -> Path:
        return self.workspace / "users.sqlite"

    def allowed_ingest_roots(self) -> list[Path]:
        """The folders a folder ingest from the UI or the API may read: `ingest_roots`, else the uploads folder."""
        roots = self.ingest_roots or [self.uploads_dir]
        return [Path(root).expanduser().resolve() for root in roots]


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment plus explicit overrides (None values are ignored)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    settings = Settings(**given)
    settings.workspace = settings.workspace.expanduser().resolve()
    return settings

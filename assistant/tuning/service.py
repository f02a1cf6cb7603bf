"""Domain tuning in the application core: what `assistant tune dataset`, `assistant tune`,
`assistant quantize` and the UI call.

Thin over `finetune`: base names resolve like the embedded engine's (`bundled:...` or a local
folder), workspace chunks come from the index store (read-only), and defaults come from settings.
Each call returns a result object with the figures worth printing; `format_*` turn them into lines.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.payloads import human_bytes
from assistant.settings import Settings
from finetune import TuningError

if TYPE_CHECKING:
    from finetune.qlora import TrainConfig, TrainProgress, TrainResult
    from finetune.quantize import QuantizeConfig, QuantizeProgress, QuantizeResult
    from index.types import Chunk

__all__ = [
    "DatasetBuildResult",
    "RichTrainProgress",
    "TuningError",
    "build_dataset_file",
    "chunks_from_workspace",
    "format_quantize_result",
    "format_tune_result",
    "quantize",
    "resolve_base",
    "tune",
]


@dataclass
class DatasetBuildResult:
    path: Path
    n_examples: int
    n_no_answer: int
    n_chunks: int
    n_documents: int
    seed: int
    sources: list[str] = field(default_factory=list)


def chunks_from_workspace(settings: Settings) -> list[Chunk]:
    """Every indexed chunk, in document, page, position order (read-only; never takes the writer lock)."""
    from index.store import Store, StoreError

    try:
        store = Store(settings.db_path, settings.faiss_path, readonly=True)
    except StoreError as exc:
        raise TuningError(str(exc)) from exc
    try:
        return store.all_chunks()
    finally:
        store.close()


def resolve_base(settings: Settings, base: str | None = None) -> tuple[str, Path]:
    """(name, folder) of the base model: `bundled:...` (converted once) or a local model folder."""
    from assistant.engines.base import EngineError
    from assistant.engines.models import BUNDLED_GENERATORS, BUNDLED_PREFIX, resolve_generator

    name = base or settings.generator_model
    try:
        return name, resolve_generator(name, settings.models_dir)
    except EngineError as exc:
        known = ", ".join(BUNDLED_PREFIX + key for key in BUNDLED_GENERATORS)
        raise TuningError(f"unknown base model {name!r}: {exc} (bundled: {known}; or a local model folder)") from exc


def model_special_tokens(model_dir: Path) -> list[str]:
    """The special-token strings of a model's tokenizer, as the answerer neutralizes them in sources."""
    from transformers import AutoTokenizer

    from assistant.engines.base import tokenizer_special_tokens

    return tokenizer_special_tokens(AutoTokenizer.from_pretrained(model_dir))


def build_dataset_file(
    settings: Settings,
    out: Path,
    n: int = 200,
    seed: int = 0,
    *,
    chunks: Sequence[Chunk] | None = None,
    max_sources: int = 3,
    no_answer_fraction: float = 0.15,
) -> DatasetBuildResult:
    """Build the grounded starter dataset from the workspace's chunks (or `chunks`) and write it to `out`.

    The prompts are laid out exactly as at answer time, special tokens of the configured generator
    neutralized the same way. The file is validated after writing.
    """
    from assistant.tuning.starter_set import build_dataset, is_no_answer
    from finetune.dataset import validate_file, write_jsonl

    chunks = list(chunks) if chunks is not None else chunks_from_workspace(settings)
    _, folder = resolve_base(settings)
    examples = build_dataset(chunks, n, seed, max_sources=max_sources, no_answer_fraction=no_answer_fraction,
                             special_tokens=model_special_tokens(folder))
    path = write_jsonl(Path(out).expanduser(), examples)
    validate_file(path)
    sources = sorted({chunk.source for chunk in chunks})
    return DatasetBuildResult(
        path=path.resolve(), n_examples=len(examples),
        n_no_answer=sum(1 for e in examples if is_no_answer(e)),
        n_chunks=len(chunks), n_documents=len(sources), seed=seed, sources=sources,
    )


def default_adapter_dir(settings: Settings, data: Path) -> Path:
    """<workspace>/adapters/<data file stem>-<first 8 hex of its hash>."""
    digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()[:8]
    return settings.adapters_dir / f"{Path(data).stem}-{digest}"


def tune(
    settings: Settings,
    data: Path,
    base: str | None = None,
    out: Path | None = None,
    config: TrainConfig | None = None,
    progress: Callable[[TrainProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """QLoRA-tune `base` (default: the configured generator) on the JSON-lines file `data`.

    The data is validated before anything loads; the adapter goes to `out` (default
    `<workspace>/adapters/<name>-<hash>`), ready for `assistant ask --adapter DIR`.
    """
    from finetune.dataset import validate_file
    from finetune.qlora import train

    data = Path(data).expanduser()
    validate_file(data)
    name, folder = resolve_base(settings, base)
    out = Path(out).expanduser() if out else default_adapter_dir(settings, data)
    return train(folder, data, out, config, progress, cancel, base_name=name)


def quantize(
    settings: Settings,
    base: str | None = None,
    adapter: Path | None = None,
    out: Path | None = None,
    progress: Callable[[QuantizeProgress], None] | None = None,
    config: QuantizeConfig | None = None,
    *,
    texts: Sequence[str] | None = None,
) -> QuantizeResult:
    """Merge `adapter` (if any) into `base` in full precision, AWQ-quantize to W4A16 calibrated on the
    workspace's chunks (or `texts`), and save a compressed-tensors folder to `out` (default
    `<workspace>/models/<base>[-<adapter>]-awq-w4a16`)."""
    import json

    from finetune.quantize import quantize_model

    name, folder = resolve_base(settings, base)
    adapter_dir = Path(adapter).expanduser() if adapter else None
    notes = []
    if adapter_dir is not None:
        card = adapter_dir / "tuning_card.json"
        if card.is_file():
            trained_on = json.loads(card.read_text()).get("base_model")
            if trained_on and trained_on != name and Path(str(trained_on)).resolve() != folder.resolve():
                notes.append(f"the adapter was trained on {trained_on}, not {name}")
    if out is None:
        stem = folder.name + (f"-{adapter_dir.name}" if adapter_dir else "")
        out = settings.models_dir / f"{stem}-awq-w4a16"
    if texts is None:
        texts = [chunk.text for chunk in chunks_from_workspace(settings)]
    result = quantize_model(folder, adapter_dir, Path(out).expanduser(), texts, config, progress, base_name=name)
    result.notes.extend(notes)
    return result


# ---- presentation helpers for the CLI -------------------------------------------------------------



def format_tune_result(result: TrainResult) -> list[str]:
    change = (result.eval_loss_after - result.eval_loss_before) / result.eval_loss_before * 100
    lines = [
        f"eval loss: {result.eval_loss_before:.4f} before, {result.eval_loss_after:.4f} after ({change:+.1f}%)",
        f"{result.steps} steps on {result.device}: {result.n_train} train / {result.n_eval} eval examples, "
        f"{result.train_seconds:.0f} s training, {result.seconds:.0f} s in all",
        f"adapter: {result.adapter_dir} (card {result.card_path.name if result.card_path else '-'}, "
        f"curve {result.loss_curve.name if result.loss_curve else '-'})",
        f"try it: assistant ask --adapter {result.adapter_dir} \"...\"",
    ]
    if result.n_skipped:
        lines.insert(2, f"{result.n_skipped} examples longer than max_seq_len were left out")
    return lines


def format_quantize_result(result: QuantizeResult) -> list[str]:
    lines = [
        f"perplexity on {result.n_heldout} held-out texts ({result.heldout_tokens} tokens): "
        f"{result.perplexity_before:.3f} merged ({result.merged_dtype}), {result.perplexity_after:.3f} quantized "
        f"({(result.perplexity_ratio - 1) * 100:+.1f}%)"
        + (f", {result.perplexity_rtn:.3f} round-to-nearest without AWQ" if result.perplexity_rtn else ""),
        f"{result.quantized_layers} quantized layers: {human_bytes(result.layer_bytes_before)} -> "
        f"{human_bytes(result.layer_bytes_after)} ({result.layer_size_ratio:.1%}); whole model "
        f"{human_bytes(result.model_bytes_before)} -> folder {human_bytes(result.folder_bytes_after)}",
        f"{result.scheme}, {result.saved_dtype} scales; time: merge {result.seconds_merge:.0f} s, "
        f"AWQ {result.seconds_awq:.0f} s, "
        f"total {result.seconds_total:.0f} s on {result.device}",
        f"saved: {result.out_dir} (serve: python -m sglang.launch_server --model-path {result.out_dir})",
    ]
    lines.extend(f"note: {note}" for note in result.notes)
    return lines


class RichTrainProgress:
    """A rich progress bar for `tune`: step, loss, time remaining; phases and eval losses as lines.

    Usage: `with RichTrainProgress() as bar: tune(..., progress=bar)`.
    """

    def __init__(self, console: Any | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = console or Console(stderr=True)
        self._bar = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("lr {task.fields[lr]}"),
            TextColumn("eta"), TimeRemainingColumn(), console=self.console, transient=False,
        )
        self._task: Any = None
        self._started = False

    def __enter__(self) -> RichTrainProgress:
        return self  # the bar starts with the first event: an error before it prints alone

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._bar.stop()

    def __call__(self, event: TrainProgress) -> None:
        if not self._started:
            self._bar.start()
            self._started = True
        if event.phase == "train":
            if self._task is None:
                self._task = self._bar.add_task("train", total=event.total_steps, loss="-", lr="-")
            self._bar.update(self._task, completed=event.step, loss=f"{event.loss:.4f}",
                             lr=f"{event.learning_rate:.2e}")
        elif event.eval_loss is not None and event.phase in ("eval_before", "eval_after"):
            when = "before" if event.phase == "eval_before" else "after"
            self._bar.console.print(f"eval loss {when}: {event.eval_loss:.4f}")
        elif event.message:
            self._bar.console.print(event.message)

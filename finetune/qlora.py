"""QLoRA training: the base in 4-bit NF4 (bitsandbytes, double quantization), LoRA on every linear layer.

One loop for CPU and GPU: the loss counts the assistant turns only, an eval split is held out and
scored before and after training, gradients accumulate over micro-batches, and the learning rate
follows a warm-up then decay schedule. A callback receives step, loss and time remaining; setting
a `threading.Event` stops the run between micro-batches. The adapter is saved (atomically) with a
card (base, data hash, hyper-parameters, loss history) and a loss-curve PNG.
"""

from __future__ import annotations

import contextlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from finetune import TuningError
from finetune.card import LOSS_PNG, plot_losses, write_card
from finetune.dataset import data_hash, validate_file
from index.atomic import replacing_folder

IGNORE_INDEX = -100


class TrainConfig(BaseModel):
    """Hyper-parameters of one QLoRA run (the defaults suit a small model on a CPU)."""

    learning_rate: float = Field(2e-4, gt=0)
    epochs: int = Field(1, ge=1)
    max_steps: int | None = Field(None, ge=1, description="optimizer steps; overrides epochs")
    # One example per micro-batch, 16 per optimizer step: on CPU this needs about 4 GB for SmolLM2 on the starter
    # data (batch 4 x 4 peaked near 18 GB) and wastes nothing on padding; raise batch_size on a GPU.
    batch_size: int = Field(1, ge=1)
    grad_accum: int = Field(16, ge=1)
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.05, ge=0, lt=1)
    eval_fraction: float = Field(0.1, gt=0, lt=1)
    seed: int = 0
    max_seq_len: int = Field(1536, ge=16)  # the served layout (sources, quotes, JSON answer) runs to ~1,000 tokens
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    scheduler: str = "cosine"  # any transformers.get_scheduler name: linear, cosine, constant_with_warmup...
    weight_decay: float = Field(0.0, ge=0)
    max_grad_norm: float = Field(1.0, gt=0)
    load_in_4bit: bool = True  # False: plain LoRA over a full-precision base (for comparison)
    gradient_checkpointing: bool = False
    device: str = "auto"  # auto, cpu, cuda, cuda:N


class TrainingCancelled(TuningError):
    """The run was stopped through its cancel event; nothing was saved."""


@dataclass
class TrainProgress:
    """What a progress display needs; sent at every phase change and optimizer step."""

    phase: str  # "loading", "eval_before", "train", "eval_after", "saving", "done"
    step: int = 0
    total_steps: int = 0
    loss: float | None = None  # training loss of the latest optimizer step
    learning_rate: float | None = None
    elapsed_s: float = 0.0
    eta_s: float | None = None  # time remaining for the training phase
    eval_loss: float | None = None
    message: str = ""


@dataclass
class TrainResult:
    """The figures of a finished run."""

    adapter_dir: Path
    base_model: str
    eval_loss_before: float
    eval_loss_after: float
    steps: int
    n_train: int
    n_eval: int
    n_skipped: int
    seconds: float
    train_seconds: float
    device: str
    loss_history: list[dict[str, float]] = field(default_factory=list)
    card_path: Path | None = None
    loss_curve: Path | None = None


Progress = Callable[[TrainProgress], None]


# ---- data -------------------------------------------------------------------------------------


def encode_example(tokenizer: Any, messages: Sequence[dict[str, str]]) -> tuple[list[int], list[int]]:
    """Token ids of the chat-templated conversation and labels that keep only the assistant turns.

    The span of each assistant turn is found by rendering the conversation up to that turn with and
    without it; the turn's end-of-turn marker is learned too, so the model learns where to stop.
    """
    messages = list(messages)
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    spans: list[tuple[int, int]] = []
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(messages[:index], tokenize=False, add_generation_prompt=True)
        through = tokenizer.apply_chat_template(messages[: index + 1], tokenize=False)
        if not (full.startswith(before) and full.startswith(through) and len(through) > len(before)):
            raise TuningError("the model's chat template does not render conversations prefix by prefix")
        spans.append((len(before), len(through)))
    encoded = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    ids = list(encoded["input_ids"])
    labels = [
        token if any(start <= offset[0] < end for start, end in spans) else IGNORE_INDEX
        for token, offset in zip(ids, encoded["offset_mapping"], strict=True)
    ]
    return ids, labels


def split_examples(n: int, eval_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Deterministic (train, eval) index lists; errors when the data is too small for both."""
    n_eval = max(1, round(n * eval_fraction))
    need = max(2, math.ceil(1 / eval_fraction))
    if n < need or n - n_eval < 1:
        raise TuningError(
            f"data too small for an eval split: {n} usable examples, need at least {need} "
            f"with eval fraction {eval_fraction:g} (build more with `assistant tune dataset`)"
        )
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return sorted(order[n_eval:]), sorted(order[:n_eval])


def _batches(items: Sequence[tuple[list[int], list[int]]], size: int, pad_id: int) -> Iterator[dict[str, Any]]:
    """Left-padded batches: every row ends at the same column, so the labelled tokens (the answers,
    at the end) fall in the last `keep` columns and logits are computed for those columns only."""
    import torch

    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        width = max(len(ids) for ids, _ in chunk)
        input_ids = torch.full((len(chunk), width), pad_id, dtype=torch.long)
        labels = torch.full((len(chunk), width), IGNORE_INDEX, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        first = width - 1
        for row, (ids, labs) in enumerate(chunk):
            offset = width - len(ids)
            input_ids[row, offset:] = torch.tensor(ids)
            labels[row, offset:] = torch.tensor(labs)
            mask[row, offset:] = 1
            labelled = [i for i, label in enumerate(labs) if label != IGNORE_INDEX]
            if labelled:
                first = min(first, offset + labelled[0])
        yield {
            "input_ids": input_ids,
            "attention_mask": mask,
            "position_ids": (mask.cumsum(-1) - 1).clamp(min=0),
            "labels": labels,
            "keep": width - max(first, 1) + 1,
        }


def _to(batch: dict[str, Any], device: Any) -> dict[str, Any]:
    return {key: value.to(device) if hasattr(value, "to") else value for key, value in batch.items()}


def token_loss_sums(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Summed cross-entropy over the labelled tokens of a batch (a tensor), and how many there were.

    Logits are computed for the last `keep` positions only: the prompt's logits are never needed.
    """
    import torch

    keep = batch["keep"]
    logits = model(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
        position_ids=batch["position_ids"], logits_to_keep=keep,
    ).logits
    predicted = logits[:, -keep:-1, :].float()
    targets = batch["labels"][:, -keep + 1 :]
    loss = torch.nn.functional.cross_entropy(
        predicted.reshape(-1, predicted.size(-1)), targets.reshape(-1), ignore_index=IGNORE_INDEX, reduction="sum"
    )
    return loss, int((targets != IGNORE_INDEX).sum())


def evaluate(model: Any, items: Sequence[tuple[list[int], list[int]]], batch_size: int, pad_id: int,
             device: Any, cancel: threading.Event | None = None) -> float:
    """Mean loss per answer token over `items` (the eval split)."""
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in _batches(items, batch_size, pad_id):
            _check_cancel(cancel)
            loss, n = token_loss_sums(model, _to(batch, device))
            total, count = total + float(loss), count + n
    model.train(was_training)
    return total / max(count, 1)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise TrainingCancelled("training cancelled; nothing was saved")


# ---- model ------------------------------------------------------------------------------------


def pick_device(name: str = "auto") -> str:
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise TuningError(f"device {name!r} asked for, but no CUDA GPU is available")
    return name


def check_base(base_dir: Path) -> Path:
    """A base model is a local folder with config.json (models are never downloaded)."""
    base_dir = Path(base_dir).expanduser()
    if not (base_dir / "config.json").is_file():
        raise TuningError(f"unknown base model {str(base_dir)!r}: not a model folder with config.json")
    return base_dir


def load_for_training(base_dir: Path, config: TrainConfig, device: str) -> tuple[Any, Any]:
    """Tokenizer and the peft model: base in 4-bit NF4 with double quantization, LoRA on all linears."""
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    on_gpu = device.startswith("cuda")
    compute = torch.bfloat16 if on_gpu and torch.cuda.is_bf16_supported() else torch.float32
    kwargs: dict[str, Any] = {"dtype": compute if on_gpu else torch.float32, "device_map": {"": device}}
    if config.load_in_4bit:
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
    model = AutoModelForCausalLM.from_pretrained(base_dir, **kwargs)
    model.config.use_cache = False
    keep_trainable_4bit_layout(model)
    if config.load_in_4bit:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.gradient_checkpointing)
    elif config.gradient_checkpointing:
        model.gradient_checkpointing_enable()
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        bias="none",
        task_type="CAUSAL_LM",
    )
    return tokenizer, get_peft_model(model, lora)


def keep_trainable_4bit_layout(model: Any) -> int:
    """Stop bitsandbytes from repacking 4-bit weights for its CPU inference kernel.

    On a CPU with AVX512-BF16, a `Linear4bit` run in eval mode without grad converts its weight,
    for good, to a layout served by `gemv_4bit`, which has no backward: training after an evaluation
    would then silently drop the gradients through the frozen base layers (PyTorch only warns
    "an autograd kernel was not registered"). Returns how many layers were switched.
    """
    count = 0
    for module in model.modules():
        if getattr(module, "support_avx512bf16_for_cpu", False):
            module.support_avx512bf16_for_cpu = False
            count += 1
    return count


def _is_oom(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, MemoryError | torch.OutOfMemoryError):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text)


def _oom_advice(device: str, config: TrainConfig) -> str:
    return (
        f"out of memory on {device}: lower --batch-size (now {config.batch_size}) and raise --grad-accum "
        f"(now {config.grad_accum}) to keep the effective batch, shorten --max-seq-len "
        f"(now {config.max_seq_len}), or lower --lora-r (now {config.lora_r})"
        + ("; --gradient-checkpointing trades time for memory" if not config.gradient_checkpointing else "")
    )


# ---- the run ----------------------------------------------------------------------------------


def train(
    base_dir: Path,
    data_path: Path,
    out_dir: Path,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    *,
    base_name: str | None = None,
) -> TrainResult:
    """Train a LoRA adapter on `data_path` over the base in `base_dir` and save it to `out_dir`."""
    config = config or TrainConfig()
    base_dir = check_base(base_dir)
    examples = validate_file(data_path)  # every bad line reported before anything loads
    split_examples(len(examples), config.eval_fraction, config.seed)  # too small: say so before loading
    device = pick_device(config.device)
    try:
        return _train(base_dir, Path(data_path), Path(out_dir), examples, config, progress, cancel,
                      base_name or str(base_dir), device)
    except TuningError:
        raise
    except Exception as exc:
        if _is_oom(exc):
            raise TuningError(_oom_advice(device, config)) from exc
        raise


def _train(base_dir: Path, data_path: Path, out_dir: Path, examples: list[dict[str, Any]], config: TrainConfig,
           progress: Progress | None, cancel: threading.Event | None, base_name: str, device: str) -> TrainResult:
    import torch
    from transformers import get_scheduler

    started = time.monotonic()

    def report(phase: str, **values: Any) -> None:
        if progress is not None:
            progress(TrainProgress(phase=phase, elapsed_s=time.monotonic() - started, **values))

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    report("loading", message=f"loading {base_name} on {device}")
    tokenizer, model = load_for_training(base_dir, config, device)
    _check_cancel(cancel)

    encoded, skipped = [], 0
    for example in examples:
        ids, labels = encode_example(tokenizer, example["messages"])
        if len(ids) > config.max_seq_len or all(label == IGNORE_INDEX for label in labels):
            skipped += 1
            continue
        encoded.append((ids, labels))
    train_idx, eval_idx = split_examples(len(encoded), config.eval_fraction, config.seed)
    train_items = [encoded[i] for i in train_idx]
    eval_items = [encoded[i] for i in eval_idx]
    pad_id = tokenizer.pad_token_id

    batches_per_epoch = math.ceil(len(train_items) / config.batch_size)
    total_steps = config.max_steps or math.ceil(config.epochs * batches_per_epoch / config.grad_accum)
    total_micro = total_steps * config.grad_accum if config.max_steps else config.epochs * batches_per_epoch

    report("eval_before", total_steps=total_steps, message=f"eval on {len(eval_items)} examples")
    eval_before = evaluate(model, eval_items, config.batch_size, pad_id, device, cancel)
    report("eval_before", total_steps=total_steps, eval_loss=eval_before)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = get_scheduler(config.scheduler, optimizer,
                              num_warmup_steps=round(config.warmup_ratio * total_steps),
                              num_training_steps=total_steps)

    def micro_batches() -> Iterator[dict[str, Any]]:
        epoch = 0
        while True:
            order = list(range(len(train_items)))
            random.Random(config.seed * 1_000_003 + epoch).shuffle(order)
            yield from _batches([train_items[i] for i in order], config.batch_size, pad_id)
            epoch += 1

    model.train()
    history: list[dict[str, float]] = []
    stream = micro_batches()
    train_started = time.monotonic()
    done_micro = 0
    for step in range(1, total_steps + 1):
        group = min(config.grad_accum, total_micro - done_micro)
        step_loss = 0.0
        for _ in range(group):
            _check_cancel(cancel)
            loss_sum, count = token_loss_sums(model, _to(next(stream), device))
            loss = loss_sum / max(count, 1)
            (loss / group).backward()
            step_loss += loss.detach().item() / group
            done_micro += 1
        torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        lr = scheduler.get_last_lr()[0]  # the rate this step used
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        history.append({"step": step, "loss": step_loss, "lr": lr})
        spent = time.monotonic() - train_started
        report("train", step=step, total_steps=total_steps, loss=step_loss, learning_rate=lr,
               eta_s=spent / step * (total_steps - step))
    train_seconds = time.monotonic() - train_started

    report("eval_after", step=total_steps, total_steps=total_steps)
    eval_after = evaluate(model, eval_items, config.batch_size, pad_id, device, cancel)
    report("eval_after", step=total_steps, total_steps=total_steps, eval_loss=eval_after)
    _check_cancel(cancel)

    report("saving", step=total_steps, total_steps=total_steps, message=f"saving to {out_dir}")
    seconds = time.monotonic() - started
    card = {
        "kind": "qlora-adapter",
        "base_model": base_name,
        "base_path": str(base_dir),
        "data_file": str(data_path),
        "data_hash": data_hash(data_path),
        "n_examples": len(examples),
        "n_train": len(train_items),
        "n_eval": len(eval_items),
        "n_skipped": skipped,
        "hyperparameters": {**config.model_dump(), "total_steps": total_steps,
                            "effective_batch": config.batch_size * config.grad_accum,
                            "quantization": "nf4, double quantization" if config.load_in_4bit else "none",
                            "target_modules": "all-linear"},
        "eval_loss_before": eval_before,
        "eval_loss_after": eval_after,
        "steps": total_steps,
        "seconds": seconds,
        "train_seconds": train_seconds,
        "device": device,
        "loss_history": history,
        "eval_history": [{"step": 0, "loss": eval_before}, {"step": total_steps, "loss": eval_after}],
        "versions": _versions(),
    }
    _save_adapter(model, out_dir, card, history, eval_before, eval_after, total_steps)
    result = TrainResult(
        adapter_dir=out_dir, base_model=base_name, eval_loss_before=eval_before, eval_loss_after=eval_after,
        steps=total_steps, n_train=len(train_items), n_eval=len(eval_items), n_skipped=skipped,
        seconds=time.monotonic() - started, train_seconds=train_seconds, device=device, loss_history=history,
        card_path=out_dir / "tuning_card.json", loss_curve=out_dir / LOSS_PNG,
    )
    report("done", step=total_steps, total_steps=total_steps, eval_loss=eval_after)
    return result


def _save_adapter(model: Any, out_dir: Path, card: dict[str, Any], history: list[dict[str, float]],
                  eval_before: float, eval_after: float, total_steps: int) -> None:
    """Adapter, card and curve into a temporary folder, then renamed over `out_dir`."""
    with replacing_folder(out_dir) as tmp:
        model.save_pretrained(tmp)
        write_card(tmp, card)
        plot_losses(tmp / LOSS_PNG, [(int(r["step"]), r["loss"]) for r in history],
                    [(0, eval_before), (total_steps, eval_after)])


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("torch", "transformers", "peft", "bitsandbytes"):
        with contextlib.suppress(PackageNotFoundError):
            found[package] = version(package)
    return found

"""AWQ W4A16 quantization with llm-compressor into a compressed-tensors folder SGLang serves.

Steps: merge the adapter (if any) into the base in full precision; measure perplexity on held-out
workspace text; run `oneshot` with `AWQModifier` (activation-aware scaling) followed by a
`QuantizationModifier` for 4-bit asymmetric integer weights in groups, calibrated on the rest of
the workspace text; save compressed; load the saved folder back with transformers and measure
perplexity again. The group size is the largest of 128, 64, 32 that divides the input size of every
quantized linear layer (SmolLM2's hidden size 576 needs 64). `lm_head` stays unquantized.

On a machine with no accelerator, llm-compressor's activation cache would pin CPU memory (which
needs one); `_no_pinning_without_accelerator` turns that into a no-op for the duration of the call.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from finetune import TuningError
from finetune.merge import load_merged, save_model

GROUP_SIZES = (128, 64, 32)
SMALL_MODEL_PARAMS = 1_000_000_000
SMALL_MODEL_MAX_GROUP = 32
CARD_NAME = "quantization_card.json"


class QuantizeConfig(BaseModel):
    """Settings of one AWQ run (defaults: the usual AWQ recipe; lower them for a quick CPU run)."""

    num_calibration_samples: int = Field(64, ge=1)
    max_seq_len: int = Field(512, ge=16)
    n_grid: int = Field(20, ge=3, description="AWQ scale grid points per layer group (identity included)")
    duo_scaling: bool | Literal["both"] = True
    observer: str = Field("memoryless_minmax", description="weight observer: memoryless_minmax, memoryless_mse...")
    group_size: int | None = Field(None, description="None: `default_group_size` (32 under 1B parameters, "
                                                       "else the largest of 128/64/32 dividing every layer)")
    eval_max_len: int = Field(512, ge=16, description="tokens per held-out text for perplexity")
    heldout_fraction: float = Field(0.1, gt=0, lt=1)
    max_heldout: int = Field(64, ge=1)
    seed: int = 0
    compare_rtn: bool = False  # also measure plain round-to-nearest (no AWQ) on a copy: the baseline AWQ must beat
    device: str = "auto"  # auto, cpu, cuda
    # Precision of AWQ and of the saved folder; auto: float32 on CPU, bfloat16 on CUDA (what SGLang runs).
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"


@dataclass
class QuantizeProgress:
    phase: str  # "merge", "perplexity_before", "awq", "save", "perplexity_after", "done"
    message: str = ""
    elapsed_s: float = 0.0


@dataclass
class QuantizeResult:
    """The figures of a finished quantization."""

    out_dir: Path
    base_model: str
    adapter: str | None
    group_size: int
    scheme: str
    quantized_layers: int
    layer_bytes_before: int  # the quantized layers' weights at the merged model's precision
    layer_bytes_after: int  # the same layers in the saved folder: packed weights, scales, zero points
    model_bytes_before: int  # every weight of the merged model (tied matrices once)
    folder_bytes_after: int  # every file of the saved folder
    merged_dtype: str
    saved_dtype: str  # scales and unquantized weights (embeddings, norms) in the folder
    perplexity_before: float
    perplexity_after: float
    perplexity_rtn: float | None  # plain round-to-nearest, same scheme (only with compare_rtn)
    n_calibration: int
    n_heldout: int
    heldout_tokens: int
    seconds_merge: float
    seconds_awq: float
    seconds_total: float
    device: str
    sample_output: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def perplexity_ratio(self) -> float:
        return self.perplexity_after / self.perplexity_before

    @property
    def layer_size_ratio(self) -> float:
        return self.layer_bytes_after / self.layer_bytes_before

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["out_dir"] = str(self.out_dir)
        data["perplexity_ratio"] = self.perplexity_ratio
        data["layer_size_ratio"] = self.layer_size_ratio
        return data


# ---- pieces -----------------------------------------------------------------------------------


def quantizable_linears(model: Any, ignore: Sequence[str] = ("lm_head",)) -> dict[str, Any]:
    """Every nn.Linear that AWQ will quantize (all but the ignored names), by module name."""
    import torch

    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and name.split(".")[-1] not in ignore
    }


def marlin_misfits(model: Any, names: Sequence[str]) -> list[str]:
    """Layers outside the shapes SGLang's Marlin W4A16 kernels take (in_features % 128 == 0 and
    out_features % 64 == 0): such a folder loads in transformers but may not serve on SGLang."""
    modules = dict(model.named_modules())
    return [name for name in names
            if modules[name].in_features % 128 or modules[name].out_features % 64]


def pick_group_size(model: Any, candidates: Sequence[int] = GROUP_SIZES) -> int:
    """The largest candidate group size dividing the input size of every quantized layer."""
    sizes = {module.in_features for module in quantizable_linears(model).values()}
    if not sizes:
        raise TuningError("the model has no linear layers to quantize")
    for group in sorted(candidates, reverse=True):
        if all(size % group == 0 for size in sizes):
            return group
    raise TuningError(f"no group size in {tuple(candidates)} divides every layer's input size {sorted(sizes)}")


def default_group_size(model: Any) -> int:
    """The group size used when none is given: the largest of 128/64/32 dividing every quantized layer,
    at most `SMALL_MODEL_MAX_GROUP` for a model under `SMALL_MODEL_PARAMS` parameters.

    Small models lose more to 4-bit weights. Measured on SmolLM2-135M (AWQ, sample_docs held-out text):
    +9.3% perplexity at group 32 against +11 to +13% at group 64 (round-to-nearest: +18% and +24 to +27%),
    for 0.5 more bits per weight."""
    params = sum(p.numel() for p in model.parameters())
    if params < SMALL_MODEL_PARAMS:
        return pick_group_size(model, [group for group in GROUP_SIZES if group <= SMALL_MODEL_MAX_GROUP])
    return pick_group_size(model)


def split_texts(texts: Sequence[str], heldout_fraction: float, seed: int, max_heldout: int,
                max_calibration: int) -> tuple[list[str], list[str]]:
    """Deterministic (calibration, held-out) split of non-empty texts; the two never share a text."""
    unique = list(dict.fromkeys(text.strip() for text in texts if text and text.strip()))
    if len(unique) < 2:
        raise TuningError(
            f"need at least 2 distinct texts from the workspace (have {len(unique)}): ingest documents first"
        )
    order = list(range(len(unique)))
    random.Random(seed).shuffle(order)
    n_heldout = min(max_heldout, max(1, round(len(unique) * heldout_fraction)))
    heldout = [unique[i] for i in order[:n_heldout]]
    calibration = [unique[i] for i in order[n_heldout:]][:max_calibration]
    return calibration, heldout


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str], max_len: int = 512) -> tuple[float, int]:
    """exp(mean negative log-likelihood per predicted token) over `texts`, each scored on its own."""
    import torch

    device = next(model.parameters()).device
    total, count = 0.0, 0
    with torch.no_grad():
        for text in texts:
            ids = tokenizer(text, return_tensors="pt", truncation=True, max_length=max_len,
                            add_special_tokens=False).input_ids.to(device)
            if ids.shape[1] < 2:
                continue
            logits = model(input_ids=ids).logits[:, :-1, :].float()
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.size(-1)), ids[:, 1:].reshape(-1),
                                                     reduction="sum")
            total, count = total + float(loss), count + ids.shape[1] - 1
    if count == 0:
        raise TuningError("the held-out texts are empty after tokenization")
    return math.exp(total / count), count


def weight_bytes(model: Any, names: Sequence[str] | None = None) -> int:
    """Bytes of the weights of the named linear layers, or of every parameter (shared ones once)."""
    if names is not None:
        modules = dict(model.named_modules())
        return sum(modules[name].weight.numel() * modules[name].weight.element_size() for name in names)
    seen: set[int] = set()
    total = 0
    for tensor in [*model.parameters(), *model.buffers()]:
        if id(tensor) not in seen:
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


def saved_layer_bytes(folder: Path, names: Sequence[str]) -> int:
    """Bytes the named layers take in a saved safetensors folder (all their tensors: packed weight,
    scales, zero points, shapes), read from the file headers without loading the tensors."""
    from safetensors import safe_open

    sizes = {"F64": 8, "I64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2,
             "U16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
    prefixes = tuple(f"{name}." for name in names)
    total = 0
    for path in sorted(Path(folder).glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as handle:
            for key in handle.keys():  # noqa: SIM118 (a safetensors handle is not a dict)
                if key.startswith(prefixes):
                    piece = handle.get_slice(key)
                    total += math.prod(piece.get_shape()) * sizes.get(piece.get_dtype(), 4)
    return total


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


@contextlib.contextmanager
def _no_pinning_without_accelerator() -> Iterator[None]:
    """llm-compressor pins its cached activations for faster host-to-device copies; without an
    accelerator, pinning fails, so make it a no-op for this call only (restored afterwards)."""
    import torch
    from llmcompressor.pipelines.cache import IntermediatesCache

    if torch.accelerator.is_available():
        yield
        return
    original = IntermediatesCache.pin_memory
    IntermediatesCache.pin_memory = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        IntermediatesCache.pin_memory = original  # type: ignore[method-assign]


def awq_recipe(group_size: int, config: QuantizeConfig) -> list[Any]:
    """AWQ scaling, then 4-bit asymmetric integer weights in groups (W4A16), lm_head left as is."""
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from llmcompressor.modifiers.transform.awq import AWQModifier

    weights = {"num_bits": 4, "type": "int", "strategy": "group", "group_size": group_size,
               "symmetric": False, "dynamic": False, "observer": config.observer}
    return [
        AWQModifier(n_grid=config.n_grid, duo_scaling=config.duo_scaling),
        QuantizationModifier(
            ignore=["lm_head"], config_groups={"group_0": {"targets": ["Linear"], "weights": weights}}
        ),
    ]


def run_awq(model: Any, tokenizer: Any, texts: Sequence[str], group_size: int, config: QuantizeConfig) -> Any:
    """Calibrate and quantize `model` in place with llm-compressor's `oneshot`."""
    from datasets import Dataset
    from llmcompressor import oneshot

    dataset = Dataset.from_dict({"text": list(texts)}).map(
        lambda batch: tokenizer(batch["text"], truncation=True, max_length=config.max_seq_len,
                                add_special_tokens=False),
        batched=True, remove_columns=["text"],
    )
    with _no_pinning_without_accelerator():
        return oneshot(
            model=model, processor=tokenizer, dataset=dataset, recipe=awq_recipe(group_size, config),
            max_seq_length=config.max_seq_len, num_calibration_samples=len(texts),
            shuffle_calibration_samples=False,
        )


def run_rtn(model: Any, group_size: int, config: QuantizeConfig) -> Any:
    """The same W4A16 scheme by plain round-to-nearest (no AWQ scaling, no data), in place."""
    from llmcompressor import oneshot

    with _no_pinning_without_accelerator():
        return oneshot(model=model, recipe=awq_recipe(group_size, config)[1:])


def _sample_generation(model: Any, tokenizer: Any) -> str:
    import torch

    messages = [{"role": "user", "content": "What does an underwriter do?"}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    ids = {key: value.to(next(model.parameters()).device) for key, value in ids.items()}
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=24, do_sample=False, pad_token_id=tokenizer.pad_token_id
                             or tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


# ---- the run ----------------------------------------------------------------------------------


def quantize_model(
    base_dir: Path,
    adapter_dir: Path | None,
    out_dir: Path,
    texts: Sequence[str],
    config: QuantizeConfig | None = None,
    progress: Callable[[QuantizeProgress], None] | None = None,
    *,
    base_name: str | None = None,
) -> QuantizeResult:
    """Merge, AWQ-quantize and save to `out_dir`; `texts` (workspace chunks) give calibration and
    held-out perplexity text."""
    import torch
    from transformers import AutoModelForCausalLM

    config = config or QuantizeConfig()
    started = time.monotonic()

    def report(phase: str, message: str = "") -> None:
        if progress is not None:
            progress(QuantizeProgress(phase, message, time.monotonic() - started))

    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = config.dtype if config.dtype != "auto" else ("bfloat16" if device.startswith("cuda") else "float32")
    calibration, heldout = split_texts(texts, config.heldout_fraction, config.seed, config.max_heldout,
                                       config.num_calibration_samples)
    if not calibration:
        raise TuningError("no text left for calibration after the held-out split: ingest more documents")

    report("merge", f"loading {base_name or base_dir}" + (f" and merging {adapter_dir}" if adapter_dir else ""))
    model, tokenizer = load_merged(Path(base_dir), Path(adapter_dir) if adapter_dir else None, device=device)
    merged_dtype = str(model.dtype).removeprefix("torch.")
    seconds_merge = time.monotonic() - started
    group_size = config.group_size or default_group_size(model)
    layers = sorted(quantizable_linears(model))
    bad = [name for name in layers if quantizable_linears(model)[name].in_features % group_size]
    if bad:
        raise TuningError(f"group size {group_size} does not divide the input size of {bad[0]}")
    layer_bytes_before = weight_bytes(model, layers)
    model_bytes_before = weight_bytes(model)
    notes = []
    misfits = marlin_misfits(model, layers)
    if misfits:
        notes.append(f"{len(misfits)} of {len(layers)} layers (e.g. {misfits[0]}) are outside the shapes SGLang's "
                     "Marlin W4A16 kernels take (in_features % 128, out_features % 64): transformers loads this "
                     "folder, SGLang may refuse it")

    report("perplexity_before", f"perplexity of the merged model on {len(heldout)} held-out texts")
    ppl_before, heldout_tokens = perplexity(model, tokenizer, heldout, config.eval_max_len)
    ppl_rtn = None
    if config.compare_rtn:
        report("perplexity_rtn", "perplexity with plain round-to-nearest W4A16 (the baseline AWQ must beat)")
        baseline = copy.deepcopy(model)
        run_rtn(baseline, group_size, config)
        ppl_rtn, _ = perplexity(baseline, tokenizer, heldout, config.eval_max_len)
        del baseline

    report("awq", f"AWQ W4A16 (asymmetric, group {group_size}) on {len(calibration)} calibration texts")
    awq_started = time.monotonic()
    if dtype != merged_dtype:
        model = model.to(getattr(torch, dtype))
    run_awq(model, tokenizer, calibration, group_size, config)
    seconds_awq = time.monotonic() - awq_started

    report("save", f"saving compressed-tensors to {out_dir}")
    scheme = f"W4A16 asymmetric, group size {group_size} (AWQ, compressed-tensors)"
    save_model(model, tokenizer, Path(out_dir), save_compressed=True)
    out_dir = Path(out_dir).expanduser().resolve()
    del model

    report("perplexity_after", "loading the saved folder back and measuring perplexity")
    quantized = AutoModelForCausalLM.from_pretrained(out_dir, device_map={"": device})
    quantized.eval()
    ppl_after, _ = perplexity(quantized, tokenizer, heldout, config.eval_max_len)
    sample = _sample_generation(quantized, tokenizer)

    result = QuantizeResult(
        out_dir=out_dir, base_model=base_name or str(base_dir), adapter=str(adapter_dir) if adapter_dir else None,
        group_size=group_size, scheme=scheme, quantized_layers=len(layers),
        layer_bytes_before=layer_bytes_before, layer_bytes_after=saved_layer_bytes(out_dir, layers),
        model_bytes_before=model_bytes_before, folder_bytes_after=0, merged_dtype=merged_dtype,
        perplexity_before=ppl_before, perplexity_after=ppl_after, perplexity_rtn=ppl_rtn,
        n_calibration=len(calibration),
        n_heldout=len(heldout), heldout_tokens=heldout_tokens, seconds_merge=seconds_merge,
        seconds_awq=seconds_awq, seconds_total=0.0, device=device, sample_output=sample, notes=notes,
        saved_dtype=dtype,
    )
    result.seconds_total = time.monotonic() - started
    card = {**result.to_dict(), "config": config.model_dump()}
    (out_dir / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    result.folder_bytes_after = folder_bytes(out_dir)
    report("done", f"saved {out_dir}")
    return result

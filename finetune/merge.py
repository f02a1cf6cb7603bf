"""Merging a LoRA adapter into its base in full precision (the step before AWQ and serving).

The base is loaded unquantized (float32 on CPU), the adapter's low-rank updates are folded into the
linear weights (`merge_and_unload`), and the result is an ordinary transformers model. Tied input
and output embeddings stay tied unless the adapter changed one of them, in which case the config
says so (`tie_word_embeddings=False`), so saving never drops the changed matrix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finetune import TuningError
from index.atomic import replacing_folder


def check_adapter(adapter_dir: Path) -> Path:
    adapter_dir = Path(adapter_dir).expanduser()
    if not (adapter_dir / "adapter_config.json").is_file():
        raise TuningError(f"{adapter_dir} is not a LoRA adapter folder (no adapter_config.json)")
    return adapter_dir


def load_merged(base_dir: Path, adapter_dir: Path | None, *, dtype: str = "float32",
                device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer): the base at `dtype` with the adapter (if any) merged into its weights."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base_dir = Path(base_dir)
    if not (base_dir / "config.json").is_file():
        raise TuningError(f"unknown base model {str(base_dir)!r}: not a model folder with config.json")
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=getattr(torch, dtype), device_map={"": device})
    if adapter_dir is not None:
        model = merge_adapter(model, check_adapter(adapter_dir))
    model.eval()
    return model, tokenizer


def merge_adapter(model: Any, adapter_dir: Path) -> Any:
    """Fold a peft LoRA adapter into `model` and return the plain merged model."""
    from peft import PeftModel

    embeddings = model.get_input_embeddings().weight
    try:
        peft_model = PeftModel.from_pretrained(model, str(adapter_dir))
    except Exception as exc:
        raise TuningError(f"the adapter in {adapter_dir} does not fit this base model: {exc}".splitlines()[0]) from exc
    merged = peft_model.merge_and_unload()
    output = merged.get_output_embeddings()
    tied = bool(getattr(merged.config, "tie_word_embeddings", False))
    if tied and output is not None and output.weight is not merged.get_input_embeddings().weight:
        # The adapter changed one side of a tied pair: keep both, untied.
        merged.config.tie_word_embeddings = False
    elif tied and merged.get_input_embeddings().weight is not embeddings:
        merged.tie_weights()
    return merged


def save_model(model: Any, tokenizer: Any, out_dir: Path, *, extra: dict[str, Any] | None = None,
               **save_kwargs: Any) -> Path:
    """Save a model folder atomically (temporary folder, then renamed over `out_dir`)."""
    out_dir = Path(out_dir).expanduser().resolve()
    with replacing_folder(out_dir) as tmp:
        model.save_pretrained(tmp, **save_kwargs)
        tokenizer.save_pretrained(tmp)
        for name, content in (extra or {}).items():
            path = tmp / name
            path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2) + "\n")
    return out_dir

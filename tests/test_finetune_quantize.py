"""Merge and AWQ with the real bundled model on CPU: the merged model equals base + adapter, AWQ
writes a compressed-tensors W4A16 folder that transformers loads and generates from, and the
perplexity on held-out text beats plain round-to-nearest and rises by less than 10%."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune import TuningError

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = ROOT / ".test-cache" / "models"


def sample_texts() -> list[str]:
    """Workspace-like text: every sample document read by the index loaders, cut into paragraphs."""
    from index.loaders import kind_of, load_document

    texts = []
    for path in sorted((ROOT / "sample_docs").rglob("*")):
        if not path.is_file() or not kind_of(path) or {"eval", "tuning"} & set(path.parts):
            continue
        for page in load_document(path.resolve(), path.read_bytes()).pages:
            texts += [part.strip() for part in page.text.split("\n\n") if len(part.strip()) > 200]
    return texts


@pytest.fixture(scope="module")
def base_model_dir() -> Path:
    from assistant.engines.models import resolve_generator

    return resolve_generator("bundled:SmolLM2-135M-Instruct", MODEL_CACHE)


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory, base_model_dir) -> Path:
    """A LoRA adapter on every linear layer with small random updates (training is tested elsewhere)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base_model_dir, dtype=torch.float32)
    peft_model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear",
                                                  init_lora_weights=False, task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.mul_(0.02)
    out = tmp_path_factory.mktemp("adapter") / "adapter"
    peft_model.save_pretrained(out)
    return out


def quick_config(**overrides):
    from finetune.quantize import QuantizeConfig

    # Few, short calibration texts for CPU time; the product's 20 grid points (10 lose about 3 points of perplexity).
    values = dict(num_calibration_samples=16, max_seq_len=128, n_grid=20, heldout_fraction=0.25, max_heldout=16,
                  compare_rtn=True)
    values.update(overrides)
    return QuantizeConfig(**values)


@pytest.fixture(scope="module")
def quantized(tmp_path_factory, base_model_dir, adapter_dir):
    """One merge + AWQ run through the application core, progress recorded."""
    from assistant.settings import load_settings
    from assistant.tuning.service import quantize

    settings = load_settings(workspace=tmp_path_factory.mktemp("q-ws"), model_cache=MODEL_CACHE)
    events = []
    out = tmp_path_factory.mktemp("quantized") / "smol-awq"
    result = quantize(settings, adapter=adapter_dir, out=out, progress=events.append, config=quick_config(),
                      texts=sample_texts())
    return result, events


def test_group_size_divides_every_layer():
    import torch

    from finetune.quantize import pick_group_size

    def model(*sizes):
        return torch.nn.Sequential(*[torch.nn.Linear(size, 8) for size in sizes])

    assert pick_group_size(model(576, 1536, 192)) == 64  # SmolLM2: hidden 576 is not a multiple of 128
    assert pick_group_size(model(4096, 11008)) == 128
    assert pick_group_size(model(96, 4096)) == 32
    with pytest.raises(TuningError, match="no group size"):
        pick_group_size(model(100))


def test_small_models_get_group_32_by_default(base_model_dir):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from finetune.quantize import default_group_size

    with torch.device("meta"):
        smol = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base_model_dir))
    assert default_group_size(smol) == 32  # 135M parameters: 64 would divide, 32 keeps perplexity within 10%
    big = torch.nn.Sequential(*[torch.nn.Linear(4096, 4096, device="meta") for _ in range(64)])  # 1.07B
    assert default_group_size(big) == 128


def test_texts_split_into_calibration_and_heldout():
    from finetune.quantize import split_texts

    texts = [f"text {i}" for i in range(40)] + ["text 1", " ", ""]
    calibration, heldout = split_texts(texts, 0.1, seed=0, max_heldout=64, max_calibration=16)
    assert len(heldout) == 4 and len(calibration) == 16 and not set(calibration) & set(heldout)
    assert (calibration, heldout) == split_texts(texts, 0.1, seed=0, max_heldout=64, max_calibration=16)
    with pytest.raises(TuningError, match="ingest documents first"):
        split_texts(["only one"], 0.1, 0, 8, 8)


def test_pinning_is_skipped_only_without_an_accelerator():
    import torch
    from llmcompressor.pipelines.cache import IntermediatesCache

    from finetune.quantize import _no_pinning_without_accelerator

    original = IntermediatesCache.pin_memory
    with _no_pinning_without_accelerator():
        patched = IntermediatesCache.pin_memory
    assert IntermediatesCache.pin_memory is original
    assert (patched is original) == torch.accelerator.is_available()


@pytest.mark.slow
def test_merge_folds_the_adapter_in_and_keeps_embeddings_tied(base_model_dir, adapter_dir, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from finetune.merge import load_merged, save_model

    merged, tokenizer = load_merged(base_model_dir, adapter_dir)
    assert merged.config.tie_word_embeddings
    assert merged.get_output_embeddings().weight is merged.get_input_embeddings().weight
    ids = tokenizer("The sprinkler system covers 90% of the floor area.", return_tensors="pt").input_ids
    base = AutoModelForCausalLM.from_pretrained(base_model_dir, dtype=torch.float32)
    with torch.no_grad():
        base_logits = base(input_ids=ids).logits
        reference = PeftModel.from_pretrained(base, str(adapter_dir))(input_ids=ids).logits
        merged_logits = merged(input_ids=ids).logits
    assert (merged_logits - base_logits).abs().max() > 1e-3  # the adapter changed the model
    assert torch.allclose(merged_logits, reference, atol=1e-3)  # and merging kept its effect
    folder = save_model(merged, tokenizer, tmp_path / "merged")
    reloaded = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    with torch.no_grad():
        assert torch.allclose(reloaded(input_ids=ids).logits, merged_logits, atol=1e-4)


@pytest.mark.slow
def test_awq_folder_is_compressed_tensors_w4a16(quantized):
    result, _ = quantized
    config = json.loads((result.out_dir / "config.json").read_text())
    quant = config["quantization_config"]
    assert quant["quant_method"] == "compressed-tensors"
    assert quant["format"] == "pack-quantized"
    weights = quant["config_groups"]["group_0"]["weights"]
    assert weights["num_bits"] == 4 and weights["symmetric"] is False
    assert weights["strategy"] == "group" and weights["group_size"] == result.group_size == 32
    assert "lm_head" in quant["ignore"]
    assert (result.out_dir / "tokenizer.json").is_file()
    card = json.loads((result.out_dir / "quantization_card.json").read_text())
    assert card["perplexity_before"] == result.perplexity_before and card["adapter"]


@pytest.mark.slow
def test_awq_figures_perplexity_sizes_times(quantized):
    result, events = quantized
    print(f"\nperplexity {result.perplexity_before:.3f} -> {result.perplexity_after:.3f} "
          f"(round-to-nearest {result.perplexity_rtn:.3f}) "
          f"(x{result.perplexity_ratio:.4f}); layers {result.layer_bytes_before / 1e6:.1f} MB -> "
          f"{result.layer_bytes_after / 1e6:.1f} MB; folder {result.folder_bytes_after / 1e6:.1f} MB; "
          f"merge {result.seconds_merge:.1f} s, AWQ {result.seconds_awq:.1f} s, total {result.seconds_total:.1f} s")
    assert result.quantized_layers == 30 * 7
    # AWQ must beat plain round-to-nearest of the same scheme and stay within 10% of the merged model
    # (measured +8.4% with this adapter at 20 grid points; 10 points gave +11.3%: BENCHMARKS.md).
    assert result.group_size == 32  # the default for a model this small
    assert result.perplexity_rtn is not None and result.perplexity_after < result.perplexity_rtn
    assert result.perplexity_after < result.perplexity_before * 1.10
    # 4-bit weights plus a float32 scale and a packed zero point per 32 weights: under 1/5 of float32.
    assert result.layer_bytes_after < result.layer_bytes_before / 5
    assert result.folder_bytes_after < result.model_bytes_before / 2
    assert [event.phase for event in events][-1] == "done"
    assert result.seconds_awq > 0 and result.seconds_total >= result.seconds_awq


@pytest.mark.slow
def test_quantized_folder_loads_and_generates(quantized):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result, _ = quantized
    assert result.sample_output.strip()
    model = AutoModelForCausalLM.from_pretrained(result.out_dir)
    tokenizer = AutoTokenizer.from_pretrained(result.out_dir)
    messages = [{"role": "user", "content": "Name one fire protection system."}]
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                           return_dict=True)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    assert out.shape[1] > inputs["input_ids"].shape[1]
    assert tokenizer.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


def test_quantize_errors(tmp_path):
    from assistant.settings import load_settings
    from assistant.tuning.service import quantize

    settings = load_settings(workspace=tmp_path / "ws", model_cache=MODEL_CACHE)
    with pytest.raises(TuningError, match="unknown base model 'bundled:Nope'"):
        quantize(settings, base="bundled:Nope", out=tmp_path / "q", texts=["a b c", "d e f"])
    with pytest.raises(TuningError, match="no index"):
        quantize(settings, out=tmp_path / "q")


@pytest.mark.gpu
@pytest.mark.slow
def test_awq_on_cuda(tmp_path, base_model_dir, adapter_dir):
    from finetune.quantize import quantize_model

    result = quantize_model(base_model_dir, adapter_dir, tmp_path / "q", sample_texts(), quick_config(device="cuda"))
    assert result.device == "cuda" and result.saved_dtype == "bfloat16"
    assert result.perplexity_after < result.perplexity_rtn
    assert result.perplexity_after < result.perplexity_before * 1.10

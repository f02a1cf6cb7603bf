"""QLoRA with the real bundled model (few steps, short prompts): eval loss goes down, the adapter
folder is complete, the embedded engine loads it and answers differently; errors are clear."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant.tuning.starter_set import build_dataset
from finetune import TuningError
from finetune.dataset import DatasetError, data_hash, write_jsonl
from index.types import Chunk

ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = ROOT / ".test-cache" / "models"  # converted bundled model, shared across runs

# Short sources keep every prompt near 150 tokens, so a CPU step takes about a second.
TEXTS = [
    ("/docs/harbor/sov.csv", "Location No: 1; Address: 2150 Wharf Road; Total Insured Value: $82,750,000; "
                             "Stories: 1; ISO PPC: 3; Year Built: 2006."),
    ("/docs/harbor/notes.txt", "Account: Harbor Foods Distribution LLC\nBroker: Cascade Risk Partners\n"
                               "Underwriter: Jordan Castellano\nExpiring premium: $385,800"),
    ("/docs/meridian/notes.txt", "Insured: Meridian Plastics Inc\nUnderwriter: Renee Adeyemi\n"
                                 "AOP deductible: $100,000\nLoss ratio: 30.2%"),
    ("/docs/oakridge/sov.csv", "Location No: 2; Address: 320 Chestnut Hill Drive; Total Insured Value: $21,150,000; "
                               "Stories: 3; Construction: Joisted Masonry."),
    ("/docs/oakridge/letter.txt", "Named insured: Oakridge Senior Living\nRequested limit: $25,000,000\n"
                                  "Hydrant distance: 180 feet"),
    ("/docs/guidelines.md", "3.5 Sprinkler impairments longer than 10 days must be reported to the underwriter."),
]
CHUNKS = [Chunk(i + 1, source, 1, 0, text) for i, (source, text) in enumerate(TEXTS)]


def small_config(**overrides):
    from finetune.qlora import TrainConfig

    values = dict(max_steps=8, batch_size=2, grad_accum=1, learning_rate=1e-3, warmup_ratio=0.0,
                  lora_r=8, lora_alpha=16, lora_dropout=0.0, eval_fraction=0.25, max_seq_len=384, seed=0)
    values.update(overrides)
    return TrainConfig(**values)


def make_data(path: Path, n: int = 28, seed: int = 0) -> Path:
    return write_jsonl(path, build_dataset(CHUNKS, n, seed, max_sources=1, no_answer_fraction=0.15))


@pytest.fixture(scope="session")
def base_model_dir() -> Path:
    """The bundled generator converted once into the persistent test cache."""
    from assistant.engines.models import resolve_generator

    return resolve_generator("bundled:SmolLM2-135M-Instruct", MODEL_CACHE)


@pytest.fixture(scope="module")
def tuning_settings(tmp_path_factory, base_model_dir):
    from assistant.settings import load_settings

    return load_settings(workspace=tmp_path_factory.mktemp("tune-ws"), model_cache=MODEL_CACHE)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tuning_settings):
    """One real QLoRA run through the application core, with every progress event recorded."""
    from assistant.tuning.service import tune

    folder = tmp_path_factory.mktemp("tune")
    data = make_data(folder / "train.jsonl")
    events = []
    result = tune(tuning_settings, data, out=folder / "adapter", config=small_config(), progress=events.append)
    return result, events, data


@pytest.mark.slow
def test_tuning_lowers_eval_loss(trained):
    result, _, _ = trained
    print(f"\neval loss {result.eval_loss_before:.4f} -> {result.eval_loss_after:.4f}; "
          f"{result.steps} steps, train {result.train_seconds:.1f} s, total {result.seconds:.1f} s")
    assert result.device == "cpu" and result.steps == 8
    assert result.n_eval >= 2 and result.n_train >= 6
    assert result.eval_loss_after < result.eval_loss_before


@pytest.mark.slow
def test_adapter_folder_has_card_history_and_curve(trained):
    from PIL import Image

    result, _, data = trained
    folder = result.adapter_dir
    assert (folder / "adapter_config.json").is_file() and (folder / "adapter_model.safetensors").is_file()
    card = json.loads((folder / "tuning_card.json").read_text())
    assert card["base_model"] == "bundled:SmolLM2-135M-Instruct"
    assert card["data_hash"] == data_hash(data)
    hyper = card["hyperparameters"]
    assert hyper["lora_r"] == 8 and hyper["quantization"] == "nf4, double quantization"
    assert hyper["target_modules"] == "all-linear" and hyper["max_steps"] == 8
    assert [row["step"] for row in card["loss_history"]] == list(range(1, 9))
    assert card["eval_loss_before"] == result.eval_loss_before
    assert "Eval loss" in (folder / "README.md").read_text()
    with Image.open(folder / "loss_curve.png") as image:
        assert image.size[0] >= 320 and image.format == "PNG"
    # LoRA on every linear layer of every block (q, k, v, o, gate, up, down), never lm_head.
    config = json.loads((folder / "adapter_config.json").read_text())
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                             "down_proj"}
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.slow
def test_progress_reports_step_loss_and_time_remaining(trained):
    _, events, _ = trained
    phases = [event.phase for event in events]
    assert phases[0] == "loading" and phases[-1] == "done"
    assert {"eval_before", "eval_after", "saving"} <= set(phases)
    steps = [event for event in events if event.phase == "train"]
    assert [event.step for event in steps] == list(range(1, 9))
    assert all(event.loss is not None and event.eta_s is not None and event.total_steps == 8 for event in steps)
    assert steps[-1].eta_s == 0 and steps[0].eta_s > 0


@pytest.mark.slow
def test_adapter_works_in_the_embedded_engine_and_changes_its_output(trained, tuning_settings):
    import torch

    from assistant.engines.base import GenerationRequest, generate
    from assistant.engines.embedded import EmbeddedEngine

    result, _, data = trained
    plain = EmbeddedEngine(tuning_settings, enable_prefix_cache=False)
    tuned = EmbeddedEngine(tuning_settings, enable_prefix_cache=False, adapter=result.adapter_dir)
    assert tuned.model_id().endswith(result.adapter_dir.name)
    prompts = [json.loads(line)["messages"][:2] for line in data.read_text().splitlines()[:3]]
    outputs = []
    for messages in prompts:
        request = GenerationRequest(messages=messages, max_tokens=24)
        outputs.append((generate(plain, request)[0], generate(tuned, request)[0]))
    ids = torch.tensor([plain.encode(prompts[0])])
    with torch.no_grad():
        delta = (plain.model(input_ids=ids).logits - tuned.model(input_ids=ids).logits).abs().max().item()
    print("\n" + "\n".join(f"base: {a!r}\ntuned: {b!r}" for a, b in outputs))
    assert delta > 1e-3
    assert any(a != b for a, b in outputs)


@pytest.mark.slow
def test_cancel_stops_training_and_saves_nothing(tmp_path, base_model_dir):
    from finetune.qlora import TrainingCancelled, train

    data = make_data(tmp_path / "d.jsonl", n=12)
    cancel = threading.Event()

    def stop_at_first_step(event):
        if event.phase == "train":
            cancel.set()

    with pytest.raises(TrainingCancelled):
        train(base_model_dir, data, tmp_path / "adapter", small_config(max_steps=3), stop_at_first_step, cancel)
    assert not (tmp_path / "adapter").exists()


@pytest.mark.slow
def test_evaluation_keeps_the_4bit_weights_trainable(base_model_dir):
    """bitsandbytes repacks 4-bit weights for a backward-less CPU kernel when a layer runs in eval mode
    (on CPUs with AVX512-BF16); after `evaluate`, training must still backpropagate through them."""
    import warnings

    import bitsandbytes as bnb

    from finetune.qlora import _batches, encode_example, evaluate, load_for_training, token_loss_sums

    tokenizer, model = load_for_training(base_model_dir, small_config(), "cpu")
    messages = [{"role": "user", "content": "What is the deductible?"},
                {"role": "assistant", "content": "The deductible is $50,000 [1]."}]
    item = encode_example(tokenizer, messages)
    evaluate(model, [item], 1, tokenizer.pad_token_id, "cpu")
    states = [m.weight.quant_state for m in model.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(states) == 30 * 7
    assert not any(getattr(state, "packing_format_for_cpu", False) for state in states)
    assert all(state.nested for state in states)  # double quantization kept
    model.train()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss, count = token_loss_sums(model, next(_batches([item], 1, tokenizer.pad_token_id)))
        (loss / count).backward()
    assert not [w for w in caught if "autograd kernel was not registered" in str(w.message)]
    first = model.base_model.model.model.layers[0].self_attn.q_proj.lora_B["default"].weight.grad
    assert first is not None and first.abs().sum() > 0


def test_bad_data_is_rejected_before_any_model_loads(tmp_path, monkeypatch, base_model_dir):
    import finetune.qlora as qlora

    monkeypatch.setattr(qlora, "load_for_training", lambda *a, **k: pytest.fail("model loaded"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "q"}]}\nnot json\n')
    with pytest.raises(DatasetError, match=r"bad.jsonl:1: .*\n.*bad.jsonl:2: invalid JSON"):
        qlora.train(base_model_dir, bad, tmp_path / "out", small_config())


def test_data_too_small_for_an_eval_split(tmp_path, monkeypatch, base_model_dir):
    import finetune.qlora as qlora

    monkeypatch.setattr(qlora, "load_for_training", lambda *a, **k: pytest.fail("model loaded"))
    data = make_data(tmp_path / "tiny.jsonl", n=3)
    with pytest.raises(TuningError, match=r"data too small for an eval split: 3 usable examples, need at least 4"):
        qlora.train(base_model_dir, data, tmp_path / "out", small_config())


def test_unknown_base_is_a_clear_error(tmp_path, tuning_settings):
    from assistant.tuning.service import tune
    from finetune.qlora import train

    data = make_data(tmp_path / "d.jsonl", n=12)
    with pytest.raises(TuningError, match=r"unknown base model 'bundled:Nope'.*bundled:SmolLM2-135M-Instruct"):
        tune(tuning_settings, data, base="bundled:Nope")
    with pytest.raises(TuningError, match="unknown base model"):
        tune(tuning_settings, data, base=str(tmp_path / "no-such-model"))
    with pytest.raises(TuningError, match=r"not a model folder with config\.json"):
        train(tmp_path, data, tmp_path / "out")


def test_out_of_memory_gives_advice(tmp_path, monkeypatch, base_model_dir):
    import torch

    import finetune.qlora as qlora

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(qlora, "load_for_training", out_of_memory)
    data = make_data(tmp_path / "d.jsonl", n=12)
    with pytest.raises(TuningError, match=r"out of memory on cpu: lower --batch-size \(now 2\).*--max-seq-len"):
        qlora.train(base_model_dir, data, tmp_path / "out", small_config())


def test_loss_counts_assistant_turns_only(base_model_dir):
    from transformers import AutoTokenizer

    from finetune.qlora import IGNORE_INDEX, encode_example

    tokenizer = AutoTokenizer.from_pretrained(base_model_dir)
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "first answer [1]."}, {"role": "user", "content": "again"},
                {"role": "assistant", "content": "second answer"}]
    ids, labels = encode_example(tokenizer, messages)
    learned = tokenizer.decode([t for t, label in zip(ids, labels, strict=True) if label != IGNORE_INDEX])
    assert learned == "first answer [1].<|im_end|>\nsecond answer<|im_end|>\n"
    assert len(ids) == len(labels) and labels[0] == IGNORE_INDEX


@pytest.mark.gpu
@pytest.mark.slow
def test_qlora_on_cuda(tmp_path, tuning_settings):
    from assistant.tuning.service import tune

    data = make_data(tmp_path / "d.jsonl")
    result = tune(tuning_settings, data, out=tmp_path / "adapter", config=small_config(device="cuda"))
    assert result.device == "cuda"
    assert result.eval_loss_after < result.eval_loss_before
    assert (tmp_path / "adapter" / "adapter_model.safetensors").is_file()

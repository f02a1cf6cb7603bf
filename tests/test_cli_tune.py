"""`assistant tune dataset`, `assistant tune` and `assistant quantize` on the command line: the wiring
over the application core, the committed sample dataset, and one-line errors for bad input.

The CLI runs in-process over the session's sample workspace (real embedder, SQLite, FAISS, the real
bundled model); the heavy paths (full QLoRA and AWQ runs) are measured in test_finetune_*.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from finetune.dataset import validate_file

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "sample_docs" / "tuning" / "grounded_starter.jsonl"
COMMITTED_N, COMMITTED_SEED = 200, 0  # how the README (Domain tuning) says it was built


def test_tune_without_data_says_what_to_give(cli) -> None:
    result = cli("tune")
    assert result.exit_code == 2
    assert "give --data FILE" in result.output


def test_tune_rejects_bad_data_with_file_and_line_before_loading(cli, tmp_path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"messages": [{"role": "user", "content": "hi"}]}\nnot json\n')
    result = cli("tune", "--data", str(data), "--out", str(tmp_path / "adapter"))
    assert result.exit_code == 2, result.output
    lines = [x.strip() for x in result.output.splitlines() if x.strip()]
    assert lines == [f"error: {data}: 2 bad lines; nothing was trained",
                     f"{data}:1: the last message must be an assistant turn (the part the model learns)",
                     f"{data}:2: invalid JSON: Expecting value (column 1)"], lines
    assert not (tmp_path / "adapter").exists()


def test_quantize_unknown_base_is_one_line(cli, tmp_path) -> None:
    result = cli("quantize", "--base", "bundled:NoSuchModel", "--out", str(tmp_path / "q"))
    assert result.exit_code == 2, result.output
    assert "unknown base model 'bundled:NoSuchModel'" in " ".join(result.output.split())
    assert not (tmp_path / "q").exists()


@pytest.mark.slow
def test_tune_dataset_rebuilds_the_committed_sample_dataset(cli, tmp_path) -> None:
    """Deterministic with a seed: the workspace of sample_docs gives back the committed file, byte for byte
    (a change to chunking or prompts shows here: rebuild the file as the README says)."""
    out = tmp_path / "starter.jsonl"
    result = cli("tune", "dataset", "--out", str(out), "-n", str(COMMITTED_N), "--seed", str(COMMITTED_SEED))
    assert result.exit_code == 0, result.output
    assert f"{COMMITTED_N} examples" in result.output
    examples = validate_file(out)
    assert len(examples) == COMMITTED_N
    assert out.read_bytes() == COMMITTED.read_bytes()
    other_seed = tmp_path / "seed1.jsonl"
    assert cli("tune", "dataset", "--out", str(other_seed), "-n", str(COMMITTED_N), "--seed", "1").exit_code == 0
    assert len(validate_file(other_seed)) == COMMITTED_N and other_seed.read_bytes() != out.read_bytes()


@pytest.mark.slow
def test_tune_trains_an_adapter_and_prints_the_eval_losses(cli, tmp_path) -> None:
    from tests.test_finetune_qlora import make_data

    data = make_data(tmp_path / "train.jsonl")
    adapter = tmp_path / "adapter"
    result = cli("tune", "--data", str(data), "--out", str(adapter), "--steps", "2", "--batch-size", "2",
                 "--grad-accum", "1", "--lora-r", "4")
    assert result.exit_code == 0, result.output
    assert "eval loss:" in result.output and "before" in result.output and "after" in result.output
    assert f"assistant ask --adapter {adapter}" in " ".join(result.output.split())
    card = json.loads((adapter / "tuning_card.json").read_text())
    assert card["hyperparameters"]["lora_r"] == 4 and card["hyperparameters"]["max_steps"] == 2
    assert card["data_hash"] and card["base_model"] == "bundled:SmolLM2-135M-Instruct"
    assert (adapter / "adapter_config.json").is_file()


@pytest.mark.slow
def test_quantize_writes_a_folder_and_prints_the_figures(cli, tmp_path) -> None:
    """The wiring end to end on the sample workspace (few calibration chunks; the figures are checked in
    test_finetune_quantize.py)."""
    out = tmp_path / "smol-awq"
    result = cli("quantize", "--out", str(out), "--calibration", "4")
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "perplexity on" in text and "merged (float32)" in text and "quantized" in text
    assert "W4A16 asymmetric, group size 32" in text and f"saved: {out}" in text
    quant = json.loads((out / "config.json").read_text())["quantization_config"]
    assert quant["config_groups"]["group_0"]["weights"]["group_size"] == 32
    assert (out / "quantization_card.json").is_file()

"""The embedded engine on the real bundled SmolLM2-135M-Instruct: conversion, exact decoding, prefix reuse,
streaming, stop handling, LoRA adapters, and the engine registry."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from assistant.engines import ENGINES, EngineError, GenerationRequest, build_engine, generate
from assistant.engines.embedded import EmbeddedEngine, IncrementalText
from assistant.engines.models import resolve_generator

pytestmark = pytest.mark.slow

SYSTEM = "You are an underwriting assistant. Answer only from the context and cite sources as [n]."
CONTEXT = "\n\n".join(
    f"[{n}] Schedule of locations, page {n}: the warehouse at {n * 7} Harbor Road is of masonry "
    f"construction, protected by a wet-pipe sprinkler system, rated class {n % 4 + 1}; "
    f"its total insured value is {n * 125_000} USD."
    for n in range(1, 7)
)


def rag_messages(question: str, context: str = CONTEXT) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": f"Context:\n{context}\n\nQuestion: {question}"},
    ]


def ask(question: str, max_tokens: int = 24, **kwargs) -> GenerationRequest:
    return GenerationRequest(messages=rag_messages(question, **kwargs), max_tokens=max_tokens)


# --- models.py ---------------------------------------------------------------------------------------


def test_bundled_model_is_converted_once_into_a_loadable_folder(model_cache: Path, embedded_engine) -> None:
    folder = resolve_generator("bundled:SmolLM2-135M-Instruct", model_cache)
    assert folder == model_cache / "SmolLM2-135M-Instruct"
    assert (folder / "model.safetensors").is_file()
    # Generation must stop at the end of a turn, not at <|im_start|> as the GGUF metadata says.
    assert json.loads((folder / "generation_config.json").read_text())["eos_token_id"] == 2
    assert json.loads((folder / "config.json").read_text())["eos_token_id"] == 2
    assert embedded_engine.tokenizer.eos_token == "<|im_end|>"
    assert "quantization_config" not in json.loads((folder / "config.json").read_text())
    # Atomic: no temporary folder left behind; a second resolve reuses the folder.
    assert not [p for p in model_cache.iterdir() if p.name.endswith(".tmp")]
    mtime = (folder / "model.safetensors").stat().st_mtime
    assert resolve_generator("bundled:SmolLM2-135M-Instruct", model_cache) == folder
    assert (folder / "model.safetensors").stat().st_mtime == mtime


def test_local_folders_resolve_to_themselves_and_missing_ones_fail(model_cache: Path, tmp_path: Path) -> None:
    folder = model_cache / "SmolLM2-135M-Instruct"
    assert resolve_generator(str(folder), tmp_path) == folder.resolve()
    with pytest.raises(EngineError, match="does not exist") as info:
        resolve_generator(str(tmp_path / "no-such-model"), tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(EngineError, match="does not exist"):
        resolve_generator("HuggingFaceTB/SmolLM2-360M-Instruct", tmp_path)  # never a hub download
    with pytest.raises(EngineError, match="known: bundled:SmolLM2-135M-Instruct"):
        resolve_generator("bundled:nope", tmp_path)


# --- registry ----------------------------------------------------------------------------------------


def test_unknown_engine_name_lists_the_known_ones(engine_settings) -> None:
    with pytest.raises(EngineError) as info:
        build_engine("llamacpp", engine_settings)
    message = str(info.value)
    assert "llamacpp" in message
    for name in ENGINES:
        assert name in message
    assert set(ENGINES) == {"embedded", "http"}


# --- decoding ----------------------------------------------------------------------------------------


def test_engine_facts(embedded_engine: EmbeddedEngine) -> None:
    messages = rag_messages("Which location has the highest insured value?")
    assert embedded_engine.model_id() == "SmolLM2-135M-Instruct"
    assert embedded_engine.context_window == 8192
    ids = embedded_engine.encode(messages)
    assert embedded_engine.count_tokens(messages) == len(ids) > 300
    assert ids[0] == embedded_engine.tokenizer.convert_tokens_to_ids("<|im_start|>")


def test_special_tokens_cover_the_chat_template_markers(embedded_engine: EmbeddedEngine) -> None:
    tokens = embedded_engine.special_tokens()
    for marker in ("<|im_start|>", "<|im_end|>", "<|endoftext|>", "<repo_name>"):
        assert marker in tokens


def test_unsupported_dtype_is_refused(engine_settings) -> None:
    with pytest.raises(EngineError, match="unsupported dtype 'int3'"):
        build_engine("embedded", engine_settings, dtype="int3")


def test_generator_dtype_setting_picks_the_engine_precision(engine_settings) -> None:
    from index.embeddings import fast_dtype

    auto = build_engine("embedded", engine_settings.model_copy(update={"generator_dtype": "auto"}))
    assert auto.dtype == getattr(torch, fast_dtype())
    text, usage = generate(auto, ask("What is the construction at 21 Harbor Road?", max_tokens=8))
    assert text.strip() and usage.completion_tokens > 0
    with pytest.raises(EngineError, match="unsupported dtype 'float8'"):
        build_engine("embedded", engine_settings.model_copy(update={"generator_dtype": "float8"}))


def test_lean_forward_matches_the_transformers_forward(embedded_engine: EmbeddedEngine) -> None:
    messages = rag_messages("What is the construction at 21 Harbor Road?")
    ids = torch.tensor([embedded_engine.encode(messages)])
    with torch.inference_mode():
        reference = embedded_engine.model(input_ids=ids).logits[0, -1].float()
    ours = embedded_engine.last_logits(messages)
    assert torch.allclose(ours, reference, atol=1e-3, rtol=1e-4), (ours - reference).abs().max()


def test_greedy_output_equals_model_generate(embedded_engine: EmbeddedEngine) -> None:
    request = ask("What sprinkler system protects the warehouse at 14 Harbor Road?", max_tokens=20)
    text, usage = generate(embedded_engine.variant(enable_prefix_cache=False), request)
    ids = torch.tensor([embedded_engine.encode(request.messages)])
    with torch.inference_mode():
        out = embedded_engine.model.generate(ids, max_new_tokens=20, do_sample=False)
    new = out[0, ids.shape[1] :].tolist()
    expected = embedded_engine.tokenizer.decode(new, skip_special_tokens=True)
    assert text == expected
    assert text.strip()
    assert usage.completion_tokens == len(new)
    assert usage.cached_tokens == 0


def test_second_question_reuses_the_context_prefix_with_identical_output(embedded_engine: EmbeddedEngine) -> None:
    context = CONTEXT.replace("masonry", "joisted masonry")  # a prefix no other test stores
    engine = embedded_engine.variant(enable_prefix_cache=True)
    uncached = embedded_engine.variant(enable_prefix_cache=False)

    _, first = generate(engine, ask("What is the insured value at 35 Harbor Road?", context=context))
    assert first.cached_tokens == 0
    assert first.prompt_tokens > 300

    stored = {ids: [(k.clone(), v.clone()) for k, v in engine.prefix_cache._entries[ids].kv]
              for ids in engine.prefix_cache.prompts()}
    assert stored, "the first question stored its prompt"
    request = ask("Which sprinkler class applies at 42 Harbor Road?", context=context)
    second_text, second = generate(engine, request)
    reference_text, reference = generate(uncached, request)
    # The generation that reused the prefix wrote into its own buffers, never into the stored entry.
    for ids, layers in stored.items():
        if ids in engine.prefix_cache.prompts():
            for (k, v), (k2, v2) in zip(layers, engine.prefix_cache._entries[ids].kv, strict=True):
                assert torch.equal(k, k2) and torch.equal(v, v2)

    assert second.cached_tokens > 0.8 * second.prompt_tokens  # everything up to the question
    assert second.cached_tokens < second.prompt_tokens
    assert reference.cached_tokens == 0
    assert second_text == reference_text
    assert second.completion_tokens == reference.completion_tokens > 0
    assert second.prompt_tokens == reference.prompt_tokens

    # The very same prompt again: all but the last token come from the cache, same answer.
    again_text, again = generate(engine, request)
    assert again.cached_tokens == again.prompt_tokens - 1
    assert again_text == reference_text


def test_stream_pieces_concatenate_to_the_whole_text(embedded_engine: EmbeddedEngine) -> None:
    request = ask("Describe the warehouse at 7 Harbor Road.", max_tokens=40)
    events = list(embedded_engine.stream(request))
    pieces = [e.text for e in events if e.text]
    final = events[-1]
    assert final.usage is not None and final.finish_reason in {"stop", "length"}
    assert all(e.usage is None for e in events[:-1])
    assert len(pieces) > 3
    text, usage = generate(embedded_engine, request)
    assert "".join(pieces) == text
    assert 0 < final.usage.time_to_first_token <= final.usage.total_time
    assert usage.completion_tokens == final.usage.completion_tokens


def test_max_tokens_ends_with_length(embedded_engine: EmbeddedEngine) -> None:
    text, usage = generate(embedded_engine, ask("List every location.", max_tokens=3))
    events = list(embedded_engine.stream(ask("List every location.", max_tokens=3)))
    assert usage.completion_tokens == 3
    assert events[-1].finish_reason == "length"
    assert text


def test_generation_stops_at_end_of_turn(embedded_engine: EmbeddedEngine) -> None:
    request = GenerationRequest(messages=[{"role": "user", "content": "Say hello."}], max_tokens=200)
    events = list(embedded_engine.stream(request))
    assert events[-1].finish_reason == "stop"
    assert events[-1].usage.completion_tokens < 200
    assert "<|im_end|>" not in "".join(e.text for e in events)


def test_stop_strings_cut_the_answer_before_them(embedded_engine: EmbeddedEngine) -> None:
    request = ask("Describe the warehouse at 7 Harbor Road.", max_tokens=40)
    full, _ = generate(embedded_engine.variant(enable_prefix_cache=False), request)
    words = full.split()
    assert len(words) > 4
    stop = words[3]
    request.stop = [stop]
    events = list(embedded_engine.stream(request))
    text = "".join(e.text for e in events)
    assert text == full[: full.index(stop)]
    assert events[-1].finish_reason == "stop"


def test_incremental_text_keeps_multibyte_characters_whole(embedded_engine: EmbeddedEngine) -> None:
    tokenizer = embedded_engine.tokenizer
    source = "Prämie: 1.250 € für Lagerhaus 東京 — risk ✅ 🔥 ok"
    ids = tokenizer.encode(source, add_special_tokens=False)
    assert len(ids) > len(source.split())  # several characters span several byte-level tokens
    stream = IncrementalText(tokenizer)
    pieces = [stream.push(token) for token in ids]
    pieces.append(stream.flush())
    assert "".join(pieces) == tokenizer.decode(ids) == source
    assert not any("\ufffd" in piece for piece in pieces)


def test_incremental_text_holds_back_a_possible_stop_string(embedded_engine: EmbeddedEngine) -> None:
    tokenizer = embedded_engine.tokenizer
    ids = tokenizer.encode("The answer is 42. END of answer", add_special_tokens=False)
    stream = IncrementalText(tokenizer, ["END"])
    sent = ""
    for token in ids:
        sent += stream.push(token)
        assert "E" not in sent.replace("The", "")  # nothing of the stop string ever leaves
        if stream.stopped:
            break
    sent += stream.flush()
    assert stream.stopped
    assert sent == "The answer is 42. "


def test_too_long_prompt_is_refused(embedded_engine: EmbeddedEngine) -> None:
    request = GenerationRequest(messages=[{"role": "user", "content": "claim " * 9000}], max_tokens=5)
    with pytest.raises(EngineError, match="context window of 8192"):
        generate(embedded_engine, request)


def test_concurrent_requests_get_the_answers_they_would_get_alone(embedded_engine: EmbeddedEngine) -> None:
    questions = [f"What is the rated class at {n * 7} Harbor Road?" for n in (2, 5, 6)]
    alone = [generate(embedded_engine, ask(q, max_tokens=12))[0] for q in questions]
    results: dict[int, str] = {}

    def run(i: int) -> None:
        results[i] = generate(embedded_engine, ask(questions[i], max_tokens=12))[0]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(questions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[i] for i in range(len(questions))] == alone


def test_sampling_with_temperature_runs(embedded_engine: EmbeddedEngine) -> None:
    torch.manual_seed(0)
    request = GenerationRequest(messages=[{"role": "user", "content": "Write a word."}], max_tokens=8, temperature=1.0)
    _, usage = generate(embedded_engine, request)
    assert 0 < usage.completion_tokens <= 8


# --- LoRA ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lora_adapter(model_cache: Path, tmp_path_factory) -> tuple[Path, Any]:
    """A tiny random-init LoRA adapter for the bundled model (B weights non-zero, so it changes outputs),
    saved to a folder; returned with the (unmerged) peft model that made it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_cache / "SmolLM2-135M-Instruct")
    config = LoraConfig(r=4, lora_alpha=16, target_modules=["q_proj", "v_proj", "down_proj"], init_lora_weights=False)
    torch.manual_seed(0)
    model = get_peft_model(base, config).eval()
    b_weights = [p for name, p in model.named_parameters() if "lora_B" in name]
    assert b_weights and all(p.abs().sum() > 0 for p in b_weights)
    out = tmp_path_factory.mktemp("adapters") / "underwriting-lora"
    model.save_pretrained(out)
    return out, model


def test_lora_adapter_is_loaded_and_changes_the_logits(
    engine_settings, embedded_engine: EmbeddedEngine, lora_adapter: tuple[Path, Any]
) -> None:
    folder, peft_model = lora_adapter
    tuned = build_engine("embedded", engine_settings, adapter=folder, enable_prefix_cache=False)
    assert tuned.model_id() == "SmolLM2-135M-Instruct+underwriting-lora"
    messages = rag_messages("What is the insured value at 56 Harbor Road?")
    base_logits = embedded_engine.last_logits(messages)
    tuned_logits = tuned.last_logits(messages)
    assert (tuned_logits - base_logits).abs().max() > 1e-2

    # The adapter as loaded from its folder and merged gives what peft's own (unmerged) model gives.
    ids = torch.tensor([embedded_engine.encode(messages)])
    with torch.inference_mode():
        reference = peft_model(input_ids=ids).logits[0, -1].float()
    assert torch.allclose(tuned_logits, reference, atol=1e-3, rtol=1e-4), (tuned_logits - reference).abs().max()
    _, usage = generate(tuned, ask("Hello?", max_tokens=5))
    assert usage.completion_tokens > 0


def test_missing_adapter_folder_is_an_error(engine_settings, tmp_path: Path) -> None:
    with pytest.raises(EngineError, match=r"adapter_config\.json"):
        build_engine("embedded", engine_settings, adapter=tmp_path)

"""Structured output on the real bundled SmolLM2-135M-Instruct: the embedded engine's grammar-constrained decoding
(xgrammar: JSON schema, any JSON object, regex, jump-forward), and our server spoken to with the official `openai`
client over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import math
import re
import threading
from typing import Any

import jsonschema
import openai
import pytest
import torch

from assistant.engines import EngineError, GenerationRequest, generate
from assistant.engines.embedded import EmbeddedEngine
from assistant.engines.grammar import Grammars

pytestmark = pytest.mark.slow

DECISIONS = ["bind", "decline", "refer to a senior underwriter"]
SOURCE = "[1] Harbor Foods warehouse: masonry, fully sprinklered, no losses in five years."
QUOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "quote": {"enum": DECISIONS},
        "source": {"const": SOURCE},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["quote", "source", "confidence"],
}
PHONE = r"\d{3}-\d{4}"

RISK = [
    {"role": "system", "content": "You are an underwriting assistant. Answer in JSON."},
    {"role": "user", "content": f"Context:\n{SOURCE}\n\nQuestion: Should we bind, decline or refer this risk?"},
]
INSURED = [
    {
        "role": "user",
        "content": "Return the insured's name and city as JSON. The insured is Harbor Foods Inc. of Portland.",
    }
]
CALL = [{"role": "user", "content": "The broker's office number is 555-0142. What is the broker's number?"}]


def valid_quote(text: str) -> dict[str, Any]:
    answer = json.loads(text)
    jsonschema.validate(answer, QUOTE_SCHEMA)
    assert answer["quote"] in DECISIONS
    assert answer["source"] == SOURCE
    return answer


def counting(engine: EmbeddedEngine, *, jump_forward: bool) -> tuple[EmbeddedEngine, list[int]]:
    """A variant of the engine that records how many tokens each forward pass of the real runner takes."""
    variant = engine.variant(enable_prefix_cache=False, jump_forward=jump_forward)
    passes: list[int] = []
    make_runner = variant._runner_factory

    def factory(*args: Any, **kwargs: Any) -> Any:
        runner = make_runner(*args, **kwargs)
        forward = runner.forward

        def counted(ids: list[int]) -> Any:
            passes.append(len(ids))
            return forward(ids)

        runner.forward = counted
        return runner

    variant._runner_factory = factory
    return variant, passes


# --- the embedded engine -----------------------------------------------------------------------------------


def test_json_schema_answer_validates_and_picks_an_enum_value(embedded_engine: EmbeddedEngine) -> None:
    events = list(embedded_engine.stream(GenerationRequest(messages=RISK, max_tokens=80, json_schema=QUOTE_SCHEMA)))
    valid_quote("".join(e.text for e in events))
    assert events[-1].finish_reason == "stop"  # the end of turn came where the grammar could end


def test_free_answers_to_the_same_prompts_are_not_that_json(embedded_engine: EmbeddedEngine) -> None:
    # What the constraint changes: left free, the model does not write the schema's JSON, nor one JSON object
    # within the same budget (it opens a pretty-printed object and rambles).
    text, _ = generate(embedded_engine, GenerationRequest(messages=RISK, max_tokens=80))
    with pytest.raises((ValueError, jsonschema.ValidationError)):
        valid_quote(text)
    text, _ = generate(embedded_engine, GenerationRequest(messages=INSURED, max_tokens=40))
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_regex_is_matched_exactly(embedded_engine: EmbeddedEngine) -> None:
    text, usage = generate(embedded_engine, GenerationRequest(messages=CALL, max_tokens=16, regex=PHONE))
    assert re.fullmatch(PHONE, text), text
    assert usage.completion_tokens <= 16


def test_json_object_parses_as_one_object(embedded_engine: EmbeddedEngine) -> None:
    text, _ = generate(embedded_engine, GenerationRequest(messages=INSURED, max_tokens=40, json_object=True))
    assert isinstance(json.loads(text), dict)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"regex": r"(\d{3"}, "invalid regex"),
        ({"json_schema": {"type": "object", "properties": {"quote": {"type": "strnig"}}}}, "invalid JSON schema"),
        ({"json_schema": {"type": "object"}, "regex": PHONE}, "at most one"),
    ],
)
def test_invalid_constraints_are_one_line_engine_errors(
    embedded_engine: EmbeddedEngine, fields: dict[str, Any], words: str
) -> None:
    with pytest.raises(EngineError, match=words) as info:
        generate(embedded_engine, GenerationRequest(messages=CALL, max_tokens=4, **fields))
    assert "\n" not in str(info.value)
    assert ".cc:" not in str(info.value)  # xgrammar's C++ location is not the user's business


def test_mask_allows_the_end_of_turn_only_where_the_grammar_can_end(embedded_engine: EmbeddedEngine) -> None:
    vocab = embedded_engine.tokenizer.get_vocab()
    stops = embedded_engine.stop_token_ids
    word = embedded_engine.tokenizer.encode("Harbor", add_special_tokens=False)[0]
    grammar = embedded_engine.grammars.start(GenerationRequest(messages=CALL, json_object=True))
    assert grammar is not None
    assert grammar.matcher.accept_string('{"insured":"')
    logits = torch.zeros(embedded_engine.grammars.vocab_size)
    grammar.mask(logits)
    assert logits[word] == 0
    assert all(logits[stop] == -math.inf for stop in stops)  # inside a string: the answer cannot end
    # Special tokens read as their literal text would fit a JSON string, but decoding drops them: never allowed.
    assert logits[vocab["<|im_start|>"]] == -math.inf
    assert logits[vocab["<file_sep>"]] == -math.inf
    assert not grammar.must_stop()
    assert grammar.matcher.accept_string('Harbor Foods"}')
    logits = torch.zeros(embedded_engine.grammars.vocab_size)
    grammar.mask(logits)
    allowed = set(torch.nonzero(logits == 0).flatten().tolist())
    assert vocab["<|im_end|>"] in allowed
    assert allowed <= stops  # the object is closed: only the end of turn may follow
    assert grammar.must_stop()


def test_logits_wider_than_the_vocabulary_are_masked_beyond_it(embedded_engine: EmbeddedEngine) -> None:
    width = len(embedded_engine.tokenizer) + 64  # a padded lm_head
    grammars = Grammars(embedded_engine.tokenizer, width, embedded_engine.stop_token_ids, threading.Lock())
    grammar = grammars.start(GenerationRequest(messages=CALL, regex=PHONE))
    assert grammar is not None
    logits = torch.zeros(width)
    grammar.mask(logits)
    assert bool((logits[len(embedded_engine.tokenizer) :] == -math.inf).all())
    assert int((logits == 0).sum()) > 0


def test_constrained_stream_pieces_join_to_the_whole_answer(embedded_engine: EmbeddedEngine) -> None:
    request = GenerationRequest(messages=RISK, max_tokens=80, json_schema=QUOTE_SCHEMA)
    pieces = [e.text for e in embedded_engine.stream(request) if e.text]
    whole, _ = generate(embedded_engine, request)
    assert len(pieces) > 3
    assert "".join(pieces) == whole
    valid_quote(whole)


def test_stop_strings_still_cut_a_constrained_answer(embedded_engine: EmbeddedEngine) -> None:
    request = GenerationRequest(messages=RISK, max_tokens=80, json_schema=QUOTE_SCHEMA, stop=['","source'])
    text, _ = generate(embedded_engine, request)
    assert text.startswith('{"quote":"')
    assert text.removeprefix('{"quote":"') in DECISIONS


def test_jump_forward_feeds_forced_text_in_fewer_forward_passes(embedded_engine: EmbeddedEngine) -> None:
    request = GenerationRequest(messages=RISK, max_tokens=80, json_schema=QUOTE_SCHEMA)
    prompt = len(embedded_engine.encode(RISK))
    step_by_step, passes_off = counting(embedded_engine, jump_forward=False)
    jumping, passes_on = counting(embedded_engine, jump_forward=True)
    text_off, _ = generate(step_by_step, request)
    text_on, usage_on = generate(jumping, request)
    valid_quote(text_off)
    valid_quote(text_on)
    assert set(passes_off[1:]) == {1}  # one token a pass
    # `{"quote":"` is forced before the model picks anything: it rides along with the prompt.
    assert passes_on[0] > prompt
    assert max(passes_on[1:]) > 5  # the const source, forced after the quote, goes in one pass
    assert len(passes_on) < len(passes_off) / 2
    assert len(passes_on) < usage_on.completion_tokens / 2


def test_sampling_within_a_grammar_stays_valid(embedded_engine: EmbeddedEngine) -> None:
    for _ in range(2):
        request = GenerationRequest(messages=RISK, max_tokens=80, json_schema=QUOTE_SCHEMA, temperature=1.2)
        text, _ = generate(embedded_engine, request)
        valid_quote(text)


# --- our server, with the official openai client ---------------------------------------------------------


@pytest.fixture(scope="module")
def client(local_server: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{local_server}/v1", api_key="unused", max_retries=0, timeout=120)


def ask(client: openai.OpenAI, messages: list[dict[str, str]], stream: bool = False, **extra: Any) -> str:
    if not stream:
        completion = client.chat.completions.create(model="default", messages=messages, temperature=0, **extra)
        return completion.choices[0].message.content or ""
    chunks = client.chat.completions.create(model="default", messages=messages, temperature=0, stream=True, **extra)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_client_json_object_gets_json(client: openai.OpenAI, stream: bool) -> None:
    text = ask(client, INSURED, stream, max_tokens=40, response_format={"type": "json_object"})
    assert isinstance(json.loads(text), dict), text  # not a Markdown code fence around it


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_openai_client_json_schema_gets_valid_json(client: openai.OpenAI, stream: bool) -> None:
    response_format = {"type": "json_schema", "json_schema": {"name": "quote", "schema": QUOTE_SCHEMA, "strict": True}}
    valid_quote(ask(client, RISK, stream, max_tokens=80, response_format=response_format))


def test_openai_client_regex_through_extra_body(client: openai.OpenAI) -> None:
    assert re.fullmatch(PHONE, ask(client, CALL, max_tokens=16, extra_body={"regex": PHONE}))


def test_response_format_text_is_a_free_answer(client: openai.OpenAI) -> None:
    text = ask(client, INSURED, max_tokens=12, response_format={"type": "text"})
    assert text.strip()


@pytest.mark.parametrize(
    ("extra", "param", "words"),
    [
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "q", "schema": {"type": "strnig"}}}},
            "response_format",
            "invalid JSON schema",
        ),
        ({"response_format": {"type": "xml"}}, "response_format.type", "response_format.type"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "q"}}}, "response_format", "required"),
        ({"extra_body": {"regex": r"[0-9"}}, "regex", "invalid regex"),
        ({"response_format": {"type": "json_object"}, "extra_body": {"regex": PHONE}}, "regex", "not both"),
    ],
)
def test_bad_constraints_are_openai_400s(client: openai.OpenAI, extra: dict, param: str, words: str) -> None:
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as info:
            ask(client, CALL, stream, max_tokens=4, **extra)
        assert info.value.status_code == 400
        error = info.value.body
        assert error["type"] == "invalid_request_error"
        assert error["param"].startswith(param)
        assert words in error["message"]

"""The answer schema: one JSON structure the model writes on every engine, and how it reads as prose.

```json
{"evidence": [{"source": 2, "quote": "<a sentence, item or row copied from source 2>"}],
 "answer": "<a short answer in the model's words>"}
```

Evidence comes first, so the model copies what it relies on before it answers. `answer_schema(evidence)`
builds the JSON schema; given the evidence units the gate let through, each item is one of them exactly
(`source` and `quote` as `const` pairs), so under constrained decoding a quote cannot be invented and
cannot be put under the wrong source. Without units (a model asked free-form) the schema still fixes
the shape. The embedded engine enforces it with a grammar (xgrammar); SGLang and our local server take it
as `response_format: {"type": "json_schema", ...}`. `SYSTEM_PROMPT_STRUCTURED` (in `assistant.answering.prompts`)
describes it in words that never change, so the prompt prefix stays cacheable.

`parse_answer` reads the model's output back (tolerating a Markdown fence or trailing text from an
engine that did not enforce the schema) and `render` turns it into the prose shown to the user:
`answer [n]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assistant.grounding.evidence import Evidence
from assistant.grounding.kinds import row_cells

SCHEMA_NAME = "grounded_answer"
MAX_ANSWER_CHARS = 200
MAX_EVIDENCE_ITEMS = 1  # the 135M model repeats its quote when allowed two


def answer_spans(text: str) -> list[str]:
    """The parts of a unit an extractive answer may be: its clauses (split at ";", ",", " - ", "which",
    "and", of three words or more) and the whole unit, each verbatim. A table row is only ever whole: a
    clause cut from it ("Masonry Non-Combustible | Year Built 1998") would lose the record it belongs to."""
    spans = [text]
    if row_cells(text):
        return spans
    for part in re.split(r"\s*[;,]\s+|\s+[-–—]\s+|\s+(?=which\b|and\b|where\b|with\b)", text):
        part = part.strip(" .;,")
        if len(part.split()) >= 3 and part not in spans:
            spans.append(part)
    return spans


def answer_schema(evidence: Sequence[Evidence] = (), *, max_items: int = MAX_EVIDENCE_ITEMS,
                  extractive: bool = False) -> dict[str, Any]:
    """The JSON schema of an answer; with `evidence`, quotes are limited to exactly those units, and an
    `extractive` answer to the clauses of those units (for a small model: what it says is then the
    documents' own words, and verifies when it copies the clause of the quote it chose)."""
    if evidence:
        item: dict[str, Any] = {"anyOf": [
            {"type": "object",
             "properties": {"source": {"const": unit.number}, "quote": {"const": unit.text}},
             "required": ["source", "quote"], "additionalProperties": False}
            for unit in evidence
        ]}
    else:
        item = {"type": "object",
                "properties": {"source": {"type": "integer", "minimum": 1}, "quote": {"type": "string"}},
                "required": ["source", "quote"], "additionalProperties": False}
    return {
        "type": "object",
        "properties": {
            "evidence": {"type": "array", "items": item, "minItems": 1, "maxItems": max_items},
            "answer": ({"enum": list(dict.fromkeys(span for unit in evidence for span in answer_spans(unit.text)))}
                       if extractive and evidence else
                       {"type": "string", "minLength": 1, "maxLength": MAX_ANSWER_CHARS}),
        },
        "required": ["evidence", "answer"],
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class QuotedEvidence:
    source: int
    quote: str


@dataclass(frozen=True)
class StructuredAnswer:
    """What the model wrote, read back."""

    answer: str
    evidence: tuple[QuotedEvidence, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"evidence": [{"source": e.source, "quote": e.quote} for e in self.evidence], "answer": self.answer}


_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


def parse_answer(text: str) -> StructuredAnswer | None:
    """The model's JSON answer, or None when it is not one (the caller falls back to a quote)."""
    body = _FENCE.sub("", text.strip())
    start = body.find("{")
    if start < 0:
        return None
    try:
        data, _ = json.JSONDecoder().raw_decode(body[start:])
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return None
    items = []
    for item in data.get("evidence") or []:
        if isinstance(item, dict) and isinstance(item.get("quote"), str):
            try:
                items.append(QuotedEvidence(int(item.get("source")), item["quote"]))
            except (TypeError, ValueError):
                continue
    return StructuredAnswer(data["answer"].strip(), tuple(items))


def render(answer: StructuredAnswer) -> str:
    """The prose shown for a structured answer: the answer with its sources' markers, `text [1][2]`."""
    numbers = list(dict.fromkeys(item.source for item in answer.evidence))
    markers = "".join(f"[{n}]" for n in numbers)
    text = answer.answer.rstrip()
    if not markers:
        return text
    if text.endswith((".", "!", "?")):
        return f"{text[:-1]} {markers}{text[-1]}"
    return f"{text} {markers}"


class AnswerStream:
    """Pulls the `answer` field's text out of a JSON answer while it is being generated (for streaming)."""

    _START = re.compile(r'"answer"\s*:\s*"')

    def __init__(self) -> None:
        self.raw = ""
        self.sent = 0

    def push(self, piece: str) -> str:
        """Add generated text; return the new part of the answer string decoded so far."""
        self.raw += piece
        match = self._START.search(self.raw)
        if match is None:
            return ""
        body = self.raw[match.end():]
        decoded = _decode_partial(body)
        new = decoded[self.sent:]
        self.sent = len(decoded)
        return new


def _decode_partial(body: str) -> str:
    out = []
    i = 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "r": "\r"}
    while i < len(body):
        ch = body[i]
        if ch == '"':
            break
        if ch == "\\":
            if i + 1 >= len(body):
                break
            nxt = body[i + 1]
            if nxt == "u":
                if i + 6 > len(body):
                    break
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(escapes.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)

"""Training data: chat-format JSON lines, a validator, and a grounded starter-set builder.

A training file holds one example a line: `{"messages": [{"role": ..., "content": ...}, ...]}`,
an optional system turn first, then user and assistant turns alternating, ending with the assistant
(the turns the model learns). `validate_file` reads a whole file and reports every bad line with
file, line number and reason before any training starts.

`build_dataset` makes a starter set from indexed chunks, with no model involved: facts are pulled
from the chunk text by templates ("key: value" lines and table cells, numbered guideline sections,
sentences stating a figure), and each becomes a question laid out exactly as at answer time
(`assistant.prompts.build_messages`: same system prompt, numbered sources in canonical order, the
question last). The target answer states the fact and cites `[n]`, the number of the source that
holds it; other sources that do not hold it sit beside it as distractors, and some examples give
only sources without the fact, with the no-answer sentence as target. Same chunks and seed, same set.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune import TuningError
from index.types import Chunk

ROLES = ("system", "user", "assistant")
MAX_REPORTED = 20


# ---- validation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """One bad line of a training file."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class DatasetError(TuningError):
    """A training file cannot be used; `issues` lists every bad line found."""

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        self.issues = list(issues)
        if self.issues:
            shown = "\n".join(f"  {issue}" for issue in self.issues[:MAX_REPORTED])
            more = len(self.issues) - MAX_REPORTED
            message = f"{message}\n{shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        super().__init__(message)


def check_example(example: Any) -> str | None:
    """Why one parsed line is not a usable training example, or None when it is."""
    if not isinstance(example, dict):
        return f"expected a JSON object, got {type(example).__name__}"
    messages = example.get("messages")
    if messages is None:
        return 'missing "messages"'
    if not isinstance(messages, list) or not messages:
        return '"messages" must be a non-empty list'
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            return f"message {index} is not an object"
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            return f"message {index}: role {role!r} is not one of {', '.join(ROLES)}"
        if not isinstance(content, str):
            return f"message {index}: content must be a string"
        if not content.strip():
            return f"message {index}: empty content"
        if role == "system" and index != 1:
            return f"message {index}: a system message may only come first"
    turns = [message["role"] for message in messages if message["role"] != "system"]
    if not turns:
        return "no user or assistant turn"
    for index, role in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            return f"turns must alternate user/assistant starting with user; turn {index + 1} is {role}"
    if turns[-1] != "assistant":
        return "the last message must be an assistant turn (the part the model learns)"
    return None


def validate_file(path: str | Path) -> list[dict[str, Any]]:
    """Read and check a JSON-lines training file; every bad line is reported at once.

    Blank lines are skipped. Raises `DatasetError` (with `issues`) when any line is bad or the file
    holds no example; returns the examples otherwise.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read training data {path}: {exc.strerror or exc}") from exc
    examples: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(Issue(str(path), number, f"not UTF-8 text (byte {exc.start})"))
            continue
        if not line.strip():
            continue
        try:
            example = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(Issue(str(path), number, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        reason = check_example(example)
        if reason is not None:
            issues.append(Issue(str(path), number, reason))
            continue
        examples.append(example)
    if issues:
        plural = "s" if len(issues) > 1 else ""
        raise DatasetError(f"{path}: {len(issues)} bad line{plural}; nothing was trained", issues)
    if not examples:
        raise DatasetError(f"{path}: no training examples (the file is empty)")
    return examples


def data_hash(path: str | Path) -> str:
    """sha256 of the training file's bytes, recorded in the adapter card."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def write_jsonl(path: str | Path, examples: Iterable[dict[str, Any]]) -> Path:
    """Write examples one a line, atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for example in examples:
                out.write(json.dumps(example, ensure_ascii=False) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---- fact extraction --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One question a chunk answers: the question, the answer sentence (without its citation), and
    the strings whose presence in another source would make that source answer it too."""

    chunk_id: int
    kind: str  # "field", "section" or "sentence"
    question: str
    answer: str
    markers: tuple[str, ...]


_KEY = re.compile(r"^\s*(?:[-*•]\s*)?([A-Za-z][A-Za-z /&()'#-]{1,48}?\.?)\s*:\s+(\S.{0,150}?)\s*$")
_SECTION = re.compile(r"^\s*(\d{1,2}\.\d{1,2})\s+(?:\*\*(.{3,80}?)\.?\*\*\s*)?(\S.*)$")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_DIGIT = re.compile(r"\d")
_VERBS = frozenset(
    """is are was were has have had must will may can should shall requires require required needs need
    operates operate covers cover includes include provides provide remains remain exceeds exceed
    applies apply goes go gets get takes take""".split()
)
_LEADING = frozenset("a an the this that these those its their our".split())
_MARKUP = re.compile(r"[*_`#|]+")
# A heading line run into the sentence below it ("Hot work The plant keeps ...").
_RUN_IN_HEADING = re.compile(r"^.*?(?<=[A-Za-z0-9)])\s+(?=(?:The|This|These|Each|Every|All|Our)\s)")
_VAGUE_KEYS = frozenset(
    """to from re cc attn subject item items note notes page date tel fax email phone value values no no.
    number name type total amount description status comment comments""".split()
)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKUP.sub("", text)).strip()


def _key_phrase(key: str) -> str:
    """'Broker' -> 'broker', 'Named insured' -> 'named insured'; 'Total Insured Value', 'ISO PPC' stay."""
    words = key.split()
    first = words[0]
    if first[:1].isupper() and first[1:].islower() and all(not w[:1].isupper() for w in words[1:]):
        words[0] = first.lower()
    return " ".join(words)


def _field_facts(chunk: Chunk) -> list[Fact]:
    facts: list[Fact] = []
    for line in chunk.text.splitlines():
        segments = [part for part in re.split(r";\s+", line.strip()) if part]
        pairs: list[tuple[str, str]] = []
        for segment in segments:
            match = _KEY.match(_clean(segment))
            if match:
                pairs.append((match.group(1).strip(), match.group(2).strip().rstrip(".").strip()))
        if not pairs:
            continue
        # A table row ("Location No: 1; Address: ...") names its subject in its first cell.
        subject = f"{pairs[0][0]} {pairs[0][1]}" if len(pairs) >= 3 else ""
        for number, (key, value) in enumerate(pairs):
            if subject and number == 0:
                continue
            if len(key.split()) > 6 or sum(char.isalpha() for char in key) < 3:
                continue
            if (not subject and key.lower() in _VAGUE_KEYS) or key.lower().startswith(("http", "www")):
                continue
            if value.endswith(":") or len(value) > 120:
                continue
            phrase = _key_phrase(key)
            scope = f" for {subject}" if subject else ""
            question = f"What is the {phrase}{scope}?"
            answer = f"The {phrase}{scope} is {value}."
            facts.append(Fact(chunk.id, "field", question, answer, (value, key)))
    return facts


def _section_facts(chunk: Chunk) -> list[Fact]:
    facts: list[Fact] = []
    for line in chunk.text.splitlines():
        match = _SECTION.match(line)
        if not match:
            continue
        number, title, rest = match.group(1), match.group(2), _clean(match.group(3))
        first = _SENTENCE_SPLIT.split(rest)[0].strip()
        if len(first.split()) < 6 or len(first) > 320 or not first.endswith((".", "!", "?")):
            continue
        about = f" about {_clean(title).lower()}" if title else ""
        question = f"What does section {number} say{about}?"
        answer = f"Section {number}: {first}"
        facts.append(Fact(chunk.id, "section", question, answer, (first[:60],)))
    return facts


def _topic(sentence: str) -> str:
    words = re.findall(r"[A-Za-z][A-Za-z0-9'&-]*|\d[\d,.%$]*", sentence)
    topic: list[str] = []
    for word in words[:9]:
        if word.lower() in _VERBS:
            break
        topic.append(word)
    if len(topic) == len(words[:9]):
        topic = topic[:5]
    if topic and topic[0].lower() in _LEADING:
        topic[0] = "the" if topic[0].lower() in ("a", "an", "the") else topic[0].lower()
    content = [word for word in topic if word.lower() not in _LEADING]
    if not content or (len(content) == 1 and len(content[0]) < 4) or any(_DIGIT.search(w) for w in topic):
        return ""
    return " ".join(word if sum(c.isupper() for c in word) >= 2 or i else word.lower()
                    for i, word in enumerate(topic))


def _sentence_facts(chunk: Chunk) -> list[Fact]:
    facts: list[Fact] = []
    paragraphs = re.split(r"\n\s*\n", chunk.text)
    for paragraph in paragraphs:
        prose = [line.strip() for line in paragraph.splitlines() if not _KEY.match(_clean(line))]
        flat = _clean(" ".join(prose))
        for sentence in _SENTENCE_SPLIT.split(flat):
            sentence = _RUN_IN_HEADING.sub("", sentence.strip(), count=1)
            sentence = re.sub(r"^(\w+) (?=(?i:\1)\b)", "", sentence)  # "Refrigeration Refrigeration is"
            words = sentence.split()
            if not (8 <= len(words) <= 45) or not sentence.endswith(".") or not _DIGIT.search(sentence):
                continue
            if sentence.count(":") > 1 or _SECTION.match(sentence):
                continue
            # Running prose, not a flattened table row or a page header.
            lower = sum(1 for word in words if word.isalpha() and word.islower())
            numeric = sum(1 for word in words if _DIGIT.search(word))
            if lower < len(words) / 2 or numeric > len(words) / 4:
                continue
            topic = _topic(sentence)
            if not topic:
                continue
            figures = tuple(re.findall(r"\d[\d,.]*\d|\d", sentence))
            facts.append(Fact(chunk.id, "sentence", f"What do the documents say about {topic}?", sentence,
                              (figures[0], topic) if figures else (topic,)))
    return facts


def extract_facts(chunk: Chunk) -> list[Fact]:
    """Every templated question this chunk answers, in text order (fields, sections, then sentences)."""
    return _field_facts(chunk) + _section_facts(chunk) + _sentence_facts(chunk)


# ---- building ---------------------------------------------------------------------------------


def _holds(chunk: Chunk, fact: Fact) -> bool:
    """Whether `chunk` could answer `fact` too (it mentions its value or its key): never a distractor."""
    text = _clean(chunk.text).lower()
    return any(marker.lower() in text for marker in fact.markers if marker)


def _example(question: str, answer: str, sources: Sequence[Chunk], special_tokens: Sequence[str]) -> dict:
    from assistant.prompts import build_messages

    messages = build_messages(question, sources, special_tokens=special_tokens)
    return {"messages": [*messages, {"role": "assistant", "content": answer}]}


def build_dataset(
    chunks: Sequence[Chunk],
    n_examples: int = 200,
    seed: int = 0,
    *,
    no_answer_fraction: float = 0.15,
    max_sources: int = 3,
    special_tokens: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Grounded chat examples from `chunks`, deterministic for a given seed (input order is irrelevant).

    Each answerable example puts the chunk holding the fact among up to `max_sources - 1` distractor
    chunks (none mentioning the fact), numbered in canonical order, and answers with the fact and
    its `[n]`. About `no_answer_fraction` of the examples show only distractors and answer with
    `NO_ANSWER_TEXT`. Fewer than `n_examples` come back when the chunks hold fewer distinct facts.
    """
    from assistant.prompts import NO_ANSWER_TEXT, canonical_order

    if n_examples < 1:
        raise TuningError("the number of examples must be at least 1")
    if max_sources < 1:
        raise TuningError("max_sources must be at least 1")
    pool = sorted({chunk.id: chunk for chunk in chunks}.values(), key=lambda c: (*c.sort_key(), c.id))
    if not pool:
        raise TuningError("no chunks to build a dataset from: ingest documents first (`assistant ingest PATH`)")
    rng = random.Random(seed)
    by_chunk: dict[int, list[Fact]] = {}
    for chunk in pool:
        facts = extract_facts(chunk)
        if facts:
            rng.shuffle(facts)
            by_chunk[chunk.id] = facts
    if not by_chunk:
        raise TuningError("the documents hold no facts the templates can turn into questions")
    by_id = {chunk.id: chunk for chunk in pool}

    # Sample chunks in turn (round robin over a shuffled order), one fact of each per round.
    order = list(by_chunk)
    rng.shuffle(order)
    picked: list[Fact] = []
    seen: set[tuple[str, str]] = set()
    wanted = n_examples
    cursor = {chunk_id: 0 for chunk_id in order}
    while len(picked) < wanted and any(cursor[c] < len(by_chunk[c]) for c in order):
        for chunk_id in order:
            if cursor[chunk_id] >= len(by_chunk[chunk_id]) or len(picked) >= wanted:
                continue
            fact = by_chunk[chunk_id][cursor[chunk_id]]
            cursor[chunk_id] += 1
            if (fact.question, fact.answer) not in seen:
                seen.add((fact.question, fact.answer))
                picked.append(fact)
    rng.shuffle(picked)
    n_no_answer = round(len(picked) * no_answer_fraction) if len(pool) > 1 else 0
    no_answer_slots = set(rng.sample(range(len(picked)), min(n_no_answer, len(picked))))

    examples: list[dict[str, Any]] = []
    for index, fact in enumerate(picked):
        gold = by_id[fact.chunk_id]
        candidates = [c for c in pool if c.id != gold.id and not _holds(c, fact)]
        if index in no_answer_slots:
            if not candidates:
                continue
            count = rng.randint(1, min(max_sources, len(candidates)))
            sources = canonical_order(rng.sample(candidates, count))
            examples.append(_example(fact.question, NO_ANSWER_TEXT, sources, special_tokens))
            continue
        count = rng.randint(0, min(max_sources - 1, len(candidates)))
        sources = canonical_order([gold, *rng.sample(candidates, count)])
        number = next(i for i, chunk in enumerate(sources, start=1) if chunk.id == gold.id)
        answer = fact.answer[:-1] + f" [{number}]." if fact.answer.endswith(".") else f"{fact.answer} [{number}]"
        examples.append(_example(fact.question, answer, sources, special_tokens))
    return examples

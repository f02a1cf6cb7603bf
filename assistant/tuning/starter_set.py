"""The grounded starter set for domain tuning, built from indexed chunks with no model involved.

`build_dataset` makes a starter set from indexed chunks, with no model involved: facts are pulled
from the chunk text by templates ("key: value" lines and table cells, numbered guideline sections,
sentences stating a figure), and each becomes a question laid out exactly as served
(`assistant.answering.prompts.build_messages`: same system prompt, numbered sources in canonical order, then
"Quotes that may answer it:", the evidence units of `assistant.grounding.evidence.split_units`, then the
question). The quotes are the unit stating the fact and units of the sources nearest the question, 2
to 4 in a seeded order. The target is what the model writes under the answer schema
(`assistant.answering.schema`), compact JSON as the embedded engine decodes it:
`{"evidence":[{"source":n,"quote":"<the unit, verbatim>"}],"answer":"<short answer>"}`, where the
short answer states only facts of the quote (it passes `assistant.grounding.verification.verify_claim`; a fact
whose answer does not is skipped). Other sources that do not hold the fact sit beside it as
distractors, and some examples give only sources of the same insured without the fact: the answer is
the no-answer sentence, quoting the unit nearest the question. Same chunks and seed, same set.

The file format and its validator live in `finetune.dataset` (this module writes through them); owning
the builder here, beside the prompt layout, answer schema and verification it uses, keeps `finetune`
free of `assistant` imports (one direction: `assistant` -> `finetune`).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from finetune import TuningError
from index.types import Chunk


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
    applies apply goes go gets get takes take does do did falls fall carries carry""".split()
)
# Words a topic cut short must not end on ("the annual pump test on" -> "the annual pump test").
_TRAILING = frozenset("a an the of on in at to for with by from and or that which who than".split())
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


def _number_sign(text: str) -> str:
    """"Location No 1" -> "Location No. 1": a bare "No" reads as a negation to the verifier."""
    return re.sub(r"\bNo\b(?!\.)", "No.", text)


def _field_pairs(chunk: Chunk) -> list[list[tuple[str, str]]]:
    """(key, value) pairs per line: a table row's columns (`Chunk.rows`), or "Key: value; Key: value" text."""
    found = [[(key, value) for key, value in row.cells if key] for row in chunk.rows]
    rows = {row.text() for row in chunk.rows}
    for line in chunk.text.splitlines():
        if line.strip() in rows:
            continue
        segments = [part for part in re.split(r";\s+", line.strip()) if part]
        pairs: list[tuple[str, str]] = []
        for segment in segments:
            match = _KEY.match(_clean(segment))
            if match:
                pairs.append((match.group(1).strip(), match.group(2).strip().rstrip(".").strip()))
        found.append(pairs)
    return found


def _field_facts(chunk: Chunk) -> list[Fact]:
    facts: list[Fact] = []
    for pairs in _field_pairs(chunk):
        if not pairs:
            continue
        # A table row ("Location No: 1; Address: ...") names its subject in its first cell.
        subject = _number_sign(f"{pairs[0][0]} {pairs[0][1]}") if len(pairs) >= 3 else ""
        for number, (key, value) in enumerate(pairs):
            if subject and number == 0:
                continue
            if len(key.split()) > 6 or sum(char.isalpha() for char in key) < 3:
                continue
            if (not subject and key.lower() in _VAGUE_KEYS) or key.lower().startswith(("http", "www")):
                continue
            if value.endswith(":") or len(value) > 120:
                continue
            phrase = _number_sign(_key_phrase(key))
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
    while topic and topic[-1].lower() in _TRAILING:
        topic.pop()
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

MAX_QUOTES = 4  # evidence units listed in the prompt, as the answerability gate lets through (MAX_USABLE)


def _holds(chunk: Chunk, fact: Fact) -> bool:
    """Whether `chunk` could answer `fact` too (it mentions its value or its key): never a distractor."""
    return _mentions(chunk.text, fact)


def _mentions(text: str, fact: Fact) -> bool:
    lowered = _clean(text).lower()
    return any(marker.lower() in lowered for marker in fact.markers if marker)


def short_answer(fact: Fact) -> str:
    """The answer the model learns to write after its quote: the fact in a short sentence, no citation
    (a section's sentence without its "Section n:" lead; the rest as extracted)."""
    if fact.kind == "section":
        return fact.answer.split(": ", 1)[1]
    return fact.answer


def answer_json(source: int, quote: str, answer: str) -> str:
    """The assistant turn: the answer schema's JSON, compact, as the embedded engine decodes it."""
    return json.dumps({"evidence": [{"source": source, "quote": quote}], "answer": answer},
                      separators=(",", ":"), ensure_ascii=False)


def is_no_answer(example: dict[str, Any]) -> bool:
    """Whether an example's assistant turn is the no-answer (in the answer schema, or as plain text)."""
    from assistant.answering.prompts import NO_ANSWER_TEXT
    from assistant.answering.schema import parse_answer

    content = example["messages"][-1]["content"]
    parsed = parse_answer(content)
    return (parsed.answer if parsed is not None else content.strip()) == NO_ANSWER_TEXT


class _Units:
    """The evidence units of each chunk (`assistant.grounding.evidence.split_units`), split once, with their terms.

    Only units the prompt shows unchanged can be quoted: one holding a special-token string or a source
    delimiter reads differently once neutralized, so the model could never copy it."""

    def __init__(self, special_tokens: Sequence[str]) -> None:
        self.special_tokens = list(special_tokens)
        self._units: dict[int, list[str]] = {}
        self._terms: dict[str, set[str]] = {}

    def of(self, chunk: Chunk) -> list[str]:
        from assistant.answering.prompts import neutralize
        from assistant.grounding.evidence import split_units

        if chunk.id not in self._units:
            texts = dict.fromkeys(unit.text for unit in split_units(chunk.text, chunk.heading))
            self._units[chunk.id] = [t for t in texts if neutralize(t, self.special_tokens) == t]
        return self._units[chunk.id]

    def terms(self, text: str) -> set[str]:
        from assistant.grounding.verification import content_terms

        if text not in self._terms:
            self._terms[text] = content_terms(text)
        return self._terms[text]


def _ground(fact: Fact, chunk: Chunk, units: _Units) -> tuple[str, str] | None:
    """(quote, answer) for a fact: the unit of its chunk that states it, copied verbatim, and the short
    answer, which must verify against that quote (`verify_claim`, the answerer's own check). None when no
    unit does: the fact is skipped, so every answer in the set verifies against its quote."""
    from assistant.answering.schema import MAX_ANSWER_CHARS
    from assistant.grounding.verification import normalize, verify_claim

    answer = short_answer(fact)
    if len(answer) > MAX_ANSWER_CHARS:
        return None
    needle = normalize(_clean(fact.markers[0] if fact.kind == "field" else answer)).rstrip(".")
    key = normalize(fact.markers[1]) if fact.kind == "field" else ""
    holding = [text for text in units.of(chunk) if needle in normalize(_clean(text))]
    holding.sort(key=lambda text: key not in normalize(_clean(text)))  # the unit naming the field first
    for quote in holding:
        if verify_claim(answer, quote, chunk.text).verified:
            return quote, answer
    return None


def _nearest(question: str, units: Sequence[tuple[int, str]], k: int, rng: random.Random,
             terms: _Units) -> list[tuple[int, str]]:
    """The `k` units a ranker would put first for the question, best first: most of the question's content
    terms, then holding the kind of value it asks for; ties in a seeded order."""
    from assistant.grounding.evidence import Question, unit_has_value

    asked = Question.parse(question)
    wanted = terms.terms(question)
    keyed = [(-len(wanted & terms.terms(text)), not unit_has_value(asked, text), rng.random(), index)
             for index, (_, text) in enumerate(units)]
    return [units[key[-1]] for key in sorted(keyed)[:k]]


def _example(question: str, sources: Sequence[Chunk], evidence: Sequence[tuple[int, str]],
             assistant: str, special_tokens: Sequence[str]) -> dict:
    from assistant.answering.prompts import build_messages

    messages = build_messages(question, sources, special_tokens=special_tokens, evidence=evidence)
    return {"messages": [*messages, {"role": "assistant", "content": assistant}]}


def build_dataset(
    chunks: Sequence[Chunk],
    n_examples: int = 200,
    seed: int = 0,
    *,
    no_answer_fraction: float = 0.15,
    max_sources: int = 3,
    max_quotes: int = MAX_QUOTES,
    special_tokens: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Grounded chat examples from `chunks`, deterministic for a given seed (input order is irrelevant).

    Each answerable example puts the chunk holding the fact among up to `max_sources - 1` distractor
    chunks (none mentioning the fact), numbered in canonical order; the quotes listed after them are the
    unit stating the fact and the units of the sources nearest the question (2 to `max_quotes` in all,
    in a seeded order). The target is the answer schema's JSON: that unit, verbatim, under its source's
    number, and the short answer, which verifies against it. About `no_answer_fraction` of the examples
    show only distractors, list the units nearest the question best first, and answer `NO_ANSWER_TEXT`
    quoting the nearest. Fewer than `n_examples` come back when the chunks hold fewer groundable facts.
    """
    from assistant.answering.prompts import NO_ANSWER_TEXT
    from assistant.grounding.sources import canonical_order, submission_of

    if n_examples < 1:
        raise TuningError("the number of examples must be at least 1")
    if max_sources < 1:
        raise TuningError("max_sources must be at least 1")
    if max_quotes < 1:
        raise TuningError("max_quotes must be at least 1")
    # Flagged passages (planted instructions, hidden text) never become training text, as they are never evidence.
    pool = sorted({chunk.id: chunk for chunk in chunks if not chunk.flags}.values(),
                  key=lambda c: (*c.sort_key(), c.id))
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
    units = _Units(special_tokens)

    # Sample chunks in turn (round robin over a shuffled order), one groundable fact of each per round.
    order = list(by_chunk)
    rng.shuffle(order)
    picked: list[tuple[Fact, str, str]] = []  # (fact, quote, answer)
    seen: set[tuple[str, str]] = set()
    cursor = {chunk_id: 0 for chunk_id in order}
    while len(picked) < n_examples and any(cursor[c] < len(by_chunk[c]) for c in order):
        for chunk_id in order:
            while cursor[chunk_id] < len(by_chunk[chunk_id]) and len(picked) < n_examples:
                fact = by_chunk[chunk_id][cursor[chunk_id]]
                cursor[chunk_id] += 1
                if (fact.question, fact.answer) in seen:
                    continue
                seen.add((fact.question, fact.answer))
                grounded = _ground(fact, by_id[chunk_id], units)
                if grounded is not None:
                    picked.append((fact, *grounded))
                    break
    if not picked:
        raise TuningError("no fact the templates found is stated by a single sentence, item or row")
    rng.shuffle(picked)

    def distractors(gold: Chunk, fact: Fact) -> list[Chunk]:
        return [c for c in pool if c.id != gold.id and not _holds(c, fact)]

    def same_submission(gold: Chunk, fact: Fact) -> list[Chunk]:
        # A question asked without sources that answer it stays about its own insured (as a chat scoped
        # to a submission retrieves): another insured's "Location 2 ... built in 2016" would answer it.
        return [c for c in distractors(gold, fact) if submission_of(c.source) == submission_of(gold.source)]

    eligible = [i for i, (fact, _, _) in enumerate(picked) if same_submission(by_id[fact.chunk_id], fact)]
    n_no_answer = round(len(picked) * no_answer_fraction)
    no_answer_slots = set(rng.sample(eligible, min(n_no_answer, len(eligible))))

    def source_units(sources: Sequence[Chunk], fact: Fact, leave_out: str = "") -> list[tuple[int, str]]:
        return [(number, text) for number, chunk in enumerate(sources, start=1) for text in units.of(chunk)
                if text != leave_out and not _mentions(text, fact)]

    examples: list[dict[str, Any]] = []
    for index, (fact, quote, answer) in enumerate(picked):
        gold = by_id[fact.chunk_id]
        candidates = distractors(gold, fact)
        if index in no_answer_slots:
            own = same_submission(gold, fact)
            count = rng.randint(1, min(max_sources, len(own)))
            sources = canonical_order(rng.sample(own, count))
            near = _nearest(fact.question, source_units(sources, fact),
                            rng.randint(min(2, max_quotes), max_quotes), rng, units)
            if near:  # the ranker's order: the nearest unit first, and it is the one quoted
                examples.append(_example(fact.question, sources, near, answer_json(*near[0], NO_ANSWER_TEXT),
                                         special_tokens))
                continue
        count = rng.randint(0, min(max_sources - 1, len(candidates)))
        chosen = rng.sample(candidates, count)
        sources = canonical_order([gold, *chosen])
        while not source_units(sources, fact, quote) and len(chosen) < min(max_sources - 1, len(candidates)):
            # A one-unit chunk alone (a table row) leaves nothing to choose from: add a distractor source.
            chosen.append(rng.choice([c for c in candidates if c not in chosen]))
            sources = canonical_order([gold, *chosen])
        number = next(i for i, chunk in enumerate(sources, start=1) if chunk.id == gold.id)
        wanted = rng.randint(min(2, max_quotes), max_quotes)
        evidence = [(number, quote), *_nearest(fact.question, source_units(sources, fact, quote), wanted - 1,
                                               rng, units)]
        rng.shuffle(evidence)
        examples.append(_example(fact.question, sources, evidence, answer_json(number, quote, answer),
                                 special_tokens))
    return examples

"""The answering pipeline: retrieve, select evidence, decide answerability, generate under the answer
schema, verify, and give the user a verified answer, a labelled quote, or the decline.

`Answerer.stream(question, history, scope=...)` yields draft text pieces of the model's answer as they
are generated (a consumer shows them as a draft, never as the answer) and, last, the finished `Answer`,
whose `kind` says what the user gets:

- "answer": the model's answer verified against the quotes it copied (`assistant.grounding.verification`);
- "quote": the model's answer did not verify, or could not be read: the best evidence is shown verbatim,
  labelled as a quote, with its insured, file and location; the draft is kept in `Answer.draft`;
- "declined": "The documents do not contain this information.", when nothing relevant is retrieved or
  the evidence does not answer the question (`assistant.answering.answerability`); the model is not called.

Steps: the retrieval query (a follow-up is searched with the last user turns, so "what about its
sprinklers?" finds the insured the conversation is about); the off-topic gate (no chunk near the
question at all: `covers`); the sources laid out for prefix caching (`assistant.answering.prompts`); the evidence
units of those sources ranked (`assistant.grounding.evidence`); the answerability gate, limited to the
submission the question names or the `scope` given; then generation constrained to the answer schema
with the usable units as the only quotable evidence (`assistant.answering.schema`), and verification.
An engine that ignores the schema still gets its prose checked marker by marker (`assistant.answering.citations`).

Fitting the context window: the prompt keeps at most `max_history` earlier messages (8) and must
leave `max_tokens` (and room for the quote list) free. The oldest exchanges go first, then the weakest
sources (by retrieval score), counted with the engine's own tokenizer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath

from assistant.answering.answerability import assess, named_submission
from assistant.answering.citations import (
    check_citations,
    citation_for,
    distrust_flagged,
    infer_citations,
    strip_markers,
)
from assistant.answering.prompts import NO_ANSWER_TEXT, build_messages
from assistant.answering.schema import AnswerStream, QuotedEvidence, answer_schema, parse_answer, render
from assistant.answering.types import Answer, Citation, FlaggedSource
from assistant.engines.base import Engine, GenerationRequest, Usage, special_tokens_of
from assistant.grounding.evidence import Evidence, EvidenceRanker, Question, candidates
from assistant.grounding.sources import canonical_order, location_of, submission_of
from assistant.grounding.verification import Verdict, quote_in_source, verify_claim
from index.planted import is_flagged
from index.types import Chunk, ScoredChunk

SearchMany = Callable[[Sequence[str], int], list[list[ScoredChunk]]]
Message = dict[str, str]

HISTORY_QUERY_TURNS = 2  # earlier user turns that join the question in the retrieval query
BM25_SUPPORT_RANK = 3
_NO_ANSWER = re.compile(
    r"\b(?:documents?|sources?|context|text|information)\s+(?:provided\s+|given\s+)?"
    r"(?:do(?:es)?\s+not|don't|doesn't)\s+(?:contain|mention|include|provide|specify|state|say)",
    re.IGNORECASE,
)


@dataclass
class Prepared:
    """A prompt ready for the engine, with what went into it."""

    messages: list[Message]
    sources: list[ScoredChunk]  # in prompt order: source n is sources[n-1]
    history_turns: int  # earlier messages kept
    dropped_turns: int  # earlier messages left out to fit the window
    prompt_tokens: int


def retrieval_query(question: str, history: Sequence[Message] = (), turns: int = HISTORY_QUERY_TURNS) -> str:
    """The question with the last `turns` user turns before it (follow-ups name their subject there)."""
    earlier = [m["content"].strip() for m in history if m.get("role") == "user" and m.get("content", "").strip()]
    return " ".join([*earlier[-turns:], question.strip()]) if turns > 0 else question.strip()


def names(question: str) -> list[str]:
    """What makes a question name its own subject: capitalized words after the first ("Meridian",
    "Home Office") and identifiers with digits ("MP-24-03"). All-caps terms (TIV, ISO, PML) and
    plain numbers do not count: "what is the TIV?" still needs the conversation's subject."""
    words = re.findall(r"[A-Za-z0-9][\w'’\-/.]*", question)[1:]
    capitalized = [word for word in words if word[0].isupper() and not word.isupper()]
    codes = [word for word in words if any(c.isdigit() for c in word) and any(c.isalpha() for c in word)]
    return capitalized + [code for code in codes if code not in capitalized]


def is_follow_up(question: str, history: Sequence[Message]) -> bool:
    """A question that leans on the conversation: there is one, and the question names no subject."""
    return any(m.get("role") == "user" for m in history) and not names(question)


def identifiers(text: str) -> list[str]:
    """Identifier-like terms of a question: policy numbers, form codes, recommendation ids, figures."""
    return [t for t in re.findall(r"[A-Za-z0-9][A-Za-z0-9\-/.]*", text) if len(t) >= 4 and any(c.isdigit() for c in t)]


def covers(hits: Sequence[ScoredChunk], question: str, min_dense_score: float) -> bool:
    """Whether the documents cover the question at all (see the module docstring).

    Yes when a hit reaches `min_dense_score` cosine, or when a top BM25 hit contains one of the
    question's identifiers verbatim ("MP-24-03") and is at least half that similar."""
    if any((hit.dense_score or -1.0) >= min_dense_score for hit in hits):
        return True
    wanted = [term.lower() for term in identifiers(question)]
    return any(
        hit.ranks.get("bm25", BM25_SUPPORT_RANK + 1) <= BM25_SUPPORT_RANK
        and (hit.dense_score or -1.0) >= min_dense_score / 2
        and any(term in hit.chunk.text.lower() for term in wanted)
        for hit in hits
    )


def is_relevant(hit: ScoredChunk, min_dense_score: float) -> bool:
    """Whether one chunk is worth giving the model: similar enough, or a top BM25 hit half as similar."""
    dense = hit.dense_score if hit.dense_score is not None else -1.0
    if dense >= min_dense_score:
        return True
    return hit.ranks.get("bm25", BM25_SUPPORT_RANK + 1) <= BM25_SUPPORT_RANK and dense >= min_dense_score / 2


def relevant_sources(hits: Sequence[ScoredChunk], question: str, min_dense_score: float) -> list[ScoredChunk]:
    """The hits worth giving the model; empty when the documents do not cover the question."""
    if not covers(hits, question, min_dense_score):
        return []
    return [hit for hit in hits if is_relevant(hit, min_dense_score)]


def in_prompt_order(hits: Sequence[ScoredChunk]) -> list[ScoredChunk]:
    """The hits in `canonical_order` of their chunks: the same chunks always make the same prefix."""
    by_id = {hit.chunk.id: hit for hit in hits}
    return [by_id[chunk.id] for chunk in canonical_order(hit.chunk for hit in hits)]


def says_no_answer(text: str) -> bool:
    """Whether the model's answer is the no-answer sentence (or a close paraphrase)."""
    return NO_ANSWER_TEXT.lower().rstrip(".") in text.lower() or bool(_NO_ANSWER.search(text[:200]))


def history_for_prompt(history: Sequence[Message]) -> list[Message]:
    """Earlier turns as the prompt shows them: citation markers dropped (their numbers named other sources)."""
    kept = []
    for message in history:
        role, content = message.get("role", ""), message.get("content", "")
        if role in ("user", "assistant") and content.strip():
            kept.append({"role": role, "content": strip_markers(content).strip() if role == "assistant"
                         else content.strip()})
    return kept


def _is_factory(engine: object) -> bool:
    return callable(engine) and not hasattr(engine, "stream")


QUOTES_SHOWN = 2
EXTRACTIVE_UNITS = 1  # units an extractive answer may quote: the ranker's best (the 135M model chose worse)
EVIDENCE_POOL = 10  # passages whose units are ranked as evidence
PROMPT_SOURCES = 3  # passages the model is given: those holding the best evidence first
EVIDENCE_TOKENS = 320  # room kept in the prompt for the list of quotes
SUBMISSION_NAMES_TTL = 30.0  # seconds the submissions' names are reused before being read again


def quote_text(citation: Citation) -> str:
    """How a quote is shown: labelled, with the insured, the file and the location."""
    where = f"{citation.submission} / {citation.file_name}" if citation.submission else citation.file_name
    return f'Quote from {where}, {citation.location} [{citation.number}]: "{citation.quote}"'


class Answerer:
    """Grounded answers from one engine over one retriever."""

    def __init__(self, engine: Engine | Callable[[], Engine], search_many: SearchMany, *, top_k: int = 5,
                 max_new_tokens: int = 256, temperature: float = 0.0, min_dense_score: float = 0.25,
                 context_limit: int | None = None, max_history: int = 8,
                 ranker: EvidenceRanker | None = None,
                 submissions: Callable[[], dict[str, set[str]]] | None = None,
                 structured: bool = True, extractive: bool = False) -> None:
        """`engine` may be a factory: it is then called on the first question that needs the model,
        so a question the documents do not cover is answered without loading one. `ranker` ranks the
        evidence; `submissions` gives each submission's distinctive name words (for the question that
        names its insured). `structured` asks for the answer schema (off: free prose with markers);
        `extractive` limits the answer to clauses of the evidence (see `answer_schema`)."""
        self._engine: Engine | None = None if _is_factory(engine) else engine  # type: ignore[assignment]
        self._engine_factory = engine if _is_factory(engine) else None
        self.search_many = search_many
        self.top_k = top_k
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.min_dense_score = min_dense_score
        self.context_limit = context_limit
        self.max_history = max_history
        self.ranker = ranker
        self._submissions = submissions
        self._names: tuple[float, dict[str, set[str]]] | None = None
        self.structured = structured
        self.extractive = extractive

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            assert self._engine_factory is not None
            self._engine = self._engine_factory()  # type: ignore[operator]
        return self._engine

    # ---- steps --------------------------------------------------------------------------------

    @property
    def special_tokens(self) -> list[str]:
        """The engine's special-token strings, when it can tell (an HTTP server cannot)."""
        return special_tokens_of(self.engine)

    @property
    def window(self) -> int:
        """Tokens the prompt and the answer share."""
        window = self.engine.context_window
        return min(window, self.context_limit) if self.context_limit else window

    @staticmethod
    def search_query(question: str, history: Sequence[Message] = ()) -> str:
        """What is searched: a follow-up together with the last user turns, any other question alone."""
        return retrieval_query(question, history) if is_follow_up(question, history) else question.strip()

    def retrieve(self, question: str, history: Sequence[Message] = (), k: int | None = None,
                 scope: str | None = None) -> list[ScoredChunk]:
        """The `k` best chunks for the question, with the conversation in mind; best first."""
        return self._search(self.search_query(question, history), k or self.top_k, scope)

    def _search(self, query: str, k: int, scope: str | None) -> list[ScoredChunk]:
        if scope is None:
            return self.search_many([query], k)[0]
        return self.search_many([query], k, scope)[0]  # type: ignore[call-arg]

    def submission_names(self) -> dict[str, set[str]]:
        if self._submissions is None:
            return {}
        now = time.monotonic()
        if self._names is None or now - self._names[0] > SUBMISSION_NAMES_TTL:
            self._names = (now, self._submissions())
        return self._names[1]

    def prepare(self, question: str, sources: Sequence[ScoredChunk], history: Sequence[Message] = (),
                max_tokens: int | None = None, evidence: Sequence[tuple[int, str]] = ()) -> Prepared:
        """Messages that fit the window: oldest turns dropped first, then the weakest sources."""
        budget = self.window - (max_tokens or self.max_new_tokens)
        turns = history_for_prompt(history)
        dropped = max(0, len(turns) - self.max_history)
        turns = turns[dropped:]
        kept = list(sources)
        tokens = self.special_tokens
        while True:
            ordered = in_prompt_order(kept)
            messages = build_messages(question, [hit.chunk for hit in ordered], turns, tokens, evidence)
            count = self.engine.count_tokens(messages)
            if count <= budget:
                break
            if turns:
                # Drop a whole exchange (user turn and its answer) from the front.
                cut = 2 if len(turns) > 1 and turns[0]["role"] == "user" else 1
                turns, dropped = turns[cut:], dropped + cut
            elif len(kept) > 1:
                kept.remove(min(kept, key=lambda hit: hit.score))
            else:
                break  # one source and the question: the engine decides what happens at its limit
        return Prepared(messages, ordered, len(turns), dropped, count)

    # ---- answering ----------------------------------------------------------------------------

    def stream(self, question: str, history: Sequence[Message] = (), *, k: int | None = None,
               max_tokens: int | None = None, scope: str | None = None) -> Iterator[str | Answer]:
        """Yield draft pieces of the model's answer as it is generated, then the `Answer` (always last)."""
        question = question.strip()
        query = self.search_query(question, history)
        k = k or self.top_k
        retrieved = self._search(query, max(EVIDENCE_POOL, k), scope) if query else []
        pool = [hit for hit in retrieved if not is_flagged(hit.chunk.flags)]
        flagged = [hit for hit in retrieved[:k] if is_flagged(hit.chunk.flags)
                   and is_relevant(hit, self.min_dense_score)]
        for item in self._stream(question, query, pool, history, k, max_tokens, scope):
            if isinstance(item, Answer) and flagged:
                item.flagged = [FlaggedSource.of(hit.chunk) for hit in flagged]
                if item.kind == "declined" and self._flagged_would_answer(query, flagged, item.scope):
                    where = "; ".join(f"{PurePath(hit.chunk.source).name}, {location_of(hit.chunk)}" for hit in flagged)
                    item.reason = f"only a flagged passage states this ({where})"
            yield item

    def _flagged_would_answer(self, query: str, flagged: Sequence[ScoredChunk], named: str | None) -> bool:
        """Whether the flagged passages alone would have passed the answerability gate."""
        if self.ranker is None:
            return True
        asked = Question.parse(query)
        ranked = self.ranker.rank(asked, candidates(flagged), {n: n for n in range(1, len(flagged) + 1)})
        return assess(asked, ranked, [hit.chunk for hit in flagged], self.ranker, submission=named,
                      name_words=self.submission_names().get(named or "", set())).answerable

    def _stream(self, question: str, query: str, pool: list[ScoredChunk], history: Sequence[Message], k: int,
                max_tokens: int | None, scope: str | None) -> Iterator[str | Answer]:
        """`stream` over a pool of retrieved passages already cleared of flagged ones."""
        sources = relevant_sources(pool[:k], query, self.min_dense_score)
        if not question or not sources:
            yield self.declined(question, "nothing in the documents is close to the question", scope=scope)
            return
        max_tokens = max_tokens or self.max_new_tokens
        if self.ranker is None or not self.structured:
            yield from self._free_text(question, sources, history, max_tokens, scope)
            return
        asked = Question.parse(query)
        named = (scope and submission_of_scope(scope)) or named_submission(query, self.submission_names())
        pool = [hit for hit in pool if is_relevant(hit, self.min_dense_score)] or sources
        ranked = self.ranker.rank(asked, candidates(pool), {n: n for n in range(1, len(pool) + 1)})
        assessment = assess(asked, ranked, [hit.chunk for hit in pool], self.ranker, submission=named,
                            name_words=self.submission_names().get(named or "", set()))
        if not assessment.answerable:
            yield self.declined(question, assessment.reason, scope=named, sources=pool[:k])
            return
        chosen = evidence_sources(assessment.usable, pool, min(PROMPT_SOURCES, k))
        prepared = self.prepare(question, chosen, history, max_tokens + EVIDENCE_TOKENS)
        usable = renumber(assessment.usable, pool, prepared.sources)
        if self.extractive:  # a small model picks among few: the ranker's best units only
            usable = usable[:EXTRACTIVE_UNITS]
        if not usable:  # the passages holding the evidence did not fit the context window
            yield self.declined(question, "the evidence does not fit the context window", scope=named,
                                sources=prepared.sources)
            return
        final = self.prepare(question, prepared.sources, history, max_tokens, [(e.number, e.text) for e in usable])
        if [hit.chunk.id for hit in final.sources] != [hit.chunk.id for hit in prepared.sources]:
            # A source had to go after all: number the evidence as the prompt now has it.
            usable = renumber(usable, prepared.sources, final.sources)
            if not usable:
                yield self.declined(question, "the evidence does not fit the context window", scope=named,
                                    sources=final.sources)
                return
            final = self.prepare(question, final.sources, history, max_tokens, [(e.number, e.text) for e in usable])
        prepared = final
        # The quote is copied whole before the answer: room for the longest one comes on top of the answer's.
        quote_room = max(len(e.text) for e in usable) // 2 + 24
        request = GenerationRequest(messages=prepared.messages, max_tokens=max_tokens + quote_room,
                                    temperature=self.temperature,
                                    json_schema=answer_schema(usable, extractive=self.extractive))
        raw, usage, finish_reason = yield from self._generate(request, prepared, structured=True)
        answer = self.finish_structured(question, raw, prepared.sources, usable, usage)
        answer.history_turns, answer.dropped_turns = prepared.history_turns, prepared.dropped_turns
        answer.finish_reason, answer.scope = finish_reason, named
        yield sent(answer, request)

    def _generate(self, request: GenerationRequest, prepared: Prepared,
                  structured: bool) -> Generator[str, None, tuple[str, Usage, str | None]]:
        parts: list[str] = []
        usage = Usage(prompt_tokens=prepared.prompt_tokens)
        finish_reason = None
        drafts = AnswerStream() if structured else None
        for event in self.engine.stream(request):
            if event.text:
                parts.append(event.text)
                piece = drafts.push(event.text) if drafts else event.text
                if piece:
                    yield piece
            if event.usage is not None:
                usage = event.usage
            if event.finish_reason:
                finish_reason = event.finish_reason
        return "".join(parts).strip(), usage, finish_reason

    def _free_text(self, question: str, sources: Sequence[ScoredChunk], history: Sequence[Message],
                   max_tokens: int, scope: str | None) -> Iterator[str | Answer]:
        prepared = self.prepare(question, sources, history, max_tokens)
        request = GenerationRequest(messages=prepared.messages, max_tokens=max_tokens, temperature=self.temperature)
        raw, usage, finish_reason = yield from self._generate(request, prepared, structured=False)
        answer = self.finish(question, raw, prepared.sources, usage)
        answer.history_turns, answer.dropped_turns = prepared.history_turns, prepared.dropped_turns
        answer.finish_reason, answer.scope = finish_reason, scope
        yield sent(answer, request)

    def answer(self, question: str, history: Sequence[Message] = (), *, k: int | None = None,
               max_tokens: int | None = None, scope: str | None = None) -> Answer:
        """Answer to completion (no streaming)."""
        final = None
        for item in self.stream(question, history, k=k, max_tokens=max_tokens, scope=scope):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def declined(self, question: str, reason: str, *, scope: str | None = None,
                 sources: Sequence[ScoredChunk] = ()) -> Answer:
        """The decline: the no-answer sentence, with why; the model is not called."""
        return Answer(question=question, text=NO_ANSWER_TEXT, citations=[], sources=list(sources), supported=False,
                      declined=True, usage=Usage(), model="", kind="declined", reason=reason, scope=scope)

    def finish_structured(self, question: str, raw: str, sources: Sequence[ScoredChunk],
                          usable: Sequence[Evidence], usage: Usage) -> Answer:
        """Read the model's JSON answer back and verify it; a quote of the best evidence when it fails."""
        model = self.engine.model_id()
        parsed = parse_answer(raw)
        if parsed is None:  # an engine that ignored the schema: check its prose marker by marker
            answer = self.finish(question, raw, sources, usage)
            answer.raw = raw
            return answer if answer.supported else self.as_quote(answer, usable, "the answer is not in the schema")
        chunks = [hit.chunk for hit in sources]
        invalid = sorted({item.source for item in parsed.evidence if not 1 <= item.source <= len(chunks)})
        quoted = [item for item in parsed.evidence if 1 <= item.source <= len(chunks)]
        verdict = verify_answer(parsed.answer, [(item.quote, chunks[item.source - 1]) for item in quoted], question)
        citations = [citation_for(item.source, chunks[item.source - 1], item.quote,
                                  verdict.verified and quote_in_source(item.quote, chunks[item.source - 1].text),
                                  verdict.support, reason=verdict.reason)
                     for item in quoted]
        text = render(parsed)
        answer = Answer(question=question, text=text, citations=citations, sources=list(sources), supported=False,
                        declined=False, usage=usage, model=model, invalid_citations=invalid, raw=raw)
        if says_no_answer(parsed.answer):
            return self.as_quote(answer, usable, "the model found no answer in the quotes", chosen=quoted)
        if verdict.verified and citations and all(c.verified for c in citations) and not invalid:
            answer.supported = True
            return answer
        return self.as_quote(answer, usable, verdict.reason or "the quote is not in its source", chosen=quoted)

    def as_quote(self, answer: Answer, usable: Sequence[Evidence], reason: str,
                 chosen: Sequence[QuotedEvidence] = ()) -> Answer:
        """The same answer turned into a labelled quote of the evidence (the model's pick when it is one)."""
        sources = [hit.chunk for hit in answer.sources]
        by_text = {(e.number, e.text): e for e in usable}
        picked = [by_text[(item.source, item.quote)] for item in chosen if (item.source, item.quote) in by_text]
        shown: list[Evidence] = []
        for evidence in [*usable[:1], *picked]:  # the best evidence, and the model's pick when it differs
            if all(evidence is not other for other in shown) and len(shown) < QUOTES_SHOWN:
                shown.append(evidence)
        if not shown:
            return self.declined(answer.question, reason, sources=answer.sources)
        citations = [citation_for(e.number, sources[e.number - 1], e.text, False, e.coverage) for e in shown]
        answer.draft = answer.text if answer.text != NO_ANSWER_TEXT else ""
        answer.text = "\n".join(quote_text(citation) for citation in citations)
        answer.citations, answer.kind, answer.reason, answer.supported = citations, "quote", reason, False
        return answer

    def finish(self, question: str, text: str, sources: Sequence[ScoredChunk], usage: Usage) -> Answer:
        """Check a free-text answer's citations against the sources it was given. The prose stays the
        answer, `supported` or not: the first wave's path (`structured=False`), kept as the benchmark's
        baseline; the product's path turns an unsupported answer into a quote (`finish_structured`)."""
        check = check_citations(text, sources, question)
        citations = check.citations
        if not citations and not check.invalid and not says_no_answer(text):
            citations = infer_citations(text, sources, question)  # marked inferred: never counts as support
        reasons = "; ".join(c.reason for c in citations if c.reason and not c.inferred)
        return Answer(question=question, text=text, citations=citations, sources=list(sources),
                      supported=check.supported, declined=False, usage=usage, model=self.engine.model_id(),
                      invalid_citations=check.invalid, kind="answer",
                      reason="" if check.supported else (reasons or "no citation verifies"), raw=text)


def sent(answer: Answer, request: GenerationRequest) -> Answer:
    """The answer with what the model was sent kept on it (for the audit trail's replay)."""
    answer.prompt = [dict(message) for message in request.messages]
    answer.generation = {"max_tokens": request.max_tokens, "temperature": request.temperature,
                         "json_schema": request.json_schema}
    return answer


def evidence_sources(usable: Sequence[Evidence], pool: Sequence[ScoredChunk], count: int) -> list[ScoredChunk]:
    """The passages the model is given, `count` in all: those holding the usable evidence (best first),
    then the best retrieved ones."""
    chosen: list[ScoredChunk] = []
    for hit in [pool[evidence.number - 1] for evidence in usable] + list(pool):
        if len(chosen) >= count:
            break
        if all(hit.chunk.id != other.chunk.id for other in chosen):
            chosen.append(hit)
    return chosen


def renumber(usable: Sequence[Evidence], pool: Sequence[ScoredChunk], sources: Sequence[ScoredChunk]) -> list[Evidence]:
    """The usable evidence numbered as its passages are in the prompt (units of passages left out dropped)."""
    number_of = {hit.chunk.id: n for n, hit in enumerate(sources, start=1)}
    kept = []
    for evidence in usable:
        chunk_id = pool[evidence.number - 1].chunk.id
        if chunk_id in number_of:
            candidate = replace(evidence.candidate, number=number_of[chunk_id])
            kept.append(replace(evidence, candidate=candidate))
    return kept


def submission_of_scope(scope: str) -> str:
    """The submission folder name a scope names (a folder name, or a path to the folder)."""
    return PurePath(scope.rstrip("/")).name


def verify_answer(answer: str, quotes: Sequence[tuple[str, Chunk]], question: str = "") -> Verdict:
    """The answer checked against all its quotes together (its facts may come from any of them)."""
    if not quotes:
        return Verdict(False, ["no quote"])
    missing = [quote for quote, chunk in quotes if not quote_in_source(quote, chunk.text)]
    joined = " … ".join(quote for quote, _ in quotes)
    names = " ".join(f"{submission_of(chunk.source)} {PurePath(chunk.source).stem} {chunk.title} {chunk.heading}"
                     for _, chunk in quotes)
    source_text = "\n".join(chunk.text for _, chunk in quotes)
    verdict = verify_claim(answer, joined, source_text, source_name=names.replace("-", " ").replace("_", " "),
                           question=question)
    if missing:
        verdict.verified = False
        verdict.reasons.insert(0, "a quote is not in its cited source")
    return distrust_flagged(verdict, [chunk for _, chunk in quotes])


class Conversation:
    """A chat: the turns so far, and answers that take them into account."""

    def __init__(self, answerer: Answerer, on_answer: Callable[[Answer], None] | None = None) -> None:
        """`on_answer` is called with each finished answer before it is yielded (the audit trail's hook)."""
        self.answerer = answerer
        self.on_answer = on_answer
        self.history: list[Message] = []

    def stream(self, question: str, *, k: int | None = None, max_tokens: int | None = None,
               scope: str | None = None) -> Iterator[str | Answer]:
        """Like `Answerer.stream`; the exchange joins the history once the answer is complete."""
        for item in self.answerer.stream(question, self.history, k=k, max_tokens=max_tokens, scope=scope):
            if isinstance(item, Answer):
                self.history += [{"role": "user", "content": question.strip()},
                                 {"role": "assistant", "content": item.text}]
                if self.on_answer is not None:
                    self.on_answer(item)
            yield item

    def ask(self, question: str, *, k: int | None = None, max_tokens: int | None = None,
            scope: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, k=k, max_tokens=max_tokens, scope=scope):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def reset(self) -> None:
        self.history.clear()

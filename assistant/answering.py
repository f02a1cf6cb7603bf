"""The answering pipeline: retrieve, gate on relevance, lay out the prompt, generate, check citations.

`Answerer.stream(question, history)` yields the answer's text pieces as they are generated and,
last, the finished `Answer`; `Answerer.answer` runs the same to completion. `Conversation` keeps
the turns of a chat. Both the CLI and the Streamlit page use these through `assistant.app`.

Retrieval with a conversation: a follow-up ("what about its sprinklers?", "and the loss ratio?": a
question that names no subject of its own, see `names`) is searched together with the last user
turns, so it finds the insured the conversation is about; a question that names its subject ("what
is the PML for the Meridian plant?") is searched alone, so a change of subject finds the new one.

The relevance gate: when no retrieved chunk reaches `min_dense_score` cosine similarity, and no
top-3 BM25 hit at least half that similar contains an identifier of the question ("MP-24-03"), the
documents are taken not to cover the question: the no-answer text is returned and the model is not
called. Otherwise the sources are the hits that reach `min_dense_score`, or are top-3 BM25 hits at
least half as similar. Measured on sample_docs/eval/questions.jsonl: every answerable question's
best cosine is 0.29 or more and keeps at least 3 sources; off-topic questions ("capital of France",
"sourdough recipe") score under 0.2. In-domain questions the documents cannot answer ("what is the
earthquake deductible?") score like answerable ones (0.47-0.67), so no retrieval threshold can tell
them apart: those go to the model, which is told to say the documents do not contain it.

Fitting the context window: the prompt keeps at most `max_history` earlier messages (8) and must
leave `max_tokens` free. The oldest exchanges go first, then the weakest sources (by retrieval
score), counted with the engine's own tokenizer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from assistant.citations import check_citations, infer_citations, strip_markers
from assistant.engines.base import Engine, GenerationRequest, Usage
from assistant.prompts import NO_ANSWER_TEXT, build_messages
from assistant.types import Answer
from index.types import ScoredChunk

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
    """Canonical order (document, page, position): the same chunks always make the same prefix."""
    unique = {hit.chunk.id: hit for hit in hits}
    return sorted(unique.values(), key=lambda hit: hit.chunk.sort_key())


def says_no_answer(text: str) -> bool:
    """Whether the model's answer is the no-answer sentence (or a close paraphrase)."""
    return NO_ANSWER_TEXT.lower().rstrip(".") in text.lower() or bool(_NO_ANSWER.search(text[:200]))


def engine_special_tokens(engine: Engine) -> list[str]:
    """Every special-token string the engine's tokenizer knows: its `special_tokens`, or, for an engine
    holding a transformers tokenizer, all special and added special tokens (SmolLM2 registers 17)."""
    given = getattr(engine, "special_tokens", None)
    if callable(given):  # EmbeddedEngine.special_tokens() is a method
        given = given()
    if given:
        return list(given)
    tokenizer = getattr(engine, "tokenizer", None)
    if tokenizer is None:
        return []
    found = set(getattr(tokenizer, "all_special_tokens", None) or ())
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    found.update(str(token) for token in decoder.values() if getattr(token, "special", False))
    return sorted(found)


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


class Answerer:
    """Grounded answers from one engine over one retriever."""

    def __init__(self, engine: Engine | Callable[[], Engine], search_many: SearchMany, *, top_k: int = 5,
                 max_new_tokens: int = 256, temperature: float = 0.0, min_dense_score: float = 0.25,
                 context_limit: int | None = None, max_history: int = 8) -> None:
        """`engine` may be a factory: it is then called on the first question that needs the model,
        so a question the documents do not cover is answered without loading one."""
        self._engine: Engine | None = None if _is_factory(engine) else engine  # type: ignore[assignment]
        self._engine_factory = engine if _is_factory(engine) else None
        self.search_many = search_many
        self.top_k = top_k
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.min_dense_score = min_dense_score
        self.context_limit = context_limit
        self.max_history = max_history

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
        return engine_special_tokens(self.engine)

    @property
    def window(self) -> int:
        """Tokens the prompt and the answer share."""
        window = self.engine.context_window
        return min(window, self.context_limit) if self.context_limit else window

    @staticmethod
    def search_query(question: str, history: Sequence[Message] = ()) -> str:
        """What is searched: a follow-up together with the last user turns, any other question alone."""
        return retrieval_query(question, history) if is_follow_up(question, history) else question.strip()

    def retrieve(self, question: str, history: Sequence[Message] = (), k: int | None = None) -> list[ScoredChunk]:
        """The `k` best chunks for the question, with the conversation in mind; best first."""
        return self.search_many([self.search_query(question, history)], k or self.top_k)[0]

    def prepare(self, question: str, sources: Sequence[ScoredChunk], history: Sequence[Message] = (),
                max_tokens: int | None = None) -> Prepared:
        """Messages that fit the window: oldest turns dropped first, then the weakest sources."""
        budget = self.window - (max_tokens or self.max_new_tokens)
        turns = history_for_prompt(history)
        dropped = max(0, len(turns) - self.max_history)
        turns = turns[dropped:]
        kept = list(sources)
        tokens = self.special_tokens
        while True:
            ordered = in_prompt_order(kept)
            messages = build_messages(question, [hit.chunk for hit in ordered], turns, tokens)
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
               max_tokens: int | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is generated, then the checked `Answer` (always last)."""
        question = question.strip()
        query = self.search_query(question, history)
        hits = self.search_many([query], k or self.top_k)[0] if query else []
        sources = relevant_sources(hits, query, self.min_dense_score)
        if not question or not sources:
            yield NO_ANSWER_TEXT
            yield Answer(question=question, text=NO_ANSWER_TEXT, citations=[], sources=[], supported=False,
                         declined=True, usage=Usage(), model="")
            return
        prepared = self.prepare(question, sources, history, max_tokens)
        request = GenerationRequest(messages=prepared.messages, max_tokens=max_tokens or self.max_new_tokens,
                                    temperature=self.temperature)
        parts: list[str] = []
        usage = Usage(prompt_tokens=prepared.prompt_tokens)
        finish_reason = None
        for event in self.engine.stream(request):
            if event.text:
                parts.append(event.text)
                yield event.text
            if event.usage is not None:
                usage = event.usage
            if event.finish_reason:
                finish_reason = event.finish_reason
        answer = self.finish(question, "".join(parts).strip(), prepared.sources, usage)
        answer.history_turns, answer.dropped_turns = prepared.history_turns, prepared.dropped_turns
        answer.finish_reason = finish_reason
        yield answer

    def answer(self, question: str, history: Sequence[Message] = (), *, k: int | None = None,
               max_tokens: int | None = None) -> Answer:
        """Answer to completion (no streaming)."""
        final = None
        for item in self.stream(question, history, k=k, max_tokens=max_tokens):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def finish(self, question: str, text: str, sources: Sequence[ScoredChunk], usage: Usage) -> Answer:
        """Check the answer's citations against the sources it was given."""
        check = check_citations(text, sources)
        citations = check.citations
        if not citations and not check.invalid and not says_no_answer(text):
            citations = infer_citations(text, sources)  # marked inferred: never counts as support
        return Answer(question=question, text=text, citations=citations, sources=list(sources),
                      supported=check.supported, declined=False, usage=usage, model=self.engine.model_id(),
                      invalid_citations=check.invalid)


class Conversation:
    """A chat: the turns so far, and answers that take them into account."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self.history: list[Message] = []

    def stream(self, question: str, *, k: int | None = None, max_tokens: int | None = None) -> Iterator[str | Answer]:
        """Like `Answerer.stream`; the exchange joins the history once the answer is complete."""
        for item in self.answerer.stream(question, self.history, k=k, max_tokens=max_tokens):
            if isinstance(item, Answer):
                self.history += [{"role": "user", "content": question.strip()},
                                 {"role": "assistant", "content": item.text}]
            yield item

    def ask(self, question: str, *, k: int | None = None, max_tokens: int | None = None) -> Answer:
        final = None
        for item in self.stream(question, k=k, max_tokens=max_tokens):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def reset(self) -> None:
        self.history.clear()

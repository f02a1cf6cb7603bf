"""The answering pipeline's pure parts: follow-up detection, the relevance gate, fitting the window.

A stub engine counts tokens as words, so these run in milliseconds; the real-model proofs are in
test_answering.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from assistant.answering.pipeline import (
    Answerer,
    Conversation,
    covers,
    history_for_prompt,
    is_follow_up,
    names,
    relevant_sources,
    says_no_answer,
)
from assistant.answering.prompts import NO_ANSWER_TEXT
from assistant.answering.types import Answer
from assistant.engines.base import GenerationRequest, StreamEvent, Usage
from index.types import Chunk, ScoredChunk


class WordEngine:
    """Counts a word as a token; answers with a fixed text."""

    name = "words"

    def __init__(self, window: int = 10_000, reply: str = "The roof is a metal deck [1].") -> None:
        self.context_window = window
        self.reply = reply
        self.requests: list[GenerationRequest] = []

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def model_id(self) -> str:
        return "words"

    def stream(self, request: GenerationRequest) -> Iterator[StreamEvent]:
        self.requests.append(request)
        for word in self.reply.split(" "):
            yield StreamEvent(text=word + " ")
        yield StreamEvent(usage=Usage(prompt_tokens=self.count_tokens(request.messages), completion_tokens=3),
                          finish_reason="stop")


def hit(cid: int, text: str, dense: float | None, bm25_rank: int | None = None, score: float = 0.5,
        source: str = "/docs/a.pdf") -> ScoredChunk:
    ranks = {"bm25": bm25_rank} if bm25_rank else {}
    return ScoredChunk(Chunk(cid, source, 1, cid, text), score=score, ranks=ranks, dense_score=dense,
                       bm25_score=1.0 if bm25_rank else None)


def test_names_and_follow_ups() -> None:
    assert names("What is the PML for the Meridian molding plant?") == ["Meridian"]
    assert names("What does recommendation MP-24-03 require?") == ["MP-24-03"]
    assert names("What is the TIV?") == []  # all-caps terms are not subjects
    assert names("What about its sprinklers in 2023?") == []  # nor plain numbers
    history = [{"role": "user", "content": "What is the Harbor Foods TIV?"}, {"role": "assistant", "content": "x"}]
    assert is_follow_up("And the loss ratio?", history)
    assert not is_follow_up("And the loss ratio?", [])
    assert not is_follow_up("What is Oakridge's loss ratio?", history)


def test_gate() -> None:
    strong = hit(1, "Sprinklers throughout.", 0.41)
    weak = hit(2, "Loss run 2019.", 0.05)
    code = hit(3, "Recommendation MP-24-03: install interlocks.", 0.2, bm25_rank=1)
    assert covers([strong, weak], "q", 0.25)
    assert not covers([weak], "Who won the World Cup?", 0.25)
    # A top BM25 hit carrying the question's identifier verbatim counts even below the cosine threshold.
    assert covers([code], "What does MP-24-03 require?", 0.25)
    assert not covers([code], "What does it require?", 0.25)
    assert relevant_sources([strong, weak, code], "q", 0.25) == [strong, code]
    assert relevant_sources([weak], "q", 0.25) == []


def test_says_no_answer() -> None:
    assert says_no_answer(NO_ANSWER_TEXT)
    assert says_no_answer("I'm sorry, the documents provided do not mention an earthquake deductible.")
    assert not says_no_answer("The building does not include sprinklers in the attic [2].")


def test_history_for_prompt_drops_old_markers() -> None:
    history = [{"role": "user", "content": " TIV? "}, {"role": "assistant", "content": "It is $5M [1][2]."},
               {"role": "system", "content": "ignored"}, {"role": "user", "content": "  "}]
    assert history_for_prompt(history) == [{"role": "user", "content": "TIV?"},
                                           {"role": "assistant", "content": "It is $5M."}]


def test_prepare_drops_oldest_exchanges_then_weakest_sources() -> None:
    sources = [hit(1, "word " * 100, 0.5, score=0.9, source="/docs/b.pdf"),
               hit(2, "word " * 100, 0.5, score=0.1, source="/docs/a.pdf")]
    history = []
    for n in range(3):
        history += [{"role": "user", "content": f"q{n} " + "pad " * 50},
                    {"role": "assistant", "content": f"a{n} " + "pad " * 50}]
    roomy = Answerer(WordEngine(), lambda queries, k: [[]])
    full = roomy.prepare("question?", sources, history, max_tokens=10)
    assert (full.history_turns, full.dropped_turns) == (6, 0)
    assert [s.chunk.id for s in full.sources] == [2, 1]  # canonical order: a.pdf before b.pdf

    tight = Answerer(WordEngine(window=full.prompt_tokens + 10 - 80), lambda queries, k: [[]])
    trimmed = tight.prepare("question?", sources, history, max_tokens=10)
    assert trimmed.dropped_turns == 2 and trimmed.history_turns == 4
    assert "q0" not in trimmed.messages[1]["content"] and "q1" in trimmed.messages[1]["content"]
    assert trimmed.prompt_tokens + 10 <= tight.window

    no_room = Answerer(WordEngine(window=full.prompt_tokens - 600), lambda queries, k: [[]])
    squeezed = no_room.prepare("question?", sources, history, max_tokens=10)
    assert squeezed.history_turns == 0 and [s.chunk.id for s in squeezed.sources] == [1]  # weakest source went

    capped = Answerer(WordEngine(), lambda queries, k: [[]], max_history=2).prepare("q", sources, history, 10)
    assert (capped.history_turns, capped.dropped_turns) == (2, 4)


def test_stream_yields_text_then_answer_and_conversation_keeps_turns() -> None:
    roof = hit(1, "The roof is a metal deck built in 1987.", 0.6)
    searched: list[str] = []

    def search_many(queries, k):
        searched.extend(queries)
        return [[roof]]

    engine = WordEngine()
    conversation = Conversation(Answerer(engine, search_many))
    items = list(conversation.stream("What is the Harbor Foods roof made of?"))
    assert all(isinstance(item, str) for item in items[:-1]) and isinstance(items[-1], Answer)
    answer = items[-1]
    assert answer.supported and [c.number for c in answer.citations] == [1] and answer.citations[0].verified
    assert conversation.history[-1] == {"role": "assistant", "content": "The roof is a metal deck [1]."}
    conversation.ask("And its age?")
    assert searched[-1] == "What is the Harbor Foods roof made of? And its age?"  # follow-up keeps the subject
    assert "Conversation so far:" in engine.requests[-1].messages[1]["content"]
    conversation.reset()
    assert conversation.history == []


def test_engine_factory_is_called_only_when_needed() -> None:
    built: list[int] = []

    def factory() -> WordEngine:
        built.append(1)
        return WordEngine()

    answerer = Answerer(factory, lambda queries, k: [[hit(1, "x", 0.01)]])
    assert answerer.answer("Who won the World Cup?").declined
    assert built == []
    answerer.search_many = lambda queries, k: [[hit(1, "The roof is a metal deck.", 0.9)]]
    assert not answerer.answer("What is the roof?").declined
    assert built == [1]


def test_an_extractive_answer_may_cut_a_sentence_into_clauses_but_never_a_table_row() -> None:
    from assistant.answering.schema import answer_spans

    sentence = "The depot is sprinklered throughout, with a wet-pipe system installed in 2011 and tested in May."
    assert "with a wet-pipe system installed in 2011" in answer_spans(sentence)
    row = "Site 2 - Quay Road depot | Constr Joisted masonry, 1964 | Sprinklered N | Bldg Amt 1,800,000"
    assert answer_spans(row) == [row]

"""Types of the answering side that cross module borders: `Citation` and `Answer`.

The index's own types (`Chunk`, `ScoredChunk`) live in `index.types`; token accounting
(`Usage`) lives with the engines. Both are re-exported here for convenience.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from assistant.engines.base import Usage
from index.types import Chunk, ScoredChunk

__all__ = ["Answer", "Chunk", "Citation", "ScoredChunk", "Usage"]


@dataclass(frozen=True)
class Citation:
    """One source an answer points to, as checked against the sources the model was given.

    `number` is the source number the model saw (1..n). `verified` is true when the number
    names a source that was given *and* that source shares content words or figures with the
    sentence citing it (see `assistant.citations`). `inferred` marks a citation the model did
    not write: it was attached afterwards by lexical overlap and never counts as support.
    """

    number: int
    source: str
    page: int
    chunk_id: int
    quote: str
    verified: bool
    score: float  # lexical support in 0..1: share of the citing sentence's content terms found in the source
    inferred: bool = False

    @property
    def file_name(self) -> str:
        return PurePath(self.source).name

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "source": self.source, "page": self.page, "chunk_id": self.chunk_id,
                "quote": self.quote, "verified": self.verified, "score": round(self.score, 4),
                "inferred": self.inferred}


@dataclass
class Answer:
    """A grounded answer: the text, the citations checked against `sources`, and usage figures.

    `sources` are exactly what the model was given, in prompt order (source n is `sources[n-1]`).
    `supported` is true when at least one citation the model wrote is verified. `declined` is true
    when retrieval found nothing relevant enough and the model was not called.
    """

    question: str
    text: str
    citations: list[Citation]
    sources: list[ScoredChunk]
    supported: bool
    declined: bool
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    invalid_citations: list[int] = field(default_factory=list)  # numbers cited that name no given source
    history_turns: int = 0  # earlier conversation turns that fit into the prompt
    dropped_turns: int = 0  # earlier turns left out to fit the context window
    finish_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        usage = self.usage
        return {
            "question": self.question,
            "answer": self.text,
            "supported": self.supported,
            "declined": self.declined,
            "model": self.model,
            "citations": [citation.to_dict() for citation in self.citations],
            "invalid_citations": self.invalid_citations,
            "sources": [
                {"number": number, "source": hit.chunk.source, "page": hit.chunk.page, "chunk_id": hit.chunk.id,
                 "score": round(hit.score, 6)}
                for number, hit in enumerate(self.sources, start=1)
            ],
            "usage": {
                "prompt_tokens": usage.prompt_tokens,
                "cached_tokens": usage.cached_tokens,
                "completion_tokens": usage.completion_tokens,
                "time_to_first_token": round(usage.time_to_first_token, 4),
                "total_time": round(usage.total_time, 4),
                "tokens_per_second": round(usage.tokens_per_second, 2),
            },
            "history_turns": self.history_turns,
            "dropped_turns": self.dropped_turns,
            "finish_reason": self.finish_reason,
        }

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

__all__ = ["ANSWER_KINDS", "Answer", "Chunk", "Citation", "FlaggedSource", "ScoredChunk", "Usage"]


ANSWER_KINDS = ("answer", "quote", "declined")


@dataclass(frozen=True)
class Citation:
    """One source an answer points to, as checked against the sources the model was given.

    `number` is the source number the model saw (1..n). On an answer, `verified` is true only when the
    quote is found in that source and the claim agrees with it in every figure, date, identifier and
    negation (`assistant.grounding.verification`); `reason` says why not. On a quote (`Answer.kind == "quote"`)
    the citation is the passage shown verbatim: `verified` stays false, it is evidence, not a claim.
    `inferred` marks a citation the model did not write (attached by wording); it never counts.
    """

    number: int
    source: str
    page: int
    chunk_id: int
    quote: str
    verified: bool
    score: float  # share of the claim's content terms the quote holds, 0..1
    inferred: bool = False
    submission: str = ""  # the insured's folder
    location: str = ""  # where in the file: "page 2"
    reason: str = ""  # why the claim is not verified

    @property
    def file_name(self) -> str:
        return PurePath(self.source).name

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "submission": self.submission, "source": self.source,
                "file": self.file_name, "page": self.page, "location": self.location, "chunk_id": self.chunk_id,
                "quote": self.quote, "verified": self.verified, "reason": self.reason,
                "score": round(self.score, 4), "inferred": self.inferred}


@dataclass(frozen=True)
class FlaggedSource:
    """A retrieved passage that was kept out of the evidence because ingest flagged it (a planted instruction
    to an AI reader, or text a reader does not see): named, so the underwriter sees the submission tried."""

    source: str
    location: str
    chunk_id: int
    reason: str  # e.g. "planted instruction (override of instructions)"
    submission: str = ""

    @classmethod
    def of(cls, chunk: Chunk) -> FlaggedSource:
        """How a flagged passage is named to the user."""
        from assistant.grounding.sources import location_of, submission_of
        from index.planted import describe

        return cls(source=chunk.source, location=location_of(chunk), chunk_id=chunk.id,
                   reason=describe(chunk.flags), submission=submission_of(chunk.source))

    @property
    def file_name(self) -> str:
        return PurePath(self.source).name

    def note(self) -> str:
        """'Flagged: harbor-foods / broker_note.txt, page 1 reads as planted instruction (...); not used.'"""
        where = f"{self.submission} / {self.file_name}" if self.submission else self.file_name
        return f"Flagged: {where}, {self.location}: {self.reason}; not used as evidence."

    def to_dict(self) -> dict[str, Any]:
        return {"submission": self.submission, "source": self.source, "file": self.file_name,
                "location": self.location, "chunk_id": self.chunk_id, "reason": self.reason}


@dataclass
class Answer:
    """What the user gets: a verified answer, a labelled quote, or the decline.

    `kind` is "answer" when the model's answer verified against its quotes (every citation verified),
    "quote" when it did not (or could not be read): `text` is then the best evidence quoted verbatim and
    `draft` what the model wrote, never shown as an answer; "declined" when the documents do not answer
    the question (`reason` says what is missing). `sources` are exactly what the model was given, in
    prompt order (source n is `sources[n-1]`). `supported` is true for a verified answer only.
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
    kind: str = "answer"
    draft: str = ""  # the model's own answer when it did not verify (kind "quote")
    reason: str = ""  # why it was declined, or why the model's answer did not verify
    scope: str | None = None  # the submission the answer is limited to
    raw: str = ""  # the model's output as generated (JSON under the answer schema)
    flagged: list[FlaggedSource] = field(default_factory=list)  # retrieved but kept out of the evidence
    # What the model was sent (empty when it was not called): the messages, and max_tokens, temperature and the
    # JSON schema it was held to, so the audit trail can show, and replay, exactly what the model saw.
    prompt: list[dict[str, str]] = field(default_factory=list)
    generation: dict[str, Any] = field(default_factory=dict)
    audit_id: int | None = None  # its record in the audit trail (`assistant.audit`), once written
    audit_error: str = ""  # why the audit record could not be written (the answer is still given)

    @property
    def notes(self) -> list[str]:
        """Lines the user must see beside the answer: the flagged passages the retrieval met."""
        return [item.note() for item in self.flagged]

    def to_dict(self) -> dict[str, Any]:
        from assistant.grounding.sources import location_of

        usage = self.usage
        return {
            "question": self.question,
            "kind": self.kind,
            "answer": self.text,
            "verified": self.kind == "answer" and self.supported,
            "supported": self.supported,
            "declined": self.declined,
            "reason": self.reason,
            "draft": self.draft,
            "scope": self.scope,
            "model": self.model,
            "citations": [citation.to_dict() for citation in self.citations],
            "flagged_sources": [item.to_dict() for item in self.flagged],
            "notes": self.notes,
            "invalid_citations": self.invalid_citations,
            "sources": [
                {"number": number, "submission": PurePath(hit.chunk.source).parent.name, "source": hit.chunk.source,
                 "page": hit.chunk.page, "location": location_of(hit.chunk),
                 "chunk_id": hit.chunk.id,
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
            "audit_id": self.audit_id,
            "audit_error": self.audit_error,
        }

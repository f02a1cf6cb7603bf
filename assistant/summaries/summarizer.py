"""Batch summarization: one structured summary per document, every statement traceable to a page.

Per document (`Summarizer.summarize_document`):

1. Pages from the stored chunks: chunk overlaps removed (the later chunk is kept whole), nothing else
   dropped. Sentences are rebuilt from wrapped lines.
2. Windows: consecutive pieces that fit the model's context with the instructions, the longest field
   question and the answer budget, counted with the engine's own tokenizer. A piece too long for any
   window is split at line or word boundaries; nothing is cut. Every window is visited (map).
3. Candidates per window and field, without the model: sentences that mention the field's keywords and
   matches of its pattern, each a verbatim quote with its page.
4. For "model" fields, where the window has a candidate, the model is asked the field's question, shown
   the window's likeliest sentence for it. The answer is kept only when verified: every figure and at
   least 85% of its content words occur in one sentence of the cited page (or of another page of the
   window, which is then cited), the answer is about the field, and it says more than the question.
   Otherwise it is dropped (and recorded in `answers`); the model never adds a statement the pages do
   not bear out. A kept answer that is only part of a pattern match ranks below the match.
5. Reduce over windows: a text field keeps its best candidate, a list field every distinct item (up to
   `max_items`; the rest are counted in `more`). No candidate: the template's "not stated".

Prompt layout, for prefix caching: [system: the template's instructions, byte-identical for every
document] [user: the window's delimited text, then the question]. Requests for one window differ only
in the question, so they share the document prefix as well; on the embedded engine the instruction
costs nothing after the first document, and an SGLang server (lpm scheduling) groups the concurrent
requests that share it.

Concurrency: over HTTP, `concurrency` documents are in flight at once, each sending its requests window
by window, so concurrent requests share the instructions and consecutive ones a document; the embedded
engine takes one document at a time (it generates one request at a time anyway).

Insured: a document belongs to the first folder under the path it was summarized from (`sample_docs/`
-> `harbor-foods`), or, given by itself or directly in that path, to the folder that holds it. Per-insured
reports merge these groups; the insured's name shown is the `insured` field most documents state.

Resume: each summary is stored in the workspace (`summaries/`, one JSON file, written atomically)
under a key of (document content hash, model id, template hash, context and answer budgets). A re-run
reuses it unless `force`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

from assistant.answering.citations import terms
from assistant.answering.prompts import neutralize
from assistant.engines.base import Engine, EngineError, GenerationRequest, generate
from assistant.grounding.evidence import overlap_start
from assistant.grounding.sources import location_of
from assistant.grounding.verification import fact_disagreements, facts
from assistant.summaries.template import FieldSpec, SummaryTemplate
from index.atomic import write_atomic
from index.planted import describe, is_flagged
from index.types import Chunk

FORMAT_VERSION = 2  # of the stored summaries and of the pipeline: a change here redoes every summary
SAFETY_TOKENS = 8  # slack for the window header's numbers and tokenizer boundary effects
MAX_UNIT_CHARS = 400  # longer sentences (SOV rows, tables) are split at "; " for quoting
VERIFY_SHARE = 0.85  # share of an answer's content terms that one sentence of the page must hold
MAX_ANSWER_CHARS = 300
HINT_CHARS = 400  # most characters of the candidate sentence shown with a question
# Terms that say nothing about a field's value: an answer made only of these (and the question's words) is an echo.
GENERIC_TERMS = frozenset(("buildi", "insure", "proper", "locati", "facili", "premis", "site", "answer", "unknown"))
_NOT_STATED = re.compile(r"\bnot\s+(?:stated|mentioned|specified|given|provided|available)\b|\bno information\b|"
                         r"\bdoes\s+not\s+(?:state|say|mention|specify)\b|\bunknown\b|^n/?a$", re.IGNORECASE)
_LEAD = re.compile(r"^(?:(?:the\s+)?(?:answer|line|likeliest line)(?:\s+is)?\s*:\s*|a\s*:\s*)+", re.IGNORECASE)
_SUBJECT = re.compile(r"^the\s+[\w\s-]{1,60}?\s(?:is|are|was|were|has|have)\s+(?:an?\s+|the\s+)?", re.IGNORECASE)
_TRAILING_REMARK = re.compile(r",?\s+which\s.*$", re.IGNORECASE)
_PAGE_REF = re.compile(r"[\(\[]?\s*\b(?:page|p\.|pg\.?)\s*(\d{1,4})\s*[\)\]]?", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'\[#])")
_BULLET = re.compile(r"^(?:[-*\u2022]|\d{1,2}[.)])\s")
_RECORD_KEY = re.compile(r";\s+[A-Z][\w #/().%-]{0,40}:\s")
_WORDS = re.compile(r"[^\W_]{2,}")
MIN_QUOTE_WORDS = 3  # a keyword sentence shorter than this is a heading, not a statement
_CONNECTOR_END = (",", ";", "(", "&", "/", "-", "–", " and", " or", " of", " the", " to", " with", " by", " for",
                  " in", " at", " on", " a", " an")

Progress = Callable[["SummaryEvent"], None]


class SummarizeError(RuntimeError):
    """One document cannot be summarized; the message is one line for the user."""


# ---- results ----------------------------------------------------------------------------------


@dataclass
class Item:
    """One statement of a field: its text, the page it comes from and the verbatim sentence behind it."""

    text: str
    page: int
    method: str  # "model" (verified answer), "pattern" or "keywords" (quotes)
    quote: str
    score: float = 0.0
    window: int = 0  # which window of the document it was found in
    position: int = 0  # order of its sentence within the window
    parts: dict[str, str] = field(default_factory=dict)  # named groups of the field's pattern
    location: str = ""  # where the quote sits, finer than the page ("§ 4 Protection, ¶ 2", "rows 2-9")


@dataclass
class FieldResult:
    """A field of a summary: its items, empty when the document does not state it."""

    key: str
    label: str
    kind: str
    group: str = ""
    items: list[Item] = field(default_factory=list)
    more: int = 0  # list items found beyond the template's max_items (counted, not shown)

    @property
    def stated(self) -> bool:
        return bool(self.items)


@dataclass
class DocumentSummary:
    """The summary of one document, with what it took to make it."""

    document: str  # path as ingested
    title: str
    insured_group: str
    content_hash: str
    pages: int
    model: str
    template: str
    template_hash: str
    not_stated: str
    fields: dict[str, FieldResult]
    windows: int = 1
    window_chars: list[int] = field(default_factory=list)  # characters of document text in each window
    document_chars: int = 0  # characters of document text in all (their sum: nothing was cut)
    requests: int = 0
    answers_kept: int = 0  # model answers that passed verification
    answers_dropped: int = 0  # model answers that did not (or said "not stated")
    answers: list[dict[str, Any]] = field(default_factory=list)  # every raw model answer: field, window, kept
    flagged: list[str] = field(default_factory=list)  # passages left out: "page 1: planted instruction (...)"
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    created_at: float = 0.0
    resumed: bool = False  # loaded from the workspace instead of computed (not stored)

    @property
    def file(self) -> str:
        return PurePath(self.document).name

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("resumed")
        data["format_version"] = FORMAT_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentSummary:
        data = dict(data)
        data.pop("format_version", None)
        fields = {}
        for key, raw in data.pop("fields").items():
            raw = dict(raw)
            items = [Item(**item) for item in raw.pop("items")]
            fields[key] = FieldResult(items=items, **raw)
        return cls(fields=fields, **data)


@dataclass(frozen=True)
class SummaryEvent:
    """One step of a batch, for progress displays."""

    kind: str  # "start" (total known), "tokens" (a request finished), "done" (document summarized or resumed), "error"
    path: str = ""
    total: int = 0
    tokens: int = 0
    status: str = ""  # for "done": "summarized" or "resumed"
    reason: str = ""


@dataclass
class SummaryReport:
    """What a batch did."""

    summaries: list[DocumentSummary] = field(default_factory=list)  # in document path order
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, one-line reason)
    seconds: float = 0.0

    @property
    def resumed(self) -> int:
        return sum(1 for summary in self.summaries if summary.resumed)

    @property
    def summarized(self) -> int:
        return len(self.summaries) - self.resumed

    def tokens(self) -> tuple[int, int, int]:
        """(prompt, cached, completion) tokens of the summaries computed in this run."""
        fresh = [s for s in self.summaries if not s.resumed]
        return (sum(s.prompt_tokens for s in fresh), sum(s.cached_tokens for s in fresh),
                sum(s.completion_tokens for s in fresh))

    def summary(self) -> str:
        prompt, cached, completion = self.tokens()
        return (f"{self.summarized} summarized, {self.resumed} already done, {len(self.failed)} failed; "
                f"{prompt + completion} tokens ({cached} prompt tokens reused) in {self.seconds:.1f} s")


@dataclass(frozen=True)
class Job:
    """A document to summarize: its store record's facts and the insured it belongs to."""

    path: str
    title: str
    content_hash: str
    pages: int
    insured_group: str


# ---- pages, sentences, windows ------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Document text in order: a chunk without the overlap that the next chunk repeats (or a split part)."""

    page: int
    text: str
    joiner: str = "\n"  # how it attaches to the piece before it on the same page ("" after a cut overlap)


def locate_items(summary: DocumentSummary, chunks: Sequence[Chunk]) -> None:
    """Give each statement the location of the chunk its quote comes from (on its page), for the report."""
    from assistant.grounding.sources import location_of

    visible = [chunk for chunk in chunks if not chunk.flags]
    flat = {chunk.id: " ".join(chunk.text.split()).lower() for chunk in visible}
    for result in summary.fields.values():
        for item in result.items:
            quote = " ".join(item.quote.split()).lower()[:80]
            found = next((chunk for chunk in visible if chunk.page == item.page and quote and quote in flat[chunk.id]),
                         None)
            if found is not None:
                item.location = location_of(found)


def pieces_of(chunks: Sequence[Chunk]) -> list[Piece]:
    """The chunks' text with every overlap counted once: each chunk loses the tail its successor repeats.
    Flagged chunks (hidden text, planted instructions: `Chunk.flags`) are not the document's visible text."""
    ordered = sorted((chunk for chunk in chunks if not chunk.flags), key=Chunk.sort_key)
    pieces: list[Piece] = []
    joiner = "\n"
    for index, chunk in enumerate(ordered):
        text = chunk.text.strip()
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        next_joiner = "\n"
        if following is not None and following.page == chunk.page:
            cut = overlap_start(text, following.text.strip())
            if cut is not None:
                text, next_joiner = text[:cut], ""
        if text.strip():
            pieces.append(Piece(chunk.page, text, joiner))
        joiner = next_joiner
    return pieces


def split_piece(piece: Piece) -> list[Piece]:
    """Two halves of a piece, cut at a line break (else a space) near its middle; no character is lost."""
    text = piece.text
    middle = len(text) // 2
    cut = -1
    for separator in ("\n", " "):
        before, after = text.rfind(separator, 0, middle), text.find(separator, middle)
        options = [i for i in (before, after) if 0 < i < len(text) - 1]
        if options:
            cut = min(options, key=lambda i: abs(i - middle))
            break
    if cut <= 0:
        cut = middle
    if cut <= 0 or cut >= len(text):
        raise SummarizeError("a piece of the document cannot be split further to fit the context window")
    return [Piece(piece.page, text[:cut], piece.joiner), Piece(piece.page, text[cut:], "")]


def page_texts(pieces: Sequence[Piece]) -> dict[int, str]:
    """The text of each page the pieces cover, in page order."""
    pages: dict[int, str] = {}
    for piece in pieces:
        pages[piece.page] = pages[piece.page] + piece.joiner + piece.text if piece.page in pages else piece.text
    return pages


def sentences(text: str) -> list[str]:
    """Sentences of a page: wrapped lines joined back, split at sentence ends; long ones split at "; "."""
    logical: list[str] = []
    blank = True
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            blank = True
            continue
        if logical and not blank and _continues(logical[-1], raw, line):
            logical[-1] += " " + line
        else:
            logical.append(line)
        blank = False
    units: list[str] = []
    for line in logical:
        for sentence in _SENTENCE_BREAK.split(line):
            units.extend(_short_units(sentence.strip()))
    return [unit for unit in units if unit]


def _continues(previous: str, raw: str, line: str) -> bool:
    """Whether a line carries on the line before it (a wrapped sentence or table cell)."""
    if _BULLET.match(line) or previous.endswith((".", "!", "?", ":")):
        return False
    if previous.count("(") > previous.count(")"):
        return True
    first = next((ch for ch in line if ch.isalpha()), "")
    return first.islower() or raw[:2] == "  " or previous.endswith(_CONNECTOR_END)


def _short_units(sentence: str) -> list[str]:
    """A sentence as quotable units: a record of `Key: value;` pairs (an SOV row) splits into its pairs,
    an over-long sentence at "; "."""
    if len(_RECORD_KEY.findall(sentence)) >= 2:
        return [part.strip() for part in re.split(r"(?<=;)\s+", sentence) if part.strip()]
    if len(sentence) <= MAX_UNIT_CHARS:
        return [sentence]
    parts = re.split(r"(?<=;)\s+", sentence)
    units: list[str] = []
    for part in parts:
        if units and len(units[-1]) + 1 + len(part) <= MAX_UNIT_CHARS:
            units[-1] += " " + part
        else:
            units.append(part)
    return units


def collapse(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Window:
    """A part of a document that fits the model's context, with its pages split into sentences."""

    index: int
    pieces: list[Piece]
    pages: dict[int, str] = field(init=False)
    units: dict[int, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.pages = page_texts(self.pieces)
        self.units = {page: sentences(text) for page, text in self.pages.items()}

    @property
    def chars(self) -> int:
        return sum(len(piece.text) for piece in self.pieces)


def document_block(name: str, pieces: Sequence[Piece], part: str, special_tokens: Sequence[str] = ()) -> str:
    """The delimited document text of a window, each page headed by [page N]."""
    lines = [f'<document file="{neutralize(name, special_tokens)}" part="{part}">']
    for page, text in page_texts(pieces).items():
        lines += [f"[page {page}]", neutralize(text, special_tokens)]
    lines.append("</document>")
    return "\n".join(lines)


def field_messages(instructions: str, block: str, question: str, hint: Item | None = None,
                   special_tokens: Sequence[str] = ()) -> list[dict[str, str]]:
    """One request: the shared instructions, the window's text, then the question and the window's likeliest
    sentence for it (a small model answers far more often from the line in front of it)."""
    ask = f"Question: {question}"
    if hint is not None:
        quote = neutralize(hint.quote[:HINT_CHARS], special_tokens)
        ask += f"\nThe likeliest line (page {hint.page}): {quote}\nAnswer from that line, then the page."
    return [{"role": "system", "content": instructions}, {"role": "user", "content": f"{block}\n\n{ask}"}]


# ---- candidates, answers, verification ---------------------------------------------------------


def candidates(spec: FieldSpec, window: Window) -> list[Item]:
    """Verbatim quotes of the window about the field: pattern matches and keyword sentences."""
    found: list[Item] = []
    position = 0
    for page, units in window.units.items():
        for unit in units:
            position += 1
            score = spec.keyword_score(unit)
            matchable = not spec.require_keyword or score > 0
            if spec.pattern is not None and spec.pattern_scope == "sentence" and matchable:
                for match in spec.pattern.finditer(unit):
                    found.append(_pattern_item(spec, match, page, unit, score, window.index, position))
            if score > 0 and spec.sentences and len(_WORDS.findall(unit)) >= MIN_QUOTE_WORDS:
                label = 1.0 if any(regex.match(unit) for regex in spec.keyword_regexes) else 0.0  # "Occupancy: ..."
                text = _BULLET.sub("", unit).rstrip(";, ")
                found.append(Item(text, page, "keywords", unit, score + label, window.index, position))
        if spec.pattern is not None and spec.pattern_scope == "page":
            for match in spec.pattern.finditer(window.pages[page]):
                position += 1
                quote = collapse(match.group(0))
                score = spec.keyword_score(quote)
                found.append(_pattern_item(spec, match, page, quote, score, window.index, position))
    return [item for item in found if item.text]


def _pattern_item(spec: FieldSpec, match: re.Match[str], page: int, quote: str, score: int, window: int,
                  position: int) -> Item:
    groups = {key: collapse(value).strip(" ,;:") for key, value in match.groupdict().items() if value is not None}
    text = groups.pop("value", None) or collapse(match.group(0))
    if spec.display:
        with contextlib.suppress(KeyError, IndexError, ValueError):  # a group missing from this match: verbatim
            text = spec.display.format(**groups)
    return Item(text.strip(" ,;:-"), page, "pattern", quote, score + 2.0, window, position, groups)


def parse_answer(text: str, not_stated: str = "not stated") -> tuple[str | None, int | None]:
    """(value, cited page) of a model answer; value None when the answer is empty or says not stated."""
    line = next((part.strip() for part in text.strip().splitlines() if part.strip()), "")
    line = _LEAD.sub("", line)
    pages = [int(m.group(1)) for m in _PAGE_REF.finditer(line)]
    value = _PAGE_REF.sub("", line)
    value = value.strip().strip("\"'*`").strip(" ,;:-").strip()
    value = re.sub(r"\s+", " ", value).rstrip(".").strip()
    if not value or value.lower() == not_stated.lower() or _NOT_STATED.search(value):
        return None, pages[-1] if pages else None
    return value[:MAX_ANSWER_CHARS], (pages[-1] if pages else None)


def answer_forms(value: str) -> list[str]:
    """The answer as it may be shown, shortest first: without a leading "The ... is" clause or a trailing
    ", which ..." remark, then as written."""
    forms = [value]
    core = _TRAILING_REMARK.sub("", value)
    stripped = _SUBJECT.sub("", core, count=1)
    for form in (core, stripped):
        form = form.strip(" ,;:-.")
        if form and form not in forms:
            forms.insert(0, form)
    return forms


def verify_answer(value: str, cited: int | None, spec: FieldSpec, window: Window,
                  quotes: Sequence[Item] = ()) -> Item | None:
    """The answer as an item when one sentence of the cited page (else of another page of the window, which
    is then cited) bears it out, None otherwise.

    Borne out: the sentence holds every figure of the answer and `VERIFY_SHARE` of its content terms, and
    the answer is about the field: it names one of the field's keywords, or its sentence is labelled with
    one ("Occupancy: ..."), or it is part of a pattern match of the field (`quotes`). An answer that only
    repeats the question is never kept."""
    matched = [terms(item.text) for item in quotes if item.method == "pattern"]
    about_field = spec.keyword_score(value) > 0
    order = ([cited] if cited in window.units else []) + [p for p in window.units if p != cited]
    for form in answer_forms(value):
        claim = terms(form)
        informative = claim - terms(spec.question) - GENERIC_TERMS
        stated = facts(form)  # figures, dates and identifiers: each must be in the sentence (verification's rule)
        if len(informative) < 2 and stated.empty:
            continue  # empty, a lone word, or only the question's words
        in_match = any(claim <= match for match in matched)
        for page in order:
            best: tuple[float, int, int] | None = None
            best_unit = ""
            for unit in window.units[page]:
                unit_terms = terms(unit)
                if not stated.empty and fact_disagreements(stated, facts(unit)):
                    continue
                share = len(claim & unit_terms) / len(claim)
                labelled = any(regex.match(unit) for regex in spec.keyword_regexes)
                if share < VERIFY_SHARE or not (about_field or labelled or in_match):
                    continue
                rank = (share, spec.keyword_score(unit), -len(unit))
                if best is None or rank > best:
                    best, best_unit = rank, unit
            if best is not None:
                position = next(i for i, u in enumerate(_window_units(window), 1) if u == (page, best_unit))
                return Item(form, page, "model", best_unit, best[1] + 2.5, window.index, position)
    return None


def _window_units(window: Window) -> list[tuple[int, str]]:
    return [(page, unit) for page, units in window.units.items() for unit in units]


def normalized(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _rank(item: Item) -> tuple[float, bool, int, int, int]:
    """Best first: highest score, then a concise statement, then the earliest."""
    return (-item.score, len(item.text) > 200, item.window, item.page, item.position)


def reduce_field(spec: FieldSpec, found: Sequence[Item]) -> FieldResult:
    """The field's result from every window's items: the best one (text) or every distinct one (list)."""
    result = FieldResult(spec.key, spec.label, spec.kind, spec.group)
    items = list(found)
    if not items:
        return result

    if spec.pattern is not None and spec.pattern_only and any(item.method == "pattern" for item in items):
        items = [item for item in items if item.method != "keywords"]  # the pattern's matches (and verified answers)
    if spec.kind == "text":
        result.items = [min(items, key=_rank)]
        return result
    kept: list[Item] = []
    for item in sorted(items, key=lambda i: (-len(normalized(i.text)), _rank(i))):
        key = normalized(item.text)
        if not key or any(key in normalized(other.text) for other in kept):
            continue  # the same statement (or a part of a longer one already kept)
        kept.append(item)
    kept.sort(key=_rank)
    result.items = sorted(kept[: spec.max_items], key=lambda i: (i.window, i.page, i.position))
    result.more = max(0, len(kept) - spec.max_items)
    return result


# ---- the resume store ---------------------------------------------------------------------------


class SummaryStore:
    """Summaries in the workspace: one JSON file per key, written atomically (temporary file, rename)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @staticmethod
    def key(content_hash: str, model: str, template_hash: str, context_tokens: int, answer_tokens: int) -> str:
        raw = json.dumps([FORMAT_VERSION, content_hash, model, template_hash, context_tokens, answer_tokens])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> DocumentSummary | None:
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
            if data.get("format_version") != FORMAT_VERSION:
                return None
            return DocumentSummary.from_dict(data)
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing or unreadable: summarize again

    def save(self, key: str, summary: DocumentSummary) -> None:
        write_atomic(self.path(key), json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))


# ---- the summarizer -----------------------------------------------------------------------------


class Summarizer:
    """Summarizes documents with one engine and one template; see the module docstring."""

    def __init__(self, engine: Engine, template: SummaryTemplate, store: SummaryStore, *,
                 max_tokens: int | None = None, max_context_tokens: int | None = None, concurrency: int = 4,
                 special_tokens: Sequence[str] = ()) -> None:
        self.engine = engine
        self.template = template
        self.store = store
        self.max_tokens = max_tokens or template.answer_tokens
        window = engine.context_window
        self.context_tokens = min(max_context_tokens, window) if max_context_tokens else window
        self.concurrency = max(1, concurrency)
        self.special_tokens = list(special_tokens)
        self._model_id: str | None = None
        self._count_lock = threading.Lock()  # tokenizers are not safe for concurrent calls

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        with self._count_lock:
            return self.engine.count_tokens(messages)

    @property
    def model_id(self) -> str:
        if self._model_id is None:
            self._model_id = self.engine.model_id()
        return self._model_id

    def workers(self) -> int:
        """Parallel documents: the embedded engine runs one generation at a time (and interleaving would only
        evict its cached prefixes), so it gets one; a server gets `concurrency`."""
        return 1 if getattr(self.engine, "name", "") == "embedded" else self.concurrency

    def run(self, jobs: Sequence[Job], chunks_of: Callable[[str], list[Chunk]], *, force: bool = False,
            progress: Progress | None = None) -> SummaryReport:
        """Summarize `jobs` (resuming stored summaries unless `force`); a failure costs only its document."""
        emit = progress or (lambda event: None)
        started = time.perf_counter()
        report = SummaryReport()
        emit(SummaryEvent("start", total=len(jobs)))
        lock = threading.Lock()
        results: dict[str, DocumentSummary] = {}

        def one(job: Job) -> None:
            try:
                summary = self.summarize_job(job, chunks_of, force=force, emit=emit)
            except (SummarizeError, EngineError) as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
            except Exception as exc:  # a bug or an odd document: report it, go on with the others
                reason = " ".join(f"{type(exc).__name__}: {exc}".split())
            else:
                with lock:
                    results[job.path] = summary
                emit(SummaryEvent("done", path=job.path, status="resumed" if summary.resumed else "summarized"))
                return
            with lock:
                report.failed.append((job.path, reason))
            emit(SummaryEvent("error", path=job.path, reason=reason))

        ordered = sorted(jobs, key=lambda job: job.path)
        if self.workers() == 1 or len(ordered) <= 1:
            for job in ordered:
                one(job)
        else:
            pool = ThreadPoolExecutor(max_workers=self.workers(), thread_name_prefix="summarize")
            try:
                for future in [pool.submit(one, job) for job in ordered]:  # submitted in path order
                    future.result()
            finally:
                # Ctrl-C: documents not started are dropped (what finished is stored and resumes next time).
                pool.shutdown(wait=True, cancel_futures=True)
        report.summaries = [results[job.path] for job in ordered if job.path in results]
        report.failed.sort()
        report.seconds = time.perf_counter() - started
        return report

    def resume_key(self, job: Job) -> str:
        return SummaryStore.key(job.content_hash, self.model_id, self.template.hash, self.context_tokens,
                                self.max_tokens)

    def summarize_job(self, job: Job, chunks_of: Callable[[str], list[Chunk]], *, force: bool = False,
                      emit: Progress | None = None) -> DocumentSummary:
        key = self.resume_key(job)
        if not force:
            stored = self.store.load(key)
            if stored is not None:
                stored.document, stored.title, stored.insured_group = job.path, job.title, job.insured_group
                stored.resumed = True
                return stored
        chunks = chunks_of(job.path)
        if not chunks:
            raise SummarizeError("no text to summarize (the document has no chunks in the index)")
        # Flagged passages (planted instructions, hidden text) are never read into a summary; the summary says so.
        flagged = [chunk for chunk in chunks if is_flagged(chunk.flags)]
        chunks = [chunk for chunk in chunks if not is_flagged(chunk.flags)]
        if not chunks:
            raise SummarizeError("every passage of the document is flagged (planted instructions or hidden text)")
        summary = self.summarize_document(job, chunks, emit=emit)
        summary.flagged = [f"{location_of(chunk)}: {describe(chunk.flags)}" for chunk in flagged]
        locate_items(summary, chunks)
        self.store.save(key, summary)
        return summary

    # ---- one document -----------------------------------------------------------------------------

    def plan_windows(self, name: str, pieces: Sequence[Piece]) -> list[Window]:
        """Consecutive pieces grouped into windows that fit the context; oversize pieces are split."""
        questions = [spec.question for spec in self.template.fields if spec.method == "model"] or [""]
        longest = max(questions, key=len)
        hint = Item("", 9999, "keywords", "x " * (HINT_CHARS // 2)) if any(questions) else None  # room for any hint
        limit = self.context_tokens - self.max_tokens - SAFETY_TOKENS
        empty = self.count_tokens(field_messages(self.template.instructions,
                                                        document_block(name, [], "99 of 99"), longest, hint))
        if empty >= limit:
            raise SummarizeError(f"the instructions and questions alone take {empty} tokens: no room for the "
                                 f"document in a context of {self.context_tokens} tokens")

        def fits(group: Sequence[Piece]) -> bool:
            block = document_block(name, group, "99 of 99", self.special_tokens)
            return self.count_tokens(field_messages(self.template.instructions, block, longest, hint)) <= limit

        queue = list(pieces)
        groups: list[list[Piece]] = []
        current: list[Piece] = []
        while queue:
            piece = queue.pop(0)
            if fits([*current, piece]):
                current.append(piece)
                continue
            if current:
                groups.append(current)
                current = []
                queue.insert(0, piece)
                continue
            queue[:0] = split_piece(piece)  # alone it does not fit: halve it (nothing is dropped)
        if current:
            groups.append(current)
        return [Window(index, group) for index, group in enumerate(groups)]

    def summarize_document(self, job: Job, chunks: Sequence[Chunk], emit: Progress | None = None) -> DocumentSummary:
        """Map every window (candidates, verified model answers), then reduce per field."""
        emit = emit or (lambda event: None)
        started = time.perf_counter()
        name = PurePath(job.path).name
        pieces = pieces_of(chunks)
        windows = self.plan_windows(name, pieces)
        summary = DocumentSummary(
            document=job.path, title=job.title, insured_group=job.insured_group, content_hash=job.content_hash,
            pages=job.pages, model=self.model_id, template=self.template.name, template_hash=self.template.hash,
            not_stated=self.template.not_stated, fields={}, windows=len(windows),
            window_chars=[window.chars for window in windows], document_chars=sum(len(p.text) for p in pieces),
            created_at=time.time(),
        )
        found: dict[str, list[Item]] = {spec.key: [] for spec in self.template.fields}
        for window in windows:
            block = document_block(name, window.pieces, f"{window.index + 1} of {len(windows)}", self.special_tokens)
            for spec in self.template.fields:
                quotes = candidates(spec, window)
                found[spec.key].extend(quotes)
                if spec.method != "model" or not quotes:
                    continue  # the window does not mention the field: nothing to ask
                answer = self._ask(spec, window, block, quotes, summary, job.path, emit)
                if answer is not None:
                    found[spec.key].append(answer)
        summary.fields = {spec.key: reduce_field(spec, found[spec.key]) for spec in self.template.fields}
        summary.seconds = time.perf_counter() - started
        return summary

    def _ask(self, spec: FieldSpec, window: Window, block: str, quotes: list[Item], summary: DocumentSummary,
             path: str, emit: Progress) -> Item | None:
        hint = min(quotes, key=_rank)
        messages = field_messages(self.template.instructions, block, spec.question, hint, self.special_tokens)
        request = GenerationRequest(messages, max_tokens=self.max_tokens, temperature=0.0, stop=["\n"])
        text, usage = generate(self.engine, request)
        summary.requests += 1
        summary.prompt_tokens += usage.prompt_tokens
        summary.cached_tokens += usage.cached_tokens
        summary.completion_tokens += usage.completion_tokens
        emit(SummaryEvent("tokens", path=path, tokens=usage.prompt_tokens + usage.completion_tokens))
        value, cited = parse_answer(text, self.template.not_stated)
        item = verify_answer(value, cited, spec, window, quotes) if value else None
        if item is not None:
            # An answer that is only part of a pattern match says less than the match: rank it below.
            claim = terms(item.text)
            covering = [q.score for q in quotes if q.method == "pattern" and claim <= terms(q.text)]
            if covering:
                item.score = min(item.score, max(covering) - 0.5)
        if item is None:
            summary.answers_dropped += 1
        else:
            summary.answers_kept += 1
        summary.answers.append({"field": spec.key, "window": window.index, "answer": text.strip()[:MAX_ANSWER_CHARS],
                                "kept": item is not None})
        return item


# ---- which documents, and whose ------------------------------------------------------------------


def insured_group(path: str, root: str | None) -> str:
    """The insured a document belongs to: the first folder under the root it was found from, or, for a
    document directly in the root (or given by itself), the name of the folder that holds it."""
    parent = os.path.dirname(path)
    if root:
        try:
            relative = Path(path).relative_to(root)
        except ValueError:
            relative = None
        if relative is not None and len(relative.parts) >= 2:
            return relative.parts[0]
    return os.path.basename(parent) or parent


def common_root(paths: Sequence[str]) -> str | None:
    """The deepest folder holding every path (the root of `--all`)."""
    if not paths:
        return None
    try:
        return os.path.commonpath([os.path.dirname(p) for p in paths])
    except ValueError:
        return None


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip(os.sep) + os.sep)


def select_jobs(records: Sequence[Any], roots: Sequence[str] | None) -> list[Job]:
    """Jobs for the stored documents (`DocumentRecord`s) under `roots` (files or folders, absolute), each with
    its insured group; `roots` None takes every record, grouped under their common folder."""
    chosen: dict[str, tuple[Any, str | None]] = {}
    if roots is None:
        root = common_root([record.path for record in records])
        chosen = {record.path: (record, root) for record in records}
    else:
        for root in roots:
            for record in records:
                if record.path in chosen:
                    continue
                if record.path == root:
                    chosen[record.path] = (record, None)
                elif _under(record.path, root):
                    chosen[record.path] = (record, root)
    return [Job(record.path, record.title, record.content_hash, record.pages, insured_group(record.path, root))
            for record, root in (chosen[path] for path in sorted(chosen))]

"""Batch summaries: one summary per document (or per insured), each a view of its submission's profile.

A summary extracts nothing itself. For the documents asked for:

1. Each document's submission (the folder it lies in) is profiled once (`assistant.profile`): tables and
   prose patterns, then, with a model (`reader`), the descriptive fields the patterns left unstated, each
   chosen from the location's sentences under a JSON schema and kept only when verified against its
   sentence. The profile is stored in the workspace and reused until a document of the submission changes
   (or `force`), so a re-run is a resume.
2. The summary of a document is what the profile read from that document, in the template's fields and
   labels (`assistant.summaries.template`): every statement with its file, page, finer location (sheet and
   rows, section and paragraph) and verbatim quote, and how it was read (a table row, a sentence, the
   model). A per-insured report merges its documents' statements (`assistant.summaries.output`).
3. Passages flagged at ingest (planted instructions, hidden text) are never read into a profile; the
   summary names them.

Insured: a document belongs to the first folder under the path it was summarized from (`sample_docs/`
-> `harbor-foods`), or, given by itself or directly in that path, to the folder that holds it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import Any

from assistant.grounding.sources import location_of
from assistant.profile.model import Profile, Source, Sourced
from assistant.profile.output import show
from assistant.profile.prose_model import Asked
from assistant.profile.service import ModelReader, ProfileService
from assistant.summaries.template import FieldSpec, SummaryTemplate
from index.planted import describe, is_flagged
from index.types import Chunk, Submission

FORMAT_VERSION = 3  # of the summaries' JSON shape

Progress = Callable[["SummaryEvent"], None]


class SummarizeError(RuntimeError):
    """One document cannot be summarized; the message is one line for the user."""


# ---- results ----------------------------------------------------------------------------------


@dataclass
class Item:
    """One statement of a field: its text, the page it comes from and the verbatim quote behind it."""

    text: str
    page: int
    method: str  # how the profile read it: "table" (a row), "text" (a sentence), "model" (verified choice)
    quote: str
    location: str = ""  # where the quote sits, finer than the page ("§ 4 Protection, ¶ 2", "sheet SOV row 4")
    parts: dict[str, str] = field(default_factory=dict)  # the statement's parts (a claim's date, cause, paid)


@dataclass
class FieldResult:
    """A field of a summary: its items, empty when the document does not state it."""

    key: str
    label: str
    kind: str
    group: str = ""
    items: list[Item] = field(default_factory=list)
    more: int = 0  # items beyond the template's max_items (counted, not shown)
    empty: str = ""  # what the field reads when it has no item ("" : the template's not_stated)

    @property
    def stated(self) -> bool:
        return bool(self.items)


@dataclass
class DocumentSummary:
    """The summary of one document: what its submission's profile read from it."""

    document: str  # path as ingested
    title: str
    insured_group: str
    content_hash: str
    pages: int
    model: str  # the model that read descriptive fields ("" when the profile used none)
    template: str
    template_hash: str
    not_stated: str
    fields: dict[str, FieldResult]
    submission: str = ""
    role: str = ""  # the document's role in the submission: sov, loss_run, inspection, broker, notes, guideline
    flagged: list[str] = field(default_factory=list)  # passages left out: "page 1: planted instruction (...)"
    requests: int = 0  # model requests made for the submission's profile in this run
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    created_at: float = 0.0
    resumed: bool = False  # its profile was reused from the workspace

    @property
    def file(self) -> str:
        return PurePath(self.document).name

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["format_version"] = FORMAT_VERSION
        return data


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
        """(prompt, cached, completion) tokens of the profiles made in this run."""
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


# ---- statements from the profile -------------------------------------------------------------------


def _item(text: str, source: Source, method: str, parts: dict[str, str] | None = None) -> Item:
    return Item(text, source.page, method, source.quote, source.location, dict(parts or {}))


def _from(source: Source | None, document: str) -> bool:
    return source is not None and source.file == document


def _location_label(profile: Profile, number: str) -> str:
    location = profile.location(number)
    name = location.name if location is not None else ""
    if len(profile.locations) <= 1 and not name:
        return ""
    return f"Location {number}{f' ({name})' if name else ''}: "


def statements(profile: Profile, spec: FieldSpec, document: str) -> list[Item]:
    """The field's statements that `document` is the source of, in the profile's order."""
    source, _, key = spec.source.partition(".")
    found: list[Item] = []
    if source == "location":
        for location in profile.locations:
            value = location.fields.get(key)
            readings = [r for r in (value.readings if value is not None else []) if _from(r.source, document)]
            for reading in readings[:1] if spec.kind == "text" else readings:
                text = _location_label(profile, location.number) + show(key, reading.value)
                found.append(_item(text, reading.source, reading.method, {"location": location.number}))
    elif source == "totals":
        total = profile.totals.get(key)
        if total is not None and _from(total.source, document):
            found.append(_item(show(key, total.value), total.source, total.method))
    elif source in ("insured", "effective_date", "valuation_date"):
        sourced: Sourced | None = getattr(profile, source)
        if sourced is not None and _from(sourced.source, document):
            found.append(_item(show(source, sourced.value), sourced.source, sourced.method))
    elif source == "premium":
        for term, sourced in profile.premium.items():
            if _from(sourced.source, document):
                found.append(_item(f"{term}: {show('premium', sourced.value)}", sourced.source, sourced.method))
    elif source == "locations":
        for location in profile.locations:
            address = location.sourced("address")
            if address is not None and _from(address.source, document):
                label = f"{location.number}. {location.name} - " if location.name else f"{location.number}. "
                found.append(_item(label + str(address.value), address.source, address.method,
                                   {"location": location.number}))
    elif source == "claims":
        found += [_claim_item(claim) for claim in profile.claims if _from(claim.source, document)]
    elif source == "recommendations":
        for rec in profile.recommendations:
            status_here = _from(rec.status_source, document)
            if not (_from(rec.source, document) or status_here):
                continue
            where = rec.status_source if status_here and not _from(rec.source, document) else rec.source
            detail = "; ".join(part for part in (rec.priority, rec.status) if part)
            text = f"{rec.number}. {rec.text}" + (f" ({detail})" if detail else "")
            found.append(_item(text, where, "table" if "|" in where.quote else "text",
                               {"number": rec.number, "priority": rec.priority, "status": rec.status}))
    elif source == "requests":
        for request in profile.requests:
            if _from(request.source, document):
                amounts = [f"{label} {show('premium', amount)}" for label, amount in (
                    ("limit", request.limit), ("sublimit", request.sublimit), ("deductible", request.deductible))
                           if amount is not None]
                text = request.coverage + (f": {', '.join(amounts)}" if amounts else "")
                found.append(_item(text, request.source, "table" if "|" in request.source.quote else "text"))
    elif source == "conflicts":
        for conflict in profile.conflicts:
            mine = next((r for r in conflict.readings if _from(r.source, document)), None)
            if mine is not None and mine.source is not None:
                found.append(_item(conflict.summary, mine.source, mine.method,
                                   {"field": conflict.field, "location": conflict.location}))
    return found


def _claim_item(claim: Any) -> Item:
    money = [f"{label} {show('paid', amount)}" for label, amount in (
        ("paid", claim.paid), ("reserve", claim.reserve), ("incurred", claim.incurred)) if amount is not None]
    head = claim.date_of_loss.isoformat() if claim.date_of_loss else (claim.claim_number or "undated")
    text = f"{head}: {claim.cause or 'cause not stated'}" + (f" ({claim.status})" if claim.status else "")
    if money:
        text += "; " + ", ".join(money)
    parts = {"claim_number": claim.claim_number, "date": head if claim.date_of_loss else "", "cause": claim.cause,
             "status": claim.status, "line": claim.line, "location": claim.location,
             **{label: show("paid", getattr(claim, label)) for label in ("paid", "reserve", "incurred")
                if getattr(claim, label) is not None}}
    return _item(text, claim.source, "table" if "|" in claim.source.quote else "text",
                 {key: value for key, value in parts.items() if value})


def view_of(profile: Profile, template: SummaryTemplate, document: str) -> dict[str, FieldResult]:
    """The template's fields for one document of the profile's submission."""
    results = {}
    for spec in template.fields:
        items = statements(profile, spec, document)
        results[spec.key] = FieldResult(spec.key, spec.label, spec.kind, spec.group, items[:spec.max_items],
                                        max(0, len(items) - spec.max_items), spec.empty)
    return results


# ---- the summarizer -----------------------------------------------------------------------------


class Summarizer:
    """Summarizes documents as views of their submissions' profiles; see the module docstring."""

    def __init__(self, profiles: ProfileService, template: SummaryTemplate, reader: ModelReader | None = None) -> None:
        self.profiles = profiles
        self.template = template
        self.reader = reader

    def run(self, jobs: Sequence[Job], chunks_of: Callable[[str], list[Chunk]], *, force: bool = False,
            progress: Progress | None = None) -> SummaryReport:
        """Summarize `jobs` (reusing stored profiles unless `force`); a failure costs only its submission."""
        emit = progress or (lambda event: None)
        started = time.perf_counter()
        report = SummaryReport()
        emit(SummaryEvent("start", total=len(jobs)))
        ordered = sorted(jobs, key=lambda job: job.path)
        by_document = {path: submission for submission in self.profiles.submissions()
                       for path in submission.documents}
        groups: dict[str, tuple[Submission | None, list[Job]]] = {}
        for job in ordered:
            submission = by_document.get(job.path)
            name = submission.folder if submission is not None else job.path
            groups.setdefault(name, (submission, []))[1].append(job)
        results: dict[str, DocumentSummary] = {}
        for submission, members in groups.values():
            if submission is None:
                for job in members:
                    self._failed(report, emit, job.path, "the document is not in the index")
                continue
            try:
                made = self._summarize(submission, members, chunks_of, force=force, emit=emit)
            except Exception as exc:  # a bug or an odd document: report it, go on with the other submissions
                reason = " ".join(f"{type(exc).__name__}: {exc}".split())
                for job in members:
                    self._failed(report, emit, job.path, reason)
                continue
            for summary in made:
                results[summary.document] = summary
                emit(SummaryEvent("done", path=summary.document,
                                  status="resumed" if summary.resumed else "summarized"))
        report.summaries = [results[job.path] for job in ordered if job.path in results]
        report.failed.sort()
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _failed(report: SummaryReport, emit: Progress, path: str, reason: str) -> None:
        report.failed.append((path, reason))
        emit(SummaryEvent("error", path=path, reason=reason))

    def _counting(self, emit: Progress, path: str) -> ModelReader | None:
        """The model reader, reporting each request's tokens as progress."""
        reader = self.reader
        if reader is None:
            return None

        def ask(messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> Asked:
            asked = reader.ask(messages, schema, name)
            emit(SummaryEvent("tokens", path=path, tokens=asked.prompt_tokens + asked.completion_tokens))
            return asked

        return ModelReader(reader.model, ask)

    def _summarize(self, submission: Submission, jobs: Sequence[Job], chunks_of: Callable[[str], list[Chunk]], *,
                   force: bool, emit: Progress) -> list[DocumentSummary]:
        started = time.perf_counter()
        profile, reused = self.profiles.profile(submission, force=force, reader=self._counting(emit, jobs[0].path))
        seconds = time.perf_counter() - started
        use = profile.model_use if not reused else {}
        made = []
        for index, job in enumerate(jobs):
            chunks = chunks_of(job.path)
            if not chunks:
                raise SummarizeError(f"{job.path}: no text to summarize (the document has no chunks in the index)")
            first = index == 0  # the profile's model requests are counted once, on its first document
            made.append(DocumentSummary(
                document=job.path, title=job.title, insured_group=job.insured_group, content_hash=job.content_hash,
                pages=job.pages, model=profile.model, template=self.template.name,
                template_hash=self.template.hash, not_stated=self.template.not_stated,
                fields=view_of(profile, self.template, job.path), submission=profile.submission,
                role=profile.roles.get(job.path, ""),
                flagged=[f"{location_of(chunk)}: {describe(chunk.flags)}" for chunk in chunks
                         if is_flagged(chunk.flags)],
                requests=use.get("requests", 0) if first else 0,
                prompt_tokens=use.get("prompt_tokens", 0) if first else 0,
                cached_tokens=use.get("cached_tokens", 0) if first else 0,
                completion_tokens=use.get("completion_tokens", 0) if first else 0,
                seconds=seconds if first else 0.0, created_at=time.time(), resumed=reused))
        return made


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

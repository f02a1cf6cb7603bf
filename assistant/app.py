"""The application core: the one composition root the CLI and the UI call.

Built from settings; every heavy part (embedder, store, engine) is created on
first use, so `assistant --help` and light commands stay instant.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from assistant.answering.pipeline import Answerer, Conversation, Message
    from assistant.answering.types import Answer, FlaggedSource
    from assistant.audit import AnswerEvent, AuditLog
    from assistant.engines.base import Engine
    from assistant.evaluation import EvalReport
    from assistant.grounding.evidence import EvidenceRanker
    from assistant.profile.model import Profile
    from assistant.profile.rules import CheckReport
    from assistant.profile.service import ModelReader, ProfileRun, ProfileService
    from assistant.summaries.summarizer import Progress as SummaryProgress
    from assistant.summaries.summarizer import SummaryReport
    from assistant.tuning.service import DatasetBuildResult
    from finetune.qlora import TrainConfig, TrainResult
    from finetune.quantize import QuantizeConfig, QuantizeResult
    from index.embeddings import Embedder
    from index.ingest import IngestReport, Progress
    from index.retriever import Retriever
    from index.store import DocumentRecord, Store, StoreStats
    from index.types import Chunk, ScoredChunk, Submission


class Assistant:
    """Ingest, search and the rest of the product over one workspace."""

    def __init__(self, settings: Settings, *, embedder: Embedder | None = None, engine: Engine | None = None,
                 store: Store | None = None) -> None:
        """Parts given in are used as they are (a shared embedder or engine, a store opened elsewhere); the rest
        are built from `settings` on first use."""
        self.settings = settings
        for name, part in (("embedder", embedder), ("engine", engine), ("store", store)):
            if part is not None:
                self.__dict__[name] = part  # the cached property's value: given, not built

    # ---- parts ------------------------------------------------------------------------------

    @cached_property
    def embedder(self) -> Embedder:
        from index.embeddings import Embedder

        s = self.settings
        return Embedder(s.embedding_model, batch_size=s.embed_batch_size, dtype=s.embed_dtype,
                        backend=s.embedding_backend, cache_dir=s.models_dir)

    @cached_property
    def store(self) -> Store:
        """The writable store (created if missing)."""
        from index.store import Store

        s = self.settings
        return Store(s.db_path, s.faiss_path, approximate_from=s.approximate_index_chunks, nprobe=s.ivf_nprobe)

    @cached_property
    def reader(self) -> Store:
        """A read-only view of the store: never takes the writer lock, fails if nothing was ingested."""
        from index.store import Store

        s = self.settings
        return Store(s.db_path, s.faiss_path, readonly=True, approximate_from=s.approximate_index_chunks,
                     nprobe=s.ivf_nprobe)

    @cached_property
    def retriever(self) -> Retriever:
        from index.retriever import Retriever

        s = self.settings
        return Retriever(self.reader, self.embedder, rrf_k=s.rrf_k, dense_weight=s.dense_weight,
                         bm25_weight=s.bm25_weight, fusion=s.fusion)

    # ---- index ------------------------------------------------------------------------------

    def ingest(self, paths: Sequence[Path], progress: Progress | None = None, *, wait: float = 0.0,
               prune: bool = True, rebuild: bool = False) -> IngestReport:
        """Add, update and prune documents under `paths`."""
        from index.ingest import Ingester
        from index.lock import WriterLock

        s = self.settings
        ingester = Ingester(self.store, self.embedder, chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap,
                            max_file_bytes=s.max_file_mb * 1024 * 1024, batch_chunks=s.ingest_batch_chunks)
        return ingester.run(paths, WriterLock(s.lock_path, wait=wait), progress, prune=prune, rebuild=rebuild)

    def remove_documents(self, paths: Sequence[Path], *, wait: float = 0.0) -> list[str]:
        """Remove documents by path (a folder removes everything under it); returns the paths removed."""
        from index.lock import WriterLock

        targets = []
        for raw in paths:
            absolute = os.path.abspath(Path(raw).expanduser())
            for record in self.store.documents():
                if record.path == absolute or record.path.startswith(absolute.rstrip(os.sep) + os.sep):
                    targets.append(record.path)
        with WriterLock(self.settings.lock_path, wait=wait):
            self.store.remove_documents(targets)
            self.store.save_faiss()
        return targets

    def search(self, query: str, k: int | None = None, mode: str | None = None,
               scope: str | None = None) -> list[ScoredChunk]:
        """The best chunks for `query`; `scope` (a submission's name, or a path) limits them to its documents."""
        return self.retriever.search(query, k or self.settings.top_k, mode or self.settings.search_mode, scope)

    def search_many(self, queries: Sequence[str], k: int | None = None, mode: str | None = None,
                    scope: str | None = None) -> list[list[ScoredChunk]]:
        return self.retriever.search_many(queries, k or self.settings.top_k, mode or self.settings.search_mode,
                                          scope)

    def evaluate(self, questions: Path, k: int = 5, *, answers: bool = False,
                 progress: Callable[[int, int], None] | None = None) -> EvalReport:
        """Retrieval metrics of every search mode over a questions file; with `answers`, answer checks too."""
        from assistant.evaluation import read_questions, run_evaluation

        items = read_questions(questions)  # a bad file is reported before the index is opened
        sources = [record.path for record in self.documents()]
        # Evaluation answers are measurements, given to no one: not in the audit trail.
        return run_evaluation(self.search_many, (lambda q: self.answerer.answer(q)) if answers else None, items, k,
                              label=str(questions), sources=sources, progress=progress)

    def documents(self) -> list[DocumentRecord]:
        return self.reader.documents()

    def stats(self) -> StoreStats:
        return self.reader.stats()

    def flagged(self) -> dict[str, list[FlaggedSource]]:
        """Passages ingest flagged as planted instructions or hidden text, by document: kept, never evidence."""
        from assistant.answering.types import FlaggedSource

        return {path: [FlaggedSource.of(chunk) for chunk in chunks]
                for path, chunks in self.reader.flagged_chunks().items()}

    def index_state(self) -> tuple[list[DocumentRecord], StoreStats] | None:
        """(documents, stats), or None while nothing is ingested (or the first ingest is still creating the
        index): for shells that show an empty library rather than an error."""
        import sqlite3

        from index.store import StoreError

        try:
            return self.documents(), self.stats()
        except (StoreError, sqlite3.OperationalError):
            return None

    def submissions(self) -> list[Submission]:
        """The workspace's submissions (the folders its documents lie in), each with its documents."""
        return self.reader.submissions()

    # ---- submission profiles ----------------------------------------------------------------------

    @cached_property
    def profiles(self) -> ProfileService:
        from assistant.profile.service import ProfileService

        return ProfileService(self.reader, self.settings.profiles_dir)

    def submission(self, name: str) -> Submission:
        """A submission by its folder's name or path; ProfileError (one line, naming the known ones) if none."""
        from assistant.profile.service import ProfileError

        found = self.profiles.find(name)
        if found is None:
            known = ", ".join(item.name for item in self.submissions()) or "none ingested"
            raise ProfileError(f"no submission named {name!r} (known: {known})")
        return found

    def model_reader(self, engine: Engine | None = None) -> ModelReader:
        """The engine (this core's, or `engine`) as the profile's reader of prose: greedy, constrained to the
        profile's JSON schema (a grammar on the embedded engine, `response_format` over HTTP), the documents'
        text neutralized."""
        from assistant.answering.prompts import neutralize
        from assistant.engines.base import GenerationRequest, generate, special_tokens_of
        from assistant.profile.prose_model import Asked
        from assistant.profile.service import ModelReader

        engine = engine or self.engine
        special = special_tokens_of(engine)

        def ask(messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> Asked:
            safe = [{**message, "content": neutralize(message["content"], special)} if message["role"] == "user"
                    else message for message in messages]
            text, usage = generate(engine, GenerationRequest(safe, max_tokens=160, temperature=0.0,
                                                             json_schema=schema))
            return Asked(text, usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens)

        return ModelReader(engine.model_id(), ask)

    def profile(self, name: str, *, force: bool = False, model: bool = False) -> Profile:
        """The submission's profile (see assistant.profile): reused from the workspace unless its documents
        changed, else built from the stored table rows and text; with `model`, the engine also reads the
        descriptive fields the patterns left unstated (verified; a profile of its own in the workspace)."""
        reader = self.model_reader() if model else None
        return self.profiles.profile(self.submission(name), force=force, reader=reader)[0]

    def profile_all(self, *, force: bool = False, progress: Callable[[ProfileRun], None] | None = None,
                    model: bool = False) -> list[ProfileRun]:
        """Every submission's profile, each rebuilt only when its documents changed; one failing never
        stops the rest."""
        reader = self.model_reader() if model else None
        return self.profiles.build_all(force=force, progress=progress, reader=reader)

    def insureds(self) -> dict[str, list[str]]:
        """Ingested document paths by insured (the first folder under the documents' common folder)."""
        from assistant.summaries.summarizer import select_jobs

        groups: dict[str, list[str]] = {}
        for job in select_jobs(self.documents(), None):
            groups.setdefault(job.insured_group, []).append(job.path)
        return dict(sorted(groups.items()))

    def passage(self, chunk_id: int, around: int = 1) -> list[Chunk]:
        """A chunk in context: it and up to `around` neighbours either side, in reading order ([] if gone)."""
        found = self.reader.chunks_by_id([chunk_id]).get(chunk_id)
        if found is None:
            return []
        chunks = self.reader.chunks_of(found.source)
        at = next(i for i, chunk in enumerate(chunks) if chunk.id == chunk_id)
        return chunks[max(0, at - around):at + around + 1]

    # ---- answering --------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        """The generator named by `settings.engine` (embedded or http), built on first use."""
        from assistant.engines import build_engine

        return build_engine(self.settings.engine, self.settings)

    @cached_property
    def answerer(self) -> Answerer:
        return self.make_answerer()

    def make_answerer(self, context_limit: int | None = None) -> Answerer:
        """An answerer over this workspace's retriever and engine; `context_limit` caps prompt + answer tokens."""
        from assistant.answering.pipeline import Answerer

        s = self.settings

        def search(queries: Sequence[str], k: int, scope: str | None = None) -> list[list[ScoredChunk]]:
            return self.search_many(queries, k, scope=scope) if scope else self.search_many(queries, k)

        extractive = s.answer_style == "extractive" or (s.answer_style == "auto" and s.engine == "embedded")
        return Answerer(lambda: self.engine, search, top_k=s.top_k, max_new_tokens=s.max_new_tokens,
                        temperature=s.temperature, min_dense_score=s.min_dense_score, context_limit=context_limit,
                        ranker=self.evidence_ranker, submissions=self.submission_names,
                        extractive=extractive)

    @cached_property
    def evidence_ranker(self) -> EvidenceRanker:
        """Ranks the sentences, items and rows of retrieved passages against a question."""
        from assistant.grounding.evidence import EvidenceRanker

        # Lambdas: building the answerer opens nothing (the store may not exist yet, as on a new workspace).
        return EvidenceRanker(embed=lambda texts: self.embedder.embed(texts),
                              document_frequency=lambda phrases: self.reader.phrase_counts(phrases))

    def submission_names(self) -> dict[str, set[str]]:
        """Each submission's distinctive name words (folder name, insured name in its titles)."""
        from assistant.answering.answerability import submission_names

        documents = self.documents()
        return submission_names([d.path for d in documents], {d.path: d.title for d in documents})

    def ask_stream(self, question: str, history: Sequence[Message] = (), *, k: int | None = None,
                   max_tokens: int | None = None, scope: str | None = None, user: str | None = None,
                   shell: str = "cli") -> Iterator[str | Answer]:
        """Draft pieces of the answer as they are generated, then the checked `Answer` (last), recorded in the
        audit trail as given to `user` (default: the OS user) in `shell` (cli, ui or api) before it is yielded."""
        from assistant.answering.types import Answer

        for item in self.answerer.stream(question, history, k=k, max_tokens=max_tokens, scope=scope):
            if isinstance(item, Answer):
                self.record(item, user=user, shell=shell)
            yield item

    def answer(self, question: str, history: Sequence[Message] = (), *, k: int | None = None,
               max_tokens: int | None = None, scope: str | None = None, user: str | None = None,
               shell: str = "cli") -> Answer:
        """A verified answer, a labelled quote, or the decline (not streamed); recorded as `ask_stream`'s."""
        answer = self.answerer.answer(question, history, k=k, max_tokens=max_tokens, scope=scope)
        self.record(answer, user=user, shell=shell)
        return answer

    def conversation(self, context_limit: int | None = None, *, user: str | None = None,
                     shell: str = "cli") -> Conversation:
        """A multi-turn chat; `context_limit` caps the tokens a prompt may use (default: the model's window).
        Each answer is recorded in the audit trail as given to `user` in `shell`."""
        from assistant.answering.pipeline import Conversation

        return Conversation(self.make_answerer(context_limit) if context_limit else self.answerer,
                            on_answer=lambda answer: self.record(answer, user=user, shell=shell))

    # ---- audit trail ------------------------------------------------------------------------

    @cached_property
    def audit_log(self) -> AuditLog:
        from assistant.audit import AuditLog

        return AuditLog(self.settings.audit_path)

    def record(self, answer: Answer, *, user: str | None = None, shell: str = "cli") -> None:
        """Append the answer's audit record (with `audit_enabled`). A write that fails does not take the answer
        away: `answer.audit_error` says it is not in the trail, and every shell shows that beside the answer."""
        import sqlite3

        from assistant.audit import AnswerEvent, os_user

        if not self.settings.audit_enabled:
            return
        s = self.settings
        http = s.engine == "http"
        event = AnswerEvent.of(answer, user=user or os_user(), shell=shell,
                               model=s.http_model if http else s.generator_model,
                               adapter=str(s.adapter) if s.adapter else "", engine=s.engine,
                               engine_url=s.http_url if http else "")
        try:
            answer.audit_id = self.audit_log.append(event)
        except (sqlite3.Error, OSError) as exc:
            answer.audit_error = (f"this answer is NOT in the audit trail: writing {s.audit_path} failed "
                                  f"({type(exc).__name__}: {exc})")

    def audit_events(self, user: str | None = None, since: str | None = None,
                     limit: int | None = None) -> list[AnswerEvent]:
        """Audit records, oldest first (see `AuditLog.events`); `since` as `assistant.audit.parse_since` reads it."""
        from assistant.audit import parse_since

        return self.audit_log.events(user, parse_since(since) if since else None, limit)

    # ---- adapters ---------------------------------------------------------------------------

    def adapters(self) -> list[tuple[Path, dict[str, Any]]]:
        """LoRA adapters in the workspace (`<workspace>/adapters/*`) with their tuning cards, newest first."""
        import json

        found = []
        for folder in sorted(self.settings.adapters_dir.glob("*/")) if self.settings.adapters_dir.is_dir() else []:
            card_path = folder / "tuning_card.json"
            try:
                card = json.loads(card_path.read_text()) if card_path.is_file() else {}
            except (OSError, ValueError):
                card = {}
            if card or (folder / "adapter_config.json").is_file():
                found.append((folder, card))
        return sorted(found, key=lambda pair: -pair[0].stat().st_mtime)

    def use_adapter(self, adapter: Path | None) -> None:
        """Answer with this LoRA adapter from now on (None: the plain model); the engine reloads on next use."""
        self.settings.adapter = Path(adapter).expanduser().resolve() if adapter else None
        for name in ("engine", "answerer"):
            self.__dict__.pop(name, None)

    # ---- summarizing ------------------------------------------------------------------------

    def summarize(self, paths: Sequence[Path] = (), *, all_documents: bool = False, template: Path | None = None,
                  force: bool = False, model: bool = True, progress: SummaryProgress | None = None,
                  ingest_progress: Progress | None = None, wait: float = 0.0) -> SummaryReport:
        """One summary per document under `paths` (new and changed files are ingested first, nothing is
        pruned), or per workspace document with `all_documents`: each a view of its submission's profile,
        whose descriptive fields the engine reads where the patterns could not (`model`). See
        `assistant.summaries.summarizer`."""
        from assistant.summaries.summarizer import Summarizer, select_jobs
        from assistant.summaries.template import load_template

        spec = load_template(template)  # a bad template fails before any work
        failed: list[tuple[str, str]] = []
        if all_documents:
            records, roots = self.documents(), None
        else:
            report = self.ingest(paths, ingest_progress, wait=wait, prune=False)
            failed += report.failed
            refused = {path for path, _ in report.failed}
            records = [record for record in self.store.documents()
                       if record.path not in refused and os.path.exists(record.path)]  # as on disk now
            roots = [os.path.abspath(Path(raw).expanduser()) for raw in paths]
        jobs = select_jobs(records, roots)
        summarizer = Summarizer(self.profiles, spec, self.model_reader() if model else None)
        reader = self.store if not all_documents else self.reader
        result = summarizer.run(jobs, reader.chunks_of, force=force, progress=progress)
        result.failed = sorted(failed) + result.failed
        return result

    # ---- the carrier's rules ----------------------------------------------------------------

    def rules_file(self, rules_path: Path | None = None) -> Path:
        """The carrier's rules file: the one given, else the `rules_path` setting, else <workspace>/rules.toml,
        else the one rules.toml beside the ingested documents (RulesError in one line when none or several)."""
        from assistant.profile.rules import find_rules

        folders = [Path(item.folder) for item in self.submissions()]
        return find_rules(rules_path or self.settings.rules_path, self.settings.workspace, folders)

    def check(self, name: str, rules_path: Path | None = None) -> CheckReport:
        """The submission's profile checked against the carrier's rules (`rules_path`, else the configured
        `rules_path`, else <workspace>/rules.toml; a RulesError in one line when none is found or it is bad)."""
        from assistant.profile.rules import check, load_rules

        profile = self.profile(name)
        return check(profile, load_rules(self.rules_file(rules_path)), self.profiles.statements(profile))

    def memo(self, name: str, out: Path, rules_path: Path | None = None) -> list[Path]:
        """The referral memo of a submission (profile and rules check) written to `out` (.md or .docx);
        returns the files written (a .md's chart is a PNG beside it)."""
        from assistant.profile.memo import memo_target, write_memo
        from assistant.profile.rules import check, load_rules

        target = memo_target(out)  # a bad path or rules file fails before the profile is built
        rules = load_rules(self.rules_file(rules_path))
        profile = self.profile(name)
        return write_memo(profile, check(profile, rules, self.profiles.statements(profile)), target)

    # ---- tuning -----------------------------------------------------------------------------

    def train_config(self, **values: Any) -> TrainConfig:
        """A QLoRA configuration from the values given (a bad one fails here, before anything loads)."""
        from finetune.qlora import TrainConfig

        return TrainConfig(**values)

    def quantize_config(self, **values: Any) -> QuantizeConfig:
        """An AWQ configuration from the values given (a bad one fails here)."""
        from finetune.quantize import QuantizeConfig

        return QuantizeConfig(**values)

    def workspace_chunks(self) -> list[Chunk]:
        """Every indexed chunk, in reading order, from this core's store; a TuningError while nothing is ingested."""
        from finetune import TuningError
        from index.store import StoreError

        try:
            return self.reader.all_chunks()
        except StoreError as exc:
            raise TuningError(str(exc)) from exc

    def tuning_dataset(self, out: Path, n: int = 200, seed: int = 0) -> DatasetBuildResult:
        """The grounded starter dataset from the workspace's chunks, written to `out` (`assistant.tuning.service`)."""
        from assistant.tuning.service import build_dataset_file

        return build_dataset_file(self.settings, out, n, seed, chunks=self.workspace_chunks())

    def tune(self, data: Path, *, base: str | None = None, out: Path | None = None,
             config: TrainConfig | None = None, progress: Any = None, cancel: Any = None) -> TrainResult:
        """QLoRA-tune the generator (or `base`) on the dataset file `data`; the adapter's folder is in the result."""
        from assistant.tuning.service import tune

        return tune(self.settings, data, base, out, config, progress, cancel)

    def quantize(self, *, base: str | None = None, adapter: Path | None = None, out: Path | None = None,
                 config: QuantizeConfig | None = None, progress: Any = None) -> QuantizeResult:
        """Merge `adapter` into the generator (or `base`) and AWQ-quantize it, calibrated on this workspace."""
        from assistant.tuning.service import quantize

        texts = [chunk.text for chunk in self.workspace_chunks()]
        return quantize(self.settings, base, adapter, out, progress, config, texts=texts)

    # ---- serving ----------------------------------------------------------------------------

    def serve_local(self, host: str = "127.0.0.1", port: int = 30000, api_key: str | None = None) -> None:
        """Our OpenAI-compatible server over the embedded engine, in the foreground until Ctrl-C.

        With `api_key`, every request but `/health` must carry `Authorization: Bearer KEY` (as SGLang)."""
        import uvicorn

        from assistant.serving.server import create_app

        server = create_app(self.engine, api_key=api_key, default_max_tokens=self.settings.max_new_tokens,
                            default_temperature=self.settings.temperature, worker_id=f"{host}:{port}")
        uvicorn.run(server, host=host, port=port, log_level="info")

    def sglang_command(self, model: Path, host: str = "127.0.0.1", port: int = 30000, api_key: str | None = None,
                       context_length: int | None = None, lora: dict[str, Path] | None = None) -> list[str]:
        """The exact SGLang command line `serve_sglang` runs."""
        from assistant.serving.sglang import sglang_command

        return sglang_command(model, host, port, api_key, context_length, lora)

    def serve_sglang(self, model: Path, host: str = "127.0.0.1", port: int = 30000, api_key: str | None = None,
                     context_length: int | None = None, lora: dict[str, Path] | None = None) -> int | None:
        """Start SGLang, wait for `/health_generate`, keep it up until Ctrl-C; returns its exit code."""
        from assistant.serving.sglang import serve_forever

        return serve_forever(model, host=host, port=port, api_key=api_key, context_length=context_length,
                             lora=lora)

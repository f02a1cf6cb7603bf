"""Profiles for the workspace's submissions, kept so a re-run redoes only what changed.

A profile is stored in the workspace (`profiles/<submission>.json`, written atomically) with the key
it was built from: the profile format's version and every document's path and content hash. `profile
--all` rebuilds a submission only when that key changed (a document added, changed or removed), so it
is incremental like ingest, and resumable: each profile is saved as soon as it is built.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.profile.build import ProfileBuilder
from assistant.profile.model import Profile
from assistant.profile.prose_model import Ask, ModelFiller
from assistant.profile.statements import Statement, statements_of
from index.atomic import write_atomic
from index.store import DocumentRecord, Store
from index.types import Submission

FORMAT_VERSION = 9  # of the extraction: a change here rebuilds every profile


@dataclass(frozen=True)
class ModelReader:
    """A model the profile may ask about prose: its id (part of the stored profile's key) and `ask`."""

    model: str
    ask: Ask


class ProfileError(ValueError):
    """A submission that cannot be profiled as asked; the message is one line for the user."""


@dataclass(frozen=True)
class ProfileRun:
    """One submission's outcome in `build_all`."""

    submission: str
    profile: Profile | None
    reused: bool
    error: str = ""


class ProfileService:
    def __init__(self, store: Store, folder: Path) -> None:
        self.store = store
        self.folder = folder

    def _records(self) -> dict[str, DocumentRecord]:
        return {record.path: record for record in self.store.documents()}

    def submissions(self) -> list[Submission]:
        return self.store.submissions()

    def find(self, name: str) -> Submission | None:
        """A submission by its folder's name, or by a path to its folder."""
        found = self.submissions()
        by_name = [item for item in found if item.name == name.rstrip("/")]
        if by_name:
            return by_name[0]
        resolved = str(Path(name).expanduser().resolve())
        return next((item for item in found if item.folder == resolved), None)

    @staticmethod
    def key(submission: Submission, records: dict[str, DocumentRecord], model: str = "") -> str:
        parts = [FORMAT_VERSION, [(path, records[path].content_hash if path in records else "") for path in
                                  submission.documents], model]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]

    def path(self, submission: Submission, model: str = "") -> Path:
        """The stored profile: one per submission, and one per submission and model for profiles whose
        descriptive fields a model read (so `profile` and `summarize` do not overwrite each other's)."""
        digest = hashlib.sha256(submission.folder.encode()).hexdigest()[:8]
        safe = re.sub(r"[^\w.-]+", "_", submission.name) or "submission"
        variant = f"-m{hashlib.sha256(model.encode()).hexdigest()[:6]}" if model else ""
        return self.folder / f"{safe}-{digest}{variant}.json"

    def load(self, submission: Submission, key: str, model: str = "") -> Profile | None:
        try:
            data = json.loads(self.path(submission, model).read_text(encoding="utf-8"))
            if data.get("key") != key:
                return None
            return Profile.model_validate(data["profile"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, submission: Submission, key: str, profile: Profile) -> None:
        payload = {"key": key, "profile": profile.model_dump(mode="json")}
        write_atomic(self.path(submission, profile.model), json.dumps(payload, ensure_ascii=False, indent=1))

    def build(self, submission: Submission, records: dict[str, DocumentRecord] | None = None,
              reader: ModelReader | None = None) -> Profile:
        records = records if records is not None else self._records()
        filler = ModelFiller(reader.ask) if reader is not None else None
        builder = ProfileBuilder(self.store.chunks_of, {path: (r.title, r.kind) for path, r in records.items()},
                                 filler)
        built = builder.build(submission.name, submission.folder, submission.documents)
        built.model = reader.model if reader is not None else ""
        return built

    def profile(self, submission: Submission, *, force: bool = False,
                reader: ModelReader | None = None) -> tuple[Profile, bool]:
        """The submission's profile and whether it was reused from the workspace; with `reader`, the model
        reads the descriptive fields the tables and patterns left unstated (`prose_model`)."""
        records = self._records()
        model = reader.model if reader is not None else ""
        key = self.key(submission, records, model)
        if not force:
            kept = self.load(submission, key, model)
            if kept is not None:
                return kept, True
        built = self.build(submission, records, reader)
        self.save(submission, key, built)
        return built, False

    def statements(self, profile: Profile) -> list[Statement]:
        """The sentences of a profiled submission's documents, for the rules that test what they say."""
        return statements_of(profile, self.store.chunks_of)

    def build_all(self, *, force: bool = False, progress: Callable[[ProfileRun], None] | None = None,
                  only: Sequence[Submission] | None = None, reader: ModelReader | None = None) -> list[ProfileRun]:
        runs = []
        for submission in only if only is not None else self.submissions():
            try:
                built, reused = self.profile(submission, force=force, reader=reader)
                run = ProfileRun(submission.name, built, reused)
            except Exception as exc:  # one bad submission never stops the batch
                run = ProfileRun(submission.name, None, False, f"{type(exc).__name__}: {exc}")
            runs.append(run)
            if progress is not None:
                progress(run)
        return runs

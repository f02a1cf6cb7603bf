"""The audit trail: one append-only record for every answer given, from the CLI, the UI or the API.

Owns `AnswerEvent` (who asked what, from which shell and scope; the passages retrieved, flagged ones
included; the model, adapter and engine; the exact messages and decoding settings the model was sent;
the answer, which citations verified, whether and why it declined) and `AuditLog`, its sink: a SQLite
file of its own in the workspace (`audit.sqlite`), never the index, so an ingest's transactions and an
answer's record never wait on each other for long and removing documents never touches the trail.

Writes follow the store's discipline (`index.store`): WAL, and each record is one `BEGIN IMMEDIATE ...
COMMIT` transaction, here with `synchronous=FULL`, so the commit is fsync'd before `append` returns: a record
whose answer was shown survives the process being killed right after, and a crash in the middle of a write
leaves the transaction uncommitted, the log holding every earlier record and nothing partial.

Append-only: triggers RAISE on any UPDATE or DELETE of a record. Each record also carries a SHA-256 over its
content and the previous record's hash (`verify` walks the chain), so a record changed or removed behind the
application's back, triggers dropped by hand, shows.

Imports: the standard library only (`AnswerEvent.of` reads an `assistant.answering.types.Answer` by duck typing).
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath
from typing import Any

from index.sqlite import BUSY_SECONDS, PerThreadConnection, immediate_transaction, use_wal

SHELLS = ("cli", "ui", "api")
GENESIS = "0" * 64  # the previous hash of the first record

SCHEMA = """
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    user TEXT NOT NULL,
    shell TEXT NOT NULL,
    question TEXT NOT NULL,
    scope TEXT,
    kind TEXT NOT NULL,
    verified INTEGER NOT NULL,
    declined INTEGER NOT NULL,
    model TEXT NOT NULL,
    body TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_time ON events(time);
CREATE INDEX IF NOT EXISTS events_by_user ON events(user, time);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: a record cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: a record cannot be deleted'); END;
COMMIT;
"""

INSERT = ("INSERT INTO events (time, user, shell, question, scope, kind, verified, declined, model, body, "
          "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class AuditError(RuntimeError):
    """The audit trail cannot be read or written as asked; one line for the user."""


def utc_now() -> str:
    """Now, UTC, ISO 8601 to the microsecond with a Z: strings that sort as the times do."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def os_user() -> str:
    """The operating-system user running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def parse_since(text: str) -> str:
    """A lower time bound as the log stores times: an ISO date or date-time (UTC unless it says otherwise),
    or a span back from now ("7d", "12h", "30m")."""
    value = text.strip()
    span = re.fullmatch(r"(\d+)\s*([dhm])", value)
    if span:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[span.group(2)]
        moment = datetime.now(UTC) - timedelta(**{unit: int(span.group(1))})
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise AuditError(f"--since {text!r}: give a date (2026-03-01), a date and time "
                             "(2026-03-01T14:00), or a span (7d, 12h, 30m)") from None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class AnswerEvent:
    """One answer as it was given: enough to explain it later and to show exactly what the model saw.

    `sources` are the passages retrieved for it: those given to the model (`number` as the prompt numbered
    them, `flagged` false) and the ones kept out because ingest flagged them (`flagged` true, with `reason`).
    `messages` and `generation` are exactly what the engine was sent (empty when the model was not called,
    as on a decline). `citations` say which quotes verified."""

    time: str
    user: str
    shell: str
    question: str
    scope: str | None
    kind: str  # answer, quote or declined
    answer: str
    verified: bool
    declined: bool
    reason: str = ""  # why it declined, or why the model's answer did not verify
    draft: str = ""  # the model's own words when they did not verify
    sources: list[dict[str, Any]] = field(default_factory=list)
    citations: list[dict[str, Any]] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    model: str = ""
    adapter: str = ""
    engine: str = ""  # embedded or http
    engine_url: str = ""  # the model server, for the http engine
    messages: list[dict[str, str]] = field(default_factory=list)
    generation: dict[str, Any] = field(default_factory=dict)
    raw: str = ""  # the model's output as generated
    usage: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # set once appended

    @classmethod
    def of(cls, answer: Any, *, user: str, shell: str, model: str = "", adapter: str = "", engine: str = "",
           engine_url: str = "") -> AnswerEvent:
        """The event for an `assistant.answering.types.Answer` just given."""
        if shell not in SHELLS:
            raise ValueError(f"shell must be one of {', '.join(SHELLS)}, not {shell!r}")
        data = answer.to_dict()
        sources = [{"number": item["number"], "submission": item["submission"], "file": item["source"],
                    "location": item["location"], "page": item["page"], "chunk_id": item["chunk_id"],
                    "score": item["score"], "flagged": False} for item in data["sources"]]
        sources += [{"number": None, "submission": item["submission"], "file": item["source"],
                     "location": item["location"], "chunk_id": item["chunk_id"], "flagged": True,
                     "reason": item["reason"]} for item in data["flagged_sources"]]
        citations = [{key: item[key] for key in ("number", "submission", "source", "location", "chunk_id", "quote",
                                                 "verified", "reason", "inferred")} for item in data["citations"]]
        return cls(time=utc_now(), user=user, shell=shell, question=answer.question, scope=answer.scope,
                   kind=answer.kind, answer=answer.text, verified=bool(data["verified"]), declined=answer.declined,
                   reason=answer.reason, draft=answer.draft, sources=sources, citations=citations,
                   invalid_citations=list(answer.invalid_citations), model=answer.model or model, adapter=adapter,
                   engine=engine, engine_url=engine_url, messages=[dict(m) for m in answer.prompt],
                   generation=dict(answer.generation), raw=answer.raw, usage=data["usage"])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerEvent:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def body(self) -> str:
        """The record's content as stored and hashed: canonical JSON, without its id."""
        data = self.to_dict()
        data.pop("id")
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def verified_citations(self) -> list[int]:
        return [c["number"] for c in self.citations if c.get("verified")]

    @property
    def outcome(self) -> str:
        """verified, quote, declined, or unverified (a free-text answer whose citations did not hold)."""
        if self.declined:
            return "declined"
        if self.kind == "answer":
            return "verified" if self.verified else "unverified"
        return self.kind


def chain_hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + body).encode()).hexdigest()


class AuditLog:
    """The append-only SQLite sink. One connection per thread; any number of processes may append at once
    (each append is one immediate transaction; others wait up to 30 s for it)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._connections = PerThreadConnection(self._open_connection)
        self._ready = False

    # ---- connections ------------------------------------------------------------------------

    def _connect(self, create: bool = True) -> sqlite3.Connection | None:
        """This thread's connection; None when `create` is false and there is no audit file yet."""
        if not create and not self._connections.opened() and not self.path.exists():
            return None
        return self._connections.get()

    def _open_connection(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
        if not self._ready:
            use_wal(connection)
            connection.executescript(SCHEMA)  # idempotent, one transaction
            self._ready = True
        connection.execute("PRAGMA synchronous=FULL")  # every commit fsync'd before it returns
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error (`index.sqlite.immediate_transaction`)."""
        with immediate_transaction(self._connections.get()) as db:
            yield db

    def close(self) -> None:
        self._connections.close()

    # ---- writing ----------------------------------------------------------------------------

    def append(self, event: AnswerEvent) -> int:
        """Write one record, durably (fsync'd on commit); returns its id, also set on `event`."""
        with self._transaction() as db:
            event.id = self._insert(db, event)
        return event.id

    def _insert(self, db: sqlite3.Connection, event: AnswerEvent) -> int:
        """The INSERT, inside the caller's transaction: chained to the last record's hash."""
        row = db.execute("SELECT hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
        prev = row[0] if row else GENESIS
        body = event.body()
        cursor = db.execute(INSERT, (event.time, event.user, event.shell, event.question, event.scope, event.kind,
                                     int(event.verified), int(event.declined), event.model, body, prev,
                                     chain_hash(prev, body)))
        return int(cursor.lastrowid or 0)

    # ---- reading ----------------------------------------------------------------------------

    @staticmethod
    def _event(row: Sequence[Any]) -> AnswerEvent:
        event = AnswerEvent.from_dict(json.loads(row[1]))
        event.id = int(row[0])
        return event

    def events(self, user: str | None = None, since: str | None = None, limit: int | None = None) -> list[AnswerEvent]:
        """Records, oldest first: of `user` only, at or after `since` (a `parse_since` bound); with `limit`,
        the latest `limit` of them."""
        db = self._connect(create=False)
        if db is None:
            return []
        where, params = [], []
        if user is not None:
            where.append("user = ?")
            params.append(user)
        if since is not None:
            where.append("time >= ?")
            params.append(since)
        sql = "SELECT id, body FROM events" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [self._event(row) for row in reversed(db.execute(sql, params).fetchall())]

    def get(self, event_id: int) -> AnswerEvent | None:
        db = self._connect(create=False)
        if db is None:
            return None
        row = db.execute("SELECT id, body FROM events WHERE id = ?", (event_id,)).fetchone()
        return self._event(row) if row else None

    def count(self) -> int:
        db = self._connect(create=False)
        return 0 if db is None else int(db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def verify(self) -> list[str]:
        """Problems with the log ([] when whole): the database's own check, then every record's hash and its
        link to the one before (a changed, inserted or removed record breaks the chain)."""
        db = self._connect(create=False)
        if db is None:
            return []
        problems = [f"sqlite: {row[0]}" for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]
        prev = GENESIS
        for event_id, body, prev_hash, stored in db.execute("SELECT id, body, prev_hash, hash FROM events ORDER BY id"):
            if prev_hash != prev:
                problems.append(f"record {event_id}: does not follow the record before it (one was removed or "
                                "inserted)")
            if chain_hash(prev_hash, body) != stored:
                problems.append(f"record {event_id}: its content does not match its hash (it was changed)")
            prev = stored
        return problems


# ---- export -----------------------------------------------------------------------------------

CSV_COLUMNS = ("id", "time", "user", "shell", "question", "scope", "outcome", "verified", "declined", "reason",
               "answer", "verified_citations", "sources", "model", "adapter", "engine", "engine_url")


def csv_text(events: Sequence[AnswerEvent]) -> str:
    """The records as CSV, one row each; `sources` is "file | location | chunk id" per passage, `;`-separated,
    a flagged one marked "(flagged)"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in events:
        sources = "; ".join(f"{PurePath(s['file']).name} | {s['location']} | {s['chunk_id']}"
                            + (" (flagged)" if s.get("flagged") else "") for s in event.sources)
        writer.writerow([event.id, event.time, event.user, event.shell, event.question, event.scope or "",
                         event.outcome, int(event.verified), int(event.declined), event.reason, event.answer,
                         " ".join(str(n) for n in event.verified_citations), sources, event.model, event.adapter,
                         event.engine, event.engine_url])
    return buffer.getvalue()

"""The audit trail: one record per answer from every shell, append-only, durable across a kill, exported,
replayed. Real SQLite files, the bundled models, the real CLI (in-process and as a subprocess)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.answering.prompts import NO_ANSWER_TEXT, SYSTEM_PROMPT
from assistant.audit import AnswerEvent, AuditError, AuditLog, csv_text, os_user, parse_since

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "assistant.cli"]
AMMONIA = "How much anhydrous ammonia does the Harbor Foods refrigeration system hold?"


def event(n: int = 1, user: str = "alice", when: str = "2026-03-01T10:00:00.000000Z") -> AnswerEvent:
    return AnswerEvent(time=when, user=user, shell="cli", question=f"question {n}", scope=None, kind="answer",
                       answer=f"answer {n}", verified=True, declined=False,
                       sources=[{"number": 1, "file": "/docs/a.pdf", "location": "page 2", "chunk_id": 7,
                                 "flagged": False}],
                       citations=[{"number": 1, "source": "/docs/a.pdf", "location": "page 2", "chunk_id": 7,
                                   "quote": "q", "verified": True, "reason": "", "inferred": False}],
                       model="m", messages=[{"role": "system", "content": "s"}, {"role": "user", "content": f"u{n}"}])


# ---- the sink -------------------------------------------------------------------------------------------


def test_append_and_read_back(tmp_path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    assert log.events() == [] and not (tmp_path / "audit.sqlite").exists()  # reading creates nothing
    ids = [log.append(event(n, user="alice" if n % 2 else "bob")) for n in range(1, 5)]
    assert ids == [1, 2, 3, 4]
    got = log.get(3)
    assert got is not None and got.question == "question 3" and got.messages[1]["content"] == "u3" and got.id == 3
    assert [e.id for e in log.events(user="bob")] == [2, 4]
    assert [e.id for e in log.events(limit=2)] == [3, 4]  # the latest two, oldest first
    assert log.verify() == []
    mode = sqlite3.connect(log.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_records_cannot_be_updated_or_deleted(tmp_path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    log.append(event(1))
    log.append(event(2))
    db = sqlite3.connect(log.path, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE events SET user = 'mallory' WHERE id = 1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM events")
    assert [e.user for e in log.events()] == ["alice", "alice"]
    # Behind the application's back (triggers dropped by hand): the hash chain shows it.
    db.execute("DROP TRIGGER events_no_update")
    db.execute("DROP TRIGGER events_no_delete")
    body = json.loads(db.execute("SELECT body FROM events WHERE id = 1").fetchone()[0])
    body["answer"] = "something else"
    db.execute("UPDATE events SET body = ? WHERE id = 1", (json.dumps(body),))
    assert any("record 1" in problem and "changed" in problem for problem in log.verify())
    db.execute("DELETE FROM events WHERE id = 1")
    assert any("record 2" in problem and "removed" in problem for problem in log.verify())


CRASH = textwrap.dedent("""
    import os, signal, sys
    from assistant.audit import AuditLog, AnswerEvent

    class Crashing(AuditLog):
        def _insert(self, db, event):
            super()._insert(db, event)  # the row is written inside the open transaction...
            os.kill(os.getpid(), signal.SIGKILL)  # ...and the process dies before COMMIT

    event = AnswerEvent(time="2026-03-02T00:00:00.000000Z", user="crash", shell="cli", question="lost?",
                        scope=None, kind="answer", answer="never committed", verified=False, declined=False)
    Crashing(sys.argv[1]).append(event)
""")


def test_a_crash_in_the_middle_of_a_write_leaves_the_log_consistent(tmp_path) -> None:
    path = tmp_path / "audit.sqlite"
    log = AuditLog(path)
    log.append(event(1))
    done = subprocess.run([sys.executable, "-c", CRASH, str(path)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    reopened = AuditLog(path)
    assert [e.question for e in reopened.events()] == ["question 1"]  # nothing partial, nothing lost
    assert reopened.verify() == []
    assert reopened.append(event(2)) == 2  # and it goes on
    assert reopened.verify() == [] and reopened.count() == 2


def test_since_accepts_dates_times_and_spans() -> None:
    assert parse_since("2026-03-01") == "2026-03-01T00:00:00.000000Z"
    assert parse_since("2026-03-01T14:00+02:00") == "2026-03-01T12:00:00.000000Z"
    assert parse_since("7d") < parse_since("1h")
    with pytest.raises(AuditError, match="--since"):
        parse_since("last tuesday")


def test_csv_has_one_row_per_record(tmp_path) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_text([event(1), event(2)]))))
    assert [row["question"] for row in rows] == ["question 1", "question 2"]
    assert rows[0]["sources"] == "a.pdf | page 2 | 7" and rows[0]["verified_citations"] == "1"
    assert rows[0]["outcome"] == "verified"


# ---- every answer, from every shell -----------------------------------------------------------------------


@pytest.fixture
def audited_cli(monkeypatch, sample_assistant, tmp_path):
    """The CLI in-process over the sample workspace, its audit trail in a file of this test's own."""
    import assistant.cli.main as cli_module

    path = tmp_path / "audit.sqlite"
    monkeypatch.setattr(cli_module, "core", lambda **overrides: sample_assistant(audit_db=path, **overrides))
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli_module.app, list(args), input=input)

    invoke.log = AuditLog(path)  # type: ignore[attr-defined]
    return invoke


@pytest.mark.slow
def test_cli_ask_writes_exactly_one_record_with_its_sources_and_verdicts(audited_cli) -> None:
    result = audited_cli("ask", AMMONIA, "--json", "--max-tokens", "48")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    records = audited_cli.log.events()
    assert len(records) == 1
    record = records[0]
    assert payload["audit_id"] == record.id and payload["audit_error"] == ""
    assert (record.user, record.shell, record.question) == (os_user(), "cli", AMMONIA)
    assert record.kind == payload["kind"] and record.answer == payload["answer"]
    given = [s for s in record.sources if not s["flagged"]]
    assert [(s["number"], s["chunk_id"], s["location"]) for s in given] == \
        [(s["number"], s["chunk_id"], s["location"]) for s in payload["sources"]]
    assert all(s["file"].endswith((".pdf", ".txt", ".csv", ".docx")) for s in given)
    assert [(c["number"], c["chunk_id"], c["verified"]) for c in record.citations] == \
        [(c["number"], c["chunk_id"], c["verified"]) for c in payload["citations"]]
    assert record.verified == payload["verified"]
    assert record.model == "SmolLM2-135M-Instruct" and record.engine == "embedded"
    assert record.messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert AMMONIA in record.messages[-1]["content"]
    assert record.generation["json_schema"] and record.generation["max_tokens"] > 48

    declined = audited_cli("ask", "What is the capital of France?")
    assert declined.exit_code == 0 and declined.stdout.strip() == NO_ANSWER_TEXT
    last = audited_cli.log.events()[-1]
    assert audited_cli.log.count() == 2
    assert last.declined and last.kind == "declined" and last.reason and last.messages == []


@pytest.mark.slow
def test_audit_lists_exports_and_replays(audited_cli) -> None:
    assert audited_cli("ask", AMMONIA, "--max-tokens", "48").exit_code == 0
    assert audited_cli("ask", "Who won the 2018 World Cup?").exit_code == 0

    listed = audited_cli("audit")
    assert listed.exit_code == 0 and "2 audit records" in listed.stdout and "declined" in listed.stdout

    lines = audited_cli("audit", "--json").stdout.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [1, 2] and records[0]["question"] == AMMONIA
    assert records[0]["messages"] and records[1]["declined"]

    rows = list(csv.DictReader(io.StringIO(audited_cli("audit", "--csv").stdout)))
    assert [row["id"] for row in rows] == ["1", "2"] and rows[1]["outcome"] == "declined"
    assert " | " in rows[0]["sources"]

    assert audited_cli("audit", "--json", "--user", "nobody-else").stdout == ""
    assert audited_cli("audit", "--json", "--since", "2999-01-01").stdout == ""
    assert len(audited_cli("audit", "--json", "--since", "1h").stdout.splitlines()) == 2
    assert len(audited_cli("audit", "--json", "--limit", "1").stdout.splitlines()) == 1
    assert audited_cli("audit", "--since", "yesterday-ish").exit_code == 2

    shown = audited_cli("audit", "show", "1")
    assert shown.exit_code == 0, shown.output
    record = AuditLog(audited_cli.log.path).get(1)
    assert record is not None
    text = " ".join(shown.stdout.split())
    for message in record.messages:  # exactly what the model saw, message by message
        assert " ".join(message["content"].split()) in text
    assert "--- system ---" in shown.stdout and "--- user ---" in shown.stdout and "answer schema" in shown.stdout
    assert "model was not called" in audited_cli("audit", "show", "2").stdout
    assert audited_cli("audit", "show", "99").exit_code == 2
    verified = audited_cli("audit", "verify")
    assert verified.exit_code == 0 and "2 records, chain intact" in verified.stdout


@pytest.mark.slow
def test_a_failed_audit_write_is_said_and_the_answer_still_given(monkeypatch, sample_assistant, tmp_path) -> None:
    import assistant.cli.main as cli_module

    blocked = tmp_path / "audit.sqlite"
    blocked.mkdir()  # a folder where the database should be: SQLite cannot open it
    monkeypatch.setattr(cli_module, "core", lambda **overrides: sample_assistant(audit_db=blocked, **overrides))
    result = CliRunner().invoke(cli_module.app, ["ask", "What is the capital of France?", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["answer"] == NO_ANSWER_TEXT and payload["audit_id"] is None
    assert "NOT in the audit trail" in payload["audit_error"]
    assert "warning" in result.stderr and "NOT in the audit trail" in result.stderr


@pytest.mark.slow
def test_chat_and_batch_and_the_ui_conversation_are_recorded(audited_cli, sample_assistant, tmp_path) -> None:
    result = audited_cli("chat", input="What is the capital of France?\nWho won the 2018 World Cup?\n")
    assert result.exit_code == 0, result.output
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "Where is the moon?"}\n')
    assert audited_cli("ask", "--batch", str(questions), "--json").exit_code == 0
    assert [(e.question, e.shell) for e in audited_cli.log.events()] == [
        ("What is the capital of France?", "cli"), ("Who won the 2018 World Cup?", "cli"),
        ("Where is the moon?", "cli")]

    core = sample_assistant(audit_db=tmp_path / "ui.sqlite")
    chat = core.conversation(user="ui:alice", shell="ui")
    answer = chat.ask("What is the capital of France?")
    record = core.audit_log.get(answer.audit_id)
    assert record is not None and (record.user, record.shell) == ("ui:alice", "ui")
    with pytest.raises(ValueError, match="shell"):
        core.answer("What is the capital of France?", shell="fax")

    off = sample_assistant(audit_db=tmp_path / "off.sqlite", audit_enabled=False)
    assert off.answer("What is the capital of France?").audit_id is None
    assert not (tmp_path / "off.sqlite").exists()


@pytest.mark.slow
def test_the_record_survives_the_process_killed_right_after_the_answer(sample_workspace, tmp_path) -> None:
    """`assistant chat` as a real process: once the answer is on its stdout, SIGKILL it; the record is there."""
    path = tmp_path / "audit.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ASSISTANT_MODEL_CACHE": str(sample_workspace.models_dir),
           "ASSISTANT_AUDIT_DB": str(path)}
    process = subprocess.Popen([*CLI, "--workspace", str(sample_workspace.workspace), "chat", "--max-tokens", "48"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=env)
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(AMMONIA + "\n")
        process.stdin.flush()
        deadline = time.monotonic() + 240
        first = process.stdout.readline()  # the answer's first line: the record was committed before it
        assert first.strip(), "no answer"
        assert time.monotonic() < deadline
        os.kill(process.pid, signal.SIGKILL)  # the chat waits for the next question: killed mid-session
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    records = AuditLog(path).events()
    assert len(records) == 1 and records[0].question == AMMONIA and records[0].answer.splitlines()[0] == first.strip()
    assert records[0].messages and AuditLog(path).verify() == []

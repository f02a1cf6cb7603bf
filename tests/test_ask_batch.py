"""`assistant ask --batch`: a checklist of questions answered in one process, one JSON line each."""

from __future__ import annotations

import json

import pytest

from assistant.cli.queries import QueryFileError, read_queries


def test_read_batch_takes_json_lines_and_plain_lines(tmp_path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('# checklist\n{"id": "hyd", "question": "Hydrant distance?", "scope": "harbor-foods"}\n\n'
                    "What is the roof?\n")
    first, second = read_queries(path)
    assert (first.id, first.question, first.scope, first.line) == ("hyd", "Hydrant distance?", "harbor-foods", 2)
    assert (second.question, second.scope, second.line) == ("What is the roof?", None, 4)


@pytest.mark.parametrize(("text", "message"), [
    ('{"question": ""}\n', ":1: no 'question' string"),
    ("{not json\n", ":1: invalid JSON"),
    ('{"question": "q", "scope": 3}\n', ":1: 'scope' must be"),
])
def test_read_batch_names_the_file_and_line(tmp_path, text: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(QueryFileError) as caught:
        read_queries(path)
    assert str(path) in str(caught.value) and message in str(caught.value)


@pytest.mark.slow
def test_ask_batch_answers_every_question_in_one_process(cli, tmp_path) -> None:
    path = tmp_path / "checklist.jsonl"
    path.write_text(json.dumps({"id": "h", "question": "How far is the nearest public hydrant?"}) + "\n"
                    + json.dumps({"id": "f", "question": "What is the capital of France?"}) + "\n")
    result = cli("ask", "--batch", str(path), "--scope", "harbor-foods", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [row["id"] for row in rows] == ["h", "f"]
    assert rows[0]["kind"] in ("answer", "quote") and rows[0]["scope"] == "harbor-foods"
    assert all(c["submission"] == "harbor-foods" for c in rows[0]["citations"])
    assert rows[1]["kind"] == "declined"


def test_ask_batch_without_questions_says_so(cli, tmp_path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n# nothing\n")
    result = cli("ask", "--batch", str(path))
    assert result.exit_code == 2 and "no questions" in result.stderr and str(path) in result.stderr


def test_ask_needs_a_question_or_a_batch(cli) -> None:
    result = cli("ask")
    assert result.exit_code == 2 and "--batch" in result.stderr

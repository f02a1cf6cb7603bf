"""Query files (`search --batch`, `ask --batch`): one question per line, or JSON lines with a
`question` and optionally an `id` and a `scope` (the submission it is about). A bad line is reported
with the file and line number before anything runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class QueryFileError(ValueError):
    """A query file line that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class Query:
    id: str
    question: str
    scope: str | None = None
    line: int = 0


def read_queries(path: Path) -> list[Query]:
    """Read a batch file; blank lines and lines starting with '#' are ignored."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryFileError(f"{path}: cannot read ({exc})") from exc
    queries = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("{"):
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise QueryFileError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
            question = record.get("question") or record.get("query")
            if not isinstance(question, str) or not question.strip():
                raise QueryFileError(f"{path}:{number}: no 'question' string")
            scope = record.get("scope")
            if scope is not None and not isinstance(scope, str):
                raise QueryFileError(f"{path}:{number}: 'scope' must be a submission's folder name")
            queries.append(Query(str(record.get("id", number)), question.strip(), scope, number))
        else:
            queries.append(Query(str(number), text, None, number))
    return queries

"""Question batches: the checklist an underwriter asks of every submission, read from one file.

A batch file is JSON lines, each an object with a "question" (and optionally an "id" and a "scope", the
submission it is about), or plain text with one question per line. Blank lines and lines starting with
`#` are skipped. A bad line is reported with the file and line number before anything is answered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class BatchError(ValueError):
    """A batch file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class BatchQuestion:
    id: str
    question: str
    scope: str | None
    line: int


def read_batch(path: Path) -> list[BatchQuestion]:
    """The questions of a batch file, in order (see the module docstring)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchError(f"{path}: cannot read: {exc}") from None
    found: list[BatchQuestion] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise BatchError(f"{path}:{number}: not valid JSON ({exc})") from None
            question = data.get("question") if isinstance(data, dict) else None
            if not isinstance(question, str) or not question.strip():
                raise BatchError(f"{path}:{number}: needs a non-empty \"question\" string")
            scope = data.get("scope")
            if scope is not None and not isinstance(scope, str):
                raise BatchError(f"{path}:{number}: \"scope\" must be a submission's folder name")
            found.append(BatchQuestion(str(data.get("id", len(found) + 1)), question.strip(), scope, number))
        else:
            found.append(BatchQuestion(str(len(found) + 1), line, None, number))
    if not found:
        raise BatchError(f"{path}: no questions")
    return found

"""Training data: chat-format JSON lines and their validator.

A training file holds one example a line: `{"messages": [{"role": ..., "content": ...}, ...]}`,
an optional system turn first, then user and assistant turns alternating, ending with the assistant
(the turns the model learns). `validate_file` reads a whole file and reports every bad line with
file, line number and reason before any training starts. The grounded starter set is built on the
product's side (`assistant.tuning.starter_set`): this package never imports `assistant`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune import TuningError

ROLES = ("system", "user", "assistant")
MAX_REPORTED = 20


# ---- validation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    """One bad line of a training file."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class DatasetError(TuningError):
    """A training file cannot be used; `issues` lists every bad line found."""

    def __init__(self, message: str, issues: Sequence[Issue] = ()) -> None:
        self.issues = list(issues)
        if self.issues:
            shown = "\n".join(f"  {issue}" for issue in self.issues[:MAX_REPORTED])
            more = len(self.issues) - MAX_REPORTED
            message = f"{message}\n{shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        super().__init__(message)


def check_example(example: Any) -> str | None:
    """Why one parsed line is not a usable training example, or None when it is."""
    if not isinstance(example, dict):
        return f"expected a JSON object, got {type(example).__name__}"
    messages = example.get("messages")
    if messages is None:
        return 'missing "messages"'
    if not isinstance(messages, list) or not messages:
        return '"messages" must be a non-empty list'
    for index, message in enumerate(messages, start=1):
        if not isinstance(message, dict):
            return f"message {index} is not an object"
        role, content = message.get("role"), message.get("content")
        if role not in ROLES:
            return f"message {index}: role {role!r} is not one of {', '.join(ROLES)}"
        if not isinstance(content, str):
            return f"message {index}: content must be a string"
        if not content.strip():
            return f"message {index}: empty content"
        if role == "system" and index != 1:
            return f"message {index}: a system message may only come first"
    turns = [message["role"] for message in messages if message["role"] != "system"]
    if not turns:
        return "no user or assistant turn"
    for index, role in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            return f"turns must alternate user/assistant starting with user; turn {index + 1} is {role}"
    if turns[-1] != "assistant":
        return "the last message must be an assistant turn (the part the model learns)"
    return None


def validate_file(path: str | Path) -> list[dict[str, Any]]:
    """Read and check a JSON-lines training file; every bad line is reported at once.

    Blank lines are skipped. Raises `DatasetError` (with `issues`) when any line is bad or the file
    holds no example; returns the examples otherwise.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"cannot read training data {path}: {exc.strerror or exc}") from exc
    examples: list[dict[str, Any]] = []
    issues: list[Issue] = []
    for number, line_bytes in enumerate(raw.split(b"\n"), start=1):
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            issues.append(Issue(str(path), number, f"not UTF-8 text (byte {exc.start})"))
            continue
        if not line.strip():
            continue
        try:
            example = json.loads(line)
        except json.JSONDecodeError as exc:
            issues.append(Issue(str(path), number, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            continue
        reason = check_example(example)
        if reason is not None:
            issues.append(Issue(str(path), number, reason))
            continue
        examples.append(example)
    if issues:
        plural = "s" if len(issues) > 1 else ""
        raise DatasetError(f"{path}: {len(issues)} bad line{plural}; nothing was trained", issues)
    if not examples:
        raise DatasetError(f"{path}: no training examples (the file is empty)")
    return examples


def data_hash(path: str | Path) -> str:
    """sha256 of the training file's bytes, recorded in the adapter card."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def write_jsonl(path: str | Path, examples: Iterable[dict[str, Any]]) -> Path:
    """Write examples one a line, atomically (a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            for example in examples:
                out.write(json.dumps(example, ensure_ascii=False) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---- fact extraction --------------------------------------------------------------------------

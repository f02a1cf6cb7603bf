"""The summary template: a user-editable TOML file of fields, read and checked here.

The shipped default is `assistant/summaries/templates/summary.toml` (its comments document every setting).
The template's hash covers what changes results (instructions, fields, answer budget), not its
comments or layout, and is part of the resume key of every stored summary.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "summary.toml"
KINDS = ("text", "list")
METHODS = ("model", "extract")
SCOPES = ("sentence", "page")
# Keys of a JSON-lines summary object besides the fields: a field may not take one of these names.
RESERVED_KEYS = frozenset((
    "document", "file", "title", "insured_group", "insured_name", "documents", "pages", "model", "template",
    "template_hash", "windows", "requests", "content_hash", "status",
))
_KEY = re.compile(r"[a-z][a-z0-9_]{0,40}")


class TemplateError(ValueError):
    """The template file cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of the summary."""

    key: str
    label: str
    kind: str = "text"
    method: str = "model"
    question: str = ""
    keywords: tuple[str, ...] = ()
    group: str = ""
    pattern: re.Pattern[str] | None = None
    pattern_scope: str = "sentence"
    require_keyword: bool = False
    pattern_only: bool = True
    sentences: bool = True
    display: str = ""
    max_items: int = 10
    keyword_regexes: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)

    def keyword_score(self, text: str) -> int:
        """How many of the field's keywords `text` mentions."""
        return sum(1 for regex in self.keyword_regexes if regex.search(text))


@dataclass(frozen=True)
class SummaryTemplate:
    """The instructions and fields of a summary, with the hash that keys stored results."""

    name: str
    instructions: str
    fields: tuple[FieldSpec, ...]
    answer_tokens: int = 24
    not_stated: str = "not stated"
    path: str = ""
    hash: str = ""

    def field(self, key: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.key == key)


def keyword_regex(keyword: str) -> re.Pattern[str]:
    """A case-insensitive, word-bounded regex for a keyword or phrase; a trailing * matches any ending."""
    word = keyword.strip()
    open_end = word.endswith("*")
    parts = [re.escape(part) for part in word.rstrip("*").split()]
    body = r"[\s\-]+".join(parts)
    tail = r"[\w-]*" if open_end else r"(?![\w])"
    return re.compile(r"(?<![\w])" + body + tail, re.IGNORECASE)


def load_template(path: Path | str | None = None) -> SummaryTemplate:
    """Read and check a template file (the shipped default when `path` is None)."""
    source = Path(path).expanduser() if path else DEFAULT_TEMPLATE
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"cannot read template {source}: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"template {source} is not valid TOML: {exc}") from exc
    return parse_template(data, str(source))


def parse_template(data: dict[str, Any], origin: str = "<template>") -> SummaryTemplate:
    """A template from parsed TOML data; every problem is a `TemplateError` naming the field."""

    def fail(message: str) -> TemplateError:
        return TemplateError(f"template {origin}: {message}")

    instructions = data.get("instructions")
    if not isinstance(instructions, str) or not instructions.strip():
        raise fail("`instructions` must be a non-empty string")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise fail("needs at least one [[fields]] entry")
    answer_tokens = data.get("answer_tokens", 24)
    if not isinstance(answer_tokens, int) or not 1 <= answer_tokens <= 4096:
        raise fail("`answer_tokens` must be an integer from 1 to 4096")
    not_stated = data.get("not_stated", "not stated")
    if not isinstance(not_stated, str) or not not_stated.strip():
        raise fail("`not_stated` must be a non-empty string")
    specs: list[FieldSpec] = []
    for index, raw in enumerate(raw_fields, start=1):
        if not isinstance(raw, dict):
            raise fail(f"field {index} is not a table")
        specs.append(_field(raw, index, fail))
    keys = [spec.key for spec in specs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise fail(f"duplicate field keys: {', '.join(duplicates)}")
    canonical = json.dumps({"instructions": instructions, "fields": raw_fields, "answer_tokens": answer_tokens,
                            "not_stated": not_stated}, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return SummaryTemplate(name=str(data.get("name") or "summary"), instructions=instructions.strip(),
                           fields=tuple(specs), answer_tokens=answer_tokens, not_stated=not_stated.strip(),
                           path=origin, hash=digest)


def _field(raw: dict[str, Any], index: int, fail: Any) -> FieldSpec:
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise fail(f"field {index}: `key` must be lower case letters, digits and underscores")
    if key in RESERVED_KEYS:
        raise fail(f"field {key!r}: the key is reserved ({', '.join(sorted(RESERVED_KEYS))})")
    known = {"key", "label", "kind", "method", "question", "keywords", "group", "pattern", "pattern_scope",
             "require_keyword", "pattern_only", "sentences", "display", "max_items"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise fail(f"field {key!r}: unknown settings {', '.join(unknown)}")
    kind = raw.get("kind", "text")
    method = raw.get("method", "model")
    scope = raw.get("pattern_scope", "sentence")
    if kind not in KINDS:
        raise fail(f"field {key!r}: kind must be one of {', '.join(KINDS)}")
    if method not in METHODS:
        raise fail(f"field {key!r}: method must be one of {', '.join(METHODS)}")
    if scope not in SCOPES:
        raise fail(f"field {key!r}: pattern_scope must be one of {', '.join(SCOPES)}")
    question = raw.get("question", "")
    if method == "model" and (not isinstance(question, str) or not question.strip()):
        raise fail(f"field {key!r}: method \"model\" needs a `question`")
    keywords = raw.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip(" *") for k in keywords):
        raise fail(f"field {key!r}: `keywords` must be a list of non-empty strings")
    pattern_text = raw.get("pattern")
    pattern = None
    if pattern_text is not None:
        try:
            pattern = re.compile(str(pattern_text), re.MULTILINE)
        except re.error as exc:
            raise fail(f"field {key!r}: bad pattern: {exc}") from exc
    if not keywords and pattern is None:
        raise fail(f"field {key!r}: needs `keywords` or a `pattern` (candidates are found with them)")
    display = raw.get("display", "")
    if not isinstance(display, str) or (display and pattern is None):
        raise fail(f"field {key!r}: `display` must be a format string, and needs a `pattern`")
    if display and pattern is not None:
        names = set(re.findall(r"\{(\w+)\}", display))
        if not names or names - set(pattern.groupindex):
            raise fail(f"field {key!r}: `display` may only name the pattern's groups ({', '.join(pattern.groupindex)})")
    sentences = bool(raw.get("sentences", True))
    if not sentences and pattern is None:
        raise fail(f"field {key!r}: `sentences = false` needs a `pattern`")
    max_items = raw.get("max_items", 10)
    if not isinstance(max_items, int) or max_items < 1:
        raise fail(f"field {key!r}: `max_items` must be a positive integer")
    return FieldSpec(
        key=key, label=str(raw.get("label") or key.replace("_", " ").capitalize()), kind=kind, method=method,
        question=" ".join(str(question).split()), keywords=tuple(keywords), group=str(raw.get("group") or ""),
        pattern=pattern, pattern_scope=scope, require_keyword=bool(raw.get("require_keyword", False)),
        pattern_only=bool(raw.get("pattern_only", pattern is not None)), sentences=sentences, display=display,
        max_items=max_items,
        keyword_regexes=tuple(keyword_regex(k) for k in keywords),
    )

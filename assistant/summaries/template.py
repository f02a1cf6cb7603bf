"""The summary template: a user-editable TOML file naming which fields of the submission profile a
summary shows, in what order, under what labels. Read and checked here.

A summary extracts nothing itself: every statement in it is a value of the profile (`assistant.profile`),
read from a table row, a sentence, or (for descriptive fields the patterns leave unstated) chosen by the
model and verified. The template only picks and labels them, so there is one way to extract, not two.

The shipped default is `assistant/summaries/templates/summary.toml` (its comments document every setting).
The template's hash covers what changes results (fields and their order, labels, `not_stated`), not its
comments or layout.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.profile.model import LOCATION_FIELDS, TOTAL_FIELDS

DEFAULT_TEMPLATE = Path(__file__).resolve().parent / "templates" / "summary.toml"
KINDS = ("text", "list")
# What a field may show (`from`): submission facts, a per-location field, a stated or derived total, and the
# profile's lists.
SUBMISSION_SOURCES = ("insured", "effective_date", "valuation_date", "premium")
LIST_SOURCES = ("locations", "claims", "recommendations", "requests", "conflicts")
SOURCES = (*SUBMISSION_SOURCES, *LIST_SOURCES, *(f"location.{key}" for key in LOCATION_FIELDS),
           *(f"totals.{key}" for key in TOTAL_FIELDS))
# Keys of a JSON-lines summary object besides the fields: a field may not take one of these names.
RESERVED_KEYS = frozenset((
    "document", "file", "title", "insured_group", "insured_name", "documents", "pages", "model", "template",
    "template_hash", "requests_made", "content_hash", "status", "submission", "role", "flagged",
))
_KEY = re.compile(r"[a-z][a-z0-9_]{0,40}")


class TemplateError(ValueError):
    """The template file cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of the summary: which profile value(s) it shows."""

    key: str
    label: str
    source: str  # one of SOURCES
    kind: str = "text"  # "text": one value per location (the profile's shown one); "list": every statement
    group: str = ""
    max_items: int = 10
    empty: str = ""  # what an empty field reads instead of the template's not_stated ("none found")


@dataclass(frozen=True)
class SummaryTemplate:
    """The fields of a summary, with the hash that identifies the template."""

    name: str
    fields: tuple[FieldSpec, ...]
    not_stated: str = "not stated"
    path: str = ""
    hash: str = ""

    def field(self, key: str) -> FieldSpec:
        return next(spec for spec in self.fields if spec.key == key)


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

    unknown = sorted(set(data) - {"name", "not_stated", "fields"})
    if unknown:
        raise fail(f"unknown settings {', '.join(unknown)} (a template names profile fields; see the shipped "
                   f"{DEFAULT_TEMPLATE.name})")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise fail("needs at least one [[fields]] entry")
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
    canonical = json.dumps({"fields": raw_fields, "not_stated": not_stated}, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return SummaryTemplate(name=str(data.get("name") or "summary"), fields=tuple(specs),
                           not_stated=not_stated.strip(), path=origin, hash=digest)


def _field(raw: dict[str, Any], index: int, fail: Any) -> FieldSpec:
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise fail(f"field {index}: `key` must be lower case letters, digits and underscores")
    if key in RESERVED_KEYS:
        raise fail(f"field {key!r}: the key is reserved ({', '.join(sorted(RESERVED_KEYS))})")
    unknown = sorted(set(raw) - {"key", "label", "from", "kind", "group", "max_items", "empty"})
    if unknown:
        raise fail(f"field {key!r}: unknown settings {', '.join(unknown)}")
    source = raw.get("from")
    if source not in SOURCES:
        raise fail(f"field {key!r}: `from` must name a profile field: {', '.join(SOURCES)}")
    kind = raw.get("kind", "list" if source in LIST_SOURCES else "text")
    if kind not in KINDS:
        raise fail(f"field {key!r}: kind must be one of {', '.join(KINDS)}")
    max_items = raw.get("max_items", 10)
    if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
        raise fail(f"field {key!r}: `max_items` must be a positive integer")
    empty = raw.get("empty", "")
    if not isinstance(empty, str):
        raise fail(f"field {key!r}: `empty` must be a string")
    return FieldSpec(key=key, label=str(raw.get("label") or key.replace("_", " ").capitalize()), source=source,
                     kind=kind, group=str(raw.get("group") or ""), max_items=max_items, empty=empty.strip())

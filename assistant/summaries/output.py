"""Summaries as reports: per document or per insured, in Markdown, JSON lines or CSV.

Citations read `file:page`. Per insured, every document of the insured contributes its statements,
each cited to its own file and page; the same statement in several documents is shown once with all
its citations. A field no document states reads the template's "not stated".
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.summaries.summarizer import DocumentSummary, FieldResult, Item

FORMATS = ("md", "jsonl", "csv")
PER = ("document", "insured")
EXCEL_CELL_LIMIT = 32_000  # Excel refuses cells over 32,767 characters


def normalized(text: str) -> str:
    """A statement's words, for telling the same statement in two documents: lower case, letters and digits."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


@dataclass
class Statement:
    """One statement of a field with every place it comes from."""

    text: str
    citations: list[str]
    quote: str = ""
    method: str = ""
    page: int = 0
    file: str = ""
    parts: dict[str, str] = field(default_factory=dict)
    locations: list[str] = field(default_factory=list)  # where in its file each citation's quote sits


def _where(statement: Statement) -> str:
    """The locations finer than `file:page` (a section and paragraph, a row range), for the report line."""
    shown = [loc for loc in dict.fromkeys(statement.locations) if loc and not loc.startswith("page ")]
    where = f" · {_md('; '.join(shown))}" if shown else ""
    return where + (" · chosen by the model, verified against the quote" if statement.method == "model" else "")


@dataclass
class FieldView:
    key: str
    label: str
    group: str
    kind: str
    statements: list[Statement]
    more: int = 0
    empty: str = ""  # what the field reads with no statement ("": the template's not_stated)


@dataclass
class View:
    """One section of a report: a document, or an insured with its documents."""

    title: str
    meta: dict[str, Any]
    fields: list[FieldView]


def _statement(summary: DocumentSummary, item: Item) -> Statement:
    return Statement(item.text, [f"{summary.file}:{item.page}"], item.quote, item.method, item.page, summary.file,
                     dict(item.parts), [item.location] if item.location else [])


def _field_view(result: FieldResult, statements: list[Statement], more: int) -> FieldView:
    return FieldView(result.key, result.label, result.group, result.kind, statements, more, result.empty)


def document_views(summaries: Sequence[DocumentSummary]) -> list[View]:
    views = []
    for summary in summaries:
        meta = {"document": summary.document, "file": summary.file, "title": summary.title,
                "insured_group": summary.insured_group, "pages": summary.pages, "model": summary.model,
                "template": summary.template, "template_hash": summary.template_hash,
                "submission": summary.submission, "role": summary.role, "requests_made": summary.requests,
                "flagged": summary.flagged}
        fields = [_field_view(result, [_statement(summary, item) for item in result.items], result.more)
                  for result in summary.fields.values()]
        views.append(View(f"{summary.insured_group}/{summary.file}", meta, fields))
    return views


def insured_views(summaries: Sequence[DocumentSummary]) -> list[View]:
    groups: dict[str, list[DocumentSummary]] = {}
    for summary in summaries:
        groups.setdefault(summary.insured_group, []).append(summary)
    views = []
    for group, members in sorted(groups.items()):
        keys = list(dict.fromkeys(key for member in members for key in member.fields))
        fields = []
        for key in keys:
            results = [(member, member.fields[key]) for member in members if key in member.fields]
            merged: dict[str, Statement] = {}
            for member, result in results:
                for item in result.items:
                    norm = normalized(item.text)
                    if norm in merged:
                        citation = f"{member.file}:{item.page}"
                        if citation not in merged[norm].citations:
                            merged[norm].citations.append(citation)
                            if item.location:
                                merged[norm].locations.append(item.location)
                    else:
                        merged[norm] = _statement(member, item)
            fields.append(_field_view(results[0][1], _fold(merged), sum(r.more for _, r in results)))
        names = Counter(item.text for member in members for item in member.fields.get("insured", FieldResult(
            "insured", "", "text")).items)
        meta = {"insured_group": group, "insured_name": names.most_common(1)[0][0] if names else "",
                "documents": [member.document for member in members],
                "pages": sum(member.pages for member in members),
                "model": members[0].model, "template": members[0].template,
                "template_hash": members[0].template_hash}
        views.append(View(group, meta, fields))
    return views


def _fold(merged: dict[str, Statement]) -> list[Statement]:
    """Statements contained in a longer one ("2150 Wharf Road" in "2150 Wharf Road, Port Alder, WA") join it:
    their citations are added to the longer statement's."""
    kept: list[tuple[str, Statement]] = []
    for norm, statement in sorted(merged.items(), key=lambda pair: -len(pair[0])):
        host = next((other for key, other in kept if norm and norm in key), None)
        if host is None:
            kept.append((norm, statement))
        else:
            host.citations += [c for c in statement.citations if c not in host.citations]
    order = list(merged)
    return [statement for _, statement in sorted(kept, key=lambda pair: order.index(pair[0]))]


def views_of(summaries: Sequence[DocumentSummary], per: str = "document") -> list[View]:
    if per not in PER:
        raise ValueError(f"per must be one of {', '.join(PER)}")
    return document_views(summaries) if per == "document" else insured_views(summaries)


def value_text(view: FieldView, not_stated: str) -> str:
    """The field as one line: statements joined by "; ", or "not stated"."""
    if not view.statements:
        return view.empty or not_stated
    text = "; ".join(s.text for s in view.statements)
    return text + (f" (+{view.more} more)" if view.more else "")


# ---- Markdown -----------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Document text made inert in Markdown: one line, markup characters escaped."""
    flat = " ".join(text.split())
    for char in "\\`*_[]<>|#":
        flat = flat.replace(char, "\\" + char)
    return flat


def render_markdown(summaries: Sequence[DocumentSummary], per: str = "document", not_stated: str = "not stated") -> str:
    views = views_of(summaries, per)
    noun = ("document" if per == "document" else "insured") + ("s" if len(views) != 1 else "")
    lines = [f"# Underwriting summaries ({len(views)} {noun})", ""]
    if summaries:
        first = summaries[0]
        model = f"; descriptive fields read by {_md(first.model)}, verified" if first.model else ""
        lines += [f"Template: {_md(first.template)} ({first.template_hash}){model}. Every statement is a value of "
                  f"the submission's profile. Citations are file:page; \"{_md(not_stated)}\" means the document "
                  f"does not state it.", ""]
    for view in views:
        lines.append(f"## {_md(view.title)}")
        meta = view.meta
        if per == "document":
            role = f" · {_md(meta['role'].replace('_', ' '))}" if meta["role"] else ""
            lines.append(f"{_md(meta['document'])} · {meta['pages']} page{'s' if meta['pages'] != 1 else ''}{role}")
            for flagged in meta["flagged"]:
                lines.append(f"\n> **Flagged, left out of this summary:** {_md(flagged)}")
        else:
            name = f"{_md(meta['insured_name'])} · " if meta["insured_name"] else ""
            count = len(meta["documents"])
            lines.append(f"{name}{count} document{'s' if count != 1 else ''}: "
                         + ", ".join(_md(path.rsplit('/', 1)[-1]) for path in meta["documents"]))
        lines.append("")
        group = ""
        for fv in view.fields:
            indent = ""
            if fv.group:
                if fv.group != group:
                    lines.append(f"- **{_md(fv.group)}**")
                indent = "  "
            group = fv.group
            label = f"{indent}- **{_md(fv.label)}**:"
            if not fv.statements:
                lines.append(f"{label} {_md(fv.empty or not_stated)}")
            elif fv.kind == "text" and len(fv.statements) == 1:
                s = fv.statements[0]
                lines.append(f"{label} {_md(s.text)} ({', '.join(s.citations)}){_where(s)}")
            else:
                lines.append(label)
                lines += [f"{indent}  - {_md(s.text)} ({', '.join(s.citations)}){_where(s)}"
                          for s in fv.statements]
                if fv.more:
                    lines.append(f"{indent}  - … and {fv.more} more in the document")
        lines.append("")
    return "\n".join(lines)


# ---- JSON lines ---------------------------------------------------------------------------------


def _field_json(fv: FieldView, not_stated: str) -> dict[str, Any]:
    items = [{"text": s.text, "citations": s.citations, "file": s.file, "page": s.page, "method": s.method,
              "quote": s.quote, "locations": s.locations,
              **{f"part_{k}" if k in ("text", "citations", "file", "page", "method", "quote")
                                   else k: v for k, v in s.parts.items()}} for s in fv.statements]
    citations = list(dict.fromkeys(c for s in fv.statements for c in s.citations))
    return {"value": value_text(fv, not_stated), "stated": bool(fv.statements), "citations": citations,
            "items": items, "more": fv.more}


def render_jsonl(summaries: Sequence[DocumentSummary], per: str = "document", not_stated: str = "not stated") -> str:
    """One JSON object per line: the document's (or insured's) facts, then every field as a key."""
    lines = []
    for view in views_of(summaries, per):
        obj = dict(view.meta)
        for fv in view.fields:
            obj[fv.key] = _field_json(fv, not_stated)
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


# ---- CSV ----------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """A spreadsheet-safe cell: one line, not read as a formula, within Excel's cell size."""
    flat = " ".join(str(text).split())
    if flat[:1] in ("=", "+", "-", "@"):
        flat = "'" + flat
    return flat[:EXCEL_CELL_LIMIT]


def render_csv(summaries: Sequence[DocumentSummary], per: str = "document", not_stated: str = "not stated") -> str:
    """One row per document (or insured); each field a column of `statement [file:page]; ...`."""
    views = views_of(summaries, per)
    keys = list(dict.fromkeys(fv.key for view in views for fv in view.fields))
    head = ["document", "insured_group", "title", "pages"] if per == "document" else [
        "insured_group", "insured_name", "documents", "pages"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head + keys)
    for view in views:
        meta = view.meta
        if per == "document":
            row = [meta["document"], meta["insured_group"], meta["title"], str(meta["pages"])]
        else:
            row = [meta["insured_group"], meta["insured_name"],
                   "; ".join(path.rsplit("/", 1)[-1] for path in meta["documents"]), str(meta["pages"])]
        by_key = {fv.key: fv for fv in view.fields}
        for key in keys:
            fv = by_key.get(key)
            if fv is None or not fv.statements:
                row.append((fv.empty if fv is not None else "") or not_stated)
                continue
            text = "; ".join(f"{s.text} [{', '.join(s.citations)}]" for s in fv.statements)
            row.append(text + (f" (+{fv.more} more)" if fv.more else ""))
        writer.writerow([_cell(cell) for cell in row])
    return buffer.getvalue()


def render(summaries: Sequence[DocumentSummary], fmt: str = "md", per: str = "document",
           not_stated: str = "not stated") -> str:
    """The report in `fmt` (md, jsonl or csv)."""
    renderers = {"md": render_markdown, "jsonl": render_jsonl, "csv": render_csv}
    if fmt not in renderers:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return renderers[fmt](summaries, per, not_stated)

"""E-mail: a broker's `.eml` or `.msg` read into its body and its attachments, each a document of its own.

The body (with the sender, recipients, date and subject as its first lines) is the message's document;
every attachment becomes a document whose path is `<message path> > <attachment name>`, recursively for
attached messages (`a.eml > fwd.eml > sov.xlsx`), so `dirname()` of every part is still the submission's
folder. An attachment that cannot be read fails alone; the rest of the message goes in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from index.loaders import (
    MESSAGE_KINDS,
    LoadError,
    NoText,
    _one_line,
    _parse_html,
    _title_from_name,
    kind_of,
    load_document,
)
from index.types import LoadedDocument, Page

MAX_DEPTH = 5  # attached messages within attached messages, at most


@dataclass
class Attachment:
    name: str
    data: bytes = b""
    message: Message | None = None  # an attached message, already read
    error: str = ""  # why it could not be taken out of the message


@dataclass
class Message:
    kind: str  # "eml" or "msg"
    sender: str = ""
    to: str = ""
    date: str = ""
    subject: str = ""
    text: str = ""  # the body as plain text
    html: str = ""  # the body as HTML, when it has no plain-text part
    attachments: list[Attachment] = field(default_factory=list)

    def meta(self) -> tuple[tuple[str, str], ...]:
        return tuple((key, value) for key, value in (("from", self.sender), ("to", self.to), ("date", self.date),
                                                     ("subject", self.subject)) if value)

    def body(self) -> tuple[str, list[Page]]:
        """(title, pages) of the body: the header lines first, then the text (hidden HTML kept apart)."""
        header = "\n".join(f"{name}: {value}" for name, value in (("From", self.sender), ("To", self.to),
                                                                 ("Date", self.date), ("Subject", self.subject))
                           if value)
        hidden: tuple = ()
        text = self.text
        if not text.strip() and self.html.strip():
            _, pages = _parse_html(self.html.encode("utf-8"))
            text, hidden = pages[0].text, pages[0].hidden
        text = re.sub(r"\n{3,}", "\n\n", text.replace("\r\n", "\n")).strip()
        return self.subject, [Page(number=1, text=f"{header}\n\n{text}".strip(), hidden=hidden)]


@dataclass(frozen=True)
class Part:
    """One document a file on disk yields: the file itself, or a message's body or attachment.

    `document` is None when the part failed (`error` says why, or `skipped` when it is of a type not read);
    a part with both `document` and `error` was read but has no text (listed with status "no text")."""

    path: str
    data: bytes = b""
    document: LoadedDocument | None = None
    error: str = ""
    skipped: bool = False


def load_parts(path: Path, data: bytes) -> list[Part]:
    """The documents a file holds: itself, or for an e-mail its body then each attachment (recursively).

    The file's own LoadError (NoText included) is raised; an attachment's comes back as a failed Part."""
    kind = kind_of(path)
    if kind not in MESSAGE_KINDS:
        return [Part(str(path), data, load_document(path, data))]
    message = read_message(kind, data)
    return _message_parts(str(path), message, data, parent=str(path), depth=0)


def _message_parts(label: str, message: Message, data: bytes, parent: str, depth: int) -> list[Part]:
    title, pages = message.body()
    text = pages[0].text
    body = LoadedDocument(path=label, title=title or _title_from_name(Path(label)), pages=pages, kind=message.kind,
                          pages_in=1, pages_text=1 if text.strip() else 0, pages_empty=0 if text.strip() else 1,
                          meta=message.meta(), parent=parent if label != parent else "")
    parts = [Part(label, data, body)]
    names: set[str] = set()
    for number, attachment in enumerate(message.attachments, start=1):
        child = f"{label} > {_unique(_safe_name(attachment.name, number), names)}"
        if attachment.error:
            parts.append(Part(child, error=attachment.error))
        elif attachment.message is not None or kind_of(Path(child)) in MESSAGE_KINDS:
            parts += _attached_message(child, attachment, parent, depth + 1)
        elif kind_of(Path(child)) is None:
            suffix = Path(child).suffix or "(no extension)"
            parts.append(Part(child, attachment.data, error=f"unsupported file type {suffix}", skipped=True))
        else:
            parts.append(_attachment_part(child, attachment.data, parent))
    return parts


def _attached_message(child: str, attachment: Attachment, parent: str, depth: int) -> list[Part]:
    if depth > MAX_DEPTH:
        return [Part(child, attachment.data, error=f"messages nested more than {MAX_DEPTH} deep")]
    try:
        inner = attachment.message or read_message(kind_of(Path(child)) or "eml", attachment.data)
    except LoadError as exc:
        return [Part(child, attachment.data, error=str(exc))]
    return _message_parts(child, inner, attachment.data, parent, depth)


def _attachment_part(child: str, data: bytes, parent: str) -> Part:
    if not data:
        return Part(child, data, error="empty attachment (0 bytes)")
    try:
        document = load_document(Path(child), data)
    except NoText as exc:
        return Part(child, data, dataclasses.replace(exc.document, parent=parent), error=str(exc))
    except LoadError as exc:
        return Part(child, data, error=str(exc))
    except Exception as exc:  # a parser's bug must not take the rest of the message with it
        return Part(child, data, error=f"could not be read ({_one_line(exc)})")
    return Part(child, data, dataclasses.replace(document, parent=parent))


def _safe_name(name: str, number: int) -> str:
    """An attachment's name as a path segment: no folder separators, no ` > `, no control characters."""
    name = re.sub(r"[/\\\x00-\x1f]", "_", name or "").replace(">", "_").strip(" .")
    return name or f"attachment {number}"


def _unique(name: str, seen: set[str]) -> str:
    candidate, count = name, 1
    while candidate.lower() in seen:
        count += 1
        stem, suffix = Path(name).stem, Path(name).suffix
        candidate = f"{stem} ({count}){suffix}"
    seen.add(candidate.lower())
    return candidate


# ---- reading ----------------------------------------------------------------------------------------


def read_message(kind: str, data: bytes) -> Message:
    """An `.eml` (RFC 5322, by the standard library) or `.msg` (Outlook, by extract-msg) read whole."""
    return _read_msg(data) if kind == "msg" else _read_eml(data)


def _read_eml(data: bytes) -> Message:
    import email
    from email import policy
    from email.message import EmailMessage

    try:
        parsed = email.message_from_bytes(data, policy=policy.default)
    except Exception as exc:
        raise LoadError(f"corrupt e-mail ({_one_line(exc)})") from exc
    if not any(parsed.get(name) for name in ("from", "to", "subject", "date", "message-id", "content-type")):
        raise LoadError("not an e-mail message (no From, To, Subject or Date header)")
    assert isinstance(parsed, EmailMessage)
    return _from_email(parsed)


def _from_email(parsed: object) -> Message:
    from email.message import EmailMessage

    assert isinstance(parsed, EmailMessage)

    def header(name: str) -> str:
        try:
            return " ".join(str(parsed.get(name) or "").split())
        except Exception:
            return ""

    message = Message("eml", header("from"), header("to"), header("date"), header("subject"))
    try:
        body = parsed.get_body(preferencelist=("plain", "html"))
        if body is not None:
            content = _content_text(body)
            if body.get_content_type() == "text/html":
                message.html = content
            else:
                message.text = content
        elif not parsed.is_multipart() and parsed.get_content_maintype() == "text":
            message.text = _content_text(parsed)
        attachments = list(parsed.iter_attachments())
    except Exception as exc:
        raise LoadError(f"corrupt e-mail ({_one_line(exc)})") from exc
    for number, part in enumerate(attachments, start=1):
        message.attachments.append(_email_attachment(part, number))
    return message


def _content_text(part: object) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""  # type: ignore[attr-defined]
        content = payload.decode("utf-8", errors="replace")
    return content if isinstance(content, str) else ""


def _email_attachment(part: object, number: int) -> Attachment:
    from email.message import EmailMessage

    ctype = part.get_content_type()  # type: ignore[attr-defined]
    name = part.get_filename() or ""  # type: ignore[attr-defined]
    try:
        if ctype == "message/rfc822":
            inner = part.get_content()  # type: ignore[attr-defined]
            if isinstance(inner, EmailMessage):
                subject = " ".join(str(inner.get("subject") or "").split())
                return Attachment(name or f"{subject or f'attached message {number}'}.eml", inner.as_bytes(),
                                  _from_email(inner))
        data = part.get_payload(decode=True) or b""  # type: ignore[attr-defined]
    except LoadError as exc:
        return Attachment(name or f"attachment {number}", error=str(exc))
    except Exception as exc:
        return Attachment(name or f"attachment {number}", error=f"cannot be decoded ({_one_line(exc)})")
    if not name:
        name = f"attachment {number}{mimetypes.guess_extension(ctype) or ''}"
    return Attachment(name, data)


def _read_msg(data: bytes) -> Message:
    import extract_msg

    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    try:
        msg = extract_msg.openMsg(data, strict=False)
    except Exception as exc:
        raise LoadError(f"corrupt MSG ({_one_line(exc)})") from exc
    try:
        return _from_msg(msg)
    finally:
        with contextlib.suppress(Exception):
            msg.close()


def _from_msg(msg: object) -> Message:
    def prop(name: str) -> str:
        try:
            value = getattr(msg, name, None)
        except Exception:
            return ""
        if value is None:
            return ""
        return " ".join(str(value).split())

    message = Message("msg", prop("sender"), prop("to"), prop("date"), prop("subject"))
    try:
        message.text = getattr(msg, "body", None) or ""
    except Exception:
        message.text = ""
    if not message.text.strip():
        try:
            html = getattr(msg, "htmlBody", None) or b""
            message.html = html.decode("utf-8", errors="replace") if isinstance(html, bytes) else str(html)
        except Exception:
            message.html = ""
    try:
        attachments = list(getattr(msg, "attachments", None) or [])
    except Exception as exc:
        raise LoadError(f"corrupt MSG ({_one_line(exc)})") from exc
    for number, attachment in enumerate(attachments, start=1):
        message.attachments.append(_msg_attachment(attachment, number))
    return message


def _msg_attachment(attachment: object, number: int) -> Attachment:
    def first(*names: str) -> str:
        for name in names:
            try:
                value = getattr(attachment, name, None)
            except Exception:
                value = None
            if value:
                return str(value)
        return ""

    name = first("longFilename", "shortFilename", "displayName", "name")
    try:
        data = attachment.data  # type: ignore[attr-defined]
    except Exception as exc:
        return Attachment(name or f"attachment {number}", error=f"cannot be taken out ({_one_line(exc)})")
    if data is None:
        return Attachment(name or f"attachment {number}", error="the attachment holds no data")
    if isinstance(data, bytes | bytearray):
        return Attachment(name or f"attachment {number}", bytes(data))
    if hasattr(data, "attachments"):  # an embedded message (extract-msg opened it)
        inner = _from_msg(data)
        label = name or f"{inner.subject or f'attached message {number}'}.msg"
        if not Path(label).suffix:
            label += ".msg"
        return Attachment(label, (inner.text or inner.html).encode("utf-8"), inner)
    return Attachment(name or f"attachment {number}", error=f"an attachment of a kind not read ({type(data).__name__})")

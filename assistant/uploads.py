"""Uploaded files (from the UI or the application API), saved safely under `<workspace>/uploads/`.

A browser sends a file name we do not trust. `safe_name` keeps the last path component only,
refuses `..`, hidden names, control characters and unsupported types, and replaces anything
outside a small character set. `save_upload` refuses empty and oversized files, writes to a
hidden temporary file and links it into place without ever replacing an existing file: a
name already taken gets a numbered suffix, and the same content uploaded twice is kept once.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from assistant.payloads import human_bytes
from index.loaders import SUPPORTED_SUFFIXES

UPLOADS_FOLDER = "uploads"
MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r"[^\w.\- ()+,&@]")  # \w is Unicode-aware: accented letters are kept
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


class UploadRefused(ValueError):
    """An upload we will not store; `str(error)` is the message shown to the user."""


@dataclass(frozen=True)
class SavedUpload:
    path: Path  # where the file now lives (inside the uploads folder)
    original: str  # the name the browser sent
    renamed: bool  # saved under another name (sanitized, or numbered because the name was taken)
    duplicate: bool  # the same content was already there: nothing new was written


def supported_types() -> str:
    return ", ".join(sorted(SUPPORTED_SUFFIXES))


def safe_name(name: str) -> str:
    """A file name safe to create inside the uploads folder, or `UploadRefused` with the reason."""
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UploadRefused("the file name contains control characters")
    name = unicodedata.normalize("NFC", name).strip()
    parts = [part for part in re.split(r"[/\\]+", name) if part]
    if any(part.strip() == ".." for part in parts):
        raise UploadRefused("the file name points outside its folder (..)")
    base = parts[-1].strip() if parts and not name.endswith(("/", "\\")) else ""
    if not base or base.strip(".") == "":
        raise UploadRefused("the file has no name")
    if base.startswith("."):
        raise UploadRefused(f"hidden files are not accepted ({base})")
    stem, suffix = os.path.splitext(base)
    suffix = suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = suffix or "(no extension)"
        raise UploadRefused(f"unsupported file type {kind}; supported: {supported_types()}")
    stem = re.sub(r"_+", "_", _UNSAFE.sub("_", stem)).strip(" ._") or "upload"
    if stem.lower() in _RESERVED:
        stem = f"{stem}_"
    stem = stem[: MAX_NAME_CHARS - len(suffix)].rstrip(" .")
    return stem + suffix


def uploads_dir(workspace: Path) -> Path:
    return Path(workspace) / UPLOADS_FOLDER


def save_upload(workspace: Path, name: str, data: bytes, max_bytes: int) -> SavedUpload:
    """Store `data` under `<workspace>/uploads/` as a safe, new name; never overwrites a file."""
    clean = safe_name(name)
    if not data:
        raise UploadRefused("the file is empty (0 bytes)")
    if len(data) > max_bytes:
        raise UploadRefused(f"the file is {human_bytes(len(data))}, over the {human_bytes(max_bytes)} limit")
    folder = uploads_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    real = folder.resolve(strict=True)
    digest = hashlib.sha256(data).hexdigest()
    stem, suffix = os.path.splitext(clean)
    fd, temp = tempfile.mkstemp(prefix=".upload-", dir=real)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        for attempt in range(10_000):
            candidate = real / (clean if attempt == 0 else f"{stem}-{attempt}{suffix}")
            if _same_content(candidate, digest, len(data)):
                return SavedUpload(candidate, name, candidate.name != name, duplicate=True)
            try:
                _place(temp, candidate, data)
            except FileExistsError:
                continue
            return SavedUpload(candidate, name, candidate.name != name, duplicate=False)
        raise UploadRefused(f"too many files named {clean}")
    finally:
        os.unlink(temp)


def _place(temp: str, target: Path, data: bytes) -> None:
    """Give the written temporary file its name; `FileExistsError` when anything (even a dangling link) has it."""
    try:
        os.link(temp, target)
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # a filesystem without hard links: create the name exclusively and write again
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _same_content(path: Path, digest: str, size: int) -> bool:
    """Whether `path` is a regular file (not a link) holding exactly these bytes."""
    try:
        info = path.lstat()
        if not path.is_file() or path.is_symlink() or info.st_size != size:
            return False
        return hashlib.sha256(path.read_bytes()).hexdigest() == digest
    except OSError:
        return False


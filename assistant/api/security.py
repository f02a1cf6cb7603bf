"""The rules for anything that listens: who may bind beyond loopback, and which folders a remote user may ingest.

- `is_loopback(host)`: 127.0.0.0/8, ::1 and `localhost` are this computer only; anything else (0.0.0.0, a
  LAN address, a host name) reaches beyond it.
- `check_exposure(host, ...)`: the one refusal used by `assistant serve`, `serve --app` and `assistant ui`.
- `check_ingest_folder(path, roots)`: a folder typed in the UI or sent to the API is read only when it lies
  under a configured ingest root (`ingest_roots`; by default the workspace's uploads folder), after following
  links, so `..` and symbolic links cannot step outside.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from pathlib import Path


class ExposureRefused(RuntimeError):
    """A server asked to listen beyond this computer without the authentication that requires."""


class FolderRefused(ValueError):
    """A folder outside the configured ingest roots (or not a folder); the message is shown as is."""


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(host: str, *, has_auth: bool, what: str, remedy: str) -> None:
    """ExposureRefused when `host` is beyond loopback and there is no authentication (`remedy` says how)."""
    if not is_loopback(host) and not has_auth:
        raise ExposureRefused(f"refusing to serve {what} on {host} (beyond this computer) without "
                              f"authentication: {remedy}")


def check_ingest_folder(raw: str | Path, roots: Sequence[Path]) -> Path:
    """The resolved folder, if it is a folder under one of `roots` (resolved too); else FolderRefused."""
    text = str(raw).strip()
    if not text:
        raise FolderRefused("type the path of a folder first")
    path = Path(text).expanduser()
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise FolderRefused(f"{text} is not a folder on this computer") from None
    if not resolved.is_dir():
        raise FolderRefused(f"{text} is not a folder on this computer")
    for root in roots:
        root = Path(root).expanduser().resolve()
        if resolved == root or resolved.is_relative_to(root):
            return resolved
    allowed = ", ".join(str(root) for root in roots) or "(none)"
    raise FolderRefused(f"{text} is outside the folders this workspace may ingest ({allowed}); "
                        "an administrator adds folders with the ingest_roots setting (ASSISTANT_INGEST_ROOTS)")

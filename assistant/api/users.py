"""Users and their API keys, kept in `<workspace>/users.sqlite`.

A key is `uak_` + 32 random bytes (URL-safe base64), shown once when the user is added; the store keeps its
SHA-256 only (a 256-bit random secret needs no slow hash), so a copy of the file lets nobody in. A presented
key is hashed and compared with every stored hash by `hmac.compare_digest`, all of them, so neither the time
taken nor an early exit tells which prefix or user came close.

Roles, each allowing what the one before allows: `reader` (search, ask, status, documents, submissions),
`editor` (+ ingest, remove documents), `admin` (+ user management).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

ROLES = ("reader", "editor", "admin")
KEY_PREFIX = "uak_"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(ValueError):
    """A user that cannot be added or removed as asked; the message says why."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    created_at: float = 0.0

    def may(self, role: str) -> bool:
        """Whether this user's role includes `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class UserStore:
    """The users file of one workspace; every call opens, works and closes (safe across threads and processes)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self, create: bool = False) -> sqlite3.Connection:
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self.path.touch(mode=0o600)  # hashes only, still nobody else's business
        db = sqlite3.connect(self.path, timeout=10.0)
        db.execute("CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
                   "key_hash TEXT NOT NULL UNIQUE, created_at REAL NOT NULL)")
        return db

    def _rows(self) -> list[tuple[str, str, str, float]]:
        if not self.path.is_file():
            return []
        with closing(self._connect()) as db:
            return db.execute("SELECT name, role, key_hash, created_at FROM users ORDER BY name").fetchall()

    def add(self, name: str, role: str) -> str:
        """Add a user; returns the new key (the only time it exists in clear)."""
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if not _NAME.match(name):
            raise UserError(f"{name!r} is not a user name (letters, digits, . _ @ -, up to 64, no spaces)")
        key = new_key()
        with closing(self._connect(create=True)) as db, db:
            try:
                db.execute("INSERT INTO users VALUES (?, ?, ?, ?)", (name, role, hash_key(key), time.time()))
            except sqlite3.IntegrityError:
                raise UserError(f"user {name!r} exists; remove it first to give a new key") from None
        return key

    def remove(self, name: str) -> None:
        if not self.path.is_file():
            raise UserError(f"no user {name!r}")
        with closing(self._connect()) as db, db:
            if db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
                raise UserError(f"no user {name!r}")

    def users(self) -> list[User]:
        return [User(name, role, created) for name, role, _, created in self._rows()]

    def any(self) -> bool:
        return bool(self._rows())

    def authenticate(self, key: str | None) -> User | None:
        """The user holding `key`, or None; every stored hash is compared, in constant time each."""
        if not key:
            return None
        given = hash_key(key).encode()
        found = None
        for name, role, stored, created in self._rows():
            if hmac.compare_digest(given, stored.encode()) and found is None:
                found = User(name, role, created)
        return found

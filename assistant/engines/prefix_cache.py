"""A bounded, least-recently-used store of prompt KV caches, keyed by prompt token ids.

The embedded engine's counterpart of SGLang's radix cache: `lookup` finds the stored prompt sharing
the longest token-for-token prefix with a new prompt and hands back that many positions of its
keys and values, so the engine only runs the tokens that differ (the question, in a RAG prompt).

A cache is a sequence of per-layer `(keys, values)` tensors shaped `[batch, kv_heads, seq, head_dim]`
(a transformers `DynamicCache` is accepted by `store` too). Stored tensors are never written to:
`lookup` returns views cropped to the matched length, and callers copy from them (or concatenate onto
them, as `DynamicCache.update` does), never into them. Bounded by entry count and total bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

KV = list[tuple["torch.Tensor", "torch.Tensor"]]


@dataclass
class _Entry:
    ids: tuple[int, ...]
    kv: KV
    nbytes: int


def as_layers(cache: Any) -> KV:
    """Per-layer (keys, values) of a cache given as pairs or as a transformers Cache with `.layers`."""
    if hasattr(cache, "layers"):
        return [(layer.keys, layer.values) for layer in cache.layers]
    return [(pair[0], pair[1]) for pair in cache]


def kv_length(kv: KV) -> int:
    """Positions held by a per-layer cache (0 when empty)."""
    return int(kv[0][0].shape[-2]) if kv else 0


def crop(kv: KV, length: int) -> KV:
    """Views of the first `length` positions of every layer (no copy)."""
    return [(keys[..., :length, :], values[..., :length, :]) for keys, values in kv]


def _storage_bytes(kv: KV) -> int:
    """Memory an entry keeps alive: whole storages, since a view pins its base tensor."""
    seen: set[int] = set()
    total = 0
    for pair in kv:
        for tensor in pair:
            storage = tensor.untyped_storage()
            key = storage.data_ptr()
            if key not in seen:
                seen.add(key)
                total += storage.nbytes()
    return total


def common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Number of leading tokens two sequences share."""
    n = min(len(a), len(b))
    # Compare in blocks: Python slices of tuples compare in C, which is much faster than a loop.
    step = 256
    i = 0
    while i < n:
        j = min(i + step, n)
        if a[i:j] != b[i:j]:
            while a[i] == b[i]:
                i += 1
            return i
        i = j
    return n


class PrefixCache:
    """LRU of prompt KV caches; thread-safe."""

    def __init__(self, max_entries: int = 8, max_mb: float = 512, min_match: int = 1) -> None:
        self.max_entries = max(0, int(max_entries))
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.min_match = max(1, int(min_match))
        self._entries: OrderedDict[tuple[int, ...], _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def prompts(self) -> list[tuple[int, ...]]:
        """Stored prompts, least recently used first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def lookup(self, ids: Sequence[int], max_len: int | None = None) -> tuple[int, KV | None]:
        """Longest stored prefix of `ids`: (matched length, per-layer views of that many positions).

        `max_len` caps the match (an engine passes len(ids) - 1 so at least one token is left to run).
        Returns (0, None) when nothing shares at least `min_match` tokens.
        """
        ids = tuple(ids)
        limit = len(ids) if max_len is None else min(len(ids), max_len)
        with self._lock:
            best_len, best_key = 0, None
            for key, entry in self._entries.items():
                n = min(common_prefix_length(key, ids), limit, kv_length(entry.kv))
                if n > best_len:
                    best_len, best_key = n, key
            if best_key is None or best_len < self.min_match:
                self.misses += 1
                return 0, None
            self._entries.move_to_end(best_key)
            self.hits += 1
            return best_len, crop(self._entries[best_key].kv, best_len)

    def store(self, ids: Sequence[int], cache: Any) -> bool:
        """Keep the KV cache of prompt `ids` (at least len(ids) positions); False if it cannot fit."""
        ids = tuple(ids)
        if not ids or self.max_entries == 0:
            return False
        kv = as_layers(cache)
        if kv_length(kv) < len(ids):
            raise ValueError(f"cache holds {kv_length(kv)} positions, fewer than the {len(ids)} prompt tokens")
        kv = crop(kv, len(ids))
        nbytes = _storage_bytes(kv)
        if nbytes > self.max_bytes:
            return False
        with self._lock:
            # An entry that is a prefix of the new one is superseded by it.
            for key in [k for k in self._entries if len(k) <= len(ids) and ids[: len(k)] == k]:
                self._bytes -= self._entries.pop(key).nbytes
            # A stored prompt that extends this one already serves every lookup this one would.
            for key in self._entries:
                if len(key) > len(ids) and key[: len(ids)] == ids:
                    self._entries.move_to_end(key)
                    return True
            self._entries[ids] = _Entry(ids, kv, nbytes)
            self._bytes += nbytes
            while self._entries and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.nbytes
            return True

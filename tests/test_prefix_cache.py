"""PrefixCache: longest-prefix lookup, no mutation of stored entries, LRU bounds, thread safety."""

from __future__ import annotations

import threading

import pytest
import torch
from transformers import DynamicCache

from assistant.engines.prefix_cache import PrefixCache, common_prefix_length, kv_length

LAYERS, HEADS, DIM = 3, 2, 4


def make_kv(ids: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """A hand-made cache whose every position encodes (layer, token) so tests can check contents."""
    kv = []
    for layer in range(LAYERS):
        token = torch.tensor(ids, dtype=torch.float32).view(1, 1, -1, 1)
        keys = (token + 1000 * layer).expand(1, HEADS, len(ids), DIM).clone()
        kv.append((keys, -keys))
    return kv


def entry_bytes(length: int) -> int:
    return LAYERS * 2 * HEADS * length * DIM * 4


def assert_holds(kv, ids: list[int]) -> None:
    assert kv_length(kv) == len(ids)
    expected = make_kv(ids)
    for (keys, values), (want_k, want_v) in zip(kv, expected, strict=True):
        assert torch.equal(keys, want_k)
        assert torch.equal(values, want_v)


def test_common_prefix_length_across_block_boundaries() -> None:
    a = list(range(1000))
    assert common_prefix_length(a, a) == 1000
    assert common_prefix_length(a, a[:700]) == 700
    assert common_prefix_length([], a) == 0
    for cut in (0, 1, 255, 256, 257, 600, 999):
        b = [*a[:cut], -1, *a[cut + 1 :]]
        assert common_prefix_length(a, b) == cut


def test_lookup_returns_longest_common_prefix_of_any_entry() -> None:
    cache = PrefixCache(max_entries=8, max_mb=64)
    short = [1, 2, 3]
    long = [1, 2, 3, 4, 5, 6, 7, 8]
    other = [9, 9, 9, 9]
    for ids in (short, other):
        cache.store(ids, make_kv(ids))
    cache.store([1, 2, 3, 4, 5, 6, 7, 8, 100], make_kv([1, 2, 3, 4, 5, 6, 7, 8, 100]))

    # Same system prompt and context, another question: the shared part comes back, cropped.
    matched, kv = cache.lookup([*long, 555, 556])
    assert matched == 8
    assert_holds(kv, long)

    matched, kv = cache.lookup([9, 9, 1])
    assert matched == 2
    assert_holds(kv, [9, 9])

    assert cache.lookup([7, 7, 7]) == (0, None)


def test_max_len_leaves_a_token_to_run() -> None:
    cache = PrefixCache()
    ids = [5, 6, 7, 8]
    cache.store(ids, make_kv(ids))
    matched, kv = cache.lookup(ids, max_len=len(ids) - 1)
    assert matched == 3
    assert_holds(kv, [5, 6, 7])


def test_lookup_never_mutates_the_stored_entry() -> None:
    cache = PrefixCache()
    ids = list(range(10, 30))
    cache.store(ids, make_kv(ids))

    matched, kv = cache.lookup([*ids[:5], 0])
    assert matched == 5
    # A generation grows the reused prefix (DynamicCache concatenates) and writes into copies of it.
    dynamic = DynamicCache()
    for layer, (keys, values) in enumerate(kv):
        dynamic.update(keys, values, layer)
        dynamic.update(torch.full((1, HEADS, 3, DIM), 7.0), torch.full((1, HEADS, 3, DIM), 7.0), layer)
    dynamic.crop(-4)

    matched, kv = cache.lookup(ids)
    assert matched == len(ids)
    assert_holds(kv, ids)


def test_store_accepts_a_transformers_cache_and_checks_its_length() -> None:
    ids = [1, 2, 3, 4]
    dynamic = DynamicCache()
    for layer, (keys, values) in enumerate(make_kv(ids)):
        dynamic.update(keys, values, layer)
    cache = PrefixCache()
    assert cache.store(ids, dynamic)
    matched, kv = cache.lookup([1, 2, 3, 4, 5])
    assert matched == 4
    assert_holds(kv, ids)
    with pytest.raises(ValueError, match="fewer than"):
        cache.store([1, 2, 3, 4, 5, 6], make_kv([1, 2]))


def test_least_recently_used_entry_is_evicted_first_by_count() -> None:
    cache = PrefixCache(max_entries=2, max_mb=64)
    a, b, c = [1, 1, 1], [2, 2, 2], [3, 3, 3]
    cache.store(a, make_kv(a))
    cache.store(b, make_kv(b))
    assert cache.lookup([*a, 0])[0] == 3  # touch a: b is now the oldest
    cache.store(c, make_kv(c))
    assert len(cache) == 2
    assert cache.lookup([*b, 0]) == (0, None)
    assert cache.lookup([*a, 0])[0] == 3
    assert cache.lookup([*c, 0])[0] == 3


def test_total_size_is_bounded_in_bytes() -> None:
    length = 100
    max_mb = 2.5 * entry_bytes(length) / (1024 * 1024)  # room for two entries, not three
    cache = PrefixCache(max_entries=100, max_mb=max_mb)
    prompts = [[start, *range(1, length)] for start in (1001, 1002, 1003)]
    for ids in prompts:
        assert cache.store(ids, make_kv(ids))
    assert len(cache) == 2
    assert cache.total_bytes == 2 * entry_bytes(length)
    assert cache.lookup(prompts[0]) == (0, None)
    assert cache.lookup(prompts[2])[0] == length

    too_big = list(range(5000, 5000 + 3 * length))
    assert not cache.store(too_big, make_kv(too_big))
    assert len(cache) == 2


def test_size_counts_the_storage_a_view_pins() -> None:
    ids = list(range(10))
    big = make_kv(list(range(40)))  # 40 positions allocated, 10 of them are the prompt
    cache = PrefixCache()
    cache.store(ids, [(k[..., :10, :], v[..., :10, :]) for k, v in big])
    assert cache.total_bytes == entry_bytes(40)


def test_a_longer_prompt_supersedes_its_prefix() -> None:
    cache = PrefixCache(max_entries=8)
    short, long = [1, 2, 3], [1, 2, 3, 4, 5]
    cache.store(short, make_kv(short))
    cache.store(long, make_kv(long))
    assert cache.prompts() == [tuple(long)]
    assert cache.total_bytes == entry_bytes(len(long))
    cache.store(short, make_kv(short))  # already served by the longer entry
    assert cache.prompts() == [tuple(long)]


def test_disabled_cache_stores_nothing() -> None:
    cache = PrefixCache(max_entries=0)
    assert not cache.store([1, 2], make_kv([1, 2]))
    assert cache.lookup([1, 2, 3]) == (0, None)


def test_concurrent_use_keeps_the_bounds_and_the_accounting() -> None:
    cache = PrefixCache(max_entries=5, max_mb=64)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(200):
                ids = [worker, i % 13, *range(20)]
                if i % 2:
                    cache.store(ids, make_kv(ids))
                else:
                    matched, kv = cache.lookup([*ids, 99])
                    if kv is not None:
                        assert kv_length(kv) == matched
                        assert_holds(kv, ids[:matched])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(cache) <= 5
    assert cache.total_bytes == sum(entry_bytes(len(key)) for key in cache.prompts())

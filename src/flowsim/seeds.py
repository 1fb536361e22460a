"""The seed of every named stream, made many at a time.

A stream's generator is ``PCG64(SeedSequence([seed, replication, *stream_key(name)]))``
(`flowsim.random.stream`). A replication makes some 6,000 of them (about 40 per arrival stream's
fate table) and a warm-started one 15,000, and numpy's `SeedSequence` takes 20-50 µs each: on a
small scenario that was nine tenths of a 5-day run. So the four 64-bit words a `SeedSequence`
hands `PCG64` are computed here, for a whole fate table's names at once, with numpy's own
algorithm (``numpy/random/bit_generator.pyx``: ``mix_entropy`` over a pool of 4 words, then
``generate_state``) written over arrays; tests/model/test_seeds.py checks them word for word
against `SeedSequence`. The words are also kept, so the next scenario of a paired comparison
(the same streams on common random numbers) finds them made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

import numpy as np
from numpy.random.bit_generator import ISeedSequence

__all__ = ["generator", "pcg64_words", "prefetch", "stream_key"]

_MASK: Final = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_POOL: Final = 4
_ENTROPY: Final = 6
"""Words of entropy: seed, replication and the name's four, when seed and replication are each
one 32-bit word (any other entropy goes to `SeedSequence` itself)."""
_WORD: Final = 1 << 32


def _constants(init: int, mult: int, count: int) -> list[tuple[np.uint32, np.uint32]]:
    """The (xor, multiplier) pairs of successive hash steps: they do not depend on the data."""
    out, h = [], init
    for _ in range(count):
        after = (h * mult) & _MASK
        out.append((np.uint32(h), np.uint32(after)))
        h = after
    return out


_MIX_STEPS: Final = _constants(_INIT_A, _MULT_A, _POOL + _POOL * (_POOL - 1) + 2 * _POOL)
_STATE_STEPS: Final = _constants(_INIT_B, _MULT_B, 2 * _POOL)
_L, _R, _SHIFT = np.uint32(_MIX_L), np.uint32(_MIX_R), np.uint32(16)

_KEPT: dict[tuple[int, int, str], np.ndarray] = {}
_KEEP_AT_MOST: Final = 1 << 16
"""Words kept: a few replications' worth (about 15 MB at most), all let go when full."""


def stream_key(name: str) -> list[int]:
    """Four 32-bit words from a stable hash of the stream name (not Python's salted hash)."""
    return _key_words(name).tolist()


@lru_cache(maxsize=1 << 16)
def _key_words(name: str) -> np.ndarray:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    words = np.frombuffer(digest, dtype="<u4").astype(np.uint32)
    words.flags.writeable = False
    return words


def _hash(values: np.ndarray, step: tuple[np.uint32, np.uint32]) -> np.ndarray:
    xor, mult = step
    values = (values ^ xor) * mult
    return values ^ (values >> _SHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = _L * x - _R * y
    return result ^ (result >> _SHIFT)


def _words_of(entropy: np.ndarray) -> np.ndarray:
    """``SeedSequence(row).generate_state(4, np.uint64)`` for every row of ``entropy``
    (``n x 6`` uint32); uint32 arithmetic wraps as the C code's does."""
    steps = iter(_MIX_STEPS)
    pool = [_hash(entropy[:, i], next(steps)) for i in range(_POOL)]
    for src in range(_POOL):
        for dst in range(_POOL):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hash(pool[src], next(steps)))
    for src in range(_POOL, _ENTROPY):
        for dst in range(_POOL):
            pool[dst] = _mix(pool[dst], _hash(entropy[:, src], next(steps)))
    state = np.empty((len(entropy), 2 * _POOL), dtype=np.uint32)
    for i, step in enumerate(_STATE_STEPS):
        state[:, i] = _hash(pool[i % _POOL], step)
    return state.astype("<u4").view("<u8").astype(np.uint64)


def _keep(key: tuple[int, int, str], words: np.ndarray) -> None:
    if len(_KEPT) >= _KEEP_AT_MOST:
        _KEPT.clear()  # cheaper than evicting one by one, and a few replications' worth
    _KEPT[key] = words


def _one_word_each(seed: int, replication: int) -> bool:
    """Seed and replication are one 32-bit word each, as `SeedSequence` makes of them."""
    return 0 <= seed < _WORD and 0 <= replication < _WORD


def prefetch(seed: int, replication: int, names: Iterable[str]) -> None:
    """Make the words of every stream in ``names`` not yet made, in one pass."""
    if not _one_word_each(seed, replication):
        return
    todo = [n for n in dict.fromkeys(names) if (seed, replication, n) not in _KEPT]
    if not todo:
        return
    entropy = np.empty((len(todo), _ENTROPY), dtype=np.uint32)
    entropy[:, 0] = seed
    entropy[:, 1] = replication
    entropy[:, 2:] = np.stack([_key_words(n) for n in todo])
    block = _words_of(entropy)
    block.flags.writeable = False
    for name, words in zip(todo, block, strict=True):
        _keep((seed, replication, name), words)


def pcg64_words(seed: int, replication: int, name: str) -> np.ndarray:
    """What ``PCG64(SeedSequence([seed, replication, *stream_key(name)]))`` seeds itself from."""
    key = (seed, replication, name)
    words = _KEPT.get(key)
    if words is None:
        entropy: np.ndarray | list[int]
        if _one_word_each(seed, replication):  # as an array: the same words, 4 times faster
            entropy = np.empty(_ENTROPY, dtype=np.uint32)
            entropy[0], entropy[1], entropy[2:] = seed, replication, _key_words(name)
        else:
            entropy = [seed, replication, *stream_key(name)]
        words = np.random.SeedSequence(entropy).generate_state(4, np.uint64)
        words.flags.writeable = False
        _keep(key, words)
    return words


class _Seeded(ISeedSequence):
    """A seed sequence that hands `PCG64` words made here."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: type = np.uint32) -> np.ndarray:
        if n_words != 4 or dtype is not np.uint64:  # pragma: no cover: only PCG64 asks
            raise ValueError("only PCG64's four 64-bit words are made here")
        return self.words


def generator(seed: int, replication: int, name: str) -> np.random.Generator:
    """The generator of one named stream of one replication."""
    return np.random.Generator(np.random.PCG64(_Seeded(pcg64_words(seed, replication, name))))

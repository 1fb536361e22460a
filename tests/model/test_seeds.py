"""The seed words made many at a time are numpy's own, word for word: a stream's numbers do not
depend on whether its fate table seeded it with others, alone, or found it kept."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from flowsim import seeds
from flowsim.random import Streams, stream

WORD = st.integers(0, 2**32 - 1)


def numpy_words(seed: int, replication: int, name: str) -> list[int]:
    entropy = [seed, replication, *seeds.stream_key(name)]
    return np.random.SeedSequence(entropy).generate_state(4, np.uint64).tolist()


@settings(max_examples=300)
@given(seed=WORD, replication=WORD, names=st.lists(st.text(max_size=30), min_size=1, max_size=8))
def test_prefetched_words_are_seed_sequences(seed: int, replication: int, names: list[str]) -> None:
    seeds._KEPT.clear()
    seeds.prefetch(seed, replication, names)
    for name in names:
        assert seeds._KEPT[(seed, replication, name)].tolist() == numpy_words(
            seed, replication, name
        )


@settings(max_examples=100)
@given(seed=st.integers(0, 2**70), replication=st.integers(0, 2**40), name=st.text(max_size=20))
def test_one_stream_alone_is_the_same_stream(seed: int, replication: int, name: str) -> None:
    seeds._KEPT.clear()
    reference = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, replication, *seeds.stream_key(name)]))
    )
    assert (stream(seed, replication, name).random(4) == reference.random(4)).all()


def test_seeded_together_alone_or_kept_draw_the_same() -> None:
    names = [f"Mid Notts/75+/frail/ambulance/{q}" for q in ("triage_minutes", "ward", "u")]
    seeds._KEPT.clear()
    alone = [stream(7, 3, n).random(5).tolist() for n in names]
    seeds._KEPT.clear()
    Streams(7, 3).prefetch(names)
    together = [stream(7, 3, n).random(5).tolist() for n in names]
    kept = [stream(7, 3, n).random(5).tolist() for n in names]
    assert alone == together == kept

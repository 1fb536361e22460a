"""The app's result cache on disk (issue 17, item 5): bounded in bytes and entries, oldest out
first, a damaged entry ignored and removed, keys tied to the code version."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from flowsim.app import engine
from flowsim.app.cache import DiskCache, code_version


def aged(cache: DiskCache, key: object, seconds_ago: float) -> None:
    """Make ``key``'s entry look as old as that (file times are the cache's clock)."""
    when = time.time() - seconds_ago
    os.utime(cache.path_of(key), (when, when))


def test_a_value_comes_back_as_it_went_in(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c")
    value = [{"kpis": pd.DataFrame({"kpi": ["a"], "value": [1.5]}), "digest": "x"}]
    assert cache.get(("s", "settings", 0)) is None
    assert cache.put(("s", "settings", 0), value)
    back = cache.get(("s", "settings", 0))
    pd.testing.assert_frame_equal(back[0]["kpis"], value[0]["kpis"])
    assert cache.get(("s", "settings", 1)) is None


def test_the_byte_bound_evicts_oldest_first(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", max_bytes=10_000)
    for i in range(3):
        cache.put(i, b"x" * 3_000)
        aged(cache, i, 100 - i)  # 0 oldest, then 1, then 2
    cache.put(3, b"y" * 3_000)  # 4 x ~3 kB > 10 kB: the oldest goes
    assert cache.get(0) is None
    assert [cache.get(i) is not None for i in (1, 2, 3)] == [True, True, True]
    assert cache.size_bytes() <= 10_000


def test_the_entry_bound_evicts_oldest_first_and_a_use_makes_an_entry_new(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", max_entries=3)
    for i in range(3):
        cache.put(i, i)
        aged(cache, i, 100 - i)
    assert cache.get(0) == 0  # used now: the newest
    cache.put(3, 3)
    assert cache.get(1) is None  # the least recently used went
    assert {cache.get(i) for i in (0, 2, 3)} == {0, 2, 3}
    assert len(cache.entries()) == 3


def test_a_value_larger_than_the_bound_is_not_kept(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", max_bytes=1_000)
    cache.put("small", 1)
    assert not cache.put("big", b"z" * 5_000)
    assert cache.get("big") is None and cache.get("small") == 1


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]),  # a byte changed
        lambda data: b"",  # empty
        lambda data: b"not a cache file at all",
    ],
    ids=["truncated", "flipped byte", "empty", "garbage"],
)
def test_a_damaged_entry_is_ignored_and_removed(tmp_path: Path, damage) -> None:
    cache = DiskCache(tmp_path / "c")
    cache.put("k", {"value": list(range(100))})
    path = cache.path_of("k")
    path.write_bytes(damage(path.read_bytes()))
    assert cache.get("k") is None
    assert not path.exists()
    cache.put("k", "again")
    assert cache.get("k") == "again"


def test_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c")
    cache.put("k", 1)
    assert [p.name for p in (tmp_path / "c").iterdir()] == [cache.path_of("k").name]


def test_another_code_version_never_answers(tmp_path: Path) -> None:
    DiskCache(tmp_path / "c", version="old").put("k", "from old code")
    assert DiskCache(tmp_path / "c", version="new").get("k") is None
    assert DiskCache(tmp_path / "c").version == code_version()


def test_a_folder_others_can_write_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    with pytest.raises(PermissionError, match="FLOWSIM_APP_CACHE"):
        DiskCache(folder)


@pytest.fixture()
def app_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's cache in a folder of this test, as a new server process would find it."""
    monkeypatch.setenv("FLOWSIM_APP_CACHE", str(tmp_path / "app"))
    monkeypatch.setenv("FLOWSIM_APP_CACHE_MB", "1")
    monkeypatch.setattr(engine, "_disks", {})
    return tmp_path / "app"


def test_the_apps_cache_is_on_disk_and_survives_a_restart(
    app_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ("scenario-hash", '{"days": 2}', 0)
    engine.ResultCache(max_entries=10).put(key, {"digest": "d"})
    monkeypatch.setattr(engine, "_disks", {})  # a new server process
    again = engine.ResultCache(max_entries=10)
    assert again.get(key) == {"digest": "d"}
    assert again.disk.max_bytes == 1_000_000 and again.disk.folder == app_cache.resolve()


def test_a_small_cache_of_the_same_folder_cannot_evict_a_large_ones_entries(
    app_cache: Path,
) -> None:
    results = engine.ResultCache(max_entries=50)
    for r in range(20):
        results.put(("s", "settings", r), r)
    small = engine.ResultCache(max_entries=2)
    small.put(("animation", 1), "json")
    assert all(results.get(("s", "settings", r)) == r for r in range(20))
    named = engine.ResultCache(max_entries=2, name="animations")
    for i in range(3):
        named.put(("animation", i), "json")
    assert (
        len(named.disk.entries()) == 2 and named.disk.folder == (app_cache / "animations").resolve()
    )
    assert all(results.get(("s", "settings", r)) == r for r in range(20))

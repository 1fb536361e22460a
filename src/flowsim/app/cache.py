"""The app's result cache on disk, bounded in bytes and entries, oldest out first.

A workshop asks the same questions again (the baseline of every comparison, a preset run by
each table), and a server restarted between sessions should not run them all again. So results
are kept as files: one per key, named by a hash of the key and the code version (a new flowsim,
or edited model code, never answers from an old run). Each file is written under a temporary
name and renamed when whole, and carries a checksum of its contents, so a file cut short or
damaged is ignored and removed, never read as a result. When the files pass the bound, the
oldest (least recently written or read) go first.

Values are pickled, so the folder must be one only the app's user can write: a folder that
others can write to, or that another user owns, is refused.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import pickle
import stat
import threading
import time
from pathlib import Path
from typing import Any, Final

from flowsim._version import __version__

__all__ = ["DiskCache", "code_version", "default_folder"]

MAGIC: Final = b"flowsim-result-cache 1\n"
SUFFIX: Final = ".pkl"
_DIGEST_BYTES: Final = 32
_STALE_TEMP_SECONDS: Final = 3600.0


@functools.cache
def code_version() -> str:
    """flowsim's version and a hash of its source files: any edit to the code changes it."""
    root = Path(__file__).resolve().parents[1]  # the flowsim package
    h = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return f"{__version__}+{h.hexdigest()[:12]}"


def default_folder() -> Path:
    """``FLOWSIM_APP_CACHE``, else ``$XDG_CACHE_HOME/flowsim/app-results`` (``~/.cache``)."""
    given = os.environ.get("FLOWSIM_APP_CACHE")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flowsim" / "app-results"


class DiskCache:
    """Values by key in ``folder``: at most ``max_bytes`` of files and ``max_entries`` files.

    Keys are plain data (strings, numbers, tuples of them); ``version`` (default
    `code_version`) is part of every key. Thread-safe; several processes may share a folder.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        max_bytes: int = 500_000_000,
        max_entries: int | None = None,
        version: str | None = None,
    ) -> None:
        if max_bytes < 1 or (max_entries is not None and max_entries < 1):
            raise ValueError(
                f"the cache needs room for one entry, got {max_bytes} bytes, {max_entries} entries"
            )
        self.folder = Path(folder)
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.version = code_version() if version is None else version
        self._lock = threading.Lock()
        _own_folder(self.folder)

    def path_of(self, key: Any) -> Path:
        """The file that holds ``key``'s value."""
        text = json.dumps([self.version, key], sort_keys=True, default=str)
        return self.folder / (hashlib.sha256(text.encode()).hexdigest()[:32] + SUFFIX)

    def get(self, key: Any) -> Any | None:
        """The value kept for ``key``, or None (never kept, evicted, or damaged and removed)."""
        path = self.path_of(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        value = _decode(data)
        if value is _DAMAGED:
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # a use makes it the newest
        return value

    def put(self, key: Any, value: Any) -> bool:
        """Keep ``value`` for ``key``, then evict the oldest entries past the bound. False when
        it was not kept: larger than the whole bound, or the disk refused it."""
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        data = MAGIC + hashlib.sha256(payload).digest() + payload
        if len(data) > self.max_bytes:
            return False
        path = self.path_of(key)
        temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(temp, "wb") as file:
                file.write(data)
            os.replace(temp, path)
        except OSError:
            temp.unlink(missing_ok=True)
            return False
        with self._lock:
            self._evict(keep=path)
        return True

    def entries(self) -> list[tuple[Path, int, float]]:
        """Every entry file: (path, bytes, time of last use), oldest first."""
        out = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            try:
                info = path.stat()
            except OSError:
                continue
            out.append((path, info.st_size, info.st_mtime))
        return sorted(out, key=lambda entry: (entry[2], entry[0].name))

    def size_bytes(self) -> int:
        """Bytes held by the entries."""
        return sum(size for _, size, _ in self.entries())

    def clear(self) -> None:
        """Remove every entry."""
        for path, _, _ in self.entries():
            path.unlink(missing_ok=True)

    def _evict(self, keep: Path) -> None:
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        count = len(entries)
        for path, size, _ in entries:
            over = total > self.max_bytes or (
                self.max_entries is not None and count > self.max_entries
            )
            if not over:
                break
            if path == keep:
                continue
            path.unlink(missing_ok=True)
            total -= size
            count -= 1
        now = time.time()
        for temp in self.folder.glob(".*.tmp"):  # left by a writer that was killed
            try:
                if now - temp.stat().st_mtime > _STALE_TEMP_SECONDS:
                    temp.unlink(missing_ok=True)
            except OSError:
                continue


_DAMAGED: Final = object()


def _decode(data: bytes) -> Any:
    """The value of an entry file's bytes, or `_DAMAGED`."""
    head = len(MAGIC) + _DIGEST_BYTES
    if len(data) < head or not data.startswith(MAGIC):
        return _DAMAGED
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(MAGIC) : head]:
        return _DAMAGED
    try:
        return pickle.loads(payload)  # written by this app, checksummed, in its own folder
    except Exception:  # an entry pickled by code since changed
        return _DAMAGED


def _own_folder(folder: Path) -> None:
    """Create ``folder`` (only its owner may enter it) and refuse one that another user owns
    or that others may write to: entries are unpickled, so a writable folder runs their code."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    info = folder.stat()
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise PermissionError(
            f"the result cache folder {folder} belongs to another user; give the app a folder "
            "of its own with FLOWSIM_APP_CACHE"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PermissionError(
            f"the result cache folder {folder} can be written by other users; make it private "
            f"(chmod 700 {folder}) or give the app another with FLOWSIM_APP_CACHE"
        )

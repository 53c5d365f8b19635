"""File IO for folders we don't fully trust (a run folder from a sync, a download, another user).

Reads take regular files only, bounded in size, never through a symbolic link, and never block
on a FIFO. Writes go to a temporary file created exclusively (``tempfile.mkstemp``: an
unpredictable name, ``O_EXCL``, ``O_NOFOLLOW``) in the target's own folder, then ``os.replace``
it, which swaps the name itself and so never writes through a link planted at the final name.
``FolderLock`` is an OS lock (``fcntl.flock`` / ``msvcrt.locking``) that the kernel drops when
its process dies, however it dies.

Errors are ``UnsafeFile`` (a ``ValueError``): one line naming the file and what is wrong with
it, never its content.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
NONBLOCK = getattr(os, "O_NONBLOCK", 0)
BINARY = getattr(os, "O_BINARY", 0)
TEMP_SUFFIX = ".tmp"  # every temporary name is ".<final name>.<random>.tmp"
KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


OS_REASONS = {errno.EACCES: "permission denied", errno.EPERM: "permission denied", errno.EROFS: "a read-only disk",
              errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk is full"}


def os_reason(exc: OSError) -> str:
    """An OSError's cause in a few plain words ("permission denied", "the disk is full"), never
    its file name (which may be a hidden temporary the user never chose)."""
    return OS_REASONS.get(exc.errno, (exc.strerror or type(exc).__name__).lower())


class UnsafeFile(ValueError):
    """A file that is not a plain regular file inside its folder, or too large to be ours."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()  # what open() would have given; mkstemp makes 0600


# --- reading ------------------------------------------------------------------------
def plain_name(name: Any, what: str) -> str:
    """``name`` if it is a bare file name (no folder part, not ``.``/``..``, not absolute);
    raises UnsafeFile naming ``what`` otherwise. Use it for every name read from a file."""
    if (not isinstance(name, str) or not name or len(name) > 255 or name in (".", "..") or "\0" in name
            or "/" in name or "\\" in name or ":" in name):
        shown = repr(name)[:80] if isinstance(name, str) else type(name).__name__
        raise UnsafeFile(f"{what} must be a file name inside the folder, not {shown}")
    return name


def check_link(path: Path) -> None:
    """Raise UnsafeFile if ``path`` itself is a symbolic link (its target is not shown)."""
    if os.path.islink(path):
        raise UnsafeFile(f"{path} is a symbolic link; the files of a run folder must be its own")


def open_regular(path: str | os.PathLike) -> tuple[int, os.stat_result]:
    """(a descriptor open for reading, its stat) of ``path`` if it is a regular file (not a link,
    FIFO, device or folder); the caller closes it. Raises FileNotFoundError, or UnsafeFile /
    OSError with one line."""
    path = Path(path)
    check_link(path)
    try:
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | NONBLOCK | BINARY)  # NONBLOCK: a FIFO can't hang us
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafeFile(f"{path} is a symbolic link; the files of a run folder must be its own") from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFile(f"{path} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file (not a link, FIFO, device or folder) of at
    most ``limit`` bytes. Raises FileNotFoundError, or UnsafeFile / OSError with one line."""
    fd, info = open_regular(path)
    try:
        if info.st_size > limit:
            raise UnsafeFile(f"{path} holds {info.st_size:,} bytes, more than the {limit:,} such a file may have")
        chunks, total = [], 0
        while chunk := os.read(fd, min(16 * MiB, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # grew while we read
                raise UnsafeFile(f"{path} holds more than the {limit:,} bytes such a file may have")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_json(path: str | os.PathLike, limit: int) -> Any:
    """JSON of a regular file of at most ``limit`` bytes; UnsafeFile on anything else."""
    data = read_regular(path, limit)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise UnsafeFile(f"{path} is not valid JSON ({str(exc)[:120]})") from None


def real_subdir(root: Path, name: str, create: bool = False) -> Path:
    """``root/name`` if it is a real folder (not a link out of ``root``); with ``create``, made
    when missing. Raises UnsafeFile with the fix."""
    path = root / name
    for _ in range(2):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            if not create:
                return path  # nothing there: readers find no files in it
            try:
                os.mkdir(path)
            except FileExistsError:
                continue  # appeared meanwhile: look again
            return path
        if stat.S_ISLNK(info.st_mode):
            raise UnsafeFile(f"{path} is a symbolic link; a run folder's {name}/ must be a real folder inside "
                             f"it (move its files in and remove the link)")
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafeFile(f"{path} is not a folder")
        return path
    raise UnsafeFile(f"{path} keeps changing; is another program writing this run folder?")


def regular_files(folder: Path, pattern: str) -> list[Path]:
    """Regular files (not links) in ``folder`` matching the glob ``pattern``, sorted by name."""
    found = []
    for path in folder.glob(pattern):
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.lstat(path).st_mode):
                found.append(path)
    return sorted(found)


# --- writing ------------------------------------------------------------------------
def _write_all(fd: int, data: bytes, path: Path) -> None:
    """Write ``data`` to ``fd`` (the temporary file of ``path``); one place tests can fill the disk."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``path`` whole or not at all: an exclusive temporary file in the same folder,
    fsync'd, then ``os.replace``d over ``path`` (a link at ``path`` is replaced, not followed).
    On any error the temporary file is removed and ``path`` keeps its old content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, _FILE_MODE)
            _write_all(fd, data, path)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n").encode())


def open_append(path: Path):
    """``path`` opened for appending text, refusing a link or anything but a regular file."""
    check_link(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | NOFOLLOW | BINARY, _FILE_MODE)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafeFile(f"{path} is not a regular file")
    return os.fdopen(fd, "a", encoding="utf-8", newline="\n")


def remove_temp_files(folder: Path) -> list[str]:
    """Delete what a killed writer left in ``folder``: ``.*.tmp`` files and folders (links are
    removed, never followed). Only a folder's lock holder may call this."""
    removed = []
    for path in folder.glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(os.lstat(path).st_mode):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path.name)
    return removed


# --- locking ------------------------------------------------------------------------
LOCK_NAME = ".lock"


class FolderLocked(UnsafeFile):
    """Another process holds the folder's lock; ``pid`` is its process id (0 if unknown)."""

    def __init__(self, message: str, pid: int):
        super().__init__(message)
        self.pid = pid


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    _FAR = 1 << 30  # lock a byte far past the pid, so readers can still read it

    def _try_lock(fd: int, shared: bool) -> bool:
        os.lseek(fd, _FAR, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, _FAR, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _read_pid(fd: int) -> int:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else 0


class FolderLock:
    """An exclusive lock on ``folder/.lock`` for the process writing the folder; the file holds
    the holder's pid. Dies with the process (the kernel releases it), so a killed trainer never
    leaves a folder locked. ``acquire`` raises FolderLocked naming the holder's pid."""

    def __init__(self, folder: Path, what: str = "folder"):
        self.path, self.what, self.fd = Path(folder) / LOCK_NAME, what, None

    def acquire(self, tries: int = 20) -> "FolderLock":
        check_link(self.path)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | NOFOLLOW | BINARY, _FILE_MODE)
        for attempt in range(tries):  # a reader's brief probe can hold it for microseconds
            if _try_lock(fd, shared=False):
                break
            time.sleep(0.02)
        else:
            pid = _read_pid(fd)
            os.close(fd)
            raise FolderLocked(f"{self.path.parent} is being written by another process (pid {pid or '?'}); "
                               f"wait for it to finish or stop it first", pid)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                _unlock(self.fd)
            os.close(self.fd)
            self.fd = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> "FolderLock":
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def lock_holder(folder: Path) -> int | None:
    """The pid of the process holding ``folder``'s lock (0 if it wrote none), or None when no
    process holds it. Creates nothing (read-only folders work)."""
    path = Path(folder) / LOCK_NAME
    try:
        check_link(path)
        fd = os.open(path, os.O_RDONLY | NOFOLLOW | NONBLOCK | BINARY)
    except (OSError, UnsafeFile):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        if _try_lock(fd, shared=True):
            _unlock(fd)
            return None
        return _read_pid(fd)
    except OSError:
        return None
    finally:
        os.close(fd)

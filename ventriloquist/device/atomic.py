"""Atomic writes: a half-written file or bundle never replaces a good one."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ventriloquist.device.errors import VentriloquistError

_RENAME_EXCHANGE = 2  # renameat2 flag: swap two paths in one step (Linux >= 3.15)
_AT_FDCWD = -100


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish_mode(fd_or_path: int | str | Path, directory: bool = False) -> None:
    """Give a temp file/folder the mode a plain open()/mkdir() would (mkstemp makes them private)."""
    mode = (0o777 if directory else 0o666) & ~_umask()
    if isinstance(fd_or_path, int):
        os.fchmod(fd_or_path, mode)
    else:
        os.chmod(fd_or_path, mode)


def _temp_sibling(path: Path) -> tuple[int, str]:
    """A new hidden temporary file beside `path` (same folder, so the final rename is atomic)."""
    return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)


def probe_writable(path: str | Path) -> None:
    """Create and remove the temporary sibling a write of `path` would use; OSError where it cannot be made
    (missing or read-only folder, no permission, a name too long)."""
    fd, tmp = _temp_sibling(Path(path))
    os.close(fd)
    os.unlink(tmp)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary sibling, fsync'd, then renamed into place."""
    path = Path(path)
    fd, tmp = _temp_sibling(path)
    try:
        _publish_mode(fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically with renameat2; False where the kernel/libc can't."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    if not hasattr(libc, "renameat2"):
        return False
    rc = libc.renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


@contextlib.contextmanager
def replace_dir(path: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces `path` as a whole.

    An existing folder is swapped out atomically (renameat2 RENAME_EXCHANGE) where the
    system allows, else renamed aside first; on any error the old folder stays untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        _publish_mode(tmp, directory=True)
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        if not path.exists():
            os.rename(tmp, path)
        elif _exchange(tmp, path):
            shutil.rmtree(tmp)
        else:
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.rename(path, old)
            os.rename(tmp, path)
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class AtomicTextFile:
    """A text file written to a temporary sibling and renamed into place by commit()."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.parent.is_dir():
            raise VentriloquistError(f"{self.path}: folder {self.path.parent} does not exist")
        try:
            fd, self.tmp = _temp_sibling(self.path)
        except OSError as e:
            raise VentriloquistError(f"{self.path}: cannot write here ({e.strerror})") from None
        _publish_mode(fd)
        self.file = os.fdopen(fd, "w", encoding="utf-8", newline="\n")

    def write(self, text: str) -> None:
        self.file.write(text)

    def commit(self) -> None:
        if self.file.closed:
            return
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)

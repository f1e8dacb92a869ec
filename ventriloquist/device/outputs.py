"""Output paths checked before any work: a run that cannot write its results fails first, and never over its input.

Every command that writes files calls these before it reads the first chunk, so a bad output never costs a
whole file's (or session's) work, and a recording is never replaced by its own animation.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ventriloquist.device import atomic
from ventriloquist.device.errors import VentriloquistError


def _same_file(a: Path, b: Path) -> bool:
    """True when both name one file (also through a symlink or a hard link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_output_files(paths: Iterable[str | Path], inputs: Iterable[str | Path] = (), option: str = "--out") -> None:
    """Each of `paths` can be written as a new regular file, is named once, and is none of `inputs` (files, or
    folders such as a model bundle, which an output may not go into)."""
    seen: list[Path] = []
    input_paths = [Path(p) for p in inputs]
    for path in map(Path, paths):
        label = f"{option} {path}"
        try:
            if path.is_dir():
                raise VentriloquistError(f"{label}: is a folder; name a file in it")
            if path.exists() and not path.is_file():
                raise VentriloquistError(f"{label}: is not a regular file (a device or pipe cannot be replaced)")
            if not path.absolute().parent.is_dir():
                raise VentriloquistError(f"{label}: folder {path.absolute().parent} does not exist")
            atomic.probe_writable(path)
        except OSError as e:
            raise VentriloquistError(f"{label}: cannot be written ({e.strerror})") from None
        for source in input_paths:
            if _same_file(path, source):
                raise VentriloquistError(f"{label}: is the input {source}; writing it would destroy the input")
            if source.is_dir() and _same_file(path.absolute().parent, source):
                raise VentriloquistError(f"{label}: is inside the input folder {source}; write it elsewhere")
        if any(path.absolute() == other.absolute() or _same_file(path, other) for other in seen):
            raise VentriloquistError(f"{label}: is given twice")
        seen.append(path)


def make_output_folder(path: str | Path, option: str) -> Path:
    """Create (if needed) the folder `path` to write into; refuses a file or a place that cannot hold one."""
    path = Path(path)
    label = f"{option} {path}"
    if path.exists() and not path.is_dir():
        raise VentriloquistError(f"{label}: is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        atomic.probe_writable(path / "probe")
    except OSError as e:
        raise VentriloquistError(f"{label}: cannot create the folder or write in it ({e.strerror})") from None
    return path

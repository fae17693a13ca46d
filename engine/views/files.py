"""Files written safely: a temporary file in the target's folder, renamed into place.

Every file creditlab writes (CSV, Parquet, JSON, the HTML report, audit counterexamples)
goes through `replacing` or `write_new`, which hold to ARCHITECTURE.md ("Reading untrusted
input, writing files"):

- the bytes go to a new hidden file in the target's folder (`.NAME.XXXXXXXX.part`, made
  with O_EXCL and O_NOFOLLOW), which is renamed over the target only when complete; on any
  failure only that temporary file is removed, so a failed write leaves the target as it
  was (pyarrow, handed a path, unlinks it when a write fails: it is handed a file here);
- only a regular file is ever replaced: a symbolic link, a folder, a device node, a FIFO
  or a socket is refused as a target, before anything is written;
- a file given to the same command as input (a history, a scheme file) is never replaced,
  not even with `overwrite=True` (`--force`);
- an existing file is replaced only with `overwrite=True`; without it the new file is
  linked into place (`os.link` fails when the name exists), so a file that appears while
  the command runs is not replaced either.

Failures raise `OutputError` (a `CreditlabError`) naming the file and the reason.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from creditlab.engine.errors import OutputError

__all__ = ["OutputError", "check_target", "replacing", "write_new"]

PathLike = str | os.PathLike[str]

_EXISTS = "it already exists (--force replaces it)"
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK,
                  errno.ENOSYS, errno.EACCES}


def _kind(mode: int) -> str | None:
    """Why a file of this mode is not a target, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "it is a symbolic link (creditlab does not write through links)"
    if stat.S_ISDIR(mode):
        return "it is a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "it is a device, not a regular file"
    if stat.S_ISFIFO(mode):
        return "it is a named pipe, not a regular file"
    return "it is not a regular file"


def _same_file(path: Path, other: PathLike) -> bool:
    try:
        return os.path.samefile(path, other)
    except (OSError, ValueError):
        return False


def check_target(target: PathLike, *, overwrite: bool = False,
                 inputs: Iterable[PathLike] = ()) -> Path:
    """`target` as a Path if creditlab may write it, else `OutputError` saying why.

    Call it before a long computation to fail early; `replacing` calls it again.
    """
    path = Path(target)
    if not os.fspath(target) or path.name in ("", ".", ".."):
        raise OutputError(target, "it names no file")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(path, f"{path.parent} is not a folder") from None
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    if st is None:
        if not path.parent.is_dir():
            raise OutputError(path, f"the folder {path.parent} does not exist")
        return path
    kind = _kind(st.st_mode)
    if kind is not None:
        raise OutputError(path, kind)
    if any(_same_file(path, source) for source in inputs):
        raise OutputError(path, "it is an input of this command")
    if not overwrite:
        raise OutputError(path, _EXISTS)
    return path


def _temporary(path: Path) -> tuple[int, Path]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
        | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(part, flags, 0o666), part  # the umask applies, as for open()
        except FileExistsError:
            continue
    raise OutputError(path, "no free name for a temporary file")  # pragma: no cover


def _commit(part: Path, path: Path, overwrite: bool) -> None:
    """Put the complete temporary file in place of `path`."""
    if overwrite:
        os.replace(part, path)
        return
    try:
        os.link(part, path, follow_symlinks=False)
    except FileExistsError:
        raise OutputError(path, _EXISTS) from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        # A file system without hard links: check, then rename (a small race remains).
        if os.path.lexists(path):
            raise OutputError(path, _EXISTS) from None
        os.replace(part, path)
        return
    os.unlink(part)


@contextmanager
def replacing(target: PathLike, *, overwrite: bool = False, inputs: Iterable[PathLike] = (),
              binary: bool = False, encoding: str = "utf-8", newline: str | None = None,
              fsync: bool = False) -> Iterator[IO[Any]]:
    """A file handle whose contents become `target` when the block ends without error.

    `overwrite=True` replaces an existing regular file (the CLI's `--force`); `inputs` are
    the files the command read, which are never replaced. `fsync=True` flushes the data to
    the disk before the rename. On error nothing but the temporary file is removed.
    """
    inputs = tuple(inputs)
    path = check_target(target, overwrite=overwrite, inputs=inputs)
    try:
        fd, part = _temporary(path)
    except OSError as exc:
        raise OutputError(path, exc.strerror or str(exc)) from None
    try:
        handle: IO[Any] = (os.fdopen(fd, "wb") if binary
                           else os.fdopen(fd, "w", encoding=encoding, newline=newline))
        with handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        # The target may have changed during a long write: check again before the rename.
        check_target(path, overwrite=overwrite, inputs=inputs)
        _commit(part, path, overwrite)
    except OSError as exc:
        _discard(part)
        raise OutputError(path, exc.strerror or str(exc)) from exc
    except BaseException:
        _discard(part)
        raise


def _discard(part: Path) -> None:
    with suppress(OSError):
        os.unlink(part)


def write_new(target: PathLike, text: str, *, overwrite: bool = False,
              inputs: Iterable[PathLike] = ()) -> Path:
    """Write `text` to `target`, or, when that name is taken and `overwrite` is False, to
    the first free numbered name beside it (`a.yaml`, `a.2.yaml`, `a.3.yaml`, ...).

    A taken name of any kind (a file, a link, a folder) is skipped, never written through.
    Returns the path written.
    """
    path = Path(target)
    stem, suffix = (path.name[: -len(path.suffix)], path.suffix) if path.suffix \
        else (path.name, "")
    for number in range(1, 10_000):
        candidate = path if number == 1 else path.with_name(f"{stem}.{number}{suffix}")
        if not overwrite and os.path.lexists(candidate):
            continue
        try:
            with replacing(candidate, overwrite=overwrite, inputs=inputs) as handle:
                handle.write(text)
        except OutputError as exc:
            if not overwrite and os.path.lexists(candidate) and exc.reason == _EXISTS:
                continue  # made by someone else meanwhile: take the next number
            raise
        return candidate
    raise OutputError(path, "no free numbered name")  # pragma: no cover

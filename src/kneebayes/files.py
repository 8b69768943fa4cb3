"""Reading the files a user names, and writing files without ever losing the one already there.

Reading: only a regular file is read (a FIFO or ``/dev/zero`` given as a
path would block or never end), its size is checked before a byte is read,
gzip is decompressed only up to the same limit, and text must be UTF-8.
Each failure is an :class:`~kneebayes.errors.InputFileError` naming the
file and what would be valid.

Writing: :func:`write_atomic` writes a temporary file in the target's
folder and renames it over the target only once everything is on disk, so
a full disk, a quota or an interruption leaves the earlier file whole.
"""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import tempfile
import zlib
from pathlib import Path

from .errors import PATH_LIMIT, InputFileError, OutputFileError, WrongTypeError, quote

#: The largest file kneebayes reads (after decompression): far above any model
#: or network file (the largest network bundled with pgmpy, diabetes, is 5.5 MB as BIF).
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_bytes(path: str | Path, *, what: str = "file", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path`` (gunzipped when it ends in ``.gz``), at most ``limit``.

    Raises :class:`~kneebayes.errors.InputFileError` when the file is missing,
    not a regular file, larger than ``limit`` or not valid gzip.

    >>> import gzip, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(b"knee")
    >>> read_bytes(path)
    b'knee'
    >>> read_bytes("missing.txt", what="model file")
    Traceback (most recent call last):
    ...
    kneebayes.errors.InputFileError: model file 'missing.txt' does not exist
    """
    path = Path(path)
    if "\0" in str(path):   # os.open's own ValueError ("embedded null byte") names no file
        raise InputFileError(str(path), "holds a NUL character, which no file name can", what)
    try:
        # O_NONBLOCK: opening a FIFO with no writer must not wait for one (it is refused below).
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputFileError(str(path), "does not exist", what) from None
    except OSError as exc:
        raise InputFileError(str(path), f"cannot be read: {exc.strerror or exc}", what) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a pipe or a device?)"
            raise InputFileError(str(path), f"is {kind}; give the path of a file on disk", what)
        if info.st_size > limit:
            raise InputFileError(str(path), f"is {info.st_size:,} bytes, over the limit of {limit:,}", what)
        with os.fdopen(os.dup(fd), "rb") as f:
            # as much as the file holds (read(limit + 1) would reserve the whole limit up front),
            # then whatever it grew by meanwhile, up to one byte past the limit
            data = f.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += f.read(limit + 1 - len(data))
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read
        raise InputFileError(str(path), f"is over the limit of {limit:,} bytes", what)
    if path.suffix.lower() == ".gz":
        data = _gunzip(data, path, what, limit)
    return data


def read_text(path: str | Path, *, what: str = "file", limit: int = MAX_FILE_BYTES) -> str:
    """:func:`read_bytes` decoded as UTF-8 (an InputFileError naming the first bad byte otherwise).

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> _ = write_atomic(path, "tight behind the knee")
    >>> read_text(path)
    'tight behind the knee'
    """
    data = read_bytes(path, what=what, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputFileError(str(path), f"is not UTF-8 text (byte {exc.start}, line {line}); "
                             "save it as UTF-8", what) from None


def _gunzip(data: bytes, path: Path, what: str, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
            out = g.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise InputFileError(str(path), f"ends in .gz but is not a valid gzip file ({exc})", what) from None
    if len(out) > limit:
        raise InputFileError(str(path), f"unpacks to over the limit of {limit:,} bytes", what)
    return out


def output_path(path: object) -> Path:
    """``path`` as a Path to write to: WrongTypeError unless it is text or a path, OutputFileError if empty.

    >>> output_path("knee.yaml").name
    'knee.yaml'
    >>> output_path(None)
    Traceback (most recent call last):
    ...
    kneebayes.errors.WrongTypeError: a file to write must be named by text or a path, got NoneType None
    """
    if not isinstance(path, (str, os.PathLike)) or isinstance(os.fspath(path), bytes):
        raise WrongTypeError(f"a file to write must be named by text or a path, got {type(path).__name__} "
                             f"{quote(path)}")
    if os.fspath(path) == "":
        raise OutputFileError(errno.EINVAL, "the name is empty; give a file name", "")
    return Path(path)


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) at ``path`` all at once: the earlier file stays whole if anything fails.

    The data goes to a temporary file in the same folder, is flushed to disk,
    takes the earlier file's permissions (or the usual ones for a new file),
    and then replaces the target in one rename. A symbolic link is written
    through (the file it points to is replaced, the link kept); a folder, a
    pipe or a device at ``path`` is refused, never replaced. On failure the
    temporary file is removed and an ``OutputFileError`` (an ``OSError``) naming ``path`` (not the
    temporary file) is raised, such as a full disk; a ``path`` that is not
    text or a path, a WrongTypeError.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.txt")
    >>> write_atomic(path, "first").name, write_atomic(path, b"second").name
    ('notes.txt', 'notes.txt')
    >>> read_text(path)
    'second'
    """
    given = output_path(path)
    if "\0" in str(given):   # realpath's own ValueError ("embedded null byte") names no file
        raise OutputFileError(errno.EINVAL, "holds a NUL character, which no file name can", str(given))
    path = Path(os.path.realpath(given))   # through symbolic links: replace what they point to
    try:
        info = os.stat(path)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise OutputFileError(exc.errno, exc.strerror or str(exc), str(given)) from None
    else:
        if stat.S_ISDIR(info.st_mode):
            raise OutputFileError(errno.EISDIR, "is a folder; give a file name", str(given))
        if not stat.S_ISREG(info.st_mode):
            raise OutputFileError(errno.EINVAL, "is not a regular file (a pipe or a device?); only a file is written",
                                  str(given))
        mode = stat.S_IMODE(info.st_mode)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp: str | None = None
    try:
        # a short name of its own, so a target name near the length limit still has room
        fd, tmp = tempfile.mkstemp(prefix=".kb-", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileNotFoundError) and not path.parent.is_dir():
            reason = f"its folder {quote(str(given.parent), PATH_LIMIT)} does not exist"
        elif isinstance(exc, FileNotFoundError):   # the folder is there but takes no new file (/proc)
            reason = f"no new file can be made in its folder {quote(str(given.parent), PATH_LIMIT)}"
        raise OutputFileError(exc.errno, reason, str(given)) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return given


def _umask() -> int:
    """The process's umask, read without changing it (Linux), else the common 022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022

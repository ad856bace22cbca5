"""Reading a message's ``template "PATH"`` file, confined to the journey's folder.

The path is untrusted: it must name a regular UTF-8 file inside the folder of the
``.journey`` file, reached without ``..``, without symbolic links, without hidden
files or folders, and of a sane size. The check and the runtime read templates
through :func:`read_template` only, so a send can never read a file the check
would have refused, even if the folder changes in between: every component is
opened relative to the one before it and never follows a link.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

__all__ = ["MAX_TEMPLATE_BYTES", "TemplateFileError", "journey_folder", "read_template"]

MAX_TEMPLATE_BYTES = 1024 * 1024
_MAX_SHOWN = "1 MiB"

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer before it can be refused.
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class TemplateFileError(Exception):
    """Why a template path cannot be used.

    ``kind`` is ``outside`` (the path leaves the journey's folder or goes through a
    link or a hidden name), ``missing``, or ``unusable`` (not a regular UTF-8 file
    of at most :data:`MAX_TEMPLATE_BYTES`).
    """

    def __init__(self, kind: str, detail: str, hint: str) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.hint = hint


def journey_folder(journey_file: str) -> Path:
    """The folder template paths are relative to (the working folder for journey text)."""
    if journey_file.startswith("<"):
        return Path.cwd()
    return Path(journey_file).parent


def read_template(journey_file: str, template: str) -> str:
    """The text of ``template``, or :class:`TemplateFileError` saying why not."""
    parts = _parts(template)
    # The journey's own folder is trusted, even when it is reached through a link.
    folder = _open(str(journey_folder(journey_file)), _DIRECTORY & ~os.O_NOFOLLOW, None,
                   template)
    try:
        for part in parts[:-1]:
            inner = _open(part, _DIRECTORY, folder, template)
            os.close(folder)
            folder = inner
        handle = _open(parts[-1], _FILE, folder, template)
    finally:
        os.close(folder)
    try:
        return _text(handle, template)
    finally:
        os.close(handle)


def _parts(template: str) -> list[str]:
    if "\0" in template:
        raise _outside(template, "contains a NUL character")
    path = PurePosixPath(template)
    if path.is_absolute() or template.startswith("\\") or template[1:3] in (":/", ":\\"):
        raise _outside(template, "is absolute")
    parts = [p for p in path.parts if p != "."]
    if not parts:
        raise TemplateFileError("unusable", f"template path '{template}' names a folder",
                                "name a file, e.g. templates/welcome.html")
    if ".." in parts:
        raise _outside(template, "goes up with '..'")
    if any(p.startswith(".") for p in parts):
        raise _outside(template, "names a hidden file or folder")
    return parts


def _outside(template: str, why: str) -> TemplateFileError:
    return TemplateFileError(
        "outside", f"template path '{template}' {why}",
        "a template must be a file in the folder of the .journey file or below it, "
        "e.g. templates/welcome.html")


def _open(name: str, flags: int, folder: int | None, template: str) -> int:
    try:
        return os.open(name, flags, dir_fd=folder)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(name, folder):
            raise _outside(template, "goes through a symbolic link") from None
        raise _open_error(err, template) from None


def _is_link(name: str, folder: int | None) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _open_error(err: OSError, template: str) -> TemplateFileError:
    if err.errno == errno.ENOENT:
        return TemplateFileError("missing", f"template file '{template}' not found",
                                 "a template path is relative to the folder of the "
                                 ".journey file")
    if err.errno == errno.ENOTDIR:
        return TemplateFileError("unusable", f"template path '{template}' goes through a "
                                 "file as if it were a folder", "check the folder names")
    return _unusable(template, f"cannot be read ({os.strerror(err.errno or 0).lower()})")


def _unusable(template: str, why: str) -> TemplateFileError:
    return TemplateFileError("unusable", f"template file '{template}' {why}",
                             f"a template must be a regular UTF-8 text file of at most "
                             f"{_MAX_SHOWN}")


def _text(handle: int, template: str) -> str:
    info = os.fstat(handle)
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise _unusable(template, f"is {what}")
    if info.st_size > MAX_TEMPLATE_BYTES:
        raise _unusable(template, f"is larger than {_MAX_SHOWN}")
    data = _read(handle, MAX_TEMPLATE_BYTES + 1)  # the file may have grown since fstat
    if len(data) > MAX_TEMPLATE_BYTES:
        raise _unusable(template, f"is larger than {_MAX_SHOWN}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _unusable(template, "is not UTF-8 text") from None


def _read(handle: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of the file, whatever size it claimed."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = os.read(handle, limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)

"""The folder where journeyflow keeps what it can compute again: compiled journeys and
the parser's tables.

``$JOURNEYFLOW_CACHE_DIR``, else ``$XDG_CACHE_HOME/journeyflow``, else
``~/.cache/journeyflow``; ``JOURNEYFLOW_NO_CACHE=1`` turns it off. What is kept there
is unpickled when read, so a folder another user could write to is never used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["cache_folder", "private"]


def cache_folder() -> Path | None:
    """Where cached files are kept, or None when the cache is turned off."""
    if os.environ.get("JOURNEYFLOW_NO_CACHE", "") not in ("", "0"):
        return None
    given = os.environ.get("JOURNEYFLOW_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "journeyflow"


def private(folder: Path) -> bool:
    """The folder exists (it is made if not), is ours and nobody else can write to it."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)

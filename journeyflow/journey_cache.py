"""Compiled journeys kept on disk, so a command that runs a journey skips parsing,
checking and the compiler's imports when the journey has not changed.

An entry is found by a key made of everything a compile depends on: the journey's
text, its file name (diagnostics and template paths use it), the ``.scenario`` file
beside it, and the journeyflow build (every file of the package, by size and
time) and Python that compiled it. Template files a message reads are
checked again on every use, by content: an edited template is compiled afresh,
so its check still runs. Only journeys without errors are kept, with their
warnings, so what a compile reports is the same with or without the cache.

The folder is ``$JOURNEYFLOW_CACHE_DIR``, else ``$XDG_CACHE_HOME/journeyflow``,
else ``~/.cache/journeyflow``; ``JOURNEYFLOW_NO_CACHE=1`` (or ``run --no-cache``)
turns the cache off. Entries are pickles, so a folder another user could write to
is never read. Each entry carries a digest of its content and is written to a
temporary file then renamed, so a torn or concurrent write is never read back: a
damaged entry counts as missing and is compiled again. Failing to write the cache
never fails a command.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeyflow.cachedir import private
from journeyflow.journey import Journey, loads, read_source

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["MAX_ENTRIES", "load_cached"]

FORMAT = b"journeyflow-journey-cache 2\n"  # bump when an entry's layout changes
MAX_ENTRIES = 256  # the oldest entries beyond this are removed when one is written
_DIGEST = hashlib.sha256().digest_size
_PACKAGE = Path(__file__).resolve().parent


def load_cached(path: Path, folder: Path | None) -> Journey:
    """``journeyflow.load(path)``, from ``folder`` when an entry there is still valid.

    Raises :class:`~journeyflow.errors.JourneyError` exactly as ``load`` does.
    """
    text = read_source(path)
    key = _key(path, text) if folder is not None and private(folder) else None
    if folder is None or key is None:
        return loads(text, str(path))
    entry = folder / f"{key}.journey.pickle"
    journey = _read(entry, path, text)
    if journey is None:
        journey = loads(text, str(path))
        _write(folder, entry, journey)
    return journey


# ---- the key -------------------------------------------------------------------------

def _key(path: Path, text: str) -> str | None:
    """The entry's name; None when the ``.scenario`` beside the journey cannot be read
    (compiling reports why)."""
    digest = hashlib.sha256(FORMAT)
    for part in (_build(), str(path), text):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    sidecar = path.with_suffix(".scenario")
    try:
        digest.update(sidecar.read_bytes() if sidecar.is_file() else b"no scenario file")
    except OSError:
        return None
    return digest.hexdigest()


_build_text: str | None = None


def _build() -> str:
    """journeyflow's files (path, size, time) and Python's version: an edited or
    upgraded installation never reads what another one wrote. (The files say more
    than the release number would, and reading that costs an import of
    importlib.metadata, a twentieth of a run's start.)"""
    global _build_text
    if _build_text is None:
        files = sorted(_package_files(_PACKAGE))
        _build_text = repr((sys.implementation.cache_tag, sys.version, files))
    return _build_text


def _package_files(folder: Path) -> list[tuple[str, int, int]]:
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith((".", "__pycache__")):
                continue
            if entry.is_dir(follow_symlinks=False):
                found += _package_files(Path(entry.path))
            elif entry.name.endswith((".py", ".lark", ".json")):
                info = entry.stat()
                found.append((entry.path, info.st_size, info.st_mtime_ns))
    return found


# ---- reading -------------------------------------------------------------------------

def _read(entry: Path, path: Path, text: str) -> Journey | None:
    """The journey of ``entry``, or None when it is missing, damaged or stale."""
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    body = data[len(FORMAT) + _DIGEST:]
    if (not data.startswith(FORMAT)
            or data[len(FORMAT):len(FORMAT) + _DIGEST] != hashlib.sha256(body).digest()):
        _remove(entry)
        return None
    try:
        fields, templates = pickle.loads(body)
        journey = CachedJourney(**fields)
    except Exception:  # written by a build whose classes have changed since
        _remove(entry)
        return None
    if journey.source != text or journey.file != str(path):
        return None
    if _template_digests(journey) != templates:
        return None
    try:
        os.utime(entry)  # recently used: the last to be pruned
    except OSError:
        pass
    return journey


def _template_digests(journey: Journey) -> dict[str, str | None]:
    """Each template file's content digest (None when it cannot be read)."""
    from journeyflow.templating.files import TemplateFileError, read_template

    digests: dict[str, str | None] = {}
    for message in journey.model.messages.values():
        if message.template is None or message.template in digests:
            continue
        try:
            content = read_template(journey.model.file, message.template)
        except TemplateFileError:
            digests[message.template] = None
        else:
            digests[message.template] = hashlib.sha256(
                content.encode("utf-8", "surrogatepass")).hexdigest()
    return digests


class _LazyGraph:
    """The ``graph`` of a :class:`CachedJourney`: kept pickled until it is read, since
    importing networkx costs more than everything else a run needs to start."""

    def __set__(self, journey: CachedJourney, value: Any) -> None:
        journey.__dict__["_graph"] = value

    def __get__(self, journey: CachedJourney | None, owner: type) -> Any:
        if journey is None:
            return self
        value = journey.__dict__["_graph"]
        if isinstance(value, bytes):
            value = journey.__dict__["_graph"] = pickle.loads(value)
        return value


class CachedJourney(Journey):
    """A journey read from the cache; the same in every way as one just compiled."""

    graph: nx.MultiDiGraph[str] = _LazyGraph()  # type: ignore[assignment]


# ---- writing -------------------------------------------------------------------------

def _write(folder: Path, entry: Path, journey: Journey) -> None:
    """Keep ``journey`` in ``entry``; any failure leaves the cache as it was."""
    try:
        fields = {"model": journey.model, "graph": pickle.dumps(journey.graph, protocol=5),
                  "source": journey.source, "file": journey.file,
                  "warnings": journey.warnings, "scenarios": journey.scenarios,
                  "behaviour": journey.behaviour}
        body = pickle.dumps((fields, _template_digests(journey)), protocol=5)
    except Exception:  # something of the model that cannot be pickled: no entry
        return
    data = FORMAT + hashlib.sha256(body).digest() + body
    import tempfile  # here: reading an entry, as most runs do, does not need it

    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".partial")
    except OSError:
        return
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, entry)  # whole or not at all, whoever else writes it
    except OSError:
        _remove(Path(temporary))
        return
    _prune(folder)


def _prune(folder: Path) -> None:
    """Remove the least recently used entries beyond :data:`MAX_ENTRIES`."""
    try:
        entries = [(item.stat().st_mtime_ns, item) for item in folder.glob("*.journey.pickle")]
    except OSError:
        return
    if len(entries) > MAX_ENTRIES:
        entries.sort()
        for _, item in entries[:len(entries) - MAX_ENTRIES]:
            _remove(item)


def _remove(item: Path) -> None:
    try:
        item.unlink()
    except OSError:
        pass

"""Worker processes on this machine: started, restarted when one dies, stopped together.

``journeyflow work --workers N`` and ``journeyflow serve --workers N`` (on a PostgreSQL
store) run their workers as ``journeyflow work ... --workers 1`` child processes. A child
that dies (killed, out of memory) is started again after a pause; its partitions are
taken over by the others in the meantime, once its leases run out.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

__all__ = ["WorkerPool", "work_argv"]

log = logging.getLogger("journeyflow.work")

RESTART_PAUSE = 2.0


def work_argv(journey_files: Sequence[str], store: str, options: Sequence[str] = ()) -> list[str]:
    """The command line of one worker process."""
    return [sys.executable, "-c", "from journeyflow.cli import main; main()", "work",
            *journey_files, "--store", store, *options, "--workers", "1"]


class WorkerPool:
    def __init__(self, argv: list[str], count: int, restart: bool = True) -> None:
        self.argv = argv
        self.count = count
        self.restart = restart
        self.children: list[subprocess.Popen[bytes]] = []
        self.failed = 0  # children that ended with an error
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self.children = [self._spawn() for _ in range(self.count)]
        self._watcher = threading.Thread(target=self._watch, name="journeyflow-workers",
                                         daemon=True)
        self._watcher.start()

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.argv)  # noqa: S603 - our own command line

    def _watch(self) -> None:
        while not self._stopping.wait(0.5):
            for i, child in enumerate(self.children):
                code = child.poll()
                if code is None or self._stopping.is_set():
                    continue
                if code != 0:
                    self.failed += 1
                if not self.restart:
                    continue
                log.error("a worker process ended; starting another",
                          extra={"pid": child.pid, "exit": code})
                time.sleep(RESTART_PAUSE)
                if not self._stopping.is_set():
                    self.children[i] = self._spawn()
            if not self.restart and all(c.poll() is not None for c in self.children):
                return

    def signal(self, signum: int) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signum)

    def wait(self) -> int:
        """Wait for every child; the first non-zero exit code, else 0."""
        codes = [child.wait() for child in self.children]
        return next((code for code in codes if code != 0), 0)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every child (each finishes its turn, commits and gives its share back),
        then SIGKILL the ones still running after ``timeout`` s."""
        self._stopping.set()
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + timeout
        for child in self.children:
            try:
                child.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.error("a worker did not stop in time; killed", extra={"pid": child.pid})
                child.kill()
                child.wait()

"""A throw-away PostgreSQL server from Debian's ``postgresql`` package, for the tests of the
PostgreSQL store and for ``bench/workers.py``.

The server runs in a temporary directory, listens on a free local port and on a unix
socket in that directory, and is stopped (its directory deleted) at the end. ``initdb``
refuses to run as root, so as root (CI) the server runs as ``nobody`` in a directory that
user owns. Missing binaries are an error, not a skip: ``scripts/bootstrap`` installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "pg_bin", "postgres_running"]


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian does not put it on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        on_path = shutil.which("initdb")
        if on_path is None:
            raise RuntimeError("PostgreSQL is not installed (no initdb under "
                               "/usr/lib/postgresql/*/bin): run ./scripts/bootstrap, or "
                               "apt-get install postgresql")
        return Path(on_path).parent
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self, root: Path, port: int, durable: bool) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port
        self.durable = durable
        self.as_user: list[str] = ["runuser", "-u", "nobody", "--"] if os.getuid() == 0 else []
        self.bin = pg_bin()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True,
                              check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self.root.chmod(0o755)  # the server's user must reach its directory
        self.data.mkdir()
        if self.as_user:
            shutil.chown(self.data, "nobody")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "-A", "trust", "-E", "UTF8", "--no-sync")
        settings = [f"-p {self.port}", f"-k {self.data}", "-c listen_addresses=127.0.0.1",
                    "-c max_connections=60", "-c shared_buffers=128MB"]
        if not self.durable:  # the tests kill workers, never the server: no flushes needed
            settings += ["-c fsync=off", "-c synchronous_commit=off",
                         "-c full_page_writes=off"]
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60",
                  "-l", str(self.data / "server.log"), "-o", " ".join(settings), "start")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-w",
                        "-m", "immediate", "stop"], capture_output=True, check=False,
                       timeout=60)


@contextmanager
def postgres_running(durable: bool = False) -> Iterator[PostgresServer]:
    root = Path(tempfile.mkdtemp(prefix="jf-pg-"))
    server = PostgresServer(root, _free_port(), durable)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole test session."""
    with postgres_running() as server:
        yield server


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session's server for one test."""
    import psycopg

    name = f"t{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server.url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _counter() -> Iterator[int]:
    n = 0
    while True:
        n += 1
        yield n


_numbers = _counter()

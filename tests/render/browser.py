"""Real headless Chromium for the browser tests of the HTML pages: the binary, the marks
that skip a test where it (or Graphviz) is absent, and one way to open a page."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = ["BROWSER_MARKS", "chromium"]

CHROMIUM = Path("/usr/bin/chromium")

BROWSER_MARKS = [
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="/usr/bin/chromium is absent (apt-get install chromium)"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed"),
]

# No sandbox (containers), no GPU, and nothing that reaches out: the page must stand alone.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` with a fresh ``profile`` folder and ``extra`` switches."""
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)

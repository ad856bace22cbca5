"""Template files are read only from inside the journey's folder, and only regular text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from journeyflow.templating.files import MAX_TEMPLATE_BYTES, TemplateFileError, read_template


@pytest.fixture
def journey(tmp_path: Path) -> str:
    """A journey file in its own folder, with a template and a secret beside the folder."""
    folder = tmp_path / "journeys"
    (folder / "templates" / "mail").mkdir(parents=True)
    (folder / "templates" / "mail" / "welcome.html").write_text("Hi {{ customer.id }}", "utf-8")
    (folder / "plain.txt").write_text("plain", "utf-8")
    (tmp_path / "secret.txt").write_text("password", "utf-8")
    path = folder / "welcome.journey"
    path.write_text('journey "Welcome"\n', "utf-8")
    return str(path)


def refusal(journey: str, template: str) -> TemplateFileError:
    with pytest.raises(TemplateFileError) as caught:
        read_template(journey, template)
    return caught.value


@pytest.mark.parametrize("template", ["templates/mail/welcome.html", "./plain.txt",
                                      "templates//mail/./welcome.html"])
def test_files_inside_the_folder_are_read(journey: str, template: str) -> None:
    assert read_template(journey, template) in ("Hi {{ customer.id }}", "plain")


@pytest.mark.parametrize(("template", "why"), [
    ("../secret.txt", "goes up with '..'"),
    ("templates/../../secret.txt", "goes up with '..'"),
    ("templates/../plain.txt", "goes up with '..'"),
    ("/etc/passwd", "is absolute"),
    ("/proc/self/environ", "is absolute"),
    ("\\\\server\\share\\x", "is absolute"),
    ("C:/Windows/win.ini", "is absolute"),
    ("plain.txt\0.html", "NUL character"),
    (".env", "hidden file or folder"),
    (".git/config", "hidden file or folder"),
])
def test_paths_that_leave_the_folder_are_refused(journey: str, template: str, why: str) -> None:
    error = refusal(journey, template)
    assert error.kind == "outside"
    assert why in error.detail


def test_a_symbolic_link_to_a_file_is_refused(journey: str, tmp_path: Path) -> None:
    folder = Path(journey).parent
    (folder / "link.html").symlink_to(tmp_path / "secret.txt")
    (folder / "inner.html").symlink_to(folder / "plain.txt")  # even one pointing inside
    for name in ("link.html", "inner.html"):
        error = refusal(journey, name)
        assert (error.kind, error.detail) == (
            "outside", f"template path '{name}' goes through a symbolic link")


def test_a_symbolic_link_to_a_folder_is_refused(journey: str, tmp_path: Path) -> None:
    (Path(journey).parent / "up").symlink_to(tmp_path)
    assert refusal(journey, "up/secret.txt").kind == "outside"


def test_the_journey_folder_itself_may_be_reached_through_a_link(journey: str,
                                                                 tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(Path(journey).parent)
    assert read_template(str(alias / "welcome.journey"), "plain.txt") == "plain"


def test_special_files_are_refused_without_blocking(journey: str) -> None:
    folder = Path(journey).parent
    os.mkfifo(folder / "pipe.html")  # opening it for reading would wait for a writer
    error = refusal(journey, "pipe.html")
    assert (error.kind, error.detail) == ("unusable",
                                          "template file 'pipe.html' is not a regular file")
    assert refusal(journey, "templates").detail == "template file 'templates' is a folder"
    assert refusal(journey, ".").detail == "template path '.' names a folder"


def test_large_and_binary_files_are_refused(journey: str) -> None:
    folder = Path(journey).parent
    (folder / "big.html").write_bytes(b"x" * (MAX_TEMPLATE_BYTES + 1))
    (folder / "exact.html").write_bytes(b"x" * MAX_TEMPLATE_BYTES)
    (folder / "latin1.html").write_bytes("Grüße".encode("latin-1"))
    assert "larger than 1 MiB" in refusal(journey, "big.html").detail
    assert len(read_template(journey, "exact.html")) == MAX_TEMPLATE_BYTES
    assert refusal(journey, "latin1.html").detail.endswith("'latin1.html' is not UTF-8 text")


def test_missing_files_and_files_used_as_folders(journey: str) -> None:
    assert refusal(journey, "templates/nope.html").kind == "missing"
    error = refusal(journey, "plain.txt/x.html")
    assert (error.kind, "as if it were a folder" in error.detail) == ("unusable", True)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_files_are_refused(journey: str) -> None:
    path = Path(journey).parent / "plain.txt"
    path.chmod(0)
    assert "cannot be read (permission denied)" in refusal(journey, "plain.txt").detail


def test_journey_text_without_a_file_reads_from_the_working_folder(
        journey: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(journey).parent)
    assert read_template("<journey>", "plain.txt") == "plain"
    assert refusal("<journey>", "../secret.txt").kind == "outside"

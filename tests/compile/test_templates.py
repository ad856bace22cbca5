"""What ``check`` finds in message templates, inline and in template files."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeyflow.errors import Diagnostic
from journeyflow.journey import check_text

HEADER = """journey "T"
customer { first_name: text = "there", tags: list }
event signed_up { source: text = "web" }
"""
FOOTER = """
stage new start {
  on signed_up { send m }
}
"""


def journey_with(parts: str) -> str:
    return HEADER + f"message m via email {{\n  {parts}\n}}\n" + FOOTER


def diagnostics(parts: str, file: str = "<journey>") -> list[Diagnostic]:
    return [d for d in check_text(journey_with(parts), file).diagnostics if d.is_error]


def codes(parts: str) -> list[str]:
    return [d.code for d in diagnostics(parts)]


def subject(template: str) -> str:
    return 'subject "' + template.replace('"', '\\"') + '"'


@pytest.mark.parametrize("template", [
    "Hi {{ customer.first_name }} from {{ event.source }}",
    "{% for tag in customer.tags %}{{ loop.index }}{{ tag }}{% endfor %}",
    "{% set name = customer.first_name|title %}{{ name }}",
    "{% macro hi(who) %}Hi {{ who }}{{ caller() if caller }}{% endmacro %}{{ hi('x') }}",
    "{% with n = 1 %}{{ n }}{% endwith %}{{ customer.id }}",
    "{{ bonus.value }} until {{ bonus.expires }}",
    "{{ customer.first_name is string }} {{ customer.tags|join(', ') }}",
])
def test_ordinary_templates_pass(template: str) -> None:
    assert codes(subject(template)) == []


@pytest.mark.parametrize(("template", "code", "spot"), [
    ("{% for lipsum in [] %}{% endfor %}{{ lipsum }}", "JF422", "lipsum"),
    ("{% for range in customer.tags %}{% endfor %}", "JF422", "range"),
    ("{% for x, dict in [] %}{% endfor %}", "JF422", "dict"),
    ("{% set namespace = 1 %}", "JF422", "namespace"),
    ("{% set loop = 1 %}", "JF422", "loop"),
    ("{% set customer = 1 %}", "JF422", "customer"),
    ("{% with cycler = 1 %}{% endwith %}", "JF422", "cycler"),
    ("{% macro joiner() %}{% endmacro %}", "JF422", "joiner"),
    ("{% macro m(self) %}{% endmacro %}", "JF422", "self"),
    ("{% set customer.first_name = 1 %}", "JF422", "customer.first_name"),
    ("{% include 'footer.html' %}", "JF423", "{% include"),
    ("{% import 'macros.html' as m %}", "JF423", "{% import"),
    ("{% from 'macros.html' import m %}", "JF423", "{% from"),
    ("{% extends 'base.html' %}", "JF423", "{% extends"),
    ("{{ customer.first_name|capitalise }}", "JF424", "capitalise"),
    ("{{ customer.tags|random }}", "JF424", "random"),
    ("{% if customer.tags is emptyy %}{% endif %}", "JF424", "emptyy"),
    ("{{ customer.first_name.__class__ }}", "JF425", "__class__"),
    ("{{ customer['__class__'] }}", "JF425", "__class__"),
    ("{{ customer|attr('__init__') }}", "JF425", "__init__"),
    ("{{ customer.tags|groupby('__class__') }}", "JF425", "__class__"),
    ("{{ customer.tags|sort(attribute='x.__class__') }}", "JF425", "__class__"),
    ("{{ customer|attr('\\x5f\\x5finit\\x5f\\x5f') }}", "JF425", None),
    ("{{ self }}", "JF409", "self"),
    ("{{ range(3) }}", "JF409", "range"),
    ("{{ loop.index }}", "JF409", "loop"),
    ("{{ customer.firstname }}", "JF409", "customer.firstname"),
])
def test_what_check_rejects(template: str, code: str, spot: str | None) -> None:
    found = diagnostics(subject(template))
    assert [d.code for d in found] == [code]
    # the string's quote is at column 11; without a spot the caret covers the string
    column = 12 + template.index(spot) if spot else 11
    assert (found[0].span.line, found[0].span.col) == (5, column)


@pytest.mark.parametrize("template", [
    "{% if %}",
    "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
    "{{ " + "9" * 5000 + " }}",
    "{% block a %}{% endblock %}{% block a %}{% endblock %}",
])
def test_templates_that_do_not_compile(template: str) -> None:
    assert codes(subject(template)) == ["JF408"]


def test_every_problem_of_a_template_is_reported() -> None:
    found = codes(subject("{% for range in [] %}{% endfor %}{{ x|nope }}{% include 'a' %}"))
    assert sorted(found) == ["JF409", "JF422", "JF423", "JF424"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "ok.html").write_text(
        "Hi {{ customer.first_name }}\n{% for t in customer.tags %}{{ t }}{% endfor %}", "utf-8")
    (tmp_path / "templates" / "bad.html").write_text(
        "line 1\nline 2 {{ customer.nope }}\n{% for lipsum in [] %}{% endfor %}", "utf-8")
    (tmp_path / "secret.txt").write_text("password", "utf-8")
    return tmp_path


def file_diagnostics(folder: Path, template: str) -> list[Diagnostic]:
    journey = folder / "templates" / ".." / "j.journey"
    return diagnostics(f'template "{template}"', str(journey.resolve()))


def test_a_template_file_is_checked_like_inline_text(folder: Path) -> None:
    assert file_diagnostics(folder, "templates/ok.html") == []
    found = file_diagnostics(folder, "templates/bad.html")
    assert [(d.code, d.message) for d in found] == [
        ("JF409", "template variable 'customer.nope' does not exist (templates/bad.html, "
                  "line 2)"),
        ("JF422", "a template cannot bind the reserved name 'lipsum' (templates/bad.html, "
                  "line 3)"),
    ]
    assert all((d.span.line, d.span.col) == (5, 12) for d in found)  # at the path string


@pytest.mark.parametrize(("template", "code"), [
    ("../secret.txt", "JF420"), ("/etc/passwd", "JF420"), (".hidden", "JF420"),
    ("templates", "JF421"), ("templates/none.html", "JF412"),
])
def test_template_paths_are_confined(folder: Path, template: str, code: str) -> None:
    found = file_diagnostics(folder, template)
    assert [d.code for d in found] == [code]
    assert (found[0].span.col, found[0].span.end_col) == (12, 14 + len(template))


def test_a_link_out_of_the_folder_is_refused(folder: Path) -> None:
    (folder / "templates" / "link.html").symlink_to(folder / "secret.txt")
    found = file_diagnostics(folder, "templates/link.html")
    assert [(d.code, d.message) for d in found] == [
        ("JF420", "template path 'templates/link.html' goes through a symbolic link")]


def test_a_fifo_is_refused_without_waiting(folder: Path) -> None:
    import os

    os.mkfifo(folder / "templates" / "pipe.html")
    assert [d.code for d in file_diagnostics(folder, "templates/pipe.html")] == ["JF421"]

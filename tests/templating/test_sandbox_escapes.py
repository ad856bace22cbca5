"""Known ways out of a Jinja2 sandbox, each tried through a real journey and delivery.

Every payload must be rejected by ``check`` (what can be known from the template
text) or fail its render with an ``error`` record (what only shows at run time,
such as a field of a ``str.format`` string); what the sandbox lets through shows
no class, function, address, file or environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import journeyflow
from journeyflow.errors import CompileError
from journeyflow.runtime.executor import Delivery

PAYLOADS = [
    # attribute walks to Python internals
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "check"),
    ("{{ customer.__init__.__globals__ }}", "check"),
    ("{{ customer.first_name.__len__() }}", "check"),
    ("{{ customer['__class__'] }}", "check"),
    ("{{ customer.first_name|attr('__class__') }}", "check"),
    ("{{ customer.first_name|attr('\\x5f\\x5fclass\\x5f\\x5f') }}", "check"),
    ("{{ customer|map(attribute='__class__')|list }}", "check"),
    ("{{ [customer]|selectattr('__class__')|list }}", "check"),
    ("{% set name = '__cla' ~ 'ss__' %}{{ customer.first_name|attr(name) }}", "error"),
    ("{% set name = '__cla' ~ 'ss__' %}{{ customer.first_name[name] }}", "error"),
    ("{{ bonus.expires.__class__ }}", "check"),
    # str.format reaching attributes, directly and indirectly (CVE-2016-10745 and later)
    ("{{ '{0.__class__.__mro__}'.format(customer.first_name) }}", "error"),
    ("{{ '{x.__class__}'.format_map({'x': customer.first_name}) }}", "error"),
    # CVE-2024-56326: a stored reference to str.format, called later
    ("{% set f = '{0.__class__.__base__.__subclasses__}'.format %}"
     "{{ f(customer.first_name) }}", "error"),
    ("{% for f in ['{0.__class__}']|map(attribute='format') %}{{ f(1) }}{% endfor %}", "error"),
    # CVE-2025-27516: str.format fetched through the attr filter
    ("{{ ('{0.__class__.__mro__}'|attr('format'))(customer.first_name) }}", "error"),
    ("{% set f = '{0.__globals__}'|attr('format_map') %}{{ f({'0': customer}) }}", "error"),
    # globals brought back by binding their names, or reached directly
    ("{% for lipsum in [] %}{% endfor %}{{ lipsum }}", "check"),
    ("{% for lipsum in [] %}{% endfor %}{{ lipsum.__globals__ }}", "check"),
    ("{% set range = 1 %}{{ range }}", "check"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "check"),
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "check"),
    ("{{ joiner.__init__.__globals__ }}", "check"),
    ("{{ namespace.__init__.__globals__ }}", "check"),
    ("{{ self._TemplateReference__context }}", "check"),
    ("{{ config }}{{ request }}", "check"),
    # loaders and files
    ("{% include '/etc/passwd' %}", "check"),
    ("{% extends '../../../../etc/passwd' %}", "check"),
    ("{% import '/proc/self/environ' as env %}", "check"),
    # methods that change values, or print functions with their addresses
    ("{{ customer.tags.append('x') }}{{ customer.tags }}", "error"),
    ("{{ customer.pop('first_name') }}", "check"),
    ("{{ customer.first_name.upper }}", "error"),
    ("{{ ['{0.__class__}']|map(attribute='format')|list }}", "error"),
    ("{{ customer.items }}", "check"),
    ("{{ 'a'.translate({97: '__class__'}) }}", "error"),
]

# What would show that a payload reached inside the process.
LEAKS = ("<", "0x", "class", "globals", "subclasses", "function", "method", "module",
         "root:", "PATH=", "uid=")


def outcome(tmp_path: Path, payload: str) -> str:
    """'check' when rejected at compile time, 'error' when the render failed, else the body."""
    (tmp_path / "payload.html").write_text(payload, "utf-8")
    journey_file = tmp_path / "escape.journey"
    journey_file.write_text(
        'journey "Escape"\n'
        'customer { first_name: text = "Ana", tags: list = ["vip"] }\n'
        "event signed_up {}\n"
        'message m via email { subject "Hi" template "payload.html" }\n'
        "stage new start { on signed_up { send m } }\n", "utf-8")
    try:
        journey = journeyflow.load(journey_file)
    except CompileError:
        return "check"
    sent: list[Delivery] = []
    engine = journeyflow.Engine(journey, channels={"email": sent.append})
    engine.handle({"at": "2026-01-05T10:00:00Z", "customer": "c1", "event": "signed_up"})
    errors: list[dict[str, Any]] = [r for r in engine.trace if r["kind"] == "error"]
    if errors:
        assert not sent
        assert errors[0]["message"] == "m"
        return "error"
    assert len(sent) == 1
    return sent[0].body


@pytest.mark.parametrize(("payload", "expected"), PAYLOADS)
def test_escape_is_rejected(tmp_path: Path, payload: str, expected: str) -> None:
    assert outcome(tmp_path, payload) == expected


@pytest.mark.parametrize(("payload", "expected"), [
    ("{{ '{0}!'.format(customer.first_name) }}", "Ana!"),
    ("{{ '%s/%s'|format(customer.first_name, customer.tags|first) }}", "Ana/vip"),
    ("{{ customer.first_name|attr('upper') is callable }}", "True"),
    ("{{ customer.tags|length }}{{ customer.first_name.lower() }}", "1ana"),
])
def test_what_renders_shows_nothing_of_the_process(tmp_path: Path, payload: str,
                                                   expected: str) -> None:
    body = outcome(tmp_path, payload)
    assert body == expected
    assert not any(leak in body for leak in LEAKS)

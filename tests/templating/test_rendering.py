"""Rendering in the bounded sandbox: ordinary templates work, runaway ones stop early."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeyflow.templating.limits import RenderBounds, measure
from journeyflow.templating.rendering import BadTemplate, RenderError, compile_template, render

CONTEXT: dict[str, Any] = {
    "customer": {"id": "c1", "first_name": "Ana", "points": 1200, "tags": ["vip", "new"],
                 "since": datetime(2026, 3, 2, 10, 0)},
    "event": {"amount": 80.5, "category": "shoes"},
    "bonus": {"name": "welcome", "value": "10%", "expires": None},
}


def rendered(text: str, bounds: RenderBounds | None = None) -> str:
    template = compile_template(text)
    return render(template, CONTEXT) if bounds is None else render(template, CONTEXT, bounds)


def failure(text: str, bounds: RenderBounds | None = None) -> RenderError:
    with pytest.raises(RenderError) as caught:
        rendered(text, bounds)
    return caught.value


@pytest.mark.parametrize(("text", "expected"), [
    ("Hi {{ customer.first_name }}!", "Hi Ana!"),
    ("{% for tag in customer.tags %}{{ loop.index }}.{{ tag }} {% endfor %}", "1.vip 2.new "),
    ("{{ customer.tags|join(', ')|upper }}", "VIP, NEW"),
    ("{{ '%.2f'|format(event.amount) }} €", "80.50 €"),
    ("{{ '{:,}'.format(customer.points) }}", "1,200"),
    ("{{ customer.since.strftime('%d.%m.%Y') }}", "02.03.2026"),
    ("{% if customer.points > 1000 %}gold{% else %}silver{% endif %}", "gold"),
    ("{% set total = event.amount * 2 %}{{ total }}", "161.0"),
    ("{% macro line(x) %}[{{ x }}]{% endmacro %}{{ line(1) }}{{ line('a') }}", "[1][a]"),
    ("{{ customer.first_name ~ '/' ~ bonus.value }}", "Ana/10%"),
    ("{{ customer.missing }}|{{ customer.missing.deeper }}", "|"),
    ("{{ 2 ** 64 }}", "18446744073709551616"),
    ("{{ 'ab' * 3 }}{{ [0] * 2 }}", "ababab[0, 0]"),
    ("{{ customer.first_name|center(7) }}", "  Ana  "),
    ("{{ 'a-b'|replace('-', '+') }}", "a+b"),
    ("{% filter upper %}x{{ customer.first_name }}{% endfilter %}", "XANA"),
    ("{% set block %}<{{ customer.id }}>{% endset %}{{ block }}", "<c1>"),
])
def test_ordinary_templates_render(text: str, expected: str) -> None:
    assert rendered(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("{{ 'x' * 10**9 }}", "repeated value would be larger than 1,000,000"),
    ("{{ [1] * 10**9 }}", "repeated value would be larger"),
    ("{{ ['x' * 1000] * 2000 }}", "repeated value would be larger"),
    ("{{ 10 ** (10 ** 8) }}", "more than 4,096 bits"),
    ("{{ (10 ** 1000) * (10 ** 1000) }}", "more than 4,096 bits"),
    ("{{ 'x'|center(10**9) }}", "centred text would be larger"),
    ("{{ 'x'.center(10**9) }}", "padded text would be larger"),
    ("{{ 'x'.zfill(10**9) }}", "padded text would be larger"),
    ("{{ (1).to_bytes(10**9, 'big') }}", "the bytes would be larger"),
    ("{{ ('\t' * 1000).expandtabs(10**6) }}", "expanded text would be larger"),
    ("{{ '{:>1000000000}'.format(1) }}", "formatted text would be larger"),
    ("{{ '{0:{1}}'.format(1, 10**9) }}", "field width above"),
    ("{{ '%1000000000d' % 1 }}", "formatted text would be larger"),
    ("{{ '%*d' % (10**9, 1) }}", "field width above"),
    ("{{ '%1000000000s'|format('x') }}", "formatted text would be larger"),
    ("{% set s = 'x' * 900000 %}{{ s ~ s }}", "joined text would be larger"),
    ("{% set s = 'x' * 900000 %}{{ s + s }}", "joined value would be larger"),
    ("{% set s = 'x' * 1000 %}{{ s|replace('', s) }}", "replaced text would be larger"),
    ("{% set s = 'x' * 1000 %}{{ s.replace('', s) }}", "replaced text would be larger"),
    ("{% set s = 'x' * 1000 %}{{ (s|list)|join(s) }}", "joined text would be larger"),
    ("{% set s = 'x' * 1000 %}{{ s.join(s|list) }}", "joined text would be larger"),
    ("{% set s = 'x' * 1000 %}{{ s|wordwrap(1, wrapstring=s) }}", "wrapped text would be"),
    ("{% set s = 'x\n' * 1000 %}{{ s|indent(10**5) }}", "indent"),
    ("{{ [1]|batch(10**9, 0)|list }}", "batch would be larger"),
    ("{{ [1]|slice(10**9)|list }}", "slices would be larger"),
    ("{% set s = 'x' * 500000 %}{{ s }}{{ s }}{{ s }}", "longer than 1,000,000 characters"),
    ("{% set s %}{% for i in 'x' * 90000 %}{{ 'y' * 20 }}{% endfor %}{% endset %}",
     "rendered block would be larger"),
    ("{% set l = 'x' * 1000 %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}",
     "more than 100,000 iterations"),
    ("{% set l = 'x' * 1000 %}{% for a in l %}{% for b in l if false %}{% endfor %}"
     "{% endfor %}", "more than 100,000 iterations"),
    ("{{ 1 / 0 }}", "division by zero"),
    ("{{ customer.first_name + 1 }}", "can only concatenate str"),
    ("{{ customer.missing + 1 }}", "has no attribute 'missing'"),
    ("{{ 'a'.translate({}) }}", "'translate' is not available"),
    ("{{ customer.first_name.upper }}", "a function cannot be printed"),
    ("{{ 2.0 ** 5000 }}", "too large"),
])
def test_runaway_and_broken_templates_fail_with_a_reason(text: str, reason: str) -> None:
    assert reason in failure(text).reason


def test_each_value_built_counts_toward_the_total_of_the_render() -> None:
    # Each value stays under the value bound, and the text printed stays short.
    text = "{% set s = 'x' * 900000 %}" + "{% set t = s ~ 'y' %}" * 30 + "{{ t|length }}"
    assert "built more than 20,000,000" in failure(text).reason


def test_a_slow_render_stops_at_the_time_bound() -> None:
    exponential = ("{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}"
                   "{% endif %}{% endmacro %}{{ twice(60) }}")
    started = time.monotonic()
    assert "took longer than 0.05 s" in failure(exponential, RenderBounds(seconds=0.05)).reason
    assert time.monotonic() - started < 2


def test_smaller_bounds_are_honoured() -> None:
    small = RenderBounds(output=10, iterations=3)
    assert "longer than 10 characters" in failure("{{ 'x' * 11 }}", small).reason
    assert "more than 3 iterations" in failure("{% for x in [1, 2, 3, 4] %}{% endfor %}",
                                               small).reason


def test_a_failure_names_its_template_line() -> None:
    error = failure("line one\n{% if true %}\n{{ 1 // 0 }}\n{% endif %}")
    assert error.line == 3
    assert str(error) == "integer division or modulo by zero (line 3)"


def test_recursive_loops_count_their_inner_items() -> None:
    nested = "[" * 30 + "]" * 30
    text = ("{% set tree = " + nested + " %}{% for node in tree recursive %}"
            "{{ loop(node) }}{% endfor %}")
    assert "more than 20 iterations" in failure(text, RenderBounds(iterations=20)).reason


def test_no_global_function_is_available() -> None:
    for name in ("range", "dict", "lipsum", "cycler", "joiner", "namespace"):
        assert "is undefined" in failure(f"{{{{ {name}() }}}}").reason


@pytest.mark.parametrize("text", ["{% if %}", "{{ customer.first_name }", "{% endfor %}",
                                  "{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}",
                                  "{{ " + "9" * 5000 + " }}",
                                  "{% block a %}{% endblock %}{% block a %}{% endblock %}"])
def test_templates_that_do_not_compile_raise_bad_template(text: str) -> None:
    with pytest.raises(BadTemplate):
        compile_template(text)


def test_measure_counts_nested_values_and_stops_early() -> None:
    assert measure(["ab", ("c", {"d": "ef"})]) == 9
    huge = ["x" * 1000] * 10**6
    started = time.perf_counter()
    assert measure(huge, limit=5000) > 5000
    assert time.perf_counter() - started < 1


def test_filters_called_by_name_are_bounded_too() -> None:
    assert "centred text" in failure("{{ ['x']|map('center', 10**9)|list }}").reason


PIECES = ["{{ ", " }}", "{% for x in ", " %}", "{% endfor %}", "{% if ", "{% endif %}",
          "{% set s = ", "{% macro m(n) %}", "{% endmacro %}", "m(", "customer.first_name",
          "customer.tags", "customer.points", "x", "s", "n", "loop.index", "'ab'", "'%s'",
          "'{0}'", "[1, 2]", "0", "1", "9", "99", "*", "**", "~", "+", "-", "/", "%", "(", ")",
          ",", ".format(", "|join", "|center(", "|replace('', 'ab')", "|list", "|format(",
          "|indent(", "|wordwrap(1, wrapstring=", "|batch(", "|sum(start=", "|string"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_any_template_compiles_and_renders_or_says_why(pieces: list[str]) -> None:
    """Whatever is written, the outcome is text within the bounds or a stated reason."""
    small = RenderBounds(output=5_000, value=5_000, built=50_000, iterations=500,
                         seconds=0.5)
    try:
        template = compile_template("".join(pieces))
    except BadTemplate:
        return
    try:
        text = render(template, CONTEXT, small)
    except RenderError as err:
        reason = err.reason
    else:
        reason = "rendered"
        assert len(text) <= small.output
    assert reason

"""The ``migrate`` block: parsed into its own nodes, with the spans diagnostics point at."""

from __future__ import annotations

import pytest

from journeyflow.errors import JourneyError
from journeyflow.syntax import ast as a
from journeyflow.syntax.format import format_source
from journeyflow.syntax.parser import parse_journey

SOURCE = """journey "J"
migrate {
  stage trial -> onboarding
  set plan = plan
}
"""


def test_items_keep_their_order_and_positions() -> None:
    (decl,) = parse_journey(SOURCE).decls
    assert isinstance(decl, a.MigrateDecl)
    move, rewrite = decl.items
    assert isinstance(move, a.MigrateStage)
    assert isinstance(rewrite, a.MigrateSet)
    assert (move.old.name, move.new.name) == ("trial", "onboarding")
    assert (move.new.span.line, move.new.span.col) == (3, 18)
    assert rewrite.attribute.name == "plan"
    assert isinstance(rewrite.expr, a.Name)


def test_migrate_is_still_a_name_elsewhere() -> None:
    tree = parse_journey('journey "J"\ncustomer { migrate: bool = false }\n')
    assert tree.decls[0].fields[0].name.name == "migrate"  # type: ignore[union-attr]


@pytest.mark.parametrize("text", [
    'journey "J"\nmigrate { stage trial onboarding }\n',
    'journey "J"\nmigrate { set plan }\n',
    'journey "J"\nmigrate { send welcome }\n',
])
def test_malformed_lines_are_syntax_errors(text: str) -> None:
    with pytest.raises(JourneyError) as err:
        parse_journey(text)
    assert all(d.code.startswith("JF1") for d in err.value.diagnostics)


def test_formatter_puts_one_line_per_item() -> None:
    out = format_source('journey "J"\nmigrate { stage a -> b set x = 1 }\n')
    assert out.endswith("migrate {\n  stage a -> b\n  set x = 1\n}\n")

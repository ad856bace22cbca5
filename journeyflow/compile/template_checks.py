"""What can be known about a message template before it is ever rendered.

:func:`template_findings` walks a parsed template and returns every problem it
finds: an ``include``, ``import`` or ``extends`` (templates have no loader), a
filter or test the sandbox does not have, a name bound over a reserved one (a
loop variable called ``range`` or ``customer``), an attribute the sandbox never
gives out (``__class__``), and a variable the journey does not have.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from jinja2 import nodes

from journeyflow.errors import did_you_mean
from journeyflow.templating.filters import UNAVAILABLE_FILTERS
from journeyflow.templating.rendering import sandbox

__all__ = ["BONUS_FIELDS", "RESERVED_NAMES", "TEMPLATE_NAMES", "Finding", "template_findings"]

TEMPLATE_NAMES = ("customer", "event", "bonus")
BONUS_FIELDS = ("name", "value", "expires")
# Names Jinja2 gives a meaning of its own: binding one would hide it, or bring
# back a global the sandbox took away.
RESERVED_NAMES = frozenset({
    *TEMPLATE_NAMES, "loop", "caller", "varargs", "kwargs", "self", "super",
    "range", "dict", "lipsum", "cycler", "joiner", "namespace",
})
_NO_LOADER = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)
_KEYWORD = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from",
            nodes.Extends: "extends"}


@dataclass(frozen=True)
class Finding:
    """One problem in a template.

    ``pattern`` finds its spot in the template text (its first group, if it has one).
    """

    code: str
    message: str
    line: int
    pattern: str
    hint: str | None


def template_findings(tree: nodes.Template,
                      known: Mapping[str, frozenset[str]]) -> list[Finding]:
    """Every problem of ``tree``; ``known`` maps customer, event, bonus to their fields."""
    found = [*_no_loader(tree), *_unknown_filters(tree), *_reserved(tree), *_internals(tree)]
    found += _unknown_names(tree, known)
    return sorted(found, key=lambda f: f.line)


def _no_loader(tree: nodes.Template) -> Iterator[Finding]:
    for node in tree.find_all(_NO_LOADER):
        keyword = _KEYWORD[type(node)]
        yield Finding("JF423", f"a template cannot use {{% {keyword} %}}", node.lineno,
                      rf"{{%-?\s*{keyword}\b",
                      "write the text into this template; each message's template stands "
                      "alone (macros defined in the same template work)")


def _unknown_filters(tree: nodes.Template) -> Iterator[Finding]:
    env = sandbox()
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        is_filter = isinstance(node, nodes.Filter)
        available = env.filters if is_filter else env.tests
        if node.name in available:
            continue
        what = "filter" if is_filter else "test"
        hint = did_you_mean(node.name, available, f"see the {what}s of Jinja2's template "
                                                  "documentation")
        if node.name in UNAVAILABLE_FILTERS:
            hint = "a message renders the same text every time; pick the value in a rule"
        pattern = rf"\|\s*({re.escape(node.name)})\b" if is_filter else \
            rf"\bis\s+(?:not\s+)?({re.escape(node.name)})\b"
        yield Finding("JF424", f"unknown template {what} '{node.name}'", node.lineno,
                      pattern, hint)


def _bound_names(tree: nodes.Template) -> Iterator[tuple[str, int]]:
    """Every name the template binds: loop and set targets, with, macro names and args."""
    for name in tree.find_all(nodes.Name):
        if name.ctx in ("store", "param"):
            yield name.name, name.lineno
    for macro in tree.find_all(nodes.Macro):
        yield macro.name, macro.lineno


def _reserved(tree: nodes.Template) -> Iterator[Finding]:
    for name, line in _bound_names(tree):
        if name in RESERVED_NAMES:
            yield Finding("JF422", f"a template cannot bind the reserved name '{name}'", line,
                          rf"\b{re.escape(name)}\b",
                          f"pick another name, e.g. '{name}_item'")
    for ref in tree.find_all(nodes.NSRef):
        yield Finding("JF422", f"a template cannot assign to '{ref.name}.{ref.attr}'",
                      ref.lineno, rf"\b{re.escape(ref.name)}\s*\.\s*{re.escape(ref.attr)}\b",
                      "set a plain name instead: {% set total = ... %}")


def _internals(tree: nodes.Template) -> Iterator[Finding]:
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        attr = _private_attribute(node)
        if attr is not None:
            yield Finding("JF425", f"a template cannot reach '{attr}'", node.lineno,
                          re.escape(attr), "names starting with '_' are internals of "
                                           "Python and are never available in templates")


def _private_attribute(node: nodes.Node) -> str | None:
    """A name starting with ``_`` that ``node`` reads, when it is written out in full."""
    if isinstance(node, nodes.Getattr):
        return _private(node.attr)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return _private(node.arg.value)
    if isinstance(node, nodes.Filter):
        named = [kw.value for kw in node.kwargs if kw.key == "attribute"]
        if node.name in _ATTRIBUTE_FILTERS and node.args:
            named.append(node.args[0])
        for value in named:
            if isinstance(value, nodes.Const) and (found := _private(value.value)):
                return found
    return None


# Filters whose first argument names an attribute (a dotted path for most of them).
_ATTRIBUTE_FILTERS = frozenset({"attr", "selectattr", "rejectattr", "groupby"})


def _private(name: object) -> str | None:
    if not isinstance(name, str):
        return None
    return next((part for part in name.split(".") if part.startswith("_")), None)


def _unknown_names(tree: nodes.Template,
                   known: Mapping[str, frozenset[str]]) -> list[Finding]:
    bound = {name for name, _ in _bound_names(tree)}
    if tree.find(nodes.For) is not None:
        bound.add("loop")
    if tree.find(nodes.Macro) is not None or tree.find(nodes.CallBlock) is not None:
        bound |= {"caller", "varargs", "kwargs"}
    found: list[Finding] = []
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in TEMPLATE_NAMES and node.name not in bound:
            found.append(Finding(
                "JF409", f"template variable '{node.name}' does not exist", node.lineno,
                rf"\b{re.escape(node.name)}\b",
                did_you_mean(node.name, TEMPLATE_NAMES,
                             "templates can use customer, event and bonus")))
    for getattr_node in tree.find_all(nodes.Getattr):
        owner, attr = getattr_node.node, getattr_node.attr
        if isinstance(owner, nodes.Name) and owner.name in known and owner.name not in bound \
                and attr not in known[owner.name] and not attr.startswith("_"):
            fields = sorted(known[owner.name])
            found.append(Finding(
                "JF409", f"template variable '{owner.name}.{attr}' does not exist",
                getattr_node.lineno, rf"\b{owner.name}\s*\.\s*{re.escape(attr)}\b",
                did_you_mean(attr, fields, _known_hint(owner.name, fields))))
    return found


def _known_hint(owner: str, known: list[str]) -> str:
    if not known:
        return f"no {owner} value is declared"
    shown = ", ".join(f"{owner}.{k}" for k in known[:6])
    return f"known: {shown}" + (", ..." if len(known) > 6 else "")

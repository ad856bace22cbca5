"""Warnings about running a journey live: consent, experiments, waits (exit 0).

Like the graph checks, each check is a function returning what it found, so
tools can call them one by one; :func:`run_campaign_checks` reports them.
"""

from __future__ import annotations

from collections.abc import Iterator

from journeyflow.compile.context import CompileContext
from journeyflow.compile.declarations import nested_statements
from journeyflow.model import journey as m
from journeyflow.syntax import ast as a

__all__ = ["run_campaign_checks", "statements", "unconsented_sends", "unnamed_splits"]


def statements(file: a.JourneyFile) -> Iterator[a.Stmt]:
    """Every statement of every rule, nested ones included, in file order."""

    def walk(stmts: tuple[a.Stmt, ...]) -> Iterator[a.Stmt]:
        for stmt in stmts:
            yield stmt
            yield from walk(nested_statements(stmt))

    for decl in file.decls:
        if isinstance(decl, a.StageDecl | a.AnywhereDecl):
            for rule in decl.rules:
                if rule.block is not None:
                    yield from walk(rule.block.stmts)


def unconsented_sends(file: a.JourneyFile, model: m.JourneyModel) -> dict[str, a.Send | a.Offer]:
    """Channel -> the first marketing send or offer on it that no consent rule covers.

    >>> from journeyflow.journey import loads
    >>> from journeyflow.syntax.parser import parse_journey
    >>> text = '''journey "j" event e {} message m via email { subject "s" }
    ... stage a start { on e { send m } }'''
    >>> list(unconsented_sends(parse_journey(text), loads(text).model))
    ['email']
    """
    found: dict[str, a.Send | a.Offer] = {}
    for stmt in statements(file):
        if not isinstance(stmt, a.Send | a.Offer):
            continue
        message = model.messages.get(stmt.message.name)
        if message is None or message.transactional or model.consent_rules(message.channel):
            continue
        found.setdefault(message.channel, stmt)
    return found


def unnamed_splits(file: a.JourneyFile) -> list[a.Split]:
    """Splits keyed by their position: an edit above one reshuffles its customers' arms."""
    return [stmt for stmt in statements(file) if isinstance(stmt, a.Split) and stmt.name is None]


def run_campaign_checks(ctx: CompileContext, file: a.JourneyFile, model: m.JourneyModel) -> None:
    for channel, send in unconsented_sends(file, model).items():
        ctx.sink.warning("JF607", f"marketing on {channel} is sent without asking for consent",
                         send.span, f"declare who agreed to it, e.g. consent {channel} where "
                         f"{channel}_opt_in; mark receipts and password resets 'transactional'")
    for split in unnamed_splits(file):
        ctx.sink.warning("JF608", "this split has no name: which arm a customer takes depends "
                         "on the line it is on", split.span,
                         'name it, e.g. split "offer_test" { ... }, so editing the file above '
                         "it does not move customers to another arm")

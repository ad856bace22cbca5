"""How the diff writes rules and statements: on one line, in the journey's own words."""

from __future__ import annotations

from journeyflow.syntax import ast as a
from journeyflow.syntax.format_expr import (
    delayed_head_text,
    expr_text,
    is_simple,
    simple_stmt_text,
)
from journeyflow.versions.view import ActionView, RuleView

__all__ = ["compound_head", "rule_text", "statement_text"]


def rule_text(rule: RuleView) -> str:
    """A rule on one line: its head, then its statements in braces."""
    if not rule.actions:
        return rule.head
    return f"{rule.head} {{ " + "; ".join(statement_text(v) for v in rule.actions) + " }"


def statement_text(view: ActionView) -> str:
    """A statement on one line, nested blocks included.

    A split arm is shown as its share and its statements, arms separated by ``|``.
    """
    stmt = view.stmt
    if is_simple(stmt):
        return simple_stmt_text(stmt)
    inner = [" ".join(["{", "; ".join(statement_text(v) for v in block), "}"]).replace(
        "{  }", "{}") for block in view.blocks]
    if isinstance(stmt, a.Split):
        arms = (f"{arm.share.text} {body}" for arm, body in zip(stmt.arms, inner, strict=True))
        return "split { " + " | ".join(arms) + " }"
    if isinstance(stmt, a.If) and view.blocks[1]:
        return f"{compound_head(view)} {inner[0]} else {inner[1]}"
    return f"{compound_head(view)} {inner[0]}"


def compound_head(view: ActionView) -> str:
    """A compound statement's first line, without its block."""
    stmt = view.stmt
    if isinstance(stmt, a.Delayed):
        return delayed_head_text(stmt)
    if isinstance(stmt, a.If):
        return f"if {expr_text(stmt.cond)}"
    if isinstance(stmt, a.Split):
        return "split " + " / ".join(arm.share.text for arm in stmt.arms)
    return statement_text(view)



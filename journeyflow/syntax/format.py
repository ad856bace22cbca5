"""``journeyflow fmt``: print a syntax tree in the canonical layout, keeping every comment.

The layout is a function of the tree; the comments and, for a few choices, the
source positions in the tree decide the rest:

* a full-line comment stays on its own line before the node that follows it,
  at that node's indentation (before a closing brace: inside the block);
* an end-of-line comment stays at the end of the first output line of the node
  it followed, and a comment inside a node printed on one line goes to its end;
* a block with one simple statement and no comment stays on one line;
* one-line declarations that were on adjacent lines stay grouped.

``parse(format_source(x)) == parse(x)`` and formatting is idempotent.

Examples
--------
>>> print(format_source('journey "x" stage a start { on e -> b }  stage b final'), end="")
journey "x"
<BLANKLINE>
stage a start {
  on e -> b
}
<BLANKLINE>
stage b final
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields, is_dataclass
from functools import cache
from typing import Any, TypeVar

from journeyflow.errors import Span
from journeyflow.syntax import ast as a
from journeyflow.syntax import format_expr as fx
from journeyflow.syntax.format_expr import SourceText, expr_text, quote
from journeyflow.syntax.parser import grammar_text, parse_journey, parse_scenarios

__all__ = ["format_source", "format_tree"]

Pos = tuple[int, int]
Comment = tuple[int, int, str]
T = TypeVar("T")
_ZERO: Pos = (0, 0)
_INDENT = "  "


def format_source(text: str, file: str = "<journey>") -> str:
    """Parse ``text`` (a ``.journey`` file, or scenarios when ``file`` ends in ``.scenario``)
    and print it in the canonical layout.

    Raises
    ------
    JourneySyntaxError
        When ``text`` does not parse.
    """
    if file.endswith(".scenario"):
        tree: a.JourneyFile | a.ScenarioFile = parse_scenarios(text, file)
    else:
        tree = parse_journey(text, file)
    return format_tree(tree, tree.comments, source=text)


def format_tree(tree: a.JourneyFile | a.ScenarioFile, comments: Iterable[Comment] = (),
                *, source: str | None = None) -> str:
    """The canonical text of ``tree``; ``comments`` are placed by their (line, col).

    ``source``, the text the tree came from, lets ``simulate`` numbers keep their
    written form (``60%`` rather than ``0.6``) and places comments before the closing
    brace of a ``split`` exactly (without it, those indented past ``split`` stay inside).
    """
    out = _Formatter(comments, SourceText(source) if source is not None else None)
    if isinstance(tree, a.ScenarioFile):
        out.decls(tree.scenarios, first_blank=False)
    else:
        out.header(tree.header)
        out.decls(tree.decls, first_blank=True)
    return out.text()


def end_of(node: object) -> Pos:
    """The end of the last token of ``node`` that the tree has a span for."""
    if isinstance(node, Span):
        return (node.end_line, node.end_col)
    if isinstance(node, tuple):
        return max((end_of(item) for item in node), default=_ZERO)
    if is_dataclass(node) and not isinstance(node, type):
        return max((end_of(getattr(node, f.name)) for f in fields(node)), default=_ZERO)
    return _ZERO


def _start(node: Any) -> Pos:
    span: Span = node.span
    return (span.line, span.col)


def _after_word(node: Any, word: str) -> Pos:
    """The end of the keyword ``word`` that starts ``node``."""
    line, col = _start(node)
    return (line, col + len(word))


@cache
def _keywords() -> frozenset[str]:
    return frozenset(re.findall(r'"([^\W\d]\w*)"', grammar_text()))


class _Writer:
    """Output lines, the indentation, and the comments still to place."""

    def __init__(self, comments: Iterable[Comment]) -> None:
        self.comments = sorted((line, col, text.rstrip()) for line, col, text in comments)
        self.next = 0
        self.out: list[str] = []
        self.blank: set[int] = set()
        self.depth = 0
        self.code = 0  # code lines written so far
        self.ends: list[tuple[Pos, int]] = []  # node end -> first line of the outermost node

    def text(self) -> str:
        self.flush((1 << 62, 0))
        lines = [("\n" if i in self.blank else "") + line for i, line in enumerate(self.out)]
        return "\n".join(lines) + "\n" if lines else ""

    def has_comment(self, start: Pos, end: Pos) -> bool:
        i = bisect_left(self.comments, start, key=lambda c: (c[0], c[1]))
        return i < len(self.comments) and (self.comments[i][0], self.comments[i][1]) < end

    def comment_lines(self, first: int, last: int) -> int:
        """How many comments begin on lines ``first`` to ``last``."""
        return (bisect_right(self.comments, last, key=lambda c: c[0])
                - bisect_left(self.comments, first, key=lambda c: c[0]))

    def _pending(self, before: Pos) -> Comment | None:
        if self.next < len(self.comments):
            comment = self.comments[self.next]
            if (comment[0], comment[1]) < before:
                return comment
        return None

    def _anchor(self, line: int, col: int) -> int | None:
        """The output line for a comment after code on its source line, if there is code."""
        i = bisect_right(self.ends, (line, col), key=lambda e: e[0])
        if i and self.ends[i - 1][0][0] == line:
            return self.ends[i - 1][1]
        return None

    def flush(self, before: Pos, min_col: int = 0, *, node: bool = False) -> None:
        """Place the comments before ``before``; with ``min_col``, stop at an own-line
        comment that does not start right of that column. Before a ``node``, a blank
        line after a comment is kept."""
        last = 0  # source line of the last own-line comment placed
        while (comment := self._pending(before)) is not None:
            line, col, text = comment
            anchor = self._anchor(line, col)
            if anchor is None and col <= min_col:
                return
            self.next += 1
            if anchor is not None:
                self.out[anchor] += "  " + text
                continue
            if last and line > last + 1:
                self.blank.add(len(self.out))
            self.out.append(_INDENT * self.depth + text)
            last = line
        if node and last and before[0] > last + 1:
            self.blank.add(len(self.out))

    def _register(self, end: Pos, index: int) -> None:
        i = bisect_left(self.ends, end, key=lambda e: e[0])
        if i == len(self.ends) or self.ends[i][0] != end:
            self.ends.insert(i, (end, index))

    def line(self, text: str, start: Pos, end: Pos, *, head_end: Pos | None = None) -> None:
        """A code line for a node from ``start`` to ``end``; with ``head_end``, the head of
        a block that goes on, so only comments up to there join this line."""
        self.flush(start, node=True)
        index = len(self.out)
        self.out.append(_INDENT * self.depth + text)
        self.code += 1
        if head_end is None or start[0] == end[0]:  # a node that was one line
            self._register(end, index)
        last = end if head_end is None else head_end
        self._register(last, index)
        while (comment := self._pending(last)) is not None:
            self.out[index] += "  " + comment[2]
            self.next += 1
        if head_end is not None:
            self.depth += 1

    def close(self, end: Pos | None, text: str = "}", *, reopen: bool = False) -> None:
        """The closing brace that ends at ``end`` (None: not known)."""
        if end is not None:
            self.flush((end[0], end[1] - 1))
        self.depth -= 1
        if end is not None:
            self._register(end, len(self.out))
        self.out.append(_INDENT * self.depth + text)
        self.code += 1
        self.depth += reopen


class _Formatter(_Writer):
    """The layout of each construct."""

    def __init__(self, comments: Iterable[Comment], src: SourceText | None) -> None:
        super().__init__(comments)
        self.src = src

    def header(self, h: a.Header) -> None:
        self.line(f"journey {quote(h.name)}", _start(h), end_of(h.span))
        if h.version is not None:
            self.line(f"version {h.version.text}", _start(h.version), end_of(h.version))
        if h.timezone is not None and h.timezone_attribute is not None:
            self.line(f"timezone customer.{h.timezone_attribute.name} or "
                      f"{quote(h.timezone.value)}", _start(h.timezone_attribute),
                      end_of(h.timezone))
        elif h.timezone is not None:
            self.line(f"timezone {quote(h.timezone.value)}", _start(h.timezone),
                      end_of(h.timezone))

    def decls(self, decls: Sequence[a.Decl], *, first_blank: bool) -> None:
        """Declarations, a blank line between them unless both are one line and were
        on adjacent lines."""
        prev: a.Decl | None = None
        prev_one_line = False
        for decl in decls:
            mark, code = len(self.out), self.code
            self.decl(decl)
            one_line = self.code - code == 1
            grouped = prev is not None and prev_one_line and one_line and self._adjacent(
                end_of(prev)[0], _start(decl)[0])
            if (prev is not None or first_blank) and not grouped and mark < len(self.out):
                self.blank.add(mark)
            prev, prev_one_line = decl, one_line

    def _adjacent(self, prev_line: int, line: int) -> bool:
        gap = line - prev_line - 1
        return gap < 0 or gap == self.comment_lines(prev_line + 1, line - 1)

    def decl(self, decl: a.Decl) -> None:
        text = fx.decl_text(decl)
        if text is not None:
            self.line(text, _start(decl), end_of(decl))
            return
        getattr(self, _DECLS[type(decl)])(decl)

    def braced(self, head: str, node: Any, head_end: Pos, items: Sequence[T],
               item: Callable[[T], None], inline: str | None) -> None:
        """``head { items }``: on one line as ``head { inline }`` when ``inline`` is given
        and no comment is inside, else one item a line."""
        end = end_of(node)
        if inline is not None and not self.has_comment(head_end, end):
            self.line(f"{head} {{ {inline} }}" if inline else f"{head} {{}}", _start(node), end)
            return
        self.line(head + " {", _start(node), end, head_end=head_end)
        for x in items:
            item(x)
        self.close(end)

    def fields(self, head: str, node: a.CustomerDecl | a.EventDecl, head_end: Pos,
               inline: bool) -> None:
        keywords = _keywords()
        items = [(f, i + 1 < len(node.fields) and f.default is not None
                  and node.fields[i + 1].name.name in keywords)
                 for i, f in enumerate(node.fields)]
        one_line = ", ".join(fx.field_text(f) for f in node.fields)
        self.braced(head, node, head_end, items,
                    lambda fc: self.line(fx.field_text(fc[0]) + "," * fc[1], _start(fc[0]),
                                         end_of(fc[0])),
                    one_line if inline or not node.fields else None)

    def customer(self, d: a.CustomerDecl) -> None:
        self.fields("customer", d, _after_word(d, "customer"), inline=False)

    def event(self, d: a.EventDecl) -> None:
        self.fields(f"event {d.name.name}", d, end_of(d.name), inline=True)

    def message(self, d: a.MessageDecl) -> None:
        head = f"message {d.name.name} via {d.channel.name}"
        head_end = end_of(d.channel)
        if d.transactional:
            head += " transactional"
        if not d.parts and not self.has_comment(head_end, end_of(d)):
            self.line(head, _start(d), end_of(d))
            return
        texts = [f"{p.name.name} {quote(p.value)}" for p in d.parts]
        self.braced(head, d, head_end, list(zip(d.parts, texts, strict=True)),
                    lambda pt: self.line(pt[1], _start(pt[0]), end_of(pt[0])),
                    texts[0] if len(texts) == 1 else None)

    def anywhere(self, d: a.AnywhereDecl) -> None:
        self.braced("anywhere", d, _after_word(d, "anywhere"), d.rules, self.rule,
                    None if d.rules else "")

    def stage(self, d: a.StageDecl) -> None:
        head = " ".join([f"stage {d.name.name}", *(f.name for f in d.flags)])
        if not d.has_body:
            self.line(head, _start(d), end_of(d))
            return
        self.braced(head, d, end_of((d.name, d.flags)), d.rules, self.rule,
                    None if d.rules else "")

    def rule(self, r: a.Rule) -> None:
        head = fx.rule_head_text(r)
        if r.block is None:
            self.line(head, _start(r), end_of(r))
            return
        self.block(head, r, end_of((r.trigger, r.guard, r.target)), r.block)

    def block(self, head: str, node: Any, head_end: Pos, block: a.Block) -> None:
        """``head { statements }``, on one line for a single simple statement."""
        stmts = block.stmts
        inline = None
        if not stmts or (len(stmts) == 1 and fx.is_simple(stmts[0])):
            inline = fx.simple_stmt_text(stmts[0]) if stmts else ""
        end = end_of(block)
        self.braced(head, node, head_end, [(s, i) for i, s in enumerate(stmts)],
                    lambda si: self.stmt(si[0], self._limit(stmts, si[1], end)), inline)

    @staticmethod
    def _limit(stmts: Sequence[a.Stmt], i: int, end: Pos) -> Pos:
        """Where the statement after ``stmts[i]`` starts: the closing brace for the last."""
        return _start(stmts[i + 1]) if i + 1 < len(stmts) else (end[0], end[1] - 1)

    def stmt(self, s: a.Stmt, limit: Pos) -> None:
        if isinstance(s, a.Delayed):
            self.block(fx.delayed_head_text(s), s, end_of((s.after, s.at, s.unless, s.where)),
                       s.block)
        elif isinstance(s, a.If):
            self.if_stmt(s)
        elif isinstance(s, a.Split):
            self.split(s, limit)
        else:
            self.line(fx.simple_stmt_text(s), _start(s), end_of(s))

    def if_stmt(self, s: a.If) -> None:
        head = f"if {expr_text(s.cond)}"
        if s.orelse is None:
            self.block(head, s, end_of(s.cond), s.then)
            return
        self.line(head + " {", _start(s), end_of(s), head_end=end_of(s.cond))
        node: a.If | a.Block | None = s
        while isinstance(node, a.If):
            self.body(node.then)
            nxt = node.orelse
            text = ("}" if nxt is None else "} else {" if isinstance(nxt, a.Block)
                    else f"}} else if {expr_text(nxt.cond)} {{")
            self.close(end_of(node.then), text, reopen=nxt is not None)
            if isinstance(nxt, a.Block):
                self.body(nxt)
                self.close(end_of(nxt))
            node = nxt

    def body(self, block: a.Block) -> None:
        end = end_of(block)
        for i, s in enumerate(block.stmts):
            self.stmt(s, self._limit(block.stmts, i, end))

    def split(self, s: a.Split, limit: Pos) -> None:
        # The tree does not know where `}` is. The source does; else comments indented
        # past `split` stay inside.
        brace = self.src.brace_after(*end_of(s)) if self.src else None
        head, head_end = "split", end_of(s.span)
        if s.name is not None:
            head, head_end = f"split {quote(s.name.value)}", end_of(s.name)
        self.line(head + " {", _start(s), brace or end_of(s), head_end=head_end)
        for arm in s.arms:
            label = f" {arm.label.name}" if arm.label is not None else ""
            self.block(arm.share.text + label, arm, end_of((arm.share, arm.label)), arm.block)
        if brace is None:
            self.flush(limit, min_col=s.span.col)
        self.close(brace)

    def simulate(self, d: a.SimulateDecl) -> None:
        self.braced("simulate", d, _after_word(d, "simulate"), d.items, self.sim_item,
                    None if d.items else "")

    def sim_item(self, item: a.SimArrivals | a.SimIn | a.SimReacts) -> None:
        if isinstance(item, a.SimArrivals):
            self.line(fx.sim_text(item, self.src), _start(item), end_of(item))
            return
        if isinstance(item, a.SimIn):
            names = ", ".join(st.name for st in item.stages)
            head = f"in {names}" if names else "anywhere"
            head_end = end_of(item.stages) if names else _after_word(item, "anywhere")
            lines: Sequence[a.SimRate | a.SimReaction] = item.rates
        else:
            head, head_end = f"reacts to {item.message.name}", end_of(item.message)
            lines = item.reactions
        texts = [fx.sim_text(x, self.src) for x in lines]
        self.braced(head, item, head_end, list(zip(lines, texts, strict=True)),
                    lambda lt: self.line(lt[1], _start(lt[0]), end_of(lt[0])),
                    texts[0] if len(texts) == 1 else "" if not texts else None)

    def migrate(self, d: a.MigrateDecl) -> None:
        texts = [fx.migrate_item_text(item) for item in d.items]
        items = list(zip(d.items, texts, strict=True))
        self.braced("migrate", d, _after_word(d, "migrate"), items,
                    lambda it: self.line(it[1], _start(it[0]), end_of(it[0])),
                    None if d.items else "")

    def scenario(self, d: a.ScenarioDecl) -> None:
        self.braced(f"scenario {quote(d.name)}", d, _after_word(d, "scenario"), d.steps,
                    lambda st: self.line(fx.step_text(st), _start(st), end_of(st)),
                    None if d.steps else "")


_DECLS = {a.CustomerDecl: "customer", a.EventDecl: "event", a.MessageDecl: "message",
          a.AnywhereDecl: "anywhere", a.StageDecl: "stage", a.SimulateDecl: "simulate",
          a.MigrateDecl: "migrate", a.ScenarioDecl: "scenario"}

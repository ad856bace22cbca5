"""Labelled syntax errors, matched by parser state (Lark's ``match_examples``).

Each label lists small journeys that fail in the same parser state as the
mistake it names; a raw error in that state gets the label's code and words.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

__all__ = ["MISSING_BRACE_LABELS", "SYNTAX_LABELS", "describe_expected", "label_for"]

H = 'journey "x"\n'

# Small pieces the generated examples below are made of.
_STATEMENTS = (
    "", "send m", 'tag "x"', 'untag "x"', "set x = 1", "set x = y", "set x += f(y)",
    "set x = y.z", "set x = event.a", "set x = (y)", "set x = [1]", "set x = 1d",
    'set x = "s"', "set x = true", "set x = not y", "set x = y in [1]", "set x = -y",
    "set x = 5%", "set x = 2026-01-01", "set x = null", "redeem bonus b",
    "grant bonus b 5 expires 3d", "grant bonus b 5% expires 3d remind 1d before", "emit e",
    "emit e { a: 1 }", "notify crm", "notify crm { a: 1 }", 'offer cross_sell "x" via m',
    "after 1d { }", "after 1d unless e { }", "if y { }", "if y { } else { }",
    "if y { } else if z { }", "split { 100% { } }", "-> b", ";",
)
_RULES = (
    "", "on e", "on e -> b", "on e where y", "on e where y -> b", "on e { }", "on enter { }",
    "on exit { }", "after 1d -> b", "after 1d without e -> b", "every 1d { }", "when y -> b",
    "at y { }", "-> b",
)
_DECLARATIONS = (
    "stage c final", "event f {}", "message n via email", "customer { }", "channel crm",
    "limit email to 1 per 1d", "quiet hours 22:00 to 06:00", "segment s where y",
    "goal g on e", "value 1", "reentry never", "anywhere { }", "simulate { }",
    'scenario "s" { }', "migrate { }",
)
SYNTAX_LABELS: dict[tuple[str, str], list[str]] = {
    ("JF110", 'a journey file must start with: journey "Name"'): [
        "stage a start {}",
        "customer { email: text }",
        "event e {}",
        "journey x",
    ],
    ("JF111", "expected a declaration (customer, event, message, stage, anywhere, ...)"): [
        H + "foo",
        H + "stage a start {}\nfoo",
        H + "stage a start {}\n42",
        'journey "x" version 3\nfoo',
        'journey "x" timezone "UTC"\nfoo',
        # (not after an expression: those parser states are shared by every expression)
        *(f"{H}{decl}\nfoo" for decl in _DECLARATIONS
          if not decl.startswith(("stage", "segment", "value"))),
        H + "stage a final\nstage b { }\nfoo",
    ],
    ("JF112", "a rule starts with a trigger (on, after, every, at, when) or '-> STAGE'"): [
        H + "stage a { send m }",
        H + "stage a { foo }",
        H + "stage a { on e -> b\n send m }",
        H + "anywhere { send m }",
        H + "stage a { on e -> b\n foo }",
    ],
    ("JF113", "expected a duration such as 30m, 4h, 14d or 2w"): [
        H + "stage a { after 14 -> b }",
        H + "stage a { after x -> b }",
        H + "stage a { every 3 { } }",
        H + "stage a { on e { after 3 { } } }",
        H + "limit email to 2 per 7",
        H + "stage a { on e { grant bonus b 5 expires 3 } }",
    ],
    ("JF114", "expected a stage name after '->'"): [
        H + "stage a { -> }",
        H + "stage a { on e -> }",
        H + "stage a { on e { -> } }",
        H + "stage a { on e -> 5 }",
    ],
    ("JF115", "expected an expression"): [
        H + "stage a { when -> b }",
        H + "segment s where",
        H + "stage a { on e where -> b }",
        H + "stage a { on e { set x = } }",
        H + "stage a { when x > -> b }",
        H + "stage a { when x and -> b }",
    ],
    ("JF116", "a field is written NAME: TYPE, e.g. email: text"): [
        H + "customer { email }",
        H + "event e { amount }",
        H + "customer { email: }",
        H + "event e { amount: }",
    ],
    ("JF117", "'=' sets a value; compare with '=='"): [
        H + "stage a { when x = 1 -> b }",
        H + "stage a { on e where event.a = 1 -> b }",
        H + "segment s where x = 1",
        H + "stage a { on e { if x = 1 { } } }",
    ],
    ("JF118", "a message needs a channel: message NAME via CHANNEL { ... }"): [
        H + 'message m { subject "s" }',
        H + "message m email",
    ],
    ("JF119", "expected a statement (send, offer, grant, redeem, set, tag, emit, notify, after, "
              "if, split or '-> STAGE')"): [
        H + "stage a { on e { foo } }",
        H + "stage a { on e { send m foo } }",
        H + "stage a { on enter { welcome } }",
    ],
    ("JF121", "expected 'start', 'final' or '{' after the stage name"): [
        H + "stage a begin {}",
        H + "stage a start begin {}",
    ],
    ("JF122", "each split arm starts with its share, e.g. 50% { ... }"): [
        H + "stage a { on e { split { 50 { } } } }",
        H + "stage a { on e { split { send m } } }",
        H + "stage a { on e { split { 50% { } 50 { } } } }",
        H + "stage a { on e { split { 50% { send m } 50 { } } } }",
    ],
}

# A '}' left out shows only at the next rule or declaration, which then seems
# to start inside the block above. These labels are matched on the exact
# token kind only: other mistakes in the same parser states mean other things.
MISSING_BRACE_LABELS: dict[tuple[str, str], list[str]] = {
    ("JF123", "a rule cannot start inside a block: a '}' is missing before it"): [
        f"{H}stage a {{ on e {{ {stmt}\n{rule} }}"
        for stmt in _STATEMENTS for rule in ("on f -> b", "when y -> b", "every 1d { }")
    ],
    ("JF123", "a declaration cannot start inside a stage: a '}' is missing before it"): [
        f"{H}stage a {{\n{rule}\n{decl}" for rule in _RULES for decl in _DECLARATIONS
    ] + [f"{H}anywhere {{\n{rule}\n{decl}" for rule in _RULES[1:] for decl in _DECLARATIONS],
}

_WORDS = {
    "NAME": "a name",
    "STRING": "a string",
    "NUMBER": "a number",
    "DURATION": "a duration (14d)",
    "PERCENT": "a percentage (10%)",
    "CLOCK": "a time of day (08:00)",
    "DATETIME": "a date (2026-01-31)",
    "CMP": "a comparison",
    "$END": "the end of the file",
}


@cache
def _label_table() -> dict[tuple[int, str], tuple[str, str]]:
    """(parser state, token kind) -> label, learnt by parsing every example once.

    Only the state on top of the stack is compared: what came before the
    mistake (other stages, earlier errors) does not change what it is.
    """
    from journeyflow.syntax.parser import parser

    table: dict[tuple[int, str], tuple[str, str]] = {}
    for labels, any_token in ((SYNTAX_LABELS, True), (MISSING_BRACE_LABELS, False)):
        for label, examples in labels.items():
            for text in examples:
                try:
                    parser().parse(text, start="journey_file")
                except UnexpectedToken as err:
                    table.setdefault((err.state.position, err.token.type), label)
                    if any_token:
                        table.setdefault((err.state.position, "*"), label)
                except UnexpectedInput:
                    continue
    return table


def label_for(err: UnexpectedInput) -> tuple[str, str] | None:
    """The (code, message) of the labelled mistake this error matches, if any."""
    if isinstance(err, UnexpectedCharacters):
        return _character_label(err.char)
    if not isinstance(err, UnexpectedToken):
        return None
    if err.token.type == "$END" and "RBRACE" in (err.accepts or err.expected):
        return "JF120", _unclosed_message(err)
    table = _label_table()
    position = err.state.position
    return table.get((position, err.token.type)) or table.get((position, "*"))


# Characters people bring from other languages or word processors.
_CHARACTER_ADVICE = {
    "&": "combine conditions with 'and'",
    "|": "combine conditions with 'or'",
    "!": "negate with 'not'; compare with '!='",
    "'": 'strings use double quotes: "text"',
    "\u201c": 'use straight double quotes: "text"',
    "\u201d": 'use straight double quotes: "text"',
    "\u2013": "use '-' for a day range and 'to' between two times",
    "\u2014": "use '-' for a day range and 'to' between two times",
    "%": "a percentage is written without a space: 10%",
    "$": "amounts are plain numbers: 20, not $20",
    "\u20ac": "amounts are plain numbers: 20, not 20\u20ac",
}


def _character_label(char: str) -> tuple[str, str] | None:
    advice = _CHARACTER_ADVICE.get(char)
    if advice is None:
        return None
    quoted = f'"{char}"' if char == "'" else f"'{char}'"
    return "JF101", f"unexpected character {quoted}: {advice}"


def _unclosed_message(err: UnexpectedToken) -> str:
    """Name the innermost '{' that is still open: every brace left on the stack is."""
    stack = getattr(err.state, "value_stack", None) or ()
    braces = [v for v in stack if isinstance(v, Token) and v.type == "LBRACE"]
    if braces and braces[-1].line:
        return f"unexpected end of file: the '{{' on line {braces[-1].line} is never closed"
    return "unexpected end of file: a '{' is still open"


# Kinds of token that are described together once most of the kind is expected.
_GROUPS: tuple[tuple[str, frozenset[str], int], ...] = (
    ("an expression", frozenset({
        "LPAR", "MINUS", "LBRACKET", "EVENT", "FALSE", "NOT", "NULL", "TRUE", "DATETIME",
        "DURATION", "NAME", "NUMBER", "PERCENT", "STRING"}), 10),
    ("an operator (+ - * / == < and or in)", frozenset({
        "PLUS", "MINUS", "STAR", "SLASH", "CMP", "AND", "OR", "IN", "NOT", "DOT", "LPAR"}), 4),
    ("a declaration (stage, event, customer, message, ...)", frozenset({
        "CUSTOMER", "EVENT", "MESSAGE", "CHANNEL", "LIMIT", "QUIET", "SEND", "SEGMENT", "GOAL",
        "VALUE", "REENTRY", "ANYWHERE", "STAGE", "SIMULATE", "SCENARIO", "CONSENT",
        "HOLDOUT", "MIGRATE"}), 10),
    ("a statement (send, set, tag, grant, if, split, ...)", frozenset({
        "SEND", "OFFER", "GRANT", "REDEEM", "SET", "TAG", "UNTAG", "EMIT", "NOTIFY", "AFTER",
        "IF", "SPLIT", "SEMICOLON"}), 8),
    ("another rule (on, after, every, at, when)", frozenset({
        "ON", "AFTER", "EVERY", "AT", "WHEN"}), 5),
)


def describe_expected(names: Iterable[str]) -> str | None:
    """``expected one of: ...`` in the file's own words, never terminal names.

    Kinds that are expected almost as a whole (every way an expression can
    start, every declaration) are named once instead of listed.
    """
    from journeyflow.syntax.parser import parser

    lark = parser()
    remaining = set(names)
    groups: list[str] = []
    for phrase, members, enough in _GROUPS:
        present = remaining & members
        if len(present) >= enough:
            remaining -= present
            groups.append(phrase)
    words: set[str] = set()
    for name in remaining:
        if name in _WORDS:
            words.add(_WORDS[name])
            continue
        try:
            pattern = lark.get_terminal(name).pattern
        except KeyError:
            continue
        if isinstance(pattern, PatternStr):
            words.add(f"'{pattern.value}'")
    ordered = sorted(words, key=lambda w: (not w.startswith("'"), w == _WORDS["$END"], w))
    ordered += groups
    if not ordered:
        return None
    if len(ordered) > 10:
        ordered = ordered[:10] + ["..."]
    if len(ordered) == 1:
        return "expected " + ordered[0]
    return "expected one of: " + ", ".join(ordered)

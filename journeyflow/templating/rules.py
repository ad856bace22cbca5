"""Size rules for template operations that can build far more than they are given.

Each rule looks at the operands *before* the operation runs: ``'x' * 10**9``,
``10 ** 10**8`` or ``'x'.center(10**9)`` must be refused, not computed and
measured afterwards. Operations whose result is at most a small multiple of their
input need no rule here; the sandbox measures every result anyway.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from string import Formatter
from typing import Any

from jinja2.exceptions import SecurityError

from journeyflow.templating.limits import RenderLimitExceeded, bounds, check_size, measure

__all__ = ["check_binop", "check_format", "check_method", "check_printf", "check_replace"]

_SEQUENCES = (str, bytes, bytearray, list, tuple)

# A printf conversion: %[(key)][flags][width][.precision][length]type
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left OPERATOR right`` when its result would be too large."""
    if operator == "**":
        _check_power(left, right)
    elif operator == "*":
        _check_product(left, right)
    elif operator == "+":
        if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
            check_size(measure(left) + measure(right), "the joined value")
    elif operator == "%" and isinstance(left, str):
        check_printf(left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(base: Any, exponent: Any) -> None:
    if not (_is_int(base) and _is_int(exponent)) or exponent <= 0 or abs(base) <= 1:
        return  # a float result overflows on its own; 0, 1 and -1 stay small
    limit = bounds().integer_bits
    if exponent * math.log2(abs(base)) > limit:
        raise RenderLimitExceeded(f"{base} ** {exponent} has more than {limit:,} bits")


def _check_product(left: Any, right: Any) -> None:
    if _is_int(left) and _is_int(right):
        limit = bounds().integer_bits
        if left.bit_length() + right.bit_length() > limit + 1:
            raise RenderLimitExceeded(f"a product of more than {limit:,} bits")
        return
    for value, times in ((left, right), (right, left)):
        if isinstance(value, _SEQUENCES) and isinstance(times, int) and times > 1:
            check_size(measure(value) * times, "the repeated value")


def check_printf(text: str, args: Any) -> None:
    """Refuse ``text % args`` when the widths or repeated arguments make it too large."""
    fields, widths, starred = _printf_shape(text)
    _check_fields(text, fields, widths, _values(args), starred)


def check_format(text: str, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    """Refuse ``text.format(...)`` when widths or repeated fields make it too large."""
    fields, widths, nested = _format_shape(text)
    _check_fields(text, fields, widths, [*args, *kwargs.values()], nested)


# Format strings are mostly constants of the template: each is read once.
@functools.lru_cache(maxsize=512)
def _printf_shape(text: str) -> tuple[int, int, bool]:
    """The conversions, the sum of their widths and precisions, and whether one is '*'."""
    fields = widths = 0
    starred = False
    for found in _PRINTF.finditer(text):
        fields += 1
        for number in found.group(1, 2):
            if number == "*":
                starred = True
            elif number:
                widths += _number(number)
    return fields, widths, starred


@functools.lru_cache(maxsize=512)
def _format_shape(text: str) -> tuple[int, int, bool]:
    """The fields, the sum of the numbers in their specs, and whether a spec nests a field."""
    fields = widths = 0
    nested = False
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as err:
        raise ValueError(f"bad format string: {err}") from None
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        fields += 1
        nested = nested or "{" in (spec or "")
        widths += sum(_number(d) for d in _DIGITS.findall(spec or ""))
    return fields, widths, nested


def _check_fields(text: str, fields: int, widths: int, values: list[Any],
                  width_from_args: bool) -> None:
    largest = max((measure(v) for v in values), default=0)
    check_size(len(text) + widths + fields * largest, "the formatted text")
    if width_from_args:
        limit = bounds().value
        if any(_is_int(v) and abs(v) > limit for v in values):
            raise RenderLimitExceeded(f"a field width above {limit:,}")


def _number(digits: str) -> int:
    if len(digits) > 9:
        return bounds().value + 1  # wider than any bound; int() would be slow
    return int(digits)


def _values(args: Any) -> list[Any]:
    if isinstance(args, tuple):
        return list(args)
    if isinstance(args, Mapping):
        return list(args.values())
    return [args]


def check_method(method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Refuse a call of a built-in text or number method that would be too large.

    Returns the arguments to call it with (an iterable given to ``join`` is read
    into a list first, so it can be measured).
    """
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes | bytearray):
        rule = _TEXT_RULES.get(name)
        if rule is not None:
            return rule(owner, args, kwargs)
        if name in ("translate", "maketrans"):
            raise SecurityError(f"'{name}' is not available in templates")
    elif _is_int(owner) and name == "to_bytes":
        _check_width(args[0] if args else kwargs.get("length", 1), "the bytes")
    return args


def _check_width(width: Any, what: str) -> None:
    if _is_int(width):
        check_size(width, what)


def _padded(owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    _check_width(args[0] if args else kwargs.get("width", 0), "the padded text")
    return args


def _tabs(owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    size = args[0] if args else kwargs.get("tabsize", 8)
    if _is_int(size):
        tab = "\t" if isinstance(owner, str) else b"\t"
        check_size(len(owner) + owner.count(tab) * size, "the expanded text")
    return args


def _join(owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    if not args:
        return args
    items = list(args[0])
    total = sum(measure(item) for item in items) + len(owner) * len(items)
    check_size(total, "the joined text")
    return (items, *args[1:])


def _replace(owner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    if len(args) >= 2:
        check_replace(owner, args[0], args[1], args[2] if len(args) > 2 else -1)
    return args


def check_replace(text: Any, old: Any, new: Any, count: Any = -1) -> None:
    """Refuse ``text.replace(old, new, count)`` when the result would be too large."""
    if not isinstance(text, str | bytes | bytearray) or not hasattr(new, "__len__"):
        return
    hits = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        hits = min(hits, count)
    check_size(len(text) + hits * max(len(new) - len(old), 0), "the replaced text")


_TEXT_RULES: dict[str, Callable[[Any, tuple[Any, ...], dict[str, Any]], tuple[Any, ...]]] = {
    "center": _padded, "ljust": _padded, "rjust": _padded, "zfill": _padded,
    "expandtabs": _tabs, "join": _join, "replace": _replace,
}

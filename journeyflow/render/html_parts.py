"""Table rows and cells of the HTML page, escaped where they hold text."""

from __future__ import annotations

from html import escape

__all__ = ["days", "number", "percent", "rate", "row", "table"]


def row(cells: list[str], numeric: tuple[int, ...] = ()) -> str:
    """One table row of ready HTML cells; ``numeric`` cells are right-aligned."""
    return "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                            for i, c in enumerate(cells)) + "</tr>"


def table(table_id: str, heads: list[str], rows: list[str]) -> list[str]:
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return [f'<table id="{table_id}">', f"<thead><tr>{head}</tr></thead>", "<tbody>", *rows,
            "</tbody>", "</table>"]


def percent(fraction: float | None) -> str:
    """``0.123`` as ``12.3%``; a share below 10% keeps one decimal, larger ones none."""
    if fraction is None:
        return "–"
    return f"{100 * fraction:.1f}%" if fraction < 0.1 else f"{fraction:.0%}"


def days(value: float | None) -> str:
    """A duration in days for people: hours below a day, one decimal below ten days."""
    if value is None:
        return "–"
    if value < 1:
        return f"{value * 24:.0f} h" if value else "at once"
    return f"{value:.1f} days" if value < 10 else f"{value:,.0f} days"


def number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def rate(value: float | None) -> str:
    """A small rate such as messages per week: three decimals below 0.1, else two."""
    if value is None:
        return "–"
    return f"{value:.3f}" if value < 0.1 else f"{value:,.2f}"

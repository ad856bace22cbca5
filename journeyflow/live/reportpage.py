"""The HTML page of a live report: simulate's page, with what only a store knows added.

The map, the funnel and the figures are the page ``journeyflow render --stats`` makes
of any report; after them come the instant the report describes, the outbox by
delivery status and the rejected events by reason.
"""

from __future__ import annotations

from html import escape
from typing import Any

from journeyflow.journey import Journey
from journeyflow.live.report import STATUSES
from journeyflow.render.html_parts import row, table

__all__ = ["live_page", "live_sections"]


def live_page(journey: Journey, report: dict[str, Any]) -> str:
    """The whole page (needs Graphviz, as every page with a map)."""
    from journeyflow.simulate.report import report_page

    page = report_page(journey, report)
    head, end, tail = page.rpartition("</body>")
    return "\n".join([head.rstrip("\n"), *live_sections(report), end + tail])


def live_sections(report: dict[str, Any]) -> list[str]:
    return [*_deliveries(report), *_rejected(report)]


def _deliveries(report: dict[str, Any]) -> list[str]:
    deliveries = report["deliveries"]
    rows = [_status_row(escape(name), escape(item["channel"]), item)
            for name, item in deliveries["messages"].items()]
    rows += [_status_row(f"notify {escape(name)}", escape(name), item)
             for name, item in deliveries["notifications"].items()]
    rows.append(_status_row("<b>all</b>", "", deliveries))
    return [f"<h2>Deliveries by status (as of {escape(report['as_of'])})</h2>",
            "<p>What the outbox holds: sent, pending (waiting for a first attempt or a "
            "retry) and dead (every attempt failed). "
            f"{deliveries['attempts']:,} attempts in all; "
            f"{deliveries['unconfirmed']:,} of the sent were handed to the mail server by a "
            "process that stopped before the server answered (unconfirmed). Channels that "
            "only record their sends in the trace are not in the outbox.</p>",
            *table("deliveries", ["Message", "Channel", *(s.capitalize() for s in STATUSES)],
                   rows)]


def _status_row(name: str, channel: str, counts: dict[str, Any]) -> str:
    dead = counts["dead"]
    cells = [name, channel, f"{counts['sent']:,}", f"{counts['pending']:,}",
             f'<span class="suppressed">{dead:,}</span>' if dead else "0"]
    return row(cells, (2, 3, 4))


def _rejected(report: dict[str, Any]) -> list[str]:
    rejected = report["rejected"]
    if not rejected["count"]:
        return ["<h2>Rejected events</h2>", "<p>None: every event was accepted.</p>"]
    rows = [row([escape(reason), f"{n:,}"], (1,)) for reason, n in
            sorted(rejected["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))]
    return ["<h2>Rejected events</h2>",
            f"<p>{rejected['count']:,} events were rejected and kept in the store, each "
            "with its reason.</p>",
            *table("rejected", ["Reason", "Events"], rows)]

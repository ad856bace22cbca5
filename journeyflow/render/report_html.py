"""The simulation figures of the HTML page, in the words a marketer forwards them in.

Every section reads only the parsed report (:class:`SimulationReport`), and a part
the report lacks (an older report has no ``customer_weeks``) is left out rather
than shown as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from journeyflow.render.html_parts import days, number, percent, rate, row, table
from journeyflow.render.stats import MessageStats, SimulationReport

__all__ = ["message_table", "report_sections", "summary_table"]


def summary_table(report: SimulationReport) -> list[str]:
    """The headline figures, one per row."""
    span = f" over {report.days:,} days" if report.days else ""
    who = "Customers in the store" if report.live else "Customers simulated"
    rows = [(who, f"{report.customers:,}{span}")]
    for goal in report.goals:
        rows.append((f"Goal {escape(goal.name)}",
                     f"{percent(goal.rate)} reached it, half of them within "
                     f"{days(goal.median_days)}"))
    if report.value is not None:
        rows.append(("Value per customer", number(report.value.per_customer)))
    weekly = report.per_customer_week(report.delivered)
    if weekly is not None:
        rows.append(("Messages per customer per week", rate(weekly)))
    granted = sum(b.granted for b in report.bonuses)
    if granted:
        redeemed = sum(b.redeemed for b in report.bonuses)
        expired = sum(b.expired for b in report.bonuses)
        rows.append(("Bonuses", f"{granted:,} granted, {percent(redeemed / granted)} "
                                f"redeemed, {percent(expired / granted)} expired"))
    return ["<h2>At a glance</h2>",
            *table("summary", ["Figure", "Value"], [row([f"<b>{k}</b>", v]) for k, v in rows])]


def report_sections(report: SimulationReport) -> list[str]:
    """Goals, value and bonuses, each only when the report has it."""
    return [*_goals(report), *_value(report), *_bonuses(report)]


def _goals(report: SimulationReport) -> list[str]:
    if not report.goals:
        return []
    rows = [row([escape(g.name), f"{g.reached:,}", percent(g.rate), days(g.median_days),
                 days(g.p90_days)], (1, 2, 3, 4)) for g in report.goals]
    return ["<h2>Goals</h2>",
            "<p>Time to reach a goal counts from the customer's arrival: half of those who "
            "reached it did so within the median, nine in ten within the 90th percentile.</p>",
            *table("goals", ["Goal", "Reached", "Conversion", "Median time to reach",
                             "90th percentile"], rows)]


def _value(report: SimulationReport) -> list[str]:
    if report.value is None:
        return []
    rows = [row(["all customers", f"{report.customers:,}", "100%",
                 number(report.value.per_customer)], (1, 2, 3))]
    rows += [row([f"segment {escape(s.name)}", f"{s.customers:,}", percent(s.share),
                  number(s.value_per_customer)], (1, 2, 3)) for s in report.segments]
    return ["<h2>Value</h2>",
            f"<p>The journey's value, <code>{escape(report.value.expression)}</code>, at the "
            "end of the simulation; segments as they stand at the end.</p>",
            *table("value", ["Customers", "Count", "Share", "Value per customer"], rows)]


def _bonuses(report: SimulationReport) -> list[str]:
    if not report.bonuses:
        return []
    rows = []
    for b in report.bonuses:
        redeemed = percent(b.redeemed / b.granted) if b.granted else "–"
        rows.append(row([escape(b.name), f"{b.granted:,}", f"{b.reminded:,}",
                         f"{b.redeemed:,}", redeemed, f"{b.expired:,}"], (1, 2, 3, 4, 5)))
    return ["<h2>Bonuses</h2>",
            *table("bonuses", ["Bonus", "Granted", "Reminded", "Redeemed",
                               "Redeemed of granted", "Expired"], rows)]


def message_table(messages: Iterable[MessageStats],
                  report: SimulationReport | None) -> list[str]:
    """Sends per message; with the report's exposure, per customer per week too."""
    messages = list(messages)
    weekly = report is not None and report.customer_weeks is not None
    heads = ["Message", "Channel", "Delivered", "Suppressed"]
    heads += ["Per customer per week"] if weekly else []
    rows = [_message_row(escape(m.name), escape(m.channel), m.delivered, m.suppressed, report,
                         weekly) for m in messages]
    channels = sorted({m.channel for m in messages})
    if len(channels) > 1:
        for channel in channels:
            sent = [m for m in messages if m.channel == channel]
            rows.append(_message_row(f"<b>all {escape(channel)}</b>", escape(channel),
                                     sum(m.delivered for m in sent),
                                     sum(m.suppressed for m in sent), report, weekly))
    if len(messages) > 1:
        rows.append(_message_row("<b>all messages</b>", "", sum(m.delivered for m in messages),
                                 sum(m.suppressed for m in messages), report, weekly))
    notes = ["<p>Per customer per week: deliveries divided by the weeks customers spent in "
             "the journey, from arrival until a final stage or the end of the simulation. "
             "Suppressed sends were held back by a frequency cap, a missing consent or the "
             "holdout (see their reasons below).</p>"] if weekly else []
    return ["<h2>Messages</h2>", *notes, *table("messages", heads, rows)]


def _message_row(name: str, channel: str, delivered: int, suppressed: int,
                 report: SimulationReport | None, weekly: bool) -> str:
    held = f'<span class="suppressed">{suppressed:,}</span>' if suppressed else "0"
    cells = [name, channel, f"{delivered:,}", held]
    if weekly and report is not None:
        cells.append(rate(report.per_customer_week(delivered)))
    return row(cells, (2, 3, 4))

"""The HTML page a marketer forwards: the simulation's figures, and arrows in transitions."""

from __future__ import annotations

import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import journeyflow
from journeyflow import JourneyError
from journeyflow.cli import main
from journeyflow.render.diagram import build_diagram
from journeyflow.render.html import export_html
from journeyflow.render.stats import parse_report
from journeyflow.simulate import simulate

ROOT = Path(__file__).resolve().parents[2]
LIFECYCLE = ROOT / "examples" / "lifecycle.journey"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' not installed")

# Customers bounce between two stages, so arrows carry more transitions than customers.
BOUNCING = """journey "bounce"
event ping {}
event signed_up {}
stage here start {
  on ping -> there
}
stage there {
  on ping -> here
}
simulate {
  arrivals signed_up 50 per day for 2d
  anywhere { ping 1 per day }
}
"""


@cache
def lifecycle_report() -> dict[str, Any]:
    journey = journeyflow.load(LIFECYCLE)
    report = simulate(journey, customers=600, days=120, seed=5).report
    return json.loads(json.dumps(report))  # exactly what --out report.json holds


def page(report: dict[str, Any]) -> str:
    """The page's HTML around a stand-in map: the tables do not need Graphviz."""
    journey = journeyflow.load(LIFECYCLE)
    diagram = build_diagram(journey, parse_report(report, "report.json"))
    return export_html(diagram, "<svg></svg>")


def cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]
    rows = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr>(.*?)</tr>", body)]
    return [r for r in rows if r]  # the head row has no <td>


def test_the_report_parses_every_figure_the_page_shows() -> None:
    data = lifecycle_report()
    report = parse_report(data, "report.json")
    assert report.days == 120
    assert [g.name for g in report.goals] == list(data["goals"])
    converted = next(g for g in report.goals if g.name == "converted")
    assert converted.median_days == data["goals"]["converted"]["median_days"]
    assert report.value is not None
    assert report.value.per_customer == data["value"]["per_customer"]
    assert {b.name for b in report.bonuses} == set(data["bonuses"])
    assert report.customer_weeks == data["customer_weeks"]
    weekly = report.per_customer_week(report.delivered)
    assert weekly == pytest.approx(sum(c["delivered"] for c in data["channels"].values())
                                   / data["customer_weeks"])


@pytest.mark.parametrize(("key", "value", "message"), [
    ("customer_weeks", -1, "customer_weeks must be a number >= 0"),
    ("goals", [], "goals must be a JSON object"),
    ("bonuses", {"b": {"granted": 1}}, "missing key 'reminded' in bonuses.b"),
    ("value", {"expression": "x", "per_customer": "many"}, "value.per_customer must be"),
])
def test_a_bad_figure_is_named(key: str, value: Any, message: str) -> None:
    data = dict(lifecycle_report(), **{key: value})
    with pytest.raises(JourneyError, match=re.escape(message)):
        parse_report(data, "report.json")


def test_the_page_shows_goals_value_bonuses_and_weekly_messages() -> None:
    data = lifecycle_report()
    html = page(data)
    summary = {k: v for k, v in cells(html, "summary")}
    assert summary["Customers simulated"] == "600 over 120 days"
    assert summary["Value per customer"] == f"{data['value']['per_customer']:,.2f}"
    assert "reached it, half of them within" in summary["Goal converted"]
    assert re.fullmatch(r"\d+\.\d+", summary["Messages per customer per week"])
    assert re.fullmatch(r"[\d,]+ granted, \d+(\.\d)?% redeemed, \d+(\.\d)?% expired",
                        summary["Bonuses"])
    goals = {r[0]: r for r in cells(html, "goals")}
    assert goals["converted"][1] == f"{data['goals']['converted']['reached']:,}"
    assert goals["converted"][3].endswith("days")  # median, then p90
    bonuses = {r[0]: r for r in cells(html, "bonuses")}
    rendezvous = data["bonuses"]["rendezvous"]
    assert bonuses["rendezvous"][1:4] == [f"{rendezvous[k]:,}" for k in
                                          ("granted", "reminded", "redeemed")]
    assert bonuses["rendezvous"][5] == f"{rendezvous['expired']:,}"
    value = {r[0]: r for r in cells(html, "value")}
    assert "segment big_spender" in value
    messages = {r[0]: r for r in cells(html, "messages")}
    assert "<th>Per customer per week</th>" in html
    assert float(messages["all messages"][4]) > 0
    assert {"all email", "all push"} <= messages.keys()


def test_an_older_report_shows_what_it_has() -> None:
    data = {k: v for k, v in lifecycle_report().items()
            if k not in ("customer_weeks", "goals", "bonuses", "value", "segments")}
    html = page(data)
    assert '<table id="summary">' in html
    assert all(f'<table id="{t}">' not in html for t in ("goals", "bonuses", "value"))
    assert "Per customer per week" not in html
    assert "Messages per customer per week" not in html


def test_arrows_count_transitions_and_their_share_of_entries_stays_below_all() -> None:
    journey = journeyflow.loads(BOUNCING, "bounce.journey")
    data = json.loads(json.dumps(simulate(journey, days=20, seed=3).report))
    moved = sum(t["count"] for t in data["transitions"])
    assert moved > 2 * data["customers"]  # more transitions than customers: they bounce
    diagram = build_diagram(journey, parse_report(data, "report.json"))
    for edge in diagram.edges:
        assert edge.volume is not None
        assert edge.volume.share is not None
        assert 0 < edge.volume.share <= 1
    html = export_html(diagram, "<svg></svg>")
    assert "<th>Transitions</th>" in html
    assert "<th>Customers</th>" not in html


@needs_dot
def test_simulate_writes_the_page_when_out_ends_in_html(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["simulate", str(LIFECYCLE), "--customers", "300",
                                       "--days", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert '<figure id="map"' in html
    assert "transitions (" in html
    assert " customers (" not in html  # no arrow counts customers any more
    for table_id in ("summary", "goals", "value", "bonuses", "messages"):
        assert f'<table id="{table_id}">' in html


def test_compare_refuses_an_html_out(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", str(LIFECYCLE), "--customers", "50",
                                       "--compare", str(LIFECYCLE), "--out",
                                       str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "describe one run" in result.output

"""``journeyflow simulate --from-store``: forecasts that start from a state store's customers.

Stores are made the way users make them, with ``journeyflow run --store``, and read back
independently of the forecast (plain SQL and JSON) to check what it started from.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from journeyflow.cli import main
from journeyflow.simulate.report import SCHEMA_PATH

from .conftest import LIFECYCLE, ROOT

TRIAL = '''journey "trial"
version 1

customer {
  points: number = 0
}

event signed_up { points: number = 0 }
event visited {}
event left {}

goal joined on signed_up
goal upgraded on visited where points >= 10

stage lead start { on signed_up -> trial { set points = event.points } }
stage trial {
  on visited where points >= 10 -> vip
  on left -> gone
  after 3d -> paid
}
stage vip { on left -> gone }
stage paid final
stage gone final

simulate {
  arrivals signed_up 10 per day for 5d
  in lead { signed_up 20 per day }
  in trial { visited 50 per day }
}
'''

# a signs up first (its 3-day timer is due first), b has the points for vip, d leaves,
# e has only visited: still a lead.
TRIAL_EVENTS = [
    ("2026-05-03T09:00:00Z", "e", "visited", {}),
    ("2026-05-01T10:00:00Z", "a", "signed_up", {"points": 0}),
    ("2026-05-02T10:00:00Z", "b", "signed_up", {"points": 20}),
    ("2026-05-03T10:00:00Z", "c", "signed_up", {"points": 0}),
    ("2026-05-03T11:00:00Z", "d", "signed_up", {"points": 0}),
    ("2026-05-03T12:00:00Z", "d", "left", {}),
]


def write_events(path: Path, events: list[tuple[str, str, str, dict[str, Any]]]) -> Path:
    path.write_text("".join(json.dumps({"at": at, "customer": who, "event": name, "data": data})
                            + "\n" for at, who, name, data in events), "utf-8")
    return path


def make_store(runner: CliRunner, journey: Path, events: Path, db: Path) -> str:
    """A store as `journeyflow run --store` leaves it; returns its URL."""
    url = f"sqlite:///{db}"
    result = runner.invoke(main, ["run", str(journey), "--events", str(events), "--store", url])
    assert result.exit_code == 0, result.output
    return url


def stored_stages(db: Path, journey: str) -> Counter[str]:
    with sqlite3.connect(db) as conn:
        return Counter(json.loads(state)["stage"] for (state,) in conn.execute(
            "SELECT state FROM jf_customers WHERE journey = ?", (journey,)))


def forecast(runner: CliRunner, journey: Path, url: str, out: Path, *more: str) -> dict[str, Any]:
    result = runner.invoke(main, ["simulate", str(journey), "--from-store", url,
                                  "--out", str(out), *more])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(out.read_text("utf-8"))
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    return report


@pytest.fixture
def trial(tmp_path: Path, runner: CliRunner) -> tuple[Path, str, Path]:
    """The trial journey, its store and the store's file."""
    journey = tmp_path / "trial.journey"
    journey.write_text(TRIAL, "utf-8")
    db = tmp_path / "trial.db"
    url = make_store(runner, journey, write_events(tmp_path / "e.jsonl", TRIAL_EVENTS), db)
    return journey, url, db


@pytest.fixture
def lifecycle_store(tmp_path: Path, runner: CliRunner) -> tuple[str, Path]:
    db = tmp_path / "lifecycle.db"
    return make_store(runner, LIFECYCLE, ROOT / "examples" / "lifecycle.events.jsonl", db), db


def test_zero_days_is_the_store_as_it_is(runner: CliRunner, tmp_path: Path,
                                         lifecycle_store: tuple[str, Path]) -> None:
    url, db = lifecycle_store
    report = forecast(runner, LIFECYCLE, url, tmp_path / "r.json", "--days", "0")
    stored = stored_stages(db, "Customer lifecycle")
    assert report["customers"] == sum(stored.values()) == 7
    for name, stage in report["stages"].items():
        assert stage["at_end"] == stage["reached"] == stored[name], name
        assert report["population"]["stages"][name] == stored[name]
    assert report["population"]["statuses"] == {"active": 6, "final": 1, "parked": 0}
    assert report["population"]["now"] == "2026-03-25T17:00:00Z"
    assert report["days"] == 0
    assert report["start"] == "2026-03-25"
    assert sum(report["goals"][g]["reached"] for g in report["goals"]) == 0
    assert report["transitions"] == []


def test_the_terminal_shows_the_population_now(runner: CliRunner,
                                               lifecycle_store: tuple[str, Path]) -> None:
    url, _ = lifecycle_store
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--from-store", url,
                                  "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "7 customers of version 5, now = 2026-03-25T17:00:00Z" in result.output
    assert "Population now" in result.output
    assert "Funnel" in result.output
    assert "Goals already reached: registered 5, converted 3" in result.output


def test_a_forecast_is_deterministic(runner: CliRunner, tmp_path: Path,
                                     lifecycle_store: tuple[str, Path]) -> None:
    url, _ = lifecycle_store
    files = [tmp_path / f"{n}.json" for n in range(3)]
    reports = [forecast(runner, LIFECYCLE, url, path, "--days", "120", "--seed", seed)
               for path, seed in zip(files, ("4", "4", "5"), strict=True)]
    assert files[0].read_bytes() == files[1].read_bytes()
    assert reports[0]["events"]["behaviour"] != reports[2]["events"]["behaviour"]
    # Everyone is simulated from now, in the stage they are in: all of them are counted.
    assert reports[0]["customers"] == 7
    assert sum(s["at_end"] for s in reports[0]["stages"].values()) == 7


def test_each_customer_resumes_with_its_state_and_timers(
        runner: CliRunner, tmp_path: Path, trial: tuple[Path, str, Path]) -> None:
    journey, url, _ = trial
    # now = 2026-05-03T12:00Z; a's `after 3d` is due 2026-05-04T10:00Z, b's and c's later.
    one = forecast(runner, journey, url, tmp_path / "1.json", "--days", "1")
    stages = {name: (s["reached"], s["at_end"]) for name, s in one["stages"].items()}
    assert stages["paid"] == (1, 1)  # a: its stored timer fired 22 hours into the forecast
    assert one["stages"]["paid"]["median_days"] == 0.94  # 22 h, the middle of its hour
    assert stages["vip"] == (1, 1)  # b: its stored 20 points let the first visit upgrade it
    assert stages["trial"] == (4, 2)  # c: no points, its timer not due; e: signed up
    assert stages["lead"] == (1, 0)
    assert stages["gone"] == (1, 1)  # d left before now: final, and stays so
    assert one["goals"]["upgraded"]["reached"] == 1
    assert one["goals"]["joined"]["reached"] == 1  # e; the others reached it before now
    assert one["population"]["goals"]["joined"] == 4
    assert one["events"]["timer_steps"] == 1
    four = forecast(runner, journey, url, tmp_path / "4.json", "--days", "4")
    assert four["stages"]["paid"]["at_end"] == 3  # c's and e's timers came due too
    assert four["stages"]["trial"]["at_end"] == 0


def test_a_later_start_fires_the_timers_due_before_it(
        runner: CliRunner, tmp_path: Path, trial: tuple[Path, str, Path]) -> None:
    journey, url, _ = trial
    report = forecast(runner, journey, url, tmp_path / "r.json", "--days", "0",
                      "--start", "2026-05-10")
    # a's and c's timers were due between the last customer clock and the start; b's too,
    # unless its first visit moved it to vip before (here: no behaviour before the start).
    assert report["population"]["now"] == "2026-05-10T00:00:00Z"  # midnight, UTC here
    assert report["population"]["latest_clock"] == "2026-05-03T12:00:00Z"
    assert report["stages"]["paid"]["at_end"] == 3
    assert report["stages"]["lead"]["at_end"] == 1
    assert report["events"]["timer_steps"] == 3
    assert report["events"]["behaviour"] == {}


def test_workers_one_and_two_write_the_same_report(runner: CliRunner, tmp_path: Path,
                                                   lifecycle_store: tuple[str, Path]) -> None:
    url, _ = lifecycle_store
    files = [tmp_path / f"w{n}.json" for n in (1, 2)]
    for path, workers in zip(files, ("1", "2"), strict=True):
        forecast(runner, LIFECYCLE, url, path, "--days", "60", "--workers", workers)
    assert files[0].read_bytes() == files[1].read_bytes()


def test_compare_starts_both_versions_from_the_same_customers(
        runner: CliRunner, tmp_path: Path, trial: tuple[Path, str, Path]) -> None:
    journey, url, _ = trial
    quicker = tmp_path / "quicker.journey"  # the same version, a shorter trial
    quicker.write_text(TRIAL.replace("after 3d -> paid", "after 1d -> paid"), "utf-8")
    out = tmp_path / "cmp.json"
    result = runner.invoke(main, ["simulate", str(journey), "--from-store", url, "--days", "2",
                                  "--compare", str(quicker), "--out", str(out)])
    assert result.exit_code == 0, result.output
    both = json.loads(out.read_text("utf-8"))
    assert both["a"]["population"] == both["b"]["population"]
    # Timers already pending keep the due time they were set with: a pays in both. The
    # edit applies to timers set from now on: e, who signs up in the forecast, pays
    # within 2 days only with the 1-day trial.
    assert both["a"]["stages"]["paid"]["at_end"] == 1
    assert both["b"]["stages"]["paid"]["at_end"] == 2
    assert both["a"]["events"]["behaviour"]["signed_up"] == 1
    assert both["b"]["events"]["behaviour"]["signed_up"] == 1
    paid = next(d for d in both["differences"] if d["metric"] == "at end in paid")
    assert paid["difference"] == 0.2


def test_a_busier_behaviour_file_moves_the_same_customers_more(
        runner: CliRunner, tmp_path: Path, lifecycle_store: tuple[str, Path]) -> None:
    url, _ = lifecycle_store
    text = LIFECYCLE.read_text("utf-8")
    start = text.index("simulate {")
    block = text[start:text.index("\n}\n", start) + 3]
    busier = tmp_path / "busier.sim"
    busier.write_text(_ten_times_the_purchases(block), "utf-8")
    own = forecast(runner, LIFECYCLE, url, tmp_path / "own.json", "--days", "90")
    more = forecast(runner, LIFECYCLE, url, tmp_path / "more.json", "--days", "90",
                    "--behaviour", str(busier))
    assert own["population"] == more["population"]
    assert more["events"]["behaviour"]["purchased"] > own["events"]["behaviour"]["purchased"]
    assert more["value"]["total"] > own["value"]["total"]


def _ten_times_the_purchases(block: str) -> str:
    def times_ten(match: re.Match[str]) -> str:
        return f"purchased {float(match.group(1)) * 10:g}% per day"

    changed = re.sub(r"purchased ([0-9.]+)% per day", times_ten, block)
    assert changed != block
    return changed


def test_charts_and_the_page_of_a_forecast(runner: CliRunner, tmp_path: Path,
                                           trial: tuple[Path, str, Path]) -> None:
    journey, url, _ = trial
    series, png, page = tmp_path / "t.csv", tmp_path / "p.png", tmp_path / "r.html"
    result = runner.invoke(main, ["simulate", str(journey), "--from-store", url, "--days", "5",
                                  "--timeseries", str(series), "--plot", str(png),
                                  "--out", str(page)])
    assert result.exit_code == 0, result.output
    rows = series.read_text("utf-8").splitlines()
    assert rows[0] == "date,lead,trial,vip,paid,gone"
    assert rows[1].startswith("2026-05-03,")  # the first day is the day of now
    assert len(rows) == 6
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in page.read_text("utf-8")


def test_new_arrivals_come_besides_the_stored_customers(
        runner: CliRunner, tmp_path: Path, trial: tuple[Path, str, Path]) -> None:
    journey, url, _ = trial
    only = forecast(runner, journey, url, tmp_path / "only.json", "--days", "5")
    both = forecast(runner, journey, url, tmp_path / "both.json", "--days", "5",
                    "--with-arrivals")
    assert both["population"]["arrivals"] == 50  # 10 per day for 5 days
    assert only["population"]["arrivals"] == 0
    assert both["customers"] == 5 + 50
    assert both["partitions"] == 2  # the stored customers' partition, then the arrivals'
    assert both["stages"]["lead"]["reached"] == 1 + 50  # e, and every new arrival
    # The stored customers go exactly as without arrivals: their partition is the same.
    # New arrivals sign up without points, so only stored ones reach vip or gone.
    for stage in ("vip", "gone"):
        assert both["stages"][stage]["reached"] == only["stages"][stage]["reached"] == 1
    sized = forecast(runner, journey, url, tmp_path / "sized.json", "--days", "5",
                     "--with-arrivals", "--customers", "7")
    assert sized["population"]["arrivals"] == 7
    assert sized["customers"] == 12


ECHO = '''journey "echo"

event ping {}
event poke {}

stage listening start {
  on ping { emit ping }
  on poke { tag "poked" }
}

segment poked where has_tag("poked")

simulate {
  arrivals poke 1 per day
  anywhere { poke 5 per day }
}
'''


def test_a_parked_customer_stays_parked(runner: CliRunner, tmp_path: Path) -> None:
    journey = tmp_path / "echo.journey"
    journey.write_text(ECHO, "utf-8")
    events = write_events(tmp_path / "e.jsonl", [
        ("2026-05-01T10:00:00Z", "loop", "ping", {}),  # an endless emit chain parks it
        ("2026-05-01T11:00:00Z", "calm", "poke", {}),
    ])
    url = make_store(runner, journey, events, tmp_path / "echo.db")
    report = forecast(runner, journey, url, tmp_path / "r.json", "--days", "10")
    assert report["population"]["statuses"] == {"active": 1, "final": 0, "parked": 1}
    assert report["parked"] == 1  # still parked at the horizon
    assert report["stages"]["listening"]["at_end"] == 2
    assert report["segments"]["poked"]["customers"] == 1  # calm; the parked one never is
    assert report["errors"]["count"] == 0
    # The parked one takes no behaviour events: calm alone draws the same ones (its
    # stream depends on the seed and its id only).
    alone = make_store(runner, journey, write_events(tmp_path / "calm.jsonl", [
        ("2026-05-01T11:00:00Z", "calm", "poke", {})]), tmp_path / "calm.db")
    calm = forecast(runner, journey, alone, tmp_path / "calm.json", "--days", "10")
    assert calm["events"]["behaviour"] == report["events"]["behaviour"]
    assert calm["events"]["behaviour"]["poke"] > 0

"""``journeyflow simulate`` through click's CliRunner."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeyflow.cli import main

from .conftest import KUNDEN, LIFECYCLE

Write = Callable[..., Path]

NO_BEHAVIOUR = '''journey "plain"
event signed_up {}
stage a start { on signed_up -> b }
stage b final
'''

BEHAVIOUR = '''# signed-up customers leave within days
simulate {
  arrivals signed_up 50 per day for 2d
}
'''


def test_summary_and_outputs(runner: CliRunner, tmp_path: Path) -> None:
    out, series, png = tmp_path / "r.json", tmp_path / "t.csv", tmp_path / "p.png"
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--customers", "800", "--days",
                                  "60", "--seed", "3", "--by", "source", "--out", str(out),
                                  "--timeseries", str(series), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    for words in ("Funnel", "Goals", "Messages", "Bonuses", "Value", "Funnel by source",
                  "parked customers: 0", "winback_coupon"):
        assert words in result.output
    report = json.loads(out.read_text("utf-8"))
    assert report["customers"] == 800
    assert report["by"]["attribute"] == "source"
    rows = list(csv.reader(series.open(encoding="utf-8")))
    assert rows[0] == ["date", *report["stages"]]
    assert len(rows) == 61
    assert rows[1][0] == "2026-01-01"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_same_seed_same_file(runner: CliRunner, tmp_path: Path) -> None:
    files = [tmp_path / f"{n}.json" for n in range(2)]
    for path, workers in zip(files, ("1", "2"), strict=True):
        result = runner.invoke(main, ["simulate", str(KUNDEN), "--customers", "1500",
                                      "--days", "30", "--workers", workers, "--out", str(path)])
        assert result.exit_code == 0, result.output
    assert files[0].read_bytes() == files[1].read_bytes()


def test_no_simulate_block_is_a_clear_error(runner: CliRunner, write_journey: Write) -> None:
    path = write_journey(NO_BEHAVIOUR)
    result = runner.invoke(main, ["simulate", str(path)])
    assert result.exit_code == 1
    assert "has no simulate { ... } block" in result.output
    assert "--behaviour" in result.output


def test_behaviour_file(runner: CliRunner, write_journey: Write, tmp_path: Path) -> None:
    path = write_journey(NO_BEHAVIOUR)
    behaviour = tmp_path / "people.sim"
    behaviour.write_text(BEHAVIOUR, "utf-8")
    out = tmp_path / "r.json"
    result = runner.invoke(main, ["simulate", str(path), "--behaviour", str(behaviour),
                                  "--days", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text("utf-8"))
    assert report["customers"] == 100
    assert report["stages"]["b"]["reached"] == 100


def test_behaviour_file_errors_point_into_the_file(runner: CliRunner, tmp_path: Path) -> None:
    behaviour = tmp_path / "bad.sim"
    behaviour.write_text("simulate {\n  arrivals signed_up 10 per day\n"
                         "  in considerashun { purchased 1% per day { amount: 5 } }\n}\n",
                         "utf-8")
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--behaviour", str(behaviour)])
    assert result.exit_code == 1
    assert f"{behaviour}:3:6: error[JF201]: unknown stage 'considerashun'" in result.output
    assert "    3 |   in considerashun {" in result.output
    assert "      |      ^^^^^^^^^^^^^" in result.output
    assert "hint: did you mean 'consideration'?" in result.output


def test_behaviour_syntax_error_on_the_first_line(runner: CliRunner, tmp_path: Path) -> None:
    # The header put in front for parsing must not shift the columns of line 1.
    behaviour = tmp_path / "bad.sim"
    behaviour.write_text("simulate { arrivals signed_up 10 per day ; }\n", "utf-8")
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--behaviour", str(behaviour)])
    assert result.exit_code == 1
    assert f"{behaviour}:1:42: error[" in result.output
    assert "    1 | simulate { arrivals signed_up 10 per day ; }" in result.output
    assert "      |" + " " * 42 + "^" in result.output


def test_compile_error_in_the_journey(runner: CliRunner, write_journey: Write) -> None:
    path = write_journey('journey "x"\nstage a start { -> nowhere }\n')
    result = runner.invoke(main, ["simulate", str(path)])
    assert result.exit_code == 1
    assert "sim.journey:2:" in result.output


def test_unknown_by(runner: CliRunner) -> None:
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--by", "sorce"])
    assert result.exit_code == 1
    assert "did you mean 'source'?" in result.output


AB = """journey "ab"
event joined {}
event bought { amount: number }
message coupon via email { subject "15% off" }
message plain via email { subject "We miss you" }
stage lead start {
  on enter { split { 50% { send coupon } 50% { send plain } } }
  on bought -> customer
}
stage customer final
goal converted on bought
value sum(bought.amount)
simulate {
  arrivals joined 100 per day for 30d
  in lead { bought 1% per day { amount: normal(50, 10, min 1) } }
  reacts to coupon { bought 30% within 3d }
  reacts to plain { bought 10% within 3d }
}
"""


def test_compare(runner: CliRunner, write_journey: Write, tmp_path: Path) -> None:
    # B sends everybody the coupon; A's simulate block drives both runs.
    a = write_journey(AB, "a.journey")
    b = write_journey(AB.replace("split { 50% { send coupon } 50% { send plain } }",
                                 "send coupon"), "b.journey")
    out = tmp_path / "cmp.json"
    result = runner.invoke(main, ["simulate", str(a), "--compare", str(b), "--customers",
                                  "4000", "--days", "60", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "b.journey − a.journey" in result.output
    data = json.loads(out.read_text("utf-8"))
    assert data["a"]["customers"] == data["b"]["customers"] == 4000
    diffs = {d["metric"]: d for d in data["differences"]}
    assert diffs["reached lead"]["difference"] == 0.0  # the same customers
    converted = diffs["goal converted"]
    assert converted["significant"]
    assert 0 < converted["low"] < converted["difference"] < converted["high"]
    assert data["b"]["splits"] == []


def test_compare_refuses_plots(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["simulate", str(LIFECYCLE), "--compare", str(LIFECYCLE),
                                  "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 2


def test_dask_address(runner: CliRunner, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    files = [tmp_path / "one.json", tmp_path / "dask.json"]
    args = ["simulate", str(KUNDEN), "--customers", "1200", "--days", "20"]
    assert runner.invoke(main, [*args, "--out", str(files[0])]).exit_code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = runner.invoke(main, [*args, "--dask", cluster.scheduler_address,
                                      "--out", str(files[1])])
    assert result.exit_code == 0, result.output
    assert files[0].read_bytes() == files[1].read_bytes()


def test_unreachable_dask_scheduler(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("journeyflow.simulate.runner.CONNECT_TIMEOUT", "1s")
    result = runner.invoke(main, ["simulate", str(KUNDEN), "--customers", "10", "--days", "2",
                                  "--dask", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in result.output
